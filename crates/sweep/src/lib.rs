//! Experiments: the YAML file, the dataset it names, the embedding cache, zero-shot
//! scoring and the statistics that make two wordings comparable.
//!
//! Produces [`ontosweep_results::SweepResults`] and nothing else: no terminal output (progress
//! goes through [`Progress`]), no report files.

mod cache;
pub mod config;
pub mod dataset;
pub mod encode;
mod locate;
pub mod metrics;
mod models;
mod progress;
pub mod provision;
mod run;
pub mod score;
pub mod stats;
mod yaml_bounds;

pub use cache::EmbeddingCache;
pub use config::{ConfigErrors, Diagnostic, Experiment};
pub use locate::Position;
pub use models::{ResolvedModel, resolve};
pub use progress::{Progress, Silent};
pub use run::{SweepError, SweepOptions, SweepOutcome, default_batch_size, load_dataset, run};
