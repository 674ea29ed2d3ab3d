//! Experiments: the YAML file, the dataset it names, and the sweep over them as a pipeline
//! of stages — [`plan`] (what to compute), [`embed`] (images and prompts through the
//! embedding cache), [`score`] (pure: zero-shot scores, metrics, comparisons) and
//! `assemble` (results and run metadata) — composed by [`sweep()`].
//!
//! Produces [`ontosweep_results::SweepResults`] and nothing else: no terminal output (progress
//! goes through [`Progress`]), no report files.

mod assemble;
mod atomic;
mod dry_run;
pub mod embed;
pub mod metrics;
mod models;
pub mod plan;
mod progress;
pub mod provision;
pub mod registry;
pub mod score;
pub mod search;
pub mod shard;
mod shard_check;
pub mod stats;
mod sweep;

pub use dry_run::{DryRun, dry_run};
pub use embed::{EmbeddingCache, ImageOutcome, ModelForecast, embed_files};
pub use models::{ResolvedModel, resolve, resolve_argument};
pub use ontosweep_dataset::{self as dataset, webdataset};
pub use ontosweep_experiment::{self as config, ConfigErrors, Diagnostic, Experiment, Position};
pub use progress::{Progress, Silent};
pub use registry::{ModelFile, ModelSource, ModelSpec};
pub use sweep::{
    SweepError, SweepOptions, SweepOutcome, dataset_to_fetch, default_batch_size, encode_shard,
    load_dataset, sweep,
};
