//! A fault hook for the kill test: with `ONTOSWEEP_TEST_PAUSE_AFTER_CACHE_WRITES=N`, the
//! thread that writes the N-th image's cache entry stops there for good (after reporting it
//! as cached), so a test interrupts the sweep at a known point (N whole entries on disk)
//! instead of racing it with a clock.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

const PAUSE_AFTER_CACHE_WRITES: &str = "ONTOSWEEP_TEST_PAUSE_AFTER_CACHE_WRITES";

/// Called after each entry is in place; returns at once unless the hook is set.
pub(super) fn after_cache_write() {
    static LIMIT: OnceLock<Option<usize>> = OnceLock::new();
    static WRITTEN: AtomicUsize = AtomicUsize::new(0);
    let limit = LIMIT.get_or_init(|| {
        let value = std::env::var(PAUSE_AFTER_CACHE_WRITES).ok()?;
        Some(value.parse().unwrap_or_else(|_| {
            panic!("{PAUSE_AFTER_CACHE_WRITES}={value:?} is not a count of entries")
        }))
    });
    if let Some(limit) = *limit
        && WRITTEN.fetch_add(1, Ordering::SeqCst) + 1 >= limit
    {
        loop {
            std::thread::park();
        }
    }
}
