//! Bytes ontosweep has not verified are never trusted, and nothing it does not own is
//! written: each test is a case reproduced against the old download code, served by a local
//! HTTP server on 127.0.0.1 that misbehaves on purpose.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ontosweep_fetch::{Expected, FetchError, Fetcher, Progress, Redirects, Timeouts};

fn payload() -> Vec<u8> {
    (0..200_000u32).map(|i| (i * 31 % 251) as u8).collect()
}

fn sha256(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}

/// A request as the server saw it (header names in lower case).
#[derive(Debug, Clone, Default)]
struct Seen {
    path: String,
    headers: HashMap<String, String>,
}

impl Seen {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(String::as_str)
    }
}

enum Reply {
    /// Status line and headers (each ending in CRLF), then the body, then close.
    Send(String, Vec<u8>),
    /// The head, then each chunk after a pause.
    Trickle(String, Vec<Vec<u8>>, Duration),
    /// The head and part of the body, then silence with the connection open.
    Stall(String, Vec<u8>),
    /// Accepts the connection and never answers.
    Silence,
}

type Log = Arc<Mutex<Vec<Seen>>>;
type Handler = dyn Fn(&Seen, usize) -> Reply + Send + Sync;

/// Serves each connection on its own thread; `handler` gets the request and how many times
/// its path was asked for (from 1).
fn serve(handler: impl Fn(&Seen, usize) -> Reply + Send + Sync + 'static) -> (String, Log) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let log: Log = Arc::default();
    let seen = log.clone();
    let handler: Arc<Handler> = Arc::new(handler);
    std::thread::spawn(move || {
        let hits: Arc<Mutex<HashMap<String, usize>>> = Arc::default();
        for stream in listener.incoming().take(64) {
            let Ok(stream) = stream else { continue };
            let (handler, seen, hits) = (handler.clone(), seen.clone(), hits.clone());
            std::thread::spawn(move || answer(stream, &*handler, &seen, &hits));
        }
    });
    (format!("http://127.0.0.1:{port}"), log)
}

fn answer(
    mut stream: TcpStream,
    handler: &Handler,
    log: &Log,
    hits: &Mutex<HashMap<String, usize>>,
) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut line = String::new();
    if reader.read_line(&mut line).is_err() {
        return;
    }
    let mut seen = Seen {
        path: line.split_whitespace().nth(1).unwrap_or("/").into(),
        ..Seen::default()
    };
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 || line.trim().is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            seen.headers
                .insert(name.trim().to_ascii_lowercase(), value.trim().into());
        }
    }
    log.lock().unwrap().push(seen.clone());
    let hit = {
        let mut hits = hits.lock().unwrap();
        let hit = hits.entry(seen.path.clone()).or_default();
        *hit += 1;
        *hit
    };
    let close = "Connection: close\r\n\r\n";
    match handler(&seen, hit) {
        Reply::Send(head, body) => {
            let _ = write!(stream, "{head}{close}").and_then(|_| stream.write_all(&body));
        }
        Reply::Trickle(head, chunks, pause) => {
            let _ = write!(stream, "{head}{close}");
            for chunk in chunks {
                std::thread::sleep(pause);
                if stream
                    .write_all(&chunk)
                    .and_then(|_| stream.flush())
                    .is_err()
                {
                    return;
                }
            }
        }
        Reply::Stall(head, body) => {
            let _ = write!(stream, "{head}{close}").and_then(|_| stream.write_all(&body));
            let _ = stream.flush();
            std::thread::sleep(Duration::from_secs(30));
        }
        Reply::Silence => std::thread::sleep(Duration::from_secs(30)),
    }
}

fn ok(body: &[u8], extra: &str) -> Reply {
    let head = format!(
        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\n{extra}",
        body.len()
    );
    Reply::Send(head, body.to_vec())
}

/// What an honest server sends for `bytes=FROM-`.
fn partial(body: &[u8], from: usize, extra: &str) -> Reply {
    let head = format!(
        "HTTP/1.1 206 Partial Content\r\nContent-Length: {}\r\nContent-Range: bytes {from}-{}/{}\r\n{extra}",
        body.len() - from,
        body.len() - 1,
        body.len()
    );
    Reply::Send(head, body[from..].to_vec())
}

fn range_start(seen: &Seen) -> Option<usize> {
    seen.header("range")?
        .strip_prefix("bytes=")?
        .trim_end_matches('-')
        .parse()
        .ok()
}

fn fetcher() -> Fetcher {
    Fetcher::with_retries(3, Duration::from_millis(10)).timeouts(Timeouts {
        connect: Duration::from_secs(2),
        response: Duration::from_secs(1),
        idle: Duration::from_secs(1),
    })
}

fn part_of(target: &Path) -> PathBuf {
    PathBuf::from(format!("{}.part", target.display()))
}

fn sha_only(bytes: &[u8]) -> Expected {
    Expected {
        size: None,
        sha256: Some(sha256(bytes)),
    }
}

fn requests(log: &Log) -> Vec<Seen> {
    log.lock().unwrap().clone()
}

#[test]
fn a_planted_part_is_not_taken_for_the_file_when_the_server_answers_416() {
    let real = payload();
    let served = real.clone();
    let (base, log) = serve(move |seen, _| match seen.header("range") {
        Some(_) => Reply::Send(
            format!(
                "HTTP/1.1 416 Range Not Satisfiable\r\nContent-Range: bytes */{}\r\nContent-Length: 0\r\n",
                served.len()
            ),
            Vec::new(),
        ),
        None => ok(&served, ""),
    });
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("preprocessor_config.json");
    let url = format!("{base}/preprocessor_config.json");
    let mut planted = real.clone();
    planted[10] ^= 0xff; // same length, other contents
    // Nothing pinned or locked: bytes from an earlier run cannot be checked, so they are not used.
    std::fs::write(part_of(&target), &planted).unwrap();
    let fetched = fetcher()
        .fetch(&url, &target, &Expected::default(), &())
        .unwrap();
    assert_eq!(std::fs::read(&target).unwrap(), real);
    assert_eq!(fetched.sha256, sha256(&real));
    assert_eq!(requests(&log)[0].header("range"), None);
    // With a sha256 known, the part is offered; `bytes */N` matches its length, its hash does not.
    std::fs::remove_file(&target).unwrap();
    std::fs::write(part_of(&target), &planted).unwrap();
    fetcher()
        .fetch(&url, &target, &sha_only(&real), &())
        .unwrap();
    assert_eq!(std::fs::read(&target).unwrap(), real);
    assert!(!part_of(&target).exists());
}

#[test]
fn a_truncated_part_is_not_complete_because_the_server_answers_416() {
    let real = payload();
    let served = real.clone();
    // A server (or proxy) that answers 416 to any range, with the full length.
    let (base, _) = serve(move |seen, _| match seen.header("range") {
        Some(_) => Reply::Send(
            format!(
                "HTTP/1.1 416 Range Not Satisfiable\r\nContent-Range: bytes */{}\r\nContent-Length: 0\r\n",
                served.len()
            ),
            Vec::new(),
        ),
        None => ok(&served, ""),
    });
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("tokenizer.json");
    let url = format!("{base}/tokenizer.json");
    for expected in [Expected::default(), sha_only(&real)] {
        std::fs::write(part_of(&target), &real[..1000]).unwrap();
        let fetched = fetcher().fetch(&url, &target, &expected, &()).unwrap();
        assert_eq!(fetched.size, real.len() as u64, "{expected:?}");
        assert_eq!(std::fs::read(&target).unwrap(), real);
        std::fs::remove_file(&target).unwrap();
    }
}

#[test]
fn foreign_bytes_are_not_spliced_onto_a_206_that_does_not_continue_them() {
    let real = payload();
    let served = real.clone();
    // Answers any range with 206 but the whole file, labelled as such.
    let (base, log) = serve(move |seen, _| match seen.header("range") {
        Some(_) => partial(&served, 0, ""),
        None => ok(&served, ""),
    });
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("model.onnx");
    std::fs::write(part_of(&target), [b'x'; 100]).unwrap();
    let url = format!("{base}/model.onnx");
    fetcher()
        .fetch(&url, &target, &sha_only(&real), &())
        .unwrap();
    assert_eq!(std::fs::read(&target).unwrap(), real);
    let seen = requests(&log);
    assert_eq!(seen[0].header("range"), Some("bytes=100-"));
    assert_eq!(seen[1].header("range"), None, "started again from zero");
}

#[test]
fn foreign_bytes_continued_by_an_honest_206_fail_their_hash_and_are_replaced() {
    let real = payload();
    let served = real.clone();
    let (base, log) = serve(move |seen, _| match range_start(seen) {
        Some(from) => partial(&served, from, ""),
        None => ok(&served, ""),
    });
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("vision_model.onnx");
    let url = format!("{base}/vision_model.onnx");
    std::fs::write(part_of(&target), [b'x'; 100]).unwrap();
    let fetched = fetcher()
        .fetch(&url, &target, &sha_only(&real), &())
        .unwrap();
    assert_eq!(std::fs::read(&target).unwrap(), real);
    assert_eq!(fetched.sha256, sha256(&real));
    assert_eq!(requests(&log).len(), 2);
    // Without a sha256 nothing could check the splice: the foreign bytes are not even offered.
    std::fs::remove_file(&target).unwrap();
    std::fs::write(part_of(&target), [b'x'; 100]).unwrap();
    fetcher()
        .fetch(&url, &target, &Expected::default(), &())
        .unwrap();
    assert_eq!(std::fs::read(&target).unwrap(), real);
    assert_eq!(requests(&log)[2].header("range"), None);
}

#[test]
fn a_resume_sends_if_range_and_a_changed_file_starts_again() {
    let old: Vec<u8> = payload();
    let new: Vec<u8> = payload().iter().map(|b| b ^ 0x55).collect();
    let served = new.clone();
    let half = old[..old.len() / 2].to_vec();
    // First answer: version 1, cut off half-way. Then the file changes to version 2, and the
    // server honours If-Range as HTTP says: a stale validator gets the whole new file.
    let (base, log) = serve(move |seen, hit| {
        let etag = "ETag: \"v2\"\r\n";
        match (hit, range_start(seen), seen.header("if-range")) {
            (1, _, _) => Reply::Send(
                "HTTP/1.1 200 OK\r\nContent-Length: 200000\r\nETag: \"v1\"\r\n".into(),
                half.clone(),
            ),
            (_, Some(from), Some("\"v2\"") | None) => partial(&served, from, etag),
            _ => ok(&served, etag),
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("config.json");
    fetcher()
        .fetch(
            &format!("{base}/config.json"),
            &target,
            &Expected::default(),
            &(),
        )
        .unwrap();
    assert_eq!(
        std::fs::read(&target).unwrap(),
        new,
        "never half old, half new"
    );
    let seen = requests(&log);
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[1].header("range"), Some("bytes=100000-"));
    assert_eq!(seen[1].header("if-range"), Some("\"v1\""));
}

#[cfg(unix)]
#[test]
fn a_part_that_is_a_symbolic_link_is_replaced_and_its_target_untouched() {
    let real = payload();
    let served = real.clone();
    let (base, _) = serve(move |seen, _| match range_start(seen) {
        Some(from) => partial(&served, from, ""),
        None => ok(&served, ""),
    });
    let dir = tempfile::tempdir().unwrap();
    let victim = dir.path().join("elsewhere/notes.txt");
    std::fs::create_dir_all(victim.parent().unwrap()).unwrap();
    std::fs::write(&victim, b"precious").unwrap();
    let target = dir.path().join("models/m/tokenizer.json");
    std::fs::create_dir_all(target.parent().unwrap()).unwrap();
    let url = format!("{base}/tokenizer.json");
    for expected in [Expected::default(), sha_only(&real)] {
        std::os::unix::fs::symlink(&victim, part_of(&target)).unwrap();
        fetcher().fetch(&url, &target, &expected, &()).unwrap();
        assert_eq!(std::fs::read(&victim).unwrap(), b"precious");
        assert_eq!(std::fs::read(&target).unwrap(), real);
        assert!(!std::fs::symlink_metadata(&target).unwrap().is_symlink());
        std::fs::remove_file(&target).unwrap();
    }
}

/// Counts what the fetcher reports written.
#[derive(Default)]
struct Written(AtomicU64);

impl Progress for Written {
    fn begin(&self, _: &str, _: Option<u64>, already: u64) {
        self.0.store(already, Ordering::SeqCst);
    }
    fn advance(&self, bytes: u64) {
        self.0.fetch_add(bytes, Ordering::SeqCst);
    }
    fn retry(&self, _: &str, _: u32, _: &str) {}
}

#[test]
fn a_body_longer_than_the_pinned_size_is_cut_off_at_that_size() {
    let huge = vec![b'z'; 10 << 20];
    let (base, _) = serve(move |seen, _| match seen.path.as_str() {
        // No Content-Length: the body ends when the connection closes.
        "/endless" => Reply::Send("HTTP/1.1 200 OK\r\n".into(), huge.clone()),
        _ => Reply::Send(
            "HTTP/1.1 200 OK\r\nContent-Length: 300000000\r\n".into(),
            huge.clone(),
        ),
    });
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("preprocessor_config.json");
    let pinned = Expected {
        size: Some(414),
        sha256: None,
    };
    let written = Written::default();
    let err = fetcher()
        .fetch(&format!("{base}/endless"), &target, &pinned, &written)
        .unwrap_err();
    let message = err.to_string();
    assert!(matches!(err, FetchError::Mismatch { .. }), "{message}");
    assert!(
        message.contains("more than the 414 bytes expected"),
        "{message}"
    );
    assert!(written.0.load(Ordering::SeqCst) <= 414);
    assert!(!target.exists() && !part_of(&target).exists());
    // A Content-Length that disagrees with the pinned size is refused before any byte is kept.
    let written = Written::default();
    let err = fetcher()
        .fetch(&format!("{base}/announced"), &target, &pinned, &written)
        .unwrap_err()
        .to_string();
    assert!(err.contains("announced 300000000 bytes, not 414"), "{err}");
    assert_eq!(written.0.load(Ordering::SeqCst), 0);
    assert!(!part_of(&target).exists());
}

#[test]
fn a_server_that_never_answers_is_given_up_after_its_attempts_naming_the_url() {
    let (base, log) = serve(|_, _| Reply::Silence);
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("x.bin");
    let url = format!("{base}/x.bin");
    let (sender, receiver) = std::sync::mpsc::channel();
    let asked = url.clone();
    std::thread::spawn(move || {
        let fetcher = Fetcher::with_retries(2, Duration::from_millis(10)).timeouts(Timeouts {
            connect: Duration::from_secs(2),
            response: Duration::from_secs(1),
            idle: Duration::from_secs(1),
        });
        let _ = sender.send(fetcher.fetch(&asked, &target, &Expected::default(), &()));
    });
    // Only a guard against hanging the suite: each attempt ends at the 1 s response timeout.
    let result = receiver
        .recv_timeout(Duration::from_secs(60))
        .expect("the download hung");
    let message = result.unwrap_err().to_string();
    assert_eq!(requests(&log).len(), 2, "one request per attempt");
    assert!(
        message.contains(&url) && message.contains("after 2 attempts"),
        "{message}"
    );
}

#[test]
fn a_slow_but_steady_transfer_is_not_cut_off_by_a_total_budget() {
    let real = payload();
    let served = real.clone();
    // Eight pieces, each after a 400 ms pause: 3.2 s in all by construction, over three
    // times the idle timeout, so a total budget of a few idle timeouts would cut it off.
    let (base, log) = serve(move |_, _| {
        let head = format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n", served.len());
        let chunks = served
            .chunks(served.len() / 8)
            .map(<[u8]>::to_vec)
            .collect();
        Reply::Trickle(head, chunks, Duration::from_millis(400))
    });
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("slow.bin");
    fetcher()
        .fetch(&format!("{base}/slow.bin"), &target, &sha_only(&real), &())
        .unwrap();
    assert_eq!(std::fs::read(&target).unwrap(), real);
    assert_eq!(requests(&log).len(), 1);
}

#[test]
fn a_stalled_transfer_times_out_and_resumes() {
    let real = payload();
    let served = real.clone();
    let (base, log) = serve(move |seen, hit| match (hit, range_start(seen)) {
        (1, _) => Reply::Stall(
            format!(
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nETag: \"a\"\r\n",
                served.len()
            ),
            served[..50_000].to_vec(),
        ),
        (_, Some(from)) => partial(&served, from, "ETag: \"a\"\r\n"),
        _ => ok(&served, "ETag: \"a\"\r\n"),
    });
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("stall.bin");
    fetcher()
        .fetch(
            &format!("{base}/stall.bin"),
            &target,
            &Expected::default(),
            &(),
        )
        .unwrap();
    assert_eq!(std::fs::read(&target).unwrap(), real);
    let seen = requests(&log);
    assert_eq!(seen[1].header("range"), Some("bytes=50000-"));
    assert_eq!(seen[1].header("if-range"), Some("\"a\""));
}

#[test]
fn redirects_to_another_host_are_refused_unless_allowed() {
    let real = payload();
    let served = real.clone();
    let (other, other_log) = serve(move |_, _| ok(&served, ""));
    // The same machine under another name: a different host as far as policy goes.
    let elsewhere = other.replace("127.0.0.1", "localhost");
    let served = real.clone();
    let (base, _) = serve(move |seen, _| match seen.path.as_str() {
        "/away" => Reply::Send(
            format!("HTTP/1.1 302 Found\r\nLocation: {elsewhere}/file\r\nContent-Length: 0\r\n"),
            Vec::new(),
        ),
        "/near" => Reply::Send(
            "HTTP/1.1 302 Found\r\nLocation: /file\r\nContent-Length: 0\r\n".into(),
            Vec::new(),
        ),
        _ => ok(&served, ""),
    });
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("a.bin");
    let err = fetcher()
        .fetch(&format!("{base}/away"), &target, &Expected::default(), &())
        .unwrap_err();
    let message = err.to_string();
    assert!(matches!(err, FetchError::Redirect { .. }), "{message}");
    assert!(
        message.contains("leaves 127.0.0.1 for localhost") && message.contains("a.bin"),
        "{message}"
    );
    assert!(!target.exists() && requests(&other_log).is_empty());
    // Within the same host, a redirect is followed.
    fetcher()
        .fetch(&format!("{base}/near"), &target, &Expected::default(), &())
        .unwrap();
    assert_eq!(std::fs::read(&target).unwrap(), real);
    // A caller that allows the domain (a CDN), or any host (a mirror the user chose).
    for policy in [
        Redirects::Domains(vec!["localhost".into()]),
        Redirects::AnyHost,
    ] {
        let target = dir
            .path()
            .join(format!("{policy:?}.bin").replace(['"', '[', ']', '(', ')'], ""));
        fetcher()
            .redirects(policy)
            .fetch(&format!("{base}/away"), &target, &sha_only(&real), &())
            .unwrap();
        assert_eq!(std::fs::read(&target).unwrap(), real);
    }
}

#[test]
fn a_file_already_there_that_does_not_match_is_left_alone() {
    let (base, log) = serve(|_, _| ok(&payload(), ""));
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("mine.bin");
    std::fs::write(&target, b"my own file").unwrap();
    for expected in [Expected::default(), sha_only(&payload())] {
        let err = fetcher()
            .fetch(&format!("{base}/mine.bin"), &target, &expected, &())
            .unwrap_err();
        assert!(matches!(err, FetchError::InTheWay { .. }), "{err}");
        assert!(err.to_string().contains("move it away"), "{err}");
    }
    assert_eq!(std::fs::read(&target).unwrap(), b"my own file");
    assert!(requests(&log).is_empty());
}
