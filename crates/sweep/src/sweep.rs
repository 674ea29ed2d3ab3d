//! One sweep, start to finish, as a composition of stages, each with a typed hand-off:
//! plan (what to compute) → embed (images and prompts, through the cache) → score (pure)
//! → assemble (results and run metadata).

use std::time::Instant;

use ontosweep_clip::Runtime;
use ontosweep_dataset::Dataset;
use ontosweep_experiment::Experiment;
use ontosweep_models::Progress;
use ontosweep_results::SweepResults;

use crate::assemble::{StageTimes, assemble, now_unix};
use crate::embed::embed;
use crate::error::SweepError;
use crate::options::SweepOptions;
use crate::score::score;
use crate::setup::{embed_settings, open_cache, plan};
use crate::shard_run::check_shard_records;

/// The results, and warnings the user should read (truncated prompts, cache trouble).
pub struct SweepOutcome {
    pub results: SweepResults,
    pub warnings: Vec<String>,
}

/// Runs the sweep over `dataset`, which [`crate::load_dataset`] made from this experiment (checked
/// before any model is loaded).
pub fn sweep(
    experiment: &Experiment,
    dataset: &Dataset,
    runtime: &Runtime,
    options: &SweepOptions,
    progress: &dyn Progress,
) -> Result<SweepOutcome, SweepError> {
    let started = Instant::now();
    let started_at_unix = now_unix();
    let cache = open_cache(options.cache_dir.as_deref())?;
    let plan = plan(experiment, dataset, options, cache.as_ref(), progress)?;
    let shards = check_shard_records(&plan, options, cache.as_ref(), progress)?;
    let before_images = started.elapsed().as_secs_f64();
    let settings = embed_settings(runtime, options, cache.as_ref(), None);
    let embedded = embed(&plan, &settings, progress)?;
    let scoring = Instant::now();
    let scored = score(&plan, &embedded)?;
    let scoring = scoring.elapsed().as_secs_f64();
    let mut warnings = plan.warnings.clone();
    warnings.extend(embedded.warnings.iter().cloned());
    warnings.extend(
        scored
            .findings
            .iter()
            .map(crate::prompt_checks::finding_line),
    );
    warnings.extend(
        scored
            .split_warnings
            .iter()
            .map(|w| format!("{}: warning: {w}", experiment.file.display())),
    );
    let times = StageTimes {
        started_at_unix,
        total: started.elapsed().as_secs_f64(),
        before_images,
        scoring,
    };
    let mut results = assemble(plan, embedded, scored, runtime, options, times)
        .map_err(|e| SweepError::Clip(crate::embed::storage_error(e)))?;
    results.run.shards = shards;
    account_for_every_sample(&results)?;
    Ok(SweepOutcome { results, warnings })
}

/// Every sample found is scored, held out for a search, or listed as skipped; a run that
/// scored nothing measured nothing.
fn account_for_every_sample(results: &SweepResults) -> Result<(), SweepError> {
    let run = &results.run;
    let accounted = run.images_scored + run.images_dev + run.images_skipped;
    if accounted != run.images_found {
        return Err(SweepError::Samples(format!(
            "internal error: {} samples found but {accounted} accounted for ({} scored, {} dev, {} skipped); please report this",
            run.images_found, run.images_scored, run.images_dev, run.images_skipped
        )));
    }
    if run.images_scored == 0 {
        let reasons: Vec<String> = results
            .skipped
            .iter()
            .take(5)
            .map(|s| format!("  {}: {}", s.path, s.reason))
            .collect();
        return Err(SweepError::Samples(format!(
            "no image could be scored ({} found, {} skipped, {} held out for the search); the first reasons:\n{}",
            run.images_found,
            run.images_skipped,
            run.images_dev,
            reasons.join("\n")
        )));
    }
    Ok(())
}
