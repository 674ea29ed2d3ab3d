//! One sweep, start to finish, as a composition of stages, each with a typed hand-off:
//! plan (what to compute) → embed (images and prompts, through the cache) → score (pure)
//! → assemble (results and run metadata).

use std::path::{Path, PathBuf};
use std::time::Instant;

use ontosweep_clip::{Ep, Runtime, SessionOptions};
use ontosweep_results::SweepResults;

use crate::assemble::{StageTimes, assemble, now_unix};
use crate::embed::{EmbedSettings, EmbeddingCache, embed, fingerprint};
use crate::models::resolve_hashing;
use crate::plan::Plan;
use crate::progress::Progress;
use crate::provision::{KNOWN_ARCHIVES, fetch_archive, hash_file};
use crate::score::score;
use crate::shard::{
    RECORD_KIND, SHARDS_FOLDER, Shard, ShardExt, ShardModel, ShardRecord, ShardTimings, record_key,
};
use crate::shard_check;
use ontosweep_dataset::read_classnames;
use ontosweep_dataset::webdataset;
use ontosweep_dataset::{self as dataset, Dataset};
use ontosweep_experiment::{ConfigErrors, Experiment};

#[derive(Debug, Clone)]
pub struct SweepOptions {
    /// The folder of `<id>.yaml` model descriptions.
    pub model_registry: PathBuf,
    /// A model folder used in place of every model the experiment names.
    pub model_override: Option<PathBuf>,
    /// Provider, threads and IoBinding for every session.
    pub session: SessionOptions,
    /// Images per encoder call; `None`: [`default_batch_size`] for the provider in use.
    pub batch_size: Option<usize>,
    /// `None` turns the embedding cache off.
    pub cache_dir: Option<PathBuf>,
    /// The report folder (`--out`), whose `shards/` records are read before encoding: a
    /// sweep says which of its shards never ran, a shard run refuses to mix shard counts.
    pub report_dir: Option<PathBuf>,
}

#[derive(Debug, thiserror::Error)]
pub enum SweepError {
    #[error(transparent)]
    Config(#[from] ConfigErrors),
    #[error("{0}")]
    Dataset(String),
    #[error("{0}")]
    Model(String),
    #[error("{0}")]
    Cache(String),
    #[error("{0}")]
    Shard(String),
    #[error(transparent)]
    Clip(#[from] ontosweep_clip::Error),
}

/// The results, and warnings the user should read (truncated prompts, cache trouble).
pub struct SweepOutcome {
    pub results: SweepResults,
    pub warnings: Vec<String>,
}

/// Images per encoder call when the user does not say: a GPU wants large batches.
pub fn default_batch_size(ep: Ep) -> usize {
    match ep {
        Ep::Cpu | Ep::OpenVino => 32,
        Ep::Cuda => 256,
    }
}

pub fn load_dataset(
    experiment: &Experiment,
    data_root: Option<&Path>,
    progress: &dyn Progress,
) -> Result<Dataset, SweepError> {
    let spec = &experiment.dataset;
    let in_file = |e: String| SweepError::Dataset(format!("{}: {e}", experiment.file.display()));
    let at_key = |key: &str, e: String| {
        SweepError::Config(ConfigErrors(vec![
            experiment.diagnostic(&["dataset", key], e),
        ]))
    };
    let base = experiment.file.parent().unwrap_or(Path::new(""));
    let root = data_root.or(spec.root.as_deref());
    if let (Some(root), Some(name)) = (root, &spec.download)
        && !root.exists()
    {
        let archive = KNOWN_ARCHIVES
            .iter()
            .find(|a| a.name == name)
            .expect("validated: a known download");
        fetch_archive(archive, root, progress).map_err(in_file)?;
    }
    let names = match &spec.classnames {
        Some(file) => Some(read_classnames(file).map_err(|e| at_key("classnames", e))?),
        None => None,
    };
    let declared = names.as_deref().zip(spec.classnames.as_deref());
    let dataset = match (root, &spec.manifest) {
        (Some(root), _) => dataset::scan_folder(root, spec.classes.as_deref())
            .map_err(|e| in_file(with_shards_hint(e, root, base))),
        (None, Some(manifest)) => {
            dataset::read_manifest(manifest, declared, spec.classes.as_deref()).map_err(in_file)
        }
        (None, None) => {
            let shards =
                webdataset::expand(&spec.webdataset, base).map_err(|e| at_key("webdataset", e))?;
            let labels = webdataset::Labels {
                names: declared,
                wanted: spec.classes.as_deref(),
            };
            webdataset::read_shards(&shards, &labels).map_err(in_file)
        }
    }?;
    refuse_search_over_found_labels(experiment, &dataset)?;
    blame_manifest_typos(experiment, &dataset)?;
    experiment.check_classes(&dataset.classes)?;
    Ok(dataset)
}

/// The experiment's `download:` dataset and the folder it goes to, while it is not there.
pub fn dataset_to_fetch(
    experiment: &Experiment,
    data_root: Option<&Path>,
) -> Option<(String, PathBuf)> {
    let spec = &experiment.dataset;
    let root = data_root.or(spec.root.as_deref())?;
    let name = spec.download.as_ref()?;
    (!root.exists()).then(|| (name.clone(), root.to_path_buf()))
}

/// A folder of WebDataset shards given as `root:` gets the line that reads it.
fn with_shards_hint(error: String, root: &Path, base: &Path) -> String {
    let folders = webdataset::tar_folders(root);
    let Some(first) = folders.first() else {
        return error;
    };
    let shown = first.strip_prefix(base).unwrap_or(first).display();
    format!(
        "{error}\n{} holds WebDataset tar shards: in place of `root:`, write `webdataset: {shown}/*.tar` (with `classnames:` naming its classnames.txt when the labels are `.cls` indices)",
        root.display()
    )
}

/// A search must see the same classes whatever the test images' labels say: with classes
/// taken from the labels, one relabelled test image could change what it chooses.
fn refuse_search_over_found_labels(
    experiment: &Experiment,
    dataset: &Dataset,
) -> Result<(), SweepError> {
    let Some(search) = experiment
        .ontologies
        .iter()
        .find(|o| matches!(o.kind, ontosweep_experiment::OntologyKind::Search(_)))
    else {
        return Ok(());
    };
    if dataset.class_source.is_declared() {
        return Ok(());
    }
    let listed = if dataset.classes.len() <= 30 {
        format!(
            "`classes: [{}]`",
            dataset
                .classes
                .iter()
                .map(|c| yaml_scalar(c))
                .collect::<Vec<_>>()
                .join(", ")
        )
    } else {
        "`classes: [...]`".into()
    };
    Err(SweepError::Config(ConfigErrors(vec![experiment.diagnostic(
        &["dataset"],
        format!(
            "ontology `{}` searches prompts, so the classes must be fixed before any label is read (else a test image's label could change what the search sees), but these come from the labels in the data. Declare them under `dataset:` with {listed} or `classnames: FILE` (one per line)",
            search.name
        ),
    )])))
}

/// A class name as a YAML flow scalar: quoted unless plainly safe.
fn yaml_scalar(text: &str) -> String {
    let plain = !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, ' ' | '_' | '-' | '.'))
        && !text.starts_with([' ', '-', '.'])
        && !text.ends_with(' ');
    if plain {
        text.to_string()
    } else {
        serde_json::to_string(text).expect("a string serialises")
    }
}

/// A manifest label that no ontology has prompts for, one edit or two from a class that
/// they all do (`dandelions` beside `dandelion`), is a typo in the manifest: say so at its
/// lines, not at the ontologies.
fn blame_manifest_typos(experiment: &Experiment, dataset: &Dataset) -> Result<(), SweepError> {
    let Some((manifest, lines)) = &dataset.label_lines else {
        return Ok(());
    };
    let covered = |class: &str| {
        experiment
            .ontologies
            .iter()
            .filter_map(|o| o.written())
            .all(|w| !w.prompts_for(class).is_empty())
    };
    let mut errors = Vec::new();
    for class in dataset.classes.iter().filter(|c| !covered(c)) {
        let Some(near) = dataset
            .classes
            .iter()
            .filter(|other| *other != class && covered(other))
            .find(|other| ontosweep_clip::echo::edit_distance(class, other) <= 2)
        else {
            continue;
        };
        let at = lines.get(class).cloned().unwrap_or_default();
        let listed: Vec<String> = at.iter().take(8).map(ToString::to_string).collect();
        errors.push(ontosweep_experiment::Diagnostic {
            file: manifest.clone(),
            position: at.first().map(|&line| crate::Position { line, column: 1 }),
            message: format!(
                "label `{class}` (line{} {}{}) has no prompts in the experiment, and `{near}` does: a typo in the manifest? Fix those rows, or give `{class}` prompts in {}",
                if at.len() == 1 { "" } else { "s" },
                listed.join(", "),
                if at.len() > 8 { ", …" } else { "" },
                experiment.file.display()
            ),
        });
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ConfigErrors(errors).into())
    }
}

/// Runs the sweep over `dataset`, which [`load_dataset`] made from this experiment (checked
/// before any model is loaded).
pub fn sweep(
    experiment: &Experiment,
    dataset: &Dataset,
    runtime: &Runtime,
    options: &SweepOptions,
    progress: &dyn Progress,
) -> Result<SweepOutcome, SweepError> {
    let started = Instant::now();
    let started_at_unix = now_unix();
    let cache = open_cache(options.cache_dir.as_deref())?;
    let plan = plan(experiment, dataset, options, cache.as_ref(), progress)?;
    let shards = check_shard_records(&plan, options, cache.as_ref(), progress)?;
    let before_images = started.elapsed().as_secs_f64();
    let settings = embed_settings(runtime, options, cache.as_ref(), None);
    let embedded = embed(&plan, &settings, progress)?;
    let scoring = Instant::now();
    let scored = score(&plan, &embedded)?;
    let scoring = scoring.elapsed().as_secs_f64();
    let mut warnings = plan.warnings.clone();
    warnings.extend(embedded.warnings.iter().cloned());
    warnings.extend(
        scored
            .split_warnings
            .iter()
            .map(|w| format!("{}: warning: {w}", experiment.file.display())),
    );
    let times = StageTimes {
        started_at_unix,
        total: started.elapsed().as_secs_f64(),
        before_images,
        scoring,
    };
    let mut results = assemble(plan, embedded, scored, runtime, options, times);
    results.run.shards = shards;
    account_for_every_sample(&results)?;
    Ok(SweepOutcome { results, warnings })
}

/// Every sample found is scored, held out for a search, or listed as skipped; a run that
/// scored nothing measured nothing.
fn account_for_every_sample(results: &SweepResults) -> Result<(), SweepError> {
    let run = &results.run;
    let accounted = run.images_scored + run.images_dev + run.images_skipped;
    if accounted != run.images_found {
        return Err(SweepError::Dataset(format!(
            "internal error: {} samples found but {accounted} accounted for ({} scored, {} dev, {} skipped); please report this",
            run.images_found, run.images_scored, run.images_dev, run.images_skipped
        )));
    }
    if run.images_scored == 0 {
        let reasons: Vec<String> = results
            .skipped
            .iter()
            .take(5)
            .map(|s| format!("  {}: {}", s.path, s.reason))
            .collect();
        return Err(SweepError::Dataset(format!(
            "no image could be scored ({} found, {} skipped, {} held out for the search); the first reasons:\n{}",
            run.images_found,
            run.images_skipped,
            run.images_dev,
            reasons.join("\n")
        )));
    }
    Ok(())
}

/// Encodes shard `shard` of the images, and every prompt, into the embedding cache; scores
/// nothing. The unsharded [`sweep`] afterwards finds these embeddings cached.
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
    let mine: Vec<usize> = (0..dataset.images.len())
        .filter(|&i| {
            embedded.content_keys[i]
                .as_deref()
                .is_some_and(|key| shard.contains(key))
        })
        .collect();
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
        images_in_shard: mine.len(),
        encoded: models.iter().map(|m| m.images_encoded).sum(),
        from_cache: models.iter().map(|m| m.images_from_cache).sum(),
        failed: mine
            .iter()
            .filter(|i| embedded.failures.contains_key(i))
            .count(),
        timings: ShardTimings {
            total_seconds: started.elapsed().as_secs_f64(),
            image_seconds: embedded.image_seconds,
            text_seconds: embedded.text_seconds,
        },
        models,
        images: mine
            .iter()
            .map(|&i| dataset.images[i].relative.clone())
            .collect(),
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
    let images: Vec<&str> = plan
        .dataset
        .images
        .iter()
        .map(|i| i.relative.as_str())
        .collect();
    Ok(record_key(&plan.experiment.name, &models, &images))
}

/// Before encoding: what the report folder's shard records say about this run, each
/// problem warned of at once (the run still encodes whatever the cache lacks).
fn check_shard_records(
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
    let images: Vec<&str> = plan
        .dataset
        .images
        .iter()
        .map(|i| i.relative.as_str())
        .collect();
    let check = shard_check::check(out, &key, &images);
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

/// The models resolved and the plan made, file hashes remembered by the cache (a warm sweep
/// does not re-read the models).
fn plan<'a>(
    experiment: &'a Experiment,
    dataset: &'a Dataset,
    options: &SweepOptions,
    cache: Option<&EmbeddingCache>,
    progress: &dyn Progress,
) -> Result<Plan<'a>, SweepError> {
    let hash = |path: &Path| match cache {
        Some(cache) => cache
            .fingerprint(&[path.to_path_buf()])
            .map_err(|e| e.to_string()),
        None => hash_file(path),
    };
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

fn embed_settings<'a>(
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

fn open_cache(dir: Option<&Path>) -> Result<Option<EmbeddingCache>, SweepError> {
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
