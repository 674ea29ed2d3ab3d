//! `search:` inside an ontology, and the top-level `split:`.

use std::collections::BTreeMap;

use super::Checks;
use crate::names::duplicates;
use crate::raw::{OneOrMany, RawSearch, RawSplit, RawTemplates};
use crate::{MAX_TEMPLATES_LIMIT, Objective, SearchSpec, SplitSpec};

impl Checks<'_> {
    /// A searched ontology's `search:` block; its problems are reported at their lines.
    pub(crate) fn search(&mut self, ontology: &str, raw: RawSearch) -> SearchSpec {
        let at = ["ontologies", ontology, "search"];
        let path = [&at[..], &["templates"]].concat();
        let templates = match raw.templates {
            RawTemplates::List(list) => {
                let checked = self.template_list(&path, RawTemplates::List(list.clone()));
                self.search_templates(&path, &list);
                checked
            }
            named => {
                let list = self.template_list(&path, named);
                for duplicate in duplicates(&list) {
                    self.report(
                        &path,
                        None,
                        format!("template {duplicate:?} is listed twice in the set"),
                    );
                }
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

    /// A written list of candidates: not empty, none twice (slots are checked with any list).
    pub(crate) fn search_templates(&mut self, path: &[&str], list: &[String]) {
        if list.is_empty() {
            self.report(path, None, "`templates` is empty: list the candidate templates, or name a built-in set such as `openai-imagenet`".into());
        }
        for duplicate in duplicates(list) {
            self.report(
                path,
                Some(duplicate),
                format!("template {duplicate:?} is listed twice"),
            );
        }
    }

    pub(crate) fn search_names(
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
    pub(crate) fn split(&mut self, raw: Option<RawSplit>, searched: bool) -> Option<SplitSpec> {
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
