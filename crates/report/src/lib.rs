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
pub mod clip_benchmark;
mod confused;
mod controls;
mod csv_writer;
mod error;
mod headline;
mod html;
mod links;
mod names;
mod npy;
mod ownership;
mod p_value;
mod run_file;
mod search_chart;
mod search_files;
mod search_html;
mod shard_records;
mod suite;
mod tables;
mod thumbnails;

use std::path::{Path, PathBuf};

use ontosweep_results::SweepResults;

pub use controls::noise_verdicts;
pub use error::ReportError;
pub use headline::{
    HEADLINE_CHART, HeadlineCopy, SIGNATURE as HEADLINE_SIGNATURE, copy_headline_chart,
};
pub use ownership::{MARKER, check_replaceable};
pub use p_value::format_p;
pub use suite::{SuiteRow, suite_rows, write_suite};

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
    files.extend(clip_benchmark::write_all(results, &names, dir)?);
    let thumbs = thumbnails::write_all(results, dir)?;
    files.extend(thumbs.files());
    files.push(html::write(results, &names, dir, &thumbs)?);
    Ok(files)
}
