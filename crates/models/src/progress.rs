//! How long work (downloads, encoding) reports progress, without knowing how it is shown.

pub trait Progress: Sync {
    fn start(&self, stage: &str, total: usize);
    fn advance(&self, done: usize);
    fn finish(&self);
    fn warn(&self, message: &str);
    /// `done` more image embeddings are in the embedding cache: kept whatever happens next
    /// (an interrupted run says how many).
    fn cached(&self, _done: usize) {}
}

/// Reports nothing (tests, library use).
pub struct Silent;

impl Progress for Silent {
    fn start(&self, _: &str, _: usize) {}
    fn advance(&self, _: usize) {}
    fn finish(&self) {}
    fn warn(&self, _: &str) {}
}

/// Shows a download's events (bytes, retries of one URL) through the sweep's progress: the
/// fetch crate stays free of the sweep's stages, the sweep of HTTP details.
pub struct Adapter<'a>(pub &'a dyn Progress, pub String);

impl ontosweep_fetch::Progress for Adapter<'_> {
    fn begin(&self, _: &str, total: Option<u64>, already: u64) {
        self.0.start(&self.1, total.unwrap_or(0) as usize);
        self.0.advance(already as usize);
    }
    fn advance(&self, bytes: u64) {
        self.0.advance(bytes as usize);
    }
    fn retry(&self, url: &str, attempt: u32, reason: &str) {
        self.0.warn(&format!(
            "{url}: attempt {attempt} failed ({reason}); retrying"
        ));
    }
}
