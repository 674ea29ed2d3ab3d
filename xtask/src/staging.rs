//! Staging folders: a fresh hidden sibling of the folder being installed, so that what
//! lands in place lands whole, and nothing half-made is left behind.

use std::fs;
use std::path::{Path, PathBuf};

/// A fresh hidden sibling of a folder being installed, removed when dropped (unless renamed
/// into place).
pub(crate) struct Staging {
    pub(crate) path: PathBuf,
}

impl Staging {
    pub(crate) fn new(dir: &Path) -> Result<Staging, String> {
        let parent = dir.parent().unwrap_or(Path::new("."));
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let path = parent.join(format!(
            ".{}.staging-{}-{nanos}",
            file_name(dir),
            std::process::id()
        ));
        fs::create_dir_all(parent)
            .and_then(|()| fs::create_dir(&path))
            .map_err(|e| format!("cannot create {}: {e}", path.display()))?;
        Ok(Staging { path })
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.path);
    }
}

/// The last component of `path`, or nothing.
pub(crate) fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}
