//! The sweep keeps image embeddings in a temporary file while it scores: when that file
//! cannot be made, the run stops with a message that says where and what to do, and the
//! embeddings it computed are already in the cache.

mod common;

use common::{json, mini, stderr, succeeded};

#[test]
fn no_room_for_the_embeddings_stops_the_run_and_keeps_the_cache() {
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
        message.contains("could not keep image embeddings in a temporary file")
            && message.contains("TMPDIR")
            && message.contains(&missing.display().to_string()),
        "{message}"
    );
    assert!(!out.join("summary.csv").exists());

    // Everything encoded before the stop was cached: the rerun encodes nothing.
    succeeded(common::sweep(&file, &out, &cache, &[]).output().unwrap());
    let run = json(&out.join("run.json"));
    assert_eq!(run["models"][0]["images_encoded"], 0, "{run}");
    assert_eq!(run["images_scored"], run["images_found"]);
}
