//! Writing a file so that readers see the old file or the whole new one, never a part:
//! a unique temporary name beside it, synced, then renamed over it.

use std::fs;
use std::io::Write;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

/// Writes to a unique temporary name beside `path`, then renames: readers see the old
/// file or the whole new one, never a part.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let folder = path.parent().unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map_or_else(|| "entry".into(), |n| n.to_string_lossy().into_owned());
    let temp = folder.join(format!(".{name}.{}.tmp", unique_suffix()));
    // `create_new` never follows a link planted at the temporary name.
    let mut file = fs::File::options()
        .write(true)
        .create_new(true)
        .open(&temp)?;
    let written = file.write_all(bytes).and_then(|_| file.sync_data());
    drop(file);
    written
        .and_then(|_| fs::rename(&temp, path))
        .inspect_err(|_| {
            let _ = fs::remove_file(&temp);
        })
}

/// Unique among every process writing to a shared folder, on every machine: process ids
/// repeat across machines (every container's first process is 1), so the host name and the
/// clock go into it too.
fn unique_suffix() -> String {
    use sha2::{Digest, Sha256};
    let host = fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| fs::read_to_string("/etc/hostname"))
        .unwrap_or_default();
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let digest = Sha256::new()
        .chain_update(host.trim().as_bytes())
        .chain_update(std::process::id().to_le_bytes())
        .chain_update(nanos.to_le_bytes())
        .chain_update(TEMP_COUNTER.fetch_add(1, Ordering::Relaxed).to_le_bytes())
        .finalize();
    format!("{}.{}", std::process::id(), hex::encode(&digest[..8]))
}
