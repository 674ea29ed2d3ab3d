use std::fs::{self, File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use sha2::{Digest, Sha256};

/// What the downloaded file must be; unknown fields are not checked.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Expected {
    pub size: Option<u64>,
    pub sha256: Option<String>,
}

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
        "{target}: downloaded from {url} but {what}; the partial file was removed, so the next try starts afresh"
    )]
    Mismatch {
        url: String,
        target: PathBuf,
        what: String,
    },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> FetchError + '_ {
    move |source| FetchError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Told how a download advances.
pub trait Progress {
    fn begin(&self, url: &str, total: Option<u64>, already: u64);
    fn advance(&self, bytes: u64);
    fn retry(&self, url: &str, attempt: u32, reason: &str);
}

impl Progress for () {
    fn begin(&self, _: &str, _: Option<u64>, _: u64) {}
    fn advance(&self, _: u64) {}
    fn retry(&self, _: &str, _: u32, _: &str) {}
}

pub struct Fetcher {
    agent: ureq::Agent,
    attempts: u32,
    first_backoff: Duration,
}

impl Default for Fetcher {
    fn default() -> Self {
        let agent = ureq::Agent::config_builder()
            .timeout_connect(Some(Duration::from_secs(20)))
            .timeout_recv_body(Some(Duration::from_secs(60)))
            .http_status_as_error(false)
            .build()
            .new_agent();
        Self {
            agent,
            attempts: 5,
            first_backoff: Duration::from_millis(500),
        }
    }
}

enum Attempt {
    Done,
    Retry(String),
}

impl Fetcher {
    /// Tries and the first pause between them (it doubles after each failure).
    pub fn with_retries(attempts: u32, first_backoff: Duration) -> Self {
        Self {
            attempts,
            first_backoff,
            ..Self::default()
        }
    }

    /// Downloads `url` to `target` unless a file matching `expected` is already there.
    /// Returns the sha256 of the file.
    pub fn fetch(
        &self,
        url: &str,
        target: &Path,
        expected: &Expected,
        progress: &dyn Progress,
    ) -> Result<String, FetchError> {
        if target.is_file() && expected.sha256.is_some() {
            let digest = sha256_file(target)?;
            if expected.sha256.as_deref() == Some(digest.as_str()) {
                return Ok(digest);
            }
        }
        if let Some(parent) = target.parent() {
            fs::create_dir_all(parent).map_err(io(parent))?;
        }
        let part = part_path(target);
        let mut backoff = self.first_backoff;
        let mut last = String::new();
        for attempt in 1..=self.attempts.max(1) {
            match self.attempt(url, target, &part, expected, progress)? {
                Attempt::Done => return self.finish(url, target, &part, expected),
                Attempt::Retry(reason) => {
                    if attempt < self.attempts {
                        progress.retry(url, attempt, &reason);
                        std::thread::sleep(backoff);
                        backoff *= 2;
                    }
                    last = reason;
                }
            }
        }
        Err(FetchError::Unreachable {
            url: url.into(),
            target: target.to_path_buf(),
            attempts: self.attempts,
            reason: last,
        })
    }

    /// One request, resuming from what `part` already holds.
    fn attempt(
        &self,
        url: &str,
        target: &Path,
        part: &Path,
        expected: &Expected,
        progress: &dyn Progress,
    ) -> Result<Attempt, FetchError> {
        let have = fs::metadata(part).map(|m| m.len()).unwrap_or(0);
        if expected.size.is_some_and(|size| have >= size) {
            return Ok(Attempt::Done);
        }
        let mut request = self.agent.get(url);
        if have > 0 {
            request = request.header("Range", format!("bytes={have}-"));
        }
        let response = match request.call() {
            Ok(r) => r,
            Err(e) => return Ok(Attempt::Retry(e.to_string())),
        };
        let status = response.status().as_u16();
        let append = match status {
            206 => true,
            200 => false,                    // the server ignored the range: start over
            416 => return Ok(Attempt::Done), // nothing left to send
            429 | 500..=599 => return Ok(Attempt::Retry(format!("HTTP {status}"))),
            _ => {
                return Err(FetchError::Status {
                    url: url.into(),
                    target: target.to_path_buf(),
                    status,
                });
            }
        };
        let total = response
            .headers()
            .get("content-length")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok())
            .map(|len| if append { len + have } else { len });
        progress.begin(url, total.or(expected.size), if append { have } else { 0 });
        let mut file = OpenOptions::new()
            .create(true)
            .write(true)
            .append(append)
            .truncate(!append)
            .open(part)
            .map_err(io(part))?;
        let mut body = response.into_body().into_reader();
        let mut buffer = vec![0u8; 1 << 16];
        loop {
            match body.read(&mut buffer) {
                Ok(0) => break,
                Ok(n) => {
                    file.write_all(&buffer[..n]).map_err(io(part))?;
                    progress.advance(n as u64);
                }
                Err(e) => {
                    file.sync_data().map_err(io(part))?;
                    return Ok(Attempt::Retry(format!("connection lost: {e}")));
                }
            }
        }
        file.sync_data().map_err(io(part))?;
        let now = fs::metadata(part).map(|m| m.len()).unwrap_or(0);
        match total {
            Some(total) if now < total => Ok(Attempt::Retry(format!("got {now} of {total} bytes"))),
            _ => Ok(Attempt::Done),
        }
    }

    fn finish(
        &self,
        url: &str,
        target: &Path,
        part: &Path,
        expected: &Expected,
    ) -> Result<String, FetchError> {
        let mismatch = |what: String| {
            let _ = fs::remove_file(part);
            FetchError::Mismatch {
                url: url.into(),
                target: target.to_path_buf(),
                what,
            }
        };
        let size = fs::metadata(part).map_err(io(part))?.len();
        if let Some(wanted) = expected.size
            && size != wanted
        {
            return Err(mismatch(format!("it has {size} bytes, not {wanted}")));
        }
        let digest = sha256_file(part)?;
        if let Some(wanted) = &expected.sha256
            && *wanted != digest
        {
            return Err(mismatch(format!("its sha256 is {digest}, not {wanted}")));
        }
        fs::rename(part, target).map_err(io(target))?;
        Ok(digest)
    }
}

fn part_path(target: &Path) -> PathBuf {
    let mut name = target.as_os_str().to_owned();
    name.push(".part");
    PathBuf::from(name)
}

pub fn sha256_file(path: &Path) -> Result<String, FetchError> {
    let mut file = File::open(path).map_err(io(path))?;
    let mut hasher = Sha256::new();
    std::io::copy(&mut file, &mut hasher).map_err(io(path))?;
    Ok(hex::encode(hasher.finalize()))
}
