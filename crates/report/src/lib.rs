//! Sweep results to files: CSV tables, SVG charts and one HTML page. A pure function of
//! [`SweepResults`] (reading the source images only to make thumbnails); knows nothing of
//! models, caches or experiment files.
//!
//! The report is written to a temporary sibling folder and renamed into place, so a
//! report folder is always whole: the previous one or the new one.

mod charts;
mod html;
mod names;
mod tables;
mod thumbnails;

use std::path::{Path, PathBuf};

use ontosweep_results::SweepResults;

pub use names::file_stem;

/// The headline chart's file name inside a report.
pub const HEADLINE_CHART: &str = "accuracy.svg";

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Chart { path: PathBuf, message: String },
    #[error("{path}: {source}")]
    Csv { path: PathBuf, source: csv::Error },
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
    move |source| ReportError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Writes the whole report into `dir`, replacing what was there. Returns the files written,
/// relative to `dir`.
pub fn write_report(results: &SweepResults, dir: &Path) -> Result<Vec<PathBuf>, ReportError> {
    let parent = dir
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent).map_err(io_error(parent))?;
    let name = dir
        .file_name()
        .map_or_else(|| "report".into(), |n| n.to_string_lossy().into_owned());
    let staging = parent.join(format!(".{name}.partial-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&staging);
    std::fs::create_dir_all(&staging).map_err(io_error(&staging))?;
    let written = write_into(results, &staging).inspect_err(|_| {
        let _ = std::fs::remove_dir_all(&staging);
    })?;
    if dir.exists() {
        std::fs::remove_dir_all(dir).map_err(io_error(dir))?;
    }
    std::fs::rename(&staging, dir).map_err(io_error(dir))?;
    Ok(written)
}

fn write_into(results: &SweepResults, dir: &Path) -> Result<Vec<PathBuf>, ReportError> {
    let mut files = tables::write_all(results, dir)?;
    files.extend(charts::write_all(results, dir)?);
    let thumbs = thumbnails::write_all(results, dir)?;
    files.extend(thumbs.files());
    files.push(html::write(results, dir, &thumbs)?);
    Ok(files)
}
