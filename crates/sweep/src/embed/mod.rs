//! The embed stage: every image and every distinct prompt, once per model, through one
//! embedding cache. An image that fails for any model is left out of all, so every
//! comparison is on the same images.

mod cache;
mod content_key;
mod fault;
mod forecast;
mod images;
mod key_memo;
mod namespaces;
mod packs;
mod prompts;
mod store;

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::time::Instant;

use ontosweep_clip::{Embedding, Ep, ImageEncoder, Precision, Runtime, SessionOptions};
use ontosweep_dataset::ImageSource;
use ontosweep_results::ModelRunInfo;

use crate::error::SweepError;
use crate::options::default_batch_size;
use crate::plan::{ModelPlan, Plan};
use crate::shard::{Shard, ShardExt};
use ontosweep_models::Progress;

pub use cache::EmbeddingCache;
pub use content_key::ContentKey;
pub use forecast::{Forecast, ModelForecast, forecast};
use images::Outcome;
pub(crate) use images::storage_error;
pub use images::{ContentKeys, ImageOutcome, embed_files};
use key_memo::KeyMemo;
pub use store::ImageEmbeddings;

/// The registered OpenVINO plugin's version, part of the cache key of its embeddings.
pub fn plugin_version(settings: &EmbedSettings) -> Option<String> {
    settings.runtime.openvino().ok().map(|p| p.version.clone())
}

/// What computes new embeddings, as the cache records it beside each entry.
pub struct Provenance {
    onnxruntime: String,
    openvino_plugin: Option<String>,
    precision: Precision,
}

impl Provenance {
    pub fn new(settings: &EmbedSettings, session: &SessionOptions) -> Self {
        Provenance {
            onnxruntime: settings.runtime.version().to_string(),
            openvino_plugin: settings.runtime.openvino().ok().map(|p| p.version.clone()),
            precision: session.precision,
        }
    }

    /// e.g. `cpu, ONNX Runtime 1.31.1`, or `openvino bf16 (plugin 1.8.1), ONNX Runtime 1.31.1`.
    pub fn label(&self, ep: Ep) -> String {
        match (ep, &self.openvino_plugin) {
            (Ep::OpenVino, Some(plugin)) => format!(
                "openvino {} (plugin {plugin}), ONNX Runtime {}",
                self.precision, self.onnxruntime
            ),
            _ => format!("{ep}, ONNX Runtime {}", self.onnxruntime),
        }
    }
}

/// How to embed: the runtime, its session settings, the batch size and the cache.
pub struct EmbedSettings<'a> {
    pub runtime: &'a Runtime,
    pub session: SessionOptions,
    /// Images per encoder call; `None`: the provider's default.
    pub batch_size: Option<usize>,
    pub cache: Option<&'a EmbeddingCache>,
    /// Encode only this shard's images (and every prompt).
    pub shard: Option<Shard>,
}

/// Everything the score stage needs, and what the run metadata reports.
pub struct Embedded {
    /// In the plan's model order.
    pub models: Vec<ModelEmbeddings>,
    /// Images left out of every model, with the reason.
    pub failures: BTreeMap<usize, String>,
    /// Per dataset image, the sha256 of its bytes (`None` where it could not be read): the
    /// only thing the dev/test split looks at.
    pub content_keys: Vec<Option<ContentKey>>,
    pub warnings: Vec<String>,
    /// The batch size the first opened image encoder used.
    pub batch_size: Option<usize>,
    pub image_seconds: f64,
    pub text_seconds: f64,
    /// Bytes read from the dataset's images, over every model's pass.
    pub image_bytes_read: u64,
}

pub struct ModelEmbeddings {
    /// Per dataset image, held where it did not fail (for this model or another).
    pub images: ImageEmbeddings,
    pub prompts: HashMap<String, Embedding>,
    pub info: ModelRunInfo,
}

/// Embeds every image for every model, checks that each class kept an image, then
/// embeds every model's prompts.
pub fn embed(
    plan: &Plan,
    settings: &EmbedSettings,
    progress: &dyn Progress,
) -> Result<Embedded, SweepError> {
    let paths: Vec<ImageSource> = plan.dataset.images.iter().map(|i| i.source()).collect();
    let mut keys: ContentKeys = vec![None; paths.len()];
    let mut embedded = Embedded {
        models: Vec::new(),
        failures: BTreeMap::new(),
        content_keys: Vec::new(),
        warnings: Vec::new(),
        batch_size: None,
        image_seconds: 0.0,
        text_seconds: 0.0,
        image_bytes_read: 0,
    };
    let timer = Instant::now();
    let memo = settings.cache.map(|cache| {
        (
            KeyMemo::new(cache, &plan.dataset.root),
            key_memo::identities(&paths),
        )
    });
    if let Some((memo, identities)) = &memo {
        for (key, remembered) in keys.iter_mut().zip(memo.recall(identities)) {
            *key = remembered.map(Ok);
        }
    }
    for model in &plan.models {
        let images =
            embed_model_images(model, &paths, &mut keys, settings, &mut embedded, progress)?;
        embedded.models.push(images);
    }
    if let Some((memo, identities)) = &memo {
        let pairs: Vec<_> = identities
            .iter()
            .zip(&keys)
            .filter_map(|(id, key)| Some(((*id)?, *key.as_ref()?.as_ref().ok()?)))
            .collect();
        let writer = settings.shard.map_or("sweep".to_string(), |s| s.writer());
        memo.remember(&writer, &pairs);
    }
    embedded.image_seconds = timer.elapsed().as_secs_f64();
    embedded.content_keys = keys.into_iter().map(|k| k.and_then(Result::ok)).collect();
    for images in &mut embedded.models {
        for &i in embedded.failures.keys() {
            images.images.remove(i);
        }
    }
    if settings.shard.is_none() {
        check_every_class_kept(plan, &embedded.failures)?;
    }
    let timer = Instant::now();
    for (model, embeddings) in plan.models.iter().zip(&mut embedded.models) {
        embeddings.prompts = prompts::embed_prompts(
            model,
            settings,
            &mut embeddings.info,
            &mut embedded.warnings,
        )?;
    }
    embedded.text_seconds = timer.elapsed().as_secs_f64();
    Ok(embedded)
}

fn embed_model_images(
    plan: &ModelPlan,
    paths: &[ImageSource],
    keys: &mut ContentKeys,
    settings: &EmbedSettings,
    embedded: &mut Embedded,
    progress: &dyn Progress,
) -> Result<ModelEmbeddings, SweepError> {
    let model = &plan.model;
    let vision_sha256 = fingerprint(settings.cache, &model.dir.vision_files())?;
    let session = model.session(settings.session);
    let numerics = namespaces::numerics(&session, plugin_version(settings).as_deref());
    let namespace = namespaces::images(
        &vision_sha256,
        &plan.preprocessing,
        &model.io,
        numerics.as_deref(),
    );
    let provenance = Provenance::new(settings, &session);
    let slot = settings.cache.map(|c| (c, namespace.as_str(), &provenance));
    let open = || -> Result<(ImageEncoder, usize), ontosweep_clip::Error> {
        let encoder = ImageEncoder::new(settings.runtime, &model.dir, &model.io, session)?;
        let batch = settings
            .batch_size
            .unwrap_or(default_batch_size(encoder.ep()));
        Ok((encoder, batch))
    };
    // The batch is known once the encoder is open; read ahead by the largest default.
    let read_ahead = settings.batch_size.unwrap_or(default_batch_size(Ep::Cuda));
    let pass = images::embed_images(
        paths,
        keys,
        slot,
        settings.shard,
        &plan.preprocessing,
        images::Encoder::Lazy(Box::new(open)),
        read_ahead,
        &mut embedded.warnings,
        progress,
    )?;
    embedded.image_bytes_read += pass.bytes_read;
    let opened = pass.opened;
    let vision_ep = match &opened {
        Some(o) => {
            embedded.batch_size.get_or_insert(o.batch);
            embedded
                .warnings
                .extend(o.encoder.output_note().map(|n| format!("note: {n}")));
            o.encoder.ep().to_string()
        }
        None => "cache".to_string(), // the vision tower was never loaded
    };
    let mut info = ModelRunInfo {
        id: model.id.clone(),
        directory: model.dir.root().display().to_string(),
        vision_sha256,
        text_sha256: fingerprint(settings.cache, &model.dir.text_files())?,
        vision_ep,
        precision: session.precision.to_string(),
        vision_cached_from: pass.cached_from,
        ..Default::default()
    };
    count_outcomes(pass.outcomes, &mut info, &mut embedded.failures);
    Ok(ModelEmbeddings {
        images: pass.store,
        prompts: HashMap::new(),
        info,
    })
}

/// Counts what came from the cache and what was encoded, and records each failure's reason.
fn count_outcomes(
    outcomes: Vec<Outcome>,
    info: &mut ModelRunInfo,
    failures: &mut BTreeMap<usize, String>,
) {
    for (i, outcome) in outcomes.into_iter().enumerate() {
        match outcome {
            Outcome::Kept { from_cache: true } => info.images_from_cache += 1,
            Outcome::Kept { from_cache: false } => info.images_encoded += 1,
            Outcome::Failed(reason) => {
                failures.entry(i).or_insert(reason);
            }
            Outcome::OtherShard => {}
        }
    }
}

/// Adds what computed a cached embedding to `origins` (sorted, each once); entries from
/// before origins were kept say so.
pub(crate) fn note_origin(origins: &mut Vec<String>, origin: Option<String>) {
    let origin = origin.unwrap_or_else(|| "an earlier version of ontosweep".into());
    if !origins.contains(&origin) {
        origins.push(origin);
        origins.sort();
    }
}

/// A class whose every image failed cannot be scored: say which files and why.
fn check_every_class_kept(
    plan: &Plan,
    failures: &BTreeMap<usize, String>,
) -> Result<(), SweepError> {
    let images = &plan.dataset.images;
    for (label, class) in plan.dataset.classes.iter().enumerate() {
        let kept =
            (0..images.len()).any(|i| images[i].label == label && !failures.contains_key(&i));
        if !kept {
            let reasons: Vec<String> = failures
                .iter()
                .filter(|(i, _)| images[**i].label == label)
                .map(|(i, r)| format!("  {}: {r}", images[*i].relative))
                .collect();
            return Err(SweepError::Samples(format!(
                "class `{class}` has no image that could be read; every file failed:\n{}",
                reasons.join("\n")
            )));
        }
    }
    Ok(())
}

/// A model identity, remembered by the cache when there is one.
pub(crate) fn fingerprint(
    cache: Option<&EmbeddingCache>,
    files: &[PathBuf],
) -> Result<String, ontosweep_clip::Error> {
    match cache {
        Some(cache) => cache.fingerprint(files),
        None => ontosweep_clip::fingerprint(files),
    }
}
