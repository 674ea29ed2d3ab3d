//! What the shard records in a report folder say about this run, read before any encoding:
//! which shards of this run (its key) ran, which never did, how many images they covered,
//! and which records belong to another run. Only plain files whose names and kind are
//! ontosweep's are read, never through a link.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use ontosweep_dataset::ImageList;
use serde::Deserialize;

use ontosweep_results::shards::{
    RECORD_KIND, RecordName, SHARDS_FOLDER, Shard, ShardCheck, parse_record_name, read_plain_file,
};

/// File names shown in one message before the rest are counted (all are in `run.json`).
const NAMES_SHOWN: usize = 10;

/// A record read back, with defaults for what older records lack; its image list is read
/// only when counted, one record at a time.
#[derive(Deserialize)]
struct Lenient {
    #[serde(default)]
    key: String,
    shard: Option<Shard>,
}

/// The image list of a record.
#[derive(Deserialize)]
struct Listed {
    #[serde(default)]
    images: Vec<String>,
}

/// One record in the folder.
struct Found {
    file: String,
    name: RecordName,
    record: Option<Lenient>,
}

/// Whether `out` has a shards folder of its own (not a link) to read.
pub fn has_records_folder(out: &Path) -> bool {
    std::fs::symlink_metadata(out.join(SHARDS_FOLDER)).is_ok_and(|m| m.is_dir())
}

/// Every shard record in `<out>/shards/`, sorted by file name.
fn records_in(out: &Path) -> Vec<Found> {
    if !has_records_folder(out) {
        return Vec::new();
    }
    let Ok(entries) = std::fs::read_dir(out.join(SHARDS_FOLDER)) else {
        return Vec::new();
    };
    let mut found = Vec::new();
    for entry in entries.flatten() {
        let Some(file) = entry.file_name().to_str().map(String::from) else {
            continue;
        };
        let Some(name) = parse_record_name(&file) else {
            continue;
        };
        if !entry.file_type().is_ok_and(|t| t.is_file()) {
            continue; // a link, folder or FIFO is never a record
        }
        let Some(bytes) = read_plain_file(&entry.path()) else {
            continue;
        };
        #[derive(Deserialize)]
        struct Kind {
            kind: String,
        }
        if !serde_json::from_slice::<Kind>(&bytes).is_ok_and(|k| k.kind == RECORD_KIND) {
            continue;
        }
        // A record of ours whose fields do not read back is kept, as someone else's.
        let record = serde_json::from_slice::<Lenient>(&bytes).ok();
        found.push(Found { file, name, record });
    }
    found.sort_by(|a, b| a.file.cmp(&b.file));
    found
}

/// Whether a record is this run's: the key in its name and in it, and its shard, agree.
fn is_this_runs(found: &Found, key: &str) -> bool {
    found.name.key.as_deref() == Some(key)
        && found
            .record
            .as_ref()
            .is_some_and(|r| r.key == key && r.shard == Some(found.name.shard))
}

/// Records of this run (key `key`) in `<out>/shards/` written with another count than
/// `shard.count`, by file name: a shard run refuses to add to a folder that mixes counts.
pub fn other_counts(out: &Path, key: &str, shard: Shard) -> Vec<String> {
    records_in(out)
        .into_iter()
        .filter(|f| is_this_runs(f, key) && f.name.shard.count != shard.count)
        .map(|f| f.file)
        .collect()
}

/// What `<out>/shards/` says about the run with key `key` over `images`, with a warning
/// for each problem; `None` when it holds no record at all.
pub fn check(out: &Path, key: &str, images: &ImageList) -> std::io::Result<Option<ShardCheck>> {
    let found = records_in(out);
    if found.is_empty() {
        return Ok(None);
    }
    let (ours, foreign): (Vec<Found>, Vec<Found>) =
        found.into_iter().partition(|f| is_this_runs(f, key));
    let mut by_count: BTreeMap<usize, Vec<Found>> = BTreeMap::new();
    for f in ours {
        by_count.entry(f.name.shard.count).or_default().push(f);
    }
    // The count most records share (the smaller on a tie) is this run's sharding.
    let count = by_count
        .iter()
        .max_by_key(|(n, records)| (records.len(), std::cmp::Reverse(**n)))
        .map(|(n, _)| *n);
    let counted = count.and_then(|n| by_count.remove(&n)).unwrap_or_default();
    let mut covered = vec![false; images.len()];
    for f in &counted {
        mark_covered(&out.join(SHARDS_FOLDER).join(&f.file), images, &mut covered)?;
    }
    let done: BTreeSet<usize> = counted.iter().map(|f| f.name.shard.index).collect();
    let missing: Vec<usize> =
        count.map_or_else(Vec::new, |n| (0..n).filter(|i| !done.contains(i)).collect());
    let mut check = ShardCheck {
        key: key.to_string(),
        count,
        done: done.into_iter().collect(),
        missing,
        images_covered: covered.iter().filter(|&&c| c).count(),
        images_total: images.len(),
        other_counts: by_count.into_values().flatten().map(|f| f.file).collect(),
        foreign: foreign.into_iter().map(|f| f.file).collect(),
        warnings: Vec::new(),
    };
    check.other_counts.sort();
    check.warnings = warnings(&check, &out.join(SHARDS_FOLDER));
    Ok(Some(check))
}

/// Marks the dataset's images that the record in `file` lists: its list beside the dataset's,
/// both sorted, so only one record's list is held at a time.
fn mark_covered(file: &Path, images: &ImageList, covered: &mut [bool]) -> std::io::Result<()> {
    let Some(bytes) = read_plain_file(file) else {
        return Ok(());
    };
    let Ok(Listed { images: mut listed }) = serde_json::from_slice::<Listed>(&bytes) else {
        return Ok(());
    };
    drop(bytes);
    listed.sort_unstable();
    let mut listed = listed.iter().peekable();
    for chunk in images.chunks() {
        let (start, chunk) = chunk?;
        for (k, image) in chunk.iter().enumerate() {
            while listed
                .next_if(|name| name.as_str() < image.relative.as_str())
                .is_some()
            {}
            if listed.next_if(|name| **name == image.relative).is_some() {
                covered[start + k] = true;
            }
        }
    }
    Ok(())
}

/// What the user must hear about `check`, one message per problem.
fn warnings(check: &ShardCheck, folder: &Path) -> Vec<String> {
    let mut said = Vec::new();
    if let Some(n) = check.count
        && !check.missing.is_empty()
    {
        let first = Shard {
            index: check.missing[0],
            count: n,
        };
        let (plural, verb) = if check.missing.len() == 1 {
            ("", "it")
        } else {
            ("s", "they")
        };
        said.push(format!(
            "shard{plural} {} of {n} never ran (no record such as {} in {}): {verb} would have encoded the {} of {} images no shard record covers, which this run encodes itself unless the embedding cache already holds them. Run the missing shard{plural} first if this run should find them encoded",
            shown(&check.missing.iter().map(ToString::to_string).collect::<Vec<_>>()),
            first.record_name(&check.key),
            folder.display(),
            check.images_total - check.images_covered,
            check.images_total,
        ));
    }
    if !check.other_counts.is_empty() {
        said.push(format!(
            "{} holds this run's shard records with another shard count than {}, which are not counted: {}. Move them away if they are stale",
            folder.display(),
            check.count.unwrap_or_default(),
            shown(&check.other_counts),
        ));
    }
    if !check.foreign.is_empty() {
        said.push(format!(
            "{} shard record{} in {} {} not this run's (another experiment, other model files or another image list than key {}, or written by an older ontosweep without a key) and {} not counted: {}",
            check.foreign.len(),
            if check.foreign.len() == 1 { "" } else { "s" },
            folder.display(),
            if check.foreign.len() == 1 { "is" } else { "are" },
            check.key,
            if check.foreign.len() == 1 { "is" } else { "are" },
            shown(&check.foreign),
        ));
    }
    said
}

/// `a, b, c` with at most [`NAMES_SHOWN`] items, then how many more.
fn shown(items: &[String]) -> String {
    let mut text = items
        .iter()
        .take(NAMES_SHOWN)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    if items.len() > NAMES_SHOWN {
        text.push_str(&format!(" and {} more", items.len() - NAMES_SHOWN));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "0123456789ab";
    const OTHER: &str = "ba9876543210";

    fn write(folder: &Path, shard: Shard, key: Option<&str>, images: &[&str]) {
        let name = match key {
            Some(key) => shard.record_name(key),
            None => format!("shard-{}-of-{}.json", shard.index, shard.count),
        };
        let record = serde_json::json!({
            "kind": RECORD_KIND, "key": key.unwrap_or_default(), "shard": shard, "images": images,
        });
        std::fs::write(folder.join(name), record.to_string()).unwrap();
    }

    /// A dataset list of these names.
    fn list(names: &[&str]) -> ImageList {
        let images: Vec<ontosweep_dataset::DatasetImage> = names
            .iter()
            .map(|name| ontosweep_dataset::DatasetImage {
                path: name.into(),
                relative: name.to_string(),
                label: 0,
                member: None,
            })
            .collect();
        ImageList::new(&images).unwrap()
    }

    fn shard(index: usize, count: usize) -> Shard {
        Shard { index, count }
    }

    #[test]
    fn missing_shards_other_counts_and_foreign_records_are_named() {
        let out = tempfile::tempdir().unwrap();
        let folder = out.path().join(SHARDS_FOLDER);
        std::fs::create_dir(&folder).unwrap();
        let names = ["a.jpg", "b.jpg", "c.jpg", "d.jpg"];
        let images = list(&names);
        assert_eq!(check(out.path(), KEY, &images).unwrap(), None);
        write(&folder, shard(0, 3), Some(KEY), &["a.jpg"]);
        write(
            &folder,
            shard(1, 3),
            Some(KEY),
            &["elsewhere.jpg", "c.jpg", "0.jpg", "b.jpg"],
        );
        write(&folder, shard(0, 2), Some(KEY), &["a.jpg", "d.jpg"]);
        write(&folder, shard(2, 3), Some(OTHER), &["d.jpg"]);
        write(&folder, shard(2, 3), None, &["d.jpg"]);
        // Its name says this run, its content another: not counted.
        std::fs::write(
            folder.join(shard(2, 3).record_name(KEY)),
            serde_json::json!({"kind": RECORD_KIND, "key": OTHER, "shard": shard(2, 3)})
                .to_string(),
        )
        .unwrap();
        let found = check(out.path(), KEY, &images).unwrap().unwrap();
        assert_eq!(found.count, Some(3));
        assert_eq!(found.done, [0, 1]);
        assert_eq!(found.missing, [2]);
        assert_eq!((found.images_covered, found.images_total), (3, 4));
        assert_eq!(found.other_counts, [shard(0, 2).record_name(KEY)]);
        assert_eq!(
            found.foreign,
            [
                "shard-2-of-3-0123456789ab.json",
                "shard-2-of-3-ba9876543210.json",
                "shard-2-of-3.json"
            ]
        );
        let said = found.warnings.join("\n");
        assert!(said.contains("shard 2 of 3 never ran"), "{said}");
        assert!(said.contains("the 1 of 4 images"), "{said}");
        assert!(said.contains("shard-0-of-2-0123456789ab.json"), "{said}");
        assert!(said.contains("3 shard records"), "{said}");
        assert_eq!(
            other_counts(out.path(), KEY, shard(0, 3)),
            [shard(0, 2).record_name(KEY)]
        );
        assert!(other_counts(out.path(), KEY, shard(0, 2)).len() == 2);
    }

    #[test]
    fn a_complete_set_warns_of_nothing() {
        let out = tempfile::tempdir().unwrap();
        let folder = out.path().join(SHARDS_FOLDER);
        std::fs::create_dir(&folder).unwrap();
        write(&folder, shard(0, 2), Some(KEY), &["a.jpg"]);
        write(&folder, shard(1, 2), Some(KEY), &["b.jpg"]);
        let found = check(out.path(), KEY, &list(&["a.jpg", "b.jpg"]))
            .unwrap()
            .unwrap();
        assert_eq!((found.done.len(), found.missing.len()), (2, 0));
        assert_eq!(found.images_covered, 2);
        assert!(found.warnings.is_empty(), "{:?}", found.warnings);
    }

    #[test]
    fn links_and_look_alikes_are_not_read() {
        let out = tempfile::tempdir().unwrap();
        let folder = out.path().join(SHARDS_FOLDER);
        std::fs::create_dir(&folder).unwrap();
        let elsewhere = tempfile::tempdir().unwrap();
        write(elsewhere.path(), shard(0, 1), Some(KEY), &["a.jpg"]);
        std::os::unix::fs::symlink(
            elsewhere.path().join(shard(0, 1).record_name(KEY)),
            folder.join(shard(0, 1).record_name(KEY)),
        )
        .unwrap();
        std::fs::write(folder.join("shard-0-of-1-0123456789AB.json"), "{}").unwrap();
        std::fs::write(folder.join(shard(0, 2).record_name(KEY)), "my notes").unwrap();
        assert_eq!(check(out.path(), KEY, &list(&["a.jpg"])).unwrap(), None);
        // A `shards` link to a folder of records is not followed either.
        let linked = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink(elsewhere.path(), linked.path().join(SHARDS_FOLDER)).unwrap();
        assert_eq!(check(linked.path(), KEY, &list(&["a.jpg"])).unwrap(), None);
    }
}
