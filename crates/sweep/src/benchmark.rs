//! How CLIP_benchmark's result tables name the experiment's dataset, so that ontosweep's
//! rows land beside its own.

use ontosweep_dataset::Dataset;
use ontosweep_experiment::{Experiment, StandardKind};

/// `dataset.benchmark_name`, else CLIP_benchmark's name for a standard dataset (`wds/<name>`
/// for its export folder `wds_<name>`, `imagenet1k`, `cifar10`, `cifar100`, `food101`),
/// else the experiment's name.
pub fn dataset_name(experiment: &Experiment, dataset: &Dataset) -> String {
    let spec = &experiment.dataset;
    if let Some(name) = &spec.benchmark_name {
        return name.clone();
    }
    let folder_name = |path: &std::path::Path| {
        path.file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    };
    match spec.standard.as_ref().map(|s| (s.kind, &s.folder)) {
        Some((StandardKind::ClipBenchmark, folder)) => {
            let name = folder_name(folder);
            let name = name.strip_prefix("wds_").unwrap_or(&name);
            format!("wds/{name}")
        }
        Some((StandardKind::ImageNet, _)) => "imagenet1k".into(),
        Some((StandardKind::Cifar, _)) if folder_name(&dataset.root).contains("100") => {
            "cifar100".into()
        }
        Some((StandardKind::Cifar, _)) => "cifar10".into(),
        Some((StandardKind::Food101, _)) => "food101".into(),
        None => experiment.name.clone(),
    }
}
