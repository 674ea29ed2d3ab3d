//! SigLIP against its reference (transformers 5.24: the slow SentencePiece tokenizer, the
//! Pillow image processor, the PyTorch towers) on the tiny random SigLIP; how the goldens
//! were made is in `tests/golden/siglip/README.md`.

mod common;

use common::{cosine, golden, mean_max_difference, runtime, workspace_root};
use ontosweep_clip::{
    Family, ImageEncoder, ModelDir, Preprocessing, SessionOptions, TextEncoder, TextTokenizer,
    Tokens,
};
use serde_json::Value;

fn siglip() -> ModelDir {
    ModelDir::open(&workspace_root().join("models/siglip-tiny-random")).unwrap()
}

fn json(path: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(golden(&format!("siglip/{path}"))).unwrap())
        .unwrap()
}

fn ids(value: &Value) -> Vec<i64> {
    serde_json::from_value(value.clone()).unwrap()
}

fn tokenizer() -> TextTokenizer {
    let model = siglip();
    assert_eq!(Family::of(&model).unwrap(), Family::Siglip);
    TextTokenizer::for_model(&model, Family::Siglip).unwrap()
}

#[test]
fn token_ids_are_the_references_padded_to_the_fixed_length() {
    let tokenizer = tokenizer();
    let golden = json("tokens.json");
    assert_eq!(tokenizer.context_length(), 64);
    let cases = golden["cases"].as_array().unwrap();
    let mut mismatches = Vec::new();
    for case in cases {
        let text = case["text"].as_str().unwrap();
        let tokens = tokenizer.encode(text).unwrap();
        let expected = ids(&case["input_ids"]);
        if tokens.ids != expected || tokens.truncated != case["truncated"].as_bool().unwrap() {
            mismatches.push(format!(
                "{text:?}: got {:?}, expected {expected:?}",
                tokens.ids
            ));
        }
    }
    assert!(cases.len() >= 90, "{}", cases.len());
    assert!(
        mismatches.is_empty(),
        "{} prompts differ:\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );
}

#[test]
fn preprocessing_matches_the_reference_resize() {
    let p = Preprocessing::from_config_file(&siglip().preprocessor_config()).unwrap();
    let cases = json("preprocess/cases.json");
    let mut report = Vec::new();
    for case in cases.as_array().unwrap() {
        let file = case["file"].as_str().unwrap();
        let source = golden(&format!("preprocess/{file}"));
        let ours = p.load(&source).unwrap();
        let resized = image::open(golden(&format!(
            "siglip/preprocess/{}",
            case["resized"].as_str().unwrap()
        )))
        .unwrap()
        .into_rgb8();
        let reference = p.normalise(&resized);
        assert_eq!(ours.len(), reference.len());
        let (mean, max) = mean_max_difference(&ours, &reference);
        // One 8-bit level is 2/255 ≈ 0.008 after SigLIP's normalisation.
        if mean > 0.005 || max > 0.1 {
            report.push(format!("{file}: mean |Δ| {mean:.4}, max |Δ| {max:.4}"));
        }
    }
    assert_eq!(cases.as_array().unwrap().len(), 16);
    assert!(
        report.is_empty(),
        "outside tolerance:\n{}",
        report.join("\n")
    );
}

#[test]
fn text_embeddings_match_pytorch() {
    let model = siglip();
    let io = Family::Siglip.io_names();
    let mut encoder = TextEncoder::new(runtime(), &model, &io, SessionOptions::default()).unwrap();
    let tokenizer = tokenizer();
    let cases = json("embeddings.json");
    let texts = cases["texts"].as_array().unwrap();
    let tokens: Vec<Tokens> = texts
        .iter()
        .map(|t| tokenizer.encode(t["text"].as_str().unwrap()).unwrap())
        .collect();
    for (case, tokens) in texts.iter().zip(&tokens) {
        assert_eq!(tokens.ids, ids(&case["input_ids"]), "{:?}", case["text"]);
    }
    let embeddings = encoder.encode(&tokens, 16).unwrap();
    for (case, ours) in texts.iter().zip(&embeddings) {
        let reference: Vec<f32> = serde_json::from_value(case["embedding"].clone()).unwrap();
        let c = cosine(ours, &reference);
        assert!(c >= 0.9999, "{:?}: cosine {c}", case["text"]);
    }
    assert!(embeddings.len() >= 30);
}

#[test]
fn image_embeddings_match_pytorch() {
    let model = siglip();
    let io = Family::Siglip.io_names();
    let mut encoder = ImageEncoder::new(runtime(), &model, &io, SessionOptions::default()).unwrap();
    let cases = json("embeddings.json");
    let images = cases["images"].as_array().unwrap();
    let mut batch = Vec::new();
    for case in images {
        let file = case["file"].as_str().unwrap();
        batch.extend(
            encoder
                .preprocessing()
                .load(&golden(&format!("preprocess/{file}")))
                .unwrap(),
        );
    }
    let embeddings = encoder.encode_batch(batch).unwrap();
    let mut low = Vec::new();
    for (case, ours) in images.iter().zip(&embeddings) {
        let reference: Vec<f32> = serde_json::from_value(case["embedding"].clone()).unwrap();
        let c = cosine(ours, &reference);
        if c < 0.999 {
            low.push(format!("{:?}: cosine {c}", case["file"]));
        }
    }
    assert!(low.is_empty(), "{}", low.join("\n"));
    assert_eq!(embeddings.len(), 16);
}

#[test]
fn bilinear_resize_matches_pillow() {
    let p = Preprocessing {
        filter: ontosweep_clip::preprocess::Filter::Bilinear,
        ..Preprocessing::from_config_file(&siglip().preprocessor_config()).unwrap()
    };
    let mut checked = 0;
    for entry in std::fs::read_dir(golden("bilinear")).unwrap() {
        let path = entry.unwrap().path();
        let Some(file) = path
            .file_name()
            .unwrap()
            .to_str()
            .unwrap()
            .strip_suffix(".png")
        else {
            continue;
        };
        let ours = p.load(&golden(&format!("preprocess/{file}"))).unwrap();
        let reference = p.normalise(&image::open(&path).unwrap().into_rgb8());
        let (mean, max) = mean_max_difference(&ours, &reference);
        assert!(
            mean <= 0.005 && max <= 0.1,
            "{file}: mean |Δ| {mean:.4}, max {max:.4}"
        );
        checked += 1;
    }
    assert_eq!(checked, 6);
}
