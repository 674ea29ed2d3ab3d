//! `sweep --dry-run`'s plan, as printed: what a sweep would read, encode and write.

use std::fmt::Write as _;
use std::path::Path;

use ontosweep_sweep::dataset::Dataset;
use ontosweep_sweep::{DryRun, Experiment};

/// Class names listed before the rest are counted.
const CLASSES_SHOWN: usize = 20;
/// Reasons shown for images that cannot be read or were skipped.
const REASONS_SHOWN: usize = 5;

pub fn render(experiment: &Experiment, dataset: &Dataset, plan: &DryRun, out: &Path) -> String {
    let mut text = format!(
        "dry run of {}: the experiment checks out; no model was loaded into a session, nothing was downloaded or written\n\n",
        experiment.file.display()
    );
    dataset_lines(&mut text, dataset, plan, experiment.split.is_some());
    let _ = writeln!(text, "ontologies ({}):", plan.ontologies.len());
    for (name, prompts) in &plan.ontologies {
        let _ = writeln!(text, "  {name}: {prompts}");
    }
    let planned = plan.forecast.models.len() + plan.models_unavailable.len();
    let _ = writeln!(
        text,
        "models ({planned}), embeddings in the cache and to compute:"
    );
    for model in &plan.forecast.models {
        let _ = writeln!(
            text,
            "  {}: images {} cached, {} to encode; prompts {} cached, {} to encode",
            model.id,
            model.images_cached,
            model.images_to_encode,
            model.prompts_cached,
            model.prompts_to_encode
        );
    }
    for why in &plan.models_unavailable {
        let _ = writeln!(text, "  {why}");
    }
    for warning in &plan.warnings {
        let _ = writeln!(text, "{warning}");
    }
    let _ = writeln!(text, "report: would be written to {}", out.display());
    text
}

fn dataset_lines(text: &mut String, dataset: &Dataset, plan: &DryRun, split: bool) {
    let unreadable = &plan.forecast.unreadable;
    let skipped = dataset.skipped.len() + unreadable.len();
    let _ = writeln!(text, "dataset: {}", dataset.root.display());
    let _ = writeln!(
        text,
        "  {} samples found: {} to score{}, {skipped} skipped",
        dataset.images.len() + dataset.skipped.len(),
        dataset.images.len() - unreadable.len(),
        if split {
            " or hold out (the dev split)"
        } else {
            ""
        },
    );
    let mut unreadable_names = Vec::new();
    for (i, why) in unreadable.iter().take(REASONS_SHOWN) {
        let name = dataset.images.get(*i).map_or_else(
            |e| format!("image {i} (its name could not be read back: {e})"),
            |image| image.relative,
        );
        unreadable_names.push((name, why.as_str()));
    }
    let reasons = dataset
        .skipped
        .iter()
        .map(|s| (s.path.as_str(), s.reason.as_str()))
        .chain(
            unreadable_names
                .iter()
                .map(|(path, why)| (path.as_str(), *why)),
        );
    for (path, why) in reasons.take(REASONS_SHOWN) {
        let _ = writeln!(text, "    {path}: {why}");
    }
    if skipped > REASONS_SHOWN {
        let _ = writeln!(text, "    … {} more", skipped - REASONS_SHOWN);
    }
    let classes = &dataset.classes;
    let mut shown = classes
        .iter()
        .take(CLASSES_SHOWN)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    if classes.len() > CLASSES_SHOWN {
        let _ = write!(shown, ", … {} more", classes.len() - CLASSES_SHOWN);
    }
    let _ = writeln!(
        text,
        "  {} candidate classes, declared by {}: {shown}",
        classes.len(),
        dataset.class_source
    );
}
