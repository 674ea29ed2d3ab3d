//! Control ontologies in `ontologies:`: `control:`, `of:` and `seeds:`, resolved once every
//! ontology is parsed (a control may come before the ontology it mirrors).

use super::Checks;
use crate::controls::{Control, ControlKind};
use crate::raw::{RawOntology, RawTemplates};
use crate::{Ontology, OntologyKind};

/// Most seeds one control may ask for: each is scored like an ontology.
pub const MAX_SEEDS: usize = 100;

/// An ontology as parsed: done, or a control waiting for the ontology it mirrors.
pub(crate) enum Parsed {
    Done(Ontology),
    Control {
        name: String,
        kind: ControlKind,
        of: String,
        seeds: usize,
    },
}

impl Checks<'_> {
    /// A control's own fields checked; it is built once every ontology is known.
    pub(crate) fn pending_control(
        &mut self,
        name: String,
        kind: String,
        raw: RawOntology,
    ) -> Option<Parsed> {
        let at = ["ontologies", name.as_str(), "control"];
        let Some(kind) = ControlKind::ALL
            .iter()
            .find(|(n, _)| *n == kind)
            .map(|(_, k)| *k)
        else {
            self.report(&at, None, format!("ontology `{name}`: unknown control `{kind}`; use `random-words` (random words in place of what follows the class), `shuffled-names` (class names permuted among classes) or `template-only` (the templates with no class name)"));
            return None;
        };
        let written = !matches!(&raw.templates, RawTemplates::List(l) if l.is_empty())
            || !raw.prompts.is_empty()
            || !raw.names.is_empty()
            || raw.search.is_some();
        if written {
            self.report(&at, None, format!("ontology `{name}` is a control: its prompts are generated from `of:`'s, so it has no `templates`, `prompts`, `names` or `search` of its own"));
        }
        let Some(of) = raw.of else {
            self.report(
                &at,
                None,
                format!(
                    "ontology `{name}`: a control mirrors another ontology: add `of: <ontology>`"
                ),
            );
            return None;
        };
        let seeds = raw.seeds.unwrap_or(1);
        if !(1..=MAX_SEEDS).contains(&seeds) {
            self.report(
                &["ontologies", &name, "seeds"],
                None,
                format!("ontology `{name}`: `seeds: {seeds}`: give between 1 and {MAX_SEEDS}"),
            );
        } else if seeds > 1 && !kind.is_seeded() {
            self.report(
                &["ontologies", &name, "seeds"],
                None,
                format!(
                    "ontology `{name}`: `{}` is the same whatever the seed; remove `seeds`",
                    kind.name()
                ),
            );
        }
        Some(Parsed::Control {
            name,
            kind,
            of,
            seeds: seeds.clamp(1, MAX_SEEDS),
        })
    }

    /// Every ontology in file order, each control built from the ontology it mirrors (one
    /// per seed, `<name>.seed<k>` when there are several).
    pub(crate) fn controls(&mut self, parsed: Vec<Parsed>) -> Vec<Ontology> {
        let written: Vec<Ontology> = parsed
            .iter()
            .filter_map(|p| match p {
                Parsed::Done(o) => Some(o.clone()),
                Parsed::Control { .. } => None,
            })
            .collect();
        let mut ontologies = Vec::new();
        for p in parsed {
            match p {
                Parsed::Done(o) => ontologies.push(o),
                Parsed::Control {
                    name,
                    kind,
                    of,
                    seeds,
                } => {
                    ontologies.extend(self.control(&written, name, kind, of, seeds));
                }
            }
        }
        let mut seen = std::collections::BTreeSet::new();
        for o in &ontologies {
            if !seen.insert(o.name.clone()) {
                self.report(&["ontologies", &o.name], None, format!("ontology `{}` is defined twice (a control's seeds are named `<name>.seed<k>`); rename one", o.name));
            }
        }
        ontologies
    }

    fn control(
        &mut self,
        written: &[Ontology],
        name: String,
        kind: ControlKind,
        of: String,
        seeds: usize,
    ) -> Vec<Ontology> {
        let at = ["ontologies", name.as_str(), "of"];
        let Some(mirrored) = written.iter().find(|o| o.name == of) else {
            let known: Vec<&str> = written
                .iter()
                .filter(|o| o.written().is_some())
                .map(|o| o.name.as_str())
                .collect();
            self.report(&at, None, format!("ontology `{name}`: `of: {of}` names no written ontology here; choose one of: {}", known.join(", ")));
            return Vec::new();
        };
        let Some(prompts) = mirrored.written() else {
            self.report(&at, None, format!("ontology `{name}`: `{of}` is searched; a control mirrors written prompts (a search chooses its own per model)"));
            return Vec::new();
        };
        if kind == ControlKind::TemplateOnly && prompts.templates.is_empty() {
            self.report(&at, None, format!("ontology `{name}`: `template-only` fills `{of}`'s templates with a neutral word, and `{of}` has none"));
            return Vec::new();
        }
        (1..=seeds)
            .map(|seed| {
                let mut copy = prompts.clone();
                copy.control = Some(Control {
                    kind,
                    of: of.clone(),
                    group: name.clone(),
                    seed: seed as u64,
                    seeds,
                    shuffled: Default::default(),
                    excluded: Default::default(),
                });
                Ontology {
                    name: if seeds > 1 {
                        format!("{name}.seed{seed}")
                    } else {
                        name.clone()
                    },
                    kind: OntologyKind::Written(copy),
                }
            })
            .collect()
    }
}
