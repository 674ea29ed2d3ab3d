//! What can go wrong writing a report, each error naming the file.

use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    // `cause`, not `source`: the message carries it, and a chain would say it twice.
    #[error("{path}: {cause}")]
    Io {
        path: PathBuf,
        cause: std::io::Error,
    },
    #[error("{path}: {message}")]
    Chart { path: PathBuf, message: String },
    #[error("{path}: {cause}")]
    Csv { path: PathBuf, cause: csv::Error },
    #[error("{path}: {message}")]
    Yaml { path: PathBuf, message: String },
    /// The folder is not one ontosweep may replace; nothing was touched.
    #[error("{path} {why}")]
    NotOurs { path: PathBuf, why: String },
}

pub(crate) fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> ReportError + '_ {
    move |cause| ReportError::Io {
        path: path.to_path_buf(),
        cause,
    }
}

impl From<ontosweep_charts::ChartError> for ReportError {
    fn from(e: ontosweep_charts::ChartError) -> Self {
        ReportError::Chart {
            path: e.path,
            message: e.message,
        }
    }
}
