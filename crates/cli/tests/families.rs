//! CLIP and SigLIP side by side through the binary: one sweep over both tiny models, and
//! `tokenize`/`embed` on the tiny SigLIP against its reference goldens.

use std::path::PathBuf;
use std::process::Output;

mod common;

use common::{golden, json};

fn siglip() -> PathBuf {
    common::model("siglip-tiny-random")
}

fn ontosweep(args: &[&str]) -> Output {
    common::succeeded(common::command(args).output().expect("the binary runs"))
}

fn json_lines(output: &Output) -> Vec<serde_json::Value> {
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn cosine(a: &serde_json::Value, b: &serde_json::Value) -> f64 {
    let (a, b): (Vec<f64>, Vec<f64>) = (
        serde_json::from_value(a.clone()).unwrap(),
        serde_json::from_value(b.clone()).unwrap(),
    );
    let dot: f64 = a.iter().zip(&b).map(|(x, y)| x * y).sum();
    let norm = |v: &[f64]| v.iter().map(|x| x * x).sum::<f64>().sqrt();
    dot / (norm(&a) * norm(&b))
}

#[test]
fn both_families_run_in_one_sweep() {
    let temp = tempfile::tempdir().unwrap();
    let (out, cache) = (temp.path().join("report"), temp.path().join("cache"));
    ontosweep(&[
        "sweep",
        "experiments/flowers-mini-models.yaml",
        "--out",
        out.to_str().unwrap(),
        "--cache-dir",
        cache.to_str().unwrap(),
    ]);
    let mut reader = csv::Reader::from_path(out.join("predictions.csv")).unwrap();
    let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    let scores: Vec<usize> = (0..header.len())
        .filter(|&i| header[i].starts_with("score:"))
        .collect();
    let mut sums = std::collections::BTreeMap::<String, Vec<f64>>::new();
    for row in reader.records() {
        let row = row.unwrap();
        let total: f64 = scores.iter().map(|&i| row[i].parse::<f64>().unwrap()).sum();
        sums.entry(row[0].to_string()).or_default().push(total);
    }
    assert_eq!(sums.len(), 2, "{:?}", sums.keys());
    // CLIP's softmax sums to one per image; SigLIP's sigmoids are independent.
    assert!(
        sums["clip-tiny-random"]
            .iter()
            .all(|s| (s - 1.0).abs() < 1e-4)
    );
    assert!(
        sums["siglip-tiny-random"]
            .iter()
            .any(|s| (s - 1.0).abs() > 0.1)
    );
    let run = json(&out.join("run.json"));
    let ids: Vec<&str> = run["models"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["clip-tiny-random", "siglip-tiny-random"]);
    assert!(
        run["models"]
            .as_array()
            .unwrap()
            .iter()
            .all(|m| m["images_encoded"] == 120)
    );
}

#[test]
fn tokenize_prints_siglip_ids_as_the_model_sees_them() {
    let reference = json(&golden("siglip/tokens.json"));
    let cases: Vec<&serde_json::Value> = reference["cases"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["text"] == "dandelion" || c["truncated"] == true)
        .take(2)
        .collect();
    let texts: Vec<&str> = cases.iter().map(|c| c["text"].as_str().unwrap()).collect();
    let model = siglip();
    let mut args = vec!["tokenize", "--model", model.to_str().unwrap()];
    args.extend(&texts);
    let lines = json_lines(&ontosweep(&args));
    assert_eq!(lines.len(), 2);
    for (line, case) in lines.iter().zip(&cases) {
        assert_eq!(line["ids"], case["input_ids"], "{:?}", case["text"]);
        assert_eq!(line["ids"].as_array().unwrap().len(), 64);
        assert_eq!(line["truncated"], case["truncated"]);
    }
}

/// The reference's first text and its `alpha.png` image.
fn reference_text_and_alpha(
    reference: &serde_json::Value,
) -> (&serde_json::Value, &serde_json::Value) {
    let picture = reference["images"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["file"] == "alpha.png")
        .unwrap();
    (&reference["texts"][0], picture)
}

#[test]
fn embed_gives_the_reference_siglip_embeddings() {
    let reference = json(&golden("siglip/embeddings.json"));
    let (text, picture) = reference_text_and_alpha(&reference);
    let image = golden("preprocess/alpha.png");
    let lines = json_lines(&ontosweep(&[
        "embed",
        "--model",
        siglip().to_str().unwrap(),
        "--ep",
        "cpu",
        "--text",
        text["text"].as_str().unwrap(),
        "--image",
        image.to_str().unwrap(),
    ]));
    assert!(cosine(&lines[0]["embedding"], &text["embedding"]) >= 0.9999);
    assert!(cosine(&lines[1]["embedding"], &picture["embedding"]) >= 0.999);
}

/// The tiny SigLIP with the ONNX files of `crates/cli/tests/fixtures/siglip-output-names/
/// <variant>` (its outputs named otherwise; see `regenerate.py` there).
fn siglip_exported_as(variant: &str, dir: &std::path::Path) -> PathBuf {
    let model = dir.join(variant);
    common::copy_dir(&siglip(), &model);
    let fixture = common::root()
        .join("crates/cli/tests/fixtures/siglip-output-names")
        .join(variant);
    common::copy_dir(&fixture, &model);
    model
}

/// Exporters that name SigLIP's outputs after transformers' fields (`text_embeds`,
/// `image_embeds`) give the same embeddings, and the run says which output it read.
#[test]
fn a_siglip_export_with_transformers_output_names_is_read() {
    let temp = tempfile::tempdir().unwrap();
    let model = siglip_exported_as("renamed", temp.path());
    let reference = json(&golden("siglip/embeddings.json"));
    let (text, picture) = reference_text_and_alpha(&reference);
    let output = ontosweep(&[
        "embed",
        "--model",
        model.to_str().unwrap(),
        "--ep",
        "cpu",
        "--text",
        text["text"].as_str().unwrap(),
        "--image",
        golden("preprocess/alpha.png").to_str().unwrap(),
    ]);
    let lines = json_lines(&output);
    assert!(cosine(&lines[0]["embedding"], &text["embedding"]) >= 0.9999);
    assert!(cosine(&lines[1]["embedding"], &picture["embedding"]) >= 0.999);
    let err = common::stderr(&output);
    for used in ["`text_embeds`", "`image_embeds`"] {
        assert!(
            err.contains(&format!("no output named `pooler_output`; its only [batch, dim] output, {used}, is read as the embedding")),
            "{err}"
        );
    }
    // A sweep says it too.
    let out = temp.path().join("report");
    let swept = ontosweep(&[
        "sweep",
        "experiments/flowers-mini.yaml",
        "--model-dir",
        model.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--no-cache",
    ]);
    assert!(common::stderr(&swept).contains("`image_embeds`, is read as the embedding"));
}

/// Two outputs that could each be the embedding: refused, naming them, with the `io:` remedy
/// (not CLIP's projection heads, which SigLIP does not have).
#[test]
fn a_siglip_export_with_two_candidate_outputs_is_refused() {
    let temp = tempfile::tempdir().unwrap();
    let model = siglip_exported_as("ambiguous", temp.path());
    let output = common::command(&[
        "embed",
        "--model",
        model.to_str().unwrap(),
        "--text",
        "daisy",
    ])
    .output()
    .unwrap();
    let err = common::stderr(&output);
    assert!(!output.status.success());
    assert!(
        err.contains("no embedding output named `pooler_output`; it offers `last_hidden_state`, `pooled`, `pooled_copy`")
            && err.contains("io: {text_embeds: NAME}")
            && !err.contains("projection"),
        "{err}"
    );
}
