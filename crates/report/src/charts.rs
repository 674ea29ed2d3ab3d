//! The report's SVG charts: accuracy by ontology, recall per class, and confusion (a whole
//! matrix, or the most confused pairs). Every plotted value is also written as text, so the
//! SVG is self-describing.

use std::path::{Path, PathBuf};

use ontosweep_charts::confusion;
use ontosweep_charts::{Bar, Group, PALETTE, bar_chart};
use ontosweep_results::{OntologyResults, SweepResults};
use plotters::prelude::*;

use crate::error::ReportError;
use crate::headline::HEADLINE_CHART;
use crate::names::ReportFiles;
use crate::{class_selection, confused};

const BASELINE_COLOUR: RGBColor = RGBColor(0x7f, 0x7f, 0x7f);

pub fn write_all(
    results: &SweepResults,
    names: &ReportFiles,
    dir: &Path,
) -> Result<Vec<PathBuf>, ReportError> {
    let mut files = vec![accuracy(results, dir)?];
    files.extend(per_class(results, dir)?);
    for (m, model) in results.models.iter().enumerate() {
        for (i, o) in model.ontologies.iter().enumerate() {
            let name = if confused::full_matrices(results) {
                let name = names.confusion_svg(m, i);
                let title = format!(
                    "{} · {}: confusion (rows: true class)",
                    model.model, o.ontology
                );
                let matrix = o.metrics.confusion_matrix(results.classes.len());
                confusion(&dir.join(&name), &title, &results.classes, &matrix)?;
                name
            } else {
                let name = names.confused_pairs_svg(m, i);
                let title = format!(
                    "{} · {}: the {} most confused pairs of {} classes",
                    model.model,
                    o.ontology,
                    confused::PAIRS_SHOWN,
                    results.classes.len()
                );
                let pairs = confused::most_confused(&o.metrics, confused::PAIRS_SHOWN);
                confused::write_chart(&dir.join(&name), &title, &results.classes, &pairs)?;
                name
            };
            files.push(PathBuf::from(name));
        }
    }
    Ok(files)
}

/// The `index`-th ontology's bar: grey and tagged when it is the baseline.
fn ontology_bar(
    results: &SweepResults,
    index: usize,
    o: &OntologyResults,
    label: String,
    value: f64,
) -> Bar {
    let baseline = o.ontology == results.baseline;
    Bar {
        label,
        detail: String::new(),
        value,
        interval: None,
        colour: if baseline {
            BASELINE_COLOUR
        } else {
            PALETTE[index % PALETTE.len()]
        },
        tag: if baseline { " (baseline)" } else { "" },
    }
}

/// The example prompt shown under an ontology's name.
fn example_prompt(o: &OntologyResults) -> String {
    o.prompts
        .iter()
        .next()
        .map(|(class, prompts)| {
            let more = if prompts.len() > 1 {
                format!(" (+{} more)", prompts.len() - 1)
            } else {
                String::new()
            };
            format!(
                "{class}: \"{}\"{more}",
                prompts.first().map_or("", String::as_str)
            )
        })
        .unwrap_or_default()
}

fn accuracy(results: &SweepResults, dir: &Path) -> Result<PathBuf, ReportError> {
    let groups = results
        .models
        .iter()
        .map(|model| Group {
            title: format!("model: {}", model.model),
            bars: model
                .ontologies
                .iter()
                .enumerate()
                .map(|(i, o)| Bar {
                    detail: example_prompt(o),
                    interval: Some((o.metrics.ci_low, o.metrics.ci_high)),
                    ..ontology_bar(results, i, o, o.ontology.clone(), o.metrics.accuracy)
                })
                .collect(),
        })
        .collect::<Vec<_>>();
    let title = format!(
        "{}: zero-shot accuracy by ontology, n = {} (95% Wilson CI)",
        results.experiment,
        results.images.len()
    );
    let chance = 1.0 / results.classes.len().max(1) as f64;
    bar_chart(&dir.join(HEADLINE_CHART), &title, &groups, Some(chance))?;
    Ok(PathBuf::from(HEADLINE_CHART))
}

/// `per_class.svg`: every class's recall per ontology, or, with many classes, the lowest and
/// highest, and `per_class_moved.svg` with the classes that moved most against the baseline.
fn per_class(results: &SweepResults, dir: &Path) -> Result<Vec<PathBuf>, ReportError> {
    let Some(selection) = class_selection::select(results) else {
        let all: Vec<(usize, String)> = (0..results.classes.len())
            .map(|c| (c, format!("class: {}", results.classes[c])))
            .collect();
        let title = format!("{}: recall per class and ontology", results.experiment);
        class_chart(results, &dir.join(PER_CLASS_SVG), &title, &all)?;
        return Ok(vec![PathBuf::from(PER_CLASS_SVG)]);
    };
    let first = results.models.first().map_or("", |m| m.model.as_str());
    let ends: Vec<(usize, String)> = (selection.worst.iter().map(|&c| (c, "lowest")))
        .chain(selection.best.iter().map(|&c| (c, "highest")))
        .map(|(c, end)| (c, format!("{end} baseline recall: {}", results.classes[c])))
        .collect();
    let title = format!(
        "{}: recall of the {} classes with the lowest and highest baseline recall ({first}), of {}",
        results.experiment,
        class_selection::SELECTED,
        results.classes.len()
    );
    class_chart(results, &dir.join(PER_CLASS_SVG), &title, &ends)?;
    let mut files = vec![PathBuf::from(PER_CLASS_SVG)];
    if !selection.moved.is_empty() {
        let moved: Vec<(usize, String)> = selection
            .moved
            .iter()
            .map(|&(c, change)| {
                let class = &results.classes[c];
                (c, format!("{class}: {:+.1} points at most", 100.0 * change))
            })
            .collect();
        let title = format!(
            "{}: the {} classes whose recall moved most against the baseline",
            results.experiment,
            moved.len()
        );
        class_chart(results, &dir.join(PER_CLASS_MOVED_SVG), &title, &moved)?;
        files.push(PathBuf::from(PER_CLASS_MOVED_SVG));
    }
    Ok(files)
}

pub const PER_CLASS_SVG: &str = "per_class.svg";
pub const PER_CLASS_MOVED_SVG: &str = "per_class_moved.svg";

/// One titled group per class in `classes`, a bar per (model, ontology).
fn class_chart(
    results: &SweepResults,
    path: &Path,
    title: &str,
    classes: &[(usize, String)],
) -> Result<(), ReportError> {
    let several_models = results.models.len() > 1;
    let groups = classes
        .iter()
        .map(|(c, group_title)| Group {
            title: group_title.clone(),
            bars: results
                .models
                .iter()
                .flat_map(|model| {
                    model
                        .ontologies
                        .iter()
                        .enumerate()
                        .map(move |(i, o)| (model, i, o))
                })
                .map(|(model, i, o)| {
                    let label = if several_models {
                        format!("{} · {}", model.model, o.ontology)
                    } else {
                        o.ontology.clone()
                    };
                    ontology_bar(results, i, o, label, o.metrics.per_class[*c].recall)
                })
                .collect(),
        })
        .collect::<Vec<_>>();
    Ok(bar_chart(path, title, &groups, None)?)
}
