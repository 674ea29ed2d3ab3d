//! The score stage: plan + embeddings → per-model results, each ontology compared with the
//! baseline, each model after the first compared with the first. No encoder and no report
//! file; the embeddings are read back from the embed stage's store a chunk at a time. The
//! same embeddings always give the same results.
//!
//! When the experiment holds images out, searches see the dev split (labels included) and
//! every ontology is scored on the test split alone, the same images for all.

mod compare;
mod split;
pub mod zero_shot;

use std::collections::BTreeMap;

use ontosweep_clip::Embedding;
use ontosweep_experiment::Objective;
use ontosweep_models::Scoring;
use ontosweep_records::{RecordWriter, Records};
use ontosweep_results::{
    FEW_CLASSES, ImageScores, Metrics, ModelResults, OntologyFinding, OntologyResults,
    SearchOutcome,
};
use ontosweep_search::{self as search, greedy::DevSet};
use ontosweep_stats::metrics;
use rayon::prelude::*;

use crate::embed::{Embedded, ImageEmbeddings, ModelEmbeddings, storage_error};
use crate::error::SweepError;
use crate::plan::{ModelPlan, OntologyPlan, Plan};
use crate::prompt_checks::look_alike_classes;

pub use compare::{Cosines, agreement};
use zero_shot::ClassMatrix;

/// The results, and which dataset images they cover (in dataset order).
pub struct Scored {
    /// The images every ontology is scored on: the test split when there is one.
    pub kept: Vec<usize>,
    /// The dev split; empty without one.
    pub dev: Vec<usize>,
    /// Said when a side of the split is too small to read.
    pub split_warnings: Vec<String>,
    pub models: Vec<ModelResults>,
    /// Classes the text embeddings make look alike, per model and ontology.
    pub findings: Vec<OntologyFinding>,
}

pub fn score(plan: &Plan, embedded: &Embedded) -> Result<Scored, SweepError> {
    let images = &plan.dataset.images;
    let mut usable = Vec::with_capacity(images.len() - embedded.failures.len());
    usable.extend((0..images.len()).filter(|i| !embedded.failures.contains_key(i)));
    let split = split::divide(plan, embedded, usable)?;
    let dev_labels: Vec<usize> = split.dev_order.iter().map(|&i| images.label(i)).collect();
    let searched = plan
        .ontologies
        .iter()
        .any(|o| matches!(o, OntologyPlan::Search(_)));
    let mut models = Vec::with_capacity(plan.models.len());
    let mut findings = Vec::new();
    for (model, embeddings) in plan.models.iter().zip(&embedded.models) {
        check_sizes(&model.model.id, embeddings)?;
        refuse_oversized_searches(plan, split.dev_order.len(), embeddings.images.dim())?;
        // A search needs its dev images at hand: a dev fraction's embeddings, no more.
        let dev_embeddings = match searched {
            true => read(&embeddings.images, &split.dev_order)?,
            false => Vec::new(),
        };
        let dev = DevSet {
            images: dev_embeddings.iter().map(Vec::as_slice).collect(),
            labels: dev_labels.clone(),
        };
        let test = TestSet {
            store: &embeddings.images,
            images: &split.test,
            label: &|i| images.label(i),
        };
        models.push(score_model(
            plan,
            model,
            &test,
            &dev,
            embeddings,
            &mut findings,
        )?);
    }
    if let Some((reference, others)) = models.split_first_mut() {
        for (offset, model) in others.iter_mut().enumerate() {
            let mut cosines = Cosines::default();
            for chunk in split.test.chunks(CHUNK) {
                let a = read(&embedded.models[0].images, chunk)?;
                let b = read(&embedded.models[offset + 1].images, chunk)?;
                cosines.add(&a, &b);
            }
            model.vs_reference = agreement(reference, model, &cosines)
                .map_err(|e| SweepError::Clip(storage_error(e)))?;
        }
    }
    let mut dev = split.dev_order;
    dev.sort_unstable();
    Ok(Scored {
        kept: split.test,
        dev,
        split_warnings: split.warnings,
        models,
        findings,
    })
}

/// Test images are read from the store this many at a time: all of their embeddings that
/// memory holds at once.
const CHUNK: usize = 4096;

/// Images scored together against one block of classes (see [`ClassMatrix`]).
const BATCH: usize = 16;

/// The images every ontology is scored on, read from the store a chunk at a time.
struct TestSet<'a> {
    store: &'a ImageEmbeddings,
    /// Dataset indices, in scoring order.
    images: &'a [usize],
    /// A dataset image's label.
    label: &'a (dyn Fn(usize) -> usize + Sync),
}

fn read(store: &ImageEmbeddings, images: &[usize]) -> Result<Vec<Embedding>, SweepError> {
    store
        .read(images)
        .map_err(|e| SweepError::Clip(storage_error(e)))
}

/// One model's results: searches choose on `dev`, every ontology is scored on `test`.
fn score_model(
    plan: &Plan,
    model: &ModelPlan,
    test: &TestSet,
    dev: &DevSet,
    embeddings: &ModelEmbeddings,
    findings: &mut Vec<OntologyFinding>,
) -> Result<ModelResults, SweepError> {
    let classes = &plan.dataset.classes;
    let scoring = model.model.scoring;
    let scorer = Scorer {
        classes,
        embeddings,
        scoring,
    };
    let keep_all = classes.len() <= FEW_CLASSES || plan.experiment.report.all_probabilities;
    let mut ontologies = Vec::with_capacity(plan.ontologies.len());
    for (ontology, planned) in plan.experiment.ontologies.iter().zip(&plan.ontologies) {
        let (prompts, search) = match planned {
            OntologyPlan::Written(prompts) => (prompts.clone(), None),
            OntologyPlan::Search(space) => {
                let chosen =
                    search::choose(space, classes, dev, &embeddings.prompts, scoring.scale());
                (chosen.prompts, Some((space.spec.objective, chosen.outcome)))
            }
        };
        let class_embeddings = scorer.class_embeddings(&prompts);
        findings.extend(look_alike_classes(
            plan.experiment,
            ontology,
            &model.model.id,
            classes,
            &class_embeddings,
        ));
        let matrix = ClassMatrix::new(&class_embeddings);
        let scored = scorer.score_stored(&matrix, test, keep_all)?;
        let metrics = scored.tally.metrics(classes);
        let search = search
            .map(|(objective, outcome)| scorer.judged(outcome, objective, &matrix, dev, &metrics));
        ontologies.push(OntologyResults {
            ontology: ontology.name.clone(),
            prompts,
            correct: scored.correct,
            scores: scored.scores,
            probabilities: scored.probabilities,
            metrics,
            vs_baseline: None,
            search,
            control: ontology.control().map(|c| ontosweep_results::ControlInfo {
                kind: c.kind.name().into(),
                of: c.of.clone(),
                group: c.group.clone(),
                seed: c.seed,
                seeds: c.seeds,
            }),
        });
    }
    compare::with_baseline(&mut ontologies, &plan.experiment.baseline);
    Ok(ModelResults {
        model: model.model.id.clone(),
        family: model.model.family.name().into(),
        logit_scale: scoring.scale(),
        logit_bias: scoring.bias(),
        ontologies,
        vs_reference: None,
    })
}

/// One (model, ontology)'s scores on the test images.
struct StoredScores {
    scores: Records<ImageScores>,
    correct: Vec<bool>,
    probabilities: Records<Vec<f32>>,
    tally: metrics::Tally,
}

/// One model's zero-shot scoring of images against an ontology's prompts.
struct Scorer<'a> {
    classes: &'a [String],
    embeddings: &'a ModelEmbeddings,
    scoring: Scoring,
}

impl Scorer<'_> {
    /// Each class's ensembled text embedding, in class order.
    fn class_embeddings(&self, prompts: &BTreeMap<String, Vec<String>>) -> Vec<Embedding> {
        self.classes
            .iter()
            .map(|c| {
                let ensemble: Vec<Embedding> = prompts[c]
                    .iter()
                    .map(|p| self.embeddings.prompts[p].clone())
                    .collect();
                zero_shot::class_embedding(&ensemble)
            })
            .collect()
    }

    /// The test images' summaries (kept on disk) and predictions, their metrics' tally, and
    /// probability rows when `keep_all`: a chunk of embeddings at a time.
    fn score_stored(
        &self,
        matrix: &ClassMatrix,
        test: &TestSet,
        keep_all: bool,
    ) -> Result<StoredScores, SweepError> {
        let storage = |e| SweepError::Clip(storage_error(e));
        let mut scores = RecordWriter::new();
        let mut tally = metrics::Tally::new(self.classes.len());
        let mut correct = Vec::with_capacity(test.images.len());
        let mut rows = RecordWriter::new();
        for chunk in test.images.chunks(CHUNK) {
            let labels: Vec<usize> = chunk.iter().map(|&i| (test.label)(i)).collect();
            let labels = labels.as_slice();
            let embeddings = read(test.store, chunk)?;
            let images: Vec<&[f32]> = embeddings.iter().map(Vec::as_slice).collect();
            let (summaries, r) = self.score_with(matrix, &images, labels, keep_all);
            tally.add(labels, &summaries);
            correct.extend(
                summaries
                    .iter()
                    .zip(labels)
                    .map(|(s, &l)| s.predicted() == l),
            );
            for summary in &summaries {
                scores.push(summary).map_err(storage)?;
            }
            for row in &r {
                rows.push(row).map_err(storage)?;
            }
        }
        Ok(StoredScores {
            scores: scores.finish().map_err(storage)?,
            correct,
            probabilities: rows.finish().map_err(storage)?,
            tally,
        })
    }

    /// Each image's summary, and its whole probability row when `keep_all`: rows are
    /// summarised as they are computed, so memory follows images, not images × classes.
    fn score_with(
        &self,
        matrix: &ClassMatrix,
        images: &[&[f32]],
        labels: &[usize],
        keep_all: bool,
    ) -> (Vec<ImageScores>, Vec<Vec<f32>>) {
        let k = self.classes.len();
        let scored: Vec<(ImageScores, Vec<f32>)> = images
            .par_chunks(BATCH)
            .zip(labels.par_chunks(BATCH))
            .flat_map_iter(|(batch, truths)| {
                let mut rows = Vec::with_capacity(batch.len() * k);
                matrix.probabilities(batch, self.scoring, &mut rows);
                let scored: Vec<(ImageScores, Vec<f32>)> = rows
                    .chunks_exact(k)
                    .zip(truths)
                    .map(|(row, &truth)| {
                        let summary = metrics::summarise(row, truth);
                        (summary, if keep_all { row.to_vec() } else { Vec::new() })
                    })
                    .collect();
                scored
            })
            .collect();
        let (summaries, rows): (Vec<ImageScores>, Vec<Vec<f32>>) = scored.into_iter().unzip();
        (summaries, if keep_all { rows } else { Vec::new() })
    }

    /// A search's outcome with its objective on the dev images and on the test images.
    fn judged(
        &self,
        mut outcome: SearchOutcome,
        objective: Objective,
        matrix: &ClassMatrix,
        dev: &DevSet,
        on_test: &Metrics,
    ) -> SearchOutcome {
        let (on_dev, _) = self.score_with(matrix, &dev.images, &dev.labels, false);
        let on_dev = metrics::compute(self.classes, &dev.labels, &on_dev);
        outcome.dev_objective = objective_value(&on_dev, objective);
        outcome.test_objective = objective_value(on_test, objective);
        outcome
    }
}

fn objective_value(metrics: &Metrics, objective: Objective) -> f64 {
    match objective {
        Objective::Accuracy => metrics.accuracy,
        Objective::BalancedAccuracy => metrics.balanced_accuracy,
    }
}

/// A search holds tables of its dev images × candidate prompts: one that would not fit in
/// [`search::MAX_SEARCH_BYTES`] stops the run before it searches (every embedding is cached,
/// so the rerun encodes nothing), saying what to shrink.
fn refuse_oversized_searches(
    plan: &Plan,
    dev_images: usize,
    dim: Option<usize>,
) -> Result<(), SweepError> {
    let Some(dim) = dim else {
        return Ok(());
    };
    for (ontology, planned) in plan.experiment.ontologies.iter().zip(&plan.ontologies) {
        let OntologyPlan::Search(space) = planned else {
            continue;
        };
        let bytes = search::working_bytes(space, dev_images, dim);
        if bytes > search::MAX_SEARCH_BYTES {
            let gib = |b: u64| b as f64 / f64::from(1u32 << 30);
            let message = format!(
                "the prompt search `{}` would hold about {:.1} GiB while it searches ({dev_images} dev images, each against {} candidate prompts), over the {:.0} GiB a search may take; lower `split.dev_fraction`, or give it fewer templates or names (every embedding is cached: the rerun encodes nothing)",
                ontology.name,
                gib(bytes),
                space.prompts().count(),
                gib(search::MAX_SEARCH_BYTES),
            );
            let at = ["ontologies", ontology.name.as_str()];
            return Err(SweepError::Samples(
                plan.experiment.diagnostic(&at, message).to_string(),
            ));
        }
    }
    Ok(())
}

/// Every image embedding must have one length, and every prompt embedding that length.
fn check_sizes(model: &str, embeddings: &ModelEmbeddings) -> Result<(), SweepError> {
    if let Some((dim, other)) = embeddings.images.ragged() {
        return Err(SweepError::Model(format!(
            "model `{model}`: image embeddings of different lengths ({dim} and {other}); clear the embedding cache (or pass --no-cache) and run again"
        )));
    }
    let Some(dim) = embeddings.images.dim() else {
        return Ok(());
    };
    let mut mismatched: Vec<(&String, usize)> = embeddings
        .prompts
        .iter()
        .filter(|(_, e)| e.len() != dim)
        .map(|(p, e)| (p, e.len()))
        .collect();
    mismatched.sort();
    if let Some((prompt, len)) = mismatched.first() {
        return Err(SweepError::Model(format!(
            "model `{model}`: its text embeddings have {len} values (prompt {prompt:?}) but its image embeddings have {dim}; the text and vision towers do not belong to the same CLIP model"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn embeddings(images: &[&[f32]], prompts: HashMap<String, Vec<f32>>) -> ModelEmbeddings {
        let mut store = ImageEmbeddings::new(images.len());
        for (i, image) in images.iter().enumerate() {
            store.put(i, image).unwrap();
        }
        ModelEmbeddings {
            images: store,
            prompts,
            info: Default::default(),
        }
    }

    #[test]
    fn text_and_image_embeddings_of_different_lengths_are_an_error() {
        let images: Vec<&[f32]> = vec![&[1.0, 0.0], &[0.0, 1.0]];
        let prompts = HashMap::from([("daisy".to_string(), vec![1.0, 0.0, 0.0])]);
        let err = check_sizes("m", &embeddings(&images, prompts))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("3 values") && err.contains("have 2") && err.contains("\"daisy\""),
            "{err}"
        );
        let ragged: Vec<&[f32]> = vec![&[1.0, 0.0], &[1.0]];
        let err = check_sizes("m", &embeddings(&ragged, HashMap::new())).unwrap_err();
        assert!(err.to_string().contains("(2 and 1)"), "{err}");
        let prompts = HashMap::from([("daisy".to_string(), vec![1.0, 0.0])]);
        check_sizes("m", &embeddings(&images, prompts)).unwrap();
    }

    /// Images read back a chunk at a time are scored exactly as if all were in memory.
    #[test]
    fn chunked_scoring_equals_scoring_everything_at_once() {
        let n = 2 * CHUNK + 7;
        let images: Vec<Vec<f32>> = (0..n)
            .map(|i| {
                let angle = i as f32 * 0.37;
                vec![angle.cos(), angle.sin(), 0.1]
            })
            .collect();
        let slices: Vec<&[f32]> = images.iter().map(Vec::as_slice).collect();
        let model = embeddings(&slices, HashMap::new());
        let classes: Vec<String> = ["a", "b", "c"].map(String::from).to_vec();
        let scorer = Scorer {
            classes: &classes,
            embeddings: &model,
            scoring: Scoring::Softmax { scale: 100.0 },
        };
        let matrix = ClassMatrix::new(&[
            vec![1.0, 0.0, 0.0],
            vec![0.0, 1.0, 0.0],
            vec![-0.6, -0.8, 0.0],
        ]);
        // Every other image, backwards: the order given is the order scored.
        let order: Vec<usize> = (0..n).rev().step_by(2).collect();
        let labels: Vec<usize> = order.iter().map(|i| i % 3).collect();
        let test = TestSet {
            store: &model.images,
            images: &order,
            label: &|i| i % 3,
        };
        let stored = scorer.score_stored(&matrix, &test, true).unwrap();
        let chunked = stored.scores.to_vec().unwrap();
        let ordered: Vec<&[f32]> = order.iter().map(|&i| slices[i]).collect();
        let (whole, whole_rows) = scorer.score_with(&matrix, &ordered, &labels, true);
        assert_eq!(chunked.len(), order.len());
        assert_eq!(chunked, whole);
        assert_eq!(stored.probabilities.to_vec().unwrap(), whole_rows);
        let correct: Vec<bool> = whole
            .iter()
            .zip(&labels)
            .map(|(s, &l)| s.predicted() == l)
            .collect();
        assert_eq!(stored.correct, correct);
        assert_eq!(
            stored.tally.metrics(&classes),
            metrics::compute(&classes, &labels, &whole)
        );
    }
}
