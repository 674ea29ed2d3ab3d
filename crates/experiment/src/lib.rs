//! The experiment file: a YAML document naming a dataset, models and ontologies, parsed into
//! an [`Experiment`] and checked. Every problem is reported at once, each with the file,
//! line and column and what to do about it ([`Diagnostic`]).
//!
//! Deliberately absent: no I/O beyond reading the one file (bounded, never blocking on a
//! FIFO), no dataset, no model, no scoring. What needs the dataset's classes is checked by
//! [`Experiment::check_classes`] once the caller has them.
//!
//! ```
//! use std::path::Path;
//!
//! let yaml = "name: demo\ndataset:\n  root: photos\nmodels: [clip-vit-b32]\nontologies:\n  plain:\n    templates: [\"a photo of a {}.\"]\n";
//! let experiment = ontosweep_experiment::Experiment::parse(Path::new("demo.yaml"), yaml).unwrap();
//! let plain = experiment.ontologies[0].written().unwrap();
//! assert_eq!(plain.prompts_for("daisy"), ["a photo of a daisy."]);
//! ```

pub mod bounds;
mod checks;
pub mod controls;
mod diagnostic;
mod document;
mod experiment;
pub mod locate;
mod names;
mod raw;
mod search;
mod spec;
mod suite;
pub mod templates;

pub use diagnostic::{ConfigErrors, Diagnostic};
pub use locate::Position;
pub use names::{MAX_NAME_BYTES, check_plain_name};
/// The arithmetic a `models:` entry may ask for.
pub use ontosweep_clip::Precision;
pub use search::{MAX_TEMPLATES_LIMIT, Objective, SearchSpec, SplitSpec};
pub use spec::{
    CLIP_BENCHMARK_TEMPLATES, CheckSpec, DEFAULT_SIMILAR_CLASSES, DatasetSpec, Experiment,
    MAX_SEARCH_PROMPTS, ModelEntry, ModelRef, Ontology, OntologyKind, ReportSpec, StandardDataset,
    StandardKind, WrittenPrompts,
};
pub use suite::{MAX_SUITE_EXPERIMENTS, Suite};

/// The datasets `dataset.download` may name (the sweep knows where each comes from).
pub const KNOWN_DOWNLOADS: &[&str] = &["tensorflow-flowers"];
