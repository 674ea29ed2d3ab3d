//! Every check that needs only the file: each problem recorded at its line, all reported.

mod controls;
mod dataset;
mod models;
mod ontologies;
mod search;
mod templates;

use std::path::{Path, PathBuf};

use crate::locate::locate;
use crate::{Diagnostic, MAX_NAME_BYTES, Ontology, check_plain_name};

/// The checks that follow a successful parse, each section in turn; every problem found is
/// kept, located at its key path in the source.
pub(crate) struct Checks<'a> {
    pub(crate) file: &'a Path,
    pub(crate) source: &'a str,
    /// The experiment file's folder: relative paths start here.
    pub(crate) folder: &'a Path,
    /// A CLIP_benchmark folder's templates file, for `templates: dataset`.
    pub(crate) dataset_templates: Option<PathBuf>,
    pub(crate) errors: Vec<Diagnostic>,
}

impl Checks<'_> {
    /// Records a problem at `path` (at the line inside it that contains `needle`, if given).
    pub(crate) fn report(&mut self, path: &[&str], needle: Option<&str>, message: String) {
        self.errors.push(Diagnostic {
            file: self.file.to_path_buf(),
            position: locate(self.source, path, needle),
            message,
        });
    }

    pub(crate) fn name(&mut self, name: &str) {
        if let Err(problem) = check_plain_name(name) {
            self.report(
                &["name"],
                None,
                format!("`name: {name:?}` {problem}: it names the report folder (reports/<name>/), so it must be one plain folder name of letters, digits, `.`, `_` and `-`, not starting with `.`, at most {MAX_NAME_BYTES} bytes, e.g. `flowers-v2`"),
            );
        }
    }

    /// The `checks:` section: what the ontology checks stop for, and their threshold.
    pub(crate) fn check_spec(&mut self, raw: Option<crate::raw::RawChecks>) -> crate::CheckSpec {
        let mut spec = crate::CheckSpec::default();
        let Some(raw) = raw else {
            return spec;
        };
        match raw.identical_prompts.as_deref() {
            None | Some("error") => {}
            Some("warn") => spec.identical_prompts_stop = false,
            Some(other) => self.report(
                &["checks", "identical_prompts"],
                None,
                format!("`identical_prompts: {other}`: use `error` (the default: two classes the model cannot tell apart stop the run) or `warn` (to reproduce a published figure made so)"),
            ),
        }
        if let Some(cosine) = raw.similar_classes {
            if (0.0..=1.0).contains(&cosine) {
                spec.similar_classes = cosine;
            } else {
                self.report(
                    &["checks", "similar_classes"],
                    None,
                    format!("`similar_classes: {cosine}` is a cosine between 0 and 1 above which two classes' text embeddings are named as look-alikes"),
                );
            }
        }
        spec
    }

    /// The dataset section, its paths resolved against `folder`.
    /// The baseline ontology: the one named, or the first.
    pub(crate) fn baseline(&mut self, baseline: Option<String>, ontologies: &[Ontology]) -> String {
        match baseline {
            Some(b) if ontologies.iter().any(|o| o.name == b) => b,
            Some(b) => {
                let known: Vec<&str> = ontologies.iter().map(|o| o.name.as_str()).collect();
                self.report(
                    &["baseline"],
                    None,
                    format!(
                        "baseline `{b}` is not an ontology here; choose one of: {}",
                        known.join(", ")
                    ),
                );
                b
            }
            None => ontologies
                .first()
                .map(|o| o.name.clone())
                .unwrap_or_default(),
        }
    }
}
