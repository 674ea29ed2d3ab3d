//! Prompt search end to end, on the tiny model and the mini set: the shipped search
//! experiments run, a chosen ontology pasted back scores the same, and relabelling test
//! images changes nothing the search saw while relabelling dev images does.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

mod common;

use common::{json, mini, root, rows};

/// Runs a sweep and returns its stdout; panics with stderr when it fails.
fn sweep(experiment: &Path, out: &Path, cache: &Path, extra: &[&str]) -> String {
    let mut args = vec![
        "sweep",
        experiment.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--cache-dir",
        cache.to_str().unwrap(),
    ];
    args.extend(extra);
    let output = common::succeeded(common::command(&args).output().unwrap());
    String::from_utf8(output.stdout).unwrap()
}

/// What `run.json` says the search of ontology `name` chose.
fn search(run: &serde_json::Value, name: &str) -> serde_json::Value {
    run["searches"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["ontology"] == name)
        .unwrap_or_else(|| panic!("no search {name}"))
        .clone()
}

/// (path, predicted class) of one ontology in `predictions.csv`.
fn predictions(out: &Path, ontology: &str) -> Vec<(String, String)> {
    rows(&out.join("predictions.csv"))
        .into_iter()
        .filter(|r| r["ontology"] == ontology)
        .map(|r| (r["path"].clone(), r["predicted_class"].clone()))
        .collect()
}

/// The YAML of a snippet without its comment lines (which quote test figures).
fn snippet_body(path: &Path) -> String {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with('#'))
        .collect::<Vec<_>>()
        .join("\n")
}

fn snippet(out: &Path) -> PathBuf {
    let found: Vec<PathBuf> = std::fs::read_dir(out)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let name = p.file_name().unwrap().to_string_lossy();
            name.starts_with("search_") && name.ends_with(".yaml")
        })
        .collect();
    assert_eq!(found.len(), 1, "{found:?}");
    found[0].clone()
}

/// The split lists every image once, as dev or test, and every ontology, searched or written,
/// is scored on exactly the test images.
fn scored_on_the_test_split_alone(file: &str, out: &Path, images: usize, stdout: &str) {
    let split = rows(&out.join("split.csv"));
    assert_eq!(split.len(), images, "{file}");
    let test: Vec<&String> = split
        .iter()
        .filter(|r| r["split"] == "test")
        .map(|r| &r["path"])
        .collect();
    assert!(
        split
            .iter()
            .all(|r| r["split"] == "test" || r["split"] == "dev")
    );
    assert!(
        !test.is_empty() && test.len() < images,
        "{file}: {}",
        test.len()
    );
    // Every ontology, searched or written, is scored on exactly the test images.
    for row in rows(&out.join("summary.csv")) {
        assert_eq!(row["n"], test.len().to_string(), "{file}: {row:?}");
    }
    let predicted: Vec<BTreeMap<String, String>> = rows(&out.join("predictions.csv"));
    assert!(predicted.iter().all(|r| test.contains(&&r["path"])));
    let searches = rows(&out.join("search.csv"));
    assert!(!searches.is_empty(), "{file}");
    assert!(stdout.contains("dev−test gap"), "{stdout}");
    let run = json(&out.join("run.json"));
    assert_eq!(run["split"]["dev_images"], images - test.len());
    assert_eq!(run["split"]["test_images"], test.len());
}

#[test]
fn shipped_search_experiments_run_and_a_pasted_choice_scores_the_same() {
    let temp = tempfile::tempdir().unwrap();
    let cache = temp.path().join("cache");
    let overrides = [
        "--data-root",
        mini().to_str().unwrap(),
        "--model-dir",
        common::model("clip-tiny-random").to_str().unwrap(),
    ]
    .map(String::from);
    let overrides: Vec<&str> = overrides.iter().map(String::as_str).collect();
    for (file, images) in [("flowers-search.yaml", 48), ("flowers5-search.yaml", 120)] {
        let out = temp.path().join(file);
        let stdout = sweep(
            &root().join("experiments").join(file),
            &out,
            &cache,
            &overrides,
        );
        scored_on_the_test_split_alone(file, &out, images, &stdout);
    }

    // The chosen ontology pasted into an experiment gives the same predictions on the same
    // test images.
    let first = temp.path().join("flowers-search.yaml");
    let run = json(&first.join("run.json"));
    let searched = search(&run, "searched-imagenet");
    assert!(
        searched["prompts"]["daisy"]
            .as_array()
            .is_some_and(|p| !p.is_empty())
    );
    let chosen = std::fs::read_dir(&first)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.to_string_lossy().ends_with("searched-imagenet.yaml"))
        .unwrap();
    let pasted = temp.path().join("pasted.yaml");
    std::fs::write(
        &pasted,
        format!(
            "name: pasted\ndataset:\n  root: {}\n  classes: [daisy, dandelion]\nmodels:\n  - path: {}\nsplit: {{dev_fraction: 0.5, seed: 0}}\n{}\n",
            mini().display(),
            common::model("clip-tiny-random").display(),
            std::fs::read_to_string(&chosen).unwrap()
        ),
    )
    .unwrap();
    let again = temp.path().join("pasted");
    sweep(&pasted, &again, &cache, &[]);
    let name = format!("searched-imagenet-{}", searched["model"].as_str().unwrap());
    let pasted_predictions = predictions(&again, &name);
    assert!(!pasted_predictions.is_empty());
    assert_eq!(pasted_predictions, predictions(&first, "searched-imagenet"));
}

/// A flat copy of the mini set (file names say nothing of the class) and its manifest.
fn flat_copy(folder: &Path) -> Vec<(String, String)> {
    std::fs::create_dir_all(folder.join("img")).unwrap();
    let mut labelled = Vec::new();
    for class in ["daisy", "dandelion", "roses", "sunflowers", "tulips"] {
        let mut files: Vec<PathBuf> = std::fs::read_dir(mini().join(class))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        files.sort();
        for file in files {
            let name = format!("img/{}", file.file_name().unwrap().to_string_lossy());
            std::fs::copy(&file, folder.join(&name)).unwrap();
            labelled.push((name, class.to_string()));
        }
    }
    labelled.sort();
    labelled
}

fn write_manifest(folder: &Path, labelled: &[(String, String)]) {
    let mut text = String::from("path,label\n");
    for (path, label) in labelled {
        text.push_str(&format!("{path},{label}\n"));
    }
    std::fs::write(folder.join("labels.csv"), text).unwrap();
}

/// Rotates the labels of the images on `side` by one place: a permutation among them.
fn rotate_labels(
    labelled: &[(String, String)],
    sides: &BTreeMap<String, String>,
    side: &str,
) -> Vec<(String, String)> {
    let chosen: Vec<usize> = (0..labelled.len())
        .filter(|&i| sides[&labelled[i].0] == side)
        .collect();
    let mut result = labelled.to_vec();
    for (k, &i) in chosen.iter().enumerate() {
        let from = chosen[(k + 1) % chosen.len()];
        result[i].1 = labelled[from].1.clone();
    }
    result
}

#[test]
fn relabelling_test_images_changes_nothing_the_search_saw() {
    let temp = tempfile::tempdir().unwrap();
    let data = temp.path().join("data");
    let labelled = flat_copy(&data);
    write_manifest(&data, &labelled);
    std::fs::write(
        data.join("classnames.txt"),
        "daisy\ndandelion\nroses\nsunflowers\ntulips\n",
    )
    .unwrap();
    let experiment = data.join("search.yaml");
    std::fs::write(
        &experiment,
        format!(
            "name: relabel\ndataset:\n  manifest: labels.csv\n  classnames: classnames.txt\nmodels:\n  - path: {}\nontologies:\n  plain:\n    templates: [\"{{}}\"]\n  searched:\n    search:\n      templates: openai-imagenet\n      names: {{roses: [rose, roses], tulips: [tulip, tulips]}}\n      max_templates: 5\n",
            common::model("clip-tiny-random").display()
        ),
    )
    .unwrap();
    let cache = temp.path().join("cache");
    let run = |name: &str| {
        let out = temp.path().join(name);
        sweep(&experiment, &out, &cache, &[]);
        out
    };
    let sides = |out: &Path| -> BTreeMap<String, String> {
        rows(&out.join("split.csv"))
            .into_iter()
            .map(|r| (r["path"].clone(), r["split"].clone()))
            .collect()
    };
    let read = |out: &Path, file: &str| std::fs::read(out.join(file)).unwrap();

    let before = run("before");
    let split = sides(&before);
    assert_eq!(split.len(), labelled.len());

    write_manifest(&data, &rotate_labels(&labelled, &split, "test"));
    let relabelled = run("test-relabelled");
    assert_eq!(sides(&relabelled), split);
    assert_eq!(read(&relabelled, "search.csv"), read(&before, "search.csv"));
    assert_eq!(
        snippet_body(&snippet(&relabelled)),
        snippet_body(&snippet(&before))
    );
    let chosen = |out: &Path| search(&json(&out.join("run.json")), "searched")["prompts"].clone();
    assert_eq!(chosen(&relabelled), chosen(&before));
    // The relabelling did reach the scores.
    assert_ne!(
        read(&relabelled, "predictions.csv"),
        read(&before, "predictions.csv")
    );

    write_manifest(&data, &rotate_labels(&labelled, &split, "dev"));
    let dev_relabelled = run("dev-relabelled");
    assert_eq!(sides(&dev_relabelled), split);
    assert_ne!(
        read(&dev_relabelled, "search.csv"),
        read(&before, "search.csv")
    );
}

/// The experiment of the relabelling test with `declare` as its dataset's extra lines.
fn searched_manifest(data: &Path, declare: &str) -> PathBuf {
    let experiment = data.join("declared.yaml");
    std::fs::write(
        &experiment,
        format!(
            "name: declared\ndataset:\n  manifest: labels.csv\n{declare}models:\n  - path: {}\nontologies:\n  plain:\n    templates: [\"{{}}\"]\n  searched:\n    search:\n      templates: openai-imagenet\n      max_templates: 3\n",
            common::model("clip-tiny-random").display()
        ),
    )
    .unwrap();
    experiment
}

#[test]
fn a_search_fixes_its_classes_before_any_label_is_read() {
    let temp = tempfile::tempdir().unwrap();
    let data = temp.path().join("data");
    let labelled = flat_copy(&data);
    write_manifest(&data, &labelled);
    let cache = temp.path().join("cache");
    // Classes taken from the labels could include a label only test images carry: refused,
    // with the line to write.
    let undeclared = searched_manifest(&data, "");
    let out = temp.path().join("undeclared");
    let output = common::sweep(&undeclared, &out, &cache, &[])
        .output()
        .unwrap();
    let err = common::stderr(&output);
    assert!(!output.status.success());
    assert!(
        err.contains("declared.yaml:2:")
            && err.contains("`classes: [daisy, dandelion, roses, sunflowers, tulips]`"),
        "{err}"
    );
    assert!(!out.exists());

    let declared = searched_manifest(
        &data,
        "  classes: [daisy, dandelion, roses, sunflowers, tulips]\n",
    );
    let before = temp.path().join("before");
    sweep(&declared, &before, &cache, &[]);
    let split: BTreeMap<String, String> = rows(&before.join("split.csv"))
        .into_iter()
        .map(|r| (r["path"].clone(), r["split"].clone()))
        .collect();
    // Three test images relabelled to a class nobody declared: listed as skipped, and the
    // search sees exactly what it saw.
    let mut zinnia = labelled.clone();
    for entry in zinnia
        .iter_mut()
        .filter(|(p, _)| split[p] == "test")
        .take(3)
    {
        entry.1 = "zinnia".into();
    }
    write_manifest(&data, &zinnia);
    let after = temp.path().join("after");
    sweep(&declared, &after, &cache, &[]);
    let read = |out: &Path, file: &str| std::fs::read(out.join(file)).unwrap();
    assert_eq!(read(&after, "search.csv"), read(&before, "search.csv"));
    let skipped = rows(&after.join("skipped.csv"));
    assert_eq!(skipped.len(), 3, "{skipped:?}");
    assert!(
        skipped
            .iter()
            .all(|r| r["reason"].contains("`zinnia` is not one of"))
    );
    let run = json(&after.join("run.json"));
    assert_eq!(run["images_found"], labelled.len());
    assert_eq!(
        run["images_scored"].as_u64().unwrap()
            + run["images_dev"].as_u64().unwrap()
            + run["images_skipped"].as_u64().unwrap(),
        labelled.len() as u64
    );
}
