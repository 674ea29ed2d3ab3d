//! The plan: what a sweep will compute, decided before any encoder runs. Per model its
//! preprocessing and every distinct prompt, tokenised once; per ontology and class the
//! prompts, keyed by class name. Every diagnostic about the experiment is issued here: this
//! stage is the only one that reads the YAML source for locations.

use std::collections::BTreeMap;

use ontosweep_clip::{ClipTokenizer, Preprocessing, Tokens};

use crate::config::Experiment;
use crate::dataset::Dataset;
use crate::models::ResolvedModel;
use crate::sweep::SweepError;

/// The sweep to run.
pub struct Plan<'a> {
    pub experiment: &'a Experiment,
    pub dataset: &'a Dataset,
    pub models: Vec<ModelPlan>,
    /// Per ontology (in file order): class name → its prompts.
    pub prompts: Vec<BTreeMap<String, Vec<String>>>,
    pub warnings: Vec<String>,
}

/// One model's share of the plan.
pub struct ModelPlan {
    pub model: ResolvedModel,
    pub preprocessing: Preprocessing,
    /// Every prompt of every ontology, once, in first-use order.
    pub prompts: Vec<(String, Tokens)>,
}

impl<'a> Plan<'a> {
    pub fn new(
        experiment: &'a Experiment,
        dataset: &'a Dataset,
        models: Vec<ResolvedModel>,
    ) -> Result<Self, SweepError> {
        let prompts: Vec<BTreeMap<String, Vec<String>>> = experiment
            .ontologies
            .iter()
            .map(|o| {
                dataset
                    .classes
                    .iter()
                    .map(|c| (c.clone(), o.prompts_for(c)))
                    .collect()
            })
            .collect();
        let mut warnings = Vec::new();
        let models = models
            .into_iter()
            .map(|model| plan_model(experiment, &dataset.classes, &prompts, model, &mut warnings))
            .collect::<Result<_, _>>()?;
        Ok(Self {
            experiment,
            dataset,
            models,
            prompts,
            warnings,
        })
    }
}

fn plan_model(
    experiment: &Experiment,
    classes: &[String],
    prompts: &[BTreeMap<String, Vec<String>>],
    model: ResolvedModel,
    warnings: &mut Vec<String>,
) -> Result<ModelPlan, SweepError> {
    let preprocessing = Preprocessing::from_config_file(&model.dir.preprocessor_config())?;
    let tokenizer = ClipTokenizer::from_file(&model.dir.tokenizer())?;
    let mut distinct: Vec<(String, Tokens)> = Vec::new();
    for (ontology, by_class) in experiment.ontologies.iter().zip(prompts) {
        // Class order, not name order: the prompts' batches stay as they were.
        for prompt in classes.iter().flat_map(|c| &by_class[c]) {
            if distinct.iter().any(|(p, _)| p == prompt) {
                continue;
            }
            let tokens = tokenizer.encode(prompt)?;
            if tokens.truncated {
                let needle = prompt.split("{}").next().unwrap_or(prompt);
                warnings.push(
                    experiment
                        .diagnostic_at(
                            &["ontologies", &ontology.name],
                            needle,
                            format!("warning: prompt {prompt:?} is longer than CLIP's 77 tokens and was truncated; shorten it to keep its end"),
                        )
                        .to_string(),
                );
            }
            distinct.push((prompt.clone(), tokens));
        }
    }
    Ok(ModelPlan {
        model,
        preprocessing,
        prompts: distinct,
    })
}
