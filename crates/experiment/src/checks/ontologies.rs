//! `ontologies:`.

use std::collections::BTreeMap;

use super::Checks;
use crate::document::unknown_field;
use crate::raw::{RawOntology, RawTemplates};
use crate::{Ontology, OntologyKind, WrittenPrompts};

pub(crate) use super::controls::Parsed;

impl Checks<'_> {
    /// Every ontology that parses, in file order. "None defined" is said only when nothing
    /// else is wrong, since a broken ontology is not an absent one.
    pub(crate) fn ontologies(&mut self, raw: yaml_serde::Mapping) -> Vec<Ontology> {
        let parsed: Vec<Parsed> = raw
            .into_iter()
            .filter_map(|(key, value)| self.ontology(key, value))
            .collect();
        let ontologies = self.controls(parsed);
        if ontologies.is_empty() && self.errors.is_empty() {
            self.report(
                &["ontologies"],
                None,
                "`ontologies` is empty: define at least one".into(),
            );
        }
        ontologies
    }

    /// One ontology: `None` when its name or shape is wrong (it is then not checked
    /// further); otherwise it is returned even with problems in its prompts.
    pub(crate) fn ontology(
        &mut self,
        key: yaml_serde::Value,
        value: yaml_serde::Value,
    ) -> Option<Parsed> {
        let Some(name) = key.as_str().map(str::to_string) else {
            self.report(
                &["ontologies"],
                None,
                format!("ontology names must be strings, found {key:?}"),
            );
            return None;
        };
        let parsed: RawOntology = match yaml_serde::from_value(value) {
            Ok(parsed) => parsed,
            Err(e) => {
                let message = e.to_string();
                // A misspelt field is shown at its own line; search fields are one level down.
                let path: Vec<&str> = match unknown_field(&message) {
                    Some(field) if message.contains("`max_templates`") => {
                        vec!["ontologies", &name, "search", field]
                    }
                    Some(field) => vec!["ontologies", &name, field],
                    None => vec!["ontologies", &name],
                };
                self.report(&path, None, format!("ontology `{name}`: {message}. An ontology has `templates:` (a list with `{{}}` for the class, a named set, or `{{file: FILE}}`) and/or `prompts:` (class: prompt or list of prompts), or only `search:`"));
                return None;
            }
        };
        if let Some(kind) = parsed.control.clone() {
            return self.pending_control(name, kind, parsed);
        }
        if parsed.of.is_some() || parsed.seeds.is_some() {
            self.report(
                &["ontologies", &name],
                None,
                format!("ontology `{name}`: `of` and `seeds` belong to a control ontology (`control: random-words`, `shuffled-names` or `template-only`)"),
            );
        }
        if let Some(search) = parsed.search {
            let no_templates = matches!(&parsed.templates, RawTemplates::List(l) if l.is_empty());
            if !(no_templates && parsed.prompts.is_empty() && parsed.names.is_empty()) {
                self.report(
                    &["ontologies", &name, "search"],
                    None,
                    format!("ontology `{name}` has `search:` beside written prompts: a searched ontology chooses its own; move `templates`, `prompts` and `names` to an ontology of their own (candidate names go in `search.names`)"),
                );
            }
            let spec = self.search(&name, search);
            return Some(Parsed::Done(Ontology {
                name,
                kind: OntologyKind::Search(spec),
            }));
        }
        let templates = self.template_list(&["ontologies", &name, "templates"], parsed.templates);
        let prompts: BTreeMap<String, Vec<String>> = parsed
            .prompts
            .into_iter()
            .map(|(class, p)| (class, p.into_vec()))
            .collect();
        if templates.is_empty() {
            self.prompt_texts(&name, &prompts);
        }
        Some(Parsed::Done(Ontology {
            name,
            kind: OntologyKind::Written(WrittenPrompts {
                templates,
                prompts,
                names: parsed.names,
                display: BTreeMap::new(),
                control: None,
            }),
        }))
    }

    /// An ontology without templates: every class it lists needs some prompt text, and it
    /// needs at least one class.
    pub(crate) fn prompt_texts(&mut self, name: &str, prompts: &BTreeMap<String, Vec<String>>) {
        for (class, list) in prompts {
            if list.iter().all(|p| p.trim().is_empty()) {
                self.report(
                    &["ontologies", name, "prompts", class],
                    None,
                    format!("ontology `{name}`: class `{class}` has no prompt text"),
                );
            }
        }
        if prompts.is_empty() {
            self.report(
                &["ontologies", name],
                None,
                format!("ontology `{name}` has neither `templates` nor `prompts`"),
            );
        }
    }
}
