//! The held-out split and the prompt searches as files: `split.csv`, `search.csv` and one
//! experiment-file snippet (`search_<pair>.yaml`) per searched ontology.

use std::path::{Path, PathBuf};

use ontosweep_results::{
    ModelResults, OntologyResults, Records, SearchOutcome, SearchStep, SweepResults,
};
use serde::{Serialize, Serializer};

use crate::csv_writer::csv_file;
use crate::error::{ReportError, io_error};
use crate::names::ReportFiles;

pub const SPLIT_CSV: &str = "split.csv";
pub const SEARCH_CSV: &str = "search.csv";

/// Every (model index, ontology index, model, ontology, search) with a search, in order.
pub fn searches(
    results: &SweepResults,
) -> impl Iterator<
    Item = (
        usize,
        usize,
        &ModelResults,
        &OntologyResults,
        &SearchOutcome,
    ),
> {
    results.models.iter().enumerate().flat_map(|(m, model)| {
        model
            .ontologies
            .iter()
            .enumerate()
            .filter_map(move |(o, ontology)| {
                Some((m, o, model, ontology, ontology.search.as_ref()?))
            })
    })
}

pub fn write_all(
    results: &SweepResults,
    names: &ReportFiles,
    dir: &Path,
) -> Result<Vec<PathBuf>, ReportError> {
    let mut files = Vec::new();
    if results.split.is_some() {
        files.push(split(results, dir)?);
    }
    if searches(results).next().is_some() {
        files.push(search(results, dir)?);
    }
    for (m, o, model, ontology, outcome) in searches(results) {
        let name = names.search_yaml(m, o);
        let path = dir.join(&name);
        let text = snippet(results, model, ontology, outcome).map_err(|e| ReportError::Yaml {
            path: path.clone(),
            message: e.to_string(),
        })?;
        std::fs::write(&path, text).map_err(io_error(&path))?;
        files.push(PathBuf::from(name));
    }
    Ok(files)
}

/// `path,class,split`: every image once, sorted by path (dev first on a tie).
fn split(results: &SweepResults, dir: &Path) -> Result<PathBuf, ReportError> {
    let no_dev = Records::default();
    let dev = results.split.as_ref().map_or(&no_dev, |s| &s.dev_images);
    csv_file(dir, SPLIT_CSV, |w| {
        w.write_record(["path", "class", "split"])?;
        // Both lists are sorted by path: merged as they are read, dev first on a tie.
        let mut dev = dev.iter().map(|i| i.map(|i| (i, "dev"))).peekable();
        let mut test = results
            .images
            .iter()
            .map(|i| i.map(|i| (i, "test")))
            .peekable();
        loop {
            let take_dev = match (dev.peek(), test.peek()) {
                (None, None) => break,
                (Some(Ok((d, _))), Some(Ok((t, _)))) => d.path <= t.path,
                (Some(_), _) => true,
                (None, Some(_)) => false,
            };
            let next = if take_dev { dev.next() } else { test.next() };
            let (image, split) = next.expect("peeked").map_err(csv::Error::from)?;
            let class = results.classes.get(image.label).map_or("", String::as_str);
            w.write_record([image.path.as_str(), class, split])?;
        }
        Ok(())
    })
}

/// One row per search step; depends on the search alone (nothing from the test split).
fn search(results: &SweepResults, dir: &Path) -> Result<PathBuf, ReportError> {
    csv_file(dir, SEARCH_CSV, |w| {
        w.write_record([
            "model",
            "ontology",
            "step",
            "template",
            "class",
            "name",
            "dev_objective",
        ])?;
        for (_, _, model, ontology, outcome) in searches(results) {
            for step in &outcome.steps {
                let cell = |v: &Option<String>| v.clone().unwrap_or_default();
                w.write_record([
                    model.model.clone(),
                    ontology.ontology.clone(),
                    step.step.to_string(),
                    cell(&step.template),
                    cell(&step.class),
                    cell(&step.name),
                    format!("{:.6}", step.dev_objective),
                ])?;
            }
        }
        Ok(())
    })
}

/// What a step did, in a few words: `+ "template"` or `class → name`.
pub fn move_label(step: &SearchStep) -> String {
    match (&step.template, &step.class, &step.name) {
        (Some(template), _, _) => format!("+ \"{template}\""),
        (None, Some(class), Some(name)) => format!("{class} → {name}"),
        _ => "—".into(),
    }
}

/// The key the snippet files the searched ontology under.
fn snippet_key(model: &ModelResults, ontology: &OntologyResults) -> String {
    format!("{}-{}", ontology.ontology, model.model)
}

#[derive(Serialize)]
struct Snippet<'a> {
    #[serde(serialize_with = "as_map")]
    ontologies: [(String, SnippetOntology<'a>); 1],
}

#[derive(Serialize)]
struct SnippetOntology<'a> {
    templates: &'a [String],
    /// In class order, which reads better than alphabetical.
    #[serde(serialize_with = "as_map")]
    names: Vec<(&'a str, &'a str)>,
}

fn as_map<S: Serializer, K: Serialize, V: Serialize>(
    pairs: &[(K, V)],
    s: S,
) -> Result<S::Ok, S::Error> {
    s.collect_map(pairs.iter().map(|(k, v)| (k, v)))
}

/// The searched ontology as YAML to paste into an experiment file: comment lines saying
/// where it came from, then `ontologies: {<ontology>-<model>: {templates, names}}`.
pub fn snippet(
    results: &SweepResults,
    model: &ModelResults,
    ontology: &OntologyResults,
    outcome: &SearchOutcome,
) -> Result<String, yaml_serde::Error> {
    let names = results
        .classes
        .iter()
        .map(|class| {
            let name = outcome.names.get(class).unwrap_or(class);
            (class.as_str(), name.as_str())
        })
        .collect();
    let document = Snippet {
        ontologies: [(
            snippet_key(model, ontology),
            SnippetOntology {
                templates: &outcome.templates,
                names,
            },
        )],
    };
    let yaml = yaml_serde::to_string(&document)?;
    let seed = results
        .split
        .as_ref()
        .map(|s| format!(", split seed {}", s.seed))
        .unwrap_or_default();
    let comments = [
        format!(
            "Prompts chosen by ontosweep's prompt search for model {} on {} dev images",
            model.model, outcome.dev_images
        ),
        format!("(objective: {}{seed}).", outcome.objective),
        format!(
            "Dev {obj} {:.4}; test {obj} {:.4} on {} held-out images (the honest figure).",
            outcome.dev_objective,
            outcome.test_objective,
            results.images.len(),
            obj = outcome.objective,
        ),
        "Copy the entry under `ontologies:` into an experiment file's `ontologies:`.".into(),
    ];
    let mut text: String = comments
        .iter()
        .map(|line| format!("# {}\n", comment_safe(line)))
        .collect();
    text.push_str(&yaml);
    Ok(text)
}

/// Text that stays inside one YAML comment line: no line breaks (YAML 1.1 also breaks at
/// NEL, LS and PS) and nothing a YAML reader refuses (control characters, U+FFFE/F).
fn comment_safe(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '\t' | '\u{20}'..='\u{7E}' | '\u{A0}'..='\u{2027}' | '\u{202A}'..='\u{D7FF}' => c,
            '\u{E000}'..='\u{FFFD}' | '\u{10000}'.. => c,
            _ => '\u{FFFD}',
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::comment_safe;

    #[test]
    fn comments_cannot_break_their_line() {
        let hostile = "m\nkey: 1\r\u{85}x\u{2028}y\u{2029}z\u{7}\u{FFFE}\u{9}ok é 日";
        let safe = comment_safe(hostile);
        assert_eq!(safe.lines().count(), 1, "{safe:?}");
        assert_eq!(
            safe,
            "m\u{FFFD}key: 1\u{FFFD}\u{FFFD}x\u{FFFD}y\u{FFFD}z\u{FFFD}\u{FFFD}\tok é 日"
        );
    }
}
