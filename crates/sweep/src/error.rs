//! What can stop a sweep, by kind, so that a caller can act on the difference.

use ontosweep_dataset::DatasetError;
use ontosweep_experiment::ConfigErrors;

#[derive(Debug, thiserror::Error)]
pub enum SweepError {
    /// The experiment file's problems, each located by file, line and column.
    #[error(transparent)]
    Config(#[from] ConfigErrors),
    /// The dataset cannot be read as declared; its kind says why.
    #[error(transparent)]
    Dataset(#[from] DatasetError),
    /// What became of the samples stops the run: none could be scored, a class lost every
    /// image, a side of the split is empty.
    #[error("{0}")]
    Samples(String),
    #[error("{0}")]
    Model(String),
    #[error("{0}")]
    Cache(String),
    #[error("{0}")]
    Shard(String),
    #[error(transparent)]
    Clip(#[from] ontosweep_clip::Error),
}
