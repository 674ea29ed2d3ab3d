//! CLIP tokenisation: OpenAI's clean-up, then the BPE in `tokenizer.json`, then CLIP's
//! fixed context with the end-of-text token always last.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::text_cleanup;

/// CLIP's context length: prompts longer than this are truncated.
pub const CONTEXT_LENGTH: usize = 77;

/// Token ids of one prompt, `<|startoftext|>` … `<|endoftext|>`, at most [`CONTEXT_LENGTH`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tokens {
    pub ids: Vec<i64>,
    /// The prompt did not fit and lost tokens before the end-of-text token.
    pub truncated: bool,
}

pub struct ClipTokenizer {
    inner: tokenizers::Tokenizer,
    path: PathBuf,
    end_of_text: i64,
}

impl ClipTokenizer {
    pub fn from_file(path: &Path) -> Result<Self> {
        let inner = tokenizers::Tokenizer::from_file(path).map_err(|e| Error::Tokenizer {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })?;
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
