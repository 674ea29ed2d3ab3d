//! Downloads against a local HTTP server on 127.0.0.1 that misbehaves on purpose.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ontosweep_fetch::{ArchiveLimits, Expected, FetchError, Fetcher, extract_tar_gz, sha256_file};
use ontosweep_testkit::tar_gz;

fn payload() -> Vec<u8> {
    (0..200_000u32).map(|i| (i * 31 % 251) as u8).collect()
}

fn sha256(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}

/// Serves `payload()` under a few paths with scripted faults; returns its base URL and a
/// log of (path, range header) requests.
type RequestLog = Arc<Mutex<Vec<(String, Option<String>)>>>;

fn serve() -> (String, RequestLog) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let log = Arc::new(Mutex::new(Vec::new()));
    let seen = log.clone();
    std::thread::spawn(move || {
        let body = payload();
        let mut hits: HashMap<String, usize> = HashMap::new();
        for stream in listener.incoming().take(64) {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut request = String::new();
            reader.read_line(&mut request).unwrap();
            let path = request.split_whitespace().nth(1).unwrap_or("/").to_string();
            let mut range = None;
            loop {
                let mut line = String::new();
                reader.read_line(&mut line).unwrap();
                if line.trim().is_empty() {
                    break;
                }
                if let Some(value) = line.to_ascii_lowercase().strip_prefix("range: bytes=") {
                    range = value.trim().trim_end_matches('-').parse::<usize>().ok();
                }
            }
            seen.lock()
                .unwrap()
                .push((path.clone(), range.map(|r| r.to_string())));
            let hit = {
                let h = hits.entry(path.clone()).or_default();
                *h += 1;
                *h
            };
            let from = range.unwrap_or(0);
            let (status, send, declared): (&str, &[u8], usize) = match (path.as_str(), hit) {
                ("/missing", _) => ("404 Not Found", b"", 0),
                ("/busy.bin", 1) => ("503 Service Unavailable", b"", 0),
                // Declares the whole file, then drops the connection half-way.
                ("/flaky.bin", 1) => ("200 OK", &body[..body.len() / 2], body.len()),
                ("/wrong.bin", _) => ("200 OK", &body[1..], body.len() - 1),
                _ if from > 0 => ("206 Partial Content", &body[from..], body.len() - from),
                _ => ("200 OK", &body[..], body.len()),
            };
            let range = if status.starts_with("206") {
                format!(
                    "Content-Range: bytes {from}-{}/{}\r\n",
                    body.len() - 1,
                    body.len()
                )
            } else {
                String::new()
            };
            let _ = write!(
                stream,
                "HTTP/1.1 {status}\r\nContent-Length: {declared}\r\n{range}Connection: close\r\n\r\n"
            );
            let _ = stream.write_all(send);
            let _ = stream.flush();
        }
    });
    (base, log)
}

fn fetcher() -> Fetcher {
    Fetcher::with_retries(3, Duration::from_millis(10))
}

fn expected() -> Expected {
    let body = payload();
    Expected {
        size: Some(body.len() as u64),
        sha256: Some(sha256(&body)),
    }
}

#[test]
fn a_dropped_connection_resumes_where_it_stopped() {
    let (base, log) = serve();
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("models/flaky.bin");
    let fetched = fetcher()
        .fetch(&format!("{base}/flaky.bin"), &target, &expected(), &())
        .unwrap();
    assert_eq!(fetched.sha256, sha256(&payload()));
    assert_eq!(std::fs::read(&target).unwrap(), payload());
    assert!(!dir.path().join("models/flaky.bin.part").exists());
    let requests = log.lock().unwrap().clone();
    assert_eq!(requests.len(), 2, "{requests:?}");
    assert_eq!(
        requests[1].1.as_deref(),
        Some("100000"),
        "the second request asks only for the rest"
    );
}

#[test]
fn server_errors_are_retried_with_backoff() {
    let (base, log) = serve();
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("busy.bin");
    fetcher()
        .fetch(&format!("{base}/busy.bin"), &target, &expected(), &())
        .unwrap();
    assert_eq!(std::fs::read(&target).unwrap(), payload());
    assert_eq!(log.lock().unwrap().len(), 2);
}

#[test]
fn wrong_content_is_refused_and_not_kept() {
    let (base, _) = serve();
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("wrong.bin");
    let err = fetcher()
        .fetch(&format!("{base}/wrong.bin"), &target, &expected(), &())
        .unwrap_err();
    assert!(matches!(err, FetchError::Mismatch { .. }), "{err}");
    assert!(err.to_string().contains("bytes, not 200000"), "{err}");
    assert!(!target.exists() && !dir.path().join("wrong.bin.part").exists());
    // Without an expected size the checksum catches it.
    let err = fetcher()
        .fetch(
            &format!("{base}/wrong.bin"),
            &target,
            &Expected {
                size: None,
                sha256: expected().sha256,
            },
            &(),
        )
        .unwrap_err();
    assert!(err.to_string().contains("sha256"), "{err}");
}

#[test]
fn a_missing_file_and_an_unreachable_host_say_what_to_do() {
    let (base, _) = serve();
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("x.bin");
    let err = fetcher()
        .fetch(
            &format!("{base}/missing"),
            &target,
            &Expected::default(),
            &(),
        )
        .unwrap_err();
    assert!(
        err.to_string().contains("HTTP 404") && err.to_string().contains("by hand"),
        "{err}"
    );
    // A closed port on loopback: nothing listens there.
    let closed = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let err = fetcher()
        .fetch(
            &format!("http://{closed}/x.bin"),
            &target,
            &Expected::default(),
            &(),
        )
        .unwrap_err();
    let message = err.to_string();
    assert!(
        message.contains("after 3 attempts")
            && message.contains("place it at")
            && message.contains("x.bin"),
        "{message}"
    );
}

#[test]
fn a_verified_file_is_not_downloaded_again() {
    let (base, log) = serve();
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("ok.bin");
    fetcher()
        .fetch(&format!("{base}/ok.bin"), &target, &expected(), &())
        .unwrap();
    fetcher()
        .fetch(&format!("{base}/ok.bin"), &target, &expected(), &())
        .unwrap();
    assert_eq!(log.lock().unwrap().len(), 1);
    assert_eq!(sha256_file(&target).unwrap(), sha256(&payload()));
}

#[test]
fn extraction_refuses_paths_that_escape() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.tgz");
    tar_gz(
        &good,
        &[
            ("flower_photos/daisy/a.jpg", b"one"),
            ("flower_photos/LICENSE.txt", b"cc"),
        ],
    );
    let out = dir.path().join("data");
    let files = extract_tar_gz(&good, &out, &ArchiveLimits::default()).unwrap();
    assert_eq!(files.len(), 2);
    assert_eq!(
        std::fs::read(out.join("flower_photos/daisy/a.jpg")).unwrap(),
        b"one"
    );

    let evil = dir.path().join("evil.tgz");
    tar_gz(
        &evil,
        &[
            ("flower_photos/ok.jpg", b"fine"),
            ("../escaped.txt", b"gotcha"),
        ],
    );
    let out2 = dir.path().join("data2");
    let err = extract_tar_gz(&evil, &out2, &ArchiveLimits::default())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("refusing to extract `../escaped.txt`"),
        "{err}"
    );
    assert!(!dir.path().join("escaped.txt").exists());
    assert!(!out2.exists(), "nothing half-extracted is left");
}
