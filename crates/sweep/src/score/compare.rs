//! Comparisons: each ontology against the baseline (paired, on the same images), and each
//! model against the first (embedding cosine and shared predictions, e.g. int8 vs fp32).

use ontosweep_results::{Comparison, ModelAgreement, ModelResults, OntologyResults};

use ontosweep_stats::{
    BOOTSTRAP_RESAMPLES, BOOTSTRAP_SEED, holm, mcnemar_exact, paired_bootstrap_interval,
};

/// The cosines between two models' embeddings of the same images, summed in image order
/// as they are read, a chunk at a time.
pub struct Cosines {
    sum: f64,
    min: f64,
    count: usize,
    /// Cleared when two embeddings of one image differ in length.
    comparable: bool,
}

impl Default for Cosines {
    fn default() -> Self {
        Cosines {
            sum: 0.0,
            min: f64::INFINITY,
            count: 0,
            comparable: true,
        }
    }
}

impl Cosines {
    /// Adds the next images: `reference[i]` and `other[i]` embed the same image.
    pub fn add(&mut self, reference: &[impl AsRef<[f32]>], other: &[impl AsRef<[f32]>]) {
        for (a, b) in reference.iter().zip(other) {
            let (a, b) = (a.as_ref(), b.as_ref());
            if a.len() != b.len() {
                self.comparable = false;
                continue;
            }
            let cosine: f64 = a
                .iter()
                .zip(b)
                .map(|(x, y)| f64::from(*x) * f64::from(*y))
                .sum();
            self.sum += cosine;
            self.min = self.min.min(cosine);
            self.count += 1;
        }
    }
}

/// `model` against `reference` on the same images; `None` when their embeddings cannot be
/// compared (different sizes) or there are none. Predictions are read back from each
/// ontology's scores, a chunk at a time.
pub fn agreement(
    reference: &ModelResults,
    model: &ModelResults,
    cosines: &Cosines,
) -> std::io::Result<Option<ModelAgreement>> {
    if cosines.count == 0 || !cosines.comparable {
        return Ok(None);
    }
    let mut prediction_agreement = Vec::with_capacity(model.ontologies.len());
    for (o, r) in model.ontologies.iter().zip(&reference.ontologies) {
        let mut same = 0usize;
        for (a, b) in o.scores.chunks().zip(r.scores.chunks()) {
            let (a, b) = (a?, b?);
            same += a
                .iter()
                .zip(&b)
                .filter(|(a, b)| a.predicted() == b.predicted())
                .count();
        }
        prediction_agreement.push(same as f64 / o.scores.len() as f64);
    }
    Ok(Some(ModelAgreement {
        reference: reference.model.clone(),
        image_cosine_mean: cosines.sum / cosines.count as f64,
        image_cosine_min: cosines.min,
        prediction_agreement,
    }))
}

/// Fills `vs_baseline` for every ontology but the baseline, Holm-correcting the McNemar
/// p-values over this model's comparisons.
pub fn with_baseline(ontologies: &mut [OntologyResults], baseline: &str) {
    let Some(base) = ontologies.iter().find(|o| o.ontology == baseline) else {
        return;
    };
    let base_right = &base.correct;
    let base_accuracy = base.metrics.accuracy;
    let mut compared = Vec::new();
    for (index, ontology) in ontologies.iter().enumerate() {
        if ontology.ontology == baseline {
            continue;
        }
        let right = &ontology.correct;
        let gained = right
            .iter()
            .zip(base_right)
            .filter(|&(&r, &b)| r && !b)
            .count();
        let lost = right
            .iter()
            .zip(base_right)
            .filter(|&(&r, &b)| !r && b)
            .count();
        let (delta_ci_low, delta_ci_high) =
            paired_bootstrap_interval(right, base_right, BOOTSTRAP_RESAMPLES, BOOTSTRAP_SEED);
        let mcnemar_p = mcnemar_exact(gained, lost);
        compared.push((
            index,
            Comparison {
                delta: ontology.metrics.accuracy - base_accuracy,
                delta_ci_low,
                delta_ci_high,
                gained,
                lost,
                mcnemar_p,
                mcnemar_p_holm: mcnemar_p,
            },
        ));
    }
    // Controls are a family of their own: adding them must not weaken the wordings' tests.
    let (controls, wordings): (Vec<_>, Vec<_>) = compared
        .into_iter()
        .partition(|(index, _)| ontologies[*index].control.is_some());
    for family in [wordings, controls] {
        let raw: Vec<f64> = family.iter().map(|(_, c)| c.mcnemar_p).collect();
        for ((index, mut comparison), adjusted) in family.into_iter().zip(holm(&raw)) {
            comparison.mcnemar_p_holm = adjusted;
            ontologies[index].vs_baseline = Some(comparison);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use ontosweep_stats::metrics;

    fn model(name: &str, predictions: Vec<usize>) -> ModelResults {
        let labels = [0, 1, 0, 1];
        let scores: Vec<_> = labels
            .iter()
            .zip(&predictions)
            .map(|(&truth, &p)| {
                let mut row = [0.0, 0.0];
                row[p] = 1.0;
                metrics::summarise(&row, truth)
            })
            .collect();
        let metrics = metrics::compute(&["a".into(), "b".into()], &labels, &scores);
        let ontology = OntologyResults {
            ontology: "o".into(),
            prompts: BTreeMap::new(),
            correct: scores
                .iter()
                .zip(labels)
                .map(|(s, l)| s.predicted() == l)
                .collect(),
            scores: ontosweep_results::Records::write_all(&scores).unwrap(),
            probabilities: Default::default(),
            metrics,
            vs_baseline: None,
            search: None,
            control: None,
        };
        ModelResults {
            model: name.into(),
            family: "clip".into(),
            logit_scale: 100.0,
            logit_bias: None,
            ontologies: vec![ontology],
            vs_reference: None,
        }
    }

    #[test]
    fn agreement_compares_embeddings_and_predictions_image_by_image() {
        let (a, b) = (
            model("fp32", vec![0, 1, 0, 1]),
            model("int8", vec![0, 1, 1, 1]),
        );
        let s = std::f32::consts::FRAC_1_SQRT_2;
        let reference: Vec<&[f32]> = vec![&[1.0, 0.0], &[0.0, 1.0], &[1.0, 0.0], &[0.0, 1.0]];
        let diagonal = [s, s];
        let images: Vec<&[f32]> = vec![&[1.0, 0.0], &[0.0, 1.0], &diagonal, &[0.0, 1.0]];
        let mut cosines = Cosines::default();
        cosines.add(&reference[..2], &images[..2]);
        cosines.add(&reference[2..], &images[2..]);
        let result = agreement(&a, &b, &cosines).unwrap().unwrap();
        assert_eq!(result.reference, "fp32");
        assert_eq!(result.prediction_agreement, vec![0.75]);
        assert!((result.image_cosine_min - f64::from(s)).abs() < 1e-6);
        assert!((result.image_cosine_mean - (3.0 + f64::from(s)) / 4.0).abs() < 1e-6);
        let other_size: Vec<&[f32]> = vec![&[1.0]; 4];
        let mut cosines = Cosines::default();
        cosines.add(&reference, &other_size);
        assert_eq!(agreement(&a, &b, &cosines).unwrap(), None);
        assert_eq!(agreement(&a, &b, &Cosines::default()).unwrap(), None);
    }
}
