//! Model values that would make every prediction wrong, or every image fail, stop the run
//! with the file and field named: never a report with a meaningless number.

mod common;

use std::path::{Path, PathBuf};

use common::{command, model, stderr};

/// A models folder holding a copy of the tiny CLIP, its yaml and preprocessor config as given.
fn models_folder(dir: &Path, yaml: &str, preprocessor: Option<&str>) -> PathBuf {
    let models = dir.join("models");
    let copy = models.join("clip-tiny-random");
    std::fs::create_dir_all(copy.join("onnx")).unwrap();
    for file in [
        "onnx/text_model.onnx",
        "onnx/vision_model.onnx",
        "tokenizer.json",
        "preprocessor_config.json",
        "config.json",
    ] {
        std::fs::copy(model("clip-tiny-random").join(file), copy.join(file)).unwrap();
    }
    if let Some(text) = preprocessor {
        std::fs::write(copy.join("preprocessor_config.json"), text).unwrap();
    }
    std::fs::write(models.join("clip-tiny-random.yaml"), yaml).unwrap();
    models
}

fn sweep(dir: &Path, models: &Path) -> std::process::Output {
    let experiment = dir.join("e.yaml");
    std::fs::write(
        &experiment,
        format!(
            "name: e\ndataset:\n  root: {}\nmodels: [clip-tiny-random]\nontologies:\n  plain:\n    templates: [\"a photo of {{}}\"]\n",
            common::mini().display()
        ),
    )
    .unwrap();
    command(&[
        "sweep",
        experiment.to_str().unwrap(),
        "--models-dir",
        models.to_str().unwrap(),
        "--no-cache",
        "--out",
        dir.join("out").to_str().unwrap(),
    ])
    .output()
    .unwrap()
}

const YAML: &str = "id: clip-tiny-random\nlocal: clip-tiny-random\nlogit_scale: 100.0\n";

#[test]
fn a_nan_or_negative_logit_scale_stops_the_run_at_its_line() {
    for scale in [".nan", "-100"] {
        let temp = tempfile::tempdir().unwrap();
        let models = models_folder(temp.path(), &YAML.replace("100.0", scale), None);
        let output = sweep(temp.path(), &models);
        let err = stderr(&output);
        assert!(!output.status.success(), "{scale}: the run went on");
        assert!(
            err.contains("clip-tiny-random.yaml:3:1:") && err.contains("`logit_scale: "),
            "{scale}: {err}"
        );
        assert!(
            !temp.path().join("out").exists(),
            "{scale}: a report was written"
        );
    }
}

#[test]
fn a_preprocessor_config_no_image_could_pass_stops_the_run() {
    let temp = tempfile::tempdir().unwrap();
    let models = models_folder(
        temp.path(),
        YAML,
        Some(r#"{"size": {"shortest_edge": 224}, "crop_size": 256, "rescale_factor": 0.0039}"#),
    );
    let output = sweep(temp.path(), &models);
    let err = stderr(&output);
    assert!(!output.status.success(), "the run went on: {err}");
    assert!(
        err.contains("preprocessor_config.json") && err.contains("`crop_size` 256×256"),
        "{err}"
    );
}
