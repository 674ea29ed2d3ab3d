//! The model registry: what `models/<id>.yaml` says — where a model's files come from, what
//! to expect of them, its logit scale and I/O names. Resolving (`models.rs`) and fetching and
//! locking (`provision.rs`) read it; the inference crate knows nothing of it.

use std::path::PathBuf;

use ontosweep_clip::IoNames;
use serde::{Deserialize, Serialize};

/// A known model as described by `models/<id>.yaml`: where its files come from and what to
/// expect of them.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelSpec {
    /// Short name used in experiments and reports.
    pub id: String,
    #[serde(default)]
    pub description: Option<String>,
    /// A directory with the files, relative to the yaml file (used when no `source` is given
    /// or after download).
    #[serde(default)]
    pub local: Option<PathBuf>,
    /// Where to download the files from.
    #[serde(default)]
    pub source: Option<ModelSource>,
    /// Files to fetch and verify, relative to the model directory.
    #[serde(default)]
    pub files: Vec<ModelFile>,
    /// The temperature CLIP was trained with; cosine similarities are multiplied by it.
    #[serde(default = "default_logit_scale")]
    pub logit_scale: f32,
    #[serde(default)]
    pub io: IoNames,
}

pub fn default_logit_scale() -> f32 {
    100.0
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelSource {
    /// Hugging Face repository, `owner/name`.
    pub hf_repo: String,
    /// A commit hash to pin downloads to. Without one, the sizes and sha256 of the first
    /// download are recorded in a lock file and later downloads must match them.
    #[serde(default)]
    pub revision: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelFile {
    pub path: String,
    #[serde(default)]
    pub size: Option<u64>,
    #[serde(default)]
    pub sha256: Option<String>,
}
