//! The first hour, second round (issue 25): what a new user and a hostile review still
//! tripped on. Each test is one of those trips.

use std::path::{Path, PathBuf};
use std::process::Output;

mod common;

use common::{mini, root, stderr, succeeded};

fn ontosweep(args: &[&str]) -> Output {
    common::command(args).output().expect("the binary runs")
}

fn experiment(dir: &Path, name: &str, body: &str) -> PathBuf {
    let path = dir.join(format!("{name}.yaml"));
    std::fs::write(&path, body).unwrap();
    path
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
    copy_dir(&common::model("clip-tiny-random"), &model);
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

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
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
    let file = experiment(temp.path(), "small", &body(0.97));
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
