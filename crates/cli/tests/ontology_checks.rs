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

/// Per ontology, its share of right predictions in `predictions.csv`.
fn accuracy_by_ontology(report: &Path) -> std::collections::BTreeMap<String, f64> {
    let mut tally: std::collections::BTreeMap<String, (usize, usize)> = Default::default();
    for row in common::rows(&report.join("predictions.csv")) {
        let entry = tally.entry(row["ontology"].clone()).or_default();
        entry.0 += usize::from(row["true_class"] == row["predicted_class"]);
        entry.1 += 1;
    }
    tally
        .into_iter()
        .map(|(o, (right, n))| (o, right as f64 / n as f64))
        .collect()
}

#[test]
fn controls_are_deterministic_differ_across_seeds_and_are_summarised_by_their_spread() {
    let temp = tempfile::tempdir().unwrap();
    let file = experiment(
        temp.path(),
        "ontologies:\n  plain:\n    templates: [\"a photo of a {}.\"]\n  descriptive:\n    templates: [\"a photo of a {}, a type of flower.\"]\n  noise:\n    control: random-words\n    of: descriptive\n    seeds: 3\n  names-shuffled:\n    control: shuffled-names\n    of: descriptive\n  template-only:\n    control: template-only\n    of: descriptive\n",
    );
    let sweep = |out: &str| {
        let out = temp.path().join(out);
        let output = common::sweep(&file, &out, &temp.path().join("cache"), &["--show-prompts"])
            .output()
            .unwrap();
        (succeeded(output), out)
    };
    let (first, report) = sweep("one");
    let (second, again) = sweep("two");
    let shown = |o: &Output| {
        let text = String::from_utf8_lossy(&o.stdout).into_owned();
        text.split("\nmodel ").next().unwrap().to_string()
    };
    assert_eq!(
        shown(&first),
        shown(&second),
        "the same seed gives the same prompts"
    );
    let prompts = shown(&first);
    let daisy = |ontology: &str| {
        let block = prompts.split(&format!("{ontology}:\n")).nth(1).unwrap();
        block
            .lines()
            .find(|l| l.trim_start().starts_with("daisy:"))
            .unwrap()
            .to_string()
    };
    assert_ne!(daisy("noise.seed1"), daisy("noise.seed2"));
    assert!(
        daisy("noise.seed1").contains("a photo of a daisy, "),
        "{}",
        daisy("noise.seed1")
    );
    assert!(
        !daisy("names-shuffled").contains("daisy,"),
        "{}",
        daisy("names-shuffled")
    );
    assert!(daisy("template-only").contains("a photo of a object, a type of flower."));
    let summary = common::rows(&report.join("summary.csv"));
    assert_eq!(summary, common::rows(&again.join("summary.csv")));
    let ontologies: Vec<&str> = summary.iter().map(|r| r["ontology"].as_str()).collect();
    assert_eq!(
        ontologies,
        [
            "plain",
            "descriptive",
            "noise",
            "names-shuffled",
            "template-only"
        ]
    );
    let noise = &summary[2];
    assert_eq!(
        (
            noise["control"].as_str(),
            noise["control_of"].as_str(),
            noise["seeds"].as_str()
        ),
        ("random-words", "descriptive", "3")
    );
    let per_seed = accuracy_by_ontology(&report);
    let seeds: Vec<f64> = (1..=3)
        .map(|k| per_seed[&format!("noise.seed{k}")])
        .collect();
    let mean = seeds.iter().sum::<f64>() / 3.0;
    let value = |k: &str| noise[k].parse::<f64>().unwrap();
    assert!(
        (value("accuracy") - mean).abs() < 1e-9,
        "{noise:?} vs {seeds:?}"
    );
    assert!((value("accuracy_seed_min") - seeds.iter().cloned().fold(1.0, f64::min)).abs() < 1e-9);
    assert!((value("accuracy_seed_max") - seeds.iter().cloned().fold(0.0, f64::max)).abs() < 1e-9);
    assert!(
        noise["ci_low"].is_empty(),
        "a mean over seeds has no Wilson interval"
    );
    let page = std::fs::read_to_string(report.join("index.html")).unwrap();
    assert!(
        page.contains("Better than noise?") && page.contains("descriptive changes accuracy by"),
        "no controls section"
    );
}
