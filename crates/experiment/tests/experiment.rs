//! The experiment file, parsed and checked through the crate's public API alone.

use std::path::{Path, PathBuf};

use ontosweep_experiment::*;

fn parse(source: &str) -> Result<Experiment, ConfigErrors> {
    Experiment::parse(Path::new("exp.yaml"), source)
}

const GOOD: &str = "name: t\ndataset:\n  root: data\nmodels: [m]\nontologies:\n  plain:\n    prompts:\n      daisy: daisy\n      dandelion: [dandelion, a dandelion]\n  tpl:\n    templates: [\"a photo of a {}.\"]\n    names: {daisy: daisy flower}\n";

#[test]
fn parses_prompts_templates_and_names() {
    let e = parse(GOOD).unwrap();
    assert_eq!(e.baseline, "plain");
    assert_eq!(e.dataset.root, Some(PathBuf::from("data")));
    let written = |i: usize| e.ontologies[i].written().unwrap();
    assert_eq!(
        written(0).prompts_for("dandelion"),
        vec!["dandelion", "a dandelion"]
    );
    assert_eq!(
        written(1).prompts_for("daisy"),
        vec!["a photo of a daisy flower."]
    );
    assert_eq!(
        written(1).prompts_for("dandelion"),
        vec!["a photo of a dandelion."]
    );
    assert_eq!(e.split, None);
    e.check_classes(&["daisy".into(), "dandelion".into()])
        .unwrap();
}

fn messages(source: &str) -> Vec<String> {
    parse(source)
        .unwrap_err()
        .0
        .iter()
        .map(ToString::to_string)
        .collect()
}

#[test]
fn template_without_braces_is_located() {
    let m = messages(&GOOD.replace("a photo of a {}.", "a photo"));
    assert_eq!(m.len(), 1);
    assert!(
        m[0].starts_with("exp.yaml:11:") && m[0].contains("has no `{}`"),
        "{m:?}"
    );
}

#[test]
fn unknown_fields_and_duplicates_are_located() {
    let m = messages(&GOOD.replace("models: [m]", "models: [m]\nmodel: x"));
    assert!(
        m[0].starts_with("exp.yaml:5:") && m[0].contains("unknown field `model`"),
        "{m:?}"
    );
    let m = messages(&GOOD.replace("  tpl:", "  plain:"));
    assert!(
        m[0].contains("duplicate") && m[0].starts_with("exp.yaml:"),
        "{m:?}"
    );
}

#[test]
fn every_probability_is_asked_for_in_a_report_section() {
    assert!(!parse(GOOD).unwrap().report.all_probabilities);
    let asked = parse(&format!("{GOOD}report: {{all_probabilities: true}}\n")).unwrap();
    assert!(asked.report.all_probabilities);
    let m = messages(&format!("{GOOD}report:\n  all_probability: true\n"));
    assert!(
        m[0].starts_with("exp.yaml:14:") && m[0].contains("unknown field `all_probability`"),
        "{m:?}"
    );
}

#[test]
fn baseline_and_classes_are_checked_by_name() {
    let m = messages(&format!("{GOOD}baseline: nope\n"));
    assert!(
        m[0].starts_with("exp.yaml:13:1") && m[0].contains("choose one of: plain, tpl"),
        "{m:?}"
    );
    let e = parse(GOOD).unwrap();
    let err = e
        .check_classes(&["daisy".into(), "tulip".into()])
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("exp.yaml:9:7")
            && err.contains("class `dandelion`, which the dataset does not have"),
        "{err}"
    );
    let e = parse(&GOOD.replace(
        "  tpl:\n    templates: [\"a photo of a {}.\"]\n    names: {daisy: daisy flower}\n",
        "",
    ))
    .unwrap();
    let err = e
        .check_classes(&["daisy".into(), "dandelion".into(), "rose".into()])
        .unwrap_err()
        .to_string();
    assert!(err.contains("no prompt for class `rose`"), "{err}");
}

#[test]
fn experiment_names_are_one_safe_folder_name() {
    for bad in [
        "..",
        ".",
        ".hidden",
        "",
        "a/b",
        "..\\x",
        "a b",
        "x\0y",
        "日本/..",
        "a\nb",
    ] {
        let source = GOOD.replace("name: t", &format!("name: {bad:?}"));
        let m = messages(&source);
        assert!(
            m[0].starts_with("exp.yaml:1:1") && m[0].contains("names the report folder"),
            "{bad:?}: {m:?}"
        );
    }
    let long = "x".repeat(MAX_NAME_BYTES + 1);
    let m = messages(&GOOD.replace("name: t", &format!("name: {long}")));
    assert!(m[0].contains("bytes long"), "{m:?}");
    for good in ["flowers", "flowers-v2.1_b", "日本語", "a..b"] {
        let e = parse(&GOOD.replace("name: t", &format!("name: {good:?}"))).unwrap();
        assert_eq!(e.name, good);
    }
}

#[test]
fn model_ids_are_plain_names() {
    let m = messages(&GOOD.replace("models: [m]", "models: [ok, \"../../x\", /etc/y]"));
    assert_eq!(m.len(), 2, "{m:?}");
    assert!(
        m[0].starts_with("exp.yaml:4:") && m[0].contains("\"../../x\""),
        "{m:?}"
    );
}

#[test]
fn a_model_entry_may_give_its_precision() {
    let e = parse(&GOOD.replace(
        "models: [m]",
        "models:\n  - m\n  - {id: m, precision: bf16}\n  - {path: dir, precision: fp32}",
    ))
    .unwrap();
    let precisions: Vec<_> = e.models.iter().map(|m| m.precision).collect();
    assert_eq!(
        precisions,
        [None, Some(Precision::Bf16), Some(Precision::Fp32)]
    );
    assert_eq!(e.models[1].model, ModelRef::Id("m".into()));
    assert_eq!(e.models[2].model, ModelRef::Path(PathBuf::from("dir")));
}

#[test]
fn a_misspelt_model_field_is_named() {
    let m = messages(&GOOD.replace("models: [m]", "models:\n  - {path: dir, precison: bf16}"));
    assert!(m[0].contains("unknown field `precison`"), "{m:?}");
    assert!(m[0].starts_with("exp.yaml:5:"), "{m:?}");
    let m = messages(&GOOD.replace("models: [m]", "models: [[m]]"));
    assert!(m[0].contains("a model entry is an id"), "{m:?}");
}

#[test]
fn bad_model_entries_are_located() {
    let m = messages(&GOOD.replace(
        "models: [m]",
        "models:\n  - m\n  - {id: m, precision: fp16}",
    ));
    assert!(
        m[0].starts_with("exp.yaml:6:") && m[0].contains("unknown precision `fp16`"),
        "{m:?}"
    );
    let m = messages(&GOOD.replace("models: [m]", "models:\n  - {id: m, path: x}"));
    assert!(m[0].contains("either `id: ID`"), "{m:?}");
    let m = messages(&GOOD.replace("models: [m]", "models: [m, n, m]"));
    assert!(m[0].contains("`m` is listed twice"), "{m:?}");
}

#[test]
fn files_that_expand_or_nest_without_bound_are_refused_with_a_place() {
    let items: Vec<String> = (0..5_000).map(|i| format!("p{i}")).collect();
    let source = format!(
        "{GOOD}x: &a [{}]\ny: [{}]\n",
        items.join(", "),
        vec!["*a"; 5_000].join(", ")
    );
    let m = messages(&source);
    assert!(
        m[0].contains("expands to more than") && m[0].starts_with("exp.yaml:"),
        "{m:?}"
    );
    let deep = format!("{GOOD}x: {}\n", "[".repeat(50_000));
    let m = messages(&deep);
    assert!(
        m[0].starts_with("exp.yaml:13:") && m[0].contains("nesting"),
        "{m:?}"
    );
}

#[test]
fn a_dataset_needs_a_root_or_a_manifest() {
    let m = messages(&GOOD.replace("  root: data\n", "  classes: [a]\n"));
    assert!(m[0].contains("exactly one of `dataset.root`"), "{m:?}");
}

fn recipe(file: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../experiments")
        .join(file)
}

#[test]
fn the_reproduction_recipes_parse_with_the_published_templates() {
    let imagenet = Experiment::load(&recipe("imagenet1k-vit-b32.yaml")).unwrap();
    let published = imagenet.ontologies[0].written().unwrap();
    assert_eq!(published.templates.len(), 80);
    assert_eq!(published.prompts_for("tench")[0], "a bad photo of a tench.");
    let standard = imagenet.dataset.standard.as_ref().unwrap();
    assert_eq!(
        (standard.kind, standard.split.as_str()),
        (StandardKind::ImageNet, "val")
    );
    let cifar = Experiment::load(&recipe("cifar10-vit-b32.yaml")).unwrap();
    assert_eq!(cifar.ontologies[0].written().unwrap().templates.len(), 18);
    let suite = Suite::load(&recipe("standard-benchmarks.yaml")).unwrap();
    for file in &suite.experiments {
        assert!(file.is_file(), "{}", file.display());
    }

    // The export's own templates are read when the folder is there.
    let temp = tempfile::tempdir().unwrap();
    let export = temp.path().join("data/wds_vtab-cifar10");
    std::fs::create_dir_all(&export).unwrap();
    std::fs::write(
        export.join("zeroshot_classification_templates.txt"),
        "a photo of a {c}.\n\na blurry photo of a {c}.\n",
    )
    .unwrap();
    let file = temp.path().join("wds.yaml");
    std::fs::copy(recipe("wds-cifar10-vit-b32.yaml"), &file).unwrap();
    let wds = Experiment::load(&file).unwrap();
    let published = wds.ontologies[0].written().unwrap();
    assert_eq!(
        published.prompts_for("cat"),
        ["a photo of a cat.", "a blurry photo of a cat."]
    );
    assert_eq!(wds.dataset.benchmark_name.as_deref(), Some("vtab/cifar10"));
}

#[test]
fn templates_come_from_a_list_a_set_or_a_file_and_either_slot_counts() {
    let temp = tempfile::tempdir().unwrap();
    std::fs::write(
        temp.path().join("mine.txt"),
        "itap of a {c}.\n  a {} in a video game.  \n",
    )
    .unwrap();
    let source = "name: t\ndataset:\n  root: data\nmodels: [m]\nontologies:\n  file:\n    templates: {file: mine.txt}\n  set:\n    templates: clip-benchmark/food101\n  list:\n    templates: [\"{c}!\", \"{}?\"]\n";
    let file = temp.path().join("exp.yaml");
    let e = Experiment::parse(&file, source).unwrap();
    let prompts = |i: usize| e.ontologies[i].written().unwrap().prompts_for("apple pie");
    assert_eq!(
        prompts(0),
        ["itap of a apple pie.", "a apple pie in a video game."]
    );
    assert_eq!(prompts(1), ["a photo of apple pie, a type of food."]);
    assert_eq!(prompts(2), ["apple pie!", "apple pie?"]);

    // Each way of getting it wrong is located at the `templates` line that named it.
    let bad = "name: t\ndataset:\n  root: data\nmodels: [m]\nontologies:\n  a:\n    templates: {file: missing.txt}\n  b:\n    templates: clip-benchmark/nope\n  c:\n    templates: dataset\n  d:\n    templates: [\"no slot\"]\n";
    let errors = Experiment::parse(&file, bad).unwrap_err().to_string();
    assert_located(
        &errors,
        &[
            (7, "missing.txt"),
            (9, "clip-benchmark/imagenet1k"),
            (11, "not one"),
            (13, "has no `{}` (or `{c}`)"),
        ],
    );
}

/// Each (line, needle): some line of `errors` is located at that line of exp.yaml and says it.
fn assert_located(errors: &str, expected: &[(usize, &str)]) {
    for (line, needle) in expected {
        let at = format!("exp.yaml:{line}:");
        assert!(
            errors
                .lines()
                .any(|l| l.contains(&at) && l.contains(needle)),
            "{at} {needle}: {errors}"
        );
    }
}

#[test]
fn controls_mirror_a_written_ontology_and_every_mistake_is_located() {
    let head = "name: t\ndataset:\n  root: data\nmodels: [m]\nontologies:\n";
    let good = format!(
        "{head}  noise:\n    control: random-words\n    of: descriptive\n    seeds: 2\n  descriptive:\n    templates: [\"a photo of a {{}}, a type of flower.\"]\n"
    );
    let e = parse(&good).unwrap();
    let names: Vec<&str> = e.ontologies.iter().map(|o| o.name.as_str()).collect();
    assert_eq!(names, ["noise.seed1", "noise.seed2", "descriptive"]);
    let control = e.ontologies[1].control().unwrap();
    assert_eq!(
        (control.group.as_str(), control.seed, control.seeds),
        ("noise", 2, 2)
    );

    let bad = format!(
        "{head}  a:\n    control: random-noise\n    of: b\n  b:\n    prompts: {{daisy: daisy}}\n  c:\n    control: template-only\n    of: b\n  d:\n    control: shuffled-names\n    of: nowhere\n  e:\n    control: template-only\n    of: f\n    seeds: 3\n  f:\n    templates: [\"{{}}\"]\n  g:\n    control: random-words\n    of: f\n    templates: [\"x {{}}\"]\n"
    );
    let errors = parse(&bad).unwrap_err().to_string();
    assert_located(
        &errors,
        &[
            (7, "unknown control `random-noise`"),
            (13, "`b` has none"),
            (16, "names no written ontology"),
            (20, "the same whatever the seed"),
            (24, "is a control"),
        ],
    );
}
