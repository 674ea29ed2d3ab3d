//! The typed results of a sweep. The sweep crate produces them; the report crate reads
//! nothing else. Plain data with serde, no behaviour beyond small conveniences, so both
//! sides can evolve independently and `run.json` stays a faithful dump.

use std::collections::BTreeMap;

mod pixels;
mod records;
pub mod shards;

pub use pixels::PlanarRgb;

pub use ontosweep_records::{CHUNK, Records};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SweepResults {
    pub experiment: String,
    /// How CLIP_benchmark's tables name the dataset (`imagenet1k`, `wds/cifar10`); empty:
    /// the experiment's name stands in.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub benchmark_dataset: String,
    /// Class names in label order; every index below refers to this list.
    pub classes: Vec<String>,
    pub baseline: String,
    /// The images that were scored, in a fixed order (sorted by path); kept on disk.
    pub images: Records<ImageRecord>,
    pub skipped: Vec<SkippedFile>,
    /// Present when the experiment holds images out (a prompt search, or `split:`): then
    /// `images` above is the test split, and every ontology is scored on it alone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub split: Option<Split>,
    pub models: Vec<ModelResults>,
    pub run: RunMetadata,
    /// The experiment asked for every class's probability for every image (`report:
    /// {all_probabilities: true}`): each ontology's `probabilities` hold them.
    #[serde(default)]
    pub all_probabilities: bool,
    /// What the ontology checks found (warnings only: an error stops the run).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub findings: Vec<OntologyFinding>,
}

/// A problem the ontology checks found in the prompts, before any image was scored.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct OntologyFinding {
    /// `error` (the run stops) or `warning`.
    pub severity: String,
    /// `identical prompts`, `look-alike classes`, `truncated prompts` or `identical ontologies`.
    pub check: String,
    /// The ontology (two, joined by ` and `, for identical ontologies).
    pub ontology: String,
    pub model: String,
    /// The classes involved, at most a few.
    pub classes: Vec<String>,
    pub detail: String,
    /// `file:line:column` where the ontology is written.
    pub location: String,
}

/// How the images were divided into a dev split (seen by prompt searches, labels included)
/// and a test split (everything is scored on it).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Split {
    pub dev_fraction: f64,
    pub seed: u64,
    /// The dev images, sorted by path; the test images are `SweepResults::images`.
    pub dev_images: Records<ImageRecord>,
    /// Said when a side of the split is too small to read: the dev side for a search, the
    /// test side for every figure.
    pub warnings: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ImageRecord {
    /// As the user would find it: relative to the dataset root.
    pub path: String,
    /// The file to make a thumbnail from: the image's own, or the tar shard holding it.
    pub source: String,
    pub label: usize,
    /// For a sample in a tar shard: where its bytes lie in `source`, read in place.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub member: Option<ByteRange>,
}

/// Bytes `offset .. offset + size` of a file.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
pub struct ByteRange {
    pub offset: u64,
    pub size: u64,
    /// Set when the bytes are raw planar pixels (a CIFAR batch) rather than an image file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pixels: Option<PlanarRgb>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SkippedFile {
    pub path: String,
    pub reason: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ModelResults {
    pub model: String,
    /// `clip` (softmax over classes) or `siglip` (a sigmoid per class: probabilities need not
    /// sum to one).
    #[serde(default = "clip")]
    pub family: String,
    pub logit_scale: f32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logit_bias: Option<f32>,
    pub ontologies: Vec<OntologyResults>,
    /// This model against the experiment's first model (e.g. an int8 copy against fp32).
    pub vs_reference: Option<ModelAgreement>,
}

fn clip() -> String {
    "clip".into()
}

/// How closely a model follows the reference model on the same images.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ModelAgreement {
    pub reference: String,
    /// Cosine between the two models' embeddings of each image.
    pub image_cosine_mean: f64,
    pub image_cosine_min: f64,
    /// Share of images with the same predicted class, per ontology (same order).
    pub prediction_agreement: Vec<f64>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct OntologyResults {
    pub ontology: String,
    /// The prompts each class was encoded with (templates already applied).
    pub prompts: BTreeMap<String, Vec<String>>,
    /// Per image (same order as `SweepResults::images`): whether the predicted class is
    /// the true one. All the paired statistics and galleries need; the predicted classes
    /// are in `scores`.
    pub correct: Vec<bool>,
    /// Per image (same order): its highest scores and the true class's, all a report needs;
    /// kept on disk.
    pub scores: Records<ImageScores>,
    /// Per image and class: softmax probabilities (CLIP) or per-class sigmoids (SigLIP).
    /// Kept only with at most [`FEW_CLASSES`] classes or when the experiment asks for every
    /// probability (`report: {all_probabilities: true}`); empty otherwise, since at ImageNet
    /// size each (model, ontology) would hold images × classes × 4 bytes (200 MB).
    /// Kept on disk.
    pub probabilities: Records<Vec<f32>>,
    pub metrics: Metrics,
    /// Absent for the baseline itself.
    pub vs_baseline: Option<Comparison>,
    /// How the prompts were chosen, for an ontology found by search.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub search: Option<SearchOutcome>,
    /// What it controls for, for a control ontology.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub control: Option<ControlInfo>,
}

/// A control ontology: generated from another ontology's prompts and a seed.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ControlInfo {
    /// `random-words`, `shuffled-names` or `template-only`.
    pub kind: String,
    /// The ontology it mirrors.
    pub of: String,
    /// The name written in the experiment; its seeds are `<group>.seed<k>`.
    pub group: String,
    pub seed: u64,
    pub seeds: usize,
}

/// Up to this many classes, every probability is kept and the report lists them all.
pub const FEW_CLASSES: usize = 10;

/// How many of the highest-scoring classes each image keeps.
pub const TOP_K: usize = 5;

/// What is kept of one image's scores.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
pub struct ImageScores {
    /// The [`TOP_K`] highest-scoring classes (fewer with fewer classes), best first, ties to
    /// the lower class index: (class index, probability).
    pub top: TopClasses,
    /// The true class's probability.
    pub true_probability: f32,
    /// The true class's rank among all classes, from 1 (= predicted), same tie rule.
    pub true_rank: usize,
}

impl ImageScores {
    /// The predicted class: the best of `top`.
    pub fn predicted(&self) -> usize {
        self.top.get(0).map_or(0, |(class, _)| class)
    }

    /// The predicted class's probability.
    pub fn confidence(&self) -> f32 {
        self.top.get(0).map_or(0.0, |(_, p)| p)
    }
}

/// Up to [`TOP_K`] (class, probability) pairs, best first, held inline: every (model,
/// ontology) keeps one per image, so no allocation of its own.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize)]
#[serde(from = "Vec<(usize, f32)>", into = "Vec<(usize, f32)>")]
pub struct TopClasses {
    entries: [(u32, f32); TOP_K],
    len: u8,
}

impl TopClasses {
    pub fn len(&self) -> usize {
        usize::from(self.len)
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn get(&self, k: usize) -> Option<(usize, f32)> {
        (k < self.len()).then(|| (self.entries[k].0 as usize, self.entries[k].1))
    }

    pub fn iter(&self) -> impl Iterator<Item = (usize, f32)> + '_ {
        self.entries[..self.len()]
            .iter()
            .map(|&(class, p)| (class as usize, p))
    }

    /// Puts `(class, p)` at place `at`, dropping whatever falls past [`TOP_K`].
    pub fn insert(&mut self, at: usize, (class, p): (usize, f32)) {
        if at >= TOP_K {
            return;
        }
        // Class indices come from a list of names held in memory: far below 2³².
        let class = u32::try_from(class).expect("fewer than 2^32 classes");
        let end = self.len().min(TOP_K - 1);
        self.entries.copy_within(at..end, at + 1);
        self.entries[at] = (class, p);
        self.len = (self.len() + 1).min(TOP_K) as u8;
    }
}

impl PartialEq for TopClasses {
    fn eq(&self, other: &Self) -> bool {
        self.iter().eq(other.iter())
    }
}

impl PartialEq<Vec<(usize, f32)>> for TopClasses {
    fn eq(&self, other: &Vec<(usize, f32)>) -> bool {
        self.iter().eq(other.iter().copied())
    }
}

impl FromIterator<(usize, f32)> for TopClasses {
    /// The first [`TOP_K`] pairs, in the order given.
    fn from_iter<I: IntoIterator<Item = (usize, f32)>>(pairs: I) -> Self {
        let mut top = TopClasses::default();
        for pair in pairs.into_iter().take(TOP_K) {
            top.insert(top.len(), pair);
        }
        top
    }
}

impl From<Vec<(usize, f32)>> for TopClasses {
    fn from(pairs: Vec<(usize, f32)>) -> Self {
        pairs.into_iter().collect()
    }
}

impl From<TopClasses> for Vec<(usize, f32)> {
    fn from(top: TopClasses) -> Self {
        top.iter().collect()
    }
}

/// A greedy forward search's path and choice, made on the dev split alone.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SearchOutcome {
    /// What the search maximised on the dev split: `accuracy` or `balanced_accuracy`.
    pub objective: String,
    pub max_templates: usize,
    pub candidate_templates: usize,
    /// Per class, the names the search could apply the templates to.
    pub candidate_names: BTreeMap<String, Vec<String>>,
    /// Every move, in order.
    pub steps: Vec<SearchStep>,
    /// The chosen templates, in the order they were added.
    pub templates: Vec<String>,
    /// Per class, the chosen name.
    pub names: BTreeMap<String, String>,
    /// Why the search stopped.
    pub stopped: String,
    pub dev_images: usize,
    /// The chosen prompts' objective on the dev split, and on the test split (the images
    /// every ontology is scored on); their difference is the search's optimism.
    pub dev_objective: f64,
    pub test_objective: f64,
}

/// One move of the search: a template added, or a class given another of its names.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SearchStep {
    /// From 1.
    pub step: usize,
    pub template: Option<String>,
    pub class: Option<String>,
    pub name: Option<String>,
    /// The dev objective after this move.
    pub dev_objective: f64,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Metrics {
    pub n: usize,
    pub correct: usize,
    pub accuracy: f64,
    /// Wilson score 95% interval.
    pub ci_low: f64,
    pub ci_high: f64,
    /// Mean per-class recall.
    pub balanced_accuracy: f64,
    pub macro_f1: f64,
    /// Expected calibration error (15 equal-width confidence bins).
    pub ece: f64,
    /// top_k[k - 1]: share of images whose class is among the k highest scores, k < classes.
    pub top_k: Vec<f64>,
    pub per_class: Vec<ClassMetrics>,
    /// The non-zero cells of the confusion matrix, sorted by (true, predicted): at most one
    /// per image, however many classes there are.
    pub confusion: Vec<ConfusionCell>,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, PartialOrd, Ord)]
pub struct ConfusionCell {
    pub true_class: usize,
    pub predicted: usize,
    pub count: usize,
}

impl Metrics {
    /// The whole matrix, `[true][predicted]`, for `classes` classes: only for few classes.
    pub fn confusion_matrix(&self, classes: usize) -> Vec<Vec<usize>> {
        let mut matrix = vec![vec![0; classes]; classes];
        for cell in &self.confusion {
            matrix[cell.true_class][cell.predicted] += cell.count;
        }
        matrix
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ClassMetrics {
    pub class: String,
    pub support: usize,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
}

/// An ontology against the baseline, on the same images.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Comparison {
    /// accuracy − baseline accuracy.
    pub delta: f64,
    /// Paired bootstrap 95% interval of `delta`.
    pub delta_ci_low: f64,
    pub delta_ci_high: f64,
    /// Images right here and wrong in the baseline, and the reverse.
    pub gained: usize,
    pub lost: usize,
    /// Exact McNemar test (two-sided binomial on the discordant pairs).
    pub mcnemar_p: f64,
    /// Holm-corrected over this model's ontologies.
    pub mcnemar_p_holm: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct RunMetadata {
    pub tool_version: String,
    pub started_at_unix: u64,
    pub experiment_file: String,
    pub dataset_root: String,
    pub onnxruntime: RuntimeInfo,
    pub batch_size: usize,
    pub bootstrap_resamples: usize,
    pub bootstrap_seed: u64,
    pub models: Vec<ModelRunInfo>,
    /// Every sample the dataset holds: `images_scored + images_dev + images_skipped`.
    pub images_found: usize,
    /// Scored by every ontology (the test split when there is one).
    pub images_scored: usize,
    /// Held out for the searches (the dev split), not scored.
    #[serde(default)]
    pub images_dev: usize,
    pub images_skipped: usize,
    /// Where the candidate classes were declared (the class folders, `dataset.classes`, a
    /// class-names file, or the labels found).
    #[serde(default)]
    pub classes_from: String,
    pub timings: Timings,
    /// What a run without `--shard` found of the shard records in its report folder.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shards: Option<shards::ShardCheck>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct RuntimeInfo {
    pub version: String,
    pub library: String,
    pub intra_op_threads: usize,
    /// The arithmetic asked for: `fp32`, or `bf16` (OpenVINO only).
    #[serde(default = "fp32")]
    pub precision: String,
    /// The OpenVINO execution-provider plugin, when the run registered one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub openvino_plugin: Option<PluginInfo>,
}

fn fp32() -> String {
    "fp32".into()
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct PluginInfo {
    pub version: String,
    pub library: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct ModelRunInfo {
    pub id: String,
    pub directory: String,
    pub vision_sha256: String,
    pub text_sha256: String,
    /// The execution provider each tower actually ran on (`cache`: not loaded this run).
    pub vision_ep: String,
    pub text_ep: String,
    /// The arithmetic both towers were asked for (`fp32`, `bf16`): the run's, or the model
    /// entry's own.
    #[serde(default = "fp32")]
    pub precision: String,
    /// What computed the embeddings taken from the cache (provider, ONNX Runtime version).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub vision_cached_from: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub text_cached_from: Vec<String>,
    pub images_encoded: usize,
    pub images_from_cache: usize,
    pub prompts_encoded: usize,
    pub prompts_from_cache: usize,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct Timings {
    pub total_seconds: f64,
    /// Reading and hashing every image (the cache keys).
    pub scan_seconds: f64,
    /// Decode + preprocess + encode of the images that were not cached.
    pub image_encode_seconds: f64,
    pub images_encoded: usize,
    pub text_encode_seconds: f64,
    pub scoring_seconds: f64,
    /// Bytes of images read from the dataset, over every model's pass: none when every key
    /// was remembered and every embedding cached.
    #[serde(default)]
    pub image_bytes_read: u64,
}

impl SweepResults {
    /// The baseline ontology's results for a model.
    pub fn baseline_of<'a>(&self, model: &'a ModelResults) -> Option<&'a OntologyResults> {
        model
            .ontologies
            .iter()
            .find(|o| o.ontology == self.baseline)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What docs/outputs.md says an image costs per (model, ontology): its summary, 56
    /// bytes with no allocation of its own, and its prediction, 8.
    #[test]
    fn an_image_summary_is_small_and_keeps_the_best_classes_in_order() {
        assert_eq!(std::mem::size_of::<ImageScores>(), 56);
        let mut top = TopClasses::default();
        for (at, pair) in [(0, (7, 0.5)), (0, (3, 0.9)), (1, (9, 0.6))] {
            top.insert(at, pair);
        }
        assert_eq!(top, vec![(3, 0.9), (9, 0.6), (7, 0.5)]);
        let full: TopClasses = (0..9).map(|c| (c, 1.0 - c as f32 / 10.0)).collect();
        assert_eq!(full.len(), TOP_K);
        let mut shifted = full;
        shifted.insert(0, (42, 2.0));
        assert_eq!(shifted.get(0), Some((42, 2.0)));
        assert_eq!(shifted.get(TOP_K - 1), full.get(TOP_K - 2));
        let json = serde_json::to_string(&shifted).unwrap();
        assert_eq!(serde_json::from_str::<TopClasses>(&json).unwrap(), shifted);
    }
}
