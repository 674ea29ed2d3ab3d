//! One JSON file per (model, ontology) in CLIP_benchmark's result schema, so that its
//! `clip_benchmark build` merges ontosweep's runs with its own into one table.
//!
//! `pretrained` carries the ontology: a row of that table is one `model + pretrained`, and
//! here the weights are fixed while the wording changes.

use std::path::{Path, PathBuf};

use ontosweep_results::{Metrics, SweepResults};

use crate::ReportError;
use crate::error::io_error;
use crate::names::ReportFiles;

/// The folder of these files inside the report.
pub const FOLDER: &str = "clip_benchmark";

/// The task CLIP_benchmark names zero-shot classification.
const TASK: &str = "zeroshot_classification";

pub fn write_all(
    results: &SweepResults,
    names: &ReportFiles,
    dir: &Path,
) -> Result<Vec<PathBuf>, ReportError> {
    let folder = dir.join(FOLDER);
    std::fs::create_dir_all(&folder).map_err(io_error(&folder))?;
    let dataset = dataset_name(results);
    let mut files = Vec::new();
    for (m, model) in results.models.iter().enumerate() {
        for (o, ontology) in model.ontologies.iter().enumerate() {
            let name = Path::new(FOLDER).join(names.clip_benchmark_json(m, o));
            let text = result_json(
                dataset,
                &model.model,
                &ontology.ontology,
                &ontology.metrics,
                results.classes.len(),
            );
            let path = dir.join(&name);
            std::fs::write(&path, text).map_err(io_error(&path))?;
            files.push(name);
        }
    }
    Ok(files)
}

/// How CLIP_benchmark's tables name the dataset: as the sweep set it, else the experiment.
pub fn dataset_name(results: &SweepResults) -> &str {
    if results.benchmark_dataset.is_empty() {
        &results.experiment
    } else {
        &results.benchmark_dataset
    }
}

/// CLIP_benchmark's `acc5`: NaN below 5 classes, as it writes it.
pub fn acc5(metrics: &Metrics, classes: usize) -> f64 {
    match classes {
        0..5 => f64::NAN,
        // Every class is among the 5 highest.
        5 => 1.0,
        _ => metrics.top_k.get(4).copied().unwrap_or(f64::NAN),
    }
}

/// The file as Python's `json.dump` writes CLIP_benchmark's (its `NaN` included), fields in
/// its order.
fn result_json(
    dataset: &str,
    model: &str,
    ontology: &str,
    metrics: &Metrics,
    classes: usize,
) -> String {
    let text = |s: &str| serde_json::to_string(s).expect("a string serialises");
    format!(
        "{{\"dataset\": {}, \"model\": {}, \"pretrained\": {}, \"task\": {}, \"metrics\": {{\"acc1\": {}, \"acc5\": {}, \"mean_per_class_recall\": {}}}, \"language\": \"en\"}}",
        text(dataset),
        text(model),
        text(ontology),
        text(TASK),
        number(metrics.accuracy),
        number(acc5(metrics, classes)),
        number(metrics.balanced_accuracy),
    )
}

/// A float as Python writes one: `0.5`, `1.0`, `NaN`.
fn number(value: f64) -> String {
    if value.is_nan() {
        "NaN".into()
    } else if value.is_infinite() {
        if value > 0.0 { "Infinity" } else { "-Infinity" }.into()
    } else {
        format!("{value:?}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_written_as_python_reads_them() {
        assert_eq!(number(1.0), "1.0");
        assert_eq!(number(0.8982), "0.8982");
        assert_eq!(number(f64::NAN), "NaN");
        let metrics = Metrics {
            top_k: vec![0.5, 0.6, 0.7, 0.8, 0.9],
            ..Metrics::default()
        };
        assert!(acc5(&metrics, 4).is_nan());
        assert_eq!(acc5(&metrics, 5), 1.0);
        assert_eq!(acc5(&metrics, 6), 0.9);
    }

    #[test]
    fn names_are_json_strings_whatever_they_hold() {
        let json = result_json("wds/\"x\"", "m\\1", "o\n", &Metrics::default(), 2);
        let parsed: serde_json::Value = serde_json::from_str(&json.replace("NaN", "null")).unwrap();
        assert_eq!(parsed["dataset"], "wds/\"x\"");
        assert_eq!(parsed["model"], "m\\1");
        assert_eq!(parsed["pretrained"], "o\n");
        assert_eq!(parsed["task"], "zeroshot_classification");
        assert!(parsed["metrics"]["acc5"].is_null());
    }
}
