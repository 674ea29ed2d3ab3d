//! A suite file: several experiments (one per dataset, say) run in turn and summarised in
//! one table across datasets, models and ontologies.
//!
//! ```yaml
//! name: standard-benchmarks
//! experiments:
//!   - imagenet1k-vit-b32.yaml
//!   - cifar10-vit-b32.yaml
//! ```

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::bounds::{MAX_YAML_BYTES, read_bounded};
use crate::document::parse_document;
use crate::locate::locate;
use crate::{ConfigErrors, Diagnostic, check_plain_name};

/// Most experiments one suite runs.
pub const MAX_SUITE_EXPERIMENTS: usize = 1000;

#[derive(Debug, Clone, PartialEq)]
pub struct Suite {
    pub file: PathBuf,
    /// Names the suite's report folder (`reports/<name>/`).
    pub name: String,
    /// The experiment files, resolved against the suite file's folder, in file order.
    pub experiments: Vec<PathBuf>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSuite {
    name: String,
    experiments: Vec<PathBuf>,
}

impl Suite {
    pub fn load(file: &Path) -> Result<Self, ConfigErrors> {
        let source = read_bounded(file, MAX_YAML_BYTES).map_err(|e| {
            ConfigErrors(vec![Diagnostic {
                file: file.to_path_buf(),
                position: None,
                message: format!("cannot read the suite file: {e}"),
            }])
        })?;
        Self::parse(file, &source)
    }

    pub fn parse(file: &Path, source: &str) -> Result<Self, ConfigErrors> {
        let raw: RawSuite = parse_document(file, source)?;
        let at = |key: &str, needle: Option<&str>, message: String| Diagnostic {
            file: file.to_path_buf(),
            position: locate(source, &[key], needle),
            message,
        };
        let mut errors = Vec::new();
        if let Err(problem) = check_plain_name(&raw.name) {
            errors.push(at("name", None, format!("`name: {:?}` {problem}: it names the suite's report folder (reports/<name>/); use letters, digits, `.`, `_` and `-`", raw.name)));
        }
        if raw.experiments.is_empty() || raw.experiments.len() > MAX_SUITE_EXPERIMENTS {
            errors.push(at("experiments", None, format!("list between 1 and {MAX_SUITE_EXPERIMENTS} experiment files, relative to this file")));
        }
        let mut seen = std::collections::BTreeSet::new();
        for path in &raw.experiments {
            let shown = path.display().to_string();
            if !seen.insert(path) {
                errors.push(at(
                    "experiments",
                    Some(&shown),
                    format!("{shown} is listed twice: it would be run twice and counted twice"),
                ));
            }
        }
        if !errors.is_empty() {
            return Err(ConfigErrors(errors));
        }
        let folder = file.parent().unwrap_or(Path::new("."));
        Ok(Suite {
            file: file.to_path_buf(),
            name: raw.name,
            experiments: raw.experiments.iter().map(|p| folder.join(p)).collect(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_suite_names_its_experiments_once_each() {
        let file = Path::new("suites/all.yaml");
        let suite = Suite::parse(file, "name: all\nexperiments: [a.yaml, b/c.yaml]\n").unwrap();
        assert_eq!(
            suite.experiments,
            [Path::new("suites/a.yaml"), Path::new("suites/b/c.yaml")]
        );
        let errors = Suite::parse(file, "name: ../up\nexperiments:\n  - a.yaml\n  - a.yaml\n")
            .unwrap_err()
            .to_string();
        assert!(
            errors.contains("all.yaml:1:") && errors.contains("starts with `.`"),
            "{errors}"
        );
        assert!(
            errors.contains("all.yaml:3:") && errors.contains("listed twice"),
            "{errors}"
        );
        let errors = Suite::parse(file, "name: x\nexperiment: [a.yaml]\n")
            .unwrap_err()
            .to_string();
        assert!(errors.contains("unknown field `experiment`"), "{errors}");
    }
}
