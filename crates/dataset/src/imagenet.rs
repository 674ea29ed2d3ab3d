//! ImageNet-1k's validation (or training) images as torchvision's `ImageNet` and
//! `ImageFolder` leave them: `<folder>/val/<wnid>/*.JPEG`. The class index is the WordNet id's
//! place among the 1,000 sorted ids, and every one of the 1,000 is a candidate; the names
//! are a published list in that order (CLIP_benchmark's, OpenAI's curated names).

use std::path::{Path, PathBuf};

use crate::classnames::{TaggedNames, tag_repeated_names};
use crate::policy::is_hidden;
use crate::{ClassSource, Dataset, DatasetError, scan_folder};

/// Reads `<folder>/<split>/<wnid>/`, naming class N `names[N]`; `wanted` (class names) keeps
/// some, in that order.
pub fn read_imagenet(
    folder: &Path,
    split: &str,
    names: &[String],
    names_source: &str,
    wanted: Option<&[String]>,
) -> Result<Dataset, DatasetError> {
    let wnids = ontosweep_catalog::imagenet_wnids();
    if names.len() != wnids.len() {
        return Err(DatasetError::Classes(format!(
            "{names_source} names {} classes, but ImageNet-1k has {}: give a list of 1,000 names in class-index order",
            names.len(),
            wnids.len()
        )));
    }
    let split_dir = split_folder(folder, split)?;
    let present = class_folders(&split_dir)?;
    let unknown: Vec<&String> = present
        .iter()
        .filter(|w| wnids.binary_search(w).is_err())
        .collect();
    if !unknown.is_empty() {
        let shown: Vec<&str> = unknown.iter().take(5).map(|w| w.as_str()).collect();
        return Err(DatasetError::Classes(format!(
            "{} holds {} folder(s) that are not ImageNet-1k WordNet ids: {}. Move them out; each class folder is named by its id (n01440764 …)",
            split_dir.display(),
            unknown.len(),
            shown.join(", ")
        )));
    }
    let TaggedNames {
        classes: all,
        display,
        warnings,
    } = tag_repeated_names(names, |index| wnids[index].clone());
    let classes: Vec<String> = match wanted {
        Some(wanted) => {
            if let Some(stranger) = wanted.iter().find(|w| !all.contains(w)) {
                return Err(DatasetError::Classes(format!(
                    "`dataset.classes` lists `{stranger}`, which is not among ImageNet-1k's class names ({names_source})"
                )));
            }
            wanted.to_vec()
        }
        None => all.clone(),
    };
    let wnid_of = |class: &str| {
        let index = all
            .iter()
            .position(|c| c == class)
            .expect("a checked class");
        wnids[index].clone()
    };
    let kept: Vec<String> = classes
        .iter()
        .map(|c| wnid_of(c))
        .filter(|w| present.contains(w))
        .collect();
    let mut dataset = if kept.is_empty() {
        Dataset {
            root: split_dir.clone(),
            classes: Vec::new(),
            class_source: ClassSource::Listed,
            images: Default::default(),
            skipped: Vec::new(),
            label_lines: None,
            warnings: Vec::new(),
            display: Default::default(),
        }
    } else {
        scan_folder(&split_dir, Some(&kept))?
    };
    // Folders of classes left out are not read: their files are no sample of this task.
    let relabelled: Vec<usize> = kept
        .iter()
        .map(|wnid| {
            let index = wnids.binary_search(wnid).expect("a known id");
            classes
                .iter()
                .position(|c| *c == all[index])
                .expect("a kept class")
        })
        .collect();
    dataset.images.relabel(|label| relabelled[label]);
    dataset.classes = classes;
    dataset.class_source = match wanted {
        Some(_) => ClassSource::Listed,
        None => ClassSource::NamesFile(PathBuf::from(names_source)),
    };
    crate::refuse_empty_classes(
        &dataset.classes,
        dataset.images.labels(),
        &dataset.class_source,
    )
    .map_err(|e| {
        e.map(|m| {
            format!(
                "{} (ImageNet: {}): {m}",
                split_dir.display(),
                "one folder per WordNet id"
            )
        })
    })?;
    dataset.display = display
        .into_iter()
        .filter(|(class, _)| dataset.classes.contains(class))
        .collect();
    dataset.warnings.extend(warnings);
    Ok(dataset)
}

/// `<folder>/<split>`, or `folder` itself when it already holds the class folders.
fn split_folder(folder: &Path, split: &str) -> Result<PathBuf, DatasetError> {
    let inside = folder.join(split);
    if inside.is_dir() {
        return Ok(inside);
    }
    if folder.is_dir() && holds_wnid_folders(folder) {
        return Ok(folder.to_path_buf());
    }
    Err(DatasetError::Unreadable(format!(
        "{} has no `{split}` folder of ImageNet classes (`{split}/n01440764/…`). Give the folder torchvision's `ImageNet(root)` uses, or the `{split}` folder itself",
        folder.display()
    )))
}

fn holds_wnid_folders(folder: &Path) -> bool {
    std::fs::read_dir(folder).is_ok_and(|entries| {
        entries.flatten().take(10_000).any(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            e.path().is_dir() && looks_like_wnid(&name)
        })
    })
}

fn looks_like_wnid(name: &str) -> bool {
    name.len() == 9 && name.starts_with('n') && name[1..].bytes().all(|b| b.is_ascii_digit())
}

/// The class folders, sorted; image files lying loose beside them mean the validation
/// images were never sorted into folders.
fn class_folders(split_dir: &Path) -> Result<Vec<String>, DatasetError> {
    let entries = std::fs::read_dir(split_dir).map_err(|e| {
        DatasetError::Unreadable(format!("cannot read {}: {e}", split_dir.display()))
    })?;
    let mut folders = Vec::new();
    let mut loose = 0usize;
    for entry in entries.flatten() {
        let path = entry.path();
        if is_hidden(&path) {
            continue;
        }
        if path.is_dir() {
            folders.push(entry.file_name().to_string_lossy().into_owned());
        } else if crate::policy::has_image_extension(&path) {
            loose += 1;
        }
        if folders.len() + loose > 100_000 {
            return Err(DatasetError::Malformed(format!(
                "{} holds more than 100,000 entries; ImageNet has 1,000 class folders",
                split_dir.display()
            )));
        }
    }
    if loose > 0 {
        return Err(DatasetError::Malformed(format!(
            "{} holds {loose} image file(s) outside any class folder: the validation images must first be sorted into `<wnid>/` folders (torchvision's `ImageNet` does it with the devkit's ground truth)",
            split_dir.display()
        )));
    }
    folders.sort();
    Ok(folders)
}
