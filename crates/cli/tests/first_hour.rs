//! What a new user meets in the first hour: every message said once and about the right
//! file, help for every flag, inspection commands that take what `sweep` takes.

use std::path::{Path, PathBuf};
use std::process::Output;

mod common;

use common::{mini, root, stderr};

/// The page that documents the experiment file's fields (the hint on a misspelt field names
/// it) and every `sweep` flag.
const EXPERIMENTS_PAGE: &str = "docs/experiments.md";
/// The hint that follows an unknown field, a missing field or a wrong type.
const FIELDS_HINT: &str = "See docs/experiments.md for the fields";

fn ontosweep(args: &[&str]) -> Output {
    common::command(args).output().expect("the binary runs")
}

#[test]
fn every_problem_is_printed_once() {
    let temp = tempfile::tempdir().unwrap();
    let file = common::experiment_file(
        temp.path(),
        "m8",
        &format!(
            "name: m8\ndataset:\n  root: {}\nmodels: [clip-tiny-random]\nontologies:\n  names:\n    prompts:\n      daisy: daisy\n      dandelion: dandelion\n      roses: rose\n",
            mini().display()
        ),
    );
    let output = ontosweep(&[
        "sweep",
        file.to_str().unwrap(),
        "--out",
        temp.path().join("o").to_str().unwrap(),
    ]);
    assert!(!output.status.success());
    let err = stderr(&output);
    for class in ["sunflowers", "tulips"] {
        let needle = format!("no prompt for class `{class}`");
        assert_eq!(err.matches(&needle).count(), 1, "{err}");
    }
    assert!(!err.contains(FIELDS_HINT), "{err}");
}

/// The mini set's daisies and dandelions in a flat folder, with a manifest.
fn manifest(dir: &Path, rows: impl Fn(usize, &str, &str) -> Option<String>) -> PathBuf {
    let mut text = String::from("path,label\n");
    let mut n = 0;
    for class in ["daisy", "dandelion"] {
        let mut files: Vec<PathBuf> = std::fs::read_dir(mini().join(class))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        files.sort();
        for file in files {
            let name = file.file_name().unwrap().to_string_lossy().into_owned();
            std::fs::copy(&file, dir.join(&name)).unwrap();
            if let Some(row) = rows(n, &name, class) {
                text.push_str(&row);
                text.push('\n');
            }
            n += 1;
        }
    }
    let path = dir.join("labels.csv");
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn manifest_mistakes_are_shown_in_the_manifest() {
    let temp = tempfile::tempdir().unwrap();
    let body = "name: m\ndataset:\n  manifest: labels.csv\nmodels: [clip-tiny-random]\nontologies:\n  plain:\n    prompts: {daisy: daisy, dandelion: dandelion}\n";
    let file = common::experiment_file(temp.path(), "m", body);
    let out = temp.path().join("o");
    // A label typo: the manifest's rows are named, not the ontology.
    manifest(temp.path(), |n, name, class| {
        Some(format!(
            "{name},{}",
            if n == 30 { "dandelions" } else { class }
        ))
    });
    let err = stderr(&ontosweep(&[
        "sweep",
        file.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]));
    assert!(
        err.contains("labels.csv:32:1: label `dandelions` (line 32)") && err.contains("typo"),
        "{err}"
    );
    assert!(!err.contains("m.yaml:"), "{err}");
    // A row whose file is missing stops the run, at its line.
    manifest(temp.path(), |n, name, class| {
        Some(if n == 3 {
            format!("gone.jpg,{class}")
        } else {
            format!("{name},{class}")
        })
    });
    let output = ontosweep(&[
        "sweep",
        file.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(!output.status.success());
    let err = stderr(&output);
    assert!(
        err.contains("labels.csv:5: gone.jpg") && err.contains("not there"),
        "{err}"
    );
}

#[test]
fn yaml_mistakes_are_located_where_they_are() {
    let temp = tempfile::tempdir().unwrap();
    let head = format!(
        "name: y\ndataset:\n  root: {}\nmodels: [clip-tiny-random]\nontologies:\n",
        mini().display()
    );
    let run = |name: &str, tail: &str| {
        let file = common::experiment_file(temp.path(), name, &format!("{head}{tail}"));
        stderr(&ontosweep(&["sweep", file.to_str().unwrap()]))
    };
    let err = run("misspelt", "  plain:\n    template: [\"{}\"]\n");
    assert!(
        err.contains("misspelt.yaml:7:5:") && err.contains("unknown field `template`"),
        "{err}"
    );
    // A misspelt top-level field is followed by the page that lists the fields.
    let err = run("top", "  plain:\n    templates: [\"{}\"]\nbaselin: plain\n");
    assert!(
        err.contains("top.yaml:8:1:")
            && err.contains("unknown field `baselin`")
            && err.contains(FIELDS_HINT),
        "{err}"
    );
    assert!(
        root().join(EXPERIMENTS_PAGE).is_file(),
        "the hint names {EXPERIMENTS_PAGE}"
    );
    let err = run(
        "twice",
        "  plain:\n    templates: [\"{}\"]\n  plain:\n    templates: [\"a {}\"]\n",
    );
    assert!(
        err.contains("twice.yaml:8:3:") && err.contains("duplicate"),
        "{err}"
    );
    let err = run("broken", "  plain:\n    templates: [\"{}\"\n");
    assert!(!err.contains(FIELDS_HINT), "{err}");
}

/// Each flag of clap's help with its description, which is either on the flag's line after
/// two spaces or, in the long help, on the more indented lines below it.
fn flag_descriptions(help: &str) -> Vec<(String, String)> {
    let lines: Vec<&str> = help.lines().collect();
    let indent = |line: &str| line.len() - line.trim_start().len();
    let mut flags = Vec::new();
    for (at, line) in lines.iter().enumerate() {
        let text = line.trim_start();
        if !text.starts_with('-') {
            continue;
        }
        let (flag, beside) = text.split_once("  ").unwrap_or((text, ""));
        let below = lines[at + 1..]
            .iter()
            .take_while(|l| indent(l) > indent(line) && !l.trim_start().starts_with('-'))
            .map(|l| l.trim());
        let description: Vec<&str> = std::iter::once(beside.trim()).chain(below).collect();
        flags.push((flag.to_string(), description.join(" ").trim().to_string()));
    }
    flags
}

#[test]
fn every_flag_has_help_text() {
    for command in ["sweep", "tokenize", "embed", "throughput"] {
        let output = ontosweep(&[command, "--help"]);
        assert!(output.status.success());
        let help = String::from_utf8_lossy(&output.stdout).into_owned();
        let flags = flag_descriptions(&help);
        assert!(
            flags.iter().any(|(flag, _)| flag.contains("--help")),
            "no flags found in {help}"
        );
        for (flag, description) in flags {
            assert!(
                !description.is_empty(),
                "`{command} {flag}` has no help text"
            );
            assert!(
                description.matches("[default:").count() <= 1,
                "{flag}: {description}"
            );
        }
    }
    // Every `sweep` flag is documented in the flags section of the experiments page, which
    // README links.
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    assert!(
        readme.contains(&format!("]({EXPERIMENTS_PAGE})")),
        "README does not link {EXPERIMENTS_PAGE}"
    );
    let page = std::fs::read_to_string(root().join(EXPERIMENTS_PAGE)).unwrap();
    let heading = "\n## `sweep` flags\n";
    let start = page
        .find(heading)
        .unwrap_or_else(|| panic!("{EXPERIMENTS_PAGE} has no `{}` heading", heading.trim()));
    let section = &page[start + heading.len()..];
    let section = &section[..section.find("\n## ").unwrap_or(section.len())];
    let help = String::from_utf8_lossy(&ontosweep(&["sweep", "--help"]).stdout).into_owned();
    for flag in help
        .split_whitespace()
        .filter(|w| w.starts_with("--") && *w != "--help")
    {
        let flag = flag.trim_end_matches(',');
        assert!(
            section.contains(flag),
            "{EXPERIMENTS_PAGE}, `sweep` flags, does not mention `sweep {flag}`"
        );
    }
}

#[test]
fn tokenize_takes_a_model_id_and_prints_the_tokens() {
    let output = ontosweep(&["tokenize", "--model", "clip-tiny-random", "a daisy"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let line: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let tokens: Vec<&str> = line["tokens"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap())
        .collect();
    assert_eq!(
        tokens,
        ["<|startoftext|>", "a</w>", "daisy</w>", "<|endoftext|>"]
    );
    let err = stderr(&ontosweep(&["tokenize", "--model", "no-such-model", "x"]));
    assert!(
        err.contains("neither a model folder nor the id") && err.contains("clip-tiny-random"),
        "{err}"
    );
}

#[test]
fn dataset_names_reach_every_template_and_show_prompts_prints_them() {
    let temp = tempfile::tempdir().unwrap();
    let file = common::experiment_file(
        temp.path(),
        "n",
        &format!(
            "name: n\ndataset:\n  root: {}\n  names: {{roses: rose}}\nmodels: [clip-tiny-random]\nontologies:\n  plain:\n    templates: [\"a photo of a {{}}.\"]\n  own:\n    templates: [\"{{}}\"]\n    names: {{roses: garden rose}}\n",
            mini().display()
        ),
    );
    let output = ontosweep(&[
        "sweep",
        file.to_str().unwrap(),
        "--show-prompts",
        "--out",
        temp.path().join("o").to_str().unwrap(),
        "--no-cache",
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    let shown = String::from_utf8_lossy(&output.stdout);
    assert!(shown.contains("roses: \"a photo of a rose.\""), "{shown}");
    assert!(shown.contains("roses: \"garden rose\""), "{shown}");
    assert!(
        shown.contains("tulips: \"a photo of a tulips.\""),
        "{shown}"
    );
}

fn read_run(path: &std::path::Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

#[test]
fn a_cached_run_says_what_computed_its_embeddings() {
    let temp = tempfile::tempdir().unwrap();
    let (out, cache) = (temp.path().join("o"), temp.path().join("cache"));
    let args = [
        "sweep",
        "experiments/flowers-mini.yaml",
        "--out",
        out.to_str().unwrap(),
        "--cache-dir",
        cache.to_str().unwrap(),
    ];
    assert!(ontosweep(&args).status.success());
    // What computed the embeddings is what the first run reports, e.g. CUDA under `auto`.
    let first = read_run(&out.join("run.json"));
    let vision = first["models"][0]["vision_ep"]
        .as_str()
        .unwrap()
        .to_string();
    let text = first["models"][0]["text_ep"].as_str().unwrap().to_string();
    assert!(["cpu", "cuda"].contains(&vision.as_str()), "{vision}");
    let second = ontosweep(&args);
    let err = stderr(&second);
    assert!(
        err.contains(&format!(
            "vision from the cache (computed with {vision}, ONNX Runtime 1."
        )),
        "{err}"
    );
    let run = read_run(&out.join("run.json"));
    assert_eq!(run["models"][0]["vision_ep"], "cache");
    let origin = |tower: &str| run["models"][0][tower][0].as_str().unwrap().to_string();
    let vision_origin = origin("vision_cached_from");
    assert!(
        vision_origin.starts_with(&format!("{vision}, ONNX Runtime")),
        "{vision_origin}"
    );
    let text_origin = origin("text_cached_from");
    assert!(
        text_origin.starts_with(&format!("{text}, ONNX Runtime")),
        "{text_origin}"
    );
}
