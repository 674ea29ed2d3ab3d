//! Encoder throughput (images/s, prompts/s), tokenisation and decode+preprocess.
//!
//! `cargo xtask bench` runs these on the tiny test model; set ONTOSWEEP_BENCH_MODEL to a
//! model directory (e.g. the full-size ViT-B/32 stand-in) for figures that matter, and
//! ONTOSWEEP_BENCH_IMAGES to a folder of JPEGs (default: the committed mini set).

use std::path::{Path, PathBuf};
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use ontosweep_clip::{
    ClipTokenizer, EpChoice, ImageEncoder, IoNames, ModelDir, Precision, Preprocessing, Runtime,
    SessionOptions, TextEncoder,
};

fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn model() -> ModelDir {
    let dir = std::env::var_os("ONTOSWEEP_BENCH_MODEL").map_or_else(
        || workspace().join("models/clip-tiny-random"),
        PathBuf::from,
    );
    ModelDir::open(&dir).unwrap()
}

fn runtime() -> &'static Runtime {
    let path =
        std::env::var_os("ORT_DYLIB_PATH").expect("run the benchmarks with `cargo xtask bench`");
    Runtime::load(Path::new(&path)).unwrap()
}

fn options() -> SessionOptions {
    let threads = std::env::var("ONTOSWEEP_BENCH_THREADS")
        .ok()
        .and_then(|t| t.parse().ok())
        .unwrap_or(0);
    SessionOptions {
        intra_threads: threads,
        ..Default::default()
    }
}

/// JPEGs to decode: ONTOSWEEP_BENCH_IMAGES, or the committed mini set.
pub fn bench_images() -> Vec<PathBuf> {
    let root = std::env::var_os("ONTOSWEEP_BENCH_IMAGES").map_or_else(
        || workspace().join("experiments/data/flowers-mini"),
        PathBuf::from,
    );
    let mut images = Vec::new();
    let mut stack = vec![root];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "jpg") {
                images.push(path);
            }
        }
    }
    images.sort();
    images
}

fn image_encoder(c: &mut Criterion) {
    let model = model();
    let mut encoder = ImageEncoder::new(runtime(), &model, &IoNames::default(), options()).unwrap();
    let tensor = encoder.preprocessing().load(&bench_images()[0]).unwrap();
    let batches: Vec<usize> = std::env::var("ONTOSWEEP_BENCH_BATCHES")
        .map(|b| b.split(',').filter_map(|n| n.trim().parse().ok()).collect())
        .unwrap_or_else(|_| vec![1, 8, 32, 64]);
    let mut group = c.benchmark_group("image_encoder");
    group.sample_size(10).warm_up_time(Duration::from_secs(2));
    for batch in batches {
        let pixels: Vec<f32> = tensor
            .iter()
            .copied()
            .cycle()
            .take(tensor.len() * batch)
            .collect();
        group.throughput(Throughput::Elements(batch as u64));
        group.bench_with_input(BenchmarkId::from_parameter(batch), &pixels, |b, pixels| {
            b.iter(|| encoder.encode_batch(pixels.clone()).unwrap())
        });
    }
    group.finish();
}

/// One batch (ONTOSWEEP_BENCH_BATCH, default 32) per provider, precision and IoBinding.
/// OpenVINO runs when `cargo xtask bench` provisioned its plugin and it offers a device
/// here (Intel CPUs); otherwise the reason is printed and the case skipped.
fn image_encoder_by_provider(c: &mut Criterion) {
    let model = model();
    let batch: usize = std::env::var("ONTOSWEEP_BENCH_BATCH")
        .ok()
        .and_then(|b| b.parse().ok())
        .unwrap_or(32);
    if let Some(plugin) = std::env::var_os("ONTOSWEEP_OPENVINO_PLUGIN")
        && let Err(e) = runtime().register_openvino(Path::new(&plugin))
    {
        eprintln!("OpenVINO cases skipped: {e}");
    }
    let cases = [
        ("cpu-fp32", EpChoice::Cpu, Precision::Fp32, false),
        ("cpu-fp32-iobinding", EpChoice::Cpu, Precision::Fp32, true),
        ("openvino-fp32", EpChoice::OpenVino, Precision::Fp32, false),
        ("openvino-bf16", EpChoice::OpenVino, Precision::Bf16, false),
    ];
    let mut group = c.benchmark_group("image_encoder_by_provider");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_secs(2))
        .throughput(Throughput::Elements(batch as u64));
    for (name, ep, precision, io_binding) in cases {
        let options = SessionOptions {
            ep,
            precision,
            io_binding,
            ..options()
        };
        let mut encoder = match ImageEncoder::new(runtime(), &model, &IoNames::default(), options) {
            Ok(encoder) => encoder,
            Err(e) => {
                eprintln!("{name} skipped: {e}");
                continue;
            }
        };
        let tensor = encoder.preprocessing().load(&bench_images()[0]).unwrap();
        let pixels = tensor.repeat(batch);
        group.bench_function(name, |b| {
            b.iter(|| encoder.encode_batch(pixels.clone()).unwrap())
        });
    }
    group.finish();
}

fn text_encoder(c: &mut Criterion) {
    let model = model();
    let tokenizer = ClipTokenizer::from_file(&model.tokenizer()).unwrap();
    let mut encoder = TextEncoder::new(runtime(), &model, &IoNames::default(), options()).unwrap();
    let short: Vec<_> = (0..16)
        .map(|i| {
            tokenizer
                .encode(&format!("a photo of a flower number {i}."))
                .unwrap()
        })
        .collect();
    let long: Vec<_> = (0..16)
        .map(|i| {
            tokenizer
                .encode(&format!("{i} {}", "a photo of a dandelion ".repeat(20)))
                .unwrap()
        })
        .collect();
    assert!(long.iter().all(|t| t.ids.len() == 77));
    let mut group = c.benchmark_group("text_encoder");
    group.sample_size(10).throughput(Throughput::Elements(16));
    group.bench_function("short_prompts_x16", |b| {
        b.iter(|| encoder.encode(&short, 16).unwrap())
    });
    group.bench_function("77_tokens_x16", |b| {
        b.iter(|| encoder.encode(&long, 16).unwrap())
    });
    group.finish();
}

fn tokenize(c: &mut Criterion) {
    let tokenizer = ClipTokenizer::from_file(&model().tokenizer()).unwrap();
    let prompts: Vec<String> = (0..100)
        .map(|i| format!("a close-up photo of a daisy, a type of flower, number {i}."))
        .collect();
    let mut group = c.benchmark_group("tokenize");
    group.throughput(Throughput::Elements(prompts.len() as u64));
    group.bench_function("100_prompts", |b| {
        b.iter(|| {
            prompts
                .iter()
                .map(|p| tokenizer.encode(p).unwrap())
                .collect::<Vec<_>>()
        })
    });
    group.finish();
}

fn preprocess(c: &mut Criterion) {
    let preprocessing = Preprocessing::from_config_file(&model().preprocessor_config()).unwrap();
    let images: Vec<(PathBuf, Vec<u8>)> = bench_images()
        .into_iter()
        .take(64)
        .map(|p| (p.clone(), std::fs::read(&p).unwrap()))
        .collect();
    let mut group = c.benchmark_group("decode_preprocess");
    group.throughput(Throughput::Elements(images.len() as u64));
    group.sample_size(10);
    group.bench_function("flower_jpegs_one_thread", |b| {
        b.iter(|| {
            images
                .iter()
                .map(|(p, bytes)| preprocessing.tensor_from_bytes(bytes, p).unwrap())
                .collect::<Vec<_>>()
        })
    });
    group.finish();
}

criterion_group!(
    benches,
    tokenize,
    preprocess,
    text_encoder,
    image_encoder,
    image_encoder_by_provider
);
criterion_main!(benches);
