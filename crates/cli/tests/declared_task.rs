//! The task is what the user declared, on every dataset kind: every declared class is a
//! candidate, every sample is scored or listed as skipped, and a run that cannot keep that
//! promise stops before encoding with a message that says where and what to write.

use std::path::{Path, PathBuf};
use std::process::Output;

mod common;

use common::{json, mini, rows, stderr, succeeded};

/// Photos of the mini set: the first `n` of each class, as (file, class index).
fn photos(classes: &[&str], n: usize) -> Vec<(PathBuf, usize)> {
    let mut out = Vec::new();
    for (index, class) in classes.iter().enumerate() {
        let mut files: Vec<PathBuf> = std::fs::read_dir(mini().join(class))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        files.sort();
        out.extend(files.into_iter().take(n).map(|f| (f, index)));
    }
    out
}

/// One shard of `samples`, each an image and a `.cls` member holding `label(i)`.
fn pack(shard: &Path, samples: &[(PathBuf, usize)], label: impl Fn(usize) -> String) {
    std::fs::create_dir_all(shard.parent().unwrap()).unwrap();
    let mut tar = tar::Builder::new(std::fs::File::create(shard).unwrap());
    for (i, (path, _)) in samples.iter().enumerate() {
        tar.append_path_with_name(path, format!("s{i:07}.jpg"))
            .unwrap();
        let cls = label(i);
        let mut header = tar::Header::new_gnu();
        header.set_size(cls.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        tar.append_data(&mut header, format!("s{i:07}.cls"), cls.as_bytes())
            .unwrap();
    }
    tar.finish().unwrap();
}

/// An experiment in `dir` with the given dataset lines, on the tiny model.
fn experiment(dir: &Path, dataset: &str) -> PathBuf {
    let path = dir.join("task.yaml");
    std::fs::write(
        &path,
        format!(
            "name: task\ndataset:\n{dataset}models:\n  - path: {}\nontologies:\n  plain:\n    templates: [\"a photo of a {{}}.\"]\n",
            common::model("clip-tiny-random").display()
        ),
    )
    .unwrap();
    path
}

fn run(dir: &Path, file: &Path) -> (Output, PathBuf) {
    let out = dir.join("report");
    let output = common::sweep(file, &out, &dir.join("cache"), &[])
        .output()
        .unwrap();
    (output, out)
}

/// Fails with `needles` in stderr, and wrote no report.
fn refused(dir: &Path, file: &Path, needles: &[&str]) {
    let (output, out) = run(dir, file);
    let err = stderr(&output);
    assert!(!output.status.success(), "exited 0: {err}");
    for needle in needles {
        assert!(err.contains(needle), "{needle:?} not in: {err}");
    }
    assert!(!out.exists(), "a report was written");
}

#[test]
fn shards_score_every_declared_class_and_account_for_every_sample() {
    let temp = tempfile::tempdir().unwrap();
    let wds = temp.path().join("cb/test");
    let samples = photos(&["daisy", "dandelion"], 4);
    pack(&wds.join("0.tar"), &samples, |i| samples[i].1.to_string());
    std::fs::write(temp.path().join("cb/classnames.txt"), "daisy\ndandelion\n").unwrap();
    let file = experiment(
        temp.path(),
        "  webdataset: cb/test/{0..0}.tar\n  classnames: cb/classnames.txt\n",
    );
    let (output, out) = run(temp.path(), &file);
    let output = succeeded(output);
    let err = stderr(&output);
    assert!(
        err.contains("8 samples found: 8 scored, 0 skipped; 2 candidate classes, declared by")
            && err.contains("classnames.txt"),
        "{err}"
    );
    let per_class: Vec<String> = rows(&out.join("per_class.csv"))
        .into_iter()
        .map(|r| r["class"].clone())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    assert_eq!(per_class, ["daisy", "dandelion"]);
    assert_eq!(json(&out.join("run.json"))["images_found"], 8);

    // A class declared in classnames.txt with no sample is a choice nobody could pick.
    std::fs::write(
        temp.path().join("cb/classnames.txt"),
        "daisy\ndandelion\nroses\n",
    )
    .unwrap();
    std::fs::remove_dir_all(&out).unwrap();
    refused(temp.path(), &file, &["have no images: `roses`"]);

    // classnames.txt one line short: indices past its end stop the run.
    std::fs::write(temp.path().join("cb/classnames.txt"), "daisy\n").unwrap();
    refused(
        temp.path(),
        &file,
        &[
            "4 sample(s)",
            "class index 1 is past the end",
            "cb/classnames.txt",
        ],
    );
}

#[test]
fn bad_labels_and_missing_shards_stop_the_run_before_encoding() {
    let temp = tempfile::tempdir().unwrap();
    let wds = temp.path().join("wds");
    let samples = photos(&["daisy", "dandelion"], 2);
    std::fs::create_dir_all(&wds).unwrap();
    std::fs::write(wds.join("classnames.txt"), "daisy\ndandelion\n").unwrap();
    pack(&wds.join("shard-0.tar"), &samples, |i| match i {
        3 => "Dandelion".into(),
        i => samples[i].1.to_string(),
    });
    let file = experiment(
        temp.path(),
        "  webdataset: wds/shard-{0..2}.tar\n  classnames: wds/classnames.txt\n",
    );
    refused(
        temp.path(),
        &file,
        &["task.yaml:3:", "2 shard(s)", "shard-1.tar", "shard-2.tar"],
    );
    let file = experiment(
        temp.path(),
        "  webdataset: wds/shard-0.tar\n  classnames: wds/classnames.txt\n",
    );
    refused(
        temp.path(),
        &file,
        &[
            "1 sample(s)",
            "shard-0.tar/s0000003",
            "\"Dandelion\"",
            "nearest class name: `dandelion`",
        ],
    );
    // The folder of shards given: the line to write.
    let file = experiment(
        temp.path(),
        "  webdataset: wds\n  classnames: wds/classnames.txt\n",
    );
    refused(
        temp.path(),
        &file,
        &["task.yaml:3:", "`webdataset: wds/*.tar`"],
    );
    let file = experiment(temp.path(), "  root: wds\n");
    refused(temp.path(), &file, &["`webdataset: wds/*.tar`"]);
}

#[test]
fn a_manifest_declared_by_classnames_must_hold_every_class() {
    let temp = tempfile::tempdir().unwrap();
    let data = temp.path().join("data");
    std::fs::create_dir(&data).unwrap();
    let mut manifest = String::from("path,label\n");
    for (file, label) in photos(&["daisy", "dandelion"], 3) {
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        std::fs::copy(&file, data.join(&name)).unwrap();
        manifest.push_str(&format!("{name},{}\n", ["daisy", "dandelion"][label]));
    }
    std::fs::write(data.join("labels.csv"), &manifest).unwrap();
    std::fs::write(data.join("names.txt"), "daisy\ndandelion\ntulips\n").unwrap();
    let file = experiment(
        temp.path(),
        "  manifest: data/labels.csv\n  classnames: data/names.txt\n",
    );
    refused(temp.path(), &file, &["have no images: `tulips`"]);
    std::fs::write(data.join("names.txt"), "daisy\n").unwrap();
    refused(
        temp.path(),
        &file,
        &["labels.csv:", "label `dandelion`", "names.txt"],
    );
    std::fs::write(data.join("names.txt"), "daisy\ndandelion\ndaisy\n").unwrap();
    refused(temp.path(), &file, &["names.txt:3:", "lines 1 and 3"]);
    std::fs::write(data.join("names.txt"), "dandelion\ndaisy\n").unwrap();
    let (output, out) = run(temp.path(), &file);
    let err = stderr(&succeeded(output));
    assert!(
        err.contains("6 samples found: 6 scored, 0 skipped; 2 candidate classes"),
        "{err}"
    );
    // Declared order is the class order.
    let summary = std::fs::read_to_string(out.join("per_class.csv")).unwrap();
    assert!(
        summary.find("dandelion").unwrap() < summary.find("daisy").unwrap(),
        "{summary}"
    );
}

/// The galleries of a WebDataset run show thumbnails made from the members, read in place:
/// each the picture of the sample its caption names.
#[test]
fn shard_samples_get_thumbnails_of_their_own_pictures() {
    let temp = tempfile::tempdir().unwrap();
    let samples = photos(&["daisy", "dandelion"], 4);
    pack(&temp.path().join("wds/0.tar"), &samples, |i| {
        samples[i].1.to_string()
    });
    let file = experiment(
        temp.path(),
        "  webdataset: wds/0.tar\n  classes: [daisy, dandelion]\n",
    );
    let (output, out) = run(temp.path(), &file);
    succeeded(output);
    let page = std::fs::read_to_string(out.join("index.html")).unwrap();
    let figures: Vec<(usize, String)> = page
        .split("<figure title=\"0.tar/s")
        .skip(1)
        .map(|rest| {
            let index: usize = rest[..7].parse().unwrap();
            let src = rest.split("src=\"").nth(1).unwrap();
            (index, src[..src.find('"').unwrap()].to_string())
        })
        .collect();
    assert!(!figures.is_empty(), "no gallery figure to check");
    assert!(
        !page.contains("class=\"key\""),
        "a figure without a thumbnail"
    );
    // JPEG thumbnails are not exact: each must be nearest to its own sample's picture.
    let thumbnail = |path: &Path| image::open(path).unwrap().thumbnail(112, 112).into_rgb8();
    let pictures: Vec<image::RgbImage> = samples.iter().map(|(path, _)| thumbnail(path)).collect();
    for (index, src) in figures {
        let made = image::open(out.join(&src)).unwrap().into_rgb8();
        let distance = |picture: &image::RgbImage| {
            if picture.dimensions() != made.dimensions() {
                return f64::INFINITY;
            }
            let total: f64 = made
                .as_raw()
                .iter()
                .zip(picture.as_raw())
                .map(|(a, b)| f64::from(a.abs_diff(*b)))
                .sum();
            total / made.as_raw().len() as f64
        };
        let nearest = (0..pictures.len())
            .min_by(|&a, &b| distance(&pictures[a]).total_cmp(&distance(&pictures[b])))
            .unwrap();
        assert_eq!(nearest, index, "{src} looks like sample {nearest}");
        assert!(distance(&pictures[index]) < 20.0, "{src}");
    }
}
