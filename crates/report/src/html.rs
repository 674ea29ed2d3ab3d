//! `index.html`: the charts, the summary table, the prompts and the image galleries.
//!
//! Built with maud so that every name, prompt and path is escaped for where it lands;
//! links to report files are percent-encoded as well.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use maud::{DOCTYPE, Markup, PreEscaped, html};
use ontosweep_results::{ModelResults, OntologyResults, SweepResults};

use crate::error::{ReportError, io_error};
use crate::headline::HEADLINE_CHART;
use crate::links::link;
use crate::names::ReportFiles;
use crate::p_value::format_p;
use crate::thumbnails::{Galleries, Gallery, Thumbnails, galleries};

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:2rem auto;max-width:1200px;color:#222;padding:0 1rem}
h1{margin-bottom:.2rem}.meta{color:#666;margin-top:0}table{border-collapse:collapse;margin:1rem 0}
th,td{padding:.3rem .6rem;border-bottom:1px solid #ddd;text-align:right}th{background:#f4f4f4}
td.l,th.l{text-align:left}tr.baseline td{background:#f7f7f7}.chart{max-width:100%;border:1px solid #eee}#accuracy-chart{width:100%;height:auto}#summary td{white-space:nowrap}
.gallery{display:flex;flex-wrap:wrap;gap:.5rem}.gallery figure{margin:0;width:120px;font-size:.75rem}
.gallery img{width:112px;height:112px;object-fit:cover;border-radius:4px;display:block}
.gallery .key{display:block;width:112px;overflow-wrap:anywhere;color:#666}
.bad{color:#c62828}.good{color:#2e7d32}details{margin:.6rem 0}summary{cursor:pointer;font-weight:600}
code{background:#f4f4f4;padding:0 .2rem}.note{color:#444}
.warning{background:#fff3e0;border-left:4px solid #e65100;padding:.5rem .8rem}
pre.snippet{background:#f7f7f7;padding:.6rem;overflow-x:auto}";

pub fn write(
    results: &SweepResults,
    names: &ReportFiles,
    dir: &Path,
    thumbs: &Thumbnails,
) -> Result<PathBuf, ReportError> {
    let page = page(results, names, thumbs)?.into_string() + "\n";
    let path = dir.join("index.html");
    std::fs::write(&path, page).map_err(io_error(&path))?;
    Ok(PathBuf::from("index.html"))
}

fn page(
    results: &SweepResults,
    names: &ReportFiles,
    thumbs: &Thumbnails,
) -> Result<Markup, ReportError> {
    let g = galleries(results);
    Ok(html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                title { (results.experiment) " — ontosweep" }
                style { (PreEscaped(STYLE)) }
            }
            body {
                (heading(results))
                (shard_note(results))
                img.chart id="accuracy-chart" src=(link(HEADLINE_CHART)) alt="accuracy by ontology";
                (summary_table(results))
                (controls_section(results))
                (ontology_checks(results))
                (agreement(results))
                (per_class(results))
                (tables())
                (prompts(results))
                (crate::search_html::section(results, names))
                @for (m, model) in results.models.iter().enumerate() {
                    (model_images(results, names, thumbs, &g, m, model))
                }
                (skipped(results))
            }
        }
    })
}

/// Up to this many classes the heading names them all.
const CLASSES_NAMED: usize = 10;

fn heading(results: &SweepResults) -> Markup {
    let classes = if results.classes.len() <= CLASSES_NAMED {
        results.classes.join(", ")
    } else {
        format!(
            "{}, …; all in per_class.csv",
            results.classes[..5].join(", ")
        )
    };
    html! {
        h1 { (results.experiment) }
        p.meta {
            (results.images.len()) " images scored, " (results.classes.len())
            " candidate classes (" (classes) ")"
            @if !results.run.classes_from.is_empty() {
                ", declared by " (results.run.classes_from)
            }
            ", " (results.skipped.len()) " skipped · ONNX Runtime "
            (results.run.onnxruntime.version) " · baseline " b { (results.baseline) }
        }
    }
}

/// How the encoding was sharded, and what the shard records said was wrong (a shard that
/// never ran, records of other runs): the numbers hold, but the reader should know.
fn shard_note(results: &SweepResults) -> Markup {
    let Some(check) = &results.run.shards else {
        return html! {};
    };
    html! {
        @if let Some(count) = check.count {
            p.note {
                "Encoded in " (count) " shards: " (check.done.len()) " ran, covering "
                (check.images_covered) " of " (check.images_total) " images (records in "
                code { "shards/" } ", details in " a href=(link("run.json")) { "run.json" } ")."
            }
        }
        @for warning in &check.warnings {
            p.warning { (warning) }
        }
    }
}

fn per_class(results: &SweepResults) -> Markup {
    let selected = crate::class_selection::select(results);
    html! {
        h2 { "Per class" }
        @if selected.is_some() {
            p.note {
                "The " (crate::class_selection::SELECTED) " classes with the lowest and the highest baseline recall ("
                (results.models.first().map_or("", |m| m.model.as_str()))
                "); every class is in the table below and in per_class.csv."
            }
        }
        img.chart src=(link(crate::charts::PER_CLASS_SVG)) alt="recall per class";
        @if selected.is_some_and(|s| !s.moved.is_empty()) {
            img.chart src=(link(crate::charts::PER_CLASS_MOVED_SVG)) alt="classes whose recall moved most against the baseline";
        }
        (crate::class_table::section(results))
    }
}

fn tables() -> Markup {
    let files = [
        "summary.csv",
        "per_class.csv",
        "predictions.csv",
        "skipped.csv",
        "run.json",
    ];
    html! {
        p {
            "Tables: "
            @for (i, file) in files.iter().enumerate() {
                @if i > 0 { " · " }
                a href=(link(file)) { (file) }
            }
        }
    }
}

fn summary_table(results: &SweepResults) -> Markup {
    html! {
        h2 { "Summary" }
        (crate::search_html::split_note(results))
        table id="summary" {
            tr {
                th.l { "model" } th.l { "ontology" } th { "accuracy" } th { "95% CI" }
                th { "balanced" }
                @if results.classes.len() > 5 { th { "top-5" } }
                th { "macro F1" } th { "ECE" }
                th { "Δ vs baseline [95% CI]" } th { "McNemar p" } th { "Holm p" }
            }
            @for model in &results.models {
                @for o in &model.ontologies {
                    (summary_row(results, model, o))
                }
            }
        }
    }
}

fn summary_row(results: &SweepResults, model: &ModelResults, o: &OntologyResults) -> Markup {
    let m = &o.metrics;
    html! {
        tr class=[(o.ontology == results.baseline).then_some("baseline")] {
            td.l { (model.model) }
            td.l { (o.ontology) }
            td { (format!("{:.1}%", 100.0 * m.accuracy)) }
            td { (format!("{:.1}–{:.1}", 100.0 * m.ci_low, 100.0 * m.ci_high)) }
            td { (format!("{:.1}%", 100.0 * m.balanced_accuracy)) }
            @if results.classes.len() > 5 {
                td { (crate::tables::top5(results, m).map_or(String::new(), |t| format!("{:.1}%", 100.0 * t))) }
            }
            td { (format!("{:.3}", m.macro_f1)) }
            td { (format!("{:.3}", m.ece)) }
            @match &o.vs_baseline {
                Some(c) => {
                    td class=[verdict(c.delta_ci_low, c.delta_ci_high)] {
                        (format!("{:+.1} [{:+.1}, {:+.1}]", 100.0 * c.delta, 100.0 * c.delta_ci_low, 100.0 * c.delta_ci_high))
                    }
                    td { (format_p(c.mcnemar_p)) }
                    td { (format_p(c.mcnemar_p_holm)) }
                }
                None => { td { "baseline" } td {} td {} }
            }
        }
    }
}

/// `good`/`bad` when the difference's interval excludes zero.
fn verdict(low: f64, high: f64) -> Option<&'static str> {
    if low > 0.0 {
        Some("good")
    } else if high < 0.0 {
        Some("bad")
    } else {
        None
    }
}

/// Each wording's gain beside what its controls gain, and what that means.
fn controls_section(results: &SweepResults) -> Markup {
    use crate::controls::{groups, spread, verdict};
    if !results
        .models
        .iter()
        .any(|m| m.ontologies.iter().any(|o| o.control.is_some()))
    {
        return html! {};
    }
    html! {
        h2 { "Better than noise?" }
        p { "Controls are generated from another ontology's prompts and a seed (see the README's controls section) and scored on the same images: a wording's gain means something only beyond theirs." }
        @for model in &results.models {
            @let groups = groups(model);
            h3 { (model.model) }
            table.controls {
                tr { th.l { "control" } th.l { "kind" } th.l { "of" } th { "seeds" } th { "Δ vs baseline (points)" } }
                @for g in &groups {
                    tr {
                        td.l { (g.group) } td.l { (g.kind) } td.l { (g.of) } td { (g.members.len()) }
                        td {
                            @match (g.members.as_slice(), spread(&g.deltas())) {
                                ([one], _) if one.vs_baseline.is_some() => {
                                    @let c = one.vs_baseline.as_ref().expect("checked");
                                    (format!("{:+.1} [{:+.1}, {:+.1}]", 100.0 * c.delta, 100.0 * c.delta_ci_low, 100.0 * c.delta_ci_high))
                                }
                                (_, Some((low, high))) => (format!("{:+.1} to {:+.1}", 100.0 * low, 100.0 * high)),
                                _ => "baseline",
                            }
                        }
                    }
                }
            }
            ul {
                @for o in model.ontologies.iter().filter(|o| o.control.is_none()) {
                    @if let Some(sentence) = verdict(o, &groups) {
                        li { (sentence) }
                    }
                }
            }
        }
    }
}

/// What the ontology checks found before scoring: each finding where it is written.
fn ontology_checks(results: &SweepResults) -> Markup {
    if results.findings.is_empty() {
        return html! {};
    }
    html! {
        h2 { "Ontology checks" }
        p.warning { "Found in the prompts before any image was scored; each is a warning (an error would have stopped the run)." }
        table id="ontology-checks" {
            tr { th.l { "check" } th.l { "ontology" } th.l { "model" } th.l { "classes" } th.l { "finding" } th.l { "where" } }
            @for f in &results.findings {
                tr {
                    td.l { (f.check) } td.l { (f.ontology) } td.l { (f.model) }
                    td.l { (f.classes.join(", ")) } td.l { (f.detail) } td.l { code { (f.location) } }
                }
            }
        }
    }
}

fn agreement(results: &SweepResults) -> Markup {
    html! {
        @for model in &results.models {
            @if let Some(a) = &model.vs_reference {
                h2 { (model.model) " against " (a.reference) }
                p {
                    (format!("Image embeddings: mean cosine {:.4}, lowest {:.4}.", a.image_cosine_mean, a.image_cosine_min))
                }
                table {
                    tr { th.l { "ontology" } th { "same prediction" } }
                    @for (o, share) in model.ontologies.iter().zip(&a.prediction_agreement) {
                        tr { td.l { (o.ontology) } td { (format!("{:.1}%", 100.0 * share)) } }
                    }
                }
            }
        }
    }
}

fn prompts(results: &SweepResults) -> Markup {
    let Some(first) = results.models.first() else {
        return html! {};
    };
    html! {
        h2 { "Prompts" }
        @for (index, o) in first.ontologies.iter().enumerate() {
            @if o.search.is_some() {
                // A search chooses per model.
                @for model in &results.models {
                    @if let Some(chosen) = model.ontologies.get(index) {
                        (prompt_table(
                            &format!("{} (chosen on the dev split for {})", o.ontology, model.model),
                            &chosen.prompts,
                        ))
                    }
                }
            } @else {
                (prompt_table(&o.ontology, &o.prompts))
            }
        }
    }
}

/// Classes whose prompts the page lists per ontology; the experiment file (or run.json, for a
/// search) has the rest.
const PROMPT_CLASSES_SHOWN: usize = 10;

fn prompt_table(title: &str, prompts: &BTreeMap<String, Vec<String>>) -> Markup {
    let more = prompts.len().saturating_sub(PROMPT_CLASSES_SHOWN);
    html! {
        details {
            summary { (title) }
            @if more > 0 {
                p.note {
                    "The first " (PROMPT_CLASSES_SHOWN) " of " (prompts.len())
                    " classes; the experiment file has every class's prompts (run.json, a search's)."
                }
            }
            table {
                @for (class, list) in prompts.iter().take(PROMPT_CLASSES_SHOWN) {
                    tr {
                        td.l { (class) }
                        td.l {
                            @for (i, prompt) in list.iter().enumerate() {
                                @if i > 0 { " " }
                                code { (prompt) }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn model_images(
    results: &SweepResults,
    names: &ReportFiles,
    thumbs: &Thumbnails,
    g: &Galleries,
    m: usize,
    model: &ModelResults,
) -> Markup {
    let show = |o: usize, title: &str, images: &Gallery| {
        gallery(results, &model.ontologies[o], thumbs, title, images)
    };
    html! {
        h2 { "Images · " (model.model) }
        @for (o, ontology) in model.ontologies.iter().enumerate() {
            h3 { (ontology.ontology) }
            @if crate::confused::full_matrices(results) {
                details {
                    summary { "confusion matrix" }
                    img.chart src=(link(&names.confusion_svg(m, o))) alt="confusion matrix";
                }
            } @else {
                (confused_pairs(results, names, m, o, ontology))
            }
            (show(o, "misclassified", &g.misclassified[m][o]))
            @if ontology.ontology != results.baseline {
                (show(o, "right here, wrong in the baseline", &g.gained[m][o]))
                (show(o, "wrong here, right in the baseline", &g.lost[m][o]))
            }
        }
    }
}

/// The most confused pairs of classes, for too many classes to show a matrix.
fn confused_pairs(
    results: &SweepResults,
    names: &ReportFiles,
    m: usize,
    o: usize,
    ontology: &OntologyResults,
) -> Markup {
    let pairs = crate::confused::most_confused(&ontology.metrics, crate::confused::PAIRS_SHOWN);
    let csv = names.confusion_csv(m, o);
    html! {
        details {
            summary { "most confused pairs: " (pairs.len()) }
            p.note {
                "Every non-zero cell of the confusion matrix is in "
                a href=(link(&csv)) { (csv) } " (true, predicted, count)."
            }
            img.chart src=(link(&names.confused_pairs_svg(m, o))) alt="most confused pairs";
            table.pairs {
                tr { th.l { "true class" } th.l { "predicted" } th { "images" } th { "share of the true class" } }
                @for p in &pairs {
                    tr {
                        td.l { (results.classes[p.true_class]) }
                        td.l { (results.classes[p.predicted]) }
                        td { (p.count) }
                        td { (format!("{:.1}%", 100.0 * p.share)) }
                    }
                }
            }
        }
    }
}

fn gallery(
    results: &SweepResults,
    ontology: &OntologyResults,
    thumbs: &Thumbnails,
    title: &str,
    images: &Gallery,
) -> Markup {
    html! {
        details {
            summary { (title) ": " (images.count) }
            div.gallery {
                @for &i in &images.first {
                    (figure(results, ontology, thumbs, i))
                }
                @if images.count > images.first.len() {
                    p { "… and " (images.count - images.first.len()) " more (see predictions.csv)" }
                }
            }
        }
    }
}

fn figure(
    results: &SweepResults,
    ontology: &OntologyResults,
    thumbs: &Thumbnails,
    i: usize,
) -> Markup {
    // Read back for the few images shown; one that cannot be is left out.
    let (Ok(image), Ok(scores)) = (results.images.get(i), ontology.scores.get(i)) else {
        return html! {};
    };
    let predicted = scores.predicted();
    let confidence = scores.confidence();
    html! {
        figure title=(image.path) {
            @if let Some(src) = thumbs.get(i) {
                img loading="lazy" src=(link(src)) alt=(image.path);
            } @else {
                // No thumbnail (an image that does not decode): its name, to find it by.
                span.key { (image.path) }
            }
            figcaption {
                (results.classes[image.label]) " → " b { (results.classes[predicted]) }
                (format!(" ({:.0}%)", 100.0 * confidence))
            }
        }
    }
}

fn skipped(results: &SweepResults) -> Markup {
    html! {
        @if !results.skipped.is_empty() {
            h2 { "Skipped files (" (results.skipped.len()) ")" }
            table {
                tr { th.l { "file" } th.l { "reason" } }
                @for s in &results.skipped {
                    tr { td.l { (s.path) } td.l { (s.reason) } }
                }
            }
        }
    }
}
