//! Class folders: classes in order, links followed once, one class per file.

use std::path::Path;

use ontosweep_dataset::*;

#[test]
fn a_folder_or_file_linked_into_two_classes_is_an_error() {
    use std::os::unix::fs::symlink;
    let dir = tempfile::tempdir().unwrap();
    for class in ["daisy", "dandelion"] {
        std::fs::create_dir_all(dir.path().join(class)).unwrap();
        std::fs::write(dir.path().join(class).join("own.png"), class).unwrap();
    }
    std::fs::create_dir_all(dir.path().join("daisy/more")).unwrap();
    std::fs::write(dir.path().join("daisy/more/x.png"), b"x").unwrap();
    symlink(
        dir.path().join("daisy/more"),
        dir.path().join("dandelion/more"),
    )
    .unwrap();
    let err = duplicate_refused(dir.path());
    assert!(
        err.contains("dandelion/more (class `dandelion`)")
            && err.contains("daisy/more (class `daisy`)")
            && err.contains("same folder"),
        "{err}"
    );
    std::fs::remove_file(dir.path().join("dandelion/more")).unwrap();
    symlink(
        dir.path().join("daisy/own.png"),
        dir.path().join("dandelion/stolen.png"),
    )
    .unwrap();
    let err = duplicate_refused(dir.path());
    assert!(
        err.contains("dandelion/stolen.png") && err.contains("daisy/own.png"),
        "{err}"
    );
    // A hard link is the same file too.
    std::fs::remove_file(dir.path().join("dandelion/stolen.png")).unwrap();
    std::fs::hard_link(
        dir.path().join("daisy/own.png"),
        dir.path().join("dandelion/stolen.png"),
    )
    .unwrap();
    let err = duplicate_refused(dir.path());
    assert!(
        err.contains("dandelion/stolen.png") && err.contains("same file"),
        "{err}"
    );
    // Within one class a second path to a file counts once and is listed.
    std::fs::remove_file(dir.path().join("dandelion/stolen.png")).unwrap();
    symlink(
        dir.path().join("daisy/own.png"),
        dir.path().join("daisy/again.png"),
    )
    .unwrap();
    let found = scan_folder(dir.path(), None).unwrap();
    assert_eq!(found.images.len(), 3, "{:?}", found.images);
    assert!(
        found
            .skipped
            .iter()
            .any(|s| s.path == "daisy/own.png"
                && s.reason.contains("same file as daisy/again.png")),
        "{:?}",
        found.skipped
    );
}

#[test]
fn folders_give_classes_in_order_and_a_missing_class_is_named() {
    let dir = tempfile::tempdir().unwrap();
    for class in ["b", "a", ".hidden"] {
        std::fs::create_dir_all(dir.path().join(class)).unwrap();
        std::fs::write(dir.path().join(class).join("x.png"), b"x").unwrap();
    }
    assert_eq!(
        scan_folder(dir.path(), None).unwrap().classes,
        vec!["a", "b"]
    );
    let err = scan_folder(dir.path(), Some(&["a".into(), "c".into()])).unwrap_err();
    assert!(matches!(err, DatasetError::Classes(_)), "{err:?}");
    let err = err.to_string();
    assert!(
        err.contains("no sub-folder for class `c`") && err.contains("it has: a, b"),
        "{err}"
    );
}

/// Scanning `root` is refused as a duplicate; the message.
fn duplicate_refused(root: &Path) -> String {
    let err = scan_folder(root, None).unwrap_err();
    assert!(matches!(err, DatasetError::Duplicate(_)), "{err:?}");
    err.to_string()
}
