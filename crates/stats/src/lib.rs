//! The statistics a sweep reports, as pure functions: per-image summaries and metrics
//! (accuracy, balanced accuracy, macro F1, top-k, calibration, the confusion matrix as its
//! non-zero cells), Wilson intervals, the exact McNemar test with Holm's correction, and a
//! paired bootstrap interval for a difference in accuracy.
//!
//! Deliberately absent: no I/O at all, no model, no randomness but the seeded, per-resample
//! streams of the bootstrap (the same numbers whatever the thread count).
//!
//! ```
//! let (low, high) = ontosweep_stats::wilson_interval(8, 10);
//! assert!(low < 0.8 && 0.8 < high);
//! // Two wordings that disagree on 10 images, 9 to 1 in favour of the first.
//! assert!(ontosweep_stats::mcnemar_exact(9, 1) < 0.05);
//! ```

mod intervals;
pub mod metrics;
mod significance;

pub use intervals::{
    BOOTSTRAP_RESAMPLES, BOOTSTRAP_SEED, paired_bootstrap_interval, wilson_interval,
};
pub use significance::{holm, mcnemar_exact};
