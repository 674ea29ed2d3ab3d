//! The score stage, pure: plan + embeddings → per-model results, each ontology compared
//! with the baseline, each model after the first compared with the first. No encoder, no
//! file: the same embeddings always give the same results.

mod compare;
pub mod zero_shot;

use ontosweep_clip::Embedding;
use ontosweep_results::{ModelResults, OntologyResults};

use crate::embed::{Embedded, ModelEmbeddings};
use crate::metrics;
use crate::plan::{ModelPlan, Plan};
use crate::sweep::SweepError;

pub use compare::agreement;

/// The results, and which dataset images they cover (in dataset order).
pub struct Scored {
    pub kept: Vec<usize>,
    pub models: Vec<ModelResults>,
}

pub fn score(plan: &Plan, embedded: &Embedded) -> Result<Scored, SweepError> {
    let kept: Vec<usize> = (0..plan.dataset.images.len())
        .filter(|i| !embedded.failures.contains_key(i))
        .collect();
    let labels: Vec<usize> = kept.iter().map(|&i| plan.dataset.images[i].label).collect();
    let mut models = Vec::with_capacity(plan.models.len());
    for (model, embeddings) in plan.models.iter().zip(&embedded.models) {
        let images = kept_images(embeddings, &kept);
        check_sizes(&model.model.id, &images, embeddings)?;
        models.push(score_model(plan, model, &images, embeddings, &labels));
    }
    if let Some((reference, others)) = models.split_first_mut() {
        let reference_images = kept_images(&embedded.models[0], &kept);
        for (offset, model) in others.iter_mut().enumerate() {
            let images = kept_images(&embedded.models[offset + 1], &kept);
            model.vs_reference = agreement(reference, &reference_images, model, &images);
        }
    }
    Ok(Scored { kept, models })
}

fn kept_images<'e>(embeddings: &'e ModelEmbeddings, kept: &[usize]) -> Vec<&'e [f32]> {
    kept.iter()
        .filter_map(|&i| embeddings.images[i].as_deref())
        .collect()
}

fn score_model(
    plan: &Plan,
    model: &ModelPlan,
    images: &[&[f32]],
    embeddings: &ModelEmbeddings,
    labels: &[usize],
) -> ModelResults {
    let classes = &plan.dataset.classes;
    let logit_scale = model.model.spec.logit_scale;
    let mut ontologies: Vec<OntologyResults> = plan
        .experiment
        .ontologies
        .iter()
        .zip(&plan.prompts)
        .map(|(ontology, prompts)| {
            let class_embeddings: Vec<Embedding> = classes
                .iter()
                .map(|c| {
                    let ensemble: Vec<Embedding> = prompts[c]
                        .iter()
                        .map(|p| embeddings.prompts[p].clone())
                        .collect();
                    zero_shot::class_embedding(&ensemble)
                })
                .collect();
            let probabilities: Vec<Vec<f32>> = images
                .iter()
                .map(|img| zero_shot::probabilities(img, &class_embeddings, logit_scale))
                .collect();
            let predictions = metrics::predictions(&probabilities);
            let metrics = metrics::compute(classes, labels, &probabilities, &predictions);
            OntologyResults {
                ontology: ontology.name.clone(),
                prompts: prompts.clone(),
                predictions,
                probabilities,
                metrics,
                vs_baseline: None,
            }
        })
        .collect();
    compare::with_baseline(&mut ontologies, &plan.experiment.baseline, labels);
    ModelResults {
        model: model.model.id.clone(),
        logit_scale,
        ontologies,
        vs_reference: None,
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
