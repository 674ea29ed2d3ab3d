//! What the embed stage would compute, counted without computing it (`sweep --dry-run`):
//! per model, the image and prompt embeddings the cache holds and those it lacks. Each image
//! is read once, to hash it; no session is opened and nothing is written.

use rayon::prelude::*;

use ontosweep_models::Progress;

use super::cache::content_key;
use super::prompts::prompt_key;
use super::{EmbedSettings, fingerprint, namespaces, plugin_version};
use crate::error::SweepError;
use crate::plan::Plan;

/// One model's share of the work.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelForecast {
    pub id: String,
    pub images_cached: usize,
    pub images_to_encode: usize,
    pub prompts_cached: usize,
    pub prompts_to_encode: usize,
}

/// The work per model, and the images no model could read (a sweep skips them).
pub struct Forecast {
    pub models: Vec<ModelForecast>,
    /// (image, why it cannot be read).
    pub unreadable: Vec<(usize, String)>,
}

pub fn forecast(
    plan: &Plan,
    settings: &EmbedSettings,
    progress: &dyn Progress,
) -> Result<Forecast, SweepError> {
    let images = &plan.dataset.images;
    progress.start("reading images", images.len());
    let mut keys: Vec<Result<String, String>> = Vec::with_capacity(images.len());
    for chunk in images.chunks() {
        let (_, chunk) = chunk.map_err(crate::embed::storage_error)?;
        keys.par_extend(chunk.par_iter().map(|image| {
            let key = image
                .source()
                .read()
                .map(|bytes: Vec<u8>| content_key(&bytes));
            progress.advance(1);
            key.map_err(|e| e.to_string())
        }));
    }
    progress.finish();
    let readable: Vec<&str> = keys.iter().filter_map(|k| k.as_deref().ok()).collect();
    let holds =
        |namespace: &str, key: &str| settings.cache.is_some_and(|c| c.holds(namespace, key));
    let mut models = Vec::with_capacity(plan.models.len());
    for model in &plan.models {
        let resolved = &model.model;
        let session = resolved.session(settings.session);
        let numerics = namespaces::numerics(&session, plugin_version(settings).as_deref());
        let vision = fingerprint(settings.cache, &resolved.dir.vision_files())?;
        let images_ns = namespaces::images(
            &vision,
            &model.preprocessing,
            &resolved.io,
            numerics.as_deref(),
        );
        let text = fingerprint(settings.cache, &resolved.dir.text_files())?;
        let prompts_ns = namespaces::prompts(&text, &resolved.io, numerics.as_deref());
        let images_cached = readable.iter().filter(|k| holds(&images_ns, k)).count();
        let prompts_cached = model
            .prompts
            .iter()
            .filter(|(_, tokens)| holds(&prompts_ns, &prompt_key(tokens)))
            .count();
        models.push(ModelForecast {
            id: resolved.id.clone(),
            images_cached,
            images_to_encode: readable.len() - images_cached,
            prompts_cached,
            prompts_to_encode: model.prompts.len() - prompts_cached,
        });
    }
    let unreadable = keys
        .into_iter()
        .enumerate()
        .filter_map(|(i, key)| key.err().map(|reason| (i, reason)))
        .collect();
    Ok(Forecast { models, unreadable })
}
