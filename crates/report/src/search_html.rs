//! The page's "Prompt search" section: the held-out split and, per searched ontology, its
//! path, its choice and how far the dev objective overstated the test one.

use maud::{Markup, html};
use ontosweep_results::{ModelResults, OntologyResults, SearchOutcome, SweepResults};

use crate::links::link;
use crate::names::ReportFiles;
use crate::search_files::{SEARCH_CSV, SPLIT_CSV, searches, snippet};

/// Said beside the summary table when images were held out, with the split's warnings.
pub fn split_note(results: &SweepResults) -> Markup {
    html! {
        @if let Some(split) = &results.split {
            (warnings(&split.warnings))
            p.note id="split-note" {
                "Every row is scored on the test split (" (results.images.len())
                " images). The dev split (" (split.dev_images.len())
                " images) was used only by the prompt search (see below)."
            }
        }
    }
}

pub fn section(results: &SweepResults, names: &ReportFiles) -> Markup {
    let any_search = searches(results).next().is_some();
    if results.split.is_none() && !any_search {
        return html! {};
    }
    html! {
        h2 id="prompt-search" { "Prompt search" }
        @if let Some(split) = &results.split {
            (warnings(&split.warnings))
            p {
                "Held-out split: " (split.dev_images.len()) " dev images, "
                (results.images.len()) " test images (dev fraction "
                (format!("{:.2}", split.dev_fraction)) ", seed " (split.seed) ") · "
                a href=(link(SPLIT_CSV)) { (SPLIT_CSV) }
            }
        }
        @if !any_search {
            p { "No ontology was found by search." }
        }
        @for (m, o, model, ontology, outcome) in searches(results) {
            (one_search(results, names, (m, o), model, ontology, outcome))
        }
    }
}

fn one_search(
    results: &SweepResults,
    names: &ReportFiles,
    (m, o): (usize, usize),
    model: &ModelResults,
    ontology: &OntologyResults,
    outcome: &SearchOutcome,
) -> Markup {
    let yaml_file = names.search_yaml(m, o);
    let gap = 100.0 * (outcome.dev_objective - outcome.test_objective);
    html! {
        div.search {
            h3 { (model.model) " · " (ontology.ontology) }
            p {
                "Greedy forward search maximising " b { (outcome.objective) } " on "
                (outcome.dev_images) " dev images: up to " (outcome.max_templates)
                " of " (outcome.candidate_templates) " templates, and a name per class."
            }
            table.gap {
                tr { th.l { "" } th { (outcome.objective) } }
                tr { td.l { "dev (searched on)" } td { (percent(outcome.dev_objective)) } }
                tr { td.l { "test (held out)" } td { (percent(outcome.test_objective)) } }
                tr {
                    td.l { "gap, dev − test" }
                    td class=[(gap > 0.0).then_some("bad")] { (format!("{gap:+.1} pp")) }
                }
            }
            p { "Stopped: " (outcome.stopped) }
            (choice(results, outcome))
            (steps(outcome))
            img.chart src=(link(&names.search_svg(m, o))) alt="prompt search by step";
            p {
                "Files: " a href=(link(SEARCH_CSV)) { (SEARCH_CSV) } " · "
                a href=(link(&yaml_file)) { (yaml_file) }
            }
            @match snippet(results, model, ontology, outcome) {
                Ok(text) => { pre.snippet { (text) } }
                Err(e) => { p.warning { "The YAML snippet could not be written: " (e.to_string()) } }
            }
        }
    }
}

fn warnings(warnings: &[String]) -> Markup {
    html! {
        @for warning in warnings {
            p.warning { strong { "Warning: " } (warning) }
        }
    }
}

fn percent(share: f64) -> String {
    format!("{:.1}%", 100.0 * share)
}

/// The chosen templates and the name each class's templates are applied to.
fn choice(results: &SweepResults, outcome: &SearchOutcome) -> Markup {
    html! {
        p {
            "Chosen templates: "
            @if outcome.templates.is_empty() { "none" }
            @for (i, template) in outcome.templates.iter().enumerate() {
                @if i > 0 { " " }
                code { (template) }
            }
        }
        table.names {
            tr { th.l { "class" } th.l { "chosen name" } th.l { "candidates" } }
            @for class in &results.classes {
                tr {
                    td.l { (class) }
                    td.l { code { (outcome.names.get(class).unwrap_or(class)) } }
                    td.l {
                        @for (i, name) in outcome.candidate_names.get(class).into_iter().flatten().enumerate() {
                            @if i > 0 { " " }
                            code { (name) }
                        }
                    }
                }
            }
        }
    }
}

fn steps(outcome: &SearchOutcome) -> Markup {
    html! {
        details {
            summary { "Steps: " (outcome.steps.len()) }
            table.steps {
                tr { th { "step" } th.l { "move" } th { "dev " (outcome.objective) } }
                @for step in &outcome.steps {
                    tr {
                        td { (step.step) }
                        td.l {
                            @if let Some(template) = &step.template {
                                "add template " code { (template) }
                            } @else if let (Some(class), Some(name)) = (&step.class, &step.name) {
                                code { (class) } " → " code { (name) }
                            } @else {
                                "—"
                            }
                        }
                        td { (percent(step.dev_objective)) }
                    }
                }
            }
        }
    }
}
