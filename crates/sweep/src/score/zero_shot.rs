//! Zero-shot scoring: class embeddings from prompts, scaled cosine logits, then CLIP's
//! softmax over classes or SigLIP's sigmoid per class; and which embeddings can be scored.

use ontosweep_clip::{Embedding, l2_normalise};
pub use ontosweep_models::Scoring;

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

/// Each class's probability for an image (embeddings are unit length).
pub fn probabilities(image: &[f32], classes: &[Embedding], scoring: Scoring) -> Vec<f32> {
    let matrix = ClassMatrix::new(classes);
    let mut rows = Vec::new();
    matrix.probabilities(&[image], scoring, &mut rows);
    rows
}

/// Classes per block of [`ClassMatrix`]: a block of 512-value embeddings (256 KiB) stays in
/// the core's cache while a batch of images passes over it.
const BLOCK: usize = 64;

/// The class embeddings widened to f64 and laid out dimension-major in blocks of [`BLOCK`]
/// classes, so one image's logits for a block are computed side by side. Each logit is the
/// same sum, in the same order, as a plain dot product: only the lanes run in parallel, so
/// the numbers do not change.
pub struct ClassMatrix {
    classes: usize,
    dim: usize,
    /// `[block][dimension][class in block]`, the last block padded with zeros.
    blocks: Vec<f64>,
}

impl ClassMatrix {
    pub fn new(classes: &[Embedding]) -> Self {
        let dim = classes.first().map_or(0, Vec::len);
        let count = classes.len().div_ceil(BLOCK);
        let mut blocks = vec![0.0; count * dim * BLOCK];
        for (c, embedding) in classes.iter().enumerate() {
            let (block, lane) = (c / BLOCK, c % BLOCK);
            for (d, &v) in embedding.iter().enumerate() {
                blocks[(block * dim + d) * BLOCK + lane] = f64::from(v);
            }
        }
        ClassMatrix {
            classes: classes.len(),
            dim,
            blocks,
        }
    }

    /// Every image's probabilities, image after image, into `out` (cleared first).
    pub fn probabilities(&self, images: &[&[f32]], scoring: Scoring, out: &mut Vec<f32>) {
        let k = self.classes;
        out.clear();
        if k == 0 {
            return;
        }
        let mut logits = vec![0.0f64; images.len() * k];
        let widened: Vec<Vec<f64>> = images
            .iter()
            .map(|i| i.iter().map(|&v| f64::from(v)).collect())
            .collect();
        let block_len = (self.dim * BLOCK).max(1); // no dimensions: every cosine stays 0
        for (b, block) in self.blocks.chunks_exact(block_len).enumerate() {
            let first = b * BLOCK;
            let width = BLOCK.min(k - first);
            for (image, row) in widened.iter().zip(logits.chunks_exact_mut(k)) {
                let sums = block_sums(block, image);
                row[first..first + width].copy_from_slice(&sums[..width]);
            }
        }
        for row in logits.chunks_exact_mut(k) {
            scores(row, scoring, out);
        }
    }
}

/// One image's cosines with one block of classes: the widest vector unit the processor has
/// runs the lanes, and every lane adds in dimension order whichever runs (no fused
/// multiply-add), so the sums are the same.
fn block_sums(block: &[f64], image: &[f64]) -> [f64; BLOCK] {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx512f") {
            // SAFETY: the processor has AVX-512F, checked just above.
            return unsafe { block_sums_avx512(block, image) };
        }
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the processor has AVX2, checked just above.
            return unsafe { block_sums_avx2(block, image) };
        }
    }
    block_sums_portable(block, image)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
fn block_sums_avx512(block: &[f64], image: &[f64]) -> [f64; BLOCK] {
    block_sums_portable(block, image)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn block_sums_avx2(block: &[f64], image: &[f64]) -> [f64; BLOCK] {
    block_sums_portable(block, image)
}

#[inline(always)]
fn block_sums_portable(block: &[f64], image: &[f64]) -> [f64; BLOCK] {
    let mut sums = [0.0f64; BLOCK];
    for (x, weights) in image.iter().zip(block.chunks_exact(BLOCK)) {
        for (sum, w) in sums.iter_mut().zip(weights) {
            *sum += w * x;
        }
    }
    sums
}

/// Appends one image's scores for its cosines (overwritten on the way).
fn scores(cosines: &mut [f64], scoring: Scoring, out: &mut Vec<f32>) {
    let scale = f64::from(scoring.scale());
    match scoring {
        Scoring::Softmax { .. } => {
            let max = cosines
                .iter()
                .map(|c| scale * c)
                .fold(f64::NEG_INFINITY, f64::max);
            for c in cosines.iter_mut() {
                *c = (scale * *c - max).exp();
            }
            let total: f64 = cosines.iter().sum();
            out.extend(cosines.iter().map(|e| (e / total) as f32));
        }
        Scoring::Sigmoid { bias, .. } => out.extend(
            cosines
                .iter()
                .map(|c| (1.0 / (1.0 + (-(scale * c + f64::from(bias))).exp())) as f32),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Deterministic values in [-1, 1).
    fn values(seed: u64, n: usize) -> Vec<f32> {
        let mut state = seed;
        (0..n)
            .map(|_| {
                state = state
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1_442_695_040_888_963_407);
                ((state >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
            })
            .collect()
    }

    /// The plain computation the blocked one must equal bit for bit: one dot product per
    /// class, summed in dimension order.
    fn plain(image: &[f32], classes: &[Embedding], scoring: Scoring) -> Vec<f32> {
        let cosines: Vec<f64> = classes
            .iter()
            .map(|c| {
                c.iter()
                    .zip(image)
                    .map(|(a, b)| f64::from(*a) * f64::from(*b))
                    .sum::<f64>()
            })
            .collect();
        let scale = f64::from(scoring.scale());
        match scoring {
            Scoring::Softmax { .. } => {
                let logits: Vec<f64> = cosines.iter().map(|c| scale * c).collect();
                let max = logits.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
                let exps: Vec<f64> = logits.iter().map(|l| (l - max).exp()).collect();
                let total: f64 = exps.iter().sum();
                exps.iter().map(|e| (e / total) as f32).collect()
            }
            Scoring::Sigmoid { bias, .. } => cosines
                .iter()
                .map(|c| (1.0 / (1.0 + (-(scale * c + f64::from(bias))).exp())) as f32)
                .collect(),
        }
    }

    /// Each vector unit this processor has gives the portable kernel's sums, bit for bit.
    #[test]
    fn every_kernel_gives_the_same_sums() {
        let dim = 29;
        let block: Vec<f64> = values(7, dim * BLOCK).into_iter().map(f64::from).collect();
        let image: Vec<f64> = values(8, dim).into_iter().map(f64::from).collect();
        let portable = block_sums_portable(&block, &image);
        assert_eq!(block_sums(&block, &image), portable);
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx2") {
                // SAFETY: checked just above.
                assert_eq!(unsafe { block_sums_avx2(&block, &image) }, portable);
            }
            if std::arch::is_x86_feature_detected!("avx512f") {
                // SAFETY: checked just above.
                assert_eq!(unsafe { block_sums_avx512(&block, &image) }, portable);
            }
        }
    }

    #[test]
    fn blocked_scores_equal_one_dot_product_per_class_bit_for_bit() {
        let dim = 37;
        // More than two blocks, the last one partly filled.
        let classes: Vec<Embedding> = (0..150).map(|c| values(c, dim)).collect();
        let images: Vec<Vec<f32>> = (0..9).map(|i| values(1000 + i, dim)).collect();
        let images: Vec<&[f32]> = images.iter().map(Vec::as_slice).collect();
        let matrix = ClassMatrix::new(&classes);
        for scoring in [
            Scoring::Softmax { scale: 100.0 },
            Scoring::Sigmoid {
                scale: 10.0,
                bias: -5.0,
            },
        ] {
            let mut rows = Vec::new();
            matrix.probabilities(&images, scoring, &mut rows);
            let expected: Vec<f32> = images
                .iter()
                .flat_map(|i| plain(i, &classes, scoring))
                .collect();
            assert_eq!(rows.len(), 9 * 150);
            let bits = |v: &[f32]| v.iter().map(|p| p.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(&rows), bits(&expected));
        }
    }

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
        let classes = [vec![1.0, 0.0], vec![0.0, 1.0]];
        let p = probabilities(&[1.0, 0.0], &classes, Scoring::Softmax { scale: 2.0 });
        assert!(probabilities(&[1.0, 0.0], &[], Scoring::Softmax { scale: 2.0 }).is_empty());
        // exp(2) / (exp(2) + exp(0))
        assert!((f64::from(p[0]) - 0.880_797).abs() < 1e-6);
        assert!((p.iter().sum::<f32>() - 1.0).abs() < 1e-6);
    }

    /// The reference's `sigmoid(logits_per_image)` on the tiny SigLIP's golden embeddings.
    #[test]
    fn sigmoid_scores_equal_the_reference_siglip() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../clip/tests/golden/siglip/embeddings.json");
        let golden: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        let embedding = |list: &str, key: &str, name: &str| -> Option<Embedding> {
            let case = golden[list].as_array()?.iter().find(|c| c[key] == name)?;
            serde_json::from_value(case["embedding"].clone()).ok()
        };
        let logits = &golden["logits"];
        // The prompts whose reference embeddings are stored, with their columns.
        let (columns, texts): (Vec<usize>, Vec<Embedding>) = logits["texts"]
            .as_array()
            .unwrap()
            .iter()
            .enumerate()
            .filter_map(|(j, t)| Some((j, embedding("texts", "text", t.as_str()?)?)))
            .unzip();
        assert!(texts.len() >= 2);
        let scoring = Scoring::Sigmoid {
            scale: golden["logit_scale_exp"].as_f64().unwrap() as f32,
            bias: golden["logit_bias"].as_f64().unwrap() as f32,
        };
        for (i, image) in logits["images"].as_array().unwrap().iter().enumerate() {
            let image = embedding("images", "file", image.as_str().unwrap()).unwrap();
            let ours = probabilities(&image, &texts, scoring);
            let reference: Vec<f32> = serde_json::from_value(logits["sigmoid"][i].clone()).unwrap();
            for (a, &j) in ours.iter().zip(&columns) {
                assert!((a - reference[j]).abs() < 1e-5, "{ours:?} vs {reference:?}");
            }
        }
    }

    #[test]
    fn sigmoid_of_scaled_cosines_plus_bias_per_class() {
        let classes = [vec![1.0, 0.0], vec![0.0, 1.0]];
        let scoring = Scoring::Sigmoid {
            scale: 10.0,
            bias: -5.0,
        };
        let p = probabilities(&[1.0, 0.0], &classes, scoring);
        // sigmoid(10·1 − 5) and sigmoid(10·0 − 5): independent, not summing to one.
        assert!((f64::from(p[0]) - 0.993_307).abs() < 1e-6, "{p:?}");
        assert!((f64::from(p[1]) - 0.006_693).abs() < 1e-6, "{p:?}");
    }
}
