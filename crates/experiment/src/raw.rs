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
    pub(crate) manifest: Option<PathBuf>,
    pub(crate) webdataset: Option<OneOrMany>,
    pub(crate) classnames: Option<PathBuf>,
    pub(crate) classes: Option<Vec<String>>,
    pub(crate) download: Option<String>,
    #[serde(default)]
    pub(crate) names: BTreeMap<String, String>,
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
    pub(crate) templates: Vec<String>,
    #[serde(default)]
    pub(crate) prompts: BTreeMap<String, OneOrMany>,
    #[serde(default)]
    pub(crate) names: BTreeMap<String, String>,
    pub(crate) search: Option<RawSearch>,
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
    /// A built-in set's name, or a list of templates.
    pub(crate) templates: OneOrMany,
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
