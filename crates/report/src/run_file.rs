//! `run.json`: what ran, where and how long, and (when images were held out) the split and
//! what each prompt search chose, so a script needs no other file to learn the chosen prompts.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use ontosweep_results::{OntologyFinding, RunMetadata, SearchOutcome, SweepResults};
use serde::Serialize;

use crate::error::{ReportError, io_error};

pub const RUN_JSON: &str = "run.json";

#[derive(Serialize)]
struct RunFile<'a> {
    #[serde(flatten)]
    run: &'a RunMetadata,
    #[serde(skip_serializing_if = "Option::is_none")]
    split: Option<SplitSummary<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    searches: Vec<SearchEntry<'a>>,
    /// What the ontology checks found before scoring.
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    findings: &'a [OntologyFinding],
}

#[derive(Serialize)]
struct SplitSummary<'a> {
    dev_fraction: f64,
    seed: u64,
    dev_images: usize,
    test_images: usize,
    /// Every class, with its dev images: the warnings name only the first few small ones.
    dev_images_per_class: BTreeMap<&'a str, usize>,
    warnings: &'a [String],
}

#[derive(Serialize)]
struct SearchEntry<'a> {
    model: &'a str,
    ontology: &'a str,
    /// The chosen prompts per class: the templates applied to the chosen names.
    prompts: &'a BTreeMap<String, Vec<String>>,
    #[serde(flatten)]
    outcome: &'a SearchOutcome,
}

pub fn write(results: &SweepResults, dir: &Path) -> Result<PathBuf, ReportError> {
    let split = match &results.split {
        None => None,
        Some(s) => {
            let mut per_class: BTreeMap<&str, usize> =
                results.classes.iter().map(|c| (c.as_str(), 0)).collect();
            for image in s.dev_images.iter() {
                let image = image.map_err(io_error(Path::new("(the dev images)")))?;
                if let Some(class) = results.classes.get(image.label) {
                    *per_class.entry(class).or_default() += 1;
                }
            }
            Some(SplitSummary {
                dev_fraction: s.dev_fraction,
                seed: s.seed,
                dev_images: s.dev_images.len(),
                test_images: results.images.len(),
                dev_images_per_class: per_class,
                warnings: &s.warnings,
            })
        }
    };
    let searches = results
        .models
        .iter()
        .flat_map(|m| {
            m.ontologies.iter().filter_map(move |o| {
                o.search.as_ref().map(|outcome| SearchEntry {
                    model: &m.model,
                    ontology: &o.ontology,
                    prompts: &o.prompts,
                    outcome,
                })
            })
        })
        .collect();
    let file = RunFile {
        run: &results.run,
        split,
        searches,
        findings: &results.findings,
    };
    let path = dir.join(RUN_JSON);
    let json = serde_json::to_string_pretty(&file).expect("metadata serialises");
    std::fs::write(&path, json + "\n").map_err(io_error(&path))?;
    Ok(PathBuf::from(RUN_JSON))
}
