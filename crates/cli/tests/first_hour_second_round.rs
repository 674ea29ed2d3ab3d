//! The first hour, second round (issue 25): what a new user and a hostile review still
//! tripped on. Each test is one of those trips.

use std::path::{Path, PathBuf};
use std::process::Output;

mod common;

use common::{mini, root, stderr, succeeded};

fn ontosweep(args: &[&str]) -> Output {
    common::command(args).output().expect("the binary runs")
}

fn mini_sweep(out: &Path, cache: &Path, extra: &[&str]) -> Output {
    let file = root().join("experiments/flowers-mini.yaml");
    common::sweep(&file, out, cache, extra).output().unwrap()
}

/// With every embedding cached no session would be made, so nothing would find out that
/// CUDA cannot run: it is checked first, and nothing is written.
#[test]
fn cuda_by_name_is_checked_before_anything_even_with_everything_cached() {
    let temp = tempfile::tempdir().unwrap();
    let cache = temp.path().join("cache");
    succeeded(mini_sweep(
        &temp.path().join("first"),
        &cache,
        &["--ep", "cpu"],
    ));
    let out = temp.path().join("cuda");
    let output = mini_sweep(&out, &cache, &["--ep", "cuda"]);
    let err = stderr(&output);
    assert!(
        !output.status.success(),
        "--ep cuda ran without CUDA: {err}"
    );
    assert!(
        err.contains("--ep cuda")
            && err.contains("--ep cpu")
            && err.contains("cargo xtask setup --gpu"),
        "{err}"
    );
    assert!(!out.exists(), "a report folder was made");
}

/// Logs read in a pipe or a file carry no terminal colour codes.
#[test]
fn logs_into_a_pipe_carry_no_colour_codes() {
    let model = common::model("clip-tiny-random");
    let output = common::command(&[
        "embed",
        "--model",
        model.to_str().unwrap(),
        "--text",
        "daisy",
    ])
    .env("ONTOSWEEP_LOG", "info")
    .output()
    .unwrap();
    let err = stderr(&output);
    assert!(output.status.success(), "{err}");
    // The log line the provider choice writes at `info`, so the check has a log to look at.
    assert!(err.contains("INFO"), "no log line to check: {err}");
    assert!(!err.contains('\u{1b}'), "colour codes in a pipe: {err:?}");
}

/// A value from a user's file is quoted in an error, never echoed whole.
#[test]
fn a_huge_value_is_quoted_with_its_size_not_echoed_whole() {
    let temp = tempfile::tempdir().unwrap();
    let model = temp.path().join("model");
    common::copy_dir(&common::model("clip-tiny-random"), &model);
    let huge = "x".repeat(100_000);
    std::fs::write(
        model.join("config.json"),
        format!(r#"{{"model_type": "{huge}"}}"#),
    )
    .unwrap();
    let output = ontosweep(&[
        "embed",
        "--model",
        model.to_str().unwrap(),
        "--text",
        "daisy",
    ]);
    let err = stderr(&output);
    assert!(!output.status.success());
    assert!(
        err.contains("is not a supported family"),
        "{}",
        &err[..err.len().min(500)]
    );
    assert!(
        err.contains("100000 bytes"),
        "{}",
        &err[..err.len().min(500)]
    );
    let longest = err.lines().map(str::len).max().unwrap_or(0);
    assert!(longest < 2_100, "a {longest}-byte line");
}

/// A split that leaves a handful of test images says so: every figure is read on them.
#[test]
fn a_test_split_too_small_to_read_is_warned_of() {
    let temp = tempfile::tempdir().unwrap();
    let body = |fraction: f64| {
        format!(
            "name: small-test\ndataset:\n  root: {}\nmodels: [clip-tiny-random]\nsplit:\n  dev_fraction: {fraction}\nontologies:\n  plain:\n    templates: [\"{{}}\"]\n",
            mini().display()
        )
    };
    let file = common::experiment_file(temp.path(), "small", &body(0.97));
    let output = common::sweep(&file, &temp.path().join("o"), &temp.path().join("c"), &[])
        .output()
        .unwrap();
    let err = stderr(&succeeded(output));
    assert!(
        err.contains("the test split, on which every figure is measured, is too small to read"),
        "{err}"
    );
    let run = common::json(&temp.path().join("o/run.json"));
    let scored = run["images_scored"].as_u64().unwrap();
    assert!(err.contains(&format!("{scored} test image")), "{err}");
}

/// Every file under `dir` with its length and modification time, to show nothing changed.
fn snapshot(dir: &Path) -> Vec<(PathBuf, u64, std::time::SystemTime)> {
    let mut files = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return files;
    };
    for entry in entries.flatten() {
        let meta = entry.metadata().unwrap();
        files.push((entry.path(), meta.len(), meta.modified().unwrap()));
        if meta.is_dir() {
            files.extend(snapshot(&entry.path()));
        }
    }
    files.sort();
    files
}

/// `--dry-run` checks and plans: classes, prompts per ontology, images, cached and missing
/// embeddings per model; it loads no model into a session and writes nothing.
#[test]
fn a_dry_run_prints_the_plan_and_writes_nothing() {
    let temp = tempfile::tempdir().unwrap();
    let (cache, out) = (temp.path().join("cache"), temp.path().join("out"));
    let plan = |out: &Path| {
        let output = mini_sweep(out, &cache, &["--dry-run"]);
        String::from_utf8_lossy(&succeeded(output).stdout).into_owned()
    };
    let cold = plan(&temp.path().join("never"));
    assert!(
        !cache.exists() && !temp.path().join("never").exists(),
        "a dry run wrote"
    );
    for line in [
        "120 samples found: 120 to score, 0 skipped",
        "5 candidate classes, declared by the dataset's class folders: daisy, dandelion, roses, sunflowers, tulips",
        "plain: 1 prompt per class, 5 in all",
        "mixed: 2–4 prompts per class, 12 in all",
        "clip-tiny-random: images 0 cached, 120 to encode; prompts 0 cached, 27 to encode",
    ] {
        assert!(cold.contains(line), "{line:?} missing from:\n{cold}");
    }
    // Half the images cached by a sweep over half the set, then planned again.
    let half = temp.path().join("half");
    for class in ["daisy", "dandelion"] {
        common::copy_dir(&mini().join(class), &half.join(class));
    }
    let file = common::experiment_file(
        temp.path(),
        "half",
        &format!(
            "name: half\ndataset:\n  root: {}\nmodels: [clip-tiny-random]\nontologies:\n  plain:\n    templates: [\"{{}}\"]\n",
            half.display()
        ),
    );
    succeeded(common::sweep(&file, &out, &cache, &[]).output().unwrap());
    let before = snapshot(temp.path());
    let warm = plan(&out);
    assert_eq!(snapshot(temp.path()), before, "a dry run changed a file");
    assert!(
        warm.contains(
            "clip-tiny-random: images 48 cached, 72 to encode; prompts 2 cached, 25 to encode"
        ),
        "{warm}"
    );
    // A model that is not downloaded is said, not fetched.
    let models = temp.path().join("models");
    std::fs::create_dir(&models).unwrap();
    std::fs::write(
        models.join("clip-tiny-random.yaml"),
        "id: clip-tiny-random\nsource: {hf_repo: someone/clip}\nfiles:\n  - {path: onnx/text_model.onnx, sha256: 0000000000000000000000000000000000000000000000000000000000000000}\n",
    )
    .unwrap();
    let output = mini_sweep(
        &out,
        &cache,
        &["--dry-run", "--models-dir", models.to_str().unwrap()],
    );
    let printed = String::from_utf8_lossy(&succeeded(output).stdout).into_owned();
    assert!(printed.contains("not downloaded yet"), "{printed}");
    assert!(!models.join("clip-tiny-random").exists(), "downloaded");
}

/// Ctrl-C says what was kept and that no report was written; the same command continues.
#[test]
fn ctrl_c_says_what_was_kept_and_the_same_command_continues() {
    const STOP_AT: usize = 20;
    let temp = tempfile::tempdir().unwrap();
    let (cache, out) = (temp.path().join("cache"), temp.path().join("out"));
    let file = root().join("experiments/flowers-mini.yaml");
    // The sweep parks itself after its 20th image entry (a test hook), so the interrupt
    // comes at a known count rather than whenever a timer fires.
    let mut child = common::sweep(&file, &out, &cache, &["--batch", "4"])
        .env(
            "ONTOSWEEP_TEST_PAUSE_AFTER_CACHE_WRITES",
            STOP_AT.to_string(),
        )
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    while common::cache_entries(&cache) < STOP_AT {
        assert!(child.try_wait().unwrap().is_none(), "the sweep ended early");
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    let interrupt = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(interrupt.success());
    let output = child.wait_with_output().unwrap();
    let err = stderr(&output);
    assert_eq!(output.status.code(), Some(130), "{err}");
    assert!(
        err.contains(&format!(
            "interrupted: {STOP_AT} image embeddings were encoded and cached in {}",
            cache.display()
        )) && err.contains("run the same command to continue")
            && err.contains("No report was written"),
        "{err}"
    );
    assert!(!out.exists(), "a report from an interrupted sweep");
    let rerun = succeeded(common::sweep(&file, &out, &cache, &[]).output().unwrap());
    assert!(rerun.status.success());
    let run = common::json(&out.join("run.json"));
    assert_eq!(run["models"][0]["images_from_cache"], STOP_AT as u64);
}
