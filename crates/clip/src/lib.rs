//! CLIP inference, faithful to OpenAI's reference: the tokenizer with its text clean-up,
//! image preprocessing, and the text and vision towers over ONNX Runtime.
//!
//! This crate knows nothing of experiments, datasets or caches: it turns prompts and
//! images into L2-normalised embeddings, and says clearly why when it cannot.

/// Bumped whenever a code change alters the embeddings of the same model files and inputs
/// (preprocessing, tokenisation, pooling): caches put it in their keys so no entry goes stale.
pub const EMBEDDING_CODE_VERSION: u32 = 1;

mod encoder;
mod error;
mod model;
pub mod preprocess;
mod runtime;
mod text_cleanup;
mod tokenizer;

pub use encoder::{Embedding, ImageEncoder, TextEncoder, l2_normalise};
pub use error::{Error, Result};
pub use model::{
    IoNames, ModelDir, ModelFile, ModelSource, ModelSpec, default_logit_scale, fingerprint,
};
pub use preprocess::Preprocessing;
pub use runtime::{EXPECTED_ORT, Ep, EpChoice, Runtime, SessionOptions};
pub use text_cleanup::clean as clean_text;
pub use tokenizer::{CONTEXT_LENGTH, ClipTokenizer, Tokens};
