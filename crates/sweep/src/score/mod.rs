//! The score stage, pure: plan + embeddings → per-model results, each ontology compared
//! with the baseline, each model after the first compared with the first. No encoder, no
//! file: the same embeddings always give the same results.
//!
//! When the experiment holds images out, searches see the dev split (labels included) and
//! every ontology is scored on the test split alone, the same images for all.

mod compare;
mod split;
pub mod zero_shot;

use std::collections::BTreeMap;

use ontosweep_clip::Embedding;
use ontosweep_experiment::Objective;
use ontosweep_models::Scoring;
use ontosweep_results::{
    FEW_CLASSES, ImageScores, Metrics, ModelResults, OntologyFinding, OntologyResults,
    SearchOutcome,
};
use ontosweep_search::{self as search, greedy::DevSet};
use ontosweep_stats::metrics;
use rayon::prelude::*;

use crate::embed::{Embedded, ModelEmbeddings};
use crate::error::SweepError;
use crate::plan::{ModelPlan, OntologyPlan, Plan};
use crate::prompt_checks::look_alike_classes;

pub use compare::agreement;

/// The results, and which dataset images they cover (in dataset order).
pub struct Scored {
    /// The images every ontology is scored on: the test split when there is one.
    pub kept: Vec<usize>,
    /// The dev split; empty without one.
    pub dev: Vec<usize>,
    /// Said when a side of the split is too small to read.
    pub split_warnings: Vec<String>,
    pub models: Vec<ModelResults>,
    /// Classes the text embeddings make look alike, per model and ontology.
    pub findings: Vec<OntologyFinding>,
}

pub fn score(plan: &Plan, embedded: &Embedded) -> Result<Scored, SweepError> {
    let images = &plan.dataset.images;
    let usable: Vec<usize> = (0..images.len())
        .filter(|i| !embedded.failures.contains_key(i))
        .collect();
    let split = split::divide(plan, embedded, usable)?;
    let labels: Vec<usize> = split.test.iter().map(|&i| images[i].label).collect();
    let dev_labels: Vec<usize> = split.dev_order.iter().map(|&i| images[i].label).collect();
    let mut models = Vec::with_capacity(plan.models.len());
    let mut findings = Vec::new();
    for (model, embeddings) in plan.models.iter().zip(&embedded.models) {
        let test_images = kept_images(embeddings, &split.test);
        let dev = DevSet {
            images: kept_images(embeddings, &split.dev_order),
            labels: dev_labels.clone(),
        };
        check_sizes(&model.model.id, &test_images, embeddings)?;
        check_sizes(&model.model.id, &dev.images, embeddings)?;
        models.push(score_model(
            plan,
            model,
            &test_images,
            &labels,
            &dev,
            embeddings,
            &mut findings,
        ));
    }
    if let Some((reference, others)) = models.split_first_mut() {
        let reference_images = kept_images(&embedded.models[0], &split.test);
        for (offset, model) in others.iter_mut().enumerate() {
            let images = kept_images(&embedded.models[offset + 1], &split.test);
            model.vs_reference = agreement(reference, &reference_images, model, &images);
        }
    }
    let mut dev = split.dev_order;
    dev.sort_unstable();
    Ok(Scored {
        kept: split.test,
        dev,
        split_warnings: split.warnings,
        models,
        findings,
    })
}

fn kept_images<'e>(embeddings: &'e ModelEmbeddings, kept: &[usize]) -> Vec<&'e [f32]> {
    kept.iter()
        .filter_map(|&i| embeddings.images[i].as_deref())
        .collect()
}

/// One model's results: searches choose on `dev`, every ontology is scored on `images`.
fn score_model(
    plan: &Plan,
    model: &ModelPlan,
    images: &[&[f32]],
    labels: &[usize],
    dev: &DevSet,
    embeddings: &ModelEmbeddings,
    findings: &mut Vec<OntologyFinding>,
) -> ModelResults {
    let classes = &plan.dataset.classes;
    let scoring = model.model.scoring;
    let scorer = Scorer {
        classes,
        embeddings,
        scoring,
    };
    let keep_all = classes.len() <= FEW_CLASSES || plan.experiment.report.all_probabilities;
    let mut ontologies: Vec<OntologyResults> = plan
        .experiment
        .ontologies
        .iter()
        .zip(&plan.ontologies)
        .map(|(ontology, planned)| {
            let (prompts, search) = match planned {
                OntologyPlan::Written(prompts) => (prompts.clone(), None),
                OntologyPlan::Search(space) => {
                    let chosen =
                        search::choose(space, classes, dev, &embeddings.prompts, scoring.scale());
                    (chosen.prompts, Some((space.spec.objective, chosen.outcome)))
                }
            };
            let class_embeddings = scorer.class_embeddings(&prompts);
            findings.extend(look_alike_classes(
                plan.experiment,
                ontology,
                &model.model.id,
                classes,
                &class_embeddings,
            ));
            let (summaries, probabilities) =
                scorer.score_with(&class_embeddings, images, labels, keep_all);
            let metrics = metrics::compute(classes, labels, &summaries);
            let search = search.map(|(objective, outcome)| {
                scorer.judged(outcome, objective, &prompts, dev, &metrics)
            });
            OntologyResults {
                ontology: ontology.name.clone(),
                prompts,
                predictions: summaries.iter().map(|s| s.top[0].0).collect(),
                scores: summaries,
                probabilities,
                metrics,
                vs_baseline: None,
                search,
                control: ontology.control().map(|c| ontosweep_results::ControlInfo {
                    kind: c.kind.name().into(),
                    of: c.of.clone(),
                    group: c.group.clone(),
                    seed: c.seed,
                    seeds: c.seeds,
                }),
            }
        })
        .collect();
    compare::with_baseline(&mut ontologies, &plan.experiment.baseline, labels);
    ModelResults {
        model: model.model.id.clone(),
        family: model.model.family.name().into(),
        logit_scale: scoring.scale(),
        logit_bias: scoring.bias(),
        ontologies,
        vs_reference: None,
    }
}

/// One model's zero-shot scoring of images against an ontology's prompts.
struct Scorer<'a> {
    classes: &'a [String],
    embeddings: &'a ModelEmbeddings,
    scoring: Scoring,
}

impl Scorer<'_> {
    /// Each class's ensembled text embedding, in class order.
    fn class_embeddings(&self, prompts: &BTreeMap<String, Vec<String>>) -> Vec<Embedding> {
        self.classes
            .iter()
            .map(|c| {
                let ensemble: Vec<Embedding> = prompts[c]
                    .iter()
                    .map(|p| self.embeddings.prompts[p].clone())
                    .collect();
                zero_shot::class_embedding(&ensemble)
            })
            .collect()
    }

    fn score(
        &self,
        prompts: &BTreeMap<String, Vec<String>>,
        images: &[&[f32]],
        labels: &[usize],
        keep_all: bool,
    ) -> (Vec<ImageScores>, Vec<Vec<f32>>) {
        self.score_with(&self.class_embeddings(prompts), images, labels, keep_all)
    }

    /// Each image's summary, and its whole probability row when `keep_all`: rows are
    /// summarised as they are computed, so memory follows images, not images × classes.
    fn score_with(
        &self,
        class_embeddings: &[Embedding],
        images: &[&[f32]],
        labels: &[usize],
        keep_all: bool,
    ) -> (Vec<ImageScores>, Vec<Vec<f32>>) {
        let scored: Vec<(ImageScores, Vec<f32>)> = images
            .par_iter()
            .zip(labels)
            .map(|(img, &truth)| {
                let row = zero_shot::probabilities(img, class_embeddings, self.scoring);
                let summary = metrics::summarise(&row, truth);
                (summary, if keep_all { row } else { Vec::new() })
            })
            .collect();
        let (summaries, rows): (Vec<ImageScores>, Vec<Vec<f32>>) = scored.into_iter().unzip();
        (summaries, if keep_all { rows } else { Vec::new() })
    }

    /// A search's outcome with its objective on the dev images and on the test images.
    fn judged(
        &self,
        mut outcome: SearchOutcome,
        objective: Objective,
        prompts: &BTreeMap<String, Vec<String>>,
        dev: &DevSet,
        on_test: &Metrics,
    ) -> SearchOutcome {
        let (on_dev, _) = self.score(prompts, &dev.images, &dev.labels, false);
        let on_dev = metrics::compute(self.classes, &dev.labels, &on_dev);
        outcome.dev_objective = objective_value(&on_dev, objective);
        outcome.test_objective = objective_value(on_test, objective);
        outcome
    }
}

fn objective_value(metrics: &Metrics, objective: Objective) -> f64 {
    match objective {
        Objective::Accuracy => metrics.accuracy,
        Objective::BalancedAccuracy => metrics.balanced_accuracy,
    }
}

/// Every prompt embedding must have the length of the image embeddings it is compared with.
fn check_sizes(
    model: &str,
    images: &[&[f32]],
    embeddings: &ModelEmbeddings,
) -> Result<(), SweepError> {
    let Some(dim) = images.first().map(|e| e.len()) else {
        return Ok(());
    };
    if let Some(other) = images.iter().find(|e| e.len() != dim) {
        return Err(SweepError::Model(format!(
            "model `{model}`: image embeddings of different lengths ({dim} and {}); clear the embedding cache (or pass --no-cache) and run again",
            other.len()
        )));
    }
    let mut mismatched: Vec<(&String, usize)> = embeddings
        .prompts
        .iter()
        .filter(|(_, e)| e.len() != dim)
        .map(|(p, e)| (p, e.len()))
        .collect();
    mismatched.sort();
    if let Some((prompt, len)) = mismatched.first() {
        return Err(SweepError::Model(format!(
            "model `{model}`: its text embeddings have {len} values (prompt {prompt:?}) but its image embeddings have {dim}; the text and vision towers do not belong to the same CLIP model"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn embeddings(prompts: HashMap<String, Vec<f32>>) -> ModelEmbeddings {
        ModelEmbeddings {
            images: Vec::new(),
            prompts,
            info: Default::default(),
        }
    }

    #[test]
    fn text_and_image_embeddings_of_different_lengths_are_an_error() {
        let images: Vec<&[f32]> = vec![&[1.0, 0.0], &[0.0, 1.0]];
        let prompts = embeddings(HashMap::from([("daisy".to_string(), vec![1.0, 0.0, 0.0])]));
        let err = check_sizes("m", &images, &prompts).unwrap_err().to_string();
        assert!(
            err.contains("3 values") && err.contains("have 2") && err.contains("\"daisy\""),
            "{err}"
        );
        let ragged: Vec<&[f32]> = vec![&[1.0, 0.0], &[1.0]];
        let err = check_sizes("m", &ragged, &embeddings(HashMap::new())).unwrap_err();
        assert!(err.to_string().contains("(2 and 1)"), "{err}");
        let prompts = embeddings(HashMap::from([("daisy".to_string(), vec![1.0, 0.0])]));
        check_sizes("m", &images, &prompts).unwrap();
    }
}
