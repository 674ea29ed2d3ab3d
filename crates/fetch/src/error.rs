//! Why a download or an extraction failed, each message saying what to do about it.

use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error(
        "could not download {url} after {attempts} attempts: {reason}. If this machine is offline, download the file elsewhere and place it at {target}"
    )]
    Unreachable {
        url: String,
        target: PathBuf,
        attempts: u32,
        reason: String,
    },
    #[error(
        "{url} answered HTTP {status}; check the address (and the revision) or place the file at {target} by hand"
    )]
    Status {
        url: String,
        target: PathBuf,
        status: u16,
    },
    #[error(
        "{target}: downloaded from {url}, but {what}; nothing was kept. Check that this address serves the expected file"
    )]
    Mismatch {
        url: String,
        target: PathBuf,
        what: String,
    },
    #[error(
        "{url} redirects to {location}, which ontosweep does not follow: {reason}. If you trust that address, download the file from it yourself and place it at {target}"
    )]
    Redirect {
        url: String,
        location: String,
        reason: String,
        target: PathBuf,
    },
    #[error(
        "{target} is already there, but {what}; ontosweep replaces only files it downloaded itself: check that file, or move it away and run again"
    )]
    InTheWay { target: PathBuf, what: String },
    #[error("{archive}: {what}")]
    Archive { archive: PathBuf, what: String },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

pub(crate) fn io(path: &Path) -> impl FnOnce(std::io::Error) -> FetchError + '_ {
    move |source| FetchError::Io {
        path: path.to_path_buf(),
        source,
    }
}
