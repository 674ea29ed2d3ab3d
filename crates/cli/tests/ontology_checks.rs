//! Ontology checks before scoring: classes the model reads alike stop the run, and
//! look-alike classes, cut prompts and twin ontologies are named where they are written.

use std::path::{Path, PathBuf};
use std::process::Output;

mod common;

use common::{json, mini, stderr, succeeded};

fn experiment(dir: &Path, body: &str) -> PathBuf {
    common::experiment_file(
        dir,
        "checks",
        &format!(
            "name: checks\ndataset:\n  root: {}\n  classes: [daisy, dandelion, roses]\nmodels:\n  - path: {}\n{body}",
            mini().display(),
            common::model("clip-tiny-random").display()
        ),
    )
}

fn run(dir: &Path, file: &Path) -> (Output, PathBuf) {
    let out = dir.join("report");
    let output = common::sweep(file, &out, &dir.join("cache"), &[])
        .output()
        .unwrap();
    (output, out)
}

#[test]
fn two_classes_the_tokenizer_reads_alike_stop_the_run_naming_both() {
    let temp = tempfile::tempdir().unwrap();
    // CLIP's clean-up lowercases and collapses white space: `Daisy` and ` daisy ` are one.
    let file = experiment(
        temp.path(),
        "ontologies:\n  plain:\n    templates: [\"a photo of a {}.\"]\n  renamed:\n    templates: [\"a photo of a {}.\"]\n    names: {daisy: Daisy, dandelion: \"  daisy \"}\n",
    );
    let (output, out) = run(temp.path(), &file);
    let err = stderr(&output);
    assert!(!output.status.success() && !out.exists(), "{err}");
    assert!(
        err.contains("checks.yaml:10:3:"),
        "at the ontology's line: {err}"
    );
    assert!(
        err.contains("`daisy` and `dandelion`") && err.contains("a photo of a Daisy."),
        "{err}"
    );
    assert!(
        !err.contains("reading and encoding images"),
        "stopped before encoding: {err}"
    );
}

#[test]
fn twin_ontologies_and_cut_prompts_are_warnings_in_the_terminal_and_the_report() {
    let temp = tempfile::tempdir().unwrap();
    let long = "a very long and winding description ".repeat(20);
    let file = experiment(
        temp.path(),
        &format!(
            "ontologies:\n  plain:\n    templates: [\"a photo of a {{}}.\"]\n  shouted:\n    templates: [\"A PHOTO  of a {{}}.\"]\n  long:\n    templates: [\"a photo of a {{}}.\", \"{long}{{}}\"]\n"
        ),
    );
    let (output, out) = run(temp.path(), &file);
    let output = succeeded(output);
    let err = stderr(&output);
    assert!(
        err.contains("checks.yaml:10:3: warning: ontology `plain and shouted`")
            && err.contains("the same prompts"),
        "{err}"
    );
    assert!(
        err.contains("checks.yaml:12:3: warning: ontology `long`")
            && err.contains("3 of 6 prompts are longer than the model's 77 tokens"),
        "{err}"
    );
    let findings = json(&out.join("run.json"))["findings"].clone();
    let findings = findings.as_array().cloned().unwrap_or_default();
    let checks: Vec<&str> = findings
        .iter()
        .filter_map(|f| f["check"].as_str())
        .collect();
    assert!(
        checks.contains(&"identical ontologies") && checks.contains(&"truncated prompts"),
        "{findings:?}"
    );
    let page = std::fs::read_to_string(out.join("index.html")).unwrap();
    assert!(
        page.contains("Ontology checks") && page.contains("truncated prompts"),
        "not in the page"
    );
}

#[test]
fn look_alike_classes_are_named_with_their_cosine() {
    let temp = tempfile::tempdir().unwrap();
    // Two classes one character apart, which the tiny model reads almost alike (cosine
    // 0.98, against 0.14 and 0.18 for the other pairs): only the constructed pair is named.
    let file = experiment(
        temp.path(),
        "ontologies:\n  near:\n    prompts:\n      daisy: a photo of a daisy flower in a field\n      dandelion: a photo of a daisy flower in a field!\n      roses: roses\nchecks:\n  similar_classes: 0.95\n",
    );
    let (output, out) = run(temp.path(), &file);
    let output = succeeded(output);
    let err = stderr(&output);
    let line = err
        .lines()
        .find(|l| l.contains("cosine ≥ 0.95"))
        .unwrap_or_else(|| panic!("no look-alike warning: {err}"));
    assert!(line.contains("checks.yaml:8:3: warning:"), "{line}");
    assert!(line.contains("`daisy`–`dandelion` 0.9"), "{line}");
    assert!(!line.contains("roses"), "{line}");
    let findings = json(&out.join("run.json"))["findings"].clone();
    assert_eq!(
        findings[0]["classes"],
        serde_json::json!(["daisy", "dandelion"])
    );
}
