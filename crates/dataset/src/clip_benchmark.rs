//! CLIP_benchmark's WebDataset export read as it lies on disk (what its
//! `clip_benchmark_export_wds` writes):
//!
//! ```text
//! <folder>/classnames.txt                          one class per line, index order
//! <folder>/zeroshot_classification_templates.txt   `{c}` marks the class (read by the experiment)
//! <folder>/dataset_type.txt                        optional: classification, multilabel, retrieval
//! <folder>/<split>/nshards.txt                     N
//! <folder>/<split>/0.tar … N-1.tar                 s0000000.webp + s0000000.cls, …
//! ```
//!
//! Only single-label classification is scored; the other kinds are refused by name.

use std::path::{Path, PathBuf};

use crate::classnames::{TaggedNames, read_published_classnames, tag_repeated_names};
use crate::webdataset::{self, Labels, MAX_SHARDS, patterns::refuse_one_file_twice};
use crate::{Dataset, DatasetError};

/// The class names file of the export.
pub const CLASSNAMES_FILE: &str = "classnames.txt";

/// Small text files of the export (`nshards.txt`, `dataset_type.txt`).
const MAX_SMALL_FILE_BYTES: u64 = 4096;

/// What names the classes: the folder's `classnames.txt`, or a list the experiment gives.
pub enum CbNames<'a> {
    Folder,
    Given(&'a [String], &'a str),
}

/// Reads `<folder>/<split>/`'s shards with the folder's class names (or `names`);
/// `wanted` is `dataset.classes`.
pub fn read_clip_benchmark(
    folder: &Path,
    split: &str,
    names: CbNames,
    wanted: Option<&[String]>,
) -> Result<Dataset, DatasetError> {
    if !folder.is_dir() {
        return Err(DatasetError::Unreadable(format!(
            "{} is not a folder; `clip_benchmark:` names the folder a CLIP_benchmark export wrote (the one holding classnames.txt and a folder per split)",
            folder.display()
        )));
    }
    refuse_other_tasks(folder)?;
    let shards = shards_of(folder, split)?;
    let (published, source) = match names {
        CbNames::Folder => {
            let file = folder.join(CLASSNAMES_FILE);
            if !file.exists() {
                return Err(DatasetError::Unreadable(format!(
                    "{} has no {CLASSNAMES_FILE}: the `.cls` labels are indices into it. Copy it from where the export was made, or give the names in the experiment (`dataset.names: clip-benchmark/<dataset>`)",
                    folder.display()
                )));
            }
            (read_published_classnames(&file)?, file)
        }
        CbNames::Given(list, name) => (list.to_vec(), PathBuf::from(name)),
    };
    let TaggedNames {
        classes,
        display,
        warnings,
    } = tag_repeated_names(&published, |index| format!("class {index}"));
    let labels = Labels {
        names: Some((&classes, &source)),
        wanted,
    };
    let mut dataset = webdataset::read_shards(&shards, &labels)?;
    dataset.root = folder.to_path_buf();
    dataset.display = display;
    dataset.warnings.extend(warnings);
    dataset
        .warnings
        .extend(unlisted_shards(folder, split, shards.len()));
    Ok(dataset)
}

/// `dataset_type.txt` says what the labels are; only classification is scored.
fn refuse_other_tasks(folder: &Path) -> Result<(), DatasetError> {
    let file = folder.join("dataset_type.txt");
    if !file.exists() {
        return Ok(());
    }
    let kind = small_text(&file)?.trim().to_ascii_lowercase();
    match kind.as_str() {
        "" | "classification" => Ok(()),
        "multilabel" => Err(DatasetError::Labels(format!(
            "{} says `multilabel`: its samples carry `.npy` label vectors, and ontosweep scores single-label zero-shot classification only (one true class per image)",
            file.display()
        ))),
        "retrieval" => Err(DatasetError::Labels(format!(
            "{} says `retrieval`: its samples carry `.txt` captions, not classes; ontosweep scores zero-shot classification only",
            file.display()
        ))),
        other => Err(DatasetError::Labels(format!(
            "{} says {other:?}, which is not a CLIP_benchmark dataset type (classification, multilabel, retrieval)",
            file.display()
        ))),
    }
}

/// `0.tar … N-1.tar` as `nshards.txt` counts them; every one must be there.
fn shards_of(folder: &Path, split: &str) -> Result<Vec<PathBuf>, DatasetError> {
    let split_dir = folder.join(split);
    if !split_dir.is_dir() {
        let splits: Vec<String> = std::fs::read_dir(folder)
            .map(|entries| {
                entries
                    .flatten()
                    .take(1000)
                    .filter(|e| e.path().join("nshards.txt").is_file())
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        let have = match splits.as_slice() {
            [] => "it has no split folder with an nshards.txt".to_string(),
            some => format!("its splits: {}", some.join(", ")),
        };
        return Err(DatasetError::Unreadable(format!(
            "{} has no split `{split}` ({have}); set `dataset.split`",
            folder.display()
        )));
    }
    let count_file = split_dir.join("nshards.txt");
    if !count_file.exists() {
        return Err(DatasetError::Unreadable(format!(
            "{} is missing: CLIP_benchmark's export writes the number of shards there, and without it a missing shard could not be noticed. Write the count of `<n>.tar` files in {} into it",
            count_file.display(),
            split_dir.display()
        )));
    }
    let text = small_text(&count_file)?;
    let count: usize = text
        .trim()
        .parse()
        .ok()
        .filter(|n| (1..=MAX_SHARDS).contains(n))
        .ok_or_else(|| {
            DatasetError::Malformed(format!(
                "{}: {:?} is not a number of shards (1 to {MAX_SHARDS})",
                count_file.display(),
                text.trim()
            ))
        })?;
    let shards: Vec<PathBuf> = (0..count)
        .map(|i| split_dir.join(format!("{i}.tar")))
        .collect();
    let missing: Vec<String> = shards
        .iter()
        .filter(|s| !std::fs::metadata(s).is_ok_and(|m| m.is_file()))
        .map(|s| {
            s.file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    if !missing.is_empty() {
        let shown: Vec<&str> = missing.iter().take(5).map(String::as_str).collect();
        let more = match missing.len() {
            n if n > 5 => format!(" and {} more", n - 5),
            _ => String::new(),
        };
        return Err(DatasetError::Unreadable(format!(
            "{} says {count} shards, but {} of them are not regular files in {}: {}{more}. Copy them again (or fix nshards.txt if the export really made fewer)",
            count_file.display(),
            missing.len(),
            split_dir.display(),
            shown.join(", ")
        )));
    }
    refuse_one_file_twice(&shards).map_err(DatasetError::Duplicate)?;
    Ok(shards)
}

/// `<n>.tar` files past the count: CLIP_benchmark would not read them either, but a person
/// should hear that they were left out.
fn unlisted_shards(folder: &Path, split: &str, count: usize) -> Option<String> {
    let split_dir = folder.join(split);
    let entries = std::fs::read_dir(&split_dir).ok()?;
    let mut extra: Vec<String> = entries
        .flatten()
        .take(MAX_SHARDS * 2)
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let index: usize = name.strip_suffix(".tar")?.parse().ok()?;
            (index >= count).then_some(name)
        })
        .collect();
    if extra.is_empty() {
        return None;
    }
    extra.sort();
    Some(format!(
        "{} says {count} shards, so {} more in {} were not read: {}. If they belong to the split, correct nshards.txt",
        split_dir.join("nshards.txt").display(),
        extra.len(),
        split_dir.display(),
        extra.iter().take(5).cloned().collect::<Vec<_>>().join(", ")
    ))
}

fn small_text(file: &Path) -> Result<String, DatasetError> {
    ontosweep_clip::files::read_bounded_text(file, MAX_SMALL_FILE_BYTES)
        .map_err(|e| DatasetError::Unreadable(format!("cannot read {}: {e}", file.display())))
}
