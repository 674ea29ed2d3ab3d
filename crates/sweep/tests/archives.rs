//! Known dataset archives fetched from a local server: verified, unpacked within their
//! bounds, never over an existing folder.

use std::sync::Arc;

use ontosweep_fetch::ArchiveLimits;
use ontosweep_sweep::Silent;
use ontosweep_sweep::archives::{KnownArchive, fetch_archive};
use ontosweep_testkit::{Files, serve, tar_gz};

#[test]
fn a_known_archive_becomes_the_dataset_folder() {
    let temp = tempfile::tempdir().unwrap();
    let archive = temp.path().join("photos.tgz");
    tar_gz(
        &archive,
        &[
            ("photos/daisy/a.jpg", b"a"),
            ("photos/dandelion/b.jpg", b"b"),
            ("photos/LICENSE.txt", b"cc"),
        ],
    );
    let bytes = std::fs::read(&archive).unwrap();
    let sha256 = ontosweep_fetch::sha256_file(&archive).unwrap();
    let files: Files = Arc::default();
    files
        .lock()
        .unwrap()
        .insert("/photos.tgz".into(), bytes.clone());
    let base = serve(files);
    let known = KnownArchive {
        name: "test-photos",
        url: Box::leak(format!("{base}/photos.tgz").into_boxed_str()),
        url_variable: "ONTOSWEEP_TEST_PHOTOS_URL",
        size: bytes.len() as u64,
        sha256: Box::leak(sha256.into_boxed_str()),
        top_folder: "photos",
        limits: ArchiveLimits::default(),
    };
    // A folder under the name the old code unpacked into (and removed): not ontosweep's.
    let data = temp.path().join("data");
    let mine = data.join(".test-photos.unpacked");
    std::fs::create_dir_all(&mine).unwrap();
    std::fs::write(mine.join("notes.txt"), b"mine").unwrap();
    let root = data.join("photos");
    fetch_archive(&known, &root, &Silent).unwrap();
    assert_eq!(std::fs::read(root.join("daisy/a.jpg")).unwrap(), b"a");
    assert!(root.join("dandelion/b.jpg").is_file());
    assert_eq!(std::fs::read(mine.join("notes.txt")).unwrap(), b"mine");

    // An archive with more entries than its bounds allow leaves no dataset folder behind.
    let other = temp.path().join("other/photos");
    let bounded = KnownArchive {
        limits: ArchiveLimits {
            max_entries: 2,
            max_bytes: 1 << 20,
        },
        ..known.clone()
    };
    let err = fetch_archive(&bounded, &other, &Silent).unwrap_err();
    assert!(err.contains("more than 2 entries"), "{err}");
    assert!(!other.exists());
    assert_eq!(
        std::fs::read_dir(other.parent().unwrap()).unwrap().count(),
        1,
        "only .downloads is left"
    );

    // A wrong checksum leaves no dataset folder behind.
    let other = temp.path().join("third/photos");
    let wrong = KnownArchive {
        sha256: "00",
        ..known
    };
    let err = fetch_archive(&wrong, &other, &Silent).unwrap_err();
    assert!(err.contains("sha256"), "{err}");
    assert!(!other.exists());
}
