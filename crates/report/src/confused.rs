//! Confusion beyond [`FULL_MATRIX_CLASSES`] classes: a whole matrix is then too big to draw
//! (a million cells at ImageNet size) or to read, so the report keeps its non-zero cells in
//! long form and shows the pairs of classes confused most often.

use std::path::{Path, PathBuf};

use ontosweep_charts::{Bar, Group, PALETTE, bar_chart};
use ontosweep_results::{Metrics, SweepResults};

use crate::csv_writer::csv_file;
use crate::error::ReportError;

/// Up to this many classes the report draws and tabulates whole confusion matrices.
pub const FULL_MATRIX_CLASSES: usize = 50;
/// Pairs in the chart and the page's table.
pub const PAIRS_SHOWN: usize = 20;

/// Whether `results` get whole matrices.
pub fn full_matrices(results: &SweepResults) -> bool {
    results.classes.len() <= FULL_MATRIX_CLASSES
}

/// Images of `true_class` predicted as `predicted` (another class).
#[derive(Debug, Clone, PartialEq)]
pub struct ConfusedPair {
    pub true_class: usize,
    pub predicted: usize,
    pub count: usize,
    /// `count` over the true class's images.
    pub share: f64,
}

/// The `limit` off-diagonal cells with the most images; ties by share, then class order.
pub fn most_confused(metrics: &Metrics, limit: usize) -> Vec<ConfusedPair> {
    let mut pairs: Vec<ConfusedPair> = metrics
        .confusion
        .iter()
        .filter(|c| c.true_class != c.predicted && c.count > 0)
        .map(|c| {
            let support = metrics.per_class.get(c.true_class).map_or(0, |m| m.support);
            ConfusedPair {
                true_class: c.true_class,
                predicted: c.predicted,
                count: c.count,
                share: if support == 0 {
                    0.0
                } else {
                    c.count as f64 / support as f64
                },
            }
        })
        .collect();
    pairs.sort_by(|a, b| {
        b.count
            .cmp(&a.count)
            .then(b.share.total_cmp(&a.share))
            .then((a.true_class, a.predicted).cmp(&(b.true_class, b.predicted)))
    });
    pairs.truncate(limit);
    pairs
}

/// `true,predicted,count`, one row per non-zero cell (the diagonal included).
pub fn write_long_csv(
    dir: &Path,
    name: &str,
    classes: &[String],
    metrics: &Metrics,
) -> Result<PathBuf, ReportError> {
    csv_file(dir, name, |w| {
        w.write_record(["true", "predicted", "count"])?;
        for cell in &metrics.confusion {
            w.write_record([
                classes[cell.true_class].as_str(),
                &classes[cell.predicted],
                &cell.count.to_string(),
            ])?;
        }
        Ok(())
    })
}

/// Bars of the most confused pairs' shares of their true class.
pub fn write_chart(
    path: &Path,
    title: &str,
    classes: &[String],
    pairs: &[ConfusedPair],
) -> Result<(), ReportError> {
    let bars = pairs
        .iter()
        .map(|p| Bar {
            label: format!("{} → {}", classes[p.true_class], classes[p.predicted]),
            detail: format!(
                "{} image{} of the true class",
                p.count,
                if p.count == 1 { "" } else { "s" }
            ),
            value: p.share,
            interval: None,
            colour: PALETTE[0],
            tag: "",
        })
        .collect();
    let group = Group {
        title: if pairs.is_empty() {
            "no image was given another class".into()
        } else {
            "true class → predicted class: share of the true class's images".into()
        },
        bars,
    };
    Ok(bar_chart(path, title, &[group], None)?)
}

#[cfg(test)]
mod tests {
    use ontosweep_results::ConfusionCell;

    use super::*;

    fn metrics(cells: &[(usize, usize, usize)], support: &[usize]) -> Metrics {
        Metrics {
            n: 0,
            correct: 0,
            accuracy: 0.0,
            ci_low: 0.0,
            ci_high: 0.0,
            balanced_accuracy: 0.0,
            macro_f1: 0.0,
            ece: 0.0,
            top_k: vec![],
            per_class: support
                .iter()
                .map(|&support| ontosweep_results::ClassMetrics {
                    class: String::new(),
                    support,
                    precision: 0.0,
                    recall: 0.0,
                    f1: 0.0,
                })
                .collect(),
            confusion: cells
                .iter()
                .map(|&(true_class, predicted, count)| ConfusionCell {
                    true_class,
                    predicted,
                    count,
                })
                .collect(),
        }
    }

    #[test]
    fn pairs_by_count_then_share_without_the_diagonal() {
        let m = metrics(
            &[
                (0, 0, 9),
                (0, 1, 3),
                (1, 0, 3),
                (1, 1, 1),
                (2, 0, 1),
                (2, 1, 5),
            ],
            &[12, 4, 6],
        );
        let pairs = most_confused(&m, 3);
        let found: Vec<(usize, usize, usize)> = pairs
            .iter()
            .map(|p| (p.true_class, p.predicted, p.count))
            .collect();
        // 3 of 4 (class 1) before 3 of 12 (class 0).
        assert_eq!(found, vec![(2, 1, 5), (1, 0, 3), (0, 1, 3)]);
        assert!((pairs[1].share - 0.75).abs() < 1e-12);
        assert!(most_confused(&metrics(&[(0, 0, 4)], &[4]), 5).is_empty());
    }
}
