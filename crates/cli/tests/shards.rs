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

/// The one record of shard `index` of `count` in `out` (`shard-I-of-N-<key>.json`).
fn record_of(out: &Path, index: usize, count: usize) -> PathBuf {
    let records = records(out, &format!("shard-{index}-of-{count}-"));
    assert_eq!(records.len(), 1, "{records:?}");
    out.join("shards").join(&records[0])
}

/// The file names in `out/shards/` starting with `prefix`, sorted.
fn records(out: &Path, prefix: &str) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(out.join("shards"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.starts_with(prefix))
        .collect();
    names.sort();
    names
}

/// Every file below `dir`.
fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            files.extend(walk(&path));
        } else {
            files.push(path);
        }
    }
    files
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
        let record = json(&record_of(&out, i, 3));
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

    // Each shard packed its image embeddings: one pack per shard and model here, no file
    // per image; each shard that found the prompts missing packed them too (the three run
    // at once, so one to three of them did), no file per prompt.
    let files = |extension: &str| {
        walk(&cache)
            .into_iter()
            .filter(|p| p.extension().is_some_and(|e| e == extension))
            .count()
    };
    let models = json(&record_of(&out, 0, 3))["models"]
        .as_array()
        .map_or(1, Vec::len);
    let packs = files("pack");
    assert!(
        (3 * models + models..=3 * models + 3 * models).contains(&packs),
        "{packs} packs for {models} model(s)"
    );
    assert_eq!(files("emb"), 0, "single entries");

    // The report from the shared cache: nothing left to encode, and no image read, since
    // the shards remembered every content key.
    succeeded(ontosweep(&sweep_args(&out, &cache)).output().unwrap());
    let run = json(&out.join("run.json"));
    for model in run["models"].as_array().unwrap() {
        assert_eq!(model["images_encoded"], 0, "{model}");
        assert_eq!(model["prompts_encoded"], 0, "{model}");
    }
    assert_eq!(run["timings"]["image_bytes_read"], 0);
    // The shard records stay with the report, listed as its own.
    let first = record_of(&out, 0, 3);
    let marker = std::fs::read_to_string(out.join(".ontosweep-report.json")).unwrap();
    let listed = format!("shards/{}", first.file_name().unwrap().to_str().unwrap());
    assert!(marker.contains(&listed), "{marker}");
    assert_eq!(run["shards"]["done"], serde_json::json!([0, 1, 2]));
    assert_eq!(run["shards"]["images_covered"], 120);
    assert_eq!(run["shards"]["warnings"], serde_json::json!([]));

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
    let record = json(&record_of(&out, 1, 3));
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
    let mut args = sweep_args(&out, &cache);
    args.extend(["--shard", "0/2"]);
    succeeded(ontosweep(&args).output().unwrap());
    let record = record_of(&out, 0, 2);
    std::fs::write(&record, "my notes").unwrap();
    let output = ontosweep(&args).output().unwrap();
    assert!(!output.status.success());
    assert_eq!(std::fs::read_to_string(&record).unwrap(), "my notes");
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
    assert!(record_of(&out, 1, 2).is_file());
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

/// Runs shard `shard` (`I/N`) of `file` into `out`.
fn run_shard(file: &str, out: &Path, cache: &Path, shard: &str) -> std::process::Output {
    let mut args = sweep_args(out, cache);
    args[1] = file;
    args.extend(["--shard", shard]);
    ontosweep(&args).output().unwrap()
}

/// The final (unsharded) run of `file` into `out`: its output and `run.json`.
fn final_run(file: &str, out: &Path, cache: &Path) -> (String, serde_json::Value) {
    let mut args = sweep_args(out, cache);
    args[1] = file;
    let output = succeeded(ontosweep(&args).output().unwrap());
    (common::stderr(&output), json(&out.join("run.json")))
}

#[test]
fn a_shard_that_never_ran_is_named_and_its_images_encoded_by_the_report_run() {
    let temp = tempfile::tempdir().unwrap();
    let (out, cache) = (temp.path().join("report"), temp.path().join("cache"));
    let file = "experiments/flowers-mini.yaml";
    for shard in ["0/3", "1/3"] {
        succeeded(run_shard(file, &out, &cache, shard));
    }
    let (stderr, run) = final_run(file, &out, &cache);
    assert!(stderr.contains("shard 2 of 3 never ran"), "{stderr}");
    let shards = &run["shards"];
    assert_eq!(shards["count"], 3);
    assert_eq!(shards["done"], serde_json::json!([0, 1]));
    assert_eq!(shards["missing"], serde_json::json!([2]));
    let covered = shards["images_covered"].as_u64().unwrap();
    assert_eq!(shards["images_total"], 120);
    assert!(covered < 120, "{shards}");
    // What no shard covered, this run encoded itself.
    assert_eq!(run["models"][0]["images_encoded"], 120 - covered);
    let warning = shards["warnings"][0].as_str().unwrap();
    assert!(warning.contains("shard 2 of 3 never ran"), "{warning}");
    let page = std::fs::read_to_string(out.join("index.html")).unwrap();
    assert!(page.contains("shard 2 of 3 never ran"));
}

/// `flowers-mini.yaml` under another experiment name, in `folder`.
fn other_experiment(folder: &Path) -> String {
    let text = std::fs::read_to_string(root().join("experiments/flowers-mini.yaml")).unwrap();
    let text = text
        .replace("name: flowers-mini", "name: flowers-other")
        .replace(
            "root: data/flowers-mini",
            &format!("root: {}", common::mini().display()),
        );
    let path = folder.join("other.yaml");
    std::fs::write(&path, text).unwrap();
    path.to_str().unwrap().to_string()
}

#[test]
fn two_experiments_share_one_out_and_each_names_the_others_records() {
    let temp = tempfile::tempdir().unwrap();
    let (out, cache) = (temp.path().join("report"), temp.path().join("cache"));
    let mini = "experiments/flowers-mini.yaml";
    let other = other_experiment(temp.path());
    for shard in ["0/2", "1/2"] {
        succeeded(run_shard(mini, &out, &cache, shard));
    }
    succeeded(run_shard(&other, &out, &cache, "0/2"));
    let all = records(&out, "shard-");
    assert_eq!(all.len(), 3, "{all:?}");
    let other_record = json(&out.join("shards").join(&all[0]));
    let (theirs, ours): (Vec<String>, Vec<String>) = all.iter().cloned().partition(|name| {
        json(&out.join("shards").join(name))["experiment"] == other_record["experiment"]
            && json(&out.join("shards").join(name))["key"] == other_record["key"]
    });
    let (mini_records, other_records) = if other_record["experiment"] == "flowers-other" {
        (ours, theirs)
    } else {
        (theirs, ours)
    };
    assert_eq!((mini_records.len(), other_records.len()), (2, 1));

    // The same experiment sharded another way is refused before any work.
    let output = run_shard(mini, &out, &cache, "0/3");
    assert!(!output.status.success());
    let stderr = common::stderr(&output);
    assert!(stderr.contains(&mini_records[0]), "{stderr}");
    assert_eq!(records(&out, "shard-").len(), 3);

    let (stderr, run) = final_run(mini, &out, &cache);
    assert_eq!(run["shards"]["done"], serde_json::json!([0, 1]));
    assert_eq!(run["shards"]["missing"], serde_json::json!([]));
    assert_eq!(run["shards"]["foreign"], serde_json::json!(other_records));
    assert!(stderr.contains(&other_records[0]), "{stderr}");
    assert_eq!(records(&out, "shard-").len(), 3, "a record was lost");

    let (stderr, run) = final_run(&other, &out, &cache);
    assert_eq!(run["shards"]["done"], serde_json::json!([0]));
    assert_eq!(run["shards"]["missing"], serde_json::json!([1]));
    assert_eq!(run["shards"]["foreign"], serde_json::json!(mini_records));
    assert!(stderr.contains("shard 1 of 2 never ran"), "{stderr}");
    assert!(stderr.contains(&mini_records[0]), "{stderr}");
    assert_eq!(records(&out, "shard-").len(), 3, "a record was lost");
}

#[test]
fn old_records_are_carried_but_not_counted_and_look_alikes_are_not_ours() {
    let temp = tempfile::tempdir().unwrap();
    let (out, cache) = (temp.path().join("report"), temp.path().join("cache"));
    let file = "experiments/flowers-mini.yaml";
    succeeded(run_shard(file, &out, &cache, "0/1"));
    let keyed = record_of(&out, 0, 1);
    // A record as an older ontosweep wrote it: no key, in name or content.
    let mut old = json(&keyed);
    old.as_object_mut().unwrap().remove("key");
    let old_path = out.join("shards/shard-0-of-2.json");
    std::fs::write(&old_path, old.to_string()).unwrap();
    let (stderr, run) = final_run(file, &out, &cache);
    assert_eq!(run["shards"]["done"], serde_json::json!([0]));
    assert_eq!(run["shards"]["count"], 1);
    assert_eq!(
        run["shards"]["foreign"],
        serde_json::json!(["shard-0-of-2.json"])
    );
    assert!(stderr.contains("shard-0-of-2.json"), "{stderr}");
    assert!(old_path.is_file(), "the old record was not carried over");
    let marker = std::fs::read_to_string(out.join(".ontosweep-report.json")).unwrap();
    assert!(marker.contains("shards/shard-0-of-2.json"), "{marker}");

    // Look-alikes of a record's name are not records: the report folder is refused, naming
    // each, and nothing is touched; a FIFO blocks nothing, a link is not followed.
    let name = keyed.file_name().unwrap().to_str().unwrap().to_string();
    let key = name
        .trim_start_matches("shard-0-of-1-")
        .trim_end_matches(".json");
    let record_text = std::fs::read_to_string(&keyed).unwrap();
    let elsewhere = temp.path().join("elsewhere.json");
    std::fs::write(&elsewhere, &record_text).unwrap();
    let shards = out.join("shards");
    for (look_alike, make) in [
        (format!("{name}.bak"), "file"),
        (format!("shard-1-of-2-{}.json", key.to_uppercase()), "file"),
        (format!("shard-1-of-2-{key}0.json"), "file"),
        (format!("shard-01-of-2-{key}.json"), "file"),
        (format!("shard-1-of-2-{key}.json"), "fifo"),
        (format!("shard-1-of-2-{key}.json"), "link"),
    ] {
        let path = shards.join(&look_alike);
        match make {
            "file" => std::fs::write(&path, &record_text).unwrap(),
            "fifo" => assert!(
                Command::new("mkfifo")
                    .arg(&path)
                    .status()
                    .unwrap()
                    .success()
            ),
            _ => std::os::unix::fs::symlink(&elsewhere, &path).unwrap(),
        }
        let mut args = sweep_args(&out, &cache);
        args[1] = file;
        let output = ontosweep(&args).output().unwrap();
        let stderr = common::stderr(&output);
        assert!(
            !output.status.success(),
            "{look_alike} ({make}) taken as a record"
        );
        assert!(stderr.contains(&look_alike), "{make}: {stderr}");
        if make == "file" {
            assert_eq!(std::fs::read_to_string(&path).unwrap(), record_text);
        }
        std::fs::remove_file(&path).unwrap();
    }
    assert_eq!(std::fs::read_to_string(&elsewhere).unwrap(), record_text);
}
