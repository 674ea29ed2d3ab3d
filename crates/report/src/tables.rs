//! The CSV files.

use std::path::{Path, PathBuf};

use ontosweep_results::{FEW_CLASSES, SweepResults, TOP_K};
use serde::Serialize;

use crate::confused;
use crate::csv_writer::csv_file;
use crate::error::ReportError;
use crate::names::ReportFiles;

pub const PREDICTIONS_CSV: &str = "predictions.csv";

pub fn write_all(
    results: &SweepResults,
    names: &ReportFiles,
    dir: &Path,
) -> Result<Vec<PathBuf>, ReportError> {
    let mut files = vec![
        summary(results, dir)?,
        per_class(results, dir)?,
        predictions(results, dir)?,
        skipped(results, dir)?,
    ];
    files.extend(confusions(results, names, dir)?);
    files.extend(probability_arrays(results, names, dir)?);
    if results.models.iter().any(|m| m.vs_reference.is_some()) {
        files.push(agreement(results, dir)?);
    }
    files.push(crate::run_file::write(results, dir)?);
    Ok(files)
}

#[derive(Serialize)]
struct SummaryRow<'a> {
    model: &'a str,
    ontology: &'a str,
    n: usize,
    /// Empty for a seeded control's row (its figures are means over the seeds).
    correct: Option<usize>,
    accuracy: f64,
    ci_low: Option<f64>,
    ci_high: Option<f64>,
    balanced_accuracy: f64,
    macro_f1: f64,
    ece: f64,
    delta_vs_baseline: Option<f64>,
    delta_ci_low: Option<f64>,
    delta_ci_high: Option<f64>,
    mcnemar_p: Option<f64>,
    mcnemar_p_holm: Option<f64>,
    gained: Option<usize>,
    lost: Option<usize>,
    is_baseline: bool,
    /// Share of images whose class is among the five highest scores; empty with five
    /// classes or fewer, where it says nothing.
    top5_accuracy: Option<f64>,
    /// For a control: its kind, the ontology it mirrors, its seeds, and the lowest and
    /// highest accuracy and change over them.
    control: Option<&'a str>,
    control_of: Option<&'a str>,
    seeds: Option<usize>,
    accuracy_seed_min: Option<f64>,
    accuracy_seed_max: Option<f64>,
    delta_seed_min: Option<f64>,
    delta_seed_max: Option<f64>,
}

/// Top-5 accuracy, when there are more than five classes.
pub(crate) fn top5(results: &SweepResults, m: &ontosweep_results::Metrics) -> Option<f64> {
    (results.classes.len() > 5)
        .then(|| m.top_k.get(4).copied())
        .flatten()
}

fn summary(results: &SweepResults, dir: &Path) -> Result<PathBuf, ReportError> {
    csv_file(dir, "summary.csv", |w| {
        for model in &results.models {
            let groups = crate::controls::groups(model);
            for o in &model.ontologies {
                match &o.control {
                    Some(c) if c.seeds > 1 => {
                        // A seeded control is one row: written with its first seed.
                        if c.seed == 1
                            && let Some(group) = groups.iter().find(|g| g.group == c.group)
                        {
                            w.serialize(seeded_row(results, &model.model, group))?;
                        }
                    }
                    _ => w.serialize(summary_row(results, &model.model, o))?,
                }
            }
        }
        Ok(())
    })
}

fn summary_row<'a>(
    results: &SweepResults,
    model: &'a str,
    o: &'a ontosweep_results::OntologyResults,
) -> SummaryRow<'a> {
    let m = &o.metrics;
    let c = o.vs_baseline.as_ref();
    let control = o.control.as_ref();
    SummaryRow {
        model,
        ontology: &o.ontology,
        n: m.n,
        correct: Some(m.correct),
        accuracy: m.accuracy,
        ci_low: Some(m.ci_low),
        ci_high: Some(m.ci_high),
        balanced_accuracy: m.balanced_accuracy,
        macro_f1: m.macro_f1,
        ece: m.ece,
        delta_vs_baseline: c.map(|c| c.delta),
        delta_ci_low: c.map(|c| c.delta_ci_low),
        delta_ci_high: c.map(|c| c.delta_ci_high),
        mcnemar_p: c.map(|c| c.mcnemar_p),
        mcnemar_p_holm: c.map(|c| c.mcnemar_p_holm),
        gained: c.map(|c| c.gained),
        lost: c.map(|c| c.lost),
        is_baseline: o.ontology == results.baseline,
        top5_accuracy: top5(results, m),
        control: control.map(|c| c.kind.as_str()),
        control_of: control.map(|c| c.of.as_str()),
        seeds: control.map(|c| c.seeds),
        accuracy_seed_min: control.map(|_| m.accuracy),
        accuracy_seed_max: control.map(|_| m.accuracy),
        delta_seed_min: control.and(c.map(|c| c.delta)),
        delta_seed_max: control.and(c.map(|c| c.delta)),
    }
}

/// A control over several seeds: the means, with the lowest and highest seed beside them.
fn seeded_row<'a>(
    results: &SweepResults,
    model: &'a str,
    group: &crate::controls::ControlGroup<'a>,
) -> SummaryRow<'a> {
    use crate::controls::{mean, spread};
    let of = |f: fn(&ontosweep_results::Metrics) -> f64| {
        let values: Vec<f64> = group.members.iter().map(|o| f(&o.metrics)).collect();
        mean(&values).unwrap_or(f64::NAN)
    };
    let accuracies = group.accuracies();
    let deltas = group.deltas();
    let top5s: Vec<f64> = group
        .members
        .iter()
        .filter_map(|o| top5(results, &o.metrics))
        .collect();
    SummaryRow {
        model,
        ontology: group.group,
        n: group.members[0].metrics.n,
        correct: None,
        accuracy: of(|m| m.accuracy),
        ci_low: None,
        ci_high: None,
        balanced_accuracy: of(|m| m.balanced_accuracy),
        macro_f1: of(|m| m.macro_f1),
        ece: of(|m| m.ece),
        delta_vs_baseline: mean(&deltas),
        delta_ci_low: None,
        delta_ci_high: None,
        mcnemar_p: None,
        mcnemar_p_holm: None,
        gained: None,
        lost: None,
        is_baseline: false,
        top5_accuracy: mean(&top5s),
        control: Some(group.kind),
        control_of: Some(group.of),
        seeds: Some(group.members.len()),
        accuracy_seed_min: spread(&accuracies).map(|s| s.0),
        accuracy_seed_max: spread(&accuracies).map(|s| s.1),
        delta_seed_min: spread(&deltas).map(|s| s.0),
        delta_seed_max: spread(&deltas).map(|s| s.1),
    }
}

fn per_class(results: &SweepResults, dir: &Path) -> Result<PathBuf, ReportError> {
    csv_file(dir, "per_class.csv", |w| {
        w.write_record([
            "model",
            "ontology",
            "class",
            "support",
            "precision",
            "recall",
            "f1",
        ])?;
        for model in &results.models {
            for o in &model.ontologies {
                for c in &o.metrics.per_class {
                    w.write_record([
                        model.model.as_str(),
                        &o.ontology,
                        &c.class,
                        &c.support.to_string(),
                        &c.precision.to_string(),
                        &c.recall.to_string(),
                        &c.f1.to_string(),
                    ])?;
                }
            }
        }
        Ok(())
    })
}

fn predictions(results: &SweepResults, dir: &Path) -> Result<PathBuf, ReportError> {
    if results.classes.len() <= FEW_CLASSES {
        every_score(results, dir)
    } else {
        top_scores(results, dir)
    }
}

/// `predictions.csv` with every class's score, for few classes.
fn every_score(results: &SweepResults, dir: &Path) -> Result<PathBuf, ReportError> {
    csv_file(dir, PREDICTIONS_CSV, |w| {
        let mut header: Vec<String> =
            ["model", "ontology", "path", "true_class", "predicted_class"]
                .map(String::from)
                .to_vec();
        header.extend(results.classes.iter().map(|c| format!("score:{c}")));
        w.write_record(&header)?;
        for model in &results.models {
            for o in &model.ontologies {
                for ((image, scores), probabilities) in results
                    .images
                    .iter()
                    .zip(o.scores.iter())
                    .zip(o.probabilities.iter())
                {
                    let (image, predicted) = (image?, scores?.predicted());
                    let probabilities = probabilities?;
                    let mut row = vec![
                        model.model.clone(),
                        o.ontology.clone(),
                        image.path.clone(),
                        results.classes[image.label].clone(),
                        results.classes[predicted].clone(),
                    ];
                    row.extend(probabilities.iter().map(|p| p.to_string()));
                    w.write_record(&row)?;
                }
            }
        }
        Ok(())
    })
}

/// `predictions.csv` with the [`TOP_K`] best classes and the true class's probability and
/// rank: its size follows the images, not images × classes.
fn top_scores(results: &SweepResults, dir: &Path) -> Result<PathBuf, ReportError> {
    csv_file(dir, PREDICTIONS_CSV, |w| {
        let mut header: Vec<String> = [
            "model",
            "ontology",
            "path",
            "true_class",
            "predicted_class",
            "true_probability",
            "true_rank",
        ]
        .map(String::from)
        .to_vec();
        for k in 1..=TOP_K {
            header.push(format!("top{k}_class"));
            header.push(format!("top{k}_probability"));
        }
        w.write_record(&header)?;
        for model in &results.models {
            for o in &model.ontologies {
                for (image, scores) in results.images.iter().zip(o.scores.iter()) {
                    let (image, scores) = (image?, scores?);
                    let mut row = vec![
                        model.model.clone(),
                        o.ontology.clone(),
                        image.path.clone(),
                        results.classes[image.label].clone(),
                        results.classes[scores.predicted()].clone(),
                        probability(scores.true_probability),
                        scores.true_rank.to_string(),
                    ];
                    for (class, p) in scores.top.iter() {
                        row.push(results.classes[class].clone());
                        row.push(probability(p));
                    }
                    w.write_record(&row)?;
                }
            }
        }
        Ok(())
    })
}

/// Four decimals, or three significant digits below 0.001, where a rank still needs them.
fn probability(p: f32) -> String {
    if p >= 0.001 || p == 0.0 {
        format!("{p:.4}")
    } else {
        format!("{p:.2e}")
    }
}

/// Every class's probability for every image, per (model, ontology), when asked for.
fn probability_arrays(
    results: &SweepResults,
    names: &ReportFiles,
    dir: &Path,
) -> Result<Vec<PathBuf>, ReportError> {
    let mut files = Vec::new();
    if !results.all_probabilities {
        return Ok(files);
    }
    for (m, model) in results.models.iter().enumerate() {
        for (i, o) in model.ontologies.iter().enumerate() {
            let name = names.probabilities_npy(m, i);
            if o.probabilities.len() != results.images.len() {
                return Err(ReportError::Io {
                    path: dir.join(&name),
                    cause: std::io::Error::other(format!(
                        "the results hold probabilities for {} of {} images; this is a bug in ontosweep, please report it",
                        o.probabilities.len(),
                        results.images.len()
                    )),
                });
            }
            files.push(crate::npy::write(
                dir,
                &name,
                &o.probabilities,
                results.classes.len(),
            )?);
        }
    }
    Ok(files)
}

/// `agreement.csv`: each model against the first one (e.g. int8 against fp32).
fn agreement(results: &SweepResults, dir: &Path) -> Result<PathBuf, ReportError> {
    csv_file(dir, "agreement.csv", |w| {
        w.write_record([
            "model",
            "reference",
            "ontology",
            "prediction_agreement",
            "image_cosine_mean",
            "image_cosine_min",
        ])?;
        for model in &results.models {
            let Some(a) = &model.vs_reference else {
                continue;
            };
            for (o, share) in model.ontologies.iter().zip(&a.prediction_agreement) {
                w.write_record([
                    model.model.as_str(),
                    &a.reference,
                    &o.ontology,
                    &share.to_string(),
                    &a.image_cosine_mean.to_string(),
                    &a.image_cosine_min.to_string(),
                ])?;
            }
        }
        Ok(())
    })
}

fn skipped(results: &SweepResults, dir: &Path) -> Result<PathBuf, ReportError> {
    csv_file(dir, "skipped.csv", |w| {
        w.write_record(["path", "reason"])?;
        for s in &results.skipped {
            w.write_record([&s.path, &s.reason])?;
        }
        Ok(())
    })
}

fn confusions(
    results: &SweepResults,
    names: &ReportFiles,
    dir: &Path,
) -> Result<Vec<PathBuf>, ReportError> {
    let mut files = Vec::new();
    for (m, model) in results.models.iter().enumerate() {
        for (i, o) in model.ontologies.iter().enumerate() {
            let name = names.confusion_csv(m, i);
            if !confused::full_matrices(results) {
                files.push(confused::write_long_csv(
                    dir,
                    &name,
                    &results.classes,
                    &o.metrics,
                )?);
                continue;
            }
            let matrix = o.metrics.confusion_matrix(results.classes.len());
            files.push(csv_file(dir, &name, |w| {
                let mut header = vec!["true \\ predicted".to_string()];
                header.extend(results.classes.iter().cloned());
                w.write_record(&header)?;
                for (class, row) in results.classes.iter().zip(&matrix) {
                    let mut record = vec![class.clone()];
                    record.extend(row.iter().map(ToString::to_string));
                    w.write_record(&record)?;
                }
                Ok(())
            })?);
        }
    }
    Ok(files)
}
