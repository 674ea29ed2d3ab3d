//! `sweep --dry-run`: a sweep's plan, said before any of it is done. Models are resolved
//! without downloading, the embedding cache is opened to look only, no session is opened
//! and nothing is written.

use ontosweep_clip::Runtime;
use ontosweep_dataset::Dataset;
use ontosweep_experiment::Experiment;
use ontosweep_models::{ModelFiles, Progress, resolve_each};

use crate::embed::{EmbedSettings, EmbeddingCache, Forecast, forecast};
use crate::error::SweepError;
use crate::options::SweepOptions;
use crate::plan::{OntologyPlan, Plan};

pub struct DryRun {
    /// The work per model that can be planned, and the images none could read.
    pub forecast: Forecast,
    /// Models that cannot be planned as they are (not downloaded yet, or broken), with why.
    pub models_unavailable: Vec<String>,
    /// Per ontology, in file order: its name and how many prompts it has.
    pub ontologies: Vec<(String, String)>,
    pub warnings: Vec<String>,
}

pub fn dry_run(
    experiment: &Experiment,
    dataset: &Dataset,
    runtime: &Runtime,
    options: &SweepOptions,
    progress: &dyn Progress,
) -> Result<DryRun, SweepError> {
    let cache = match options.cache_dir.as_deref() {
        Some(dir) => EmbeddingCache::open_to_look(dir).map_err(|e| {
            SweepError::Cache(format!(
                "cannot use the embedding cache at {}: {e}; pass --cache-dir DIR or --no-cache",
                dir.display()
            ))
        })?,
        None => None,
    };
    let hash = crate::setup::model_file_hasher(cache.as_ref());
    let files = ModelFiles {
        hash: &hash,
        download: false,
    };
    let (mut models, mut models_unavailable) = (Vec::new(), Vec::new());
    let resolved = resolve_each(
        experiment,
        &options.model_registry,
        options.model_override.as_deref(),
        progress,
        &files,
    );
    for model in resolved {
        match model {
            Ok(model) => models.push(model),
            Err(why) => models_unavailable.push(why),
        }
    }
    let plan = Plan::new(experiment, dataset, models)?;
    let settings = EmbedSettings {
        runtime,
        session: options.session,
        batch_size: options.batch_size,
        cache: cache.as_ref(),
        shard: None,
    };
    let forecast = forecast(&plan, &settings, progress)?;
    let ontologies = experiment
        .ontologies
        .iter()
        .zip(&plan.ontologies)
        .map(|(o, planned)| (o.name.clone(), prompt_count(planned)))
        .collect();
    Ok(DryRun {
        forecast,
        models_unavailable,
        ontologies,
        warnings: plan.warnings.clone(),
    })
}

/// "1 prompt per class", "1–3 prompts per class, 11 in all", or what a search chooses from.
fn prompt_count(planned: &OntologyPlan) -> String {
    match planned {
        OntologyPlan::Written(by_class) => {
            let counts = by_class.values().map(Vec::len);
            let (least, most) = (counts.clone().min().unwrap_or(0), counts.max().unwrap_or(0));
            let total: usize = by_class.values().map(Vec::len).sum();
            let plural = if most == 1 { "" } else { "s" };
            if least == most {
                format!("{most} prompt{plural} per class, {total} in all")
            } else {
                format!("{least}–{most} prompts per class, {total} in all")
            }
        }
        OntologyPlan::Search(space) => format!(
            "a search on the dev split: up to {} of {} templates, from {} candidate prompts",
            space.spec.max_templates,
            space.spec.templates.len(),
            space.prompts().count()
        ),
    }
}
