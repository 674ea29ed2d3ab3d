//! `suite`: several experiments run in turn (each writes its own report, as `sweep` does),
//! then one table across their datasets, models and ontologies.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;
use ontosweep_experiment::Suite;
use ontosweep_sweep::Experiment;

use crate::sweep::{Ran, RunFlags, SweepArgs, cache_dir, project_root, run};

#[derive(Args)]
pub struct SuiteArgs {
    /// The suite file (YAML): `name:`, and `experiments:` (experiment files, relative to it).
    file: PathBuf,
    #[command(flatten)]
    run: RunFlags,
}

pub fn suite_command(args: SuiteArgs) -> anyhow::Result<ExitCode> {
    let suite = Suite::load(&args.file)?;
    let root = project_root();
    let reports = root.join("reports");
    let out = reports.join(&suite.name);
    ontosweep_report::check_replaceable(&out)
        .with_context(|| format!("writing the suite's table to {}", out.display()))?;
    let names = report_names(&suite)?;
    let progress: &'static crate::progress::Bars = Box::leak(Box::default());
    crate::interrupt::say_what_is_kept_on_ctrl_c(crate::interrupt::Kept {
        progress,
        cache: cache_dir(&args.run, &root),
        shard: false,
    })?;
    let mut rows = Vec::new();
    let mut failed = Vec::new();
    for (index, (file, name)) in suite.experiments.iter().zip(&names).enumerate() {
        eprintln!(
            "suite {}: experiment {} of {}: {}",
            suite.name,
            index + 1,
            names.len(),
            file.display()
        );
        let sweep = SweepArgs::in_suite(file.clone(), args.run.clone());
        match run(&sweep, progress, false) {
            Ok(Ran {
                report: Some((results, _)),
                ..
            }) => rows.extend(ontosweep_report::suite_rows(
                &results,
                &format!("../{name}/index.html"),
            )),
            Ok(_) => failed.push((file.display().to_string(), "no report was written".into())),
            Err(error) => {
                let message = format!("{:#}", crate::hints::with_hints(error));
                eprintln!("error: {}", ontosweep_clip::echo::fit_lines(&message));
                let first = message.lines().next().unwrap_or_default().to_string();
                failed.push((file.display().to_string(), first));
            }
        }
    }
    ontosweep_report::write_suite(&suite.name, &rows, &failed, &out)
        .with_context(|| format!("writing the suite's table to {}", out.display()))?;
    println!(
        "suite {}: {} experiment(s) reported, {} failed; table: {}",
        suite.name,
        names.len() - failed.len(),
        failed.len(),
        out.join("index.html").display()
    );
    Ok(if failed.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// Every experiment file checked before any runs, and their report folders (named by the
/// experiments) distinct from each other and from the suite's.
fn report_names(suite: &Suite) -> anyhow::Result<Vec<String>> {
    let mut names: BTreeMap<String, &PathBuf> = BTreeMap::new();
    let mut in_order = Vec::new();
    for file in &suite.experiments {
        let experiment = Experiment::load(file)?;
        let name = experiment.name;
        if name == suite.name {
            anyhow::bail!(
                "{}: experiment {} is named `{name}` like the suite, so both would write reports/{name}/; rename one",
                suite.file.display(),
                file.display()
            );
        }
        if let Some(other) = names.insert(name.clone(), file) {
            anyhow::bail!(
                "{}: {} and {} are both named `{name}`: their reports would overwrite each other; rename one",
                suite.file.display(),
                other.display(),
                file.display()
            );
        }
        in_order.push(name);
    }
    Ok(in_order)
}
