//! The parts of an experiment file a prompt search adds: `search:` inside an ontology, and
//! the top-level `split:` that holds the test images out of it.

use std::collections::BTreeMap;

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

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::{Experiment, OntologyKind};

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
