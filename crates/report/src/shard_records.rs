//! Shard records (`shards/shard-I-of-N.json`, written by sharded encodings into the report
//! folder) are ontosweep's own: a report folder holding them may be replaced, and the new
//! report carries them over, listed in its marker.

use std::path::{Path, PathBuf};

use ontosweep_results::shards::{SHARDS_FOLDER, is_record};

use crate::{ReportError, io_error};

/// Whether the entry at `relative` (inside a report folder `dir`) belongs to the shard
/// records: the folder itself, a record, or the temporary name a killed write left.
pub fn is_shard_entry(dir: &Path, relative: &str) -> bool {
    if relative == SHARDS_FOLDER {
        return dir.join(relative).is_dir();
    }
    let Some(name) = relative
        .strip_prefix(SHARDS_FOLDER)
        .and_then(|r| r.strip_prefix('/'))
    else {
        return false;
    };
    let path = dir.join(relative);
    !name.contains('/')
        && (is_record(&path) || (name.starts_with(".shard-") && name.ends_with(".tmp")))
}

/// The records in `old/shards/`, copied into `new/shards/`; their paths relative to `new`.
pub fn carry_over(old: &Path, new: &Path) -> Result<Vec<PathBuf>, ReportError> {
    let from = old.join(SHARDS_FOLDER);
    let Ok(entries) = std::fs::read_dir(&from) else {
        return Ok(Vec::new());
    };
    let mut carried = Vec::new();
    for entry in entries.flatten() {
        let path = entry.path();
        if !entry.file_type().is_ok_and(|t| t.is_file()) || !is_record(&path) {
            continue;
        }
        let to = new.join(SHARDS_FOLDER);
        std::fs::create_dir_all(&to).map_err(io_error(&to))?;
        let name = entry.file_name();
        std::fs::copy(&path, to.join(&name)).map_err(io_error(&path))?;
        carried.push(Path::new(SHARDS_FOLDER).join(name));
    }
    carried.sort();
    Ok(carried)
}

/// Removes the shard records (copied into the new report) and temporary leftovers from an
/// old report folder set aside, and the folder if that leaves it empty.
pub fn remove_from(old: &Path) {
    let folder = old.join(SHARDS_FOLDER);
    let Ok(entries) = std::fs::read_dir(&folder) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if is_shard_entry(old, &format!("{SHARDS_FOLDER}/{name}"))
            && entry.file_type().is_ok_and(|t| t.is_file())
        {
            let _ = std::fs::remove_file(entry.path());
        }
    }
    let _ = std::fs::remove_dir(&folder);
}
