//! What the crates' tests share, and nothing else uses: a FIFO to read and a guard that
//! turns a hang into a failure (for readers that must never block on a user's file), and a
//! local HTTP server and gzipped tar archives for downloads.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::Path;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub fn mkfifo(path: &Path) {
    let status = std::process::Command::new("mkfifo")
        .arg(path)
        .status()
        .expect("mkfifo runs");
    assert!(status.success(), "mkfifo {}", path.display());
}

/// Runs `read` on a thread and gives its result, or `None` if it is still blocked after a
/// wait no working read comes near: a hang guard, not a speed limit.
pub fn within_a_minute<T: Send + 'static>(read: impl FnOnce() -> T + Send + 'static) -> Option<T> {
    let (send, receive) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = send.send(read());
    });
    receive.recv_timeout(Duration::from_secs(60)).ok()
}

pub type Files = Arc<Mutex<HashMap<String, Vec<u8>>>>;
pub type Log = Arc<Mutex<Vec<String>>>;

/// A local HTTP server for download tests: serves `files` by URL path until the test process ends (at most 64 requests). Like the
/// reproduction of the planted-part bug, it answers every Range request with 416. With a
/// `commit`, answers under `/resolve/main/` carry `X-Repo-Commit`, as Hugging Face's do.
pub fn serve_with(files: Files, commit: Option<&'static str>) -> (String, Log) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let log: Log = Arc::default();
    let seen = log.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().take(64) {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut request = String::new();
            reader.read_line(&mut request).unwrap();
            let mut ranged = false;
            while {
                let mut line = String::new();
                reader.read_line(&mut line).unwrap();
                ranged |= line.to_ascii_lowercase().starts_with("range:");
                !line.trim().is_empty()
            } {}
            let path = request.split_whitespace().nth(1).unwrap_or("/").to_string();
            seen.lock().unwrap().push(path.clone());
            let body = files.lock().unwrap().get(&path).cloned();
            let commit = match commit {
                Some(c) if path.contains("/resolve/main/") => format!("X-Repo-Commit: {c}\r\n"),
                _ => String::new(),
            };
            let end = "Connection: close\r\n\r\n";
            let _ = match body {
                Some(body) if ranged => write!(
                    stream,
                    "HTTP/1.1 416 Range Not Satisfiable\r\nContent-Range: bytes */{}\r\nContent-Length: 0\r\n{end}",
                    body.len()
                ),
                Some(body) => write!(
                    stream,
                    "HTTP/1.1 200 OK\r\nContent-Length: {}\r\n{commit}{end}",
                    body.len()
                )
                .and_then(|_| stream.write_all(&body)),
                None => write!(
                    stream,
                    "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n{end}"
                ),
            };
        }
    });
    (base, log)
}

pub fn serve(files: Files) -> String {
    serve_with(files, None).0
}

/// A gzipped tar of `entries` (name, bytes) at `path`; names are written byte by byte, so
/// that unsafe ones reach the archive unchanged.
pub fn tar_gz(path: &Path, entries: &[(&str, &[u8])]) {
    let file = std::fs::File::create(path).unwrap();
    let mut builder = tar::Builder::new(flate2::write::GzEncoder::new(
        file,
        flate2::Compression::fast(),
    ));
    for (name, data) in entries {
        let mut header = tar::Header::new_gnu();
        header.set_size(data.len() as u64);
        header.set_mode(0o644);
        // Written byte by byte so that unsafe names reach the archive unchanged.
        let bytes = name.as_bytes();
        header.as_old_mut().name[..bytes.len()].copy_from_slice(bytes);
        header.set_cksum();
        builder.append(&header, *data).unwrap();
    }
    builder.into_inner().unwrap().finish().unwrap();
}
