//! The crate's one error type: each message names the file involved and says what to do.

use std::path::PathBuf;

/// Everything that can go wrong turning inputs into embeddings. Each message names the
/// file involved and says what to do in terms of this crate (files, names, libraries); a
/// program adds its own remedies (its commands, flags and settings) from the fields.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The library at `path` is not a usable ONNX Runtime `expected` (see
    /// [`EXPECTED_ORT`](crate::EXPECTED_ORT)).
    #[error(
        "ONNX Runtime could not be loaded from {path}: {reason} (expected ONNX Runtime {expected})"
    )]
    RuntimeLoad {
        path: PathBuf,
        reason: String,
        expected: &'static str,
    },

    /// The library's sha256 is not the one it was pinned to, so it was not loaded.
    #[error(
        "ONNX Runtime could not be loaded from {path}: its sha256 is {actual}, not the pinned {pinned}: the library was replaced or altered since, so it was not loaded"
    )]
    RuntimeChanged {
        path: PathBuf,
        actual: String,
        pinned: String,
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

    /// The model has no `input` or `output` (`what`) of the name the encoder was given.
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

    /// CUDA was asked for and cannot be used: `reason` says why. The CPU never stands in.
    #[error("{reason}. {}", CUDA_NEEDS)]
    Cuda { reason: String },

    /// OpenVINO was asked for and cannot be used: `reason` says why. Nothing stands in.
    #[error("OpenVINO: {reason}")]
    OpenVino { reason: String },

    /// A precision was asked for that the provider cannot honour.
    #[error("precision: {reason}")]
    Precision { reason: String },

    // Not a `source`: the message already carries it, and a chain would say it twice.
    #[error("{path}: ONNX Runtime failed: {cause}")]
    Inference { path: PathBuf, cause: ort::Error },

    #[error("{path}: {reason}")]
    Image { path: PathBuf, reason: String },

    #[error("tokenizer {path}: {reason}")]
    Tokenizer { path: PathBuf, reason: String },
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What the CUDA execution provider needs, said with every reason it cannot be used.
const CUDA_NEEDS: &str = "CUDA needs the CUDA build of ONNX Runtime, and the CUDA 13 and cuDNN 9 libraries findable (LD_LIBRARY_PATH: libcudart, libcublas, libcublasLt, libcurand, libcufft, libcudnn*)";
