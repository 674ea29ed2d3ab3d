//! Sharded encoding: three shard processes at once on one cache, then the unsharded sweep
//! encodes nothing and reports exactly what a single process reports.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

mod common;

use common::{json, root, succeeded};

fn ontosweep(args: &[&str]) -> Command {
    common::command(args)
}

fn sweep_args<'a>(out: &'a Path, cache: &'a Path) -> Vec<&'a str> {
    vec![
        "sweep",
        "experiments/flowers-mini.yaml",
        "--out",
        out.to_str().unwrap(),
        "--cache-dir",
        cache.to_str().unwrap(),
        "--threads",
        "1",
    ]
}

#[test]
fn three_shards_at_once_then_the_report_encodes_nothing_and_matches_one_process() {
    let temp = tempfile::tempdir().unwrap();
    let (out, cache) = (temp.path().join("report"), temp.path().join("cache"));
    let shards: Vec<_> = (0..3)
        .map(|i| {
            let shard = format!("{i}/3");
            let mut args = sweep_args(&out, &cache);
            args.extend(["--shard", &shard]);
            ontosweep(&args).spawn().unwrap()
        })
        .collect();
    for child in shards {
        succeeded(child.wait_with_output().unwrap());
    }
    let mut seen = BTreeSet::new();
    let mut total = 0;
    for i in 0..3 {
        let record = json(&out.join(format!("shards/shard-{i}-of-3.json")));
        assert_eq!(record["images_total"], 120);
        let images = record["images"].as_array().unwrap();
        assert_eq!(record["images_in_shard"], images.len());
        assert!(!images.is_empty(), "shard {i} is empty");
        for image in images {
            assert!(
                seen.insert(image.as_str().unwrap().to_string()),
                "{image} in two shards"
            );
        }
        total += images.len();
    }
    assert_eq!(total, 120);
    assert!(!out.join("summary.csv").exists(), "a shard wrote a report");

    // The report from the shared cache: nothing left to encode.
    succeeded(ontosweep(&sweep_args(&out, &cache)).output().unwrap());
    let run = json(&out.join("run.json"));
    for model in run["models"].as_array().unwrap() {
        assert_eq!(model["images_encoded"], 0, "{model}");
        assert_eq!(model["prompts_encoded"], 0, "{model}");
    }
    // The shard records stay with the report, listed as its own.
    assert!(out.join("shards/shard-2-of-3.json").is_file());
    let marker = std::fs::read_to_string(out.join(".ontosweep-report.json")).unwrap();
    assert!(marker.contains("shards/shard-0-of-3.json"), "{marker}");

    // One process from scratch gives the same files.
    let (single, fresh) = (temp.path().join("single"), temp.path().join("fresh-cache"));
    succeeded(ontosweep(&sweep_args(&single, &fresh)).output().unwrap());
    for file in ["predictions.csv", "summary.csv"] {
        assert_eq!(
            std::fs::read(out.join(file)).unwrap(),
            std::fs::read(single.join(file)).unwrap(),
            "{file} differs"
        );
    }

    // A killed shard is rerun alone: its record is replaced, everything comes from the cache.
    let mut args = sweep_args(&out, &cache);
    args.extend(["--shard", "1/3"]);
    succeeded(ontosweep(&args).output().unwrap());
    let record = json(&out.join("shards/shard-1-of-3.json"));
    assert_eq!(record["encoded"], 0);
    assert_eq!(record["from_cache"], record["images_in_shard"]);
}

#[test]
fn shard_arguments_and_records_are_checked() {
    let temp = tempfile::tempdir().unwrap();
    let (out, cache) = (temp.path().join("report"), temp.path().join("cache"));
    for (shard, needle) in [
        ("3/3", "I/N"),
        ("x", "I/N"),
        ("auto", "SLURM_ARRAY_TASK_ID"),
    ] {
        let mut args = sweep_args(&out, &cache);
        args.extend(["--shard", shard]);
        let output = ontosweep(&args).output().unwrap();
        assert!(!output.status.success());
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(needle), "{shard}: {stderr}");
    }
    // A file of the user's where the record would go is never overwritten.
    std::fs::create_dir_all(out.join("shards")).unwrap();
    std::fs::write(out.join("shards/shard-0-of-2.json"), "my notes").unwrap();
    let mut args = sweep_args(&out, &cache);
    args.extend(["--shard", "0/2"]);
    let output = ontosweep(&args).output().unwrap();
    assert!(!output.status.success());
    assert_eq!(
        std::fs::read_to_string(out.join("shards/shard-0-of-2.json")).unwrap(),
        "my notes"
    );
    // `auto` under Slurm.
    let out = temp.path().join("auto");
    let mut args = sweep_args(&out, &cache);
    args.extend(["--shard", "auto"]);
    let output = succeeded(
        ontosweep(&args)
            .env("SLURM_ARRAY_TASK_ID", "1")
            .env("SLURM_ARRAY_TASK_COUNT", "2")
            .output()
            .unwrap(),
    );
    assert!(String::from_utf8_lossy(&output.stdout).contains("shard 1 of 2"));
    assert!(out.join("shards/shard-1-of-2.json").is_file());
    // With `--no-cache` a shard would compute for nothing.
    let output = ontosweep(&[
        "sweep",
        "experiments/flowers-mini.yaml",
        "--out",
        out.to_str().unwrap(),
        "--no-cache",
        "--shard",
        "0/2",
    ])
    .output()
    .unwrap();
    assert!(String::from_utf8_lossy(&output.stderr).contains("--cache-dir"));
}

/// The mini set's daisies and dandelions packed as two WebDataset shards (`key.jpg` +
/// `key.cls`) with CLIP_benchmark's `classnames.txt`.
fn pack_shards(folder: &Path) -> usize {
    std::fs::create_dir_all(folder).unwrap();
    std::fs::write(folder.join("classnames.txt"), "daisy\ndandelion\n").unwrap();
    let mut samples = Vec::new();
    for (index, class) in ["daisy", "dandelion"].iter().enumerate() {
        let mut files: Vec<PathBuf> =
            std::fs::read_dir(root().join("experiments/data/flowers-mini").join(class))
                .unwrap()
                .map(|e| e.unwrap().path())
                .collect();
        files.sort();
        samples.extend(files.into_iter().map(|f| (f, index)));
    }
    for (shard, chunk) in samples.chunks(samples.len().div_ceil(2)).enumerate() {
        let file = std::fs::File::create(folder.join(format!("shard-{shard:06}.tar"))).unwrap();
        let mut tar = tar::Builder::new(file);
        for (path, label) in chunk {
            let key = path
                .file_stem()
                .unwrap()
                .to_string_lossy()
                .replace('.', "_");
            tar.append_path_with_name(path, format!("{key}.jpg"))
                .unwrap();
            let cls = label.to_string();
            let mut header = tar::Header::new_gnu();
            header.set_size(cls.len() as u64);
            header.set_mode(0o644);
            header.set_cksum();
            tar.append_data(&mut header, format!("{key}.cls"), cls.as_bytes())
                .unwrap();
        }
        tar.finish().unwrap();
    }
    samples.len()
}

#[test]
fn webdataset_shards_are_read_in_place_with_the_same_cache_keys_as_files() {
    let temp = tempfile::tempdir().unwrap();
    let data = temp.path().join("wds");
    let count = pack_shards(&data);
    let cache = temp.path().join("cache");
    let model = root().join("models/clip-tiny-random");
    let experiment = |name: &str, dataset: &str| {
        let path = temp.path().join(format!("{name}.yaml"));
        std::fs::write(
            &path,
            format!("name: {name}\ndataset:\n{dataset}\nmodels:\n  - path: {}\nontologies:\n  plain:\n    templates: [\"a photo of a {{}}.\"]\n", model.display()),
        )
        .unwrap();
        path
    };
    let folders = experiment(
        "folders",
        &format!(
            "  root: {}\n  classes: [daisy, dandelion]",
            root().join("experiments/data/flowers-mini").display()
        ),
    );
    let shards = experiment(
        "shards",
        &format!(
            "  webdataset: {}/shard-{{000000..000001}}.tar\n  classnames: {}/classnames.txt",
            data.display(),
            data.display()
        ),
    );
    let run = |file: &Path, out: &Path| {
        succeeded(common::sweep(file, out, &cache, &[]).output().unwrap());
        json(&out.join("run.json"))
    };
    let first = run(&folders, &temp.path().join("folders-report"));
    assert_eq!(first["models"][0]["images_encoded"], count);
    // The same bytes inside tar shards: every embedding is already cached.
    let second = run(&shards, &temp.path().join("shards-report"));
    assert_eq!(second["images_found"], count);
    assert_eq!(second["models"][0]["images_encoded"], 0);
    assert_eq!(second["models"][0]["images_from_cache"], count);
    let read =
        |out: &str| std::fs::read_to_string(temp.path().join(out).join("summary.csv")).unwrap();
    let (a, b) = (read("folders-report"), read("shards-report"));
    let accuracy = |s: &str| {
        s.lines()
            .nth(1)
            .unwrap()
            .split(',')
            .take(7)
            .collect::<Vec<_>>()
            .join(",")
    };
    assert_eq!(accuracy(&a), accuracy(&b));
}
