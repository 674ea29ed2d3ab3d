//! What the binary's end-to-end tests share: where things are, and running the binary.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

/// The committed 120-photo mini set.
pub fn mini() -> PathBuf {
    root().join("experiments/data/flowers-mini")
}

/// A committed model folder under `models/`.
pub fn model(name: &str) -> PathBuf {
    root().join("models").join(name)
}

pub fn golden(path: &str) -> PathBuf {
    root().join("crates/clip/tests/golden").join(path)
}

/// The binary, run from the project folder as `cargo xtask` runs it, outside any scheduler.
pub fn command(args: &[&str]) -> Command {
    assert!(
        std::env::var_os("ORT_DYLIB_PATH").is_some(),
        "ORT_DYLIB_PATH is not set: run the tests with `cargo xtask test`"
    );
    let mut command = Command::new(env!("CARGO_BIN_EXE_ontosweep"));
    command
        .args(args)
        .current_dir(root())
        .env("ONTOSWEEP_HOME", root())
        .env_remove("SLURM_ARRAY_TASK_ID")
        .env_remove("JOB_COMPLETION_INDEX");
    command
}

/// `ontosweep sweep FILE --out OUT --cache-dir CACHE EXTRA...`.
pub fn sweep(file: &Path, out: &Path, cache: &Path, extra: &[&str]) -> Command {
    let mut args = vec![
        "sweep",
        file.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--cache-dir",
        cache.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    command(&args)
}

/// `output`, after checking that it succeeded (its stderr in the failure message).
pub fn succeeded(output: Output) -> Output {
    assert!(output.status.success(), "failed: {}", stderr(&output));
    output
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

pub fn json(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// A CSV file's rows, each by column name.
pub fn rows(path: &Path) -> Vec<BTreeMap<String, String>> {
    let mut reader = csv::Reader::from_path(path).unwrap();
    let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    reader
        .records()
        .map(|r| {
            header
                .iter()
                .cloned()
                .zip(r.unwrap().iter().map(String::from))
                .collect()
        })
        .collect()
}
/// Cache entries (`*.emb`) under `dir`, at any depth.
pub fn cache_entries(dir: &Path) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .flatten()
        .map(|e| {
            if e.path().is_dir() {
                cache_entries(&e.path())
            } else {
                usize::from(e.path().extension().is_some_and(|x| x == "emb"))
            }
        })
        .sum()
}

/// `<dir>/<name>.yaml` holding `body`.
pub fn experiment_file(dir: &Path, name: &str, body: &str) -> PathBuf {
    let path = dir.join(format!("{name}.yaml"));
    std::fs::write(&path, body).unwrap();
    path
}

/// A copy of the folder `from` at `to`, with everything in it.
pub fn copy_dir(from: &Path, to: &Path) {
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

pub mod many_classes;
