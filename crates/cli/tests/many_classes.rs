//! A thousand classes end to end: a sweep over a generated ImageNet-shaped set gives a report
//! whose files stay small, whose page opens, and a terminal output that does not list every
//! class. The benchmark (ignored by default) times scoring and the report at 100, 1,000 and
//! 10,000 classes and measures peak memory.

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use common::many_classes::{class_name, dataset, experiment, screenshot};
use common::*;

/// Every file under `dir` (recursively) with its size.
fn sizes(dir: &Path) -> BTreeMap<String, u64> {
    let mut found = BTreeMap::new();
    let mut folders = vec![dir.to_path_buf()];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                folders.push(path);
            } else {
                let name = path
                    .strip_prefix(dir)
                    .unwrap()
                    .to_string_lossy()
                    .into_owned();
                found.insert(name, path.metadata().unwrap().len());
            }
        }
    }
    found
}

#[test]
fn a_thousand_class_sweep_gives_a_small_report_that_opens() {
    let temp = tempfile::tempdir().unwrap();
    let root = dataset(temp.path(), 1000, 2);
    let file = experiment(temp.path(), &root, 8);
    let out = temp.path().join("report");
    let output = succeeded(
        sweep(&file, &out, &temp.path().join("cache"), &[])
            .output()
            .unwrap(),
    );
    let (stdout, errors) = (
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr),
    );
    // The terminal: no line names every class.
    for line in stdout.lines().chain(errors.lines()) {
        assert!(
            line.len() < 2_000,
            "a {}-byte line: {line:.300}",
            line.len()
        );
        assert!(!line.contains(&class_name(999)), "{line:.300}");
    }
    assert!(
        errors.contains("1000 classes below") && errors.contains("run.json"),
        "{errors}"
    );

    let sizes = sizes(&out);
    let total: u64 = sizes.values().sum();
    for (name, size) in &sizes {
        assert!(*size < 3_000_000, "{name}: {size} bytes");
    }
    assert!(total < 20_000_000, "{total} bytes: {sizes:?}");
    assert!(sizes["index.html"] < 1_500_000, "{}", sizes["index.html"]);
    assert!(
        !sizes
            .keys()
            .any(|n| n.starts_with("confusion_") && n.ends_with(".svg")),
        "{sizes:?}"
    );
    let thumbnails = sizes.keys().filter(|n| n.starts_with("thumbs")).count();
    assert!(thumbnails <= 3 * 3 * 40, "{thumbnails} thumbnails");

    let run = json(&out.join("run.json"));
    let per_class = run["split"]["dev_images_per_class"].as_object().unwrap();
    assert_eq!(per_class.len(), 1000);
    let predictions = rows(&out.join("predictions.csv"));
    assert!(
        predictions[0].contains_key("top5_class"),
        "{:?}",
        predictions[0]
    );
    assert!(predictions[0].len() < 30);
    let scored = run["images_scored"].as_u64().unwrap() as usize;
    assert_eq!(predictions.len(), 3 * scored);

    if let Some((shot, output)) = screenshot(&out.join("index.html"), temp.path()) {
        assert!(shot.is_file(), "no screenshot: {}", stderr(&output));
        let image = image::open(&shot).unwrap().into_rgb8();
        let drawn = image.pixels().filter(|p| p.0 != [255, 255, 255]).count();
        assert!(drawn > image.pixels().count() / 50, "the page looks blank");
    }
}

/// `--all-probabilities`: one `.npy` per ontology, rows in `predictions.csv`'s order holding
/// the same scores.
#[test]
fn every_probability_is_written_as_npy_on_request() {
    let temp = tempfile::tempdir().unwrap();
    let out = temp.path().join("report");
    let file = root().join("experiments/flowers-mini.yaml");
    succeeded(
        sweep(
            &file,
            &out,
            &temp.path().join("cache"),
            &["--all-probabilities"],
        )
        .output()
        .unwrap(),
    );
    let npy = std::fs::read(out.join("probabilities_clip-tiny-random_plain.npy")).unwrap();
    let header_len = usize::from(u16::from_le_bytes([npy[8], npy[9]]));
    let header = std::str::from_utf8(&npy[10..10 + header_len]).unwrap();
    assert!(header.contains("'shape': (120, 5)"), "{header}");
    let values: Vec<f32> = npy[10 + header_len..]
        .chunks(4)
        .map(|b| f32::from_le_bytes(b.try_into().unwrap()))
        .collect();
    let plain: Vec<_> = rows(&out.join("predictions.csv"))
        .into_iter()
        .filter(|r| r["ontology"] == "plain")
        .collect();
    assert_eq!(values.len(), plain.len() * 5);
    let classes = ["daisy", "dandelion", "roses", "sunflowers", "tulips"];
    for (row, scores) in plain.iter().zip(values.chunks(5)) {
        for (class, &value) in classes.iter().zip(scores) {
            let written: f32 = row[&format!("score:{class}")].parse().unwrap();
            assert_eq!(written, value, "{row:?}");
        }
    }
    let files = std::fs::read_dir(&out).unwrap().count();
    let without = temp.path().join("without");
    succeeded(
        sweep(&file, &without, &temp.path().join("cache"), &[])
            .output()
            .unwrap(),
    );
    assert!(
        !without
            .join("probabilities_clip-tiny-random_plain.npy")
            .exists()
    );
    assert!(std::fs::read_dir(&without).unwrap().count() < files);
}

/// `ontosweep sweep` under GNU time: (peak resident set in MB, stdout).
fn timed_sweep(file: &Path, out: &Path, cache: &Path) -> (f64, String) {
    let sweep = sweep(file, out, cache, &[]);
    let mut timed = Command::new("/usr/bin/time");
    timed
        .arg("-f")
        .arg("peak-kb %M")
        .arg(sweep.get_program())
        .args(sweep.get_args())
        .current_dir(root())
        .envs(sweep.get_envs().filter_map(|(k, v)| Some((k, v?))));
    let output = succeeded(
        timed
            .output()
            .expect("GNU time at /usr/bin/time (apt-get install time)"),
    );
    let stderr = stderr(&output);
    let peak_kb: f64 = stderr
        .lines()
        .rev()
        .find_map(|l| l.strip_prefix("peak-kb "))
        .expect("GNU time's report")
        .trim()
        .parse()
        .unwrap();
    (
        peak_kb / 1024.0,
        String::from_utf8_lossy(&output.stdout).into_owned(),
    )
}

/// `cargo xtask test -p ontosweep --release --test many_classes -- --ignored --nocapture`:
/// scoring and report time and peak memory at 100, 1,000 and 10,000 classes, two images a
/// class, the embedding cache warm (so encoding does not count).
#[test]
#[ignore = "a benchmark: minutes and gigabytes of scratch space"]
fn benchmark_scoring_and_report_by_class_count() {
    println!(
        "| classes | images scored | scoring s | report s | peak MB | report MB | index.html MB |"
    );
    println!("| --- | --- | --- | --- | --- | --- | --- |");
    // ONTOSWEEP_BENCH_CLASSES=100,1000 measures fewer sizes.
    let class_counts: Vec<usize> = std::env::var("ONTOSWEEP_BENCH_CLASSES")
        .unwrap_or_else(|_| "100,1000,10000".into())
        .split(',')
        .map(|n| n.trim().parse().expect("class counts, e.g. 100,1000"))
        .collect();
    for classes in class_counts {
        let temp = tempfile::tempdir().unwrap();
        let root = dataset(temp.path(), classes, 2);
        let file = experiment(temp.path(), &root, 8);
        let cache = temp.path().join("cache");
        let out = temp.path().join("report");
        timed_sweep(&file, &out, &cache);
        let (peak_mb, stdout) = timed_sweep(&file, &out, &cache);
        let run = json(&out.join("run.json"));
        let report_seconds: f64 = stdout
            .lines()
            .find_map(|l| l.split("written in ").nth(1))
            .and_then(|t| t.trim_end_matches(" s)").parse().ok())
            .expect("the report line");
        let sizes = sizes(&out);
        println!(
            "| {classes} | {} | {:.2} | {report_seconds:.1} | {peak_mb:.0} | {:.1} | {:.2} |",
            run["images_scored"],
            run["timings"]["scoring_seconds"].as_f64().unwrap(),
            sizes.values().sum::<u64>() as f64 / 1e6,
            sizes["index.html"] as f64 / 1e6,
        );
    }
}
