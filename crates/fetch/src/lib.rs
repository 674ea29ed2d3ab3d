//! Downloads that never lose work and never accept the wrong bytes: resumable (HTTP
//! Range), retried with backoff, written to a `.part` file and renamed only once the size
//! and sha256 match; and archive extraction that refuses paths escaping the target.
//!
//! Knows nothing of experiments or models: it fetches URLs into files.

mod archive;
mod download;

pub use archive::extract_tar_gz;
pub use download::{Expected, FetchError, Fetcher, Progress, sha256_file};
