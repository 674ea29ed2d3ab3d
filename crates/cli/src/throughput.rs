//! `throughput`: image-encoding speed on real files, measured two ways in one run — the
//! raw ONNX Runtime session on tensors prepared beforehand, and the sweep's own pipeline
//! (read, hash, decode, preprocess, encode; no cache) — so their ratio is honest.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use clap::Args;
use ontosweep_clip::{EpChoice, ImageEncoder, IoNames, ModelDir, SessionOptions};
use ontosweep_sweep::{Silent, dataset, embed_files};
use serde_json::json;

#[derive(Args)]
pub struct ThroughputArgs {
    /// Model directory (Hugging Face ONNX layout).
    #[arg(long)]
    model: PathBuf,
    /// A folder with one sub-folder per class.
    #[arg(long)]
    images: PathBuf,
    /// Images per encoder call.
    #[arg(long, default_value_t = 32)]
    batch: usize,
    /// Use at most this many images.
    #[arg(long)]
    limit: Option<usize>,
    /// Execution provider: auto, cpu or cuda.
    #[arg(long, default_value = "auto")]
    ep: EpChoice,
    /// ONNX Runtime intra-op threads [default: one per core].
    #[arg(long)]
    threads: Option<usize>,
}

pub fn measure(args: ThroughputArgs) -> anyhow::Result<ExitCode> {
    let model = ModelDir::open(&args.model)?;
    let options = SessionOptions {
        ep: args.ep,
        intra_threads: args.threads.unwrap_or(0),
    };
    let mut encoder = ImageEncoder::new(crate::runtime()?, &model, &IoNames::default(), options)?;
    let found = dataset::scan_folder(&args.images, None).map_err(anyhow::Error::msg)?;
    let paths: Vec<PathBuf> = found
        .images
        .into_iter()
        .take(args.limit.unwrap_or(usize::MAX))
        .map(|i| i.path)
        .collect();
    let Some(first) = paths.first() else {
        anyhow::bail!(
            "no images to time: {} has no image files{}",
            args.images.display(),
            if args.limit == Some(0) {
                " (or --limit is 0)"
            } else {
                ""
            }
        );
    };
    let batch = args.batch.max(1);
    // Warm-up: the first run of a session allocates and plans.
    encoder.encode_batch(encoder.preprocessing().load(first)?.repeat(batch))?;

    let timer = Instant::now();
    let outcomes = embed_files(&mut encoder, &paths, batch, &Silent)?;
    let pipeline = timer.elapsed().as_secs_f64();

    let tensors = paths
        .iter()
        .map(|p| encoder.preprocessing().load(p))
        .collect::<Result<Vec<_>, _>>()?;
    let timer = Instant::now();
    for chunk in tensors.chunks(batch) {
        encoder.encode_batch(chunk.concat())?;
    }
    let raw = timer.elapsed().as_secs_f64();
    let n = paths.len() as f64;
    println!(
        "{}",
        json!({
            "images": paths.len(),
            "encoded": outcomes.len(),
            "batch": batch,
            "ep": encoder.ep().to_string(),
            "raw_session_images_per_s": n / raw,
            "pipeline_images_per_s": n / pipeline,
            "pipeline_over_raw": raw / pipeline,
        })
    );
    Ok(ExitCode::SUCCESS)
}
