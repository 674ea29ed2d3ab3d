//! What every run does before encoding: open the embedding cache, resolve the models and
//! make the plan, and the embed stage's settings.

use std::path::Path;

use ontosweep_clip::Runtime;
use ontosweep_dataset::Dataset;
use ontosweep_experiment::Experiment;
use ontosweep_models::{Progress, hash_file, resolve_hashing};

use crate::embed::{EmbedSettings, EmbeddingCache};
use crate::error::SweepError;
use crate::options::SweepOptions;
use crate::plan::Plan;
use crate::shard::Shard;

/// The models resolved and the plan made, file hashes remembered by the cache (a warm sweep
/// does not re-read the models).
pub(crate) fn plan<'a>(
    experiment: &'a Experiment,
    dataset: &'a Dataset,
    options: &SweepOptions,
    cache: Option<&EmbeddingCache>,
    progress: &dyn Progress,
) -> Result<Plan<'a>, SweepError> {
    let hash = model_file_hasher(cache);
    let models = resolve_hashing(
        experiment,
        &options.model_registry,
        options.model_override.as_deref(),
        progress,
        &hash,
    )
    .map_err(SweepError::Model)?;
    Plan::new(experiment, dataset, models)
}

/// How model files are hashed: through the cache's remembered hashes when there is one.
pub(crate) fn model_file_hasher(
    cache: Option<&EmbeddingCache>,
) -> impl Fn(&Path) -> Result<String, String> + '_ {
    move |path: &Path| match cache {
        Some(cache) => cache
            .fingerprint(&[path.to_path_buf()])
            .map_err(|e| e.to_string()),
        None => hash_file(path),
    }
}

pub(crate) fn embed_settings<'a>(
    runtime: &'a Runtime,
    options: &SweepOptions,
    cache: Option<&'a EmbeddingCache>,
    shard: Option<Shard>,
) -> EmbedSettings<'a> {
    EmbedSettings {
        runtime,
        session: options.session,
        batch_size: options.batch_size,
        cache,
        shard,
    }
}

pub(crate) fn open_cache(dir: Option<&Path>) -> Result<Option<EmbeddingCache>, SweepError> {
    let Some(dir) = dir else {
        return Ok(None);
    };
    EmbeddingCache::open(dir).map(Some).map_err(|e| {
        SweepError::Cache(format!(
            "cannot use the embedding cache at {}: {e}; pass --cache-dir DIR or --no-cache",
            dir.display()
        ))
    })
}
