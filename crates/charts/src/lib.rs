//! SVG charts for reports, drawn with plotters' primitives: horizontal bars in titled groups
//! with interval whiskers, a chance line and value labels kept clear of both; whole
//! confusion matrices; and the canvas they share (fonts, escaped text, the grid colour).
//!
//! Deliberately absent: nothing about results, models or files other than the one SVG each
//! call writes; every text drawn is escaped for XML.
//!
//! ```
//! use ontosweep_charts::{Bar, Group, PALETTE, bar_chart};
//!
//! let dir = tempfile::tempdir().unwrap();
//! let path = dir.path().join("accuracy.svg");
//! let bar = Bar {
//!     label: "picture of a {} flower".into(),
//!     detail: String::new(),
//!     value: 0.97,
//!     interval: Some((0.95, 0.98)),
//!     colour: PALETTE[0],
//!     tag: "",
//! };
//! let groups = [Group { title: "model".into(), bars: vec![bar] }];
//! bar_chart(&path, "accuracy", &groups, Some(0.5)).unwrap();
//! assert!(std::fs::read_to_string(&path).unwrap().contains("97.0% [95.0–98.0]"));
//! ```

mod bars;
mod canvas;
mod confusion;

use std::path::PathBuf;

pub use bars::{Bar, Group, PALETTE, bar_chart};
pub use canvas::{Canvas, GRID, font, truncate, xml_text};
pub use confusion::confusion;

/// A chart that could not be written, naming its file.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {message}")]
pub struct ChartError {
    pub path: PathBuf,
    pub message: String,
}
