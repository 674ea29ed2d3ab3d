//! [`Fetcher`]: one URL into one file, resumed only when the held bytes can be vouched for,
//! retried with backoff, bounded in size and in silence, and renamed into place only once
//! its size and sha256 match; a file already in place with the expected sha256 is kept.

use std::fs::{self, File};
use std::io::{Read, Write};
use std::path::Path;
use std::time::Duration;

use sha2::{Digest, Sha256};
use ureq::http::Response;

use crate::error::{FetchError, io};
use crate::part::Part;
use crate::redirect::{self, MAX_HOPS, Redirects};

/// What the downloaded file must be; unknown fields are not checked.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Expected {
    pub size: Option<u64>,
    pub sha256: Option<String>,
}

/// A file downloaded and hashed in full, or found in place with the expected sha256.
#[derive(Debug, Clone, PartialEq)]
pub struct Fetched {
    pub sha256: String,
    pub size: u64,
    /// Headers of the responses that delivered it (names in lower case; along a redirect
    /// chain the first response's value wins). Empty when the file was already in place.
    pub headers: Vec<(String, String)>,
}

impl Fetched {
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// How long a download waits. There is no limit on a whole transfer: a slow one that keeps
/// moving always finishes; a silent one fails after `idle`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Timeouts {
    /// Name lookup, TCP and TLS.
    pub connect: Duration,
    /// From sending the request to the end of the response headers.
    pub response: Duration,
    /// The longest wait for any one read of the body.
    pub idle: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Self {
            connect: Duration::from_secs(30),
            response: Duration::from_secs(60),
            idle: Duration::from_secs(60),
        }
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
    redirects: Redirects,
}

impl Default for Fetcher {
    fn default() -> Self {
        Self::with_retries(5, Duration::from_millis(500))
    }
}

/// The most a download may hold when neither the caller nor the server gives its size.
const MAX_UNKNOWN_SIZE: u64 = 32 << 30;

fn agent(timeouts: &Timeouts) -> ureq::Agent {
    ureq::Agent::config_builder()
        .timeout_connect(Some(timeouts.connect))
        .timeout_send_request(Some(timeouts.response))
        .timeout_recv_response(Some(timeouts.response))
        .timeout_per_read(Some(timeouts.idle))
        .http_status_as_error(false)
        .max_redirects(0) // each hop is checked by `Redirects` first
        .build()
        .new_agent()
}

/// How one try ended, short of an error no retry can mend.
enum Attempt {
    /// The part holds the whole file; these headers came with it.
    Done(Vec<(String, String)>),
    Retry(String),
}

/// A response, and the headers seen on the way to it.
type Answer = (Response<ureq::Body>, Vec<(String, String)>);

impl Fetcher {
    /// Tries and the first pause between them (it doubles after each failure).
    pub fn with_retries(attempts: u32, first_backoff: Duration) -> Self {
        Self {
            agent: agent(&Timeouts::default()),
            attempts,
            first_backoff,
            redirects: Redirects::default(),
        }
    }

    pub fn timeouts(mut self, timeouts: Timeouts) -> Self {
        self.agent = agent(&timeouts);
        self
    }

    /// Where redirects may lead (by default: only the same host).
    pub fn redirects(mut self, redirects: Redirects) -> Self {
        self.redirects = redirects;
        self
    }

    /// Downloads `url` to `target` unless a file with the expected sha256 is already
    /// there; any other file there is left alone and reported. What is returned was
    /// downloaded and hashed in full (or found in place with the expected sha256).
    pub fn fetch(
        &self,
        url: &str,
        target: &Path,
        expected: &Expected,
        progress: &dyn Progress,
    ) -> Result<Fetched, FetchError> {
        if let Some(done) = in_place(target, expected)? {
            return Ok(done);
        }
        if let Some(parent) = target.parent() {
            fs::create_dir_all(parent).map_err(io(parent))?;
        }
        let mut part = Part::prepare(target, url, expected.sha256.is_some())?;
        let attempts = self.attempts.max(1);
        let mut backoff = self.first_backoff;
        let mut attempt = 0;
        loop {
            let reason = match self.attempt(url, target, &mut part, expected, progress)? {
                Attempt::Done(headers) => {
                    let inherited = part.inherited;
                    match finish(url, target, &mut part, expected, headers) {
                        // Stale bytes from an earlier run: once more from zero, not counted.
                        Err(FetchError::Mismatch { .. }) if inherited => continue,
                        done => return done,
                    }
                }
                Attempt::Retry(reason) => reason,
            };
            attempt += 1;
            if attempt >= attempts {
                return Err(FetchError::Unreachable {
                    url: url.into(),
                    target: target.to_path_buf(),
                    attempts,
                    reason,
                });
            }
            progress.retry(url, attempt, &reason);
            std::thread::sleep(backoff);
            backoff *= 2;
        }
    }

    /// One request, resuming from what `part` holds when that can be verified.
    fn attempt(
        &self,
        url: &str,
        target: &Path,
        part: &mut Part,
        expected: &Expected,
        progress: &dyn Progress,
    ) -> Result<Attempt, FetchError> {
        let have = resumable(part, expected)?;
        if have > 0 && expected.size == Some(have) {
            return Ok(Attempt::Done(Vec::new())); // `finish` checks the sha256
        }
        let range = (have > 0).then(|| (have, part.validator.clone()));
        let (response, headers) = match self.request(url, target, range.as_ref())? {
            Ok(answer) => answer,
            Err(reason) => return Ok(Attempt::Retry(reason)),
        };
        let status = response.status().as_u16();
        let start = match status {
            200 => 0, // the whole file: the range was ignored, or If-Range saw a change
            206 if have > 0 => match continues(&response, have, part.validator.as_deref()) {
                Ok(()) => have,
                Err(why) => return restart(part, why),
            },
            416 if have > 0 => return range_refused(&response, part, have, expected, headers),
            429 | 500..=599 => return Ok(Attempt::Retry(format!("HTTP {status}"))),
            _ => {
                return Err(FetchError::Status {
                    url: url.into(),
                    target: target.to_path_buf(),
                    status,
                });
            }
        };
        let total = announced(&response, start);
        if let (Some(total), Some(size)) = (total, expected.size)
            && total != size
        {
            part.discard();
            let what = format!("the server announced {total} bytes, not {size}");
            return Err(mismatch(url, target, what));
        }
        if start == 0 {
            part.remember(validator(&response))?;
        }
        progress.begin(url, total.or(expected.size), start);
        let window = Window {
            start,
            total: total.or(expected.size),
            limit: expected.size.or(total).unwrap_or(MAX_UNKNOWN_SIZE),
        };
        let body = response.into_body().into_reader();
        Ok(match receive(body, part, &window, url, target, progress)? {
            None => Attempt::Done(headers),
            Some(reason) => Attempt::Retry(reason),
        })
    }

    /// Sends a GET, following only the redirects `self.redirects` allows. `Err(reason)`
    /// inside is worth a retry; the outer error is not.
    fn request(
        &self,
        url: &str,
        target: &Path,
        range: Option<&(u64, Option<String>)>,
    ) -> Result<Result<Answer, String>, FetchError> {
        let mut current = url.to_string();
        let mut headers = Vec::new();
        for _ in 0..=MAX_HOPS {
            let mut request = self.agent.get(&current);
            if let Some((from, validator)) = range {
                request = request.header("Range", format!("bytes={from}-"));
                if let Some(validator) = validator {
                    request = request.header("If-Range", validator);
                }
            }
            let response = match request.call() {
                Ok(response) => response,
                Err(ureq::Error::Timeout(what)) => return Ok(Err(format!("timed out ({what})"))),
                Err(e) => return Ok(Err(e.to_string())),
            };
            collect(&mut headers, &response);
            let status = response.status().as_u16();
            if !matches!(status, 301 | 302 | 303 | 307 | 308) {
                return Ok(Ok((response, headers)));
            }
            let Some(location) = header(&response, "location") else {
                return Err(FetchError::Status {
                    url: url.into(),
                    target: target.to_path_buf(),
                    status,
                });
            };
            let next = redirect::resolve(&current, &location);
            if let Some(reason) = self.redirects.refusal(url, &current, &next) {
                return Err(redirect_error(url, next, reason, target));
            }
            current = next;
        }
        let reason = format!("it redirects more than {MAX_HOPS} times");
        Err(redirect_error(url, current, reason, target))
    }
}

fn redirect_error(url: &str, location: String, reason: String, target: &Path) -> FetchError {
    FetchError::Redirect {
        url: url.into(),
        location,
        reason,
        target: target.to_path_buf(),
    }
}

fn mismatch(url: &str, target: &Path, what: String) -> FetchError {
    FetchError::Mismatch {
        url: url.into(),
        target: target.to_path_buf(),
        what,
    }
}

/// The target is there already: fine when its sha256 is the expected one, else in the way.
fn in_place(target: &Path, expected: &Expected) -> Result<Option<Fetched>, FetchError> {
    if fs::symlink_metadata(target).is_err() {
        return Ok(None);
    }
    let in_the_way = |what: String| FetchError::InTheWay {
        target: target.to_path_buf(),
        what,
    };
    let Some(wanted) = &expected.sha256 else {
        return Err(in_the_way("nothing says what it should hold".into()));
    };
    let size = fs::metadata(target).map_err(io(target))?.len();
    if let Some(wanted) = expected.size
        && size != wanted
    {
        return Err(in_the_way(format!("it has {size} bytes, not {wanted}")));
    }
    let digest = sha256_file(target)?;
    if !digest.eq_ignore_ascii_case(wanted) {
        return Err(in_the_way(format!("its sha256 is {digest}, not {wanted}")));
    }
    Ok(Some(Fetched {
        sha256: digest,
        size,
        headers: Vec::new(),
    }))
}

/// Bytes held that this run can verify; anything else is dropped.
fn resumable(part: &mut Part, expected: &Expected) -> Result<u64, FetchError> {
    let have = part.len();
    // Without a sha256, only bytes whose validator If-Range can check may be continued.
    let verifiable = expected.sha256.is_some() || part.validator.is_some();
    if have > 0 && (!verifiable || expected.size.is_some_and(|size| have > size)) {
        part.restart()?;
        return Ok(0);
    }
    Ok(have)
}

fn restart(part: &mut Part, why: String) -> Result<Attempt, FetchError> {
    part.restart()?;
    Ok(Attempt::Retry(format!("{why}; starting again from zero")))
}

/// A 416 means "you have it all" only when `bytes */N` says so and the sha256 agrees.
fn range_refused(
    response: &Response<ureq::Body>,
    part: &mut Part,
    have: u64,
    expected: &Expected,
    headers: Vec<(String, String)>,
) -> Result<Attempt, FetchError> {
    let range = header(response, "content-range");
    let total = range
        .as_deref()
        .and_then(parse_content_range)
        .and_then(|r| r.total);
    if total == Some(have)
        && let Some(wanted) = &expected.sha256
        && part.sha256()?.eq_ignore_ascii_case(wanted)
    {
        return Ok(Attempt::Done(headers));
    }
    let range = range.unwrap_or_else(|| "none".into());
    let why =
        format!("the server refused to resume at byte {have} (HTTP 416, Content-Range: {range})");
    restart(part, why)
}

/// Whether a 206 continues exactly the `have` bytes held, from the same version.
fn continues(
    response: &Response<ureq::Body>,
    have: u64,
    validator: Option<&str>,
) -> Result<(), String> {
    let value = header(response, "content-range");
    let Some(ContentRange {
        range: Some((first, last)),
        total,
    }) = value.as_deref().and_then(parse_content_range)
    else {
        let value = value.unwrap_or_else(|| "none".into());
        return Err(format!(
            "the server answered 206 with Content-Range: {value}"
        ));
    };
    if first != have {
        return Err(format!("the server resumed at byte {first}, not {have}"));
    }
    if total.is_some_and(|total| last + 1 != total) {
        return Err(format!("the server sent bytes {first}-{last} only"));
    }
    if content_length(response).is_some_and(|len| len != last + 1 - first) {
        return Err("the server's Content-Length and Content-Range disagree".into());
    }
    if let (Some(held), Some(now)) = (validator, self::validator(response))
        && held != now
    {
        return Err(format!("the file changed on the server ({held} → {now})"));
    }
    Ok(())
}

/// A `Content-Range` value: `bytes A-B/N`, or `bytes */N` (no range); `N` may be `*`.
struct ContentRange {
    range: Option<(u64, u64)>,
    total: Option<u64>,
}

fn parse_content_range(value: &str) -> Option<ContentRange> {
    let (range, total) = value.trim().strip_prefix("bytes ")?.split_once('/')?;
    let total = match total.trim() {
        "*" => None,
        n => Some(n.parse().ok()?),
    };
    if range.trim() == "*" {
        return Some(ContentRange { range: None, total });
    }
    let (first, last) = range.trim().split_once('-')?;
    let (first, last) = (first.parse().ok()?, last.parse().ok()?);
    (first <= last).then_some(ContentRange {
        range: Some((first, last)),
        total,
    })
}

/// The whole file's size as the server states it.
fn announced(response: &Response<ureq::Body>, start: u64) -> Option<u64> {
    if start == 0 {
        return content_length(response);
    }
    let range = header(response, "content-range")?;
    let range = parse_content_range(&range)?;
    range.total.or(range.range.map(|(_, last)| last + 1))
}

fn content_length(response: &Response<ureq::Body>) -> Option<u64> {
    header(response, "content-length")?.trim().parse().ok()
}

fn header(response: &Response<ureq::Body>, name: &str) -> Option<String> {
    let value = response.headers().get(name)?.to_str().ok()?;
    Some(value.to_string())
}

/// A strong validator for If-Range: an ETag that is not weak, else Last-Modified.
fn validator(response: &Response<ureq::Body>) -> Option<String> {
    let printable = |v: &String| !v.is_empty() && v.bytes().all(|b| (0x20..0x7f).contains(&b));
    header(response, "etag")
        .filter(|etag| !etag.starts_with("W/"))
        .or_else(|| header(response, "last-modified"))
        .filter(printable)
}

fn collect(headers: &mut Vec<(String, String)>, response: &Response<ureq::Body>) {
    for (name, value) in response.headers() {
        let name = name.as_str().to_ascii_lowercase();
        if let Ok(value) = value.to_str()
            && !headers.iter().any(|(n, _)| *n == name)
        {
            headers.push((name, value.to_string()));
        }
    }
}

/// Where the body lands: from byte `start`, `total` expected in all, never past `limit`.
struct Window {
    start: u64,
    total: Option<u64>,
    limit: u64,
}

/// Writes the body into the part, stopping at `window.limit`. `Some(reason)`: retry.
fn receive(
    mut body: impl Read,
    part: &mut Part,
    window: &Window,
    url: &str,
    target: &Path,
    progress: &dyn Progress,
) -> Result<Option<String>, FetchError> {
    let mut file: File = part.open(window.start > 0)?;
    let mut written = window.start;
    let mut buffer = vec![0u8; 1 << 16];
    loop {
        let n = match body.read(&mut buffer) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) => {
                file.sync_data().map_err(io(&part.path))?;
                let why = if e.kind() == std::io::ErrorKind::TimedOut {
                    format!("timed out waiting for data after {written} bytes ({e})")
                } else {
                    format!("connection lost after {written} bytes: {e}")
                };
                return Ok(Some(why));
            }
        };
        let room = usize::try_from(window.limit - written).unwrap_or(usize::MAX);
        let keep = n.min(room);
        file.write_all(&buffer[..keep]).map_err(io(&part.path))?;
        written += keep as u64;
        progress.advance(keep as u64);
        if keep < n {
            drop(file);
            part.discard();
            let what = format!(
                "it sent more than the {} bytes expected (at least {}), so it was stopped there",
                window.limit,
                written + (n - keep) as u64
            );
            return Err(mismatch(url, target, what));
        }
    }
    file.sync_data().map_err(io(&part.path))?;
    Ok(match window.total {
        Some(total) if written < total => Some(format!("got {written} of {total} bytes")),
        _ => None,
    })
}

fn finish(
    url: &str,
    target: &Path,
    part: &mut Part,
    expected: &Expected,
    headers: Vec<(String, String)>,
) -> Result<Fetched, FetchError> {
    let size = part.len();
    if let Some(wanted) = expected.size
        && size != wanted
    {
        part.discard();
        return Err(mismatch(
            url,
            target,
            format!("it has {size} bytes, not {wanted}"),
        ));
    }
    let digest = part.sha256()?;
    if let Some(wanted) = &expected.sha256
        && !wanted.eq_ignore_ascii_case(&digest)
    {
        part.discard();
        let what = format!("its sha256 is {digest}, not {wanted}");
        return Err(mismatch(url, target, what));
    }
    part.complete(target)?;
    Ok(Fetched {
        sha256: digest,
        size,
        headers,
    })
}

pub fn sha256_file(path: &Path) -> Result<String, FetchError> {
    let mut file = File::open(path).map_err(io(path))?;
    let mut hasher = Sha256::new();
    std::io::copy(&mut file, &mut hasher).map_err(io(path))?;
    Ok(hex::encode(hasher.finalize()))
}
