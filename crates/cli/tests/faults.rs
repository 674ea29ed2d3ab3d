//! Faults: a sweep killed mid-encode, two sweeps sharing one cache, an unwritable report.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

mod common;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

fn sweep_command(out: &Path, cache: &Path, extra: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_ontosweep"));
    command
        .args([
            "sweep",
            "experiments/flowers-mini.yaml",
            "--out",
            out.to_str().unwrap(),
            "--cache-dir",
            cache.to_str().unwrap(),
        ])
        .args(extra)
        .current_dir(root())
        .env("ONTOSWEEP_HOME", root())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    command
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn json(path: &Path) -> serde_json::Value {
    serde_json::from_str(&read(path)).unwrap()
}

/// Cache entries written before the sweep is killed: a few batches, far from all 120 images.
const KILL_AT: usize = 20;

#[test]
fn a_killed_sweep_keeps_its_embeddings_and_the_rerun_gives_the_same_results() {
    let temp = tempfile::tempdir().unwrap();
    let reference = temp.path().join("reference");
    let status = sweep_command(&reference, &temp.path().join("reference-cache"), &[])
        .status()
        .unwrap();
    assert!(status.success());

    // The sweep stops itself after its KILL_AT-th cache entry (a test hook in the cache), so
    // it is killed there: after a count of entries, not at whatever moment a timer allows.
    let cache = temp.path().join("cache");
    let killed = temp.path().join("killed");
    let mut child = sweep_command(&killed, &cache, &["--batch", "4"])
        .env(
            "ONTOSWEEP_TEST_PAUSE_AFTER_CACHE_WRITES",
            KILL_AT.to_string(),
        )
        .spawn()
        .unwrap();
    while common::cache_entries(&cache) < KILL_AT {
        assert!(
            child.try_wait().unwrap().is_none(),
            "the sweep ended before it could be killed"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let kept = common::cache_entries(&cache);
    assert_eq!(kept, KILL_AT, "entries after the kill");
    assert!(
        !killed.join("summary.csv").exists(),
        "no report from a killed sweep"
    );

    let rerun = temp.path().join("rerun");
    let output = sweep_command(&rerun, &cache, &[]).output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let run = json(&rerun.join("run.json"));
    let from_cache = run["models"][0]["images_from_cache"].as_u64().unwrap() as usize;
    // Images written before the kill are reused (text embeddings come after images).
    assert!(
        from_cache >= kept.min(120) && from_cache < 120,
        "{from_cache} from cache, {kept} cache entries"
    );
    for file in ["summary.csv", "predictions.csv"] {
        assert_eq!(
            read(&reference.join(file)),
            read(&rerun.join(file)),
            "{file}"
        );
    }
}

#[test]
fn two_sweeps_sharing_a_cache_do_not_corrupt_it() {
    let temp = tempfile::tempdir().unwrap();
    let cache = temp.path().join("cache");
    let (a, b) = (temp.path().join("a"), temp.path().join("b"));
    let first = sweep_command(&a, &cache, &["--batch", "4"])
        .spawn()
        .unwrap();
    let second = sweep_command(&b, &cache, &["--batch", "4"])
        .spawn()
        .unwrap();
    for child in [first, second] {
        let output = child.wait_with_output().unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    assert_eq!(
        read(&a.join("predictions.csv")),
        read(&b.join("predictions.csv"))
    );
    // A third run reads every entry back intact.
    let c = temp.path().join("c");
    assert!(sweep_command(&c, &cache, &[]).status().unwrap().success());
    let run = json(&c.join("run.json"));
    assert_eq!(run["models"][0]["images_from_cache"], 120);
    assert_eq!(
        read(&a.join("predictions.csv")),
        read(&c.join("predictions.csv"))
    );
}

#[test]
fn an_unwritable_report_folder_is_refused_before_any_work() {
    let temp = tempfile::tempdir().unwrap();
    let blocker = temp.path().join("not-a-folder");
    std::fs::write(
        &blocker,
        "a file where the report folder's parent should be",
    )
    .unwrap();
    let out = blocker.join("report");
    let output = sweep_command(&out, &temp.path().join("cache"), &[])
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("writing the report to") && stderr.contains("not-a-folder"),
        "{stderr}"
    );
    // Refused before any work: nothing was encoded for a report that cannot be written.
    assert_eq!(common::cache_entries(&temp.path().join("cache")), 0);
}
