//! `throughput`: image-encoding speed on real files, measured two ways in one run — the
//! raw ONNX Runtime session on tensors prepared beforehand, and the sweep's own pipeline
//! (read, hash, decode, preprocess, encode; no cache) — in interleaved rounds, so their
//! ratio is honest on a machine whose speed drifts.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use clap::Args;
use ontosweep_clip::{ImageEncoder, IoNames, ModelDir};
use ontosweep_sweep::{Silent, dataset, embed_files};
use serde_json::json;

use crate::session_args::SessionArgs;

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
    /// Interleaved rounds of (pipeline, raw session), the order flipping each round; the
    /// figures printed are the medians, with every round listed.
    #[arg(long, default_value_t = 3)]
    rounds: usize,
    #[command(flatten)]
    session: SessionArgs,
}

pub fn measure(args: ThroughputArgs) -> anyhow::Result<ExitCode> {
    let model = ModelDir::open(&args.model)?;
    let runtime = crate::runtime()?;
    args.session.prepare(runtime)?;
    let options = args.session.options();
    let mut encoder = ImageEncoder::new(runtime, &model, &IoNames::default(), options)?;
    let found = dataset::scan_folder(&args.images, None).map_err(anyhow::Error::msg)?;
    let paths: Vec<PathBuf> = found
        .images
        .to_vec()?
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
    let tensors = paths
        .iter()
        .map(|p| encoder.preprocessing().load(p))
        .collect::<Result<Vec<_>, _>>()?;

    // Interleaved rounds, the order flipping each round: this machine's speed drifts by
    // tens of percent within minutes, so only ratios taken side by side mean anything.
    let n = paths.len() as f64;
    let mut rounds = Vec::new();
    for round in 0..args.rounds.max(1) {
        let (pipeline, encoded, raw);
        if round % 2 == 0 {
            (pipeline, encoded) = time_pipeline(&mut encoder, &paths, batch)?;
            raw = time_raw(&mut encoder, &tensors, batch)?;
        } else {
            raw = time_raw(&mut encoder, &tensors, batch)?;
            (pipeline, encoded) = time_pipeline(&mut encoder, &paths, batch)?;
        }
        rounds.push(json!({
            "encoded": encoded,
            "raw_session_images_per_s": n / raw,
            "pipeline_images_per_s": n / pipeline,
            "pipeline_over_raw": raw / pipeline,
        }));
    }
    let median_of = |key: &str| median(rounds.iter().filter_map(|r| r[key].as_f64()).collect());
    println!(
        "{}",
        json!({
            "images": paths.len(),
            "batch": batch,
            "ep": encoder.ep().to_string(),
            "io_binding": options.io_binding,
            "precision": options.precision.to_string(),
            "model": args.model.display().to_string(),
            "raw_session_images_per_s": median_of("raw_session_images_per_s"),
            "pipeline_images_per_s": median_of("pipeline_images_per_s"),
            "pipeline_over_raw": median_of("pipeline_over_raw"),
            "rounds": rounds,
        })
    );
    Ok(ExitCode::SUCCESS)
}

/// Seconds the sweep's pipeline takes over the files, and how many it encoded.
fn time_pipeline(
    encoder: &mut ImageEncoder,
    paths: &[PathBuf],
    batch: usize,
) -> anyhow::Result<(f64, usize)> {
    let timer = Instant::now();
    let outcomes = embed_files(encoder, paths, batch, &Silent)?;
    Ok((timer.elapsed().as_secs_f64(), outcomes.len()))
}

/// Seconds the raw session takes over every prepared tensor.
fn time_raw(encoder: &mut ImageEncoder, tensors: &[Vec<f32>], batch: usize) -> anyhow::Result<f64> {
    let timer = Instant::now();
    for chunk in tensors.chunks(batch) {
        encoder.encode_batch(chunk.concat())?;
    }
    Ok(timer.elapsed().as_secs_f64())
}

/// The median (the mean of the middle two for an even count).
fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    match values.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => values[n / 2],
        n => (values[n / 2 - 1] + values[n / 2]) / 2.0,
    }
}

#[cfg(test)]
mod tests {
    use super::median;

    #[test]
    fn median_of_odd_and_even_counts() {
        assert_eq!(median(vec![3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(vec![4.0, 1.0, 3.0, 2.0]), 2.5);
        assert!(median(Vec::new()).is_nan());
    }
}
