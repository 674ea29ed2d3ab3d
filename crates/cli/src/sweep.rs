//! `sweep`: run an experiment and write its report.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;
use ontosweep_clip::Precision;
use ontosweep_report::HeadlineCopy;
use ontosweep_results::SweepResults;
use ontosweep_sweep::shard::{Shard, ShardExt};
use ontosweep_sweep::{Experiment, SweepOptions};

#[derive(Args)]
pub struct SweepArgs {
    /// The experiment file (YAML).
    file: PathBuf,
    /// Where the dataset lives (replaces `dataset.root`, or a standard dataset's folder).
    #[arg(long)]
    data_root: Option<PathBuf>,
    /// Report folder [default: <project>/reports/<experiment name>].
    #[arg(long)]
    out: Option<PathBuf>,
    /// Encode only shard I of N (from 0) of the images, and the prompts, into the cache;
    /// write `<out>/shards/shard-I-of-N-<key>.json` and no report. `auto`: from Slurm's array task
    /// or a Kubernetes Indexed Job (with ONTOSWEEP_SHARD_COUNT).
    #[arg(long, value_name = "I/N|auto")]
    shard: Option<String>,
    /// Print each ontology's prompts per class, templates and names applied, before encoding.
    #[arg(long)]
    show_prompts: bool,
    /// Check the experiment and print the plan (classes, prompts per ontology, images found,
    /// embeddings cached and to compute per model), then exit: no model is loaded into a
    /// session, nothing is downloaded or written.
    #[arg(long, conflicts_with = "shard")]
    dry_run: bool,
    #[command(flatten)]
    run: RunFlags,
}

/// How every sweep runs, whether alone or in a suite.
#[derive(Args, Clone)]
pub struct RunFlags {
    /// Use this model directory in place of the file's `models`.
    #[arg(long)]
    model_dir: Option<PathBuf>,
    /// Where `<id>.yaml` model descriptions are [default: <project>/models].
    #[arg(long)]
    models_dir: Option<PathBuf>,
    #[command(flatten)]
    session: crate::session_args::SessionArgs,
    /// Images per encoder call [default: 32 on CPU, 256 on CUDA].
    #[arg(long)]
    batch: Option<usize>,
    /// Embedding cache folder [default: <project>/.cache/embeddings].
    #[arg(long)]
    cache_dir: Option<PathBuf>,
    /// Encode everything afresh and store nothing.
    #[arg(long, conflicts_with = "cache_dir")]
    no_cache: bool,
    /// Write every class's probability for every image as `probabilities_<model>_<ontology>.npy`
    /// (as the experiment's `report: {all_probabilities: true}`); holds images × classes × 4
    /// bytes per model and ontology in memory.
    #[arg(long)]
    all_probabilities: bool,
}

impl SweepArgs {
    /// A suite's sweep of `file`: its report in the default place, nothing printed beyond
    /// what a sweep prints.
    pub(crate) fn in_suite(file: PathBuf, run: RunFlags) -> Self {
        SweepArgs {
            file,
            data_root: None,
            out: None,
            shard: None,
            show_prompts: false,
            dry_run: false,
            run,
        }
    }
}

/// The project folder: `ONTOSWEEP_HOME` (set by `cargo xtask`), else the current folder.
pub fn project_root() -> PathBuf {
    std::env::var_os("ONTOSWEEP_HOME").map_or_else(|| PathBuf::from("."), PathBuf::from)
}

/// Runs the experiment in `args.file` and writes its report.
pub fn sweep_command(args: SweepArgs) -> anyhow::Result<ExitCode> {
    let progress: &'static crate::progress::Bars = Box::leak(Box::default());
    Ok(run(&args, progress, true)?.code)
}

/// What one sweep did: its exit code, and the results and report folder when it wrote one.
pub(crate) struct Ran {
    pub(crate) code: ExitCode,
    pub(crate) report: Option<(SweepResults, PathBuf)>,
}

impl Ran {
    fn code(code: ExitCode) -> Self {
        Ran { code, report: None }
    }
}

/// One sweep as `sweep` runs it; `watch_ctrl_c`: say what was kept when interrupted (a
/// suite watches once for all its sweeps).
pub(crate) fn run(
    args: &SweepArgs,
    progress: &'static crate::progress::Bars,
    watch_ctrl_c: bool,
) -> anyhow::Result<Ran> {
    let mut experiment = Experiment::load_with_data_root(&args.file, args.data_root.as_deref())?;
    experiment.report.all_probabilities |= args.run.all_probabilities;
    let shard = parse_shard(args.shard.as_deref())?;
    let root = project_root();
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| root.join("reports").join(&experiment.name));
    let options = sweep_options(args, &root, &out);
    // Refuse a report folder that is not ours before any work, not after an hour of it.
    ontosweep_report::check_replaceable(&out)
        .with_context(|| format!("writing the report to {}", out.display()))?;
    if watch_ctrl_c && !args.dry_run {
        crate::interrupt::say_what_is_kept_on_ctrl_c(crate::interrupt::Kept {
            progress,
            cache: options.cache_dir.clone(),
            shard: shard.is_some(),
        })?;
    }
    if args.dry_run
        && let Some((name, folder)) =
            ontosweep_sweep::dataset_to_fetch(&experiment, args.data_root.as_deref())
    {
        println!(
            "dry run of {}: the dataset `{name}` is not downloaded yet; a sweep fetches it into {} first, then plans. Nothing was fetched or written",
            experiment.file.display(),
            folder.display()
        );
        return Ok(Ran::code(ExitCode::SUCCESS));
    }
    // Validate the dataset against the ontologies before loading any model.
    let dataset =
        ontosweep_sweep::load_dataset(&mut experiment, args.data_root.as_deref(), progress)?;
    for warning in &dataset.warnings {
        say(warning);
    }
    if args.show_prompts {
        print!("{}", show_prompts(&experiment, &dataset.classes));
    }
    refuse_report_inside_dataset(&out, &dataset.root)?;
    let runtime = crate::runtime()?;
    // `--model-dir` replaces the experiment's models, and with them their precisions.
    let bf16_entry = (options.model_override.is_none()
        && experiment
            .models
            .iter()
            .any(|m| m.precision == Some(Precision::Bf16)))
    .then_some(experiment.file.as_path());
    args.run.session.prepare_for(runtime, bf16_entry)?;
    if args.dry_run {
        let plan = ontosweep_sweep::dry_run(&experiment, &dataset, runtime, &options, progress)?;
        print!(
            "{}",
            crate::dry_run::render(&experiment, &dataset, &plan, &out)
        );
        return Ok(Ran::code(ExitCode::SUCCESS));
    }
    if let Some(shard) = shard {
        let code = encode_shard(
            &experiment,
            &dataset,
            runtime,
            &options,
            shard,
            &out,
            progress,
        )?;
        return Ok(Ran::code(code));
    }
    let outcome = ontosweep_sweep::sweep(&experiment, &dataset, runtime, &options, progress)?;
    for warning in &outcome.warnings {
        say(warning);
    }
    let code = write_report(args, &experiment, &outcome.results, &root, &out)?;
    Ok(Ran {
        code,
        report: Some((outcome.results, out)),
    })
}

/// A warning or note for the user, each line of it capped.
fn say(message: &str) {
    eprintln!("{}", ontosweep_clip::echo::fit_lines(message));
}

fn parse_shard(text: Option<&str>) -> anyhow::Result<Option<Shard>> {
    Ok(match text {
        None => None,
        Some("auto") => {
            Some(Shard::from_env(|name| std::env::var(name).ok()).map_err(anyhow::Error::msg)?)
        }
        Some(text) => Some(Shard::parse(text).map_err(anyhow::Error::msg)?),
    })
}

/// The embedding cache: `--cache-dir`, else the project's; none with `--no-cache`.
pub(crate) fn cache_dir(run: &RunFlags, root: &Path) -> Option<PathBuf> {
    if run.no_cache {
        return None;
    }
    Some(
        run.cache_dir
            .clone()
            .unwrap_or_else(|| root.join(".cache/embeddings")),
    )
}

fn sweep_options(args: &SweepArgs, root: &Path, out: &Path) -> SweepOptions {
    SweepOptions {
        model_override: args.run.model_dir.clone(),
        model_registry: args
            .run
            .models_dir
            .clone()
            .unwrap_or_else(|| root.join("models")),
        session: args.run.session.options(),
        batch_size: args.run.batch.map(|b| b.max(1)),
        cache_dir: cache_dir(&args.run, root),
        report_dir: Some(out.to_path_buf()),
    }
}

/// The report, the headline chart's copy beside the reports, and the tables on stdout.
fn write_report(
    args: &SweepArgs,
    experiment: &Experiment,
    results: &SweepResults,
    root: &Path,
    out: &Path,
) -> anyhow::Result<ExitCode> {
    print_summary(results);
    let report_started = std::time::Instant::now();
    let files = ontosweep_report::write_report(results, out)
        .with_context(|| format!("writing the report to {}", out.display()))?;
    let report_seconds = report_started.elapsed().as_secs_f64();
    if args.out.is_none() {
        let target = root
            .join("reports")
            .join(format!("{}.svg", experiment.name));
        let copy = ontosweep_report::copy_headline_chart(out, &target)
            .with_context(|| format!("copying the headline chart to {}", target.display()))?;
        if copy == HeadlineCopy::LeftAlone {
            eprintln!(
                "warning: {} was not written by ontosweep, so it was left as it is; the chart is in the report folder",
                target.display()
            );
        }
    }
    println!("{}", crate::table::render(results));
    let verdicts = ontosweep_report::noise_verdicts(results);
    if !verdicts.is_empty() {
        println!("\nagainst the controls:");
        for line in verdicts {
            println!("  {line}");
        }
    }
    if let Some(searches) = crate::searches::render(results) {
        println!("\n{searches}");
    }
    println!(
        "\nreport: {} ({} files, written in {report_seconds:.1} s)",
        out.join("index.html").display(),
        files.len()
    );
    Ok(ExitCode::SUCCESS)
}

/// Every ontology's prompts per class as the encoder will see them (a search: what it
/// chooses from).
fn show_prompts(experiment: &Experiment, classes: &[String]) -> String {
    use ontosweep_experiment::OntologyKind;
    let mut out = String::new();
    for ontology in &experiment.ontologies {
        out.push_str(&format!("{}:\n", ontology.name));
        match &ontology.kind {
            OntologyKind::Written(written) => {
                for class in classes {
                    let quoted: Vec<String> = written
                        .prompts_for(class)
                        .iter()
                        .map(|p| format!("{p:?}"))
                        .collect();
                    out.push_str(&format!("  {class}: {}\n", quoted.join(", ")));
                }
            }
            OntologyKind::Search(search) => {
                out.push_str(&format!(
                    "  searched on the dev split: up to {} of {} templates, applied to\n",
                    search.max_templates,
                    search.templates.len()
                ));
                for class in classes {
                    out.push_str(&format!(
                        "  {class}: {}\n",
                        search.names_for(class).join(" | ")
                    ));
                }
            }
        }
    }
    out
}

/// A shard run: its images and every prompt into the cache, and its record; no report.
fn encode_shard(
    experiment: &Experiment,
    dataset: &ontosweep_sweep::dataset::Dataset,
    runtime: &ontosweep_clip::Runtime,
    options: &SweepOptions,
    shard: Shard,
    out: &Path,
    progress: &crate::progress::Bars,
) -> anyhow::Result<ExitCode> {
    let (record, warnings) =
        ontosweep_sweep::encode_shard(experiment, dataset, runtime, options, shard, progress)?;
    for warning in &warnings {
        say(warning);
    }
    let path = ontosweep_sweep::shard::write_record(&record, out).map_err(anyhow::Error::msg)?;
    println!(
        "shard {} of {}: {} of {} images, {} embeddings encoded, {} from the cache, {} unreadable; record: {}",
        shard.index,
        shard.count,
        record.images_in_shard,
        record.images_total,
        record.encoded,
        record.from_cache,
        record.failed,
        path.display()
    );
    println!(
        "when every shard is done, run the same sweep without --shard (same --cache-dir, --out, --ep and --precision) to write the report"
    );
    Ok(ExitCode::SUCCESS)
}

/// What the run did, on stderr before the report is written: the providers each model ran
/// on and how much came from the cache, agreement with a reference model, skipped files.
fn print_summary(results: &SweepResults) {
    let tower = |name: &str, ep: &str, cached_from: &[String]| match (ep, cached_from) {
        (_, []) => format!("{name} on {ep}"),
        ("cache", from) => format!("{name} from the cache (computed with {})", from.join("; ")),
        (_, from) => format!(
            "{name} on {ep} (cached ones computed with {})",
            from.join("; ")
        ),
    };
    for model in &results.run.models {
        eprintln!(
            "{}: {}, {}; {} images encoded, {} from cache",
            model.id,
            tower("vision", &model.vision_ep, &model.vision_cached_from),
            tower("text", &model.text_ep, &model.text_cached_from),
            model.images_encoded,
            model.images_from_cache
        );
    }
    for model in &results.models {
        if let Some(a) = &model.vs_reference {
            let agreement: Vec<String> = model
                .ontologies
                .iter()
                .zip(&a.prediction_agreement)
                .map(|(o, s)| format!("{} {:.1}%", o.ontology, 100.0 * s))
                .collect();
            eprintln!(
                "{} against {}: image embedding cosine mean {:.4} (lowest {:.4}); same prediction: {}",
                model.model,
                a.reference,
                a.image_cosine_mean,
                a.image_cosine_min,
                agreement.join(", ")
            );
        }
    }
    if let Some(check) = &results.run.shards
        && let Some(count) = check.count
    {
        // Problems were warned of before encoding; this is the tally beside the other counts.
        eprintln!(
            "shards: {} of {count} ran, covering {} of {} images",
            check.done.len(),
            check.images_covered,
            check.images_total
        );
    }
    let run = &results.run;
    let held_out = match run.images_dev {
        0 => String::new(),
        n => format!(", {n} held out for the search (dev split)"),
    };
    eprintln!(
        "{} samples found: {} scored{held_out}, {} skipped{}; {} candidate classes, declared by {}",
        run.images_found,
        run.images_scored,
        run.images_skipped,
        if run.images_skipped > 0 {
            " (listed with their reasons in skipped.csv)"
        } else {
            ""
        },
        results.classes.len(),
        run.classes_from
    );
}

/// A report inside the dataset would be read as part of it on the next run.
fn refuse_report_inside_dataset(out: &Path, dataset_root: &Path) -> anyhow::Result<()> {
    let (Some(out), Ok(data)) = (resolved(out), dataset_root.canonicalize()) else {
        anyhow::bail!(
            "cannot tell where the report folder {} would be; name it with a plain path",
            out.display()
        );
    };
    if out.starts_with(&data) {
        anyhow::bail!(
            "the report folder {} is inside the dataset folder {}: its files would be read as images of a class. Name a folder outside it with --out",
            out.display(),
            data.display()
        );
    }
    Ok(())
}

/// Where `path` leads, as the kernel would walk it: links followed where they exist, `..`
/// taken after them, the missing rest kept as written.
fn resolved(path: &Path) -> Option<PathBuf> {
    let mut walked = PathBuf::new();
    for part in std::path::absolute(path).ok()?.components() {
        match part {
            std::path::Component::ParentDir => {
                walked.pop();
            }
            std::path::Component::CurDir => {}
            other => {
                walked.push(other);
                if let Ok(real) = walked.canonicalize() {
                    walked = real;
                }
            }
        }
    }
    Some(walked)
}
