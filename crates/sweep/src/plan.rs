//! The plan: what a sweep will compute, decided before any encoder runs. Per model its
//! preprocessing and every distinct prompt, tokenised once; per ontology and class the
//! prompts, keyed by class name. Every diagnostic about the experiment is issued here: this
//! stage is the only one that reads the YAML source for locations.

use std::collections::BTreeMap;

use ontosweep_clip::{Preprocessing, TextTokenizer, Tokens};
use ontosweep_dataset::Dataset;
use ontosweep_experiment::{Experiment, OntologyKind};
use ontosweep_models::ResolvedModel;
use ontosweep_search::SearchSpace;

use crate::error::SweepError;

/// The sweep to run.
pub struct Plan<'a> {
    pub experiment: &'a Experiment,
    pub dataset: &'a Dataset,
    pub models: Vec<ModelPlan>,
    /// Per ontology, in file order.
    pub ontologies: Vec<OntologyPlan>,
    pub warnings: Vec<String>,
}

/// One ontology's prompts, or the space a search chooses them from.
pub enum OntologyPlan {
    /// Class name → its prompts.
    Written(BTreeMap<String, Vec<String>>),
    Search(SearchSpace),
}

impl OntologyPlan {
    /// Every prompt it may encode, in class order (or candidate order).
    fn prompts<'s>(&'s self, classes: &'s [String]) -> Box<dyn Iterator<Item = String> + 's> {
        match self {
            OntologyPlan::Written(by_class) => {
                Box::new(classes.iter().flat_map(|c| by_class[c].iter().cloned()))
            }
            OntologyPlan::Search(space) => Box::new(space.prompts()),
        }
    }
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
        let classes = &dataset.classes;
        let ontologies: Vec<OntologyPlan> = experiment
            .ontologies
            .iter()
            .map(|o| match &o.kind {
                OntologyKind::Written(written) => OntologyPlan::Written(
                    classes
                        .iter()
                        .map(|c| (c.clone(), written.prompts_for(c)))
                        .collect(),
                ),
                OntologyKind::Search(spec) => OntologyPlan::Search(SearchSpace::new(spec, classes)),
            })
            .collect();
        let mut warnings = Vec::new();
        let models = models
            .into_iter()
            .map(|model| plan_model(experiment, classes, &ontologies, model, &mut warnings))
            .collect::<Result<_, _>>()?;
        Ok(Self {
            experiment,
            dataset,
            models,
            ontologies,
            warnings,
        })
    }
}

fn plan_model(
    experiment: &Experiment,
    classes: &[String],
    ontologies: &[OntologyPlan],
    model: ResolvedModel,
    warnings: &mut Vec<String>,
) -> Result<ModelPlan, SweepError> {
    let preprocessing = Preprocessing::from_config_file(&model.dir.preprocessor_config())?;
    let tokenizer = TextTokenizer::for_model(&model.dir, model.family)?;
    warnings.extend(model.warnings.iter().cloned());
    let mut distinct: Vec<(String, Tokens)> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for (ontology, planned) in experiment.ontologies.iter().zip(ontologies) {
        // Class order, not name order: the prompts' batches stay as they were.
        for prompt in planned.prompts(classes) {
            if !seen.insert(prompt.clone()) {
                continue;
            }
            let tokens = tokenizer.encode(&prompt)?;
            if tokens.truncated {
                let needle = prompt.split("{}").next().unwrap_or(&prompt);
                warnings.push(
                    experiment
                        .diagnostic_at(
                            &["ontologies", &ontology.name],
                            needle,
                            format!("warning: prompt {prompt:?} is longer than the model's {} tokens and was truncated; shorten it to keep its end", tokenizer.context_length()),
                        )
                        .to_string(),
                );
            }
            distinct.push((prompt, tokens));
        }
    }
    Ok(ModelPlan {
        model,
        preprocessing,
        prompts: distinct,
    })
}
