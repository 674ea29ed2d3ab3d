//! The ontology checks made before any image is scored, per model on the prompts as that
//! model reads them (after its text clean-up and tokenisation): two classes with identical
//! prompts, prompts cut at the context length, two ontologies that are one.

use std::collections::{BTreeMap, HashMap};

use ontosweep_clip::Tokens;
use ontosweep_experiment::{Diagnostic, Experiment, Ontology};
use ontosweep_results::OntologyFinding;

use crate::ontology_plan::OntologyPlan;

/// Classes named in one finding; the rest are counted.
const CLASSES_SHOWN: usize = 5;
/// Groups of identical classes reported per ontology and model.
const GROUPS_SHOWN: usize = 20;

/// What one model reads for each class of a written ontology: its prompts' token ids,
/// sorted (an ensemble is a mean, so order does not matter but repeats do).
type ClassKey<'t> = Vec<&'t [i64]>;

/// Every finding for one model. `tokens` holds every prompt of every ontology.
pub(crate) fn check_prompts(
    experiment: &Experiment,
    classes: &[String],
    ontologies: &[OntologyPlan],
    model: &str,
    tokens: &HashMap<&str, &Tokens>,
    context_length: usize,
) -> Vec<OntologyFinding> {
    let mut findings = Vec::new();
    let mut keys: Vec<(&Ontology, Vec<ClassKey>)> = Vec::new();
    for (ontology, planned) in experiment.ontologies.iter().zip(ontologies) {
        let finding = Finding {
            experiment,
            ontology,
            model,
        };
        findings.extend(truncated(
            &finding,
            planned,
            classes,
            tokens,
            context_length,
        ));
        // A control is meant to be what it is (`template-only` reads alike for every class).
        let OntologyPlan::Written(by_class) = planned else {
            continue;
        };
        if ontology.control().is_some() {
            continue;
        }
        let class_keys: Vec<ClassKey> = classes
            .iter()
            .map(|class| {
                let mut key: ClassKey = by_class[class]
                    .iter()
                    .map(|p| tokens[p.as_str()].ids.as_slice())
                    .collect();
                key.sort();
                key
            })
            .collect();
        findings.extend(identical_classes(&finding, classes, by_class, &class_keys));
        keys.push((ontology, class_keys));
    }
    findings.extend(identical_ontologies(experiment, model, &keys));
    findings
}

/// Where and for which model a finding is made.
struct Finding<'a> {
    experiment: &'a Experiment,
    ontology: &'a Ontology,
    model: &'a str,
}

impl Finding<'_> {
    fn make(
        &self,
        check: &str,
        error: bool,
        classes: Vec<String>,
        detail: String,
    ) -> OntologyFinding {
        OntologyFinding {
            severity: if error { "error" } else { "warning" }.into(),
            check: check.into(),
            ontology: self.ontology.name.clone(),
            model: self.model.to_string(),
            classes,
            detail,
            location: location(
                &self
                    .experiment
                    .diagnostic(&["ontologies", &self.ontology.name], String::new()),
            ),
        }
    }
}

fn location(diagnostic: &Diagnostic) -> String {
    match diagnostic.position {
        Some(p) => format!("{}:{}:{}", diagnostic.file.display(), p.line, p.column),
        None => diagnostic.file.display().to_string(),
    }
}

/// Classes whose prompts the model reads identically: it can never tell them apart.
fn identical_classes(
    finding: &Finding,
    classes: &[String],
    by_class: &BTreeMap<String, Vec<String>>,
    keys: &[ClassKey],
) -> Vec<OntologyFinding> {
    let mut groups: BTreeMap<&ClassKey, Vec<usize>> = BTreeMap::new();
    for (index, key) in keys.iter().enumerate() {
        groups.entry(key).or_default().push(index);
    }
    let mut alike: Vec<Vec<usize>> = groups.into_values().filter(|g| g.len() > 1).collect();
    alike.sort();
    let stop = finding.experiment.checks.identical_prompts_stop;
    let total = alike.len();
    alike
        .into_iter()
        .take(GROUPS_SHOWN)
        .enumerate()
        .map(|(shown, group)| {
            let names: Vec<String> = group.iter().map(|&i| classes[i].clone()).collect();
            let first = &by_class[&names[0]];
            let example = first.first().map(String::as_str).unwrap_or_default();
            let more = match (shown + 1 == GROUPS_SHOWN, total > GROUPS_SHOWN) {
                (true, true) => format!(" ({} more such groups not listed)", total - GROUPS_SHOWN),
                _ => String::new(),
            };
            let remedy = if stop {
                "give them different words (`names:`), or `checks: {identical_prompts: warn}` to reproduce a published figure made so"
            } else {
                "kept, as `checks: {identical_prompts: warn}` asks"
            };
            finding.make(
                "identical prompts",
                stop,
                names.iter().take(CLASSES_SHOWN).cloned().collect(),
                format!(
                    "classes {} read the same {} prompt(s) (e.g. {example:?}) once the model's tokenizer has cleaned them up, so it cannot tell them apart; {remedy}{more}",
                    shown_classes(&names),
                    first.len(),
                ),
            )
        })
        .collect()
}

/// Prompts longer than the model's context, counted per ontology.
fn truncated(
    finding: &Finding,
    planned: &OntologyPlan,
    classes: &[String],
    tokens: &HashMap<&str, &Tokens>,
    context_length: usize,
) -> Option<OntologyFinding> {
    let mut count = 0usize;
    let mut total = 0usize;
    let mut example: Option<String> = None;
    let mut hit: Vec<String> = Vec::new();
    let mut prompts: Vec<String> = Vec::new();
    match planned {
        OntologyPlan::Written(by_class) => {
            for class in classes {
                for prompt in &by_class[class] {
                    total += 1;
                    if tokens[prompt.as_str()].truncated {
                        count += 1;
                        example.get_or_insert_with(|| prompt.clone());
                        if !hit.contains(class) {
                            hit.push(class.clone());
                        }
                    }
                }
            }
        }
        OntologyPlan::Search(_) => {
            prompts.extend(planned.prompts(classes));
            for prompt in &prompts {
                total += 1;
                if tokens[prompt.as_str()].truncated {
                    count += 1;
                    example.get_or_insert_with(|| prompt.clone());
                }
            }
        }
    }
    let example = example?;
    Some(finding.make(
        "truncated prompts",
        false,
        hit.iter().take(CLASSES_SHOWN).cloned().collect(),
        format!(
            "{count} of {total} prompts are longer than the model's {context_length} tokens and are cut (keeping the end-of-text token), e.g. {example:?}; shorten them to keep their ends"
        ),
    ))
}

/// Two written ontologies whose every class reads the same: two names for one ontology.
fn identical_ontologies(
    experiment: &Experiment,
    model: &str,
    keys: &[(&Ontology, Vec<ClassKey>)],
) -> Vec<OntologyFinding> {
    let mut findings = Vec::new();
    for (i, (first, first_keys)) in keys.iter().enumerate() {
        for (second, second_keys) in &keys[i + 1..] {
            if first_keys == second_keys {
                let finding = Finding {
                    experiment,
                    ontology: second,
                    model,
                };
                let mut found = finding.make(
                    "identical ontologies",
                    false,
                    Vec::new(),
                    format!(
                        "ontologies `{}` and `{}` give every class the same prompts once the model's tokenizer has cleaned them up: their figures will be identical (two names for one ontology)",
                        first.name, second.name
                    ),
                );
                found.ontology = format!("{} and {}", first.name, second.name);
                findings.push(found);
            }
        }
    }
    findings
}

fn shown_classes(names: &[String]) -> String {
    let shown: Vec<String> = names
        .iter()
        .take(CLASSES_SHOWN)
        .map(|c| format!("`{c}`"))
        .collect();
    match names.len() {
        n if n > CLASSES_SHOWN => format!("{} and {} more", shown.join(", "), n - CLASSES_SHOWN),
        _ => shown.join(" and "),
    }
}

/// The line a person reads for one finding.
pub(crate) fn finding_line(finding: &OntologyFinding) -> String {
    format!(
        "{}: {}: ontology `{}`, model {}: {}",
        finding.location, finding.severity, finding.ontology, finding.model, finding.detail
    )
}

/// Pairs of classes shown in a look-alike finding; the rest are counted.
const PAIRS_SHOWN: usize = 5;

/// Pairs of classes whose ensembled text embeddings (unit length) have a cosine of at least
/// the experiment's `checks.similar_classes`: the model will confuse them whatever the
/// images show. One finding per ontology and model, the closest pairs first.
pub(crate) fn look_alike_classes(
    experiment: &Experiment,
    ontology: &Ontology,
    model: &str,
    classes: &[String],
    class_embeddings: &[Vec<f32>],
) -> Option<OntologyFinding> {
    use rayon::prelude::*;
    if ontology.control().is_some() {
        return None;
    }
    let threshold = experiment.checks.similar_classes;
    let mut pairs: Vec<(f64, usize, usize)> = (0..class_embeddings.len())
        .into_par_iter()
        .flat_map_iter(|i| {
            let a = &class_embeddings[i];
            (i + 1..class_embeddings.len()).filter_map(move |j| {
                let cosine: f64 = a
                    .iter()
                    .zip(&class_embeddings[j])
                    .map(|(x, y)| f64::from(*x) * f64::from(*y))
                    .sum();
                (cosine >= threshold).then_some((cosine, i, j))
            })
        })
        .collect();
    if pairs.is_empty() {
        return None;
    }
    // Closest first; ties in class order, so every thread count gives one order.
    pairs.sort_by(|a, b| b.0.total_cmp(&a.0).then((a.1, a.2).cmp(&(b.1, b.2))));
    let shown: Vec<String> = pairs
        .iter()
        .take(PAIRS_SHOWN)
        .map(|&(cosine, i, j)| format!("`{}`–`{}` {cosine:.4}", classes[i], classes[j]))
        .collect();
    let more = match pairs.len() {
        n if n > PAIRS_SHOWN => format!(" and {} more", n - PAIRS_SHOWN),
        _ => String::new(),
    };
    let mut involved: Vec<String> = Vec::new();
    for &(_, i, j) in pairs.iter().take(PAIRS_SHOWN) {
        for c in [i, j] {
            if !involved.contains(&classes[c]) {
                involved.push(classes[c].clone());
            }
        }
    }
    let finding = Finding {
        experiment,
        ontology,
        model,
    };
    Some(finding.make(
        "look-alike classes",
        false,
        involved.into_iter().take(CLASSES_SHOWN).collect(),
        format!(
            "{} pair(s) of classes have text embeddings with cosine ≥ {threshold} (`checks.similar_classes`), so the model will confuse them whatever the images show: {}{more}; give them more distinct words",
            pairs.len(),
            shown.join(", ")
        ),
    ))
}
