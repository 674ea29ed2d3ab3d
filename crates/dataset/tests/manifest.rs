//! CSV manifests: labels, declared classes, paths that stay inside, one label per file.

use ontosweep_dataset::*;

#[test]
fn a_manifest_lists_images_and_labels() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("img")).unwrap();
    for name in ["a.jpg", "b.jpg", "c.jpg"] {
        std::fs::write(dir.path().join("img").join(name), b"x").unwrap();
    }
    let manifest = dir.path().join("labels.csv");
    std::fs::write(
        &manifest,
        "path,label\nimg/b.jpg,dandelion\nimg/a.jpg,daisy\nimg/gone.jpg,daisy\nimg/c.jpg,rose\n",
    )
    .unwrap();
    // A row naming a missing file is most likely a typo: refused, at its line.
    let err = read_manifest(&manifest, None, None).unwrap_err();
    assert!(matches!(err, DatasetError::Unreadable(_)), "{err:?}");
    let err = err.to_string();
    assert!(
        err.contains("labels.csv:4: img/gone.jpg") && err.contains("not there"),
        "{err}"
    );
    std::fs::write(
        &manifest,
        "path,label\nimg/b.jpg,dandelion\nimg/a.jpg,daisy\nimg/c.jpg,rose\n",
    )
    .unwrap();
    let all = read_manifest(&manifest, None, None).unwrap();
    assert_eq!(all.classes, vec!["daisy", "dandelion", "rose"]);
    assert_eq!(
        all.images
            .to_vec()
            .unwrap()
            .iter()
            .map(|i| (i.relative.as_str(), i.label))
            .collect::<Vec<_>>(),
        vec![("img/a.jpg", 0), ("img/b.jpg", 1), ("img/c.jpg", 2)]
    );
    assert!(all.skipped.is_empty(), "{:?}", all.skipped);
    // A subset, in the given order: other labels are left out.
    let subset =
        read_manifest(&manifest, None, Some(&["dandelion".into(), "daisy".into()])).unwrap();
    assert_eq!(
        subset
            .images
            .to_vec()
            .unwrap()
            .iter()
            .map(|i| i.label)
            .collect::<Vec<_>>(),
        vec![1, 0]
    );
    // Rows of the classes left out are listed, not dropped: found = scored + skipped.
    assert_eq!(subset.skipped.len(), 1, "{:?}", subset.skipped);
    assert!(subset.skipped[0].reason.contains("`rose` is not one of"));
    let err = read_manifest(&manifest, None, Some(&["tulip".into()])).unwrap_err();
    assert!(matches!(err, DatasetError::Classes(_)), "{err:?}");
    let err = err.to_string();
    assert!(err.contains("have no images: `tulip`"), "{err}");
}

#[test]
fn a_fifo_manifest_is_refused_without_blocking() {
    use ontosweep_testkit::{mkfifo, within_a_minute};
    let dir = tempfile::tempdir().unwrap();
    let manifest = dir.path().join("labels.csv");
    mkfifo(&manifest);
    let err = within_a_minute(move || read_manifest(&manifest, None, None))
        .expect("reading a FIFO manifest blocked")
        .unwrap_err()
        .to_string();
    assert!(err.contains("labels.csv"), "{err}");
}

#[test]
fn manifest_paths_stay_inside_its_folder() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = dir.path().join("labels.csv");
    for bad in ["/etc/passwd", "../x.jpg", "img/../../x.jpg"] {
        std::fs::write(&manifest, format!("path,label\na.jpg,daisy\n{bad},rose\n")).unwrap();
        let err = read_manifest(&manifest, None, None)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("labels.csv:3:") && err.contains("leaves"),
            "{err}"
        );
    }
}

#[test]
fn a_manifest_listing_one_file_under_two_labels_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.jpg"), b"x").unwrap();
    std::fs::write(dir.path().join("b.jpg"), b"y").unwrap();
    let manifest = dir.path().join("labels.csv");
    std::fs::write(
        &manifest,
        "path,label\na.jpg,daisy\nb.jpg,rose\n./a.jpg,rose\n",
    )
    .unwrap();
    let err = read_manifest(&manifest, None, None).unwrap_err();
    assert!(matches!(err, DatasetError::Duplicate(_)), "{err:?}");
    let err = err.to_string();
    assert!(
        err.contains("./a.jpg (line 4)") && err.contains("a.jpg (line 2)"),
        "{err}"
    );
    std::fs::write(
        &manifest,
        "path,label\na.jpg,daisy\nb.jpg,rose\na.jpg,daisy\n",
    )
    .unwrap();
    let found = read_manifest(&manifest, None, None).unwrap();
    assert_eq!(found.images.len(), 2);
    assert_eq!(found.skipped.len(), 1);
}
