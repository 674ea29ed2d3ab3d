//! The model registry: what `models/<id>.yaml` says — where a model's files come from, what
//! to expect of them, its logit scale and I/O names. Resolving (`models.rs`) and fetching and
//! locking (`provision.rs`) read it; the inference crate knows nothing of it.

use std::path::PathBuf;

use ontosweep_clip::{Family, IoNames};
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
    /// `clip` or `siglip`; read from the model's `config.json` when absent.
    #[serde(default)]
    pub family: Option<Family>,
    /// The temperature the model was trained with: cosines are multiplied by it (CLIP's
    /// default is 100; SigLIP's must be given).
    #[serde(default)]
    pub logit_scale: Option<f32>,
    /// SigLIP's bias, added before the sigmoid.
    #[serde(default)]
    pub logit_bias: Option<f32>,
    /// Input and output names that differ from the family's usual ones.
    #[serde(default)]
    pub io: IoOverrides,
}

/// CLIP's logit scale, learnt to 100 (its cap) in OpenAI's models.
pub const CLIP_LOGIT_SCALE: f32 = 100.0;

/// Largest `logit_scale` accepted: CLIP's is 100, SigLIP's about 117. Far beyond, every
/// probability is 0 or 1 whatever the image; within it, `scale × cosine` is far from any
/// overflow.
pub const MAX_LOGIT_SCALE: f32 = 1e4;

/// Largest `logit_bias` accepted either way: SigLIP's are about −10 to −17.
pub const MAX_LOGIT_BIAS: f32 = 1e4;

impl ModelSpec {
    /// What is wrong with the scoring values, as (field, message): a NaN, infinite, zero or
    /// negative scale would make every prediction the first class, or invert them all.
    pub fn scoring_problems(&self) -> Vec<(&'static str, String)> {
        let mut problems = Vec::new();
        if let Some(scale) = self.logit_scale
            && !(scale.is_finite() && scale > 0.0 && scale <= MAX_LOGIT_SCALE)
        {
            problems.push((
                "logit_scale",
                format!(
                    "`logit_scale: {scale}` must be a number above 0 and at most {MAX_LOGIT_SCALE} (CLIP's is 100, SigLIP's about 117: exp of the checkpoint's logit_scale); a zero, negative, NaN or infinite scale would make every prediction meaningless"
                ),
            ));
        }
        if let Some(bias) = self.logit_bias
            && !(bias.is_finite() && bias.abs() <= MAX_LOGIT_BIAS)
        {
            problems.push((
                "logit_bias",
                format!(
                    "`logit_bias: {bias}` must be a number between -{MAX_LOGIT_BIAS} and {MAX_LOGIT_BIAS} (SigLIP's are about -10 to -17)"
                ),
            ));
        }
        problems
    }
}

/// Names given in a model yaml's `io:`; the family's names fill the rest.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IoOverrides {
    pub input_ids: Option<String>,
    pub attention_mask: Option<String>,
    pub text_embeds: Option<String>,
    pub pixel_values: Option<String>,
    pub image_embeds: Option<String>,
}

impl IoOverrides {
    pub fn apply(&self, mut io: IoNames) -> IoNames {
        // An output named in the yaml is the one meant: no other stands in for it.
        if self.text_embeds.is_some() || self.image_embeds.is_some() {
            io.single_embedding_output = false;
        }
        for (name, given) in [
            (&mut io.input_ids, &self.input_ids),
            (&mut io.attention_mask, &self.attention_mask),
            (&mut io.text_embeds, &self.text_embeds),
            (&mut io.pixel_values, &self.pixel_values),
            (&mut io.image_embeds, &self.image_embeds),
        ] {
            if let Some(given) = given {
                *name = given.clone();
            }
        }
        io
    }
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
