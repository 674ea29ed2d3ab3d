//! Trust: ontosweep never deletes or changes what it did not write, one hostile image never
//! costs the run, and names from the user stay text in the report.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

/// `ontosweep sweep FILE ARGS…` with `home` as the project folder.
fn sweep(home: &Path, file: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ontosweep"))
        .arg("sweep")
        .arg(file)
        .args(args)
        .current_dir(home)
        .env("ONTOSWEEP_HOME", home)
        .output()
        .unwrap()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn png(path: &Path, width: u32, height: u32) {
    image::RgbImage::from_fn(width, height, |x, y| {
        image::Rgb([(x * 7) as u8, (y * 5) as u8, 90])
    })
    .save(path)
    .unwrap();
}

/// A project folder with another report, a file beside the reports and a tiny dataset.
fn project(name: &str) -> (tempfile::TempDir, PathBuf) {
    let temp = tempfile::tempdir().unwrap();
    let home = temp.path().join("project");
    std::fs::create_dir_all(home.join("reports/other")).unwrap();
    std::fs::write(home.join("reports/other/keep.txt"), "another report").unwrap();
    std::fs::write(home.join("notes.md"), "my notes").unwrap();
    for class in ["daisy", "dandelion"] {
        std::fs::create_dir_all(home.join("data").join(class)).unwrap();
        png(&home.join("data").join(class).join("a.png"), 240, 230);
    }
    let file = home.join("experiment.yaml");
    std::fs::write(
        &file,
        format!(
            "name: {name}\ndataset:\n  root: data\nmodels:\n  - path: {}\nontologies:\n  plain:\n    templates: [\"{{}}\"]\n",
            root().join("models/clip-tiny-random").display()
        ),
    )
    .unwrap();
    (temp, home)
}

fn assert_project_intact(home: &Path) {
    assert_eq!(
        std::fs::read_to_string(home.join("reports/other/keep.txt")).unwrap(),
        "another report"
    );
    assert_eq!(
        std::fs::read_to_string(home.join("notes.md")).unwrap(),
        "my notes"
    );
    assert!(home.join("data/daisy/a.png").is_file());
}

#[test]
fn experiment_names_that_are_not_one_folder_name_are_refused_and_nothing_is_deleted() {
    for name in ["..", ".", "\"../..\"", "reports", ".hidden", "\"a/../..\""] {
        let (_temp, home) = project(name);
        let output = sweep(&home, &home.join("experiment.yaml"), &["--no-cache"]);
        let err = stderr(&output);
        if name == "reports" {
            // A plain name is fine: its report lands in reports/reports/.
            assert!(output.status.success(), "{err}");
            assert!(home.join("reports/reports/index.html").is_file());
        } else {
            assert!(!output.status.success(), "{name}: accepted");
            assert!(
                err.contains("experiment.yaml:1:1") && err.contains("names the report folder"),
                "{name}: {err}"
            );
        }
        assert_project_intact(&home);
    }
}

#[test]
fn out_naming_something_ontosweep_did_not_write_is_refused_before_any_work() {
    let (temp, home) = project("mine");
    let file = home.join("experiment.yaml");
    let cache = temp.path().join("cache");
    let documents = temp.path().join("Documents");
    std::fs::create_dir_all(documents.join("old")).unwrap();
    std::fs::write(documents.join("thesis.tex"), "years of work").unwrap();
    let lone_file = temp.path().join("results.txt");
    std::fs::write(&lone_file, "a file").unwrap();
    let link = temp.path().join("link");
    std::os::unix::fs::symlink(&documents, &link).unwrap();
    let cases = [
        (&documents, "did not write"),
        (&lone_file, "is a file"),
        (&link, "symbolic link"),
        (&home, "did not write"),
        (&home.join("reports"), "did not write"),
    ];
    for (out, expected) in cases {
        let output = sweep(
            &home,
            &file,
            &[
                "--out",
                out.to_str().unwrap(),
                "--cache-dir",
                cache.to_str().unwrap(),
            ],
        );
        let err = stderr(&output);
        assert!(!output.status.success(), "{}: accepted", out.display());
        assert!(err.contains(expected), "{}: {err}", out.display());
        assert!(!cache.exists(), "nothing was encoded before the refusal");
    }
    assert_eq!(
        std::fs::read_to_string(documents.join("thesis.tex")).unwrap(),
        "years of work"
    );
    assert!(documents.join("old").is_dir());
    assert_eq!(std::fs::read_to_string(&lone_file).unwrap(), "a file");
    assert_project_intact(&home);
    // Inside the dataset the report would be read as images of a class next time.
    let output = sweep(&home, &file, &["--out", "data/daisy/report", "--no-cache"]);
    assert!(
        !output.status.success() && stderr(&output).contains("inside the dataset folder"),
        "{}",
        stderr(&output)
    );
    assert!(!home.join("data/daisy/report").exists());
    let sneaky = home.join("data/daisy/new/../report");
    let output = sweep(
        &home,
        &file,
        &["--out", sneaky.to_str().unwrap(), "--no-cache"],
    );
    assert!(
        !output.status.success() && stderr(&output).contains("inside the dataset folder"),
        "{}",
        stderr(&output)
    );
    assert!(!home.join("data/daisy/new").exists() && !home.join("data/daisy/report").exists());
}

#[test]
fn a_report_folder_is_replaced_only_while_it_holds_just_what_ontosweep_wrote() {
    let (temp, home) = project("mine");
    let file = home.join("experiment.yaml");
    let cache = temp.path().join("cache");
    let out = temp.path().join("report");
    let args = [
        "--out",
        out.to_str().unwrap(),
        "--cache-dir",
        cache.to_str().unwrap(),
    ];
    // An empty folder may be used.
    std::fs::create_dir_all(&out).unwrap();
    let first = sweep(&home, &file, &args);
    assert!(first.status.success(), "{}", stderr(&first));
    assert!(out.join("index.html").is_file() && out.join(".ontosweep-report.json").is_file());
    let again = sweep(&home, &file, &args);
    assert!(again.status.success(), "{}", stderr(&again));

    std::fs::write(out.join("my-notes.txt"), "keep me").unwrap();
    let refused = sweep(&home, &file, &args);
    let err = stderr(&refused);
    assert!(
        !refused.status.success() && err.contains("my-notes.txt"),
        "{err}"
    );
    assert_eq!(
        std::fs::read_to_string(out.join("my-notes.txt")).unwrap(),
        "keep me"
    );
    std::fs::remove_file(out.join("my-notes.txt")).unwrap();

    std::fs::write(out.join("summary.csv"), "edited by hand").unwrap();
    let refused = sweep(&home, &file, &args);
    assert!(
        !refused.status.success() && stderr(&refused).contains("summary.csv"),
        "{}",
        stderr(&refused)
    );
    assert_eq!(
        std::fs::read_to_string(out.join("summary.csv")).unwrap(),
        "edited by hand"
    );
    // Nothing is left beside the report.
    let siblings: Vec<String> = std::fs::read_dir(temp.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.'))
        .collect();
    assert!(siblings.is_empty(), "{siblings:?}");
}

#[test]
fn the_headline_copy_never_replaces_a_file_ontosweep_did_not_write() {
    let (_temp, home) = project("mine");
    std::fs::write(home.join("reports/mine.svg"), "my own chart").unwrap();
    let output = sweep(&home, &home.join("experiment.yaml"), &["--no-cache"]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(stderr(&output).contains("was not written by ontosweep"));
    assert_eq!(
        std::fs::read_to_string(home.join("reports/mine.svg")).unwrap(),
        "my own chart"
    );
    std::fs::remove_file(home.join("reports/mine.svg")).unwrap();
    let output = sweep(&home, &home.join("experiment.yaml"), &["--no-cache"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let copy = std::fs::read_to_string(home.join("reports/mine.svg")).unwrap();
    assert!(copy.starts_with("<!-- written by ontosweep") && copy.contains("<svg"));
}

#[test]
fn hostile_images_and_names_cost_nothing_but_themselves() {
    let temp = tempfile::tempdir().unwrap();
    let data = temp.path().join("data");
    let odd_class = "<b>dai\"sy</b> & co";
    for class in [odd_class, "dandelion"] {
        std::fs::create_dir_all(data.join(class)).unwrap();
        png(&data.join(class).join("fine.png"), 260, 240);
    }
    png(
        &data.join(odd_class).join("x\" onmouseover=\"alert(1).png"),
        230,
        250,
    );
    png(&data.join("dandelion/wide.png"), 100_000, 1);
    png(&data.join("dandelion/tall.png"), 1, 100_000);
    let file = temp.path().join("hostile.yaml");
    std::fs::write(
        &file,
        format!(
            "name: hostile\ndataset:\n  root: data\nmodels:\n  - path: {}\nontologies:\n  plain words:\n    templates: [\"{{}}\"]\n  plain_words:\n    templates: [\"a {{}}\"]\n  日本:\n    templates: [\"photo of {{}}\"]\n  中文:\n    templates: [\"<script>alert('{{}}')</script>\"]\n",
            root().join("models/clip-tiny-random").display()
        ),
    )
    .unwrap();
    let out = temp.path().join("report");
    let output = sweep(
        temp.path(),
        &file,
        &["--no-cache", "--out", out.to_str().unwrap()],
    );
    assert!(output.status.success(), "{}", stderr(&output));

    let skipped = std::fs::read_to_string(out.join("skipped.csv")).unwrap();
    for name in ["wide.png", "tall.png"] {
        assert!(skipped.contains(name), "{name} not skipped: {skipped}");
    }
    let run: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("run.json")).unwrap()).unwrap();
    assert_eq!(run["images_scored"], 3, "{run}");

    let confusion: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("confusion_") && n.ends_with(".csv"))
        .collect();
    assert_eq!(confusion.len(), 4, "one matrix per ontology: {confusion:?}");
    let html = std::fs::read_to_string(out.join("index.html")).unwrap();
    for file in &confusion {
        let svg = file.replace(".csv", ".svg");
        assert!(out.join(&svg).is_file(), "{svg}");
    }
    assert!(
        !html.contains("\" onmouseover=\""),
        "an attribute was injected"
    );
    // The page's one script is the class table's own; any other was injected.
    assert_eq!(
        html.matches("<script").count(),
        1,
        "a script element was injected"
    );
    assert!(!html.contains("<b>dai"), "markup was injected");
}

#[test]
fn throughput_with_no_images_is_an_error_not_a_panic() {
    let (_temp, home) = project("mine");
    let output = Command::new(env!("CARGO_BIN_EXE_ontosweep"))
        .args(["throughput", "--limit", "0", "--model"])
        .arg(root().join("models/clip-tiny-random"))
        .arg("--images")
        .arg(home.join("data"))
        .output()
        .unwrap();
    let err = stderr(&output);
    assert_eq!(output.status.code(), Some(1), "{err}");
    assert!(
        err.contains("no images to time") && !err.contains("panicked"),
        "{err}"
    );
}
