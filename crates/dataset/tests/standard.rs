//! The standard benchmarks' on-disk forms: every sample found is scored or skipped with its
//! reason, every declared class is a candidate, and hostile files are refused by name.

use std::path::Path;

use ontosweep_dataset::*;

fn write(path: &Path, bytes: &[u8]) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, bytes).unwrap();
}

fn tar(path: &Path, members: &[(&str, &[u8])]) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let mut tar = tar::Builder::new(std::fs::File::create(path).unwrap());
    for (name, bytes) in members {
        let mut header = tar::Header::new_gnu();
        header.set_size(bytes.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        tar.append_data(&mut header, name, *bytes).unwrap();
    }
    tar.finish().unwrap();
}

#[test]
fn an_export_accounts_for_every_sample_and_keeps_published_repeats_apart() {
    let dir = tempfile::tempdir().unwrap();
    let cb = dir.path().join("wds_x");
    write(&cb.join("classnames.txt"), b"crane\nrose\ncrane\n");
    write(&cb.join("test/nshards.txt"), b"2\n");
    tar(
        &cb.join("test/0.tar"),
        &[
            ("s0.webp", b"a"),
            ("s0.cls", b"0"),
            ("s1.webp", b"b"),
            ("s1.cls", b"2"),
        ],
    );
    tar(
        &cb.join("test/1.tar"),
        &[("s2.webp", b"c"), ("s2.cls", b"1"), ("s3.webp", b"d")],
    );
    // Past the count: read by neither tool, and said.
    tar(
        &cb.join("test/2.tar"),
        &[("s4.webp", b"e"), ("s4.cls", b"1")],
    );
    let dataset = read_clip_benchmark(&cb, "test", CbNames::Folder, None).unwrap();
    assert_eq!(
        dataset.classes,
        ["crane (class 0)", "rose", "crane (class 2)"]
    );
    assert_eq!(dataset.display["crane (class 2)"], "crane");
    assert_eq!(dataset.images.len() + dataset.skipped.len(), 4);
    assert_eq!(dataset.skipped[0].path, "1.tar/s3.webp");
    let labels: Vec<usize> = dataset
        .images
        .to_vec()
        .unwrap()
        .iter()
        .map(|i| i.label)
        .collect();
    assert_eq!(labels, [0, 2, 1]);
    let warnings = dataset.warnings.join("\n");
    assert!(
        warnings.contains("`crane` 2 times") && warnings.contains("2.tar"),
        "{warnings}"
    );

    // A split that is not there names the ones that are.
    let err = read_clip_benchmark(&cb, "train", CbNames::Folder, None)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("no split `train`") && err.contains("test"),
        "{err}"
    );
    // A count that is not a number of shards.
    write(&cb.join("test/nshards.txt"), b"lots\n");
    let err = read_clip_benchmark(&cb, "test", CbNames::Folder, None)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("nshards.txt") && err.contains("\"lots\""),
        "{err}"
    );
    write(&cb.join("test/nshards.txt"), b"99999999999\n");
    assert!(read_clip_benchmark(&cb, "test", CbNames::Folder, None).is_err());
    // Names given by the experiment replace the folder's (and the folder's may be absent).
    write(&cb.join("test/nshards.txt"), b"2\n");
    std::fs::remove_file(cb.join("classnames.txt")).unwrap();
    let err = read_clip_benchmark(&cb, "test", CbNames::Folder, None)
        .unwrap_err()
        .to_string();
    assert!(err.contains("classnames.txt"), "{err}");
    let names: Vec<String> = ["a", "b", "c"].map(String::from).to_vec();
    let dataset = read_clip_benchmark(
        &cb,
        "test",
        CbNames::Given(&names, "clip-benchmark/x"),
        None,
    )
    .unwrap();
    assert_eq!(dataset.classes, ["a", "b", "c"]);
}

#[test]
fn imagenet_declares_all_thousand_classes_and_refuses_strangers() {
    let dir = tempfile::tempdir().unwrap();
    let names = (0..1000).map(|i| format!("class {i}")).collect::<Vec<_>>();
    let wnids = ["n01440764", "n01443537"];
    for wnid in wnids {
        write(&dir.path().join("val").join(wnid).join("x.JPEG"), b"x");
    }
    write(&dir.path().join("val/n01440764/notes.txt"), b"x");
    let wanted: Vec<String> = ["class 1", "class 0"].map(String::from).to_vec();
    let dataset = read_imagenet(dir.path(), "val", &names, "list", Some(&wanted)).unwrap();
    assert_eq!(dataset.classes, wanted);
    let labels: Vec<(String, usize)> = dataset
        .images
        .to_vec()
        .unwrap()
        .iter()
        .map(|i| (i.relative.clone(), i.label))
        .collect();
    assert_eq!(
        labels,
        [
            ("n01440764/x.JPEG".into(), 1),
            ("n01443537/x.JPEG".into(), 0)
        ]
    );
    assert_eq!(dataset.skipped.len(), 1, "{:?}", dataset.skipped);
    let err = read_imagenet(dir.path(), "val", &names, "list", None)
        .unwrap_err()
        .to_string();
    assert!(err.contains("998 of the 1000 classes"), "{err}");
    let err = read_imagenet(dir.path(), "val", &names[..999], "list", None)
        .unwrap_err()
        .to_string();
    assert!(err.contains("999 classes"), "{err}");
    write(&dir.path().join("val/ILSVRC2012_val_00000001.JPEG"), b"x");
    let err = read_imagenet(dir.path(), "val", &names, "list", Some(&wanted))
        .unwrap_err()
        .to_string();
    assert!(err.contains("outside any class folder"), "{err}");
    std::fs::remove_file(dir.path().join("val/ILSVRC2012_val_00000001.JPEG")).unwrap();
    std::fs::create_dir_all(dir.path().join("val/../val/tench")).unwrap();
    let err = read_imagenet(dir.path(), "val", &names, "list", Some(&wanted))
        .unwrap_err()
        .to_string();
    assert!(err.contains("tench") && err.contains("WordNet"), "{err}");
}

#[test]
fn food101_lists_are_held_to_their_classes_and_folder() {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("food-101");
    write(&base.join("meta/classes.txt"), b"apple_pie\nbeef_tartare\n");
    write(&base.join("images/apple_pie/1.jpg"), b"x");
    write(&base.join("images/beef_tartare/2.jpg"), b"x");
    write(
        &base.join("meta/test.txt"),
        b"apple_pie/1\nbeef_tartare/2\n",
    );
    let dataset = read_food101(dir.path(), "test", None).unwrap();
    assert_eq!(dataset.images.len(), 2);
    assert_eq!(dataset.display["beef_tartare"], "beef tartare");
    let wanted = vec!["beef_tartare".to_string()];
    let dataset = read_food101(&base, "test", Some(&wanted)).unwrap();
    assert_eq!((dataset.images.len(), dataset.skipped.len()), (1, 1));
    for (list, needle) in [
        ("apple_pie/1\nsushi/3\n", "test.txt:2: class `sushi`"),
        ("apple_pie/../../../etc/passwd\n", "outside"),
        ("apple_pie/1\napple_pie/1\n", "listed twice"),
        ("apple_pie\n", "not `<class>/<image id>`"),
    ] {
        write(&base.join("meta/test.txt"), list.as_bytes());
        let err = read_food101(&base, "test", None).unwrap_err().to_string();
        assert!(err.contains(needle), "{needle}: {err}");
    }
}
