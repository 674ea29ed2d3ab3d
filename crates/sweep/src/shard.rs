//! Sharding the encoding over many machines: shard `I` of `N` takes the images whose content
//! hash falls in its slice, so shards are balanced, never overlap, and keep their images
//! when files are added elsewhere. A shard fills the shared embedding cache and records what
//! it did; the unsharded sweep afterwards finds everything cached and writes the report.

use std::path::{Path, PathBuf};

/// Most shards one sweep may be cut into.
pub const MAX_SHARDS: usize = 100_000;

pub use ontosweep_results::shards::{
    KEY_HEX_DIGITS, RECORD_KIND, SHARDS_FOLDER, Shard, ShardModel, ShardRecord, ShardTimings,
    is_record,
};

/// How a shard is named and chosen.
pub trait ShardExt: Sized {
    fn parse(text: &str) -> Result<Self, String>;
    fn from_env(var: impl Fn(&str) -> Option<String>) -> Result<Self, String>;
    fn owns(&self, prefix: u64) -> bool;
    fn writer(&self) -> String;
}

impl ShardExt for Shard {
    /// `I/N`, 0 ≤ I < N.
    fn parse(text: &str) -> Result<Self, String> {
        let usage = || {
            format!(
                "`--shard {text}`: give `I/N` with 0 ≤ I < N ≤ {MAX_SHARDS} (shard I of N, counting from 0), or `auto`"
            )
        };
        let (index, count) = text.split_once('/').ok_or_else(usage)?;
        let index: usize = index.trim().parse().map_err(|_| usage())?;
        let count: usize = count.trim().parse().map_err(|_| usage())?;
        if count == 0 || count > MAX_SHARDS || index >= count {
            return Err(usage());
        }
        Ok(Self { index, count })
    }

    /// The shard a scheduler gave this process: a Slurm array task, or a Kubernetes
    /// Indexed Job's completion index with the count in `ONTOSWEEP_SHARD_COUNT`.
    fn from_env(var: impl Fn(&str) -> Option<String>) -> Result<Self, String> {
        let number = |name: &str| -> Result<Option<usize>, String> {
            match var(name) {
                None => Ok(None),
                Some(v) => v
                    .trim()
                    .parse()
                    .map(Some)
                    .map_err(|_| format!("`{name}={v}` is not a number")),
            }
        };
        // ONTOSWEEP_SHARD_COUNT wins: a Slurm rerun of one task (`--array=3`) sees a count of 1.
        let given = number("ONTOSWEEP_SHARD_COUNT")?;
        let (index, count) = if let Some(task) = number("SLURM_ARRAY_TASK_ID")? {
            let count = given.or(number("SLURM_ARRAY_TASK_COUNT")?).ok_or(
                "`--shard auto` under Slurm needs SLURM_ARRAY_TASK_COUNT (submit with `sbatch --array=0-<N-1>`) or ONTOSWEEP_SHARD_COUNT",
            )?;
            if task >= count {
                return Err(format!(
                    "SLURM_ARRAY_TASK_ID is {task} but the shard count is {count}: number array tasks from 0 (`--array=0-{}`), and when rerunning some of them set ONTOSWEEP_SHARD_COUNT to the full count",
                    count.saturating_sub(1)
                ));
            }
            (task, count)
        } else if let Some(index) = number("JOB_COMPLETION_INDEX")? {
            let count = given.ok_or(
                "`--shard auto` in a Kubernetes Indexed Job needs ONTOSWEEP_SHARD_COUNT set to the job's `completions`",
            )?;
            (index, count)
        } else {
            return Err("`--shard auto` found neither SLURM_ARRAY_TASK_ID (a Slurm array job) nor JOB_COMPLETION_INDEX (a Kubernetes Indexed Job); give `--shard I/N`".into());
        };
        Self::parse(&format!("{index}/{count}"))
    }

    /// Whether a content key whose first 8 bytes (its first 16 hex digits) are `prefix`
    /// belongs to this shard.
    fn owns(&self, prefix: u64) -> bool {
        prefix % self.count as u64 == self.index as u64
    }

    /// The name this shard's files in the cache carry: `shard-I-of-N`.
    fn writer(&self) -> String {
        format!("shard-{}-of-{}", self.index, self.count)
    }
}

/// The key naming one run's records: its experiment, each model's vision and text file
/// hashes (in the experiment's order) and the sorted relative names of its images. Another
/// experiment, model file or image list gives another key, so runs can share a folder.
/// `names` are the dataset's `count` names in sorted order, as a dataset lists them.
pub fn record_key<S: AsRef<str>>(
    experiment: &str,
    models: &[(String, String)],
    count: usize,
    names: impl IntoIterator<Item = S>,
) -> String {
    use sha2::{Digest, Sha256};
    let mut hasher = Sha256::new();
    hasher.update(b"ontosweep shard key 1\0");
    hasher.update(experiment.as_bytes());
    hasher.update([0]);
    for (vision, text) in models {
        hasher.update(format!("{vision}\0{text}\0"));
    }
    hasher.update(count.to_le_bytes());
    for name in names {
        let name = name.as_ref();
        // Names never hold NUL (paths cannot), so the list reads back one way only.
        hasher.update(name.as_bytes());
        hasher.update([0]);
    }
    hex::encode(hasher.finalize())[..KEY_HEX_DIGITS].to_string()
}

/// Writes the record into `<out>/shards/`, atomically, replacing only an earlier record (a
/// rerun of the same shard of the same run); returns its path.
pub fn write_record(record: &ShardRecord, out: &Path) -> Result<PathBuf, String> {
    let folder = out.join(SHARDS_FOLDER);
    std::fs::create_dir_all(&folder)
        .map_err(|e| format!("cannot create {}: {e}", folder.display()))?;
    let path = folder.join(record.shard.record_name(&record.key));
    if let Ok(meta) = std::fs::symlink_metadata(&path)
        && (!meta.is_file() || !is_record(&path))
    {
        return Err(format!(
            "{} exists and is not a shard record ontosweep wrote; move it away, or give another --out",
            path.display()
        ));
    }
    let json = serde_json::to_string_pretty(record).expect("a record serialises") + "\n";
    ontosweep_fetch::write_atomically(&path, json.as_bytes())
        .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_parse_and_partition_every_key_once() {
        assert_eq!(Shard::parse("2/3"), Ok(Shard { index: 2, count: 3 }));
        for bad in ["3/3", "1", "a/b", "0/0", "-1/3", "1/100001"] {
            assert!(Shard::parse(bad).unwrap_err().contains("I/N"), "{bad}");
        }
        let shards: Vec<Shard> = (0..3).map(|i| Shard { index: i, count: 3 }).collect();
        let mut sizes = [0; 3];
        for i in 0..3_000u64 {
            let prefix = i.wrapping_mul(0x9E37_79B9_7F4A_7C15);
            let owners: Vec<usize> = (0..3).filter(|&s| shards[s].owns(prefix)).collect();
            assert_eq!(owners.len(), 1, "{prefix:x}");
            sizes[owners[0]] += 1;
        }
        assert!(sizes.iter().all(|&n| (850..1150).contains(&n)), "{sizes:?}");
    }

    #[test]
    fn the_key_changes_with_the_experiment_models_or_images() {
        let models = vec![("v".to_string(), "t".to_string())];
        let key = record_key("flowers", &models, 2, ["a.jpg", "b.jpg"]);
        assert_eq!(key.len(), KEY_HEX_DIGITS);
        assert_eq!(key, record_key("flowers", &models, 2, ["a.jpg", "b.jpg"]));
        let other_model = vec![("v".to_string(), "t2".to_string())];
        for other in [
            record_key("flowers2", &models, 2, ["a.jpg", "b.jpg"]),
            record_key("flowers", &other_model, 2, ["a.jpg", "b.jpg"]),
            record_key("flowers", &models, 2, ["a.jpg", "c.jpg"]),
            record_key("flowers", &models, 1, ["a.jpg"]),
        ] {
            assert_ne!(key, other);
        }
    }

    #[test]
    fn auto_reads_slurm_or_kubernetes() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                pairs
                    .iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| v.to_string())
            }
        };
        let slurm = env(&[
            ("SLURM_ARRAY_TASK_ID", "5"),
            ("SLURM_ARRAY_TASK_COUNT", "8"),
        ]);
        assert_eq!(Shard::from_env(slurm), Ok(Shard { index: 5, count: 8 }));
        // Rerunning task 3 alone: Slurm counts 1 task; the real count is given.
        let rerun = env(&[
            ("SLURM_ARRAY_TASK_ID", "3"),
            ("SLURM_ARRAY_TASK_COUNT", "1"),
            ("ONTOSWEEP_SHARD_COUNT", "10"),
        ]);
        assert_eq!(
            Shard::from_env(rerun),
            Ok(Shard {
                index: 3,
                count: 10
            })
        );
        let alone = env(&[
            ("SLURM_ARRAY_TASK_ID", "3"),
            ("SLURM_ARRAY_TASK_COUNT", "1"),
        ]);
        let err = Shard::from_env(alone).unwrap_err();
        assert!(err.contains("ONTOSWEEP_SHARD_COUNT"), "{err}");
        let k8s = env(&[
            ("JOB_COMPLETION_INDEX", "2"),
            ("ONTOSWEEP_SHARD_COUNT", "3"),
        ]);
        assert_eq!(Shard::from_env(k8s), Ok(Shard { index: 2, count: 3 }));
        let err = Shard::from_env(env(&[("JOB_COMPLETION_INDEX", "2")])).unwrap_err();
        assert!(err.contains("ONTOSWEEP_SHARD_COUNT"), "{err}");
        assert!(
            Shard::from_env(env(&[]))
                .unwrap_err()
                .contains("--shard I/N")
        );
    }
}
