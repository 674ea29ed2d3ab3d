//! Shard records: what one shard of a sharded encoding did, written by the sweep as
//! `<out>/shards/shard-I-of-N-<key>.json` and carried into the report folder by the report
//! writer, which recognises them with [`is_record`]. The key names the run the shard belongs
//! to (experiment, model files, image list), so runs can share one folder.

use std::io::Read;
use std::path::Path;

use serde::{Deserialize, Serialize};

/// The folder of a report (or `--out`) that holds shard records.
pub const SHARDS_FOLDER: &str = "shards";

/// Identifies shard records among other files: only a file carrying it is replaced.
pub const RECORD_KIND: &str = "ontosweep shard record";

/// Hex digits of a record key (48 bits: runs sharing a folder do not collide by chance).
pub const KEY_HEX_DIGITS: usize = 12;

/// The largest record read: a record lists its shard's image names, a few MiB for millions.
pub const MAX_RECORD_BYTES: u64 = 256 << 20;

/// Shard `index` of `count`, counting from 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Shard {
    pub index: usize,
    pub count: usize,
}

impl Shard {
    /// `shard-I-of-N-<key>.json`.
    pub fn record_name(&self, key: &str) -> String {
        format!("shard-{}-of-{}-{key}.json", self.index, self.count)
    }
}

/// What a record's file name says: its shard, and its run's key (none in records written
/// before keys existed, `shard-I-of-N.json`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordName {
    pub shard: Shard,
    pub key: Option<String>,
}

/// The shard and key in a record's file name, for exactly the names ontosweep writes
/// (`shard-I-of-N-<12 lowercase hex>.json`, or the older `shard-I-of-N.json`): plain
/// decimal numbers, I < N, nothing else.
pub fn parse_record_name(name: &str) -> Option<RecordName> {
    let rest = name.strip_prefix("shard-")?.strip_suffix(".json")?;
    let (index, rest) = rest.split_once("-of-")?;
    let (count, key) = match rest.split_once('-') {
        Some((count, key)) => (count, Some(key)),
        None => (rest, None),
    };
    let number = |text: &str| -> Option<usize> {
        let value: usize = text.parse().ok()?;
        // Only the canonical spelling: no sign, no leading zeros.
        (value.to_string() == text).then_some(value)
    };
    let shard = Shard {
        index: number(index)?,
        count: number(count)?,
    };
    let key_ok = key.is_none_or(|k| {
        k.len() == KEY_HEX_DIGITS && k.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    });
    (shard.index < shard.count && key_ok).then(|| RecordName {
        shard,
        key: key.map(String::from),
    })
}

/// What one shard did: written as `<out>/shards/shard-I-of-N-<key>.json`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ShardRecord {
    /// [`RECORD_KIND`].
    pub kind: String,
    pub tool_version: String,
    pub experiment: String,
    /// The run this shard belongs to: experiment name, model file hashes and image list
    /// (empty in records written before keys existed).
    #[serde(default)]
    pub key: String,
    pub shard: Shard,
    pub started_at_unix: u64,
    /// Images in the dataset, and in this shard (each image is in exactly one shard).
    pub images_total: usize,
    pub images_in_shard: usize,
    /// Summed over the models: embeddings computed here, and found in the cache.
    pub encoded: usize,
    pub from_cache: usize,
    /// This shard's images that could not be read or decoded (the report lists them).
    pub failed: usize,
    pub timings: ShardTimings,
    pub models: Vec<ShardModel>,
    /// This shard's images, relative to the dataset root.
    pub images: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct ShardTimings {
    pub total_seconds: f64,
    pub image_seconds: f64,
    pub text_seconds: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ShardModel {
    pub id: String,
    pub vision_sha256: String,
    pub text_sha256: String,
    pub images_encoded: usize,
    pub images_from_cache: usize,
    pub prompts_encoded: usize,
    pub prompts_from_cache: usize,
}

/// What the final (unsharded) run found in `<out>/shards/` before encoding (in `run.json`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct ShardCheck {
    /// This run's key: its records are `shard-I-of-N-<key>.json`.
    pub key: String,
    /// N of this run's records (the N most of them share, when they disagree); none when no
    /// record there is this run's.
    pub count: Option<usize>,
    /// Shard indices with a record, and without one (their images this run encodes itself).
    pub done: Vec<usize>,
    pub missing: Vec<usize>,
    /// Images the records of those N shards list, and images in the dataset.
    pub images_covered: usize,
    pub images_total: usize,
    /// This run's records written with another shard count (file names): not counted.
    pub other_counts: Vec<String>,
    /// Records of another experiment, other model files or another image list, or without a
    /// key (written by an older ontosweep): file names, not counted.
    pub foreign: Vec<String>,
    /// What the run warned about, as said in the terminal.
    pub warnings: Vec<String>,
}

/// The bytes of the plain file at `path`, at most [`MAX_RECORD_BYTES`]: never through a
/// link, never blocking on a FIFO or device; `None` for anything else.
pub fn read_plain_file(path: &Path) -> Option<Vec<u8>> {
    let mut options = std::fs::File::options();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        // Checked at the open itself: a link or FIFO planted after any earlier look is refused
        // (ELOOP) or opened without waiting for a writer.
        options.custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK);
    }
    let file = options.open(path).ok()?;
    let meta = file.metadata().ok()?;
    if !meta.is_file() || meta.len() > MAX_RECORD_BYTES {
        return None;
    }
    let mut bytes = Vec::new();
    file.take(MAX_RECORD_BYTES + 1)
        .read_to_end(&mut bytes)
        .ok()?;
    (bytes.len() as u64 <= MAX_RECORD_BYTES).then_some(bytes)
}

/// Whether `path` is a shard record ontosweep wrote: by its name ([`parse_record_name`]) and
/// its `kind`; a link is never one (what it points to is not in the folder being judged).
pub fn is_record(path: &Path) -> bool {
    #[derive(Deserialize)]
    struct Kind {
        kind: String,
    }
    let named = path
        .file_name()
        .and_then(|n| n.to_str())
        .and_then(parse_record_name)
        .is_some();
    named
        && read_plain_file(path)
            .and_then(|b| serde_json::from_slice::<Kind>(&b).ok())
            .is_some_and(|k| k.kind == RECORD_KIND)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_names_ontosweep_writes_parse() {
        let shard = Shard { index: 2, count: 3 };
        assert_eq!(
            parse_record_name(&shard.record_name("0123456789ab")),
            Some(RecordName {
                shard,
                key: Some("0123456789ab".into())
            })
        );
        assert_eq!(
            parse_record_name("shard-2-of-3.json"),
            Some(RecordName { shard, key: None })
        );
        for bad in [
            "shard-3-of-3.json",
            "shard-+1-of-3.json",
            "shard-01-of-3.json",
            "shard-1-of-3-0123456789AB.json",
            "shard-1-of-3-0123456789a.json",
            "shard-1-of-3-0123456789abc.json",
            "shard-1-of-3-0123456789ag.json",
            "shard-1-of-3-.json",
            "shard-1-of-3-0123456789ab.json.bak",
            "shard-1-of-3-0123456789ab-0123456789ab.json",
            "my-shard-1-of-3.json",
        ] {
            assert_eq!(parse_record_name(bad), None, "{bad}");
        }
    }

    #[test]
    fn a_record_is_a_plain_file_of_its_kind_never_a_link_or_fifo() {
        let dir = tempfile::tempdir().unwrap();
        let record = dir.path().join("shard-0-of-1-0123456789ab.json");
        std::fs::write(&record, r#"{"kind": "ontosweep shard record"}"#).unwrap();
        assert!(is_record(&record));
        let notes = dir.path().join("shard-0-of-2-0123456789ab.json");
        std::fs::write(&notes, "my notes").unwrap();
        assert!(!is_record(&notes));
        let link = dir.path().join("shard-0-of-3-0123456789ab.json");
        std::os::unix::fs::symlink(&record, &link).unwrap();
        assert!(!is_record(&link));
        // A FIFO with no writer would block a plain open forever.
        let fifo = dir.path().join("shard-0-of-4-0123456789ab.json");
        let status = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(status.success());
        assert!(!is_record(&fifo));
    }
}
