//! Control ontologies in the report: each seeded group summarised by its mean and spread,
//! and every wording's gain read beside what the controls gain.

use ontosweep_results::{ModelResults, OntologyResults};

/// One control as written in the experiment (all its seeds), for one model.
pub(crate) struct ControlGroup<'a> {
    pub(crate) group: &'a str,
    pub(crate) kind: &'a str,
    pub(crate) of: &'a str,
    pub(crate) members: Vec<&'a OntologyResults>,
}

impl ControlGroup<'_> {
    /// Accuracy − the baseline's, per seed (none for a baseline control).
    pub(crate) fn deltas(&self) -> Vec<f64> {
        self.members
            .iter()
            .filter_map(|o| o.vs_baseline.as_ref().map(|c| c.delta))
            .collect()
    }

    pub(crate) fn accuracies(&self) -> Vec<f64> {
        self.members.iter().map(|o| o.metrics.accuracy).collect()
    }
}

/// The model's control groups, in the order their first seed appears.
pub(crate) fn groups(model: &ModelResults) -> Vec<ControlGroup<'_>> {
    let mut groups: Vec<ControlGroup> = Vec::new();
    for o in &model.ontologies {
        let Some(control) = &o.control else {
            continue;
        };
        match groups.iter_mut().find(|g| g.group == control.group) {
            Some(group) => group.members.push(o),
            None => groups.push(ControlGroup {
                group: &control.group,
                kind: &control.kind,
                of: &control.of,
                members: vec![o],
            }),
        }
    }
    groups
}

pub(crate) fn mean(values: &[f64]) -> Option<f64> {
    (!values.is_empty()).then(|| values.iter().sum::<f64>() / values.len() as f64)
}

pub(crate) fn spread(values: &[f64]) -> Option<(f64, f64)> {
    let low = values.iter().copied().reduce(f64::min)?;
    let high = values.iter().copied().reduce(f64::max)?;
    Some((low, high))
}

/// The sentence a reader needs for one wording: is its gain beyond every control's?
pub(crate) fn verdict(ontology: &OntologyResults, groups: &[ControlGroup]) -> Option<String> {
    let gain = ontology.vs_baseline.as_ref()?;
    let reaching: Vec<String> = groups
        .iter()
        .filter_map(|g| {
            let (low, high) = spread(&g.deltas())?;
            (high >= gain.delta).then(|| {
                if g.members.len() > 1 {
                    format!(
                        "{} ({}, {} seeds: {:+.1} to {:+.1})",
                        g.group,
                        g.kind,
                        g.members.len(),
                        100.0 * low,
                        100.0 * high
                    )
                } else {
                    format!("{} ({}: {:+.1})", g.group, g.kind, 100.0 * high)
                }
            })
        })
        .collect();
    let own = format!(
        "{} changes accuracy by {:+.1} points [{:+.1}, {:+.1}] against the baseline",
        ontology.ontology,
        100.0 * gain.delta,
        100.0 * gain.delta_ci_low,
        100.0 * gain.delta_ci_high
    );
    if groups.is_empty() {
        return None;
    }
    Some(if reaching.is_empty() {
        let best = groups
            .iter()
            .filter_map(|g| spread(&g.deltas()).map(|(_, high)| (high, g.group)))
            .max_by(|a, b| a.0.total_cmp(&b.0));
        match best {
            Some((high, group)) => format!(
                "{own}, more than any control gains (the most: {group}, {:+.1}).",
                100.0 * high
            ),
            None => format!("{own}."),
        }
    } else {
        format!(
            "{own}: within what a control gains — {} — so on these images this wording is no better than noise.",
            reaching.join(", ")
        )
    })
}

/// Per model, one sentence per wording (not a control, not the baseline) when the
/// experiment has controls: for the terminal, as the page says it.
pub fn noise_verdicts(results: &ontosweep_results::SweepResults) -> Vec<String> {
    let mut lines = Vec::new();
    for model in &results.models {
        let groups = groups(model);
        for o in model.ontologies.iter().filter(|o| o.control.is_none()) {
            if let Some(sentence) = verdict(o, &groups) {
                lines.push(format!("{}: {sentence}", model.model));
            }
        }
    }
    lines
}
