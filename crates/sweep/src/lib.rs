//! Experiments: the YAML file, the dataset it names, and the sweep over them as a pipeline
//! of stages — [`plan`] (what to compute), [`embed`] (images and prompts through the
//! embedding cache), [`score`] (pure: zero-shot scores, metrics, comparisons) and
//! `assemble` (results and run metadata) — composed by [`sweep()`].
//!
//! Produces [`ontosweep_results::SweepResults`] and nothing else: no terminal output (progress
//! goes through [`Progress`]), no report files.

pub mod archives;
mod assemble;
mod benchmark;
mod dry_run;
pub mod embed;
mod error;
mod load;
mod ontology_plan;
mod options;
pub mod plan;
mod prompt_checks;
pub mod score;
mod setup;
pub mod shard;
mod shard_check;
mod shard_run;
mod sweep;

pub use dry_run::{DryRun, dry_run};
pub use embed::{EmbeddingCache, ImageOutcome, ModelForecast, embed_files};
pub use error::SweepError;
pub use load::{dataset_to_fetch, load_dataset};
pub use ontosweep_dataset::{self as dataset, webdataset};
pub use ontosweep_experiment::{self as config, ConfigErrors, Diagnostic, Experiment, Position};
pub use ontosweep_models::{
    ModelFile, ModelSource, ModelSpec, Progress, ResolvedModel, Silent, resolve, resolve_argument,
};
pub use ontosweep_search as search;
pub use ontosweep_stats::{self as stats, metrics};
pub use options::{SweepOptions, default_batch_size};
pub use shard_run::encode_shard;
pub use sweep::{SweepOutcome, sweep};
