//! The `ontosweep` binary end to end, on the tiny model and the 120-photo mini set.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

mod common;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

fn tiny_model() -> PathBuf {
    root().join("models/clip-tiny-random")
}

fn golden(path: &str) -> PathBuf {
    root().join("crates/clip/tests/golden").join(path)
}

fn ontosweep(args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_ontosweep"));
    command
        .args(args)
        .current_dir(root())
        .env("ONTOSWEEP_HOME", root());
    assert!(
        std::env::var_os("ORT_DYLIB_PATH").is_some(),
        "ORT_DYLIB_PATH is not set: run the tests with `cargo xtask test`"
    );
    command
}

fn run(command: &mut Command) -> Output {
    command.output().expect("the binary runs")
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn sweep(out: &Path, cache: &Path, extra: &[&str]) -> Output {
    let (out, cache) = (out.to_str().unwrap(), cache.to_str().unwrap());
    let mut args = vec![
        "sweep",
        "experiments/flowers-mini.yaml",
        "--out",
        out,
        "--cache-dir",
        cache,
    ];
    args.extend(extra);
    let output = run(&mut ontosweep(&args));
    assert!(output.status.success(), "sweep failed: {}", stderr(&output));
    output
}

fn read_csv(path: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let mut reader = csv::Reader::from_path(path).unwrap();
    let header = reader.headers().unwrap().iter().map(String::from).collect();
    let rows = reader
        .records()
        .map(|r| r.unwrap().iter().map(String::from).collect())
        .collect();
    (header, rows)
}

fn json(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// summary.csv's columns, and every accuracy in it recomputed from predictions.csv, whose
/// predicted class is each row's highest score.
fn accuracies_agree_with_the_predictions(report: &Path) {
    let first = report;
    let (header, summary) = read_csv(&first.join("summary.csv"));
    let expected_columns = "model,ontology,n,correct,accuracy,ci_low,ci_high,balanced_accuracy,macro_f1,ece,delta_vs_baseline,delta_ci_low,delta_ci_high,mcnemar_p,mcnemar_p_holm";
    assert_eq!(header[..15].join(","), expected_columns);
    assert_eq!(summary.len(), 5, "one row per ontology");

    // Recompute every accuracy independently from predictions.csv.
    let (pred_header, predictions) = read_csv(&first.join("predictions.csv"));
    assert_eq!(
        pred_header[..5].join(","),
        "model,ontology,path,true_class,predicted_class"
    );
    assert_eq!(pred_header.len(), 5 + 5, "one score column per class");
    for row in &summary {
        let mine: Vec<&Vec<String>> = predictions.iter().filter(|p| p[1] == row[1]).collect();
        let correct = mine.iter().filter(|p| p[3] == p[4]).count();
        assert_eq!(mine.len(), 120);
        assert_eq!(row[2], "120");
        assert_eq!(row[3], correct.to_string(), "{}", row[1]);
        let accuracy: f64 = row[4].parse().unwrap();
        assert!((accuracy - correct as f64 / 120.0).abs() < 1e-12);
        // The predicted class is the highest score.
        for p in &mine {
            let scores: Vec<f64> = p[5..].iter().map(|s| s.parse().unwrap()).collect();
            let best = scores.iter().cloned().fold(f64::MIN, f64::max);
            let predicted = pred_header[5..]
                .iter()
                .position(|h| h == &format!("score:{}", p[4]))
                .unwrap();
            assert_eq!(scores[predicted], best);
        }
    }
}

fn same_files(a: &Path, b: &Path, files: &[&str]) {
    for file in files {
        assert_eq!(
            std::fs::read(a.join(file)).unwrap(),
            std::fs::read(b.join(file)).unwrap(),
            "{file}"
        );
    }
}

#[test]
fn mini_sweep_end_to_end_then_from_cache_and_with_one_thread() {
    let temp = tempfile::tempdir().unwrap();
    let (first, cache) = (temp.path().join("first"), temp.path().join("cache"));
    sweep(&first, &cache, &[]);

    accuracies_agree_with_the_predictions(&first);
    let run1 = json(&first.join("run.json"));
    assert_eq!(run1["models"][0]["images_encoded"], 120);
    assert_eq!(run1["timings"]["images_encoded"], 120);
    assert!(
        run1["onnxruntime"]["version"]
            .as_str()
            .unwrap()
            .starts_with("1.31")
    );
    for file in [
        "index.html",
        "accuracy.svg",
        "per_class.svg",
        "per_class.csv",
        "skipped.csv",
        "confusion_clip-tiny-random_plain.csv",
    ] {
        assert!(first.join(file).is_file(), "{file} missing");
    }

    // Again: every embedding comes from the cache and the numbers do not move.
    let second = temp.path().join("second");
    sweep(&second, &cache, &[]);
    let run2 = json(&second.join("run.json"));
    assert_eq!(run2["models"][0]["images_encoded"], 0);
    assert_eq!(run2["models"][0]["images_from_cache"], 120);
    assert_eq!(run2["models"][0]["prompts_encoded"], 0);
    same_files(
        &first,
        &second,
        &["summary.csv", "predictions.csv", "per_class.csv"],
    );

    // No cache, one thread everywhere: identical results.
    let third = temp.path().join("third");
    let output = run(ontosweep(&[
        "sweep",
        "experiments/flowers-mini.yaml",
        "--out",
        third.to_str().unwrap(),
        "--no-cache",
        "--threads",
        "1",
    ])
    .env("RAYON_NUM_THREADS", "1"));
    assert!(output.status.success(), "{}", stderr(&output));
    same_files(&first, &third, &["summary.csv", "predictions.csv"]);
    screenshot_renders(&first.join("index.html"), temp.path());
}

/// Opens the report in headless Chromium and checks the screenshot shows the charts.
fn screenshot_renders(page: &Path, temp: &Path) {
    let Some((shot, output)) = common::many_classes::screenshot(page, temp) else {
        return;
    };
    assert!(shot.is_file(), "no screenshot: {}", stderr(&output));
    let image = image::open(&shot).unwrap().into_rgb8();
    let pixels = image.pixels().count();
    let non_white = image.pixels().filter(|p| p.0 != [255, 255, 255]).count();
    // Bar colours of the accuracy chart (baseline grey and the first palette entries).
    let bars = image
        .pixels()
        .filter(|p| {
            matches!(
                p.0,
                [0x7f, 0x7f, 0x7f] | [0xff, 0x7f, 0x0e] | [0x2c, 0xa0, 0x2c]
            )
        })
        .count();
    assert!(
        non_white > pixels / 50,
        "the page looks blank ({non_white} of {pixels} pixels drawn)"
    );
    assert!(
        bars > 1_000,
        "the accuracy chart's bars are not on screen ({bars} bar pixels)"
    );
}

#[test]
fn tokenize_reproduces_the_reference_ids() {
    let output = run(&mut ontosweep(&[
        "tokenize",
        "--model",
        tiny_model().to_str().unwrap(),
        "fish &amp; chips",
        "ﬂower",
    ]));
    assert!(output.status.success(), "{}", stderr(&output));
    let reference = json(&golden("tokens.json"));
    let lines: Vec<serde_json::Value> = String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    for line in &lines {
        let case = reference
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["text"] == line["text"])
            .unwrap();
        assert_eq!(line["ids"], case["openai_ids"]);
        assert_eq!(line["truncated"], false);
    }
    assert_eq!(lines.len(), 2);
}

fn cosine(a: &serde_json::Value, b: &serde_json::Value) -> f64 {
    let (a, b) = (a.as_array().unwrap(), b.as_array().unwrap());
    let dot: f64 = a
        .iter()
        .zip(b)
        .map(|(x, y)| x.as_f64().unwrap() * y.as_f64().unwrap())
        .sum();
    let norm = |v: &Vec<serde_json::Value>| {
        v.iter()
            .map(|x| x.as_f64().unwrap().powi(2))
            .sum::<f64>()
            .sqrt()
    };
    dot / (norm(a) * norm(b))
}

#[test]
fn embed_reproduces_the_reference_embeddings() {
    let image = golden("preprocess/flower_0.jpg");
    let output = run(&mut ontosweep(&[
        "embed",
        "--model",
        tiny_model().to_str().unwrap(),
        "--ep",
        "cpu",
        "--text",
        "a photo of a sunflower.",
        "--image",
        image.to_str().unwrap(),
    ]));
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("execution provider cpu"),
        "the provider must be reported"
    );
    let reference = json(&golden("embeddings/clip-tiny-random.json"));
    let lines: Vec<serde_json::Value> = String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let text = reference["texts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["text"] == "a photo of a sunflower.")
        .unwrap();
    let picture = reference["images"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["file"] == "flower_0.jpg")
        .unwrap();
    assert_eq!(
        (lines[0]["kind"].as_str(), lines[1]["kind"].as_str()),
        (Some("text"), Some("image"))
    );
    assert!(cosine(&lines[0]["embedding"], &text["embedding"]) >= 0.9999);
    assert!(cosine(&lines[1]["embedding"], &picture["embedding"]) >= 0.9999);
}

fn fails_with(args: &[&str], expected: &[&str]) {
    let output = run(&mut ontosweep(args));
    assert!(!output.status.success(), "{args:?} should fail");
    let message = stderr(&output);
    for e in expected {
        assert!(
            message.contains(e),
            "{args:?}: message lacks {e:?}:\n{message}"
        );
    }
}

#[test]
fn cuda_without_a_gpu_is_an_error_that_says_what_to_do() {
    let model = tiny_model();
    let args = [
        "embed",
        "--model",
        model.to_str().unwrap(),
        "--ep",
        "cuda",
        "--text",
        "daisy",
    ];
    let output = run(&mut ontosweep(&args));
    assert!(
        !output.status.success(),
        "--ep cuda must never fall back to the CPU"
    );
    let message = stderr(&output);
    // A CPU-only runtime, or the CUDA build on a machine without the CUDA libraries.
    let why = message.contains("no CUDA execution provider")
        || message.contains("these CUDA libraries cannot be loaded: libcudart.so.13");
    assert!(
        why && message.contains("cargo xtask setup --gpu") && message.contains("--ep cpu"),
        "{message}"
    );
}

/// What `--ep auto` picks with the runtime the tests were given, as the runtime detects it.
fn provider_auto_picks() -> ontosweep_clip::Ep {
    let library = std::env::var_os("ORT_DYLIB_PATH")
        .expect("ORT_DYLIB_PATH is not set: run the tests with `cargo xtask test`");
    ontosweep_clip::Runtime::load(Path::new(&library))
        .unwrap()
        .auto_ep()
}

fn auto_embeds_text() -> Output {
    let output = run(&mut ontosweep(&[
        "embed",
        "--model",
        tiny_model().to_str().unwrap(),
        "--text",
        "daisy",
    ]));
    assert!(output.status.success(), "{}", stderr(&output));
    output
}

#[test]
fn auto_reports_the_provider_it_chose() {
    let expected = format!("text tower: execution provider {}", provider_auto_picks());
    let output = auto_embeds_text();
    assert!(stderr(&output).contains(&expected), "{}", stderr(&output));
}

#[test]
#[ignore = "hardware: needs an NVIDIA GPU, its CUDA 13 and cuDNN 9 libraries and the CUDA build of ONNX Runtime (cargo xtask test --hardware --gpu)"]
fn hardware_cuda_is_what_auto_picks() {
    assert_eq!(provider_auto_picks(), ontosweep_clip::Ep::Cuda);
    let output = auto_embeds_text();
    let message = stderr(&output);
    assert!(
        message.contains("text tower: execution provider cuda"),
        "{message}"
    );
}

#[test]
fn missing_model_files_are_named() {
    let empty = tempfile::tempdir().unwrap();
    fails_with(
        &[
            "embed",
            "--model",
            empty.path().to_str().unwrap(),
            "--text",
            "daisy",
        ],
        &["missing onnx/text_model.onnx", "Hugging Face's ONNX layout"],
    );
}

#[test]
fn wrong_io_names_list_what_the_model_offers() {
    let temp = tempfile::tempdir().unwrap();
    let model = temp.path().join("swapped");
    std::fs::create_dir_all(model.join("onnx")).unwrap();
    for file in ["tokenizer.json", "preprocessor_config.json"] {
        std::fs::copy(tiny_model().join(file), model.join(file)).unwrap();
    }
    // The text graph where the vision graph should be.
    std::fs::copy(
        tiny_model().join("onnx/text_model.onnx"),
        model.join("onnx/vision_model.onnx"),
    )
    .unwrap();
    std::fs::copy(
        tiny_model().join("onnx/text_model.onnx"),
        model.join("onnx/text_model.onnx"),
    )
    .unwrap();
    let image = golden("preprocess/flower_0.jpg");
    fails_with(
        &[
            "embed",
            "--model",
            model.to_str().unwrap(),
            "--image",
            image.to_str().unwrap(),
        ],
        &["no input named `pixel_values`", "`input_ids`"],
    );
    // Not ONNX at all.
    std::fs::write(model.join("onnx/vision_model.onnx"), b"not a model").unwrap();
    fails_with(
        &[
            "embed",
            "--model",
            model.to_str().unwrap(),
            "--image",
            image.to_str().unwrap(),
        ],
        &["vision_model.onnx", "Is it an ONNX file?"],
    );
}

#[test]
fn a_text_model_without_attention_mask_gives_the_same_embeddings() {
    let temp = tempfile::tempdir().unwrap();
    let model = temp.path().join("ids-only");
    std::fs::create_dir_all(model.join("onnx")).unwrap();
    for file in [
        "tokenizer.json",
        "preprocessor_config.json",
        "onnx/vision_model.onnx",
    ] {
        std::fs::copy(tiny_model().join(file), model.join(file)).unwrap();
    }
    std::fs::copy(
        tiny_model().join("onnx/text_model_input_ids_only.onnx"),
        model.join("onnx/text_model.onnx"),
    )
    .unwrap();
    let embed = |dir: &Path| {
        let output = run(&mut ontosweep(&[
            "embed",
            "--model",
            dir.to_str().unwrap(),
            "--text",
            "a photo of a daisy",
            "--text",
            "dandelion",
        ]));
        assert!(output.status.success(), "{}", stderr(&output));
        String::from_utf8(output.stdout)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
            .collect::<Vec<_>>()
    };
    let (with_mask, without) = (embed(&tiny_model()), embed(&model));
    for (a, b) in with_mask.iter().zip(&without) {
        assert!(cosine(&a["embedding"], &b["embedding"]) >= 0.9999);
    }
}

#[test]
fn an_unreadable_image_is_named() {
    fails_with(
        &[
            "embed",
            "--model",
            tiny_model().to_str().unwrap(),
            "--image",
            "no/such/photo.jpg",
        ],
        &["no/such/photo.jpg"],
    );
    let temp = tempfile::tempdir().unwrap();
    let fake = temp.path().join("fake.jpg");
    std::fs::write(&fake, b"this is text").unwrap();
    fails_with(
        &[
            "embed",
            "--model",
            tiny_model().to_str().unwrap(),
            "--image",
            fake.to_str().unwrap(),
        ],
        &["fake.jpg", "not an image"],
    );
}

#[test]
fn experiment_errors_name_the_file_and_line() {
    let temp = tempfile::tempdir().unwrap();
    let file = temp.path().join("bad.yaml");
    let data = root().join("experiments/data/flowers-mini");
    std::fs::write(
        &file,
        format!("name: bad\ndataset:\n  root: {}\n  classes: [daisy, dandelion]\nmodels: [clip-tiny-random]\nontologies:\n  plain:\n    prompts:\n      daisy: daisy\n      dandelions: dandelion\n", data.display()),
    )
    .unwrap();
    fails_with(
        &["sweep", file.to_str().unwrap()],
        &[
            "bad.yaml:10:7",
            "`dandelions`",
            "has no prompt for class `dandelion`",
        ],
    );
}

/// The sweep split into stages gives what the single `run` function gave (see
/// `tests/fixtures/mini-before-stages/README.md`): the same predicted classes and accuracy
/// columns, and the same scores up to what Pillow-exact pixels moved them (at most 3.4e-4 on
/// these photos; a mis-wired stage moves them by tenths).
#[test]
fn stages_match_the_fixture() {
    let temp = tempfile::tempdir().unwrap();
    let out = temp.path().join("report");
    let output = run(&mut ontosweep(&[
        "sweep",
        "experiments/flowers-mini.yaml",
        "--no-cache",
        "--out",
        out.to_str().unwrap(),
    ]));
    assert!(output.status.success(), "{}", stderr(&output));
    let fixture = root().join("crates/cli/tests/fixtures/mini-before-stages");
    let (header, rows) = read_csv(&out.join("predictions.csv"));
    let (fixture_header, fixture_rows) = read_csv(&fixture.join("predictions.csv"));
    assert_eq!(header, fixture_header);
    assert_eq!(rows.len(), fixture_rows.len());
    let mut largest = 0.0f64;
    for (row, expected) in rows.iter().zip(&fixture_rows) {
        assert_eq!(
            row[..5],
            expected[..5],
            "model, ontology, path, truth, prediction"
        );
        for (value, wanted) in row[5..].iter().zip(&expected[5..]) {
            let (value, wanted): (f64, f64) = (value.parse().unwrap(), wanted.parse().unwrap());
            largest = largest.max((value - wanted).abs());
        }
    }
    // Decoding and resizing as Pillow does (after this fixture was made) moved pixels by a
    // few levels and scores by at most 3.4e-4; float rounding alone stayed under 1e-5.
    assert!(largest < 1e-3, "scores moved by {largest}");
    let accuracy_columns = [
        "model",
        "ontology",
        "n",
        "correct",
        "accuracy",
        "balanced_accuracy",
    ];
    let (header, rows) = read_csv(&out.join("summary.csv"));
    let (fixture_header, fixture_rows) = read_csv(&fixture.join("summary.csv"));
    for column in accuracy_columns {
        let at = header.iter().position(|h| h == column).unwrap();
        let fixture_at = fixture_header.iter().position(|h| h == column).unwrap();
        let values: Vec<&str> = rows.iter().map(|r| r[at].as_str()).collect();
        let wanted: Vec<&str> = fixture_rows
            .iter()
            .map(|r| r[fixture_at].as_str())
            .collect();
        assert_eq!(values, wanted, "column {column}");
    }
}
