//! What can stop a sweep.

use ontosweep_experiment::ConfigErrors;

#[derive(Debug, thiserror::Error)]
pub enum SweepError {
    #[error(transparent)]
    Config(#[from] ConfigErrors),
    #[error("{0}")]
    Dataset(String),
    #[error("{0}")]
    Model(String),
    #[error("{0}")]
    Cache(String),
    #[error("{0}")]
    Shard(String),
    #[error(transparent)]
    Clip(#[from] ontosweep_clip::Error),
}
