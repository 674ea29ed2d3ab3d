//! Finding the images of a dataset: a folder per class.
//!
//! Policy (documented in docs/experiments.md, "Dataset policy"): names starting with `.` are
//! ignored; files whose extension is not an image format's are listed as skipped; sub-folders
//! inside a class folder belong to that class; symbolic links are followed, each folder and
//! file at most once (loops end there; a second path to the same file is listed as skipped),
//! and a folder or file reached under two classes is an error naming both paths; everything
//! is sorted by path so every run sees the same order.

use std::path::{Path, PathBuf};

use ontosweep_results::SkippedFile;

use crate::policy::{Seen, file_id, has_image_extension, is_hidden, relative};
use crate::{ClassSource, Dataset, DatasetError, DatasetImage, IMAGE_EXTENSIONS, ImageList};

/// Scans `root/<class>/**`. `wanted` picks and orders classes; all folders otherwise.
pub fn scan_folder(root: &Path, wanted: Option<&[String]>) -> Result<Dataset, DatasetError> {
    if !root.is_dir() {
        return Err(DatasetError::Unreadable(format!(
            "dataset folder {} does not exist. Put one sub-folder per class there, pass --data-root DIR, or set `dataset.download` to a known archive",
            root.display()
        )));
    }
    let mut folders: Vec<String> = read_sorted(root)?
        .into_iter()
        .filter(|p| p.is_dir() && !is_hidden(p))
        .filter_map(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .collect();
    let classes: Vec<String> = match wanted {
        Some(wanted) => {
            let missing: Vec<&String> = wanted.iter().filter(|c| !folders.contains(c)).collect();
            if !missing.is_empty() {
                return Err(DatasetError::Classes(format!(
                    "dataset folder {} has no sub-folder for class {}; it has: {}",
                    root.display(),
                    missing
                        .iter()
                        .map(|c| format!("`{c}`"))
                        .collect::<Vec<_>>()
                        .join(", "),
                    folders.join(", ")
                )));
            }
            wanted.to_vec()
        }
        None => std::mem::take(&mut folders),
    };
    if classes.is_empty() {
        return Err(DatasetError::Empty(format!(
            "dataset folder {} has no class sub-folders",
            root.display()
        )));
    }
    let mut walk = Walk {
        root,
        label: 0,
        seen: Seen::default(),
        images: Vec::new(),
        skipped: Vec::new(),
    };
    for (label, class) in classes.iter().enumerate() {
        walk.label = label;
        let before = walk.images.len();
        walk.folder(&root.join(class), &classes)?;
        if walk.images.len() == before {
            return Err(DatasetError::Classes(format!(
                "class folder {} holds no image files ({}); add images or leave the class out with `dataset.classes`",
                root.join(class).display(),
                IMAGE_EXTENSIONS.join(", ")
            )));
        }
    }
    let Walk {
        mut images,
        mut skipped,
        ..
    } = walk;
    images.sort_by(|a: &DatasetImage, b| a.relative.cmp(&b.relative));
    skipped.sort_by(|a: &SkippedFile, b| a.path.cmp(&b.path));
    Ok(Dataset {
        root: root.to_path_buf(),
        class_source: if wanted.is_some() {
            ClassSource::Listed
        } else {
            ClassSource::Folders
        },
        classes,
        images: ImageList::new(&images)?,
        skipped,
        label_lines: None,
        warnings: Vec::new(),
        display: std::collections::BTreeMap::new(),
    })
}

fn read_sorted(dir: &Path) -> Result<Vec<PathBuf>, DatasetError> {
    let entries = std::fs::read_dir(dir).map_err(|e| {
        DatasetError::Unreadable(format!("cannot read folder {}: {e}", dir.display()))
    })?;
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    Ok(paths)
}

/// One scan of a dataset folder, class by class.
struct Walk<'a> {
    root: &'a Path,
    label: usize,
    seen: Seen,
    images: Vec<DatasetImage>,
    skipped: Vec<SkippedFile>,
}

impl Walk<'_> {
    fn skip(&mut self, path: &Path, reason: String) {
        self.skipped.push(SkippedFile {
            path: relative(self.root, path),
            reason,
        });
    }

    fn folder(&mut self, dir: &Path, classes: &[String]) -> Result<(), DatasetError> {
        let id = file_id(dir).map_err(|e| {
            DatasetError::Unreadable(format!("cannot resolve folder {}: {e}", dir.display()))
        })?;
        let here = relative(self.root, dir);
        if let Some(first) = Seen::visit(
            &mut self.seen.folders,
            id,
            "folder",
            self.label,
            &here,
            classes,
        )? {
            self.skip(
                dir,
                format!("folder already visited as {first} (symbolic link loop or repeat)"),
            );
            return Ok(());
        }
        for path in read_sorted(dir)? {
            if is_hidden(&path) {
                continue;
            }
            // `is_dir`/`is_file` follow symbolic links; a dangling link is neither.
            if path.is_dir() {
                self.folder(&path, classes)?;
            } else if !path.is_file() {
                self.skip(&path, "broken symbolic link or special file".into());
            } else if has_image_extension(&path) {
                self.file(path, classes)?;
            } else {
                self.skip(&path, "not an image file (by extension)".into());
            }
        }
        Ok(())
    }

    fn file(&mut self, path: PathBuf, classes: &[String]) -> Result<(), DatasetError> {
        let relative = relative(self.root, &path);
        let id = file_id(&path).map_err(|e| {
            DatasetError::Unreadable(format!("cannot resolve {}: {e}", path.display()))
        })?;
        match Seen::visit(
            &mut self.seen.files,
            id,
            "file",
            self.label,
            &relative,
            classes,
        )? {
            Some(first) => self.skip(&path, format!("the same file as {first}, counted once")),
            None => self.images.push(DatasetImage {
                relative,
                path,
                label: self.label,
                member: None,
            }),
        }
        Ok(())
    }
}
