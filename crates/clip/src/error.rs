use std::path::PathBuf;

/// Everything that can go wrong turning inputs into embeddings. Each message names the
/// file involved and says what to do.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(
        "ONNX Runtime could not be loaded from {path}: {reason}. Run `cargo xtask setup` (or set ORT_DYLIB_PATH to a libonnxruntime.so {expected})"
    )]
    RuntimeLoad {
        path: PathBuf,
        reason: String,
        expected: &'static str,
    },

    #[error(
        "ONNX Runtime was already loaded from {loaded}; one process can use only one runtime (asked for {requested})"
    )]
    RuntimeMismatch { loaded: PathBuf, requested: PathBuf },

    #[error("model directory {dir}: missing {file}. {hint}")]
    MissingModelFile {
        dir: PathBuf,
        file: &'static str,
        hint: &'static str,
    },

    #[error("{path}: {reason}")]
    ModelFile { path: PathBuf, reason: String },

    #[error("{path}: the model has no {what} named `{wanted}`; it offers {offered}. {hint}")]
    WrongName {
        path: PathBuf,
        what: &'static str,
        wanted: String,
        offered: String,
        hint: &'static str,
    },

    #[error("{path}: {what} `{name}` has type {found}; expected {expected}")]
    WrongType {
        path: PathBuf,
        what: &'static str,
        name: String,
        found: String,
        expected: &'static str,
    },

    #[error("{0}")]
    ExecutionProvider(String),

    #[error("{path}: ONNX Runtime failed: {source}")]
    Inference { path: PathBuf, source: ort::Error },

    #[error("{path}: {reason}")]
    Image { path: PathBuf, reason: String },

    #[error("tokenizer {path}: {reason}")]
    Tokenizer { path: PathBuf, reason: String },
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
