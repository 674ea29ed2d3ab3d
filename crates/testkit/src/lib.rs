//! What the crates' tests share, and nothing else uses: a FIFO to read, and a guard that
//! turns a hang into a failure (for readers that must never block on a user's file).

use std::path::Path;
use std::sync::mpsc;
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
