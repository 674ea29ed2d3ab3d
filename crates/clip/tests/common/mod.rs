#![allow(dead_code)]

use std::path::PathBuf;

use ontosweep_clip::{ModelDir, Runtime};

pub fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

pub fn golden(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(path)
}

pub fn tiny_model() -> ModelDir {
    ModelDir::open(&workspace_root().join("models/clip-tiny-random")).unwrap()
}

/// The runtime `cargo xtask test` provisions; plain `cargo test` is told how to get one.
pub fn runtime() -> &'static Runtime {
    let path = std::env::var_os("ORT_DYLIB_PATH")
        .expect("ORT_DYLIB_PATH is not set: run the tests with `cargo xtask test`, which provisions ONNX Runtime");
    Runtime::load(&PathBuf::from(path)).unwrap()
}

pub fn cosine(a: &[f32], b: &[f32]) -> f64 {
    let dot: f64 = a
        .iter()
        .zip(b)
        .map(|(x, y)| f64::from(*x) * f64::from(*y))
        .sum();
    let norm = |v: &[f32]| v.iter().map(|x| f64::from(*x).powi(2)).sum::<f64>().sqrt();
    dot / (norm(a) * norm(b))
}

/// Mean and largest absolute difference between two tensors of the same length.
pub fn mean_max_difference(a: &[f32], b: &[f32]) -> (f64, f64) {
    assert_eq!(a.len(), b.len());
    let diffs = a.iter().zip(b).map(|(x, y)| f64::from((x - y).abs()));
    let (sum, max) = diffs.fold((0.0, 0.0f64), |(s, m), d| (s + d, m.max(d)));
    (sum / a.len() as f64, max)
}
