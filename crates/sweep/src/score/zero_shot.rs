//! Zero-shot scoring: class embeddings from prompts, scaled cosine logits, softmax; and
//! which embeddings can be scored at all.

use ontosweep_clip::{Embedding, l2_normalise};

/// Why an embedding cannot be scored, if it cannot: NaN or infinite values, or no direction
/// at all. Such an image would otherwise be "predicted" as the first class.
pub fn unusable(embedding: &[f32]) -> Option<&'static str> {
    if embedding.iter().any(|v| !v.is_finite()) {
        Some("the model gave a non-finite embedding (NaN or infinity)")
    } else if embedding.iter().all(|&v| v == 0.0) {
        Some("the model gave an all-zero embedding")
    } else {
        None
    }
}

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
    fn nan_infinite_and_zero_embeddings_are_unusable() {
        assert!(unusable(&[0.6, 0.8]).is_none());
        assert!(unusable(&[f32::NAN, 1.0]).unwrap().contains("non-finite"));
        assert!(unusable(&[f32::INFINITY, 0.0]).is_some());
        assert!(unusable(&[0.0, 0.0]).unwrap().contains("all-zero"));
        assert!(unusable(&[]).is_some());
    }

    #[test]
    fn softmax_of_scaled_cosines() {
        let p = probabilities(&[1.0, 0.0], &[vec![1.0, 0.0], vec![0.0, 1.0]], 2.0);
        // exp(2) / (exp(2) + exp(0))
        assert!((f64::from(p[0]) - 0.880_797).abs() < 1e-6);
        assert!((p.iter().sum::<f32>() - 1.0).abs() < 1e-6);
    }
}
