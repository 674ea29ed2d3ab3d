//! One CSV file of the report, written whole; its errors name the file.

use std::path::{Path, PathBuf};

use crate::error::{ReportError, io_error};

/// Writes `dir/name` with `write`, returning `name`.
pub(crate) fn csv_file(
    dir: &Path,
    name: &str,
    write: impl FnOnce(&mut csv::Writer<std::fs::File>) -> csv::Result<()>,
) -> Result<PathBuf, ReportError> {
    let path = dir.join(name);
    let csv_error = |cause| ReportError::Csv {
        path: path.clone(),
        cause,
    };
    let mut writer = csv::Writer::from_path(&path).map_err(csv_error)?;
    write(&mut writer).map_err(csv_error)?;
    writer.flush().map_err(io_error(&path))?;
    Ok(PathBuf::from(name))
}
