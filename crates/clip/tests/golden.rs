//! The reason this crate exists: agreement with OpenAI's reference implementation.

mod common;

use common::{cosine, golden, runtime, tiny_model};
use ontosweep_clip::{
    ClipTokenizer, ImageEncoder, IoNames, Preprocessing, SessionOptions, TextEncoder, Tokens,
};
use serde_json::Value;

fn json(path: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(golden(path)).unwrap()).unwrap()
}

#[test]
fn token_ids_equal_the_reference_for_every_golden_prompt() {
    let tokenizer = ClipTokenizer::from_file(&tiny_model().tokenizer()).unwrap();
    let cases = json("tokens.json");
    let mut mismatches = Vec::new();
    for case in cases.as_array().unwrap() {
        let text = case["text"].as_str().unwrap();
        let expected: Vec<i64> = case["openai_ids"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_i64().unwrap())
            .collect();
        let tokens = tokenizer.encode(text).unwrap();
        if tokens.ids != expected || tokens.truncated != case["truncated"].as_bool().unwrap() {
            mismatches.push(format!(
                "{text:?}: got {:?}, expected {expected:?}",
                tokens.ids
            ));
        }
    }
    assert_eq!(cases.as_array().unwrap().len(), 61);
    assert!(
        mismatches.is_empty(),
        "{} prompts differ:\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );
}

#[test]
fn long_prompts_are_truncated_with_the_end_token_last() {
    let tokenizer = ClipTokenizer::from_file(&tiny_model().tokenizer()).unwrap();
    let tokens = tokenizer
        .encode(&"a photo of a dandelion ".repeat(30))
        .unwrap();
    assert!(tokens.truncated);
    assert_eq!(tokens.ids.len(), 77);
    assert_eq!(tokens.ids[0], 49406);
    assert_eq!(tokens.ids[76], 49407);
    assert!(!tokenizer.encode("a photo").unwrap().truncated);
}

fn read_crop_png(name: &str) -> image::RgbImage {
    image::open(golden(&format!("preprocess/{name}")))
        .unwrap()
        .into_rgb8()
}

/// Each model input value, turned back into an 8-bit level (`(x·std + mean) / rescale`), is
/// within one level of the reference crop's: the tensor carries the reference pixels, not
/// just a crop that matched before normalising.
#[test]
fn every_model_input_is_within_one_level_of_the_reference() {
    let p = Preprocessing::from_config_file(&tiny_model().preprocessor_config()).unwrap();
    let normalize = p.normalize.expect("CLIP normalises");
    let rescale = p.rescale_factor.expect("CLIP rescales");
    let cases = json("preprocess/cases.json");
    let mut report = Vec::new();
    for case in cases.as_array().unwrap() {
        let file = case["file"].as_str().unwrap();
        let ours = p.load(&golden(&format!("preprocess/{file}"))).unwrap();
        let reference = read_crop_png(case["expected_crop"].as_str().unwrap());
        let (width, height) = reference.dimensions();
        let plane = (width * height) as usize;
        assert_eq!(
            ours.len(),
            3 * plane,
            "{file}: a CHW tensor of the crop's size"
        );
        let mut largest = 0f32;
        for (i, &value) in ours.iter().enumerate() {
            let (channel, at) = (i / plane, i % plane);
            let level = (value * normalize.std[channel] + normalize.mean[channel]) / rescale;
            let wanted = reference.as_raw()[at * 3 + channel];
            largest = largest.max((level - f32::from(wanted)).abs());
        }
        if largest >= 1.0 {
            report.push(format!("{file}: {largest:.3} levels away"));
        }
    }
    assert_eq!(cases.as_array().unwrap().len(), 16);
    assert!(report.is_empty(), "{}", report.join("\n"));
}

/// Every model input is the reference pipeline's (Pillow decode, `convert("RGB")`, Pillow's
/// bicubic resize, centre crop), JPEG included: the 8-bit crop equals the reference crop
/// byte for byte, so the tensors differ only by float rounding.
#[test]
fn every_crop_equals_the_reference_crop() {
    let p = Preprocessing::from_config_file(&tiny_model().preprocessor_config()).unwrap();
    let cases = json("preprocess/cases.json");
    let mut report = Vec::new();
    for case in cases.as_array().unwrap() {
        let file = case["file"].as_str().unwrap();
        let path = golden(&format!("preprocess/{file}"));
        let decoded = p.decode(&std::fs::read(&path).unwrap(), &path).unwrap();
        let ours = p.crop(&decoded).unwrap();
        let reference = read_crop_png(case["expected_crop"].as_str().unwrap());
        let differing = ours
            .as_raw()
            .iter()
            .zip(reference.as_raw())
            .filter(|(a, b)| a != b)
            .count();
        if ours.dimensions() != reference.dimensions() || differing > 0 {
            report.push(format!("{file}: {differing} values differ"));
        }
    }
    assert_eq!(cases.as_array().unwrap().len(), 16);
    assert!(report.is_empty(), "{}", report.join("\n"));
}

#[test]
fn text_embeddings_match_pytorch() {
    let model = tiny_model();
    let mut encoder = TextEncoder::new(
        runtime(),
        &model,
        &IoNames::default(),
        SessionOptions::default(),
    )
    .unwrap();
    let tokenizer = ClipTokenizer::from_file(&model.tokenizer()).unwrap();
    let cases = json("embeddings/clip-tiny-random.json");
    let texts = cases["texts"].as_array().unwrap();
    let tokens: Vec<Tokens> = texts
        .iter()
        .map(|t| tokenizer.encode(t["text"].as_str().unwrap()).unwrap())
        .collect();
    // Mixed lengths in one batch: trimming to the longest prompt must not change anything.
    let embeddings = encoder.encode(&tokens, 16).unwrap();
    for (case, ours) in texts.iter().zip(&embeddings) {
        let reference: Vec<f32> = serde_json::from_value(case["embedding"].clone()).unwrap();
        let c = cosine(ours, &reference);
        assert!(c >= 0.9999, "{:?}: cosine {c}", case["text"]);
    }
    assert_eq!(embeddings.len(), 40);
}

#[test]
fn image_embeddings_match_pytorch() {
    let model = tiny_model();
    let mut encoder = ImageEncoder::new(
        runtime(),
        &model,
        &IoNames::default(),
        SessionOptions::default(),
    )
    .unwrap();
    let cases = json("embeddings/clip-tiny-random.json");
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
    for (case, ours) in images.iter().zip(&embeddings) {
        let reference: Vec<f32> = serde_json::from_value(case["embedding"].clone()).unwrap();
        let c = cosine(ours, &reference);
        assert!(c >= 0.9999, "{:?}: cosine {c}", case["file"]);
    }
    assert_eq!(embeddings.len(), 16);
}
