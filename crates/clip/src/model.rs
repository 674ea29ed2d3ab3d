//! The model directory contract (Hugging Face's ONNX layout) and the description of known
//! models in `models/<id>.yaml`.

use std::path::{Path, PathBuf};

use ontosweep_onnx::{Error, Result};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::files::{MAX_CONFIG_BYTES, read_bounded_text};

pub const TEXT_MODEL: &str = "onnx/text_model.onnx";
pub const VISION_MODEL: &str = "onnx/vision_model.onnx";
pub const TOKENIZER: &str = "tokenizer.json";
pub const PREPROCESSOR_CONFIG: &str = "preprocessor_config.json";
/// Optional: the model's `config.json` (its family) and `tokenizer_config.json` (SigLIP's
/// fixed text length and pad token).
pub const CONFIG: &str = "config.json";
pub const TOKENIZER_CONFIG: &str = "tokenizer_config.json";

/// A small JSON configuration file, refused beyond [`MAX_CONFIG_BYTES`] or when it is not a
/// regular file.
pub(crate) fn read_small(path: &Path) -> Result<String> {
    read_bounded_text(path, MAX_CONFIG_BYTES).map_err(|e| Error::ModelFile {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })
}

/// Whether an optional file is there: something there that is not a regular file (a FIFO,
/// a directory) is an error, never taken for absent.
pub(crate) fn optional_file(path: &Path) -> Result<bool> {
    crate::files::present(path).map_err(|e| Error::ModelFile {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })
}

/// A model directory whose required files were found.
#[derive(Debug, Clone)]
pub struct ModelDir {
    root: PathBuf,
}

const LAYOUT_HINT: &str = "A model directory holds onnx/text_model.onnx, onnx/vision_model.onnx, tokenizer.json and preprocessor_config.json (Hugging Face's ONNX layout).";

impl ModelDir {
    pub fn open(root: &Path) -> Result<Self> {
        if !root.is_dir() {
            return Err(Error::ModelFile {
                path: root.to_path_buf(),
                reason: format!("is not a directory. {LAYOUT_HINT}"),
            });
        }
        for file in [TEXT_MODEL, VISION_MODEL, TOKENIZER, PREPROCESSOR_CONFIG] {
            if !optional_file(&root.join(file))? {
                return Err(Error::MissingModelFile {
                    dir: root.to_path_buf(),
                    file,
                    hint: LAYOUT_HINT,
                });
            }
        }
        Ok(Self {
            root: root.to_path_buf(),
        })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }
    pub fn text_model(&self) -> PathBuf {
        self.root.join(TEXT_MODEL)
    }
    pub fn vision_model(&self) -> PathBuf {
        self.root.join(VISION_MODEL)
    }
    pub fn tokenizer(&self) -> PathBuf {
        self.root.join(TOKENIZER)
    }
    pub fn preprocessor_config(&self) -> PathBuf {
        self.root.join(PREPROCESSOR_CONFIG)
    }
    pub fn config(&self) -> PathBuf {
        self.root.join(CONFIG)
    }
    pub fn tokenizer_config(&self) -> PathBuf {
        self.root.join(TOKENIZER_CONFIG)
    }

    /// The files that decide image embeddings: the vision graph and its external data.
    pub fn vision_files(&self) -> Vec<PathBuf> {
        with_external_data(self.vision_model())
    }

    /// The files that decide text embeddings: the text graph, its data, the tokenizer and,
    /// where present, the configs that set the family, text length and pad token.
    pub fn text_files(&self) -> Vec<PathBuf> {
        let mut files = with_external_data(self.text_model());
        files.push(self.tokenizer());
        files.extend(
            [self.tokenizer_config(), self.config()]
                .into_iter()
                .filter(|p| p.is_file()),
        );
        files
    }
}

/// An ONNX file and the external-data files beside it (`<name>.data`, `<name>_data`), which
/// carry the weights of large exports.
fn with_external_data(graph: PathBuf) -> Vec<PathBuf> {
    let mut files = vec![graph.clone()];
    for suffix in [".data", "_data"] {
        let mut name = graph.as_os_str().to_owned();
        name.push(suffix);
        let data = PathBuf::from(name);
        if data.is_file() {
            files.push(data);
        }
    }
    files
}

/// sha256 over `files` in order: a model identity for the embedding cache.
pub fn fingerprint(files: &[PathBuf]) -> Result<String> {
    let mut hasher = Sha256::new();
    for file in files {
        hash_file_into(file, &mut hasher)?;
    }
    Ok(hex::encode(hasher.finalize()))
}

fn hash_file_into(path: &Path, hasher: &mut Sha256) -> Result<()> {
    let mut file = crate::files::open_regular(path).map_err(|e| Error::ModelFile {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })?;
    std::io::copy(&mut file, hasher).map_err(|e| Error::ModelFile {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })?;
    Ok(())
}

/// Input and output names the encoders look for.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct IoNames {
    pub input_ids: String,
    pub attention_mask: String,
    pub text_embeds: String,
    pub pixel_values: String,
    pub image_embeds: String,
    /// For towers without a projection head (SigLIP): when `text_embeds` or `image_embeds`
    /// is not among a tower's outputs, its one `[batch, dim]` output is the embedding,
    /// whatever the exporter named it (`pooler_output`, `text_embeds`, `image_embeds`, …).
    /// Never for CLIP, whose pooled output without the projection is no embedding.
    #[serde(skip)]
    pub single_embedding_output: bool,
}

impl Default for IoNames {
    fn default() -> Self {
        Self {
            input_ids: "input_ids".into(),
            attention_mask: "attention_mask".into(),
            text_embeds: "text_embeds".into(),
            pixel_values: "pixel_values".into(),
            image_embeds: "image_embeds".into(),
            single_embedding_output: false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A required file that is there but no regular file is named as such, not "missing".
    #[cfg(unix)]
    #[test]
    fn a_required_file_that_is_a_fifo_is_named() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("onnx")).unwrap();
        for file in [TEXT_MODEL, VISION_MODEL, PREPROCESSOR_CONFIG] {
            std::fs::write(dir.path().join(file), "x").unwrap();
        }
        crate::files::tests::mkfifo(&dir.path().join(TOKENIZER));
        let err = ModelDir::open(dir.path()).unwrap_err().to_string();
        assert!(
            err.contains("tokenizer.json") && err.contains("named pipe"),
            "{err}"
        );
    }
}
