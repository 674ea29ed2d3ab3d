//! Prompt embeddings: each distinct prompt of the plan once per model, cached by its
//! token ids.

use std::collections::HashMap;

use ontosweep_clip::{Embedding, TextEncoder, Tokens};
use ontosweep_results::ModelRunInfo;

use super::cache::{content_key, to_entry_bytes};
use super::{EmbedSettings, Provenance, namespaces};
use crate::error::SweepError;
use crate::plan::ModelPlan;
use crate::score::zero_shot::unusable;
use crate::shard::ShardExt;

/// Prompts per text-encoder call.
const TEXT_BATCH: usize = 64;

/// Embeddings of `plan`'s prompts, from the cache where it has them; the text tower is
/// loaded only when some are missing.
pub fn embed_prompts(
    plan: &ModelPlan,
    settings: &EmbedSettings,
    info: &mut ModelRunInfo,
    warnings: &mut Vec<String>,
) -> Result<HashMap<String, Embedding>, SweepError> {
    let model = &plan.model;
    let session = model.session(settings.session);
    let numerics = namespaces::numerics(&session, super::plugin_version(settings).as_deref());
    let namespace = namespaces::prompts(&info.text_sha256, &model.io, numerics.as_deref());
    let mut embeddings = HashMap::new();
    let mut missing = Vec::new();
    for (prompt, tokens) in &plan.prompts {
        match settings
            .cache
            .and_then(|c| c.get_with_origin(&namespace, &prompt_key(tokens)))
        {
            Some((e, origin)) => {
                embeddings.insert(prompt.clone(), e);
                info.prompts_from_cache += 1;
                super::note_origin(&mut info.text_cached_from, origin);
            }
            None => missing.push((prompt, tokens)),
        }
    }
    info.text_ep = "cache".into();
    if !missing.is_empty() {
        let mut encoder = TextEncoder::new(settings.runtime, &model.dir, &model.io, session)?;
        info.text_ep = encoder.ep().to_string();
        warnings.extend(encoder.output_note().map(|n| format!("note: {n}")));
        let origin = Provenance::new(settings, &session).label(encoder.ep());
        let tokens: Vec<Tokens> = missing.iter().map(|(_, t)| (*t).clone()).collect();
        let encoded = encoder.encode(&tokens, TEXT_BATCH)?;
        // A shard packs its prompts as it packs its images: a file, not one per prompt.
        let mut packer = settings
            .shard
            .zip(settings.cache)
            .and_then(|(s, c)| c.pack_writer(&namespace, &s.writer()));
        for ((prompt, tokens), embedding) in missing.into_iter().zip(encoded) {
            if let Some(cache) = settings.cache {
                let key = prompt_key(tokens);
                let stored = match &mut packer {
                    Some(packer) => packer
                        .add(&key, &to_entry_bytes(&embedding, &origin))
                        .map(drop),
                    None => cache.put_with_origin(&namespace, &key, &embedding, &origin),
                };
                if let Err(e) = stored {
                    warnings.push(format!("warning: could not write the embedding cache: {e}"));
                }
            }
            embeddings.insert(prompt.clone(), embedding);
            info.prompts_encoded += 1;
        }
        if let Some(Err(e)) = packer.as_mut().map(|p| p.flush()) {
            warnings.push(format!("warning: could not write the embedding cache: {e}"));
        }
    }
    check_usable(&model.id, &plan.prompts, &embeddings)?;
    Ok(embeddings)
}

/// A prompt's cache key: its token ids.
pub fn prompt_key(tokens: &Tokens) -> String {
    content_key(format!("{:?}", tokens.ids).as_bytes())
}

/// A prompt with a NaN, infinite or zero embedding would score every image as class 0.
fn check_usable(
    model: &str,
    prompts: &[(String, Tokens)],
    embeddings: &HashMap<String, Embedding>,
) -> Result<(), SweepError> {
    for (prompt, _) in prompts {
        if let Some(reason) = embeddings.get(prompt).and_then(|e| unusable(e)) {
            return Err(SweepError::Model(format!(
                "model `{model}`: {reason} for the prompt {prompt:?}; no image can be scored against it. Check the model's text tower (e.g. an fp16 export that overflows) or reword the prompt"
            )));
        }
    }
    Ok(())
}
