//! How the sweep reports progress, without knowing how it is shown.

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
