//! What each prompt search chose, printed after the summary table: the prompts per class and
//! the dev–test gap, so the optimism of choosing on the dev split is in plain view.

use ontosweep_results::SweepResults;

/// Classes whose chosen prompts are printed; the rest are in `run.json`.
const CLASSES_SHOWN: usize = 10;

pub fn render(results: &SweepResults) -> Option<String> {
    let split = results.split.as_ref()?;
    let mut lines = vec![format!(
        "scored on the test split: {} images; dev split (what searches learn from): {} images (dev_fraction {}, seed {})",
        results.images.len(),
        split.dev_images.len(),
        split.dev_fraction,
        split.seed
    )];
    for model in &results.models {
        for o in &model.ontologies {
            let Some(search) = &o.search else { continue };
            let gap = 100.0 * (search.dev_objective - search.test_objective);
            lines.push(format!(
                "\n{} on {}: {} step{}; {}",
                o.ontology,
                model.model,
                search.steps.len(),
                if search.steps.len() == 1 { "" } else { "s" },
                search.stopped
            ));
            lines.push(format!(
                "  {}: dev {:.1}% ({} images), test {:.1}%: dev−test gap {gap:+.1} points",
                search.objective,
                100.0 * search.dev_objective,
                search.dev_images,
                100.0 * search.test_objective
            ));
            for (class, prompts) in o.prompts.iter().take(CLASSES_SHOWN) {
                let quoted: Vec<String> = prompts.iter().map(|p| format!("{p:?}")).collect();
                lines.push(format!("  {class}: {}", quoted.join(", ")));
            }
            if o.prompts.len() > CLASSES_SHOWN {
                lines.push(format!(
                    "  … {} more classes in run.json",
                    o.prompts.len() - CLASSES_SHOWN
                ));
            }
        }
    }
    Some(lines.join("\n"))
}
