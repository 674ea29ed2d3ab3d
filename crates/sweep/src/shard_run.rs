//! A shard run: its share of the images, and every prompt, into the cache, and a record of
//! what it did; and what the unsharded run reads of those records before encoding.

use std::time::Instant;

use ontosweep_clip::Runtime;
use ontosweep_dataset::Dataset;
use ontosweep_experiment::Experiment;
use ontosweep_models::Progress;

use crate::assemble::now_unix;
use crate::embed::{EmbeddingCache, embed, fingerprint};
use crate::error::SweepError;
use crate::options::SweepOptions;
use crate::plan::Plan;
use crate::setup::{embed_settings, open_cache, plan};
use crate::shard::{
    RECORD_KIND, SHARDS_FOLDER, Shard, ShardExt, ShardModel, ShardRecord, ShardTimings, record_key,
};
use crate::shard_check;

/// Encodes shard `shard` of the images, and every prompt, into the embedding cache; scores
/// nothing. The unsharded [`crate::sweep()`] afterwards finds these embeddings cached.
pub fn encode_shard(
    experiment: &Experiment,
    dataset: &Dataset,
    runtime: &Runtime,
    options: &SweepOptions,
    shard: Shard,
    progress: &dyn Progress,
) -> Result<(ShardRecord, Vec<String>), SweepError> {
    let started = Instant::now();
    let started_at_unix = now_unix();
    let Some(cache) = open_cache(options.cache_dir.as_deref())? else {
        return Err(SweepError::Cache(
            "a shard run keeps its work only in the embedding cache: give --cache-dir DIR (on a filesystem every shard and the final sweep share) instead of --no-cache".into(),
        ));
    };
    let plan = plan(experiment, dataset, options, Some(&cache), progress)?;
    let key = run_key(&plan, Some(&cache))?;
    refuse_mixed_counts(options, &key, shard)?;
    let settings = embed_settings(runtime, options, Some(&cache), Some(shard));
    let embedded = embed(&plan, &settings, progress)?;
    // This shard's images: the list and the keys read side by side, a chunk at a time.
    let storage = |e| SweepError::Clip(crate::embed::storage_error(e));
    let (mut names, mut failed) = (Vec::new(), 0);
    for chunk in dataset.images.chunks() {
        let (start, images) = chunk.map_err(storage)?;
        let keys = embedded
            .content_keys
            .contents(start, start + images.len())
            .map_err(storage)?;
        for (k, (image, key)) in images.into_iter().zip(keys).enumerate() {
            if key.is_some_and(|key| shard.owns(key.prefix())) {
                failed += usize::from(embedded.failures.contains_key(&(start + k)));
                names.push(image.relative);
            }
        }
    }
    let models: Vec<ShardModel> = embedded
        .models
        .iter()
        .map(|m| ShardModel {
            id: m.info.id.clone(),
            vision_sha256: m.info.vision_sha256.clone(),
            text_sha256: m.info.text_sha256.clone(),
            images_encoded: m.info.images_encoded,
            images_from_cache: m.info.images_from_cache,
            prompts_encoded: m.info.prompts_encoded,
            prompts_from_cache: m.info.prompts_from_cache,
        })
        .collect();
    let mut warnings = plan.warnings.clone();
    warnings.extend(embedded.warnings.iter().cloned());
    let record = ShardRecord {
        kind: RECORD_KIND.into(),
        tool_version: env!("CARGO_PKG_VERSION").into(),
        experiment: experiment.name.clone(),
        key,
        shard,
        started_at_unix,
        images_total: dataset.images.len(),
        images_in_shard: names.len(),
        encoded: models.iter().map(|m| m.images_encoded).sum(),
        from_cache: models.iter().map(|m| m.images_from_cache).sum(),
        failed,
        timings: ShardTimings {
            total_seconds: started.elapsed().as_secs_f64(),
            image_seconds: embedded.image_seconds,
            text_seconds: embedded.text_seconds,
        },
        models,
        images: names,
    };
    Ok((record, warnings))
}

/// The key of this run's shard records: experiment, model file hashes, image list (the
/// hashes are remembered by the cache, so this reads no model file twice).
fn run_key(plan: &Plan, cache: Option<&EmbeddingCache>) -> Result<String, SweepError> {
    let mut models = Vec::with_capacity(plan.models.len());
    for m in &plan.models {
        let vision = fingerprint(cache, &m.model.dir.vision_files())?;
        models.push((vision, fingerprint(cache, &m.model.dir.text_files())?));
    }
    let images = &plan.dataset.images;
    // Read and hashed a chunk at a time: the list is never held whole.
    let mut failed = None;
    let names = images
        .chunks()
        .map_while(|chunk| chunk.map_err(|e| failed = Some(e)).ok())
        .flat_map(|(_, chunk)| chunk.into_iter().map(|image| image.relative));
    let key = record_key(&plan.experiment.name, &models, images.len(), names);
    match failed {
        Some(e) => Err(SweepError::Clip(crate::embed::storage_error(e))),
        None => Ok(key),
    }
}

/// Before encoding: what the report folder's shard records say about this run, each
/// problem warned of at once (the run still encodes whatever the cache lacks).
pub(crate) fn check_shard_records(
    plan: &Plan,
    options: &SweepOptions,
    cache: Option<&EmbeddingCache>,
    progress: &dyn Progress,
) -> Result<Option<ontosweep_results::shards::ShardCheck>, SweepError> {
    let Some(out) = options
        .report_dir
        .as_deref()
        .filter(|out| shard_check::has_records_folder(out))
    else {
        return Ok(None);
    };
    let key = run_key(plan, cache)?;
    let check = shard_check::check(out, &key, &plan.dataset.images)
        .map_err(|e| SweepError::Clip(crate::embed::storage_error(e)))?;
    for warning in check.iter().flat_map(|c| &c.warnings) {
        progress.warn(warning);
    }
    Ok(check)
}

/// A shard run never adds a record beside this run's records of another shard count: the
/// final run could not tell which shards ran.
fn refuse_mixed_counts(options: &SweepOptions, key: &str, shard: Shard) -> Result<(), SweepError> {
    let Some(out) = options.report_dir.as_deref() else {
        return Ok(());
    };
    let others = shard_check::other_counts(out, key, shard);
    if others.is_empty() {
        return Ok(());
    }
    Err(SweepError::Shard(format!(
        "{} already holds records of this experiment, models and images sharded another way than into {}: {}. Run those shards with the same count, or move those records away (or give another --out) before sharding into {}",
        out.join(SHARDS_FOLDER).display(),
        shard.count,
        others.join(", "),
        shard.count
    )))
}
