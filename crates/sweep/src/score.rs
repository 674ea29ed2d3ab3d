//! Zero-shot scoring: class embeddings from prompts, scaled cosine logits, softmax.

use ontosweep_clip::{Embedding, l2_normalise};

/// The mean of a class's L2-normalised prompt embeddings, renormalised (CLIP's prompt
/// ensembling).
pub fn class_embedding(prompts: &[Embedding]) -> Embedding {
    let dim = prompts.first().map_or(0, Vec::len);
    let mut mean = vec![0.0f32; dim];
    for p in prompts {
        for (m, v) in mean.iter_mut().zip(p) {
            *m += v;
        }
    }
    l2_normalise(&mut mean);
    mean
}

/// Softmax over `logit_scale × cosine` for each class (embeddings are unit length).
pub fn probabilities(image: &[f32], classes: &[Embedding], logit_scale: f32) -> Vec<f32> {
    let logits: Vec<f64> = classes
        .iter()
        .map(|c| {
            f64::from(logit_scale)
                * c.iter()
                    .zip(image)
                    .map(|(a, b)| f64::from(*a) * f64::from(*b))
                    .sum::<f64>()
        })
        .collect();
    let max = logits.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    let exps: Vec<f64> = logits.iter().map(|l| (l - max).exp()).collect();
    let total: f64 = exps.iter().sum();
    exps.iter().map(|e| (e / total) as f32).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ensemble_is_the_renormalised_mean() {
        let e = class_embedding(&[vec![1.0, 0.0], vec![0.0, 1.0]]);
        assert!(
            (e[0] - std::f32::consts::FRAC_1_SQRT_2).abs() < 1e-6 && (e[0] - e[1]).abs() < 1e-7
        );
    }

    #[test]
    fn softmax_of_scaled_cosines() {
        let p = probabilities(&[1.0, 0.0], &[vec![1.0, 0.0], vec![0.0, 1.0]], 2.0);
        // exp(2) / (exp(2) + exp(0))
        assert!((f64::from(p[0]) - 0.880_797).abs() < 1e-6);
        assert!((p.iter().sum::<f32>() - 1.0).abs() < 1e-6);
    }
}
