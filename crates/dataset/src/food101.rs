//! Food-101 as its archive unpacks (and torchvision's `Food101` reads it):
//! `food-101/meta/classes.txt`, `food-101/meta/<split>.txt` (lines `apple_pie/1005649`),
//! `food-101/images/<class>/<id>.jpg`. Classes are `classes.txt` in order; prompts read a
//! class's underscores as spaces, as CLIP_benchmark does.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use crate::policy::stays_inside;
use crate::{ClassSource, Dataset, DatasetError, DatasetImage, read_classnames};

/// Largest split list read (the training list is 1.4 MB).
const MAX_SPLIT_FILE_BYTES: u64 = 64 << 20;
/// Most images one split may list.
const MAX_IMAGES: usize = 10_000_000;

pub fn read_food101(
    folder: &Path,
    split: &str,
    wanted: Option<&[String]>,
) -> Result<Dataset, DatasetError> {
    let base = base_folder(folder)?;
    let classes_file = base.join("meta").join("classes.txt");
    let all = read_classnames(&classes_file)?;
    let classes = match wanted {
        Some(wanted) => {
            crate::dataset::refuse_unknown_wanted(Some((&all, &classes_file)), Some(wanted))?;
            wanted.to_vec()
        }
        None => all.clone(),
    };
    let list = base.join("meta").join(format!("{split}.txt"));
    let text = ontosweep_clip::files::read_bounded_text(&list, MAX_SPLIT_FILE_BYTES)
        .map_err(|e| DatasetError::Unreadable(format!("cannot read {}: {e}", list.display())))?;
    let root = base.join("images");
    let labels_of = crate::dataset::ClassIndex::new(&classes);
    let mut images = Vec::new();
    let mut skipped = Vec::new();
    let mut missing = Vec::new();
    let mut seen = BTreeSet::new();
    for (index, line) in text.lines().enumerate() {
        let entry = line.trim();
        if entry.is_empty() {
            continue;
        }
        let at = || format!("{}:{}", list.display(), index + 1);
        let relative = format!("{entry}.jpg");
        let Some((class, _)) = entry.split_once('/') else {
            return Err(DatasetError::Malformed(format!(
                "{}: {entry:?} is not `<class>/<image id>`",
                at()
            )));
        };
        if !all.iter().any(|c| c == class) {
            return Err(DatasetError::Labels(format!(
                "{}: class `{class}` is not in {}",
                at(),
                classes_file.display()
            )));
        }
        if !stays_inside(Path::new(&relative)) || relative.contains('\\') {
            return Err(DatasetError::Malformed(format!(
                "{}: {entry:?} would lead outside {}",
                at(),
                root.display()
            )));
        }
        if !seen.insert(relative.clone()) {
            return Err(DatasetError::Duplicate(format!(
                "{}: {entry:?} is listed twice; it would be scored twice",
                at()
            )));
        }
        let path = root.join(&relative);
        if !std::fs::metadata(&path).is_ok_and(|m| m.is_file()) {
            missing.push(format!("{}: {relative}", at()));
            continue;
        }
        match labels_of.label(class) {
            Some(label) => images.push(DatasetImage {
                path,
                relative,
                label,
                member: None,
            }),
            None => skipped.push(ontosweep_results::SkippedFile {
                path: relative,
                reason: format!("class `{class}` is not one of `dataset.classes`"),
            }),
        }
        if images.len() > MAX_IMAGES {
            return Err(DatasetError::Malformed(format!(
                "{} lists more than {MAX_IMAGES} images",
                list.display()
            )));
        }
    }
    if !missing.is_empty() {
        let shown: Vec<String> = missing.iter().take(5).map(|m| format!("  {m}")).collect();
        return Err(DatasetError::Unreadable(format!(
            "{} listed image(s) are not regular files (an incomplete copy?); copy them again:\n{}",
            missing.len(),
            shown.join("\n")
        )));
    }
    let class_source = match wanted {
        Some(_) => ClassSource::Listed,
        None => ClassSource::NamesFile(classes_file.clone()),
    };
    crate::refuse_empty_classes(&classes, images.iter().map(|i| i.label), &class_source)?;
    images.sort_by(|a, b| a.relative.cmp(&b.relative));
    let display: BTreeMap<String, String> = classes
        .iter()
        .filter(|c| c.contains('_'))
        .map(|c| (c.clone(), c.replace('_', " ")))
        .collect();
    Ok(Dataset {
        root,
        classes,
        class_source,
        images: crate::ImageList::new(&images)?,
        skipped,
        label_lines: None,
        warnings: Vec::new(),
        display,
    })
}

/// The folder holding `meta/` and `images/`: `folder` itself or its `food-101/`.
fn base_folder(folder: &Path) -> Result<PathBuf, DatasetError> {
    for base in [folder.to_path_buf(), folder.join("food-101")] {
        if base.join("meta").join("classes.txt").is_file() {
            return Ok(base);
        }
    }
    Err(DatasetError::Unreadable(format!(
        "{} holds no Food-101 (`meta/classes.txt`, `meta/<split>.txt`, `images/<class>/`), nor does its `food-101/`; name the folder the archive unpacked",
        folder.display()
    )))
}
