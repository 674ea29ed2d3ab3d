//! Prompt search: which templates and class names to use, chosen on a dev split and judged
//! on the held-out test split. `split` decides the sides, `greedy` searches (the built-in
//! template sets are the experiment crate's).
//!
//! Deliberately absent: no test image and no test label ever reaches it (a search receives a
//! [`greedy::DevSet`] and nothing else); no model is run here (candidates arrive embedded);
//! no I/O.
//!
//! ```
//! use ontosweep_experiment::SplitSpec;
//!
//! // An image's side depends on its bytes' hash and the seed alone.
//! let spec = SplitSpec { dev_fraction: 0.5, seed: 0 };
//! let key = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
//! assert_eq!(ontosweep_search::split::is_dev(spec, key), ontosweep_search::split::is_dev(spec, key));
//! ```

mod choose;
pub mod greedy;
mod space;
pub mod split;

pub use choose::{Chosen, MAX_SEARCH_BYTES, choose, working_bytes};
pub use space::SearchSpace;
