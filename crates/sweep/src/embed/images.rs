//! Image embeddings with the cache in front. Each file is read once per pass: the same bytes
//! are hashed (the cache key) and, when the cache misses, decoded. Reading and decoding run
//! in parallel on one group of files while the encoder works on the previous batch.

use std::collections::BTreeMap;
use std::path::PathBuf;

use crossbeam_channel::bounded;
use ontosweep_clip::{Embedding, ImageEncoder, Preprocessing};
use ontosweep_dataset::{ImageList, ImageSource};
use ontosweep_models::Progress;
use rayon::prelude::*;

use super::Provenance;
use super::cache::{EmbeddingCache, to_entry_bytes};
use super::content_key::ContentKey;
use super::key_store::KeyStore;
use super::packs::PackWriter;
use super::store::ImageEmbeddings;
use crate::score::zero_shot::unusable;
use crate::shard::{Shard, ShardExt};

/// What became of one image.
pub enum ImageOutcome {
    Embedded {
        embedding: Embedding,
        from_cache: bool,
        /// For a cache hit: what computed it, when the entry says.
        origin: Option<String>,
    },
    Failed(String),
    /// Read and hashed, but another shard encodes it.
    OtherShard,
}

/// Where a pass finds its images, a group at a time: a dataset's list (on disk) or paths
/// in memory.
pub trait Sources: Sync {
    fn count(&self) -> usize;
    /// Images `start .. end`.
    fn sources(&self, start: usize, end: usize) -> std::io::Result<Vec<ImageSource>>;
}

impl Sources for Vec<ImageSource> {
    fn count(&self) -> usize {
        self.len()
    }

    fn sources(&self, start: usize, end: usize) -> std::io::Result<Vec<ImageSource>> {
        Ok(self[start.min(self.len())..end.min(self.len())].to_vec())
    }
}

impl Sources for ImageList {
    fn count(&self) -> usize {
        self.len()
    }

    fn sources(&self, start: usize, end: usize) -> std::io::Result<Vec<ImageSource>> {
        Ok(self.range(start, end)?.iter().map(|i| i.source()).collect())
    }
}

/// A file's content key, or why it could not be read.
pub type KeyOrError = Result<ContentKey, String>;

/// A cache, the namespace of one model's image embeddings in it, and what new entries
/// record as having computed them.
pub type CacheSlot<'a> = Option<(&'a EmbeddingCache, &'a str, &'a Provenance)>;

/// Files read and decoded together: enough to keep the cores busy, few enough to keep
/// memory flat.
const GROUP: usize = 32;

/// The image encoder: open already, or opened at the first cache miss (a warm sweep never
/// loads the vision tower).
pub enum Encoder<'e> {
    Open {
        encoder: &'e mut ImageEncoder,
        batch: usize,
    },
    Lazy(Box<dyn FnOnce() -> Result<(ImageEncoder, usize), ontosweep_clip::Error> + 'e>),
}

/// One image as it leaves the reading stage.
enum Prepared {
    Done(ImageOutcome),
    Pixels(Vec<f32>),
}

struct Group {
    /// (image, its content key when known, what to do with it).
    items: Vec<(usize, Option<ContentKey>, Prepared)>,
    /// Keys learned in this group: (image, key or read error).
    keys: Vec<(usize, KeyOrError)>,
    /// Bytes read from the dataset for this group.
    bytes_read: u64,
}

/// What became of one image in a pass; its embedding, if any, is in the pass's store.
pub enum Outcome {
    Kept { from_cache: bool },
    Failed(String),
    OtherShard,
}

/// What one pass over the images gave.
pub struct Pass {
    pub from_cache: usize,
    pub encoded: usize,
    /// The images that failed, with the reason.
    pub failures: BTreeMap<usize, String>,
    /// Every kept embedding, by dataset image.
    pub store: ImageEmbeddings,
    /// What computed the embeddings taken from the cache, each once, sorted.
    pub cached_from: Vec<String>,
    pub opened: Option<OpenedEncoder>,
    /// Bytes read from the dataset (none for an image whose key was known and cached).
    pub bytes_read: u64,
}

/// Embeds every file in `paths`, filling `keys` as files are read and writing new
/// embeddings to `cache`. Up to `read_ahead` images are read and decoded while the encoder
/// works (a batch's worth keeps both busy). Returns one outcome per file, and the opened
/// encoder if any.
#[allow(clippy::too_many_arguments)]
pub fn embed_images(
    paths: &dyn Sources,
    keys: &KeyStore,
    cache: CacheSlot,
    shard: Option<Shard>,
    preprocessing: &Preprocessing,
    encoder: Encoder,
    read_ahead: usize,
    warnings: &mut Vec<String>,
    progress: &dyn Progress,
) -> Result<Pass, ontosweep_clip::Error> {
    let n = paths.count();
    progress.start("reading and encoding images", n);
    // A shard packs its entries: a handful of files, not one per image.
    let packer = shard
        .zip(cache)
        .and_then(|(s, (c, ns, _))| c.pack_writer(ns, &s.writer()));
    let mut sink = Sink::new(n, encoder, cache, packer, warnings);
    let bytes_read = std::thread::scope(|scope| -> Result<_, ontosweep_clip::Error> {
        let (sender, receiver) = bounded(read_ahead.div_ceil(GROUP).max(1));
        scope.spawn(move || {
            for start in (0..n).step_by(GROUP) {
                let group = read_group(
                    start..(start + GROUP).min(n),
                    paths,
                    keys,
                    cache,
                    shard,
                    preprocessing,
                );
                let stop = group.is_err();
                if sender.send(group).is_err() || stop {
                    return; // the encoder stopped on an error
                }
            }
        });
        let mut bytes_read = 0;
        for group in receiver {
            let group = group.map_err(storage_error)?;
            for (i, key) in group.keys {
                keys.learn(i, key).map_err(storage_error)?;
            }
            bytes_read += group.bytes_read;
            sink.take(group.items, progress)?;
        }
        sink.flush(progress)?;
        sink.seal(progress);
        Ok(bytes_read)
    })?;
    progress.finish();
    sink.finish(bytes_read)
}

/// The sweep's image pipeline (read, hash, decode, encode) on `paths` with an open
/// encoder and no cache: what `throughput` and the benchmarks time.
pub fn embed_files(
    encoder: &mut ImageEncoder,
    paths: &[PathBuf],
    batch: usize,
    progress: &dyn Progress,
) -> Result<Vec<ImageOutcome>, ontosweep_clip::Error> {
    let paths: Vec<ImageSource> = paths.iter().map(|p| ImageSource::file(p)).collect();
    let preprocessing = encoder.preprocessing().clone();
    let keys = KeyStore::new(paths.len()).map_err(storage_error)?;
    let mut warnings = Vec::new();
    let encoder = Encoder::Open { encoder, batch };
    let pass = embed_images(
        &paths,
        &keys,
        None,
        None,
        &preprocessing,
        encoder,
        batch,
        &mut warnings,
        progress,
    )?;
    let mut failures = pass.failures;
    (0..paths.len())
        .map(|i| {
            Ok(match failures.remove(&i) {
                Some(reason) => ImageOutcome::Failed(reason),
                None => ImageOutcome::Embedded {
                    embedding: pass.store.read(&[i]).map_err(storage_error)?.remove(0),
                    from_cache: false,
                    origin: None,
                },
            })
        })
        .collect()
}

/// The temporary file holding the pass's embeddings failed: nothing can be scored.
pub fn storage_error(e: std::io::Error) -> ontosweep_clip::Error {
    ontosweep_clip::Error::Image {
        path: std::env::temp_dir(),
        reason: format!(
            "could not keep image embeddings in a temporary file here: {e}; free some space or set TMPDIR to a folder with room"
        ),
    }
}

/// Reads, hashes, looks up and decodes one group of files in parallel.
fn read_group(
    chunk: std::ops::Range<usize>,
    paths: &dyn Sources,
    keys: &KeyStore,
    cache: CacheSlot,
    shard: Option<Shard>,
    preprocessing: &Preprocessing,
) -> std::io::Result<Group> {
    let start = chunk.start;
    let sources = paths.sources(chunk.start, chunk.end)?;
    let known = keys.keys(chunk.start, chunk.end)?;
    let results: Vec<(usize, Option<KeyOrError>, Prepared, u64)> = sources
        .par_iter()
        .zip(known.par_iter())
        .enumerate()
        .map(|(k, (source, known))| {
            let (learned, prepared, read) =
                prepare(source, known.as_ref(), cache, shard, preprocessing);
            (start + k, learned, prepared, read)
        })
        .collect();
    let mut group = Group {
        items: Vec::with_capacity(results.len()),
        keys: Vec::new(),
        bytes_read: 0,
    };
    for (i, learned, prepared, read) in results {
        group.bytes_read += read;
        let key = learned
            .as_ref()
            .or(known[i - start].as_ref())
            .and_then(|k| k.as_ref().ok())
            .copied();
        if let Some(learned) = learned {
            group.keys.push((i, learned));
        }
        group.items.push((i, key, prepared));
    }
    Ok(group)
}

/// One file: its key (when learned now), what to do with it, and the bytes read.
fn prepare(
    source: &ImageSource,
    known: Option<&KeyOrError>,
    cache: CacheSlot,
    shard: Option<Shard>,
    preprocessing: &Preprocessing,
) -> (Option<KeyOrError>, Prepared, u64) {
    let read = std::cell::Cell::new(0u64);
    let counted = || {
        let bytes = source.read();
        if let Ok(b) = &bytes {
            read.set(b.len() as u64);
        }
        bytes
    };
    let (learned, prepared) = prepare_counted(source, known, cache, shard, preprocessing, counted);
    (learned, prepared, read.get())
}

fn prepare_counted(
    source: &ImageSource,
    known: Option<&KeyOrError>,
    cache: CacheSlot,
    shard: Option<Shard>,
    preprocessing: &Preprocessing,
    read: impl Fn() -> Result<Vec<u8>, ontosweep_clip::Error>,
) -> (Option<KeyOrError>, Prepared) {
    let path = source.path.as_path();
    let failed = |reason: String| Prepared::Done(ImageOutcome::Failed(reason));
    let elsewhere = |key: &ContentKey| shard.is_some_and(|s| !s.owns(key.prefix()));
    let cached = |key: &ContentKey| {
        cache
            .and_then(|(c, ns, _)| c.get_with_origin(ns, &key.hex()))
            .filter(|(e, _)| unusable(e).is_none())
            .map(|(embedding, origin)| {
                Prepared::Done(ImageOutcome::Embedded {
                    embedding,
                    from_cache: true,
                    origin,
                })
            })
    };
    let decode = |bytes: &[u8]| match preprocessing.tensor_from_bytes(bytes, path) {
        Ok(pixels) => Prepared::Pixels(pixels),
        Err(e) => failed(image_reason(&e)),
    };
    match known {
        Some(Err(reason)) => (None, failed(reason.clone())),
        Some(Ok(key)) if elsewhere(key) => (None, Prepared::Done(ImageOutcome::OtherShard)),
        Some(Ok(key)) => match cached(key) {
            Some(hit) => (None, hit),
            None => match read() {
                // Another model's pass hashed it: the bytes must still be those.
                Ok(bytes) if ContentKey::of(&bytes) == *key => (None, decode(&bytes)),
                Ok(_) => (
                    None,
                    failed("the file changed during the sweep; run it again".into()),
                ),
                Err(e) => (None, failed(image_reason(&e))),
            },
        },
        None => match read() {
            Err(e) => {
                let reason = image_reason(&e);
                (Some(Err(reason.clone())), failed(reason))
            }
            Ok(bytes) => {
                let key = ContentKey::of(&bytes);
                let prepared = if elsewhere(&key) {
                    Prepared::Done(ImageOutcome::OtherShard)
                } else {
                    cached(&key).unwrap_or_else(|| decode(&bytes))
                };
                (Some(Ok(key)), prepared)
            }
        },
    }
}

/// The reason alone: the path is listed next to it in `skipped.csv`.
fn image_reason(error: &ontosweep_clip::Error) -> String {
    match error {
        ontosweep_clip::Error::Image { reason, .. } => reason.clone(),
        other => other.to_string(),
    }
}

/// An encoder this pass opened, returned so the caller can report its provider and batch.
pub struct OpenedEncoder {
    pub encoder: ImageEncoder,
    pub batch: usize,
}

/// The encoding end: collects decoded images into batches of the encoder's size, in
/// order, so batches do not depend on thread counts; writes each batch to the cache.
struct Sink<'e, 'c, 'w> {
    /// Per image: whether its outcome is known.
    decided: Vec<bool>,
    from_cache: usize,
    encoded: usize,
    failures: BTreeMap<usize, String>,
    store: ImageEmbeddings,
    cached_from: Vec<String>,
    /// The first failure to keep an embedding: the pass fails with it.
    store_error: Option<std::io::Error>,
    pending: Vec<(usize, Option<ContentKey>)>,
    pixels: Vec<f32>,
    ready: Option<(&'e mut ImageEncoder, usize)>,
    lazy: Option<OpenEncoder<'e>>,
    opened: Option<OpenedEncoder>,
    cache: CacheSlot<'c>,
    /// Set for a shard: new entries go into packs.
    packer: Option<PackWriter>,
    warnings: &'w mut Vec<String>,
}

type OpenEncoder<'e> =
    Box<dyn FnOnce() -> Result<(ImageEncoder, usize), ontosweep_clip::Error> + 'e>;

impl<'e, 'c, 'w> Sink<'e, 'c, 'w> {
    fn new(
        n: usize,
        encoder: Encoder<'e>,
        cache: CacheSlot<'c>,
        packer: Option<PackWriter>,
        warnings: &'w mut Vec<String>,
    ) -> Self {
        let (ready, lazy) = match encoder {
            Encoder::Open { encoder, batch } => (Some((encoder, batch.max(1))), None),
            Encoder::Lazy(open) => (None, Some(open)),
        };
        Self {
            decided: vec![false; n],
            from_cache: 0,
            encoded: 0,
            failures: BTreeMap::new(),
            store: ImageEmbeddings::new(n),
            cached_from: Vec::new(),
            store_error: None,
            pending: Vec::new(),
            pixels: Vec::new(),
            ready,
            lazy,
            opened: None,
            cache,
            packer,
            warnings,
        }
    }

    fn take(
        &mut self,
        items: Vec<(usize, Option<ContentKey>, Prepared)>,
        progress: &dyn Progress,
    ) -> Result<(), ontosweep_clip::Error> {
        for (i, key, prepared) in items {
            match prepared {
                Prepared::Done(outcome) => {
                    let outcome = match outcome {
                        ImageOutcome::Embedded {
                            embedding,
                            from_cache,
                            origin,
                        } => {
                            if from_cache {
                                super::note_origin(&mut self.cached_from, origin);
                            }
                            self.keep(i, &embedding, from_cache)
                        }
                        ImageOutcome::Failed(reason) => Outcome::Failed(reason),
                        ImageOutcome::OtherShard => Outcome::OtherShard,
                    };
                    self.record(i, outcome);
                    progress.advance(1);
                }
                Prepared::Pixels(pixels) => {
                    self.pending.push((i, key));
                    self.pixels.extend(pixels);
                    if self.pending.len() >= self.encoder()?.1 {
                        self.flush(progress)?;
                    }
                }
            }
        }
        Ok(())
    }

    /// The encoder and its batch size, opening it at the first use.
    fn encoder(&mut self) -> Result<(&mut ImageEncoder, usize), ontosweep_clip::Error> {
        if let Some(open) = self.lazy.take() {
            let (encoder, batch) = open()?;
            self.opened = Some(OpenedEncoder {
                encoder,
                batch: batch.max(1),
            });
        }
        match (&mut self.ready, &mut self.opened) {
            (Some((encoder, batch)), _) => Ok((&mut **encoder, *batch)),
            (None, Some(opened)) => Ok((&mut opened.encoder, opened.batch)),
            (None, None) => unreachable!("an encoder is given or opened"),
        }
    }

    fn flush(&mut self, progress: &dyn Progress) -> Result<(), ontosweep_clip::Error> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let pixels = std::mem::take(&mut self.pixels);
        let pending = std::mem::take(&mut self.pending);
        let cache = self.cache;
        let (encoder, _) = self.encoder()?;
        let origin = cache.map(|(_, _, provenance)| provenance.label(encoder.ep()));
        let embeddings = encoder.encode_batch(pixels)?;
        for ((i, key), embedding) in pending.iter().zip(embeddings) {
            if let Some(reason) = unusable(&embedding) {
                self.record(*i, Outcome::Failed(reason.into()));
                continue;
            }
            // Written at once (a shard: packed, a pack at a time), so an interrupted sweep
            // keeps every finished batch.
            if let (Some((cache, ns, _)), Some(key), Some(origin)) = (self.cache, key, &origin) {
                let key = key.hex();
                let stored = match &mut self.packer {
                    Some(packer) => packer.add(&key, &to_entry_bytes(&embedding, origin)),
                    None => cache
                        .put_with_origin(ns, &key, &embedding, origin)
                        .map(|()| 1),
                };
                match stored {
                    Ok(written) => {
                        progress.cached(written as usize);
                        if written > 0 {
                            super::fault::after_cache_write();
                        }
                    }
                    Err(e) => self
                        .warnings
                        .push(format!("warning: could not write the embedding cache: {e}")),
                }
            }
            let kept = self.keep(*i, &embedding, false);
            self.record(*i, kept);
        }
        progress.advance(pending.len());
        Ok(())
    }

    /// Writes the last pack, if packing.
    fn seal(&mut self, progress: &dyn Progress) {
        let Some(packer) = &mut self.packer else {
            return;
        };
        match packer.flush() {
            Ok(written) => progress.cached(written as usize),
            Err(e) => self
                .warnings
                .push(format!("warning: could not write the embedding cache: {e}")),
        }
    }

    /// Puts an embedding in the store; the first failure to is kept for the pass's end.
    fn keep(&mut self, i: usize, embedding: &[f32], from_cache: bool) -> Outcome {
        if let Err(e) = self.store.put(i, embedding) {
            self.store_error.get_or_insert(e);
        }
        Outcome::Kept { from_cache }
    }

    /// Counts what became of image `i`.
    fn record(&mut self, i: usize, outcome: Outcome) {
        self.decided[i] = true;
        match outcome {
            Outcome::Kept { from_cache: true } => self.from_cache += 1,
            Outcome::Kept { from_cache: false } => self.encoded += 1,
            Outcome::Failed(reason) => {
                self.failures.insert(i, reason);
            }
            Outcome::OtherShard => {}
        }
    }

    fn finish(mut self, bytes_read: u64) -> Result<Pass, ontosweep_clip::Error> {
        if let Some(e) = self.store_error {
            return Err(storage_error(e));
        }
        for (i, decided) in self.decided.iter().enumerate() {
            if !decided {
                self.failures.insert(i, "not encoded".into());
            }
        }
        Ok(Pass {
            from_cache: self.from_cache,
            encoded: self.encoded,
            failures: self.failures,
            store: self.store,
            cached_from: self.cached_from,
            opened: self.opened,
            bytes_read,
        })
    }
}
