//! Classification metrics from per-image probabilities and labels.

use ontosweep_results::{ClassMetrics, ConfusionCell, ImageScores, Metrics, TOP_K, TopClasses};

use crate::wilson_interval;

/// Confidence bins for the expected calibration error.
pub const ECE_BINS: usize = 15;

/// The predicted class: the highest probability, the lowest index on ties.
pub fn argmax(scores: &[f32]) -> usize {
    let mut best = 0;
    for (i, &s) in scores.iter().enumerate() {
        if s > scores[best] {
            best = i;
        }
    }
    best
}

/// 0-based rank of `class` under the same tie rule as [`argmax`].
fn rank_of(scores: &[f32], class: usize) -> usize {
    let own = scores[class];
    scores
        .iter()
        .enumerate()
        .filter(|&(i, &s)| s > own || (s == own && i < class))
        .count()
}

/// What is kept of one image's probabilities (the row itself is dropped after this): the
/// [`TOP_K`] best classes, ties to the lower index as in [`argmax`], and the true class's.
pub fn summarise(probabilities: &[f32], truth: usize) -> ImageScores {
    let mut top = TopClasses::default();
    for (class, &p) in probabilities.iter().enumerate() {
        if top.len() == TOP_K && top.get(TOP_K - 1).is_some_and(|(_, last)| p <= last) {
            continue;
        }
        // After every kept class scoring at least as much: earlier indices win ties.
        let at = top.iter().take_while(|&(_, kept)| kept >= p).count();
        top.insert(at, (class, p));
    }
    ImageScores {
        top,
        true_probability: probabilities[truth],
        true_rank: rank_of(probabilities, truth) + 1,
    }
}

/// The metrics of one (model, ontology) on labelled images, from each image's summary.
pub fn compute(classes: &[String], labels: &[usize], scores: &[ImageScores]) -> Metrics {
    let mut tally = Tally::new(classes.len());
    tally.add(labels, scores);
    tally.metrics(classes)
}

/// What the metrics need of every image, gathered a chunk of images at a time: counts per
/// class, per (true, predicted) pair, per rank and per confidence bin, nothing per image.
pub struct Tally {
    n: usize,
    support: Vec<usize>,
    predicted: Vec<usize>,
    hits: Vec<usize>,
    /// Images per true-class rank (rank ≥ classes counted at `classes`).
    at_rank: Vec<usize>,
    confusion: std::collections::BTreeMap<(usize, usize), usize>,
    bins: [(usize, f64, usize); ECE_BINS],
}

impl Tally {
    pub fn new(classes: usize) -> Self {
        Tally {
            n: 0,
            support: vec![0; classes],
            predicted: vec![0; classes],
            hits: vec![0; classes],
            at_rank: vec![0; classes + 1],
            confusion: std::collections::BTreeMap::new(),
            bins: [(0, 0.0, 0); ECE_BINS],
        }
    }

    /// Adds images in order (the calibration sums are taken in image order).
    pub fn add(&mut self, labels: &[usize], scores: &[ImageScores]) {
        let classes = self.support.len();
        for (&truth, s) in labels.iter().zip(scores) {
            let guess = s.predicted();
            self.n += 1;
            self.support[truth] += 1;
            self.predicted[guess] += 1;
            self.hits[truth] += usize::from(truth == guess);
            self.at_rank[s.true_rank.min(classes)] += 1;
            *self.confusion.entry((truth, guess)).or_insert(0) += 1;
            let conf = f64::from(s.confidence());
            let bin = ((conf * ECE_BINS as f64).ceil() as usize).clamp(1, ECE_BINS) - 1;
            self.bins[bin].0 += 1;
            self.bins[bin].1 += conf;
            self.bins[bin].2 += usize::from(truth == guess);
        }
    }

    pub fn metrics(self, classes: &[String]) -> Metrics {
        let Tally {
            n,
            support,
            predicted,
            hits,
            ..
        } = &self;
        let (n, k) = (*n, classes.len());
        let correct = hits.iter().sum::<usize>();
        let per_class: Vec<ClassMetrics> = (0..k)
            .map(|c| {
                let precision = ratio(hits[c], predicted[c]);
                let recall = ratio(hits[c], support[c]);
                let f1 = if precision + recall > 0.0 {
                    2.0 * precision * recall / (precision + recall)
                } else {
                    0.0
                };
                ClassMetrics {
                    class: classes[c].clone(),
                    support: support[c],
                    precision,
                    recall,
                    f1,
                }
            })
            .collect();
        let present: Vec<&ClassMetrics> = per_class.iter().filter(|m| m.support > 0).collect();
        let balanced_accuracy = mean(present.iter().map(|m| m.recall));
        let macro_f1 = mean(present.iter().map(|m| m.f1));
        let (ci_low, ci_high) = wilson_interval(correct, n);
        Metrics {
            n,
            correct,
            accuracy: ratio(correct, n),
            ci_low,
            ci_high,
            balanced_accuracy,
            macro_f1,
            ece: self.calibration_error(),
            top_k: self.top_k(k),
            per_class,
            confusion: self.confusion_cells(),
        }
    }

    /// `top_k[depth - 1]` for depth 1..classes: one histogram of the true classes' ranks,
    /// so the cost grows with images, not images × classes².
    fn top_k(&self, classes: usize) -> Vec<f64> {
        let mut within = 0;
        (1..classes)
            .map(|depth| {
                within += self.at_rank[depth];
                ratio(within, self.n)
            })
            .collect()
    }

    /// The non-zero cells, sorted by (true, predicted).
    fn confusion_cells(&self) -> Vec<ConfusionCell> {
        self.confusion
            .iter()
            .map(|(&(true_class, predicted), &count)| ConfusionCell {
                true_class,
                predicted,
                count,
            })
            .collect()
    }

    fn calibration_error(&self) -> f64 {
        if self.n == 0 {
            return 0.0;
        }
        let n = self.n as f64;
        self.bins
            .iter()
            .filter(|(count, _, _)| *count > 0)
            .map(|&(count, confidence, hits)| {
                let c = count as f64;
                (c / n) * (hits as f64 / c - confidence / c).abs()
            })
            .sum()
    }
}

fn ratio(a: usize, b: usize) -> f64 {
    if b == 0 { 0.0 } else { a as f64 / b as f64 }
}

fn mean(values: impl Iterator<Item = f64>) -> f64 {
    let (sum, count) = values.fold((0.0, 0usize), |(s, c), v| (s + v, c + 1));
    if count == 0 { 0.0 } else { sum / count as f64 }
}

/// ECE over [`ECE_BINS`] equal-width bins of the top probability, bins `(i/B, (i+1)/B]`.
pub fn expected_calibration_error(labels: &[usize], scores: &[ImageScores]) -> f64 {
    let n = labels.len();
    if n == 0 {
        return 0.0;
    }
    let mut count = [0usize; ECE_BINS];
    let mut confidence = [0.0f64; ECE_BINS];
    let mut hits = [0usize; ECE_BINS];
    for (&truth, s) in labels.iter().zip(scores) {
        let conf = f64::from(s.confidence());
        let bin = ((conf * ECE_BINS as f64).ceil() as usize).clamp(1, ECE_BINS) - 1;
        count[bin] += 1;
        confidence[bin] += conf;
        hits[bin] += usize::from(truth == s.predicted());
    }
    (0..ECE_BINS)
        .filter(|&b| count[b] > 0)
        .map(|b| {
            let c = count[b] as f64;
            (c / n as f64) * (hits[b] as f64 / c - confidence[b] / c).abs()
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn classes() -> Vec<String> {
        vec!["daisy".into(), "dandelion".into()]
    }

    fn summaries(labels: &[usize], probabilities: &[Vec<f32>]) -> Vec<ImageScores> {
        labels
            .iter()
            .zip(probabilities)
            .map(|(&truth, p)| summarise(p, truth))
            .collect()
    }

    fn cell(true_class: usize, predicted: usize, count: usize) -> ConfusionCell {
        ConfusionCell {
            true_class,
            predicted,
            count,
        }
    }

    #[test]
    fn two_by_two_by_hand() {
        // Truth: daisy ×3, dandelion ×2. Predicted: daisy, daisy, dandelion | dandelion, daisy.
        let labels = [0, 0, 0, 1, 1];
        let p = |d: f32| vec![d, 1.0 - d];
        let probs = vec![p(0.9), p(0.8), p(0.3), p(0.2), p(0.6)];
        let m = compute(&classes(), &labels, &summaries(&labels, &probs));
        assert_eq!(
            m.confusion,
            vec![cell(0, 0, 2), cell(0, 1, 1), cell(1, 0, 1), cell(1, 1, 1)]
        );
        assert_eq!(m.confusion_matrix(2), vec![vec![2, 1], vec![1, 1]]);
        assert_eq!((m.n, m.correct), (5, 3));
        assert!((m.accuracy - 0.6).abs() < 1e-12);
        // daisy: precision 2/3, recall 2/3; dandelion: precision 1/2, recall 1/2.
        assert!((m.per_class[0].precision - 2.0 / 3.0).abs() < 1e-12);
        assert!((m.per_class[1].recall - 0.5).abs() < 1e-12);
        assert!((m.balanced_accuracy - (2.0 / 3.0 + 0.5) / 2.0).abs() < 1e-12);
        assert!((m.macro_f1 - (2.0 / 3.0 + 0.5) / 2.0).abs() < 1e-12);
        assert!(m.top_k.len() == 1 && (m.top_k[0] - 0.6).abs() < 1e-12);
        // Confidences 0.9 ✓, 0.8 ✓, 0.7 ✗, 0.8 ✓, 0.6 ✗: four bins, the two 0.8s share one.
        let expected = 0.2 * 0.1 + 0.4 * 0.2 + 0.2 * 0.7 + 0.2 * 0.6;
        assert!((m.ece - expected).abs() < 1e-6, "{} vs {expected}", m.ece);
    }

    #[test]
    fn ties_go_to_the_lowest_index_in_argmax_and_top_k() {
        assert_eq!(argmax(&[0.5, 0.5]), 0);
        assert_eq!(rank_of(&[0.5, 0.5], 1), 1);
        let probs = [vec![0.2, 0.4, 0.4]];
        let m = compute(
            &["a".into(), "b".into(), "c".into()],
            &[2],
            &summaries(&[2], &probs),
        );
        assert_eq!(m.correct, 0);
        assert_eq!(m.top_k, vec![0.0, 1.0]);
        assert_eq!(m.confusion, vec![cell(2, 1, 1)]);
    }

    #[test]
    fn a_summary_keeps_the_best_five_in_order_and_the_true_class() {
        let p = [0.1, 0.3, 0.05, 0.3, 0.02, 0.2, 0.03, 0.3, 0.0];
        let s = summarise(&p, 2);
        // Ties (classes 1, 3 and 7 at 0.3) in index order, as argmax breaks them.
        assert_eq!(
            s.top,
            vec![(1, 0.3), (3, 0.3), (7, 0.3), (5, 0.2), (0, 0.1)]
        );
        assert_eq!(s.predicted(), argmax(&p));
        assert_eq!((s.true_probability, s.true_rank), (0.05, 6));
        assert_eq!(summarise(&p, 7).true_rank, 3);
        assert_eq!(summarise(&[0.6, 0.4], 1).top, vec![(0, 0.6), (1, 0.4)]);
    }

    /// The rank histogram against counting each depth directly, on scattered scores.
    #[test]
    fn top_k_from_ranks_equals_counting_every_depth() {
        let k = 12;
        let labels: Vec<usize> = (0..40).map(|i| (i * 7) % k).collect();
        let probs: Vec<Vec<f32>> = (0..40)
            .map(|i| {
                (0..k)
                    .map(|c| ((i * 31 + c * 17) % 23) as f32 / 23.0)
                    .collect()
            })
            .collect();
        let m = compute(
            &(0..k).map(|c| c.to_string()).collect::<Vec<_>>(),
            &labels,
            &summaries(&labels, &probs),
        );
        let direct: Vec<f64> = (1..k)
            .map(|depth| {
                let hits = labels
                    .iter()
                    .zip(&probs)
                    .filter(|&(&t, p)| rank_of(p, t) < depth)
                    .count();
                hits as f64 / labels.len() as f64
            })
            .collect();
        assert_eq!(m.top_k, direct);
        assert!(m.top_k[0] < m.top_k[k - 2], "{:?}", m.top_k);
    }
}
