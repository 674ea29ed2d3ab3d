//! The parts of an experiment file a prompt search adds: `search:` inside an ontology, and
//! the top-level `split:` that holds the test images out of it.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::{Checks, OneOrMany, duplicates};
use crate::search::templates;

/// Longest ensemble a search may build; also bounds the steps it takes.
pub const MAX_TEMPLATES_LIMIT: usize = 1_000;

/// What a searched ontology may choose from and how it judges a choice.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchSpec {
    /// The candidate templates, each with one `{}`.
    pub templates: Vec<String>,
    /// Per class, the candidate names (the class's own name when absent).
    pub names: BTreeMap<String, Vec<String>>,
    pub max_templates: usize,
    pub objective: Objective,
    /// The dataset's `names`, for the classes without candidates of their own.
    pub display: BTreeMap<String, String>,
}

impl SearchSpec {
    /// The names the search may give `class`, in file order.
    pub fn names_for(&self, class: &str) -> Vec<String> {
        self.names.get(class).cloned().unwrap_or_else(|| {
            vec![
                self.display
                    .get(class)
                    .map_or(class, String::as_str)
                    .to_string(),
            ]
        })
    }
}

/// What the search maximises on the dev split.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Objective {
    Accuracy,
    /// Mean per-class recall: a large class cannot outvote the others.
    BalancedAccuracy,
}

impl Objective {
    pub const ALL: [(&'static str, Objective); 2] = [
        ("accuracy", Objective::Accuracy),
        ("balanced_accuracy", Objective::BalancedAccuracy),
    ];

    pub fn name(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(_, o)| *o == self)
            .map_or("accuracy", |(n, _)| n)
    }
}

/// The dev/test split: which images a search may learn from.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SplitSpec {
    /// Share of each class's images (in expectation) in the dev split.
    pub dev_fraction: f64,
    pub seed: u64,
}

impl Default for SplitSpec {
    fn default() -> Self {
        Self {
            dev_fraction: 0.5,
            seed: 0,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSearch {
    /// A built-in set's name, or a list of templates.
    templates: OneOrMany,
    #[serde(default)]
    names: BTreeMap<String, OneOrMany>,
    max_templates: Option<usize>,
    objective: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSplit {
    dev_fraction: Option<f64>,
    seed: Option<u64>,
}

impl Checks<'_> {
    /// A searched ontology's `search:` block; its problems are reported at their lines.
    pub(super) fn search(&mut self, ontology: &str, raw: RawSearch) -> SearchSpec {
        let at = ["ontologies", ontology, "search"];
        let templates = match raw.templates {
            OneOrMany::One(set) => match templates::built_in(&set) {
                Some(templates) => templates.iter().map(|t| t.to_string()).collect(),
                None => {
                    let known: Vec<&str> = templates::BUILT_IN.iter().map(|(n, _)| *n).collect();
                    self.report(
                        &[&at[..], &["templates"]].concat(),
                        None,
                        format!("unknown template set {set:?}: the built-in sets are {}; or give a list of templates, each with `{{}}` where the class name goes", known.join(", ")),
                    );
                    Vec::new()
                }
            },
            OneOrMany::Many(list) => {
                self.search_templates(&at, &list);
                list
            }
        };
        let names = self.search_names(&at, raw.names);
        let max_templates = raw.max_templates.unwrap_or(8);
        if !(1..=MAX_TEMPLATES_LIMIT).contains(&max_templates) {
            self.report(
                &[&at[..], &["max_templates"]].concat(),
                None,
                format!("`max_templates: {max_templates}`: give a size between 1 and {MAX_TEMPLATES_LIMIT} for the ensemble"),
            );
        }
        let objective = match raw.objective.as_deref() {
            None => Objective::Accuracy,
            Some(name) => match Objective::ALL.iter().find(|(n, _)| *n == name) {
                Some((_, objective)) => *objective,
                None => {
                    self.report(
                        &[&at[..], &["objective"]].concat(),
                        None,
                        format!(
                            "unknown objective {name:?}: use `accuracy` or `balanced_accuracy`"
                        ),
                    );
                    Objective::Accuracy
                }
            },
        };
        SearchSpec {
            templates,
            names,
            max_templates,
            objective,
            display: BTreeMap::new(),
        }
    }

    fn search_templates(&mut self, at: &[&str], list: &[String]) {
        let path = [at, &["templates"]].concat();
        if list.is_empty() {
            self.report(&path, None, "`templates` is empty: list the candidate templates, or name a built-in set such as `openai-imagenet`".into());
        }
        for template in list {
            if !template.contains("{}") {
                self.report(
                    &path,
                    Some(template),
                    format!("template {template:?} has no `{{}}`: write where the class name goes, e.g. \"a photo of a {{}}.\""),
                );
            }
        }
        for duplicate in duplicates(list) {
            self.report(
                &path,
                Some(duplicate),
                format!("template {duplicate:?} is listed twice"),
            );
        }
    }

    fn search_names(
        &mut self,
        at: &[&str],
        raw: BTreeMap<String, OneOrMany>,
    ) -> BTreeMap<String, Vec<String>> {
        let mut names = BTreeMap::new();
        for (class, candidates) in raw {
            let candidates = candidates.into_vec();
            let path = [at, &["names", class.as_str()]].concat();
            if candidates.is_empty() || candidates.iter().any(|n| n.trim().is_empty()) {
                self.report(
                    &path,
                    None,
                    format!("class `{class}`: every candidate name needs some text, and there must be at least one"),
                );
            }
            for duplicate in duplicates(&candidates) {
                self.report(
                    &path,
                    None,
                    format!("class `{class}`: name {duplicate:?} is listed twice"),
                );
            }
            names.insert(class, candidates);
        }
        names
    }

    /// The top-level `split:`; the default when absent but a search needs one.
    pub(super) fn split(&mut self, raw: Option<RawSplit>, searched: bool) -> Option<SplitSpec> {
        let default = SplitSpec::default();
        let Some(raw) = raw else {
            return searched.then_some(default);
        };
        let dev_fraction = raw.dev_fraction.unwrap_or(default.dev_fraction);
        if !(dev_fraction > 0.0 && dev_fraction < 1.0) {
            self.report(
                &["split", "dev_fraction"],
                None,
                format!("`dev_fraction: {dev_fraction}` must lie strictly between 0 and 1: it is the share of images the search learns from, the rest are the test images every ontology is scored on"),
            );
        }
        Some(SplitSpec {
            dev_fraction,
            seed: raw.seed.unwrap_or(default.seed),
        })
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::config::{Experiment, OntologyKind};

    const HEAD: &str = "name: t\ndataset:\n  root: data\nmodels: [m]\nontologies:\n  plain:\n    templates: [\"{}\"]\n";

    fn parse(tail: &str) -> Result<Experiment, Vec<String>> {
        Experiment::parse(Path::new("exp.yaml"), &format!("{HEAD}{tail}"))
            .map_err(|e| e.0.iter().map(ToString::to_string).collect())
    }

    fn spec(e: &Experiment) -> &SearchSpec {
        match &e.ontologies[1].kind {
            OntologyKind::Search(spec) => spec,
            OntologyKind::Written(_) => panic!("not a search"),
        }
    }

    #[test]
    fn a_search_with_a_built_in_set_and_candidate_names() {
        let e = parse("  searched:\n    search:\n      templates: openai-imagenet\n      names:\n        daisy: [daisy, common daisy]\n      max_templates: 3\n      objective: balanced_accuracy\n").unwrap();
        let s = spec(&e);
        assert_eq!(s.templates.len(), 80);
        assert_eq!(s.names_for("daisy"), vec!["daisy", "common daisy"]);
        assert_eq!(s.names_for("rose"), vec!["rose"]);
        assert_eq!(
            (s.max_templates, s.objective),
            (3, Objective::BalancedAccuracy)
        );
        // A search holds images out even when the file says nothing of a split.
        assert_eq!(e.split, Some(SplitSpec::default()));
        let e = parse("  searched:\n    search:\n      templates: [\"a {}\", \"the {}\"]\nsplit: {dev_fraction: 0.3, seed: 7}\n").unwrap();
        assert_eq!(spec(&e).templates, vec!["a {}", "the {}"]);
        assert_eq!(
            (spec(&e).max_templates, spec(&e).objective),
            (8, Objective::Accuracy)
        );
        assert_eq!(
            e.split,
            Some(SplitSpec {
                dev_fraction: 0.3,
                seed: 7
            })
        );
        e.check_classes(&["daisy".into()]).unwrap();
    }

    #[test]
    fn every_mistake_in_a_search_is_located() {
        let m = parse("  searched:\n    search:\n      templates: imagenet\n      max_templates: 0\n      objective: f1\nsplit: {dev_fraction: 1.0}\n").unwrap_err();
        assert_eq!(m.len(), 4, "{m:?}");
        assert!(
            m[0].starts_with("exp.yaml:10:7") && m[0].contains("openai-imagenet"),
            "{m:?}"
        );
        assert!(
            m[1].starts_with("exp.yaml:11:7") && m[1].contains("between 1 and"),
            "{m:?}"
        );
        assert!(
            m[2].starts_with("exp.yaml:12:7") && m[2].contains("balanced_accuracy"),
            "{m:?}"
        );
        assert!(
            m[3].starts_with("exp.yaml:13:") && m[3].contains("strictly between 0 and 1"),
            "{m:?}"
        );
        let m = parse("  searched:\n    search:\n      templates: [\"a {}\", \"photo\", \"a {}\"]\n      names: {daisy: [daisy, \" \"]}\n").unwrap_err();
        assert_eq!(m.len(), 3, "{m:?}");
        assert!(
            m[0].contains("\"photo\" has no `{}`") && m[0].starts_with("exp.yaml:10:"),
            "{m:?}"
        );
        assert!(m[1].contains("listed twice"), "{m:?}");
        assert!(
            m[2].contains("class `daisy`") && m[2].starts_with("exp.yaml:11:"),
            "{m:?}"
        );
        let m = parse(
            "  searched:\n    templates: [\"{}\"]\n    search:\n      templates: [\"a {}\"]\n",
        )
        .unwrap_err();
        assert!(
            m[0].contains("beside written prompts") && m[0].starts_with("exp.yaml:10:5"),
            "{m:?}"
        );
        let m = parse("  searched:\n    search:\n      templates: [\"a {}\"]\n      template: x\n")
            .unwrap_err();
        assert!(m[0].contains("unknown field `template`"), "{m:?}");
    }

    #[test]
    fn candidate_names_are_checked_against_the_classes_and_bounded() {
        let e = parse("  searched:\n    search:\n      templates: [\"a {}\"]\n      names: {daisies: [daisy]}\n").unwrap();
        let err = e.check_classes(&["daisy".into()]).unwrap_err().to_string();
        assert!(
            err.starts_with("exp.yaml:11:")
                && err.contains("class `daisies`, which the dataset does not have"),
            "{err}"
        );
        let e = parse("  searched:\n    search:\n      templates: openai-imagenet\n").unwrap();
        let classes: Vec<String> = (0..1_300).map(|i| format!("c{i}")).collect();
        let err = e.check_classes(&classes).unwrap_err().to_string();
        assert!(
            err.contains("104000 candidate prompts") && err.starts_with("exp.yaml:9:"),
            "{err}"
        );
    }
}
