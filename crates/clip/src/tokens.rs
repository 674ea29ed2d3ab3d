//! What every tokenizer shares: the token ids of one prompt, and `tokenizer.json` read
//! within its size bound.

use std::path::Path;

use ontosweep_onnx::{Error, Result};

use crate::files::{MAX_TOKENIZER_BYTES, read_bounded};

/// Token ids of one prompt, `<|startoftext|>` … `<|endoftext|>`, at most
/// [`CONTEXT_LENGTH`](crate::CONTEXT_LENGTH).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tokens {
    pub ids: Vec<i64>,
    /// The prompt did not fit and lost tokens before the end-of-text token.
    pub truncated: bool,
}

/// `tokenizer.json`, read within [`MAX_TOKENIZER_BYTES`] (parsing costs many times its size).
pub(crate) fn read_tokenizer(path: &Path) -> Result<tokenizers::Tokenizer> {
    let bad = |reason: String| Error::Tokenizer {
        path: path.to_path_buf(),
        reason,
    };
    let bytes = read_bounded(path, MAX_TOKENIZER_BYTES).map_err(|e| bad(e.to_string()))?;
    tokenizers::Tokenizer::from_bytes(bytes).map_err(|e| bad(e.to_string()))
}
