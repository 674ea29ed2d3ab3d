//! Which classes the per-class charts show once there are too many to chart them all: the
//! lowest and highest baseline recall, and the classes whose recall moved most against the
//! baseline. The whole list stays in `per_class.csv` and the page's table.

use ontosweep_results::SweepResults;

/// Up to this many classes, every class is charted.
pub const CHARTED_CLASSES: usize = 20;
/// Classes in each selection (lowest, highest, moved most).
pub const SELECTED: usize = 10;

pub struct Selection {
    /// Lowest baseline recall first (the first model's).
    pub worst: Vec<usize>,
    /// Highest baseline recall first.
    pub best: Vec<usize>,
    /// The largest change of recall against the baseline, any model and ontology, with the
    /// change (signed; largest magnitude first). Empty without a non-baseline ontology.
    pub moved: Vec<(usize, f64)>,
}

/// `None` when every class is charted.
pub fn select(results: &SweepResults) -> Option<Selection> {
    if results.classes.len() <= CHARTED_CLASSES {
        return None;
    }
    let first = results.models.first()?;
    let baseline = results.baseline_of(first)?;
    let recall = |c: usize| baseline.metrics.per_class[c].recall;
    // Classes without test images have no recall to rank.
    let mut ranked: Vec<usize> = (0..results.classes.len())
        .filter(|&c| baseline.metrics.per_class[c].support > 0)
        .collect();
    ranked.sort_by(|&a, &b| recall(a).total_cmp(&recall(b)).then(a.cmp(&b)));
    let worst: Vec<usize> = ranked.iter().take(SELECTED).copied().collect();
    let best: Vec<usize> = ranked
        .iter()
        .rev()
        .filter(|c| !worst.contains(c))
        .take(SELECTED)
        .copied()
        .collect();
    Some(Selection {
        worst,
        best,
        moved: moved_most(results, &ranked),
    })
}

/// Per class the largest |recall − baseline recall| over every model's other ontologies.
fn moved_most(results: &SweepResults, classes: &[usize]) -> Vec<(usize, f64)> {
    let mut moved: Vec<(usize, f64)> = classes
        .iter()
        .filter_map(|&c| {
            results
                .models
                .iter()
                .filter_map(|model| {
                    let base = results.baseline_of(model)?.metrics.per_class[c].recall;
                    model
                        .ontologies
                        .iter()
                        .filter(|o| o.ontology != results.baseline)
                        .map(|o| o.metrics.per_class[c].recall - base)
                        .max_by(|a, b| a.abs().total_cmp(&b.abs()))
                })
                .max_by(|a, b| a.abs().total_cmp(&b.abs()))
                .filter(|change| *change != 0.0)
                .map(|change| (c, change))
        })
        .collect();
    moved.sort_by(|a, b| b.1.abs().total_cmp(&a.1.abs()).then(a.0.cmp(&b.0)));
    moved.truncate(SELECTED);
    moved
}
