//! How a sweep runs: where models and the cache are, sessions, batches, the report folder.

use std::path::PathBuf;

use ontosweep_clip::{Ep, SessionOptions};

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

/// Images per encoder call when the user does not say: a GPU wants large batches.
pub fn default_batch_size(ep: Ep) -> usize {
    match ep {
        Ep::Cpu | Ep::OpenVino => 32,
        Ep::Cuda => 256,
    }
}
