//! The plan: what a sweep will compute, decided before any encoder runs. Per model its
//! preprocessing and every distinct prompt, tokenised once; per ontology and class the
//! prompts, keyed by class name. Every diagnostic about the experiment is issued here: this
//! stage is the only one that reads the YAML source for locations.

use std::collections::HashMap;

use ontosweep_clip::{Preprocessing, TextTokenizer, Tokens};
use ontosweep_dataset::Dataset;
use ontosweep_experiment::{ConfigErrors, Experiment, OntologyKind};
use ontosweep_models::ResolvedModel;
use ontosweep_results::OntologyFinding;
use ontosweep_search::SearchSpace;

use crate::error::SweepError;
pub use crate::ontology_plan::OntologyPlan;
use crate::prompt_checks::{check_prompts, finding_line};

/// The sweep to run.
pub struct Plan<'a> {
    pub experiment: &'a Experiment,
    pub dataset: &'a Dataset,
    pub models: Vec<ModelPlan>,
    /// Per ontology, in file order.
    pub ontologies: Vec<OntologyPlan>,
    pub warnings: Vec<String>,
    /// What the ontology checks found, per model (warnings: an error stops the plan).
    pub findings: Vec<OntologyFinding>,
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
        let mut findings = Vec::new();
        let models = models
            .into_iter()
            .map(|model| {
                let (plan, found) =
                    plan_model(experiment, classes, &ontologies, model, &mut warnings)?;
                findings.extend(found);
                Ok::<_, SweepError>(plan)
            })
            .collect::<Result<_, _>>()?;
        stop_for_errors(experiment, &findings)?;
        warnings.extend(findings.iter().map(finding_line));
        Ok(Self {
            experiment,
            dataset,
            models,
            ontologies,
            warnings,
            findings,
        })
    }
}

fn plan_model(
    experiment: &Experiment,
    classes: &[String],
    ontologies: &[OntologyPlan],
    model: ResolvedModel,
    warnings: &mut Vec<String>,
) -> Result<(ModelPlan, Vec<OntologyFinding>), SweepError> {
    let preprocessing = Preprocessing::from_config_file(&model.dir.preprocessor_config())?;
    let tokenizer = TextTokenizer::for_model(&model.dir, model.family)?;
    warnings.extend(model.warnings.iter().cloned());
    let mut distinct: Vec<(String, Tokens)> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for planned in ontologies {
        // Class order, not name order: the prompts' batches stay as they were.
        for prompt in planned.prompts(classes) {
            if !seen.insert(prompt.clone()) {
                continue;
            }
            let tokens = tokenizer.encode(&prompt)?;
            distinct.push((prompt, tokens));
        }
    }
    let by_prompt: HashMap<&str, &Tokens> = distinct.iter().map(|(p, t)| (p.as_str(), t)).collect();
    let findings = check_prompts(
        experiment,
        classes,
        ontologies,
        &model.id,
        &by_prompt,
        tokenizer.context_length(),
    );
    Ok((
        ModelPlan {
            model,
            preprocessing,
            prompts: distinct,
        },
        findings,
    ))
}

/// Errors among the findings stop the sweep before any encoding, every one of them named.
fn stop_for_errors(
    experiment: &Experiment,
    findings: &[OntologyFinding],
) -> Result<(), SweepError> {
    let errors: Vec<_> = findings
        .iter()
        .filter(|f| f.severity == "error")
        .map(|f| {
            experiment.diagnostic(
                &["ontologies", &f.ontology],
                format!("{} (model {}): {}", f.check, f.model, f.detail),
            )
        })
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(SweepError::Config(ConfigErrors(errors)))
    }
}
