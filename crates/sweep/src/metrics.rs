//! Classification metrics from per-image probabilities and labels.

use ontosweep_results::{ClassMetrics, Metrics};

use crate::stats::wilson_interval;

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

/// The predicted class of each image.
pub fn predictions(probabilities: &[Vec<f32>]) -> Vec<usize> {
    probabilities.iter().map(|p| argmax(p)).collect()
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

pub fn compute(
    classes: &[String],
    labels: &[usize],
    probabilities: &[Vec<f32>],
    predictions: &[usize],
) -> Metrics {
    let k = classes.len();
    let n = labels.len();
    let mut confusion = vec![vec![0usize; k]; k];
    for (&truth, &predicted) in labels.iter().zip(predictions) {
        confusion[truth][predicted] += 1;
    }
    let correct = (0..k).map(|c| confusion[c][c]).sum::<usize>();
    let per_class: Vec<ClassMetrics> = (0..k)
        .map(|c| {
            let support: usize = confusion[c].iter().sum();
            let predicted: usize = confusion.iter().map(|row| row[c]).sum();
            let hits = confusion[c][c];
            let precision = ratio(hits, predicted);
            let recall = ratio(hits, support);
            let f1 = if precision + recall > 0.0 {
                2.0 * precision * recall / (precision + recall)
            } else {
                0.0
            };
            ClassMetrics {
                class: classes[c].clone(),
                support,
                precision,
                recall,
                f1,
            }
        })
        .collect();
    let present: Vec<&ClassMetrics> = per_class.iter().filter(|m| m.support > 0).collect();
    let balanced_accuracy = mean(present.iter().map(|m| m.recall));
    let macro_f1 = mean(present.iter().map(|m| m.f1));
    let top_k = (1..k)
        .map(|depth| {
            let hits = labels
                .iter()
                .zip(probabilities)
                .filter(|&(&truth, p)| rank_of(p, truth) < depth)
                .count();
            ratio(hits, n)
        })
        .collect();
    let (ci_low, ci_high) = wilson_interval(correct, n);
    Metrics {
        n,
        correct,
        accuracy: ratio(correct, n),
        ci_low,
        ci_high,
        balanced_accuracy,
        macro_f1,
        ece: expected_calibration_error(labels, probabilities, predictions),
        top_k,
        per_class,
        confusion,
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
pub fn expected_calibration_error(
    labels: &[usize],
    probabilities: &[Vec<f32>],
    predictions: &[usize],
) -> f64 {
    let n = labels.len();
    if n == 0 {
        return 0.0;
    }
    let mut count = [0usize; ECE_BINS];
    let mut confidence = [0.0f64; ECE_BINS];
    let mut hits = [0usize; ECE_BINS];
    for ((&truth, p), &predicted) in labels.iter().zip(probabilities).zip(predictions) {
        let conf = f64::from(p[predicted]);
        let bin = ((conf * ECE_BINS as f64).ceil() as usize).clamp(1, ECE_BINS) - 1;
        count[bin] += 1;
        confidence[bin] += conf;
        hits[bin] += usize::from(truth == predicted);
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

    #[test]
    fn two_by_two_by_hand() {
        // Truth: daisy ×3, dandelion ×2. Predicted: daisy, daisy, dandelion | dandelion, daisy.
        let labels = [0, 0, 0, 1, 1];
        let p = |d: f32| vec![d, 1.0 - d];
        let probs = vec![p(0.9), p(0.8), p(0.3), p(0.2), p(0.6)];
        let m = compute(&classes(), &labels, &probs, &predictions(&probs));
        assert_eq!(m.confusion, vec![vec![2, 1], vec![1, 1]]);
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
            &probs,
            &predictions(&probs),
        );
        assert_eq!(m.correct, 0);
        assert_eq!(m.top_k, vec![0.0, 1.0]);
    }
}
