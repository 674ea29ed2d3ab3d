//! Downloads that never lose work and never accept bytes they have not verified: resumed
//! (HTTP Range) only when `Content-Range`, `If-Range` or a known sha256 can vouch for the
//! bytes held, retried with backoff, bounded in size and in silence, written to a `.part`
//! file (never through a symbolic link) and renamed only once the size and sha256 match;
//! redirects followed only where the caller allows; and archive extraction that refuses
//! paths escaping the target, links, special files and archives beyond their bounds.
//!
//! And [`write_atomically`]: a small file written whole or not at all.
//!
//! Knows nothing of experiments or models: it fetches URLs into files.

mod archive;
mod atomic;
mod download;
mod error;
mod part;
mod redirect;

pub use archive::{ArchiveLimits, extract_tar_gz};
pub use atomic::write_atomically;
pub use download::{Expected, Fetched, Fetcher, Progress, Timeouts, sha256_file};
pub use error::FetchError;
pub use redirect::Redirects;
