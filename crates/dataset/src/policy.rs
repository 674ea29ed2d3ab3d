//! The file policy every reader shares: which names are images, which paths stay inside,
//! and each file taken once, whatever links lead to it.

use std::collections::BTreeMap;
use std::path::Path;

use crate::DatasetError;

use crate::IMAGE_EXTENSIONS;

pub(crate) fn is_hidden(path: &Path) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.starts_with('.'))
}

/// Relative, without `..`: joined to the manifest's folder, it stays inside.
pub(crate) fn stays_inside(path: &Path) -> bool {
    path.components().next().is_some()
        && path.components().all(|c| {
            matches!(
                c,
                std::path::Component::Normal(_) | std::path::Component::CurDir
            )
        })
}

pub(crate) fn has_image_extension(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| IMAGE_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
}

pub(crate) fn relative(root: &Path, path: &Path) -> String {
    let rel = path.strip_prefix(root).unwrap_or(path);
    rel.components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

/// Where each folder and file was first reached (its label and relative path): through
/// symbolic links one file can be reached twice, and under two classes it would be
/// scored with both labels.
#[derive(Default)]
pub(crate) struct Seen {
    pub(crate) folders: BTreeMap<FileId, (usize, String)>,
    pub(crate) files: BTreeMap<FileId, (usize, String)>,
}

/// Device and inode: the same for every path to one file, symbolic or hard links alike.
pub(crate) type FileId = (u64, u64);

/// The identity of what `path` leads to (links followed).
pub(crate) fn file_id(path: &Path) -> std::io::Result<FileId> {
    use std::os::unix::fs::MetadataExt;
    let meta = std::fs::metadata(path)?;
    Ok((meta.dev(), meta.ino()))
}

impl Seen {
    /// `Ok(None)` the first time, `Ok(Some(first path))` again under the same label, an
    /// error naming both paths under another label.
    pub(crate) fn visit(
        map: &mut BTreeMap<FileId, (usize, String)>,
        id: FileId,
        what: &str,
        label: usize,
        relative: &str,
        classes: &[String],
    ) -> Result<Option<String>, DatasetError> {
        match map.get(&id) {
            None => {
                map.insert(id, (label, relative.to_string()));
                Ok(None)
            }
            Some((first_label, first)) if *first_label == label => Ok(Some(first.clone())),
            Some((first_label, first)) => Err(DatasetError::Duplicate(format!(
                "{relative} (class `{}`) and {first} (class `{}`) are the same {what}, reached through a symbolic or hard link: its images would be scored under both labels. Remove the link or the copy in the wrong class",
                classes[label], classes[*first_label],
            ))),
        }
    }
}
