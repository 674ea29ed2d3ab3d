//! Archives ontosweep has not verified: only files and folders are unpacked, within the
//! archive's bounds, and nothing it did not create is replaced or removed.

use std::path::Path;

use ontosweep_fetch::{ArchiveLimits, extract_tar_gz};
use tar::EntryType as Kind;

fn tar_gz(path: &Path, entries: &[(&str, tar::EntryType, &[u8])]) {
    let file = std::fs::File::create(path).unwrap();
    let mut builder = tar::Builder::new(flate2::write::GzEncoder::new(
        file,
        flate2::Compression::fast(),
    ));
    for (name, kind, data) in entries {
        let mut header = tar::Header::new_gnu();
        header.set_entry_type(*kind);
        header.set_size(data.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        builder.append_data(&mut header, name, *data).unwrap();
    }
    builder.into_inner().unwrap().finish().unwrap();
}

fn listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn archive_special_files_are_refused_and_listed() {
    let dir = tempfile::tempdir().unwrap();
    let archive = dir.path().join("a.tgz");
    tar_gz(
        &archive,
        &[
            ("photos/a.jpg", Kind::Regular, b"a"),
            ("photos/pipe", Kind::Fifo, b""),
            ("photos/tty", Kind::Char, b""),
            ("photos/disk", Kind::Block, b""),
        ],
    );
    let dest = dir.path().join("data");
    let err = extract_tar_gz(&archive, &dest, &ArchiveLimits::default())
        .unwrap_err()
        .to_string();
    for named in [
        "`photos/pipe` (a fifo)",
        "`photos/tty` (a character device)",
        "`photos/disk` (a block device)",
        "a.tgz",
    ] {
        assert!(err.contains(named), "{named}: {err}");
    }
    assert_eq!(
        listing(dir.path()),
        ["a.tgz"],
        "nothing unpacked, no staging left"
    );
}

#[test]
fn archives_beyond_their_bounds_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let many = dir.path().join("many.tgz");
    let names: Vec<String> = (0..11).map(|i| format!("p/{i}.jpg")).collect();
    let entries: Vec<_> = names
        .iter()
        .map(|n| (n.as_str(), Kind::Regular, &b"x"[..]))
        .collect();
    tar_gz(&many, &entries);
    let limits = ArchiveLimits {
        max_entries: 10,
        max_bytes: 1 << 20,
    };
    let err = extract_tar_gz(&many, &dir.path().join("d1"), &limits)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("more than 10 entries") && err.contains("many.tgz"),
        "{err}"
    );

    let big = dir.path().join("big.tgz");
    let data = vec![0u8; 1000];
    tar_gz(
        &big,
        &[
            ("p/a", Kind::Regular, &data),
            ("p/b", Kind::Regular, &data),
            ("p/c", Kind::Regular, &data),
        ],
    );
    let limits = ArchiveLimits {
        max_entries: 10,
        max_bytes: 2500,
    };
    let err = extract_tar_gz(&big, &dir.path().join("d2"), &limits)
        .unwrap_err()
        .to_string();
    assert!(err.contains("more than 2500 bytes"), "{err}");
    assert_eq!(listing(dir.path()), ["big.tgz", "many.tgz"]);
}

#[test]
fn extraction_never_deletes_what_it_did_not_create() {
    let dir = tempfile::tempdir().unwrap();
    let archive = dir.path().join("a.tgz");
    tar_gz(&archive, &[("photos/a.jpg", Kind::Regular, b"a")]);
    // A folder of the user's where the data would go: refused, untouched.
    let dest = dir.path().join("data");
    std::fs::create_dir_all(&dest).unwrap();
    std::fs::write(dest.join("keep.txt"), b"mine").unwrap();
    let err = extract_tar_gz(&archive, &dest, &ArchiveLimits::default())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("not an empty folder") && err.contains("data"),
        "{err}"
    );
    assert_eq!(std::fs::read(dest.join("keep.txt")).unwrap(), b"mine");
    // A folder with the old staging name is not ontosweep's to remove.
    let other = dir.path().join("other");
    let old_staging = dir.path().join(".other.extracting");
    std::fs::create_dir_all(&old_staging).unwrap();
    std::fs::write(old_staging.join("keep.txt"), b"mine").unwrap();
    extract_tar_gz(&archive, &other, &ArchiveLimits::default()).unwrap();
    assert_eq!(std::fs::read(other.join("photos/a.jpg")).unwrap(), b"a");
    assert_eq!(
        std::fs::read(old_staging.join("keep.txt")).unwrap(),
        b"mine"
    );
    // An empty folder is fine to fill.
    let empty = dir.path().join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    extract_tar_gz(&archive, &empty, &ArchiveLimits::default()).unwrap();
    assert!(empty.join("photos/a.jpg").is_file());
}
