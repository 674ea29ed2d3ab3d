//! The image-encoding stage of a sweep (read, hash, decode, preprocess, encode; no cache)
//! against the raw ONNX Runtime session on pre-made tensors, same images, same batch size,
//! in one run: their ratio is how well decoding hides behind inference.
//!
//! ONTOSWEEP_BENCH_MODEL: model directory (default: the tiny test model);
//! ONTOSWEEP_BENCH_IMAGES: a folder of images (default: the committed mini set);
//! ONTOSWEEP_BENCH_LIMIT: at most this many images (default 128); ONTOSWEEP_BENCH_BATCH (32).

use std::path::{Path, PathBuf};
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use ontosweep_clip::{ImageEncoder, IoNames, ModelDir, Runtime, SessionOptions};
use ontosweep_sweep::{Silent, dataset, embed_files};

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn encode_stage(c: &mut Criterion) {
    let workspace = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let model = std::env::var_os("ONTOSWEEP_BENCH_MODEL")
        .map_or_else(|| workspace.join("models/clip-tiny-random"), PathBuf::from);
    let images = std::env::var_os("ONTOSWEEP_BENCH_IMAGES").map_or_else(
        || workspace.join("experiments/data/flowers-mini"),
        PathBuf::from,
    );
    let (limit, batch) = (
        env_or("ONTOSWEEP_BENCH_LIMIT", 128usize),
        env_or("ONTOSWEEP_BENCH_BATCH", 32usize),
    );
    let runtime = Runtime::load(Path::new(
        &std::env::var_os("ORT_DYLIB_PATH").expect("run with `cargo xtask bench`"),
    ))
    .unwrap();
    let model = ModelDir::open(&model).unwrap();
    let options = SessionOptions {
        intra_threads: env_or("ONTOSWEEP_BENCH_THREADS", 0),
        ..Default::default()
    };
    let mut encoder = ImageEncoder::new(runtime, &model, &IoNames::default(), options).unwrap();
    let paths: Vec<PathBuf> = dataset::scan_folder(&images, None)
        .unwrap()
        .images
        .to_vec()
        .unwrap()
        .into_iter()
        .take(limit)
        .map(|i| i.path)
        .collect();
    let tensors: Vec<Vec<f32>> = paths
        .iter()
        .map(|p| encoder.preprocessing().load(p).unwrap())
        .collect();

    let mut group = c.benchmark_group("encode_stage");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .throughput(Throughput::Elements(paths.len() as u64));
    group.bench_function(format!("raw_session_premade_tensors_batch{batch}"), |b| {
        b.iter(|| {
            for chunk in tensors.chunks(batch) {
                encoder.encode_batch(chunk.concat()).unwrap();
            }
        })
    });
    group.bench_function(format!("sweep_pipeline_batch{batch}"), |b| {
        b.iter(|| embed_files(&mut encoder, &paths, batch, &Silent).unwrap())
    });
    group.finish();
}

criterion_group!(benches, encode_stage);
criterion_main!(benches);
