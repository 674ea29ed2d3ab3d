//! Finding the images of a dataset: a folder per class, or a CSV manifest.
//!
//! Policy (documented in README): names starting with `.` are ignored; files whose extension
//! is not an image format's are listed as skipped; sub-folders inside a class folder belong
//! to that class; symbolic links are followed, each folder at most once (loops end there);
//! everything is sorted by path so every run sees the same order.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use ontosweep_results::SkippedFile;

pub const IMAGE_EXTENSIONS: &[&str] = &["jpg", "jpeg", "png", "webp", "gif", "bmp", "tif", "tiff"];

#[derive(Debug, Clone)]
pub struct Dataset {
    pub root: PathBuf,
    pub classes: Vec<String>,
    pub images: Vec<DatasetImage>,
    pub skipped: Vec<SkippedFile>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct DatasetImage {
    pub path: PathBuf,
    /// Relative to the dataset root, with `/` separators.
    pub relative: String,
    pub label: usize,
}

fn is_hidden(path: &Path) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.starts_with('.'))
}

fn has_image_extension(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| IMAGE_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
}

fn relative(root: &Path, path: &Path) -> String {
    let rel = path.strip_prefix(root).unwrap_or(path);
    rel.components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

/// Scans `root/<class>/**`. `wanted` picks and orders classes; all folders otherwise.
pub fn scan_folder(root: &Path, wanted: Option<&[String]>) -> Result<Dataset, String> {
    if !root.is_dir() {
        return Err(format!(
            "dataset folder {} does not exist. Put one sub-folder per class there, pass --data-root DIR, or set `dataset.download` to a known archive",
            root.display()
        ));
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
                return Err(format!(
                    "dataset folder {} has no sub-folder for class {}; it has: {}",
                    root.display(),
                    missing
                        .iter()
                        .map(|c| format!("`{c}`"))
                        .collect::<Vec<_>>()
                        .join(", "),
                    folders.join(", ")
                ));
            }
            wanted.to_vec()
        }
        None => std::mem::take(&mut folders),
    };
    if classes.is_empty() {
        return Err(format!(
            "dataset folder {} has no class sub-folders",
            root.display()
        ));
    }
    let mut images = Vec::new();
    let mut skipped = Vec::new();
    for (label, class) in classes.iter().enumerate() {
        let mut visited = BTreeSet::new();
        let before = images.len();
        walk(
            root,
            &root.join(class),
            label,
            &mut visited,
            &mut images,
            &mut skipped,
        )?;
        if images.len() == before {
            return Err(format!(
                "class folder {} holds no image files ({}); add images or leave the class out with `dataset.classes`",
                root.join(class).display(),
                IMAGE_EXTENSIONS.join(", ")
            ));
        }
    }
    images.sort_by(|a: &DatasetImage, b| a.relative.cmp(&b.relative));
    skipped.sort_by(|a: &SkippedFile, b| a.path.cmp(&b.path));
    Ok(Dataset {
        root: root.to_path_buf(),
        classes,
        images,
        skipped,
    })
}

fn read_sorted(dir: &Path) -> Result<Vec<PathBuf>, String> {
    let entries =
        std::fs::read_dir(dir).map_err(|e| format!("cannot read folder {}: {e}", dir.display()))?;
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    Ok(paths)
}

fn walk(
    root: &Path,
    dir: &Path,
    label: usize,
    visited: &mut BTreeSet<PathBuf>,
    images: &mut Vec<DatasetImage>,
    skipped: &mut Vec<SkippedFile>,
) -> Result<(), String> {
    let canonical = dir
        .canonicalize()
        .map_err(|e| format!("cannot resolve folder {}: {e}", dir.display()))?;
    if !visited.insert(canonical) {
        skipped.push(SkippedFile {
            path: relative(root, dir),
            reason: "folder already visited (symbolic link loop or repeat)".into(),
        });
        return Ok(());
    }
    for path in read_sorted(dir)? {
        if is_hidden(&path) {
            continue;
        }
        // `is_dir`/`is_file` follow symbolic links; a dangling link is neither.
        if path.is_dir() {
            walk(root, &path, label, visited, images, skipped)?;
        } else if !path.is_file() {
            skipped.push(SkippedFile {
                path: relative(root, &path),
                reason: "broken symbolic link or special file".into(),
            });
        } else if has_image_extension(&path) {
            images.push(DatasetImage {
                relative: relative(root, &path),
                path,
                label,
            });
        } else {
            skipped.push(SkippedFile {
                path: relative(root, &path),
                reason: "not an image file (by extension)".into(),
            });
        }
    }
    Ok(())
}

/// Reads a `path,label` CSV (with that header); paths are relative to the CSV's folder.
pub fn read_manifest(manifest: &Path, wanted: Option<&[String]>) -> Result<Dataset, String> {
    let folder = manifest.parent().unwrap_or(Path::new("."));
    let mut reader = csv::Reader::from_path(manifest)
        .map_err(|e| format!("cannot read manifest {}: {e}", manifest.display()))?;
    let headers = reader
        .headers()
        .map_err(|e| format!("{}: {e}", manifest.display()))?
        .clone();
    let column = |name: &str| {
        headers.iter().position(|h| h == name).ok_or_else(|| {
            format!(
                "{}: the header needs a `{name}` column (path,label)",
                manifest.display()
            )
        })
    };
    let (path_column, label_column) = (column("path")?, column("label")?);
    let mut rows = Vec::new();
    for (line, record) in reader.records().enumerate() {
        let record = record.map_err(|e| format!("{}:{}: {e}", manifest.display(), line + 2))?;
        rows.push((
            record[path_column].to_string(),
            record[label_column].to_string(),
            line + 2,
        ));
    }
    let classes: Vec<String> = match wanted {
        Some(w) => w.to_vec(),
        None => rows
            .iter()
            .map(|(_, l, _)| l.clone())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect(),
    };
    let mut images = Vec::new();
    let mut skipped = Vec::new();
    for (path, label, line) in rows {
        let Some(index) = classes.iter().position(|c| *c == label) else {
            if wanted.is_none() {
                return Err(format!(
                    "{}:{line}: label `{label}` is unknown",
                    manifest.display()
                ));
            }
            continue; // a class left out on purpose
        };
        let full = folder.join(&path);
        if full.is_file() {
            images.push(DatasetImage {
                path: full,
                relative: path,
                label: index,
            });
        } else {
            skipped.push(SkippedFile {
                path,
                reason: format!("listed on line {line} of the manifest but not found"),
            });
        }
    }
    for (index, class) in classes.iter().enumerate() {
        if !images.iter().any(|i| i.label == index) {
            return Err(format!(
                "{}: class `{class}` has no images",
                manifest.display()
            ));
        }
    }
    images.sort_by(|a, b| a.relative.cmp(&b.relative));
    Ok(Dataset {
        root: folder.to_path_buf(),
        classes,
        images,
        skipped,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manifest_lists_images_and_labels() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("img")).unwrap();
        for name in ["a.jpg", "b.jpg", "c.jpg"] {
            std::fs::write(dir.path().join("img").join(name), b"x").unwrap();
        }
        let manifest = dir.path().join("labels.csv");
        std::fs::write(&manifest, "path,label\nimg/b.jpg,dandelion\nimg/a.jpg,daisy\nimg/gone.jpg,daisy\nimg/c.jpg,rose\n").unwrap();
        let all = read_manifest(&manifest, None).unwrap();
        assert_eq!(all.classes, vec!["daisy", "dandelion", "rose"]);
        assert_eq!(
            all.images
                .iter()
                .map(|i| (i.relative.as_str(), i.label))
                .collect::<Vec<_>>(),
            vec![("img/a.jpg", 0), ("img/b.jpg", 1), ("img/c.jpg", 2)]
        );
        assert_eq!(all.skipped.len(), 1);
        assert!(
            all.skipped[0].reason.contains("line 4"),
            "{:?}",
            all.skipped
        );
        // A subset, in the given order: other labels are left out.
        let subset = read_manifest(&manifest, Some(&["dandelion".into(), "daisy".into()])).unwrap();
        assert_eq!(
            subset.images.iter().map(|i| i.label).collect::<Vec<_>>(),
            vec![1, 0]
        );
        let err = read_manifest(&manifest, Some(&["tulip".into()])).unwrap_err();
        assert!(err.contains("class `tulip` has no images"), "{err}");
    }

    #[test]
    fn folders_give_classes_in_order_and_a_missing_class_is_named() {
        let dir = tempfile::tempdir().unwrap();
        for class in ["b", "a", ".hidden"] {
            std::fs::create_dir_all(dir.path().join(class)).unwrap();
            std::fs::write(dir.path().join(class).join("x.png"), b"x").unwrap();
        }
        assert_eq!(
            scan_folder(dir.path(), None).unwrap().classes,
            vec!["a", "b"]
        );
        let err = scan_folder(dir.path(), Some(&["a".into(), "c".into()])).unwrap_err();
        assert!(
            err.contains("no sub-folder for class `c`") && err.contains("it has: a, b"),
            "{err}"
        );
    }
}
