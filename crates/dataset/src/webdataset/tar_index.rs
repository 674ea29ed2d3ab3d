//! One shard's samples, indexed in place: each member's offset and size, labels read (they
//! are small), images left where they are. A shard that is cut short, lacks tar's
//! end-of-archive block, or holds one member name twice is refused: its samples would
//! otherwise vanish or pair an image with another sample's label.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

use crate::{IMAGE_EXTENSIONS, TarMember};

/// A label member larger than this is not a label.
const MAX_LABEL_BYTES: u64 = 64 << 10;
/// Most members one shard may hold.
const MAX_MEMBERS: usize = 10_000_000;

/// What a sample's label members hold, as written.
#[derive(Debug, Clone, PartialEq)]
pub enum RawLabel {
    /// `.cls`: a class index, as text.
    Cls(String),
    /// `.json`'s `label`.
    Json(serde_json::Value),
}

/// One sample (the members sharing a key) as the index finds it.
#[derive(Debug, Default)]
pub struct Sample {
    /// Member name and place of each image member.
    pub images: Vec<(String, TarMember)>,
    pub labels: Vec<(String, RawLabel)>,
    /// Members that label other tasks (`.npy` label vectors, `.txt` captions): named when a
    /// sample has no class label, so a multilabel or retrieval set is not misread.
    pub other_labels: Vec<String>,
    /// Why the sample cannot be used, whatever its label.
    pub problem: Option<String>,
}

/// The samples of one shard, by key, in key order.
pub fn index(shard: &Path) -> Result<BTreeMap<String, Sample>, String> {
    let in_shard = |e: &dyn std::fmt::Display| format!("{}: {e}", shard.display());
    let file = std::fs::File::open(shard).map_err(|e| in_shard(&e))?;
    let length = file.metadata().map_err(|e| in_shard(&e))?.len();
    let mut archive = tar::Archive::new(file);
    let mut samples: BTreeMap<String, Sample> = BTreeMap::new();
    let mut names = BTreeSet::new();
    // Where the last member's data (padded to whole blocks) ends: tar's end marker follows.
    let mut end = 0u64;
    let entries = archive.entries_with_seek().map_err(|e| in_shard(&e))?;
    for entry in entries {
        let mut entry = entry.map_err(|e| {
            in_shard(&format!(
                "cannot read it as a tar ({e}): the shard is truncated, or not an uncompressed .tar"
            ))
        })?;
        let name = match entry.path() {
            Ok(p) => p.to_string_lossy().replace('\\', "/"),
            Err(e) => return Err(in_shard(&e)),
        };
        let (offset, size) = (entry.raw_file_position(), entry.size());
        if offset.saturating_add(size) > length {
            return Err(in_shard(&format!(
                "member {name:?} needs {size} bytes from byte {offset}, but the file has {length}: the shard is truncated (an interrupted copy?); copy it again"
            )));
        }
        end = offset + size.div_ceil(512) * 512;
        if !names.insert(name.clone()) {
            return Err(in_shard(&format!(
                "member {name:?} appears twice: its image and label could not be paired with certainty; rebuild the shard with unique keys"
            )));
        }
        if names.len() > MAX_MEMBERS {
            return Err(in_shard(&format!("more than {MAX_MEMBERS} members")));
        }
        let kind = entry.header().entry_type();
        if kind.is_dir() {
            continue;
        }
        let (folder, base) = name
            .rsplit_once('/')
            .map_or(("", name.as_str()), |(f, b)| (f, b));
        if base.starts_with('.') || base.is_empty() {
            continue;
        }
        // WebDataset's convention: the key ends at the first dot of the file name.
        let (stem, extension) = base.split_once('.').unwrap_or((base, ""));
        let key = if folder.is_empty() {
            stem.to_string()
        } else {
            format!("{folder}/{stem}")
        };
        let extension = extension.to_ascii_lowercase();
        let sample = samples.entry(key).or_default();
        if !kind.is_file() {
            sample
                .problem
                .get_or_insert(format!("{name}: not a regular file in the tar ({kind:?})"));
            continue;
        }
        if IMAGE_EXTENSIONS.contains(&extension.as_str()) {
            let member = TarMember {
                offset,
                size,
                pixels: None,
            };
            sample.images.push((name, member));
        } else if extension == "npy" || extension == "txt" {
            sample.other_labels.push(name);
        } else if extension == "cls" || extension == "json" {
            match read_label(&mut entry, &extension, size) {
                Ok(label) => sample.labels.push((name, label)),
                Err(reason) => {
                    sample.problem.get_or_insert(format!("{name}: {reason}"));
                }
            }
        }
    }
    check_end_marker(shard, end, length)?;
    Ok(samples)
}

fn read_label(entry: &mut impl Read, extension: &str, size: u64) -> Result<RawLabel, String> {
    if size > MAX_LABEL_BYTES {
        return Err(format!("a label of {size} bytes"));
    }
    let mut text = String::new();
    entry
        .take(MAX_LABEL_BYTES)
        .read_to_string(&mut text)
        .map_err(|_| "not UTF-8 text".to_string())?;
    if extension == "cls" {
        return Ok(RawLabel::Cls(text));
    }
    #[derive(serde::Deserialize)]
    struct JsonLabel {
        label: serde_json::Value,
    }
    serde_json::from_str::<JsonLabel>(&text)
        .map(|j| RawLabel::Json(j.label))
        .map_err(|e| format!("not a JSON object with a `label` ({e})"))
}

/// A tar ends with a zero block; without it the file may have been cut at a member boundary,
/// and every sample after the cut would vanish unseen.
fn check_end_marker(shard: &Path, end: u64, length: u64) -> Result<(), String> {
    let mut block = [0u8; 512];
    let read = std::fs::File::open(shard).and_then(|mut f| {
        f.seek(SeekFrom::Start(end))?;
        f.read_exact(&mut block)
    });
    if read.is_err() || block.iter().any(|&b| b != 0) {
        return Err(format!(
            "{}: no end-of-archive block after the last member (byte {end} of {length}): the shard is truncated or not a tar; copy or rebuild it",
            shard.display()
        ));
    }
    Ok(())
}
