//! The sweep keeps its per-image data (the list of images, their keys, embeddings and
//! scores) in temporary files: when they cannot be made, the run stops before any work,
//! with a message that says where and what to do.

mod common;

use common::{json, mini, stderr, succeeded};

#[test]
fn no_room_for_temporary_files_stops_the_run_and_says_where() {
    let temp = tempfile::tempdir().unwrap();
    let file = common::experiment_file(
        temp.path(),
        "store",
        &format!(
            "name: store\ndataset:\n  root: {}\n  classes: [daisy, dandelion]\nmodels:\n  - path: {}\nontologies:\n  plain:\n    templates: [\"a photo of a {{}}.\"]\n",
            mini().display(),
            common::model("clip-tiny-random").display()
        ),
    );
    let (out, cache) = (temp.path().join("out"), temp.path().join("cache"));
    let missing = temp.path().join("no-such-folder");
    let failed = common::sweep(&file, &out, &cache, &[])
        .env("TMPDIR", &missing)
        .output()
        .unwrap();
    assert!(
        !failed.status.success(),
        "a run without its store succeeded"
    );
    let message = stderr(&failed);
    assert!(
        message.contains("in a temporary file")
            && message.contains("TMPDIR")
            && message.contains(&missing.display().to_string()),
        "{message}"
    );
    assert!(!out.join("summary.csv").exists());

    // With room, the same command runs.
    succeeded(common::sweep(&file, &out, &cache, &[]).output().unwrap());
    let run = json(&out.join("run.json"));
    assert_eq!(run["images_scored"], run["images_found"]);
}
