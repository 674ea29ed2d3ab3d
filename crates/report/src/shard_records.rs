//! Shard records (`shards/shard-I-of-N-<key>.json`, or `shard-I-of-N.json` from before keys,
//! written by sharded encodings into the report folder) are ontosweep's own, whichever run
//! they belong to: a report folder holding them may be replaced, and the new report carries
//! them all over, listed in its marker (`run.json` says which are this run's).

use std::path::{Path, PathBuf};

use ontosweep_results::shards::{SHARDS_FOLDER, is_record, parse_record_name};

use crate::error::{ReportError, io_error};

/// Whether the entry at `relative` (inside a report folder `dir`) belongs to the shard
/// records: the folder itself, a record, or the temporary name a killed write left.
pub fn is_shard_entry(dir: &Path, relative: &str) -> bool {
    if relative == SHARDS_FOLDER {
        // The folder itself, not a link to one elsewhere.
        return std::fs::symlink_metadata(dir.join(relative)).is_ok_and(|m| m.is_dir());
    }
    let Some(name) = relative
        .strip_prefix(SHARDS_FOLDER)
        .and_then(|r| r.strip_prefix('/'))
    else {
        return false;
    };
    let path = dir.join(relative);
    let plain_file = std::fs::symlink_metadata(&path).is_ok_and(|m| m.is_file());
    !name.contains('/') && plain_file && (is_record(&path) || is_leftover_temp(name))
}

/// Exactly the temporary name an interrupted record write leaves:
/// `.<record name>.<pid>.<16 hex digits>.tmp`, for a record name `is_record` accepts.
fn is_leftover_temp(name: &str) -> bool {
    let Some(rest) = name.strip_prefix('.').and_then(|n| n.strip_suffix(".tmp")) else {
        return false;
    };
    let mut parts = rest.rsplitn(3, '.');
    let (Some(nonce), Some(pid), Some(record)) = (parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    let numbered = |text: &str| !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit());
    parse_record_name(record).is_some()
        && numbered(pid)
        && nonce.len() == 16
        && nonce.bytes().all(|b| b.is_ascii_hexdigit())
}

/// The records in `old/shards/`, copied into `new/shards/`; their paths relative to `new`.
pub fn carry_over(old: &Path, new: &Path) -> Result<Vec<PathBuf>, ReportError> {
    if !is_shard_entry(old, SHARDS_FOLDER) {
        return Ok(Vec::new());
    }
    let from = old.join(SHARDS_FOLDER);
    let Ok(entries) = std::fs::read_dir(&from) else {
        return Ok(Vec::new());
    };
    let mut carried = Vec::new();
    for entry in entries.flatten() {
        let path = entry.path();
        if !entry.file_type().is_ok_and(|t| t.is_file()) || !is_record(&path) {
            continue;
        }
        let to = new.join(SHARDS_FOLDER);
        std::fs::create_dir_all(&to).map_err(io_error(&to))?;
        let name = entry.file_name();
        std::fs::copy(&path, to.join(&name)).map_err(io_error(&path))?;
        carried.push(Path::new(SHARDS_FOLDER).join(name));
    }
    carried.sort();
    Ok(carried)
}

/// Removes the shard records (copied into the new report) and temporary leftovers from an
/// old report folder set aside, and the folder if that leaves it empty.
pub fn remove_from(old: &Path) {
    if !is_shard_entry(old, SHARDS_FOLDER) {
        return; // none, or a link: never followed
    }
    let folder = old.join(SHARDS_FOLDER);
    let Ok(entries) = std::fs::read_dir(&folder) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if is_shard_entry(old, &format!("{SHARDS_FOLDER}/{name}"))
            && entry.file_type().is_ok_and(|t| t.is_file())
        {
            let _ = std::fs::remove_file(entry.path());
        }
    }
    let _ = std::fs::remove_dir(&folder);
}

#[cfg(test)]
mod tests {
    use super::*;

    const RECORD: &str = r#"{"kind": "ontosweep shard record"}"#;

    /// Keyed records, a record from before keys, and a killed write's leftover.
    const OURS: [(&str, &str); 5] = [
        ("shard-0-of-2-0123456789ab.json", RECORD),
        ("shard-1-of-2-ba9876543210.json", RECORD),
        ("shard-1-of-2.json", RECORD),
        (
            ".shard-1-of-2-0123456789ab.json.77.0123456789abcdef.tmp",
            "",
        ),
        (".shard-1-of-2.json.77.0123456789abcdef.tmp", ""),
    ];

    #[test]
    fn only_real_records_and_their_exact_leftovers_are_ours() {
        let dir = tempfile::tempdir().unwrap();
        let shards = dir.path().join(SHARDS_FOLDER);
        std::fs::create_dir(&shards).unwrap();
        ours_are_recognised(dir.path(), &shards);
        look_alikes_are_not(dir.path(), &shards);
        let elsewhere = tempfile::tempdir().unwrap();
        let linked = tempfile::tempdir().unwrap();
        links_are_not(dir.path(), &shards, elsewhere.path(), linked.path());
        // Carrying over takes every record, whichever run it belongs to, and nothing else.
        let new = tempfile::tempdir().unwrap();
        let carried = carry_over(dir.path(), new.path()).unwrap();
        let names: Vec<String> = carried
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(
            names,
            [
                "shard-0-of-2-0123456789ab.json",
                "shard-1-of-2-ba9876543210.json",
                "shard-1-of-2.json"
            ]
        );
        // Clearing an old report removes only what is ours, never through the link.
        remove_from(linked.path());
        assert!(elsewhere.path().join("shard-0-of-1.json").is_file());
        remove_from(dir.path());
        for (name, _) in OURS {
            assert!(!shards.join(name).exists(), "{name}");
        }
        assert_eq!(
            std::fs::read_to_string(shards.join("shard-3-of-4-0123456789ab.json")).unwrap(),
            "my notes"
        );
        assert!(shards.join(".shard-notes.tmp").exists());
        assert!(shards.join("shard-4-of-4.json").exists());
    }

    fn ours_are_recognised(report: &Path, shards: &Path) {
        for (name, bytes) in OURS {
            std::fs::write(shards.join(name), bytes).unwrap();
            assert!(is_shard_entry(report, &format!("shards/{name}")), "{name}");
        }
        assert!(is_shard_entry(report, "shards"));
    }

    /// Hostile look-alikes: a user's file with the prefix, a record-named file that is not a
    /// record, names that are near a record's.
    fn look_alikes_are_not(report: &Path, shards: &Path) {
        for (name, bytes) in [
            (".shard-notes.tmp", ""),
            (".shard-1-of-2.json.77.xyz.tmp", ""),
            (
                ".shard-1-of-2-0123456789AB.json.77.0123456789abcdef.tmp",
                "",
            ),
            ("shard-3-of-4.json", "my notes"),
            ("shard-3-of-4-0123456789ab.json", "my notes"),
            ("shard-x-of-4.json", RECORD),
            ("shard-4-of-4.json", RECORD),
            ("shard-1-of-4-0123456789abc.json", RECORD),
            ("shard-1-of-4-notes.json", RECORD),
            ("shard-1-of-4-0123456789ab.json.bak", RECORD),
        ] {
            std::fs::write(shards.join(name), bytes).unwrap();
            assert!(!is_shard_entry(report, &format!("shards/{name}")), "{name}");
        }
    }

    /// A link to a record elsewhere, and a `shards` link (in `linked`) to another folder.
    fn links_are_not(report: &Path, shards: &Path, elsewhere: &Path, linked: &Path) {
        std::fs::write(elsewhere.join("shard-0-of-1.json"), RECORD).unwrap();
        std::os::unix::fs::symlink(
            elsewhere.join("shard-0-of-1.json"),
            shards.join("shard-0-of-1.json"),
        )
        .unwrap();
        assert!(!is_shard_entry(report, "shards/shard-0-of-1.json"));
        std::os::unix::fs::symlink(elsewhere, linked.join(SHARDS_FOLDER)).unwrap();
        assert!(!is_shard_entry(linked, "shards"));
    }
}
