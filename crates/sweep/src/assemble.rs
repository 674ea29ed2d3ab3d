//! The assemble stage: results and run metadata (what ran, where, how long) into the one
//! `SweepResults` the report reads.

use std::time::{SystemTime, UNIX_EPOCH};

use ontosweep_clip::{Ep, Runtime};
use ontosweep_dataset::ImageList;
use ontosweep_records::{RecordWriter, Records};
use ontosweep_results::{
    ImageRecord, PluginInfo, RunMetadata, RuntimeInfo, SkippedFile, Split, SweepResults, Timings,
};
use ontosweep_stats::{BOOTSTRAP_RESAMPLES, BOOTSTRAP_SEED};

use crate::embed::Embedded;
use crate::options::{SweepOptions, default_batch_size};
use crate::plan::Plan;
use crate::score::Scored;

/// Seconds each stage took, measured by the caller.
pub struct StageTimes {
    pub started_at_unix: u64,
    pub total: f64,
    /// From the start to the first image read: model resolution and planning.
    pub before_images: f64,
    pub scoring: f64,
}

/// Wall-clock seconds since 1970, for `run.json`.
pub fn now_unix() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// An image as the report knows it: its name, where its bytes are, its label.
/// The records of the images at `indices` (ascending), the list read a chunk at a time.
fn records(images: &ImageList, indices: &[usize]) -> std::io::Result<Records<ImageRecord>> {
    let mut records = RecordWriter::new();
    let mut wanted = indices.iter().peekable();
    for chunk in images.chunks() {
        let (start, chunk) = chunk?;
        for (k, image) in chunk.iter().enumerate() {
            if wanted.next_if(|&&i| i == start + k).is_some() {
                records.push(&image_record(image))?;
            }
        }
    }
    records.finish()
}

fn image_record(image: &ontosweep_dataset::DatasetImage) -> ImageRecord {
    ImageRecord {
        path: image.relative.clone(),
        source: image.path.display().to_string(),
        label: image.label,
        member: image.member,
    }
}

/// The ONNX Runtime that ran: version, library, threads, precision, and the OpenVINO plugin.
fn runtime_info(runtime: &Runtime, options: &SweepOptions) -> RuntimeInfo {
    RuntimeInfo {
        version: runtime.version().into(),
        library: runtime.library().display().to_string(),
        intra_op_threads: if options.session.intra_threads == 0 {
            std::thread::available_parallelism().map_or(1, |n| n.get())
        } else {
            options.session.intra_threads
        },
        precision: options.session.precision.to_string(),
        openvino_plugin: runtime.openvino().ok().map(|plugin| PluginInfo {
            version: plugin.version.clone(),
            library: plugin.library.display().to_string(),
        }),
    }
}

pub fn assemble(
    plan: Plan,
    embedded: Embedded,
    scored: Scored,
    runtime: &Runtime,
    options: &SweepOptions,
    times: StageTimes,
) -> std::io::Result<SweepResults> {
    let dataset = plan.dataset;
    let mut skipped = dataset.skipped.clone();
    for (&i, reason) in &embedded.failures {
        skipped.push(SkippedFile {
            path: dataset.images.get(i)?.relative,
            reason: reason.clone(),
        });
    }
    skipped.sort_by(|a, b| a.path.cmp(&b.path));
    let images = records(&dataset.images, &scored.kept)?;
    let split = match plan.experiment.split {
        Some(spec) => Some(Split {
            dev_fraction: spec.dev_fraction,
            seed: spec.seed,
            dev_images: records(&dataset.images, &scored.dev)?,
            warnings: scored.split_warnings.clone(),
        }),
        None => None,
    };
    let models: Vec<_> = embedded.models.into_iter().map(|m| m.info).collect();
    let run = RunMetadata {
        tool_version: env!("CARGO_PKG_VERSION").into(),
        started_at_unix: times.started_at_unix,
        experiment_file: plan.experiment.file.display().to_string(),
        dataset_root: dataset.root.display().to_string(),
        onnxruntime: runtime_info(runtime, options),
        batch_size: embedded
            .batch_size
            .or(options.batch_size)
            .unwrap_or(default_batch_size(Ep::Cpu)),
        bootstrap_resamples: BOOTSTRAP_RESAMPLES,
        bootstrap_seed: BOOTSTRAP_SEED,
        images_found: dataset.images.len() + dataset.skipped.len(),
        images_scored: images.len(),
        images_dev: scored.dev.len(),
        images_skipped: skipped.len(),
        classes_from: dataset.class_source.to_string(),
        shards: None, // the sweep adds what it found before encoding
        timings: Timings {
            total_seconds: times.total,
            scan_seconds: times.before_images,
            image_encode_seconds: embedded.image_seconds,
            images_encoded: models.iter().map(|m| m.images_encoded).sum(),
            text_encode_seconds: embedded.text_seconds,
            scoring_seconds: times.scoring,
            image_bytes_read: embedded.image_bytes_read,
        },
        models,
    };
    Ok(SweepResults {
        experiment: plan.experiment.name.clone(),
        benchmark_dataset: crate::benchmark::dataset_name(plan.experiment, dataset),
        classes: dataset.classes.clone(),
        baseline: plan.experiment.baseline.clone(),
        images,
        skipped,
        split,
        models: scored.models,
        run,
        all_probabilities: plan.experiment.report.all_probabilities,
        findings: plan
            .findings
            .iter()
            .chain(&scored.findings)
            .cloned()
            .collect(),
    })
}
