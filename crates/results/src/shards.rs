//! Shard records: what one shard of a sharded encoding did, written by the sweep as
//! `<out>/shards/shard-I-of-N.json` and carried into the report folder by the report writer,
//! which recognises them with [`is_record`].

use std::path::Path;

use serde::{Deserialize, Serialize};

/// The folder of a report (or `--out`) that holds shard records.
pub const SHARDS_FOLDER: &str = "shards";

/// Identifies shard records among other files: only a file carrying it is replaced.
pub const RECORD_KIND: &str = "ontosweep shard record";

/// Shard `index` of `count`, counting from 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shard {
    pub index: usize,
    pub count: usize,
}

impl Shard {
    /// `shard-I-of-N.json`.
    pub fn record_name(&self) -> String {
        format!("shard-{}-of-{}.json", self.index, self.count)
    }
}

/// What one shard did: written as `<out>/shards/shard-I-of-N.json`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ShardRecord {
    /// [`RECORD_KIND`].
    pub kind: String,
    pub tool_version: String,
    pub experiment: String,
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

/// Whether `path` is a shard record ontosweep wrote (by its name and its `kind`).
pub fn is_record(path: &Path) -> bool {
    #[derive(Deserialize)]
    struct Kind {
        kind: String,
    }
    let named = path
        .file_name()
        .and_then(|n| n.to_str())
        .and_then(|n| n.strip_prefix("shard-")?.strip_suffix(".json"))
        .and_then(|n| n.split_once("-of-"))
        .is_some_and(|(i, n)| i.parse::<usize>().is_ok() && n.parse::<usize>().is_ok());
    // A link is never a record: what it points to is not in the folder being judged.
    named
        && std::fs::symlink_metadata(path).is_ok_and(|m| m.is_file() && m.len() < 1 << 30)
        && std::fs::read(path)
            .ok()
            .and_then(|b| serde_json::from_slice::<Kind>(&b).ok())
            .is_some_and(|k| k.kind == RECORD_KIND)
}
