//! Encoding images with the embedding cache in front: content hashes first, then a bounded
//! pipeline where decoding runs in parallel while the encoder works on the previous batch.

use std::path::PathBuf;

use crossbeam_channel::bounded;
use ontosweep_clip::{Embedding, ImageEncoder, Preprocessing};
use rayon::prelude::*;

use crate::cache::{EmbeddingCache, content_key};
use crate::progress::Progress;
use crate::score;

/// What became of one image.
pub enum ImageOutcome {
    Embedded {
        embedding: Embedding,
        from_cache: bool,
    },
    Failed(String),
}

/// Reads and hashes every image (in parallel); returns content keys or read errors.
pub fn content_keys(paths: &[PathBuf]) -> Vec<Result<String, String>> {
    paths
        .par_iter()
        .map(|p| {
            std::fs::read(p)
                .map(|bytes| content_key(&bytes))
                .map_err(|e| format!("cannot read: {e}"))
        })
        .collect()
}

/// Embeds `paths` (whose content keys are `keys`), reading from and writing to `cache`.
pub fn embed_images(
    encoder: &mut ImageEncoder,
    paths: &[PathBuf],
    keys: &[Result<String, String>],
    cache: Option<(&EmbeddingCache, &str)>,
    batch_size: usize,
    progress: &dyn Progress,
) -> Result<Vec<ImageOutcome>, ontosweep_clip::Error> {
    let mut lookup = look_up(keys, cache);
    encode_missing(
        encoder,
        paths,
        keys,
        &mut lookup,
        cache,
        batch_size,
        progress,
    )?;
    Ok(lookup.finish())
}

/// Outcomes known without the encoder, and the images still to encode.
pub struct Lookup {
    outcomes: Vec<Option<ImageOutcome>>,
    pub to_encode: Vec<usize>,
}

impl Lookup {
    pub fn finish(self) -> Vec<ImageOutcome> {
        self.outcomes
            .into_iter()
            .map(|o| o.expect("every image has an outcome"))
            .collect()
    }
}

/// Cache hits and unreadable files; no model needed.
pub fn look_up(keys: &[Result<String, String>], cache: Option<(&EmbeddingCache, &str)>) -> Lookup {
    let mut outcomes: Vec<Option<ImageOutcome>> = (0..keys.len()).map(|_| None).collect();
    let mut to_encode = Vec::new();
    for (i, key) in keys.iter().enumerate() {
        match key {
            Err(reason) => outcomes[i] = Some(ImageOutcome::Failed(reason.clone())),
            Ok(key) => match cache
                .and_then(|(c, ns)| c.get(ns, key))
                .filter(|e| score::unusable(e).is_none())
            {
                Some(embedding) => {
                    outcomes[i] = Some(ImageOutcome::Embedded {
                        embedding,
                        from_cache: true,
                    })
                }
                None => to_encode.push(i),
            },
        }
    }
    Lookup {
        outcomes,
        to_encode,
    }
}

/// Encodes `lookup.to_encode` through a bounded pipeline: decoding runs in parallel while
/// the encoder works on the previous batch. Each finished batch is written to the cache at
/// once, so an interrupted run keeps it.
pub fn encode_missing(
    encoder: &mut ImageEncoder,
    paths: &[PathBuf],
    keys: &[Result<String, String>],
    lookup: &mut Lookup,
    cache: Option<(&EmbeddingCache, &str)>,
    batch_size: usize,
    progress: &dyn Progress,
) -> Result<(), ontosweep_clip::Error> {
    let to_encode = &lookup.to_encode;
    let outcomes = &mut lookup.outcomes;
    progress.start("encoding images", to_encode.len());
    let preprocessing: Preprocessing = encoder.preprocessing().clone();
    let batch_size = batch_size.max(1);
    std::thread::scope(|scope| -> Result<(), ontosweep_clip::Error> {
        // Two batches in flight: one being encoded, one being decoded.
        let (sender, receiver) = bounded::<Vec<(usize, Result<Vec<f32>, String>)>>(1);
        let preprocessing = &preprocessing;
        scope.spawn(move || {
            for chunk in to_encode.chunks(batch_size) {
                let decoded: Vec<_> = chunk
                    .par_iter()
                    .map(|&i| {
                        (
                            i,
                            preprocessing.load(&paths[i]).map_err(|e| image_reason(&e)),
                        )
                    })
                    .collect();
                if sender.send(decoded).is_err() {
                    return; // the encoder stopped on an error
                }
            }
        });
        for decoded in receiver {
            let count = decoded.len();
            let mut indices = Vec::with_capacity(decoded.len());
            let mut pixels = Vec::with_capacity(decoded.len() * preprocessing.tensor_len());
            for (i, result) in decoded {
                match result {
                    Ok(tensor) => {
                        indices.push(i);
                        pixels.extend(tensor);
                    }
                    Err(reason) => outcomes[i] = Some(ImageOutcome::Failed(reason)),
                }
            }
            if !indices.is_empty() {
                let embeddings = encoder.encode_batch(pixels)?;
                for (&i, embedding) in indices.iter().zip(embeddings) {
                    if let Some(reason) = score::unusable(&embedding) {
                        outcomes[i] = Some(ImageOutcome::Failed(reason.into()));
                        continue;
                    }
                    if let (Some((cache, ns)), Ok(key)) = (cache, &keys[i])
                        && let Err(e) = cache.put(ns, key, &embedding)
                    {
                        progress.warn(&format!("could not write the embedding cache: {e}"));
                    }
                    outcomes[i] = Some(ImageOutcome::Embedded {
                        embedding,
                        from_cache: false,
                    });
                }
            }
            progress.advance(count);
        }
        Ok(())
    })?;
    progress.finish();
    Ok(())
}

/// The reason alone: the path is listed next to it in `skipped.csv`.
fn image_reason(error: &ontosweep_clip::Error) -> String {
    match error {
        ontosweep_clip::Error::Image { reason, .. } => reason.clone(),
        other => other.to_string(),
    }
}
