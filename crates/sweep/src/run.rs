//! One sweep, start to finish: dataset → embeddings (cached) → scores → metrics → results.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use ontosweep_clip::{
    ClipTokenizer, Ep, EpChoice, ImageEncoder, IoNames, Preprocessing, Runtime, SessionOptions,
    TextEncoder, Tokens,
};
use ontosweep_results::{
    Comparison, ImageRecord, ModelAgreement, ModelResults, ModelRunInfo, OntologyResults,
    RunMetadata, RuntimeInfo, SkippedFile, SweepResults,
};

use crate::cache::{EmbeddingCache, namespace};
use crate::config::{ConfigErrors, Experiment};
use crate::dataset::{self, Dataset};
use crate::encode::{ImageOutcome, content_keys, encode_missing, look_up};
use crate::models::{ResolvedModel, resolve};
use crate::progress::Progress;
use crate::provision::{KNOWN_ARCHIVES, fetch_archive};
use crate::stats::{
    BOOTSTRAP_RESAMPLES, BOOTSTRAP_SEED, holm, mcnemar_exact, paired_bootstrap_interval,
};
use crate::{metrics, score};

#[derive(Debug, Clone)]
pub struct SweepOptions {
    /// Replaces `dataset.root`.
    pub data_root: Option<PathBuf>,
    /// Replaces the file's `models`.
    pub model_dir: Option<PathBuf>,
    /// Where `models/<id>.yaml` files are.
    pub models_dir: PathBuf,
    pub ep: EpChoice,
    /// Images per encoder call; `None`: [`default_batch_size`] for the provider in use.
    pub batch_size: Option<usize>,
    /// `None` turns the embedding cache off.
    pub cache_dir: Option<PathBuf>,
    /// ONNX Runtime intra-op threads (0: one per core).
    pub intra_threads: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum SweepError {
    #[error("{0}")]
    Config(#[from] ConfigErrors),
    #[error("{0}")]
    Dataset(String),
    #[error("{0}")]
    Model(String),
    #[error("{0}")]
    Cache(String),
    #[error(transparent)]
    Clip(#[from] ontosweep_clip::Error),
}

/// The results, and warnings the user should read (truncated prompts, cache trouble).
pub struct SweepOutcome {
    pub results: SweepResults,
    pub warnings: Vec<String>,
}

pub fn load_dataset(
    experiment: &Experiment,
    data_root: Option<&Path>,
    progress: &dyn Progress,
) -> Result<Dataset, SweepError> {
    let spec = &experiment.dataset;
    let in_file = |e: String| SweepError::Dataset(format!("{}: {e}", experiment.file.display()));
    let root = data_root.or(spec.root.as_deref());
    if let (Some(root), Some(name)) = (root, &spec.download)
        && !root.exists()
    {
        let archive = KNOWN_ARCHIVES
            .iter()
            .find(|a| a.name == name)
            .expect("validated: a known download");
        fetch_archive(archive, root, progress).map_err(in_file)?;
    }
    let dataset = match (root, &spec.manifest) {
        (Some(root), _) => dataset::scan_folder(root, spec.classes.as_deref()),
        (None, Some(manifest)) => dataset::read_manifest(manifest, spec.classes.as_deref()),
        (None, None) => unreachable!("validated: a dataset has a root or a manifest"),
    }
    .map_err(in_file)?;
    experiment.check_classes(&dataset.classes)?;
    Ok(dataset)
}

/// Runs the sweep over `dataset`, which [`load_dataset`] made from this experiment (checked
/// before any model is loaded).
pub fn run(
    experiment: &Experiment,
    dataset: &Dataset,
    runtime: &Runtime,
    options: &SweepOptions,
    progress: &dyn Progress,
) -> Result<SweepOutcome, SweepError> {
    let started = Instant::now();
    let started_at_unix = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let models = resolve(
        experiment,
        &options.models_dir,
        options.model_dir.as_deref(),
        progress,
    )
    .map_err(SweepError::Model)?;
    let cache = match &options.cache_dir {
        Some(dir) => Some(EmbeddingCache::open(dir).map_err(|e| {
            SweepError::Cache(format!(
                "cannot use the embedding cache at {}: {e}; pass --cache-dir DIR or --no-cache",
                dir.display()
            ))
        })?),
        None => None,
    };
    let mut warnings = Vec::new();
    let session_options = SessionOptions {
        ep: options.ep,
        intra_threads: options.intra_threads,
    };

    let paths: Vec<PathBuf> = dataset.images.iter().map(|i| i.path.clone()).collect();
    let keys = content_keys(&paths);
    let scan_seconds = started.elapsed().as_secs_f64();

    // Image embeddings for every model; an image that fails for any model is left out of
    // all, so every comparison is on the same images.
    let mut failures: BTreeMap<usize, String> = BTreeMap::new();
    let mut per_model_embeddings = Vec::new();
    let mut run_infos = Vec::new();
    let mut image_encode_seconds = 0.0;
    let mut batch_size = None;
    let mut images_encoded = 0;
    for model in &models {
        let preprocessing = Preprocessing::from_config_file(&model.dir.preprocessor_config())?;
        let vision_sha256 = fingerprint(cache.as_ref(), &model.dir.vision_files())?;
        let image_ns = image_namespace(&vision_sha256, &preprocessing, &model.spec.io);
        let timer = Instant::now();
        let cache_slot = cache.as_ref().map(|c| (c, image_ns.as_str()));
        let mut lookup = look_up(&keys, cache_slot);
        // The vision tower is loaded only when something is left to encode.
        let vision_ep = if lookup.to_encode.is_empty() {
            "cache".to_string()
        } else {
            let mut encoder =
                ImageEncoder::new(runtime, &model.dir, &model.spec.io, session_options)?;
            let batch = options
                .batch_size
                .unwrap_or(default_batch_size(encoder.ep()));
            batch_size.get_or_insert(batch);
            encode_missing(
                &mut encoder,
                &paths,
                &keys,
                &mut lookup,
                cache_slot,
                batch,
                progress,
            )?;
            encoder.ep().to_string()
        };
        let outcomes = lookup.finish();
        image_encode_seconds += timer.elapsed().as_secs_f64();
        let mut embeddings = Vec::with_capacity(outcomes.len());
        let (mut encoded, mut from_cache) = (0, 0);
        for (i, outcome) in outcomes.into_iter().enumerate() {
            match outcome {
                ImageOutcome::Embedded {
                    embedding,
                    from_cache: cached,
                } => {
                    if cached {
                        from_cache += 1
                    } else {
                        encoded += 1
                    }
                    embeddings.push(Some(embedding));
                }
                ImageOutcome::Failed(reason) => {
                    failures.entry(i).or_insert(reason);
                    embeddings.push(None);
                }
            }
        }
        images_encoded += encoded;
        per_model_embeddings.push(embeddings);
        run_infos.push(ModelRunInfo {
            id: model.id.clone(),
            directory: model.dir.root().display().to_string(),
            vision_sha256,
            text_sha256: fingerprint(cache.as_ref(), &model.dir.text_files())?,
            vision_ep,
            images_encoded: encoded,
            images_from_cache: from_cache,
            ..Default::default()
        });
    }
    let kept: Vec<usize> = (0..dataset.images.len())
        .filter(|i| !failures.contains_key(i))
        .collect();
    for (label, class) in dataset.classes.iter().enumerate() {
        if !kept.iter().any(|&i| dataset.images[i].label == label) {
            let reasons: Vec<String> = failures
                .iter()
                .filter(|(i, _)| dataset.images[**i].label == label)
                .map(|(i, r)| format!("  {}: {r}", dataset.images[*i].relative))
                .collect();
            return Err(SweepError::Dataset(format!(
                "class `{class}` has no image that could be read; every file failed:\n{}",
                reasons.join("\n")
            )));
        }
    }
    let labels: Vec<usize> = kept.iter().map(|&i| dataset.images[i].label).collect();

    // Prompts, tokenised once per model and encoded once per distinct prompt.
    let (mut text_encode_seconds, mut scoring_seconds) = (0.0, 0.0);
    let mut model_results = Vec::new();
    for ((model, embeddings), info) in models.iter().zip(&per_model_embeddings).zip(&mut run_infos)
    {
        let text_timer = Instant::now();
        let prompt_embeddings = encode_prompts(
            experiment,
            &dataset.classes,
            model,
            runtime,
            session_options,
            cache.as_ref(),
            info,
            &mut warnings,
        )?;
        text_encode_seconds += text_timer.elapsed().as_secs_f64();
        let scoring_timer = Instant::now();
        let images: Vec<&[f32]> = kept
            .iter()
            .map(|&i| embeddings[i].as_deref().expect("kept images are embedded"))
            .collect();
        check_embedding_sizes(&model.id, &images, &prompt_embeddings)?;
        let mut ontologies = Vec::new();
        for ontology in &experiment.ontologies {
            let prompts: BTreeMap<String, Vec<String>> = dataset
                .classes
                .iter()
                .map(|c| (c.clone(), ontology.prompts_for(c)))
                .collect();
            let class_embeddings: Vec<Vec<f32>> = dataset
                .classes
                .iter()
                .map(|c| {
                    score::class_embedding(
                        &prompts[c]
                            .iter()
                            .map(|p| prompt_embeddings[p].clone())
                            .collect::<Vec<_>>(),
                    )
                })
                .collect();
            let probabilities: Vec<Vec<f32>> = images
                .iter()
                .map(|img| score::probabilities(img, &class_embeddings, model.spec.logit_scale))
                .collect();
            let predictions = probabilities.iter().map(|p| metrics::argmax(p)).collect();
            let metrics = metrics::compute(&dataset.classes, &labels, &probabilities);
            ontologies.push(OntologyResults {
                ontology: ontology.name.clone(),
                prompts,
                predictions,
                probabilities,
                metrics,
                vs_baseline: None,
            });
        }
        compare_with_baseline(&mut ontologies, &experiment.baseline, &labels);
        scoring_seconds += scoring_timer.elapsed().as_secs_f64();
        model_results.push(ModelResults {
            model: model.id.clone(),
            logit_scale: model.spec.logit_scale,
            ontologies,
            vs_reference: None,
        });
    }

    if let Some((reference, others)) = model_results.split_first_mut() {
        let kept_embeddings = |m: usize| -> Vec<&[f32]> {
            kept.iter()
                .map(|&i| {
                    per_model_embeddings[m][i]
                        .as_deref()
                        .expect("kept images are embedded")
                })
                .collect()
        };
        for (offset, model) in others.iter_mut().enumerate() {
            model.vs_reference = agreement(
                reference,
                &kept_embeddings(0),
                model,
                &kept_embeddings(offset + 1),
            );
        }
    }

    let mut skipped = dataset.skipped.clone();
    skipped.extend(failures.iter().map(|(&i, reason)| SkippedFile {
        path: dataset.images[i].relative.clone(),
        reason: reason.clone(),
    }));
    skipped.sort_by(|a, b| a.path.cmp(&b.path));
    let images = kept
        .iter()
        .map(|&i| ImageRecord {
            path: dataset.images[i].relative.clone(),
            source: dataset.images[i].path.display().to_string(),
            label: dataset.images[i].label,
        })
        .collect::<Vec<_>>();
    let run = RunMetadata {
        tool_version: env!("CARGO_PKG_VERSION").into(),
        started_at_unix,
        experiment_file: experiment.file.display().to_string(),
        dataset_root: dataset.root.display().to_string(),
        onnxruntime: RuntimeInfo {
            version: runtime.version().into(),
            library: runtime.library().display().to_string(),
            intra_op_threads: if options.intra_threads == 0 {
                std::thread::available_parallelism().map_or(1, |n| n.get())
            } else {
                options.intra_threads
            },
        },
        batch_size: batch_size
            .or(options.batch_size)
            .unwrap_or(default_batch_size(Ep::Cpu)),
        bootstrap_resamples: BOOTSTRAP_RESAMPLES,
        bootstrap_seed: BOOTSTRAP_SEED,
        models: run_infos,
        images_found: dataset.images.len(),
        images_scored: images.len(),
        images_skipped: skipped.len(),
        timings: ontosweep_results::Timings {
            total_seconds: started.elapsed().as_secs_f64(),
            scan_seconds,
            image_encode_seconds,
            images_encoded,
            text_encode_seconds,
            scoring_seconds,
        },
    };
    let results = SweepResults {
        experiment: experiment.name.clone(),
        classes: dataset.classes.clone(),
        baseline: experiment.baseline.clone(),
        images,
        skipped,
        models: model_results,
        run,
    };
    Ok(SweepOutcome { results, warnings })
}

/// The cache namespace of image embeddings: everything but the image that decides them.
fn image_namespace(vision_sha256: &str, preprocessing: &Preprocessing, io: &IoNames) -> String {
    namespace(&[
        vision_sha256,
        &serde_json::to_string(preprocessing).unwrap_or_default(),
        &io.pixel_values,
        &io.image_embeds,
        &ontosweep_clip::EMBEDDING_CODE_VERSION.to_string(),
    ])
}

/// The cache namespace of prompt embeddings (the key is the token ids).
fn text_namespace(text_sha256: &str, io: &IoNames) -> String {
    namespace(&[
        text_sha256,
        &io.input_ids,
        &io.attention_mask,
        &io.text_embeds,
        &ontosweep_clip::EMBEDDING_CODE_VERSION.to_string(),
    ])
}

/// A model identity, remembered by the cache when there is one.
fn fingerprint(
    cache: Option<&EmbeddingCache>,
    files: &[PathBuf],
) -> Result<String, ontosweep_clip::Error> {
    match cache {
        Some(cache) => cache.fingerprint(files),
        None => ontosweep_clip::fingerprint(files),
    }
}

/// Images per encoder call when the user does not say: a GPU wants large batches.
pub fn default_batch_size(ep: Ep) -> usize {
    match ep {
        Ep::Cpu => 32,
        Ep::Cuda => 256,
    }
}

/// Embeddings of every distinct prompt of every ontology, for one model.
#[allow(clippy::too_many_arguments)]
fn encode_prompts(
    experiment: &Experiment,
    classes: &[String],
    model: &ResolvedModel,
    runtime: &Runtime,
    session_options: SessionOptions,
    cache: Option<&EmbeddingCache>,
    info: &mut ModelRunInfo,
    warnings: &mut Vec<String>,
) -> Result<HashMap<String, Vec<f32>>, SweepError> {
    let tokenizer = ClipTokenizer::from_file(&model.dir.tokenizer())?;
    let text_ns = text_namespace(&info.text_sha256, &model.spec.io);
    let mut distinct: Vec<(String, Tokens)> = Vec::new();
    for ontology in &experiment.ontologies {
        for class in classes {
            for prompt in ontology.prompts_for(class) {
                if distinct.iter().any(|(p, _)| *p == prompt) {
                    continue;
                }
                let tokens = tokenizer.encode(&prompt)?;
                if tokens.truncated {
                    warnings.push(
                        experiment
                            .diagnostic_at(&["ontologies", &ontology.name], prompt.split("{}").next().unwrap_or(&prompt), format!(
                                "warning: prompt {prompt:?} is longer than CLIP's 77 tokens and was truncated; shorten it to keep its end"
                            ))
                            .to_string(),
                    );
                }
                distinct.push((prompt, tokens));
            }
        }
    }
    let key = |t: &Tokens| crate::cache::content_key(format!("{:?}", t.ids).as_bytes());
    let mut embeddings = HashMap::new();
    let mut missing = Vec::new();
    for (prompt, tokens) in &distinct {
        match cache.and_then(|c| c.get(&text_ns, &key(tokens))) {
            Some(e) => {
                embeddings.insert(prompt.clone(), e);
                info.prompts_from_cache += 1;
            }
            None => missing.push((prompt, tokens)),
        }
    }
    if !missing.is_empty() {
        let mut encoder = TextEncoder::new(runtime, &model.dir, &model.spec.io, session_options)?;
        info.text_ep = encoder.ep().to_string();
        let tokens: Vec<Tokens> = missing.iter().map(|(_, t)| (*t).clone()).collect();
        let encoded = encoder.encode(&tokens, 64)?;
        for ((prompt, tokens), embedding) in missing.into_iter().zip(encoded) {
            if let Some(c) = cache
                && let Err(e) = c.put(&text_ns, &key(tokens), &embedding)
            {
                warnings.push(format!("warning: could not write the embedding cache: {e}"));
            }
            embeddings.insert(prompt.clone(), embedding);
            info.prompts_encoded += 1;
        }
    } else {
        info.text_ep = "cache".into();
    }
    for (prompt, _) in &distinct {
        if let Some(reason) = embeddings.get(prompt).and_then(|e| score::unusable(e)) {
            return Err(SweepError::Model(format!(
                "model `{}`: {reason} for the prompt {prompt:?}; no image can be scored against it. Check the model's text tower (e.g. an fp16 export that overflows) or reword the prompt",
                model.id
            )));
        }
    }
    Ok(embeddings)
}

/// Every prompt embedding must have the length of the image embeddings it is compared with.
fn check_embedding_sizes(
    model: &str,
    images: &[&[f32]],
    prompts: &HashMap<String, Vec<f32>>,
) -> Result<(), SweepError> {
    let Some(dim) = images.first().map(|e| e.len()) else {
        return Ok(());
    };
    if let Some(other) = images.iter().find(|e| e.len() != dim) {
        return Err(SweepError::Model(format!(
            "model `{model}`: image embeddings of different lengths ({dim} and {}); clear the embedding cache (or pass --no-cache) and run again",
            other.len()
        )));
    }
    let mut mismatched: Vec<(&String, usize)> = prompts
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

/// `model` against `reference` on the same images; `None` when their embeddings cannot be
/// compared (different sizes).
pub fn agreement(
    reference: &ModelResults,
    reference_images: &[&[f32]],
    model: &ModelResults,
    images: &[&[f32]],
) -> Option<ModelAgreement> {
    if images.is_empty()
        || images
            .iter()
            .zip(reference_images)
            .any(|(a, b)| a.len() != b.len())
    {
        return None;
    }
    let cosines: Vec<f64> = images
        .iter()
        .zip(reference_images)
        .map(|(a, b)| {
            a.iter()
                .zip(*b)
                .map(|(x, y)| f64::from(*x) * f64::from(*y))
                .sum::<f64>()
        })
        .collect();
    let prediction_agreement = model
        .ontologies
        .iter()
        .zip(&reference.ontologies)
        .map(|(o, r)| {
            o.predictions
                .iter()
                .zip(&r.predictions)
                .filter(|(a, b)| a == b)
                .count() as f64
                / o.predictions.len() as f64
        })
        .collect();
    Some(ModelAgreement {
        reference: reference.model.clone(),
        image_cosine_mean: cosines.iter().sum::<f64>() / cosines.len() as f64,
        image_cosine_min: cosines.iter().cloned().fold(f64::INFINITY, f64::min),
        prediction_agreement,
    })
}

/// Fills `vs_baseline` for every ontology but the baseline, Holm-correcting the McNemar
/// p-values over this model's comparisons.
fn compare_with_baseline(ontologies: &mut [OntologyResults], baseline: &str, labels: &[usize]) {
    let Some(base) = ontologies.iter().find(|o| o.ontology == baseline) else {
        return;
    };
    let base_right: Vec<bool> = base
        .predictions
        .iter()
        .zip(labels)
        .map(|(p, l)| p == l)
        .collect();
    let base_accuracy = base.metrics.accuracy;
    let mut compared = Vec::new();
    for (index, ontology) in ontologies.iter_mut().enumerate() {
        if ontology.ontology == baseline {
            continue;
        }
        let right: Vec<bool> = ontology
            .predictions
            .iter()
            .zip(labels)
            .map(|(p, l)| p == l)
            .collect();
        let gained = right
            .iter()
            .zip(&base_right)
            .filter(|&(&r, &b)| r && !b)
            .count();
        let lost = right
            .iter()
            .zip(&base_right)
            .filter(|&(&r, &b)| !r && b)
            .count();
        let (delta_ci_low, delta_ci_high) =
            paired_bootstrap_interval(&right, &base_right, BOOTSTRAP_RESAMPLES, BOOTSTRAP_SEED);
        let mcnemar_p = mcnemar_exact(gained, lost);
        ontology.vs_baseline = Some(Comparison {
            delta: ontology.metrics.accuracy - base_accuracy,
            delta_ci_low,
            delta_ci_high,
            gained,
            lost,
            mcnemar_p,
            mcnemar_p_holm: mcnemar_p,
        });
        compared.push(index);
    }
    let raw: Vec<f64> = compared
        .iter()
        .map(|&i| ontologies[i].vs_baseline.as_ref().unwrap().mcnemar_p)
        .collect();
    for (&i, adjusted) in compared.iter().zip(holm(&raw)) {
        ontologies[i].vs_baseline.as_mut().unwrap().mcnemar_p_holm = adjusted;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model(name: &str, predictions: Vec<usize>) -> ModelResults {
        let metrics = metrics::compute(
            &["a".into(), "b".into()],
            &[0, 1, 0, 1],
            &vec![vec![1.0, 0.0]; 4],
        );
        let ontology = OntologyResults {
            ontology: "o".into(),
            prompts: BTreeMap::new(),
            predictions,
            probabilities: vec![],
            metrics,
            vs_baseline: None,
        };
        ModelResults {
            model: name.into(),
            logit_scale: 100.0,
            ontologies: vec![ontology],
            vs_reference: None,
        }
    }

    #[test]
    fn cache_namespaces_change_with_everything_that_changes_an_embedding() {
        let (p, io) = (Preprocessing::default(), IoNames::default());
        let base = image_namespace("sha", &p, &io);
        let other_io = IoNames {
            image_embeds: "pooler_output".into(),
            ..IoNames::default()
        };
        let other_size = Preprocessing {
            shortest_edge: 256,
            ..Preprocessing::default()
        };
        let variants = [
            image_namespace("sha2", &p, &io),
            image_namespace("sha", &other_size, &io),
            image_namespace("sha", &p, &other_io),
        ];
        assert!(variants.iter().all(|v| *v != base), "{variants:?}");
        let text = text_namespace("sha", &io);
        let no_mask = IoNames {
            attention_mask: String::new(),
            ..IoNames::default()
        };
        assert_ne!(text, text_namespace("sha", &no_mask));
        assert_ne!(text, text_namespace("sha2", &io));
    }

    #[test]
    fn text_and_image_embeddings_of_different_lengths_are_an_error() {
        let images: Vec<&[f32]> = vec![&[1.0, 0.0], &[0.0, 1.0]];
        let prompts = HashMap::from([("daisy".to_string(), vec![1.0, 0.0, 0.0])]);
        let err = check_embedding_sizes("m", &images, &prompts)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("3 values") && err.contains("have 2") && err.contains("\"daisy\""),
            "{err}"
        );
        let ragged: Vec<&[f32]> = vec![&[1.0, 0.0], &[1.0]];
        let err = check_embedding_sizes("m", &ragged, &HashMap::new()).unwrap_err();
        assert!(err.to_string().contains("(2 and 1)"), "{err}");
        let prompts = HashMap::from([("daisy".to_string(), vec![1.0, 0.0])]);
        check_embedding_sizes("m", &images, &prompts).unwrap();
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
        let result = agreement(&a, &reference, &b, &images).unwrap();
        assert_eq!(result.reference, "fp32");
        assert_eq!(result.prediction_agreement, vec![0.75]);
        assert!((result.image_cosine_min - f64::from(s)).abs() < 1e-6);
        assert!((result.image_cosine_mean - (3.0 + f64::from(s)) / 4.0).abs() < 1e-6);
        let other_size: Vec<&[f32]> = vec![&[1.0]; 4];
        assert_eq!(agreement(&a, &reference, &b, &other_size), None);
    }
}
