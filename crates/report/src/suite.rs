//! A suite's summary: every experiment's (model, ontology) results in one table across
//! datasets, as `clip_benchmark build` merges its runs, with the gain over each
//! experiment's baseline beside it. A pure function of the rows each sweep gave.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use maud::{DOCTYPE, Markup, PreEscaped, html};
use ontosweep_results::SweepResults;

use crate::ReportError;
use crate::clip_benchmark::{acc5, dataset_name};
use crate::csv_writer::csv_file;
use crate::error::io_error;
use crate::links::link;

/// One (experiment, model, ontology) of a suite.
#[derive(Debug, Clone, PartialEq)]
pub struct SuiteRow {
    /// As CLIP_benchmark names it (`imagenet1k`, `wds/cifar10`).
    pub dataset: String,
    pub experiment: String,
    pub model: String,
    pub ontology: String,
    pub is_baseline: bool,
    pub images: usize,
    pub acc1: f64,
    pub acc5: f64,
    pub mean_per_class_recall: f64,
    /// Accuracy − the baseline's, with its paired 95% interval; `None` for the baseline.
    pub vs_baseline: Option<(f64, f64, f64)>,
    /// The experiment's report page, relative to the suite's folder.
    pub report: String,
}

/// The rows one sweep's results give; `report` is its page as the suite links it.
pub fn suite_rows(results: &SweepResults, report: &str) -> Vec<SuiteRow> {
    let mut rows = Vec::new();
    for model in &results.models {
        for ontology in &model.ontologies {
            let metrics = &ontology.metrics;
            rows.push(SuiteRow {
                dataset: dataset_name(results).to_string(),
                experiment: results.experiment.clone(),
                model: model.model.clone(),
                ontology: ontology.ontology.clone(),
                is_baseline: ontology.ontology == results.baseline,
                images: metrics.n,
                acc1: metrics.accuracy,
                acc5: acc5(metrics, results.classes.len()),
                mean_per_class_recall: metrics.balanced_accuracy,
                vs_baseline: ontology
                    .vs_baseline
                    .as_ref()
                    .map(|c| (c.delta, c.delta_ci_low, c.delta_ci_high)),
                report: report.to_string(),
            });
        }
    }
    rows
}

/// `summary.csv` and `index.html` into `dir` (replaced whole); `failed` lists the
/// experiments that gave no results, with why.
pub fn write_suite(
    name: &str,
    rows: &[SuiteRow],
    failed: &[(String, String)],
    dir: &Path,
) -> Result<Vec<PathBuf>, ReportError> {
    crate::ownership::replace_whole(dir, |staging| {
        let mut files = vec![summary_csv(rows, staging)?];
        let page = page(name, rows, failed).into_string() + "\n";
        let path = staging.join("index.html");
        std::fs::write(&path, page).map_err(io_error(&path))?;
        files.push(PathBuf::from("index.html"));
        Ok(files)
    })
}

fn summary_csv(rows: &[SuiteRow], dir: &Path) -> Result<PathBuf, ReportError> {
    csv_file(dir, "summary.csv", |w| {
        w.write_record([
            "dataset",
            "experiment",
            "model",
            "ontology",
            "baseline",
            "images",
            "acc1",
            "acc5",
            "mean_per_class_recall",
            "delta_vs_baseline",
            "delta_ci_low",
            "delta_ci_high",
        ])?;
        for row in rows {
            let delta = |pick: fn(&(f64, f64, f64)) -> f64| {
                row.vs_baseline
                    .as_ref()
                    .map_or(String::new(), |d| format!("{:.6}", pick(d)))
            };
            w.write_record([
                row.dataset.clone(),
                row.experiment.clone(),
                row.model.clone(),
                row.ontology.clone(),
                row.is_baseline.to_string(),
                row.images.to_string(),
                format!("{:.6}", row.acc1),
                if row.acc5.is_nan() {
                    String::new()
                } else {
                    format!("{:.6}", row.acc5)
                },
                format!("{:.6}", row.mean_per_class_recall),
                delta(|d| d.0),
                delta(|d| d.1),
                delta(|d| d.2),
            ])?;
        }
        Ok(())
    })
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:2rem auto;max-width:1200px;color:#222;padding:0 1rem}
table{border-collapse:collapse;margin:1rem 0}th,td{padding:.3rem .6rem;border-bottom:1px solid #ddd;text-align:right;white-space:nowrap}
th{background:#f4f4f4}td.l,th.l{text-align:left}tr.baseline td{background:#f7f7f7}.delta{color:#555;font-size:.85em}
.good{color:#2e7d32}.bad{color:#c62828}.warning{background:#fff3e0;border-left:4px solid #e65100;padding:.5rem .8rem}";

/// Rows (model, ontology) × columns (dataset): accuracy, and the gain over the baseline
/// where the paired interval excludes zero in colour.
fn page(name: &str, rows: &[SuiteRow], failed: &[(String, String)]) -> Markup {
    let mut datasets: Vec<(&str, &str)> = Vec::new();
    for row in rows {
        if !datasets.contains(&(row.dataset.as_str(), row.report.as_str())) {
            datasets.push((row.dataset.as_str(), row.report.as_str()));
        }
    }
    let mut lines: Vec<(&str, &str)> = Vec::new();
    for row in rows {
        if !lines.contains(&(row.model.as_str(), row.ontology.as_str())) {
            lines.push((row.model.as_str(), row.ontology.as_str()));
        }
    }
    let models: BTreeSet<&str> = rows.iter().map(|r| r.model.as_str()).collect();
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                title { (name) " — ontosweep suite" }
                style { (PreEscaped(STYLE)) }
            }
            body {
                h1 { (name) }
                p { (datasets.len()) " dataset(s), " (models.len()) " model(s): top-1 accuracy, and below it the change against each experiment's baseline ontology with its paired 95% interval (coloured when the interval excludes 0). Every figure is in " a href=(link("summary.csv")) { "summary.csv" } "." }
                @if !failed.is_empty() {
                    div.warning {
                        p { "These experiments gave no results, so they are missing below:" }
                        ul { @for (file, why) in failed { li { code { (file) } ": " (why) } } }
                    }
                }
                table {
                    tr {
                        th.l { "model" } th.l { "ontology" }
                        @for (dataset, report) in &datasets {
                            th { a href=(link(report)) { (dataset) } }
                        }
                    }
                    @for (model, ontology) in &lines {
                        @let baseline = rows.iter().any(|r| r.model == *model && r.ontology == *ontology && r.is_baseline);
                        tr class=[baseline.then_some("baseline")] {
                            td.l { (model) } td.l { (ontology) }
                            @for (dataset, report) in &datasets {
                                @let cell = rows.iter().find(|r| r.model == *model && r.ontology == *ontology && r.dataset == *dataset && r.report == *report);
                                td { (cell.map_or(html! { "–" }, cell_markup)) }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn cell_markup(row: &SuiteRow) -> Markup {
    html! {
        (format!("{:.1}%", 100.0 * row.acc1))
        @if let Some((delta, low, high)) = row.vs_baseline {
            @let class = if low > 0.0 { "delta good" } else if high < 0.0 { "delta bad" } else { "delta" };
            br;
            span class=(class) { (format!("{:+.1} [{:+.1}, {:+.1}]", 100.0 * delta, 100.0 * low, 100.0 * high)) }
        }
    }
}
