//! CLIP tokenisation: OpenAI's clean-up, then the BPE in `tokenizer.json`, then CLIP's
//! fixed context with the end-of-text token always last.

use std::path::{Path, PathBuf};

use ontosweep_onnx::{Error, Result};

use crate::family::Family;
use crate::model::ModelDir;
use crate::siglip_tokenizer::SiglipTokenizer;
use crate::text_cleanup;
use crate::tokens::{Tokens, read_tokenizer};

/// CLIP's context length: prompts longer than this are truncated.
pub const CONTEXT_LENGTH: usize = 77;

pub struct ClipTokenizer {
    inner: tokenizers::Tokenizer,
    path: PathBuf,
    end_of_text: i64,
}

impl ClipTokenizer {
    pub fn from_file(path: &Path) -> Result<Self> {
        let inner = read_tokenizer(path)?;
        let end_of_text = inner
            .token_to_id("<|endoftext|>")
            .ok_or_else(|| Error::Tokenizer {
                path: path.to_path_buf(),
                reason: "has no `<|endoftext|>` token; is it a CLIP tokenizer?".into(),
            })?;
        Ok(Self {
            inner,
            path: path.to_path_buf(),
            end_of_text: end_of_text.into(),
        })
    }

    /// The vocabulary entry of `id`.
    pub fn token(&self, id: i64) -> Option<String> {
        self.inner.id_to_token(u32::try_from(id).ok()?)
    }

    pub fn encode(&self, text: &str) -> Result<Tokens> {
        let cleaned = text_cleanup::clean(text);
        let encoding = self
            .inner
            .encode(cleaned, true)
            .map_err(|e| Error::Tokenizer {
                path: self.path.clone(),
                reason: e.to_string(),
            })?;
        let mut ids: Vec<i64> = encoding.get_ids().iter().map(|&id| id.into()).collect();
        let truncated = ids.len() > CONTEXT_LENGTH;
        if truncated {
            ids.truncate(CONTEXT_LENGTH);
            ids[CONTEXT_LENGTH - 1] = self.end_of_text;
        }
        Ok(Tokens { ids, truncated })
    }
}

/// The tokenizer a model's family needs.
pub enum TextTokenizer {
    Clip(ClipTokenizer),
    Siglip(SiglipTokenizer),
}

impl TextTokenizer {
    pub fn for_model(model: &ModelDir, family: Family) -> Result<Self> {
        Ok(match family {
            Family::Clip => TextTokenizer::Clip(ClipTokenizer::from_file(&model.tokenizer())?),
            Family::Siglip => TextTokenizer::Siglip(SiglipTokenizer::for_model(model)?),
        })
    }

    /// The ids the text tower is fed (SigLIP's padded to its fixed length).
    pub fn encode(&self, text: &str) -> Result<Tokens> {
        match self {
            TextTokenizer::Clip(t) => t.encode(text),
            TextTokenizer::Siglip(t) => t.encode(text),
        }
    }

    /// The vocabulary entry of `id`, as the model's tokenizer spells it.
    pub fn token(&self, id: i64) -> Option<String> {
        match self {
            TextTokenizer::Clip(t) => t.token(id),
            TextTokenizer::Siglip(t) => t.token(id),
        }
    }

    /// Most tokens a prompt keeps, its end token included.
    pub fn context_length(&self) -> usize {
        match self {
            TextTokenizer::Clip(_) => CONTEXT_LENGTH,
            TextTokenizer::Siglip(t) => t.length(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::files::MAX_TOKENIZER_BYTES;
    use crate::files::tests::{mkfifo, within_a_minute};

    #[cfg(unix)]
    #[test]
    fn a_fifo_for_tokenizer_json_is_refused_without_blocking() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tokenizer.json");
        mkfifo(&path);
        let Err(err) = within_a_minute(move || ClipTokenizer::from_file(&path).map(|_| ()))
            .expect("reading a FIFO tokenizer.json blocked")
        else {
            panic!("a FIFO was read as a tokenizer")
        };
        let err = err.to_string();
        assert!(
            err.contains("tokenizer.json") && err.contains("named pipe"),
            "{err}"
        );
    }

    #[test]
    fn an_oversized_tokenizer_json_is_refused_by_its_size() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tokenizer.json");
        // Sparse, so the test writes nothing; only the size check, before reading, can name
        // the size.
        std::fs::File::create(&path)
            .unwrap()
            .set_len(MAX_TOKENIZER_BYTES + 1)
            .unwrap();
        let Err(err) = ClipTokenizer::from_file(&path) else {
            panic!("an oversized tokenizer.json was read")
        };
        let err = err.to_string();
        assert!(
            err.contains("tokenizer.json")
                && err.contains(&format!("it has {} bytes", MAX_TOKENIZER_BYTES + 1))
                && err.contains("limit of 64 MiB"),
            "{err}"
        );
    }
}
