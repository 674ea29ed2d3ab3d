//! The experiment file's shape as written, before any check.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Deserialize;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawExperiment {
    pub(crate) name: String,
    pub(crate) dataset: RawDataset,
    pub(crate) models: Vec<RawModel>,
    pub(crate) baseline: Option<String>,
    pub(crate) ontologies: yaml_serde::Mapping,
    pub(crate) split: Option<RawSplit>,
    pub(crate) report: Option<RawReport>,
    pub(crate) checks: Option<RawChecks>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawChecks {
    pub(crate) identical_prompts: Option<String>,
    pub(crate) similar_classes: Option<f64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawReport {
    #[serde(default)]
    pub(crate) all_probabilities: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawDataset {
    pub(crate) root: Option<PathBuf>,
    pub(crate) clip_benchmark: Option<PathBuf>,
    pub(crate) imagenet: Option<PathBuf>,
    pub(crate) cifar: Option<PathBuf>,
    pub(crate) food101: Option<PathBuf>,
    pub(crate) split: Option<String>,
    /// How results name the dataset beside CLIP_benchmark's (`cifar10`, `wds/cifar10`).
    pub(crate) benchmark_name: Option<String>,
    pub(crate) manifest: Option<PathBuf>,
    pub(crate) webdataset: Option<OneOrMany>,
    pub(crate) classnames: Option<PathBuf>,
    pub(crate) classes: Option<Vec<String>>,
    pub(crate) download: Option<String>,
    /// Per class the words templates use, or a catalog list naming every class in index
    /// order (`clip-benchmark/imagenet1k`).
    #[serde(default)]
    pub(crate) names: RawNames,
}

#[derive(Deserialize)]
#[serde(untagged)]
pub(crate) enum RawNames {
    PerClass(BTreeMap<String, String>),
    List(String),
}

impl Default for RawNames {
    fn default() -> Self {
        RawNames::PerClass(BTreeMap::new())
    }
}

pub(crate) enum RawModel {
    Id(String),
    Entry(RawModelEntry),
}

// By hand rather than `untagged`, whose one message ("did not match any variant") would hide
// which field is misspelt.
impl<'de> Deserialize<'de> for RawModel {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::Error as _;
        match yaml_serde::Value::deserialize(deserializer)? {
            yaml_serde::Value::String(id) => Ok(RawModel::Id(id)),
            entry @ yaml_serde::Value::Mapping(_) => yaml_serde::from_value(entry)
                .map(RawModel::Entry)
                .map_err(D::Error::custom),
            _ => Err(D::Error::custom(
                "invalid type: a model entry is an id (`- clip-vit-b32`) or a mapping (`- {id: ID}` or `- {path: DIR}`, with an optional `precision: fp32|bf16`)",
            )),
        }
    }
}

/// `{id: ID}` or `{path: DIR}`, optionally with `precision`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawModelEntry {
    pub(crate) id: Option<String>,
    pub(crate) path: Option<PathBuf>,
    pub(crate) precision: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawOntology {
    #[serde(default)]
    pub(crate) templates: RawTemplates,
    #[serde(default)]
    pub(crate) prompts: BTreeMap<String, OneOrMany>,
    #[serde(default)]
    pub(crate) names: BTreeMap<String, String>,
    pub(crate) search: Option<RawSearch>,
    /// A control ontology: `random-words`, `shuffled-names` or `template-only`…
    pub(crate) control: Option<String>,
    /// …of this written ontology…
    pub(crate) of: Option<String>,
    /// …over this many seeds (1, 2, …).
    pub(crate) seeds: Option<usize>,
}

#[derive(Deserialize)]
#[serde(untagged)]
pub(crate) enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl OneOrMany {
    pub(crate) fn into_vec(self) -> Vec<String> {
        match self {
            OneOrMany::One(s) => vec![s],
            OneOrMany::Many(v) => v,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawSearch {
    /// A built-in set's name, a list of templates, or a file of them.
    pub(crate) templates: RawTemplates,
    #[serde(default)]
    pub(crate) names: BTreeMap<String, OneOrMany>,
    pub(crate) max_templates: Option<usize>,
    pub(crate) objective: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawSplit {
    pub(crate) dev_fraction: Option<f64>,
    pub(crate) seed: Option<u64>,
}

/// Where an ontology's templates come from: written out, a named set (built-in,
/// `clip-benchmark/<dataset>` or `dataset`), or a file with one per line.
pub(crate) enum RawTemplates {
    List(Vec<String>),
    Named(String),
    File(PathBuf),
}

impl Default for RawTemplates {
    fn default() -> Self {
        RawTemplates::List(Vec::new())
    }
}

// By hand rather than `untagged`, so that a wrong shape says what the three shapes are.
impl<'de> Deserialize<'de> for RawTemplates {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::Error as _;
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct FromFile {
            file: PathBuf,
        }
        let shapes = "`templates` is a list (`[\"a photo of a {}.\"]`), a named set (`openai-imagenet`, `clip-benchmark/cifar10`, or `dataset` for a CLIP_benchmark folder's own), or `{file: templates.txt}` (one per line)";
        match yaml_serde::Value::deserialize(deserializer)? {
            yaml_serde::Value::String(name) => Ok(RawTemplates::Named(name)),
            list @ yaml_serde::Value::Sequence(_) => yaml_serde::from_value(list)
                .map(RawTemplates::List)
                .map_err(|e| D::Error::custom(format!("{e}; {shapes}"))),
            file @ yaml_serde::Value::Mapping(_) => yaml_serde::from_value::<FromFile>(file)
                .map(|f| RawTemplates::File(f.file))
                .map_err(|e| D::Error::custom(format!("{e}; {shapes}"))),
            _ => Err(D::Error::custom(format!("invalid type: {shapes}"))),
        }
    }
}
