//! The embed stage: every image and every distinct prompt, once per model, through one
//! embedding cache. An image that fails for any model is left out of all, so every
//! comparison is on the same images.

mod cache;
mod content_key;
mod fault;
mod forecast;
mod images;
mod key_memo;
mod key_store;
mod namespaces;
mod packs;
mod prompts;
mod store;

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::time::Instant;

use ontosweep_clip::{Embedding, Ep, ImageEncoder, Precision, Runtime, SessionOptions};
use ontosweep_results::ModelRunInfo;

use crate::error::SweepError;
use crate::options::default_batch_size;
use crate::plan::{ModelPlan, Plan};
use crate::shard::{Shard, ShardExt};
use ontosweep_models::Progress;

pub use cache::EmbeddingCache;
pub use content_key::ContentKey;
pub use forecast::{Forecast, ModelForecast, forecast};
pub(crate) use images::storage_error;
pub use images::{ImageOutcome, embed_files};
use key_memo::KeyMemo;
pub use key_store::KeyStore;
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
    /// Per dataset image, the sha256 of its bytes (none where it could not be read): the
    /// only thing the dev/test split looks at.
    pub content_keys: KeyStore,
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

/// Images whose identities are looked up in the remembered keys at a time.
const WINDOW: usize = 1 << 16;

/// Embeds every image for every model, checks that each class kept an image, then
/// embeds every model's prompts. Images are read from the dataset's list a group at a time
/// and their keys kept on disk, so memory does not grow with the images.
pub fn embed(
    plan: &Plan,
    settings: &EmbedSettings,
    progress: &dyn Progress,
) -> Result<Embedded, SweepError> {
    let images = &plan.dataset.images;
    let keys = KeyStore::new(images.len()).map_err(storage_error)?;
    let timer = Instant::now();
    let memo = settings
        .cache
        .map(|cache| KeyMemo::new(cache, &plan.dataset.root));
    if let Some(memo) = &memo {
        recall_keys(memo, images, &keys).map_err(storage_error)?;
    }
    let mut embedded = Embedded {
        models: Vec::new(),
        failures: BTreeMap::new(),
        content_keys: keys,
        warnings: Vec::new(),
        batch_size: None,
        image_seconds: 0.0,
        text_seconds: 0.0,
        image_bytes_read: 0,
    };
    for model in &plan.models {
        let images = embed_model_images(model, images, settings, &mut embedded, progress)?;
        embedded.models.push(images);
    }
    if let Some(memo) = &memo {
        let writer = settings.shard.map_or("sweep".to_string(), |s| s.writer());
        remember_keys(memo, &writer, &embedded.content_keys).map_err(storage_error)?;
    }
    embedded.image_seconds = timer.elapsed().as_secs_f64();
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

/// Each image's identity, taken before any byte is read, and its remembered key when the
/// identity is the one it was hashed under; a window of images at a time.
fn recall_keys(
    memo: &KeyMemo,
    images: &ontosweep_dataset::ImageList,
    keys: &KeyStore,
) -> std::io::Result<()> {
    for start in (0..images.len()).step_by(WINDOW) {
        let sources: Vec<_> = images
            .range(start, start + WINDOW)?
            .iter()
            .map(|i| i.source())
            .collect();
        let identities: Vec<(usize, key_memo::Identity)> = key_memo::identities(&sources)
            .into_iter()
            .enumerate()
            .filter_map(|(k, id)| Some((start + k, id?)))
            .collect();
        for (i, identity) in &identities {
            keys.identify(*i, identity)?;
        }
        memo.recall(&identities, keys)?;
    }
    Ok(())
}

/// Writes `writer`'s memo: every (identity, key) this pass knows.
fn remember_keys(memo: &KeyMemo, writer: &str, keys: &KeyStore) -> std::io::Result<()> {
    let Some(mut out) = memo.writer(writer) else {
        return Ok(());
    };
    for start in (0..keys.len()).step_by(WINDOW) {
        if !out.add(&keys.pairs(start, start + WINDOW)?) {
            return Ok(());
        }
    }
    out.finish();
    Ok(())
}

fn embed_model_images(
    plan: &ModelPlan,
    images: &ontosweep_dataset::ImageList,
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
        images,
        &embedded.content_keys,
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
    let info = ModelRunInfo {
        id: model.id.clone(),
        directory: model.dir.root().display().to_string(),
        vision_sha256,
        text_sha256: fingerprint(settings.cache, &model.dir.text_files())?,
        vision_ep,
        precision: session.precision.to_string(),
        vision_cached_from: pass.cached_from,
        images_from_cache: pass.from_cache,
        images_encoded: pass.encoded,
        ..Default::default()
    };
    for (i, reason) in pass.failures {
        embedded.failures.entry(i).or_insert(reason);
    }
    Ok(ModelEmbeddings {
        images: pass.store,
        prompts: HashMap::new(),
        info,
    })
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
    let mut kept = vec![false; plan.dataset.classes.len()];
    for (i, label) in images.labels().enumerate() {
        kept[label] |= !failures.contains_key(&i);
    }
    for (label, class) in plan.dataset.classes.iter().enumerate() {
        if !kept[label] {
            let mut reasons = Vec::new();
            for (&i, reason) in failures.iter().filter(|(i, _)| images.label(**i) == label) {
                let image = images.get(i).map_err(storage_error)?;
                reasons.push(format!("  {}: {reason}", image.relative));
            }
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
