//! `.tar.gz` extraction that unpacks only files and folders inside the target, within
//! stated bounds, into a staging folder renamed into place.

use std::fs::{self, File};
use std::io::Read;
use std::path::{Component, Path, PathBuf};

use tar::EntryType;

use crate::error::{FetchError, io};

/// How much an archive may unpack to.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ArchiveLimits {
    /// Entries of any kind (files, folders, and the refused ones).
    pub max_entries: u64,
    /// The sizes of all entries together.
    pub max_bytes: u64,
}

impl Default for ArchiveLimits {
    fn default() -> Self {
        Self {
            max_entries: 100_000,
            max_bytes: 16 << 30,
        }
    }
}

/// At most this many refused entries are named in an error.
const NAMED: usize = 20;

/// Extracts a `.tar.gz` into `dest`, which must be missing or an empty folder: ontosweep
/// never deletes what it did not create. Only files and folders are unpacked; paths that
/// would leave `dest`, links and special files (devices, fifos) are refused and listed, and
/// so is an archive beyond `limits`. Extraction happens in a freshly made staging folder
/// that is renamed into place, so `dest` never holds half an archive.
pub fn extract_tar_gz(
    archive: &Path,
    dest: &Path,
    limits: &ArchiveLimits,
) -> Result<Vec<PathBuf>, FetchError> {
    refuse_occupied(dest)?;
    let parent = dest.parent().unwrap_or(Path::new("."));
    fs::create_dir_all(parent).map_err(io(parent))?;
    let staging = fresh_folder(parent, dest)?;
    let result = unpack(archive, dest, &staging, limits).and_then(|written| {
        // An empty `dest` folder is replaced by the rename; anything else makes it fail.
        fs::rename(&staging, dest).map_err(io(dest))?;
        Ok(written)
    });
    if result.is_err() {
        let _ = fs::remove_dir_all(&staging); // made by this call, just above
    }
    result
}

fn refuse_occupied(dest: &Path) -> Result<(), FetchError> {
    let Ok(meta) = fs::symlink_metadata(dest) else {
        return Ok(());
    };
    let empty = meta.is_dir() && fs::read_dir(dest).map_err(io(dest))?.next().is_none();
    if empty {
        return Ok(());
    }
    Err(io(dest)(std::io::Error::other(
        "is already there and is not an empty folder; an archive is unpacked only into a new folder: move it away, or name another",
    )))
}

/// A new folder beside `dest` that no one else made: `create_dir` fails on an existing one.
fn fresh_folder(parent: &Path, dest: &Path) -> Result<PathBuf, FetchError> {
    let name = dest
        .file_name()
        .map_or("archive".into(), |n| n.to_string_lossy());
    let mut last = None;
    for n in 0..100 {
        let staging = parent.join(format!(".{name}.extracting-{}-{n}", std::process::id()));
        match fs::create_dir(&staging) {
            Ok(()) => return Ok(staging),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => last = Some(e),
            Err(e) => return Err(io(&staging)(e)),
        }
    }
    Err(io(parent)(last.expect("100 tries")))
}

fn unpack(
    archive: &Path,
    dest: &Path,
    staging: &Path,
    limits: &ArchiveLimits,
) -> Result<Vec<PathBuf>, FetchError> {
    let refuse = |what: String| FetchError::Archive {
        archive: archive.to_path_buf(),
        what,
    };
    let gz = flate2::read::GzDecoder::new(File::open(archive).map_err(io(archive))?);
    // Headers, long names and padding come on top of the entries' sizes.
    let slack = limits
        .max_entries
        .saturating_mul(4096)
        .saturating_add(1 << 20);
    let mut tar = tar::Archive::new(Bounded {
        inner: gz,
        left: limits.max_bytes.saturating_add(slack),
        max: limits.max_bytes,
    });
    let (mut written, mut refused) = (Vec::new(), Vec::new());
    let (mut entries, mut bytes) = (0u64, 0u64);
    for entry in tar.entries().map_err(|e| refuse(e.to_string()))? {
        let mut entry = entry.map_err(|e| refuse(e.to_string()))?;
        entries += 1;
        bytes = bytes.saturating_add(entry.size());
        if entries > limits.max_entries {
            return Err(refuse(format!(
                "it has more than {} entries, more than this archive may hold; nothing was unpacked. Delete it and download it again",
                limits.max_entries
            )));
        }
        if bytes > limits.max_bytes {
            return Err(refuse(too_big(limits.max_bytes)));
        }
        let path = entry
            .path()
            .map_err(|e| refuse(e.to_string()))?
            .into_owned();
        let kind = entry.header().entry_type();
        if let Some(why) = refusal(&path, kind, dest) {
            refused.push(format!("`{}` ({why})", path.display()));
        } else if kind.is_dir() || kind.is_file() || kind == EntryType::Continuous {
            let in_dest = entry.unpack_in(staging);
            in_dest.map_err(|e| refuse(format!("`{}`: {e}", path.display())))?;
            if !kind.is_dir() {
                written.push(path);
            }
        }
    }
    if refused.is_empty() {
        return Ok(written);
    }
    let more = refused.len().saturating_sub(NAMED);
    refused.truncate(NAMED);
    let more = if more > 0 {
        format!(" and {more} more")
    } else {
        String::new()
    };
    Err(refuse(format!(
        "refusing to extract {}{more}; nothing was unpacked into {}. The archive is not the one expected: delete it and download it again",
        refused.join(", "),
        dest.display()
    )))
}

/// Why an entry may not be unpacked, if it may not.
fn refusal(path: &Path, kind: EntryType, dest: &Path) -> Option<String> {
    let escapes = path
        .components()
        .any(|c| !matches!(c, Component::Normal(_) | Component::CurDir));
    if escapes {
        return Some(format!("it would land outside {}", dest.display()));
    }
    let what = match kind {
        EntryType::Regular | EntryType::Continuous | EntryType::Directory => return None,
        EntryType::XGlobalHeader => return None, // metadata for the entries, skipped
        EntryType::Symlink | EntryType::Link => "a link",
        EntryType::Char => "a character device",
        EntryType::Block => "a block device",
        EntryType::Fifo => "a fifo",
        EntryType::GNUSparse => "a sparse file",
        _ => "not a plain file or folder",
    };
    Some(what.into())
}

fn too_big(max: u64) -> String {
    format!(
        "it unpacks to more than {max} bytes, more than this archive may hold; nothing was unpacked. Delete it and download it again"
    )
}

/// Fails once more than `left` bytes come out of the decompressor (a gzip bomb, or tar
/// headers whose long names the reader would keep in memory).
struct Bounded<R> {
    inner: R,
    left: u64,
    max: u64,
}

impl<R: Read> Read for Bounded<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.left == 0 {
            let mut probe = [0u8; 1];
            return match self.inner.read(&mut probe)? {
                0 => Ok(0),
                _ => Err(std::io::Error::other(too_big(self.max))),
            };
        }
        let want = buf
            .len()
            .min(usize::try_from(self.left).unwrap_or(usize::MAX));
        let n = self.inner.read(&mut buf[..want])?;
        self.left -= n as u64;
        Ok(n)
    }
}
