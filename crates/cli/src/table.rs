//! The summary table printed at the end of a sweep.

use ontosweep_results::SweepResults;

pub fn render(results: &SweepResults) -> String {
    let mut rows = vec![[
        "model".to_string(),
        "ontology".into(),
        "accuracy".into(),
        "95% CI".into(),
        "balanced".into(),
        "Δ vs baseline [95% CI]".into(),
        "McNemar p (Holm)".into(),
    ]];
    for model in &results.models {
        for o in &model.ontologies {
            let m = &o.metrics;
            let (delta, p) = match &o.vs_baseline {
                Some(c) => (
                    format!(
                        "{:+.1} [{:+.1}, {:+.1}]",
                        100.0 * c.delta,
                        100.0 * c.delta_ci_low,
                        100.0 * c.delta_ci_high
                    ),
                    ontosweep_report::format_p(c.mcnemar_p_holm),
                ),
                None => ("baseline".into(), String::new()),
            };
            rows.push([
                model.model.clone(),
                o.ontology.clone(),
                format!("{:.1}%", 100.0 * m.accuracy),
                format!("{:.1}–{:.1}", 100.0 * m.ci_low, 100.0 * m.ci_high),
                format!("{:.1}%", 100.0 * m.balanced_accuracy),
                delta,
                p,
            ]);
        }
    }
    let widths: Vec<usize> = (0..7)
        .map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0))
        .collect();
    rows.iter()
        .map(|row| {
            row.iter()
                .zip(&widths)
                .map(|(cell, w)| format!("{cell}{}", " ".repeat(w - cell.chars().count())))
                .collect::<Vec<_>>()
                .join("  ")
                .trim_end()
                .to_string()
        })
        .collect::<Vec<_>>()
        .join("\n")
}
