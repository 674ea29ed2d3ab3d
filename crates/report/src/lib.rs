//! Sweep results to files: CSV tables, SVG charts and one HTML page. A pure function of
//! [`SweepResults`] (reading the source images only to make thumbnails); knows nothing of
//! models, caches or experiment files.
//!
//! The report is written to a hidden sibling folder and renamed into place, so a report
//! folder is always whole: the previous one or the new one. Only folders that ontosweep
//! wrote (see [`check_replaceable`]) are ever replaced; nothing else is deleted.

mod charts;
mod class_selection;
mod class_table;
mod confused;
mod headline;
mod html;
mod names;
mod npy;
mod ownership;
mod run_file;
mod search_chart;
mod search_files;
mod search_html;
mod shard_records;
mod tables;
mod thumbnails;

use std::path::{Path, PathBuf};

use ontosweep_results::SweepResults;

pub use headline::{HeadlineCopy, SIGNATURE as HEADLINE_SIGNATURE, copy_headline_chart};
pub use ownership::{MARKER, check_replaceable};

/// The headline chart's file name inside a report.
pub const HEADLINE_CHART: &str = "accuracy.svg";

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    // `cause`, not `source`: the message carries it, and a chain would say it twice.
    #[error("{path}: {cause}")]
    Io {
        path: PathBuf,
        cause: std::io::Error,
    },
    #[error("{path}: {message}")]
    Chart { path: PathBuf, message: String },
    #[error("{path}: {cause}")]
    Csv { path: PathBuf, cause: csv::Error },
    #[error("{path}: {message}")]
    Yaml { path: PathBuf, message: String },
    /// The folder is not one ontosweep may replace; nothing was touched.
    #[error("{path} {why}")]
    NotOurs { path: PathBuf, why: String },
}

/// A p-value for people: three decimals, or scientific notation when tiny.
pub fn format_p(p: f64) -> String {
    if p < 0.001 {
        format!("{p:.1e}")
    } else {
        format!("{p:.3}")
    }
}

pub(crate) fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> ReportError + '_ {
    move |cause| ReportError::Io {
        path: path.to_path_buf(),
        cause,
    }
}

/// Writes the whole report into `dir`, replacing the report there whole or not at all.
/// Refuses, touching nothing, when `dir` holds anything ontosweep did not write. Returns the
/// files written, relative to `dir`.
pub fn write_report(results: &SweepResults, dir: &Path) -> Result<Vec<PathBuf>, ReportError> {
    ownership::replace_whole(dir, |staging| write_into(results, staging))
}

fn write_into(results: &SweepResults, dir: &Path) -> Result<Vec<PathBuf>, ReportError> {
    let names = names::ReportFiles::new(results);
    let mut files = tables::write_all(results, &names, dir)?;
    files.extend(charts::write_all(results, &names, dir)?);
    files.extend(search_files::write_all(results, &names, dir)?);
    files.extend(search_chart::write_all(results, &names, dir)?);
    let thumbs = thumbnails::write_all(results, dir)?;
    files.extend(thumbs.files());
    files.push(html::write(results, &names, dir, &thumbs)?);
    Ok(files)
}
