//! Which folders the report writer may replace, and replacing them whole or not at all.
//!
//! A report folder carries [`MARKER`]: the list of files ontosweep wrote there, with their
//! sha256. Only a missing folder, an empty one, or one whose every entry is listed in its
//! marker with unchanged content may be replaced; anything else is refused before any
//! byte is written. Replacement stages the new report beside the old one, moves the old one
//! aside, renames the new one in and then deletes exactly the files the old marker lists.
//! A run killed between those steps leaves hidden siblings that the next run recognises
//! (by their names and markers) and finishes: the old report is restored if the new one
//! never arrived, and leftovers are removed.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{ReportError, io_error};
use crate::shard_records;

/// The file in every report folder that says ontosweep wrote it, and what.
pub const MARKER: &str = ".ontosweep-report.json";
const STAGING: &str = "ontosweep-staging";
const ASIDE: &str = "ontosweep-old";
/// A marker larger than this is not one of ours.
const MAX_MARKER_BYTES: u64 = 16 << 20;
/// Foreign entries named in a refusal; the rest are counted.
const NAMED_ENTRIES: usize = 5;

static UNIQUE: AtomicU64 = AtomicU64::new(0);

#[derive(Serialize, Deserialize, Default)]
struct Marker {
    tool: String,
    version: String,
    /// Relative path (`/`-separated) → sha256 of the content written.
    files: BTreeMap<String, String>,
    /// Folders written, including any left empty.
    #[serde(default)]
    folders: BTreeSet<String>,
}

impl Marker {
    /// Every folder the marker accounts for: those listed and those holding listed files.
    fn all_folders(&self) -> BTreeSet<String> {
        let holding = self.files.keys().flat_map(|f| ancestors(f));
        let listed = self
            .folders
            .iter()
            .filter(|f| is_plain_relative(f))
            .cloned();
        holding.chain(listed).collect()
    }

    fn new(files: BTreeMap<String, String>) -> Self {
        Self {
            tool: "ontosweep".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            files,
            folders: BTreeSet::new(),
        }
    }
}

fn refused(dir: &Path, why: String) -> ReportError {
    ReportError::NotOurs {
        path: dir.to_path_buf(),
        why,
    }
}

/// The folder `dir` lives in and its own name, refusing names like `..` or `/`.
fn split(dir: &Path) -> Result<(PathBuf, String), ReportError> {
    // `components()` hides a trailing `/.`; the raw text does not.
    let raw = dir.as_os_str().as_encoded_bytes();
    let trimmed = raw.strip_suffix(b"/").unwrap_or(raw);
    let last = trimmed.rsplit(|&b| b == b'/').next().unwrap_or_default();
    let name = match dir.components().next_back() {
        _ if last == b"." || last == b".." => None,
        Some(Component::Normal(name)) => Some(name.to_string_lossy().into_owned()),
        _ => None,
    };
    let name = match name {
        Some(name) => name,
        None => {
            return Err(refused(
                dir,
                "does not end in a folder name; name the report folder itself, e.g. reports/mine"
                    .into(),
            ));
        }
    };
    let parent = dir
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    Ok((parent.to_path_buf(), name))
}

/// Ok when ontosweep may put a report at `dir`: nothing there, an empty folder, or a
/// report folder it wrote and nobody changed since. Reads only; call it before long work.
pub fn check_replaceable(dir: &Path) -> Result<(), ReportError> {
    let (parent, name) = split(dir)?;
    // Rebuilt from its parts: `link/` with a trailing slash would follow the link.
    let dir = &parent.join(name);
    match std::fs::symlink_metadata(dir) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(io_error(dir)(e)),
        Ok(meta) if meta.file_type().is_symlink() => Err(refused(
            dir,
            "is a symbolic link; ontosweep replaces only report folders it wrote. Name a new folder with --out".into(),
        )),
        Ok(meta) if !meta.is_dir() => Err(refused(
            dir,
            "is a file, not a report folder; name a new folder with --out".into(),
        )),
        Ok(_) => owned_files(dir).map(|_| ()),
    }
}

/// The marker of `dir`, after checking that the folder holds nothing else
/// and that none of them changed. An empty folder lists nothing.
fn owned_files(dir: &Path) -> Result<Marker, ReportError> {
    let mut entries = Vec::new();
    list_entries(dir, dir, &mut entries)?;
    // Shard records are ours whether or not a report lists them.
    entries.retain(|(path, _)| !shard_records::is_shard_entry(dir, path));
    if entries.is_empty() {
        return Ok(Marker::default());
    }
    let marker = read_marker(dir).ok_or_else(|| {
        refused(
            dir,
            format!(
                "holds files ontosweep did not write ({}); it replaces only report folders it made. Name a new folder with --out, or move the files out",
                name_some(entries.iter().map(|(p, _)| p.as_str()))
            ),
        )
    })?;
    let listed_folders = marker.all_folders();
    let foreign: Vec<&str> = entries
        .iter()
        .filter(|(path, kind)| match kind {
            // A file that cannot be read cannot be shown to be ours.
            EntryKind::File => {
                path != MARKER
                    && match sha256_file(&dir.join(path)) {
                        Some(hash) => marker.files.get(path) != Some(&hash),
                        None => true,
                    }
            }
            EntryKind::Folder => !listed_folders.contains(path),
            EntryKind::Other => true,
        })
        .map(|(p, _)| p.as_str())
        .collect();
    if !foreign.is_empty() {
        return Err(refused(
            dir,
            format!(
                "is a report folder, but these were added or changed since ontosweep wrote it: {}. Move them out (or delete the folder yourself) and run again, or name a new folder with --out",
                name_some(foreign.into_iter())
            ),
        ));
    }
    Ok(marker)
}

#[derive(PartialEq)]
enum EntryKind {
    File,
    Folder,
    /// Symbolic links, sockets, devices: never written by ontosweep.
    Other,
}

fn list_entries(
    root: &Path,
    dir: &Path,
    out: &mut Vec<(String, EntryKind)>,
) -> Result<(), ReportError> {
    for entry in std::fs::read_dir(dir).map_err(io_error(dir))? {
        let entry = entry.map_err(io_error(dir))?;
        let path = entry.path();
        let relative = relative(root, &path);
        let kind = entry.file_type().map_err(io_error(&path))?;
        if kind.is_dir() {
            out.push((relative, EntryKind::Folder));
            list_entries(root, &path, out)?;
        } else if kind.is_file() {
            out.push((relative, EntryKind::File));
        } else {
            out.push((relative, EntryKind::Other));
        }
    }
    Ok(())
}

fn relative(root: &Path, path: &Path) -> String {
    path.strip_prefix(root)
        .unwrap_or(path)
        .components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

/// `a/b/c.jpg` → `a`, `a/b`.
fn ancestors(file: &str) -> Vec<String> {
    let parts: Vec<&str> = file.split('/').collect();
    (1..parts.len()).map(|n| parts[..n].join("/")).collect()
}

fn name_some<'a>(mut names: impl Iterator<Item = &'a str>) -> String {
    let shown: Vec<String> = names
        .by_ref()
        .take(NAMED_ENTRIES)
        .map(|n| format!("{n:?}"))
        .collect();
    let rest = names.count();
    if rest == 0 {
        shown.join(", ")
    } else {
        format!("{} and {rest} more", shown.join(", "))
    }
}

fn read_marker(dir: &Path) -> Option<Marker> {
    let path = dir.join(MARKER);
    let meta = std::fs::symlink_metadata(&path).ok()?;
    if !meta.is_file() || meta.len() > MAX_MARKER_BYTES {
        return None;
    }
    let marker: Marker = serde_json::from_slice(&std::fs::read(&path).ok()?).ok()?;
    let safe = marker.files.keys().all(|f| is_plain_relative(f))
        && marker.folders.iter().all(|f| is_plain_relative(f));
    (marker.tool == "ontosweep" && safe).then_some(marker)
}

/// A marker never names anything outside its folder, however it was edited.
fn is_plain_relative(path: &str) -> bool {
    !path.is_empty()
        && path
            .split('/')
            .all(|part| !part.is_empty() && part != "." && part != "..")
        && !path.contains('\\')
        && path != MARKER
}

fn sha256_file(path: &Path) -> Option<String> {
    let mut file = std::fs::File::open(path).ok()?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 1 << 16];
    loop {
        match file.read(&mut buffer) {
            Ok(0) => break,
            Ok(n) => hasher.update(&buffer[..n]),
            Err(_) => return None,
        }
    }
    Some(hex::encode(hasher.finalize()))
}

/// Writes a report into `dir` through `write` (which fills the folder it is given and
/// returns the relative paths it wrote), replacing the report there whole or not at all.
pub fn replace_whole(
    dir: &Path,
    write: impl FnOnce(&Path) -> Result<Vec<PathBuf>, ReportError>,
) -> Result<Vec<PathBuf>, ReportError> {
    let (parent, name) = split(dir)?;
    let dir = &parent.join(&name);
    std::fs::create_dir_all(&parent).map_err(io_error(&parent))?;
    finish_interrupted(&parent, &name)?;
    check_replaceable(dir)?;
    let staging = parent.join(hidden_sibling(&name, STAGING));
    std::fs::create_dir(&staging).map_err(io_error(&staging))?;
    let carry = |new: &Path| -> Result<Vec<PathBuf>, ReportError> {
        let mut written = write(new)?;
        written.extend(shard_records::carry_over(dir, new)?);
        Ok(written)
    };
    let written = fill_staging(&staging, carry).inspect_err(|_| {
        let _ = std::fs::remove_dir_all(&staging);
    })?;
    let aside = parent.join(hidden_sibling(&name, ASIDE));
    let old = match std::fs::symlink_metadata(dir) {
        Ok(_) => {
            // Checked again: the folder may have changed during the sweep.
            let marker = owned_files(dir).inspect_err(|_| {
                let _ = std::fs::remove_dir_all(&staging);
            })?;
            std::fs::rename(dir, &aside)
                .inspect_err(|_| {
                    let _ = std::fs::remove_dir_all(&staging);
                })
                .map_err(io_error(dir))?;
            Some(marker)
        }
        Err(_) => None,
    };
    if let Err(e) = std::fs::rename(&staging, dir) {
        if old.is_some() {
            let _ = std::fs::rename(&aside, dir);
        }
        let _ = std::fs::remove_dir_all(&staging);
        return Err(io_error(dir)(e));
    }
    if let Some(marker) = old {
        shard_records::remove_from(&aside);
        remove_listed(&aside, &marker);
    }
    Ok(written)
}

/// `.<name>.<what>-<pid>-<n>`: hidden, unique, and recognisable by the next run.
fn hidden_sibling(name: &str, what: &str) -> String {
    format!(
        ".{name}.{what}-{}-{}",
        std::process::id(),
        UNIQUE.fetch_add(1, Ordering::Relaxed)
    )
}

fn fill_staging(
    staging: &Path,
    write: impl FnOnce(&Path) -> Result<Vec<PathBuf>, ReportError>,
) -> Result<Vec<PathBuf>, ReportError> {
    // An empty marker first: a staging folder left by a killed run is recognisable.
    write_marker(staging, &Marker::new(BTreeMap::new()))?;
    let written = write(staging)?;
    let mut files = BTreeMap::new();
    for file in &written {
        let relative = relative(Path::new(""), file);
        let hash = sha256_file(&staging.join(file)).ok_or_else(|| {
            io_error(&staging.join(file))(std::io::Error::other("cannot read back"))
        })?;
        files.insert(relative, hash);
    }
    let mut marker = Marker::new(files);
    let mut entries = Vec::new();
    list_entries(staging, staging, &mut entries)?;
    marker.folders = entries
        .into_iter()
        .filter(|(_, kind)| *kind == EntryKind::Folder)
        .map(|(path, _)| path)
        .collect();
    write_marker(staging, &marker)?;
    Ok(written)
}

fn write_marker(dir: &Path, marker: &Marker) -> Result<(), ReportError> {
    let path = dir.join(MARKER);
    let json = serde_json::to_vec_pretty(marker).unwrap_or_default();
    std::fs::write(&path, json).map_err(io_error(&path))
}

/// Deletes exactly the files `marker` lists and the marker from `dir`, then the folders
/// left empty. Anything else found there stays, and so does its folder.
fn remove_listed(dir: &Path, marker: &Marker) {
    for file in marker.files.keys().filter(|f| is_plain_relative(f)) {
        let _ = std::fs::remove_file(dir.join(file));
    }
    // Deepest first; `remove_dir` refuses a folder that is not empty. The marker goes last,
    // so a run killed meanwhile leaves a folder the next run still recognises.
    for folder in marker.all_folders().iter().rev() {
        let _ = std::fs::remove_dir(dir.join(folder));
    }
    let _ = std::fs::remove_file(dir.join(MARKER));
    let _ = std::fs::remove_dir(dir);
}

/// `<pid>-<n>` of a process that is no longer running: a live one is still using it.
fn left_by_a_finished_run(suffix: &str) -> bool {
    let Some((pid, n)) = suffix.split_once('-') else {
        return false;
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    digits(pid)
        && digits(n)
        && (pid == std::process::id().to_string() || !Path::new("/proc").join(pid).exists())
}

/// Finishes what a killed run left beside `parent/name`: restores the old report when the
/// new one never arrived, and removes staging folders and set-aside reports of its own.
fn finish_interrupted(parent: &Path, name: &str) -> Result<(), ReportError> {
    let Ok(entries) = std::fs::read_dir(parent) else {
        return Ok(());
    };
    let prefix = format!(".{name}.");
    let mut leftovers: Vec<(String, PathBuf)> = entries
        .filter_map(Result::ok)
        .filter_map(|e| {
            let file_name = e.file_name().to_str()?.to_string();
            let what = file_name.strip_prefix(&prefix)?;
            let kind = [STAGING, ASIDE].into_iter().find(|k| {
                what.strip_prefix(k)
                    .and_then(|rest| rest.strip_prefix('-'))
                    .is_some_and(left_by_a_finished_run)
            })?;
            e.file_type()
                .ok()?
                .is_dir()
                .then(|| (kind.to_string(), e.path()))
        })
        .collect();
    leftovers.sort();
    let target = parent.join(name);
    for (kind, path) in leftovers {
        if read_marker(&path).is_none() {
            continue; // not ours after all: leave it
        }
        if kind == STAGING {
            let _ = std::fs::remove_dir_all(&path);
        } else if let Ok(marker) = owned_files(&path) {
            if std::fs::symlink_metadata(&target).is_err() {
                std::fs::rename(&path, &target).map_err(io_error(&target))?;
            } else if check_replaceable(&target).is_ok() {
                // The new report arrived; the old one is not needed.
                remove_listed(&path, &marker);
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write_files(dir: &Path) -> Result<Vec<PathBuf>, ReportError> {
        std::fs::create_dir_all(dir.join("thumbs")).unwrap();
        std::fs::write(dir.join("index.html"), "page").unwrap();
        std::fs::write(dir.join("thumbs/1.jpg"), "jpg").unwrap();
        Ok(vec!["index.html".into(), "thumbs/1.jpg".into()])
    }

    #[test]
    fn names_without_a_folder_are_refused() {
        for bad in ["..", ".", "/", "a/..", "reports/.", "reports/./", "x/../"] {
            let err = check_replaceable(Path::new(bad)).unwrap_err().to_string();
            assert!(
                err.contains("does not end in a folder name"),
                "{bad}: {err}"
            );
        }
    }

    #[test]
    fn ancestors_of_nested_files() {
        assert_eq!(ancestors("a/b/c.jpg"), vec!["a", "a/b"]);
        assert!(ancestors("c.jpg").is_empty());
        assert!(!is_plain_relative("../x") && !is_plain_relative("/x"));
        assert!(!is_plain_relative("a//b") && is_plain_relative("thumbs/1.jpg"));
    }

    #[test]
    fn a_killed_replacement_is_finished_by_the_next_run() {
        let temp = tempfile::tempdir().unwrap();
        let report = temp.path().join("r");
        replace_whole(&report, write_files).unwrap();
        // Killed after moving the old report aside, before renaming the new one in.
        let aside = temp.path().join(".r.ontosweep-old-999999999-0");
        std::fs::rename(&report, &aside).unwrap();
        let staging = temp.path().join(".r.ontosweep-staging-999999999-1");
        std::fs::create_dir(&staging).unwrap();
        write_marker(&staging, &Marker::new(BTreeMap::new())).unwrap();
        let foreign = temp.path().join(".r.ontosweep-old-999999998-0");
        std::fs::create_dir(&foreign).unwrap();
        std::fs::write(foreign.join("keep.txt"), "mine").unwrap();

        // A live process's staging folder (pid 1 always runs) and another report's are not
        // this run's to touch.
        let live = temp.path().join(".r.ontosweep-staging-1-0");
        std::fs::create_dir(&live).unwrap();
        write_marker(&live, &Marker::new(BTreeMap::new())).unwrap();
        let other = temp
            .path()
            .join(".r.ontosweep-old-1.ontosweep-staging-999999999-0");
        std::fs::create_dir(&other).unwrap();
        write_marker(&other, &Marker::new(BTreeMap::new())).unwrap();

        finish_interrupted(temp.path(), "r").unwrap();
        assert!(live.exists() && other.exists());
        assert_eq!(
            std::fs::read_to_string(report.join("index.html")).unwrap(),
            "page"
        );
        assert!(!aside.exists() && !staging.exists());
        assert!(foreign.join("keep.txt").exists(), "not ours: left alone");
    }

    #[test]
    fn removal_deletes_only_listed_files() {
        let temp = tempfile::tempdir().unwrap();
        let dir = temp.path().join("old");
        write_files(&dir).unwrap();
        std::fs::write(dir.join("thumbs/late.txt"), "appeared later").unwrap();
        let files = ["index.html", "thumbs/1.jpg"].map(|f| (f.to_string(), String::new()));
        remove_listed(&dir, &Marker::new(files.into_iter().collect()));
        assert!(!dir.join("index.html").exists());
        assert!(dir.join("thumbs/late.txt").exists());
    }
}
