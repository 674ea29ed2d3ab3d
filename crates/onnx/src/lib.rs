//! ONNX Runtime as the inference crates need it: the shared library loaded once per process
//! (its version checked, its sha256 when pinned), the execution provider chosen and said
//! (CPU, CUDA, or the OpenVINO plugin at fp32 or bf16), sessions on it, and the errors
//! CLIP-family inference reports, each saying what is wrong and what it needs.
//!
//! Deliberately absent: no model layout, tokenizer, image or embedding (the clip crate builds
//! those on this); CUDA and OpenVINO are never given up on silently, and no CLI flag, command
//! or file of the project is named in a message.
//!
//! ```
//! use ontosweep_onnx::{EpChoice, Precision, SessionOptions};
//!
//! // bf16 is OpenVINO's alone: asked of the CPU provider, a session is refused.
//! let options = SessionOptions { ep: EpChoice::Cpu, precision: Precision::Bf16, ..SessionOptions::default() };
//! assert_eq!(options.precision.to_string(), "bf16");
//! ```

mod binding;
mod cuda;
mod ep;
mod error;
mod openvino;
mod runtime;
mod session;
mod sha256;

pub use binding::ImageBinding;
pub use cuda::{CUDA_LIBRARIES, missing_cuda_libraries};
pub use ep::{Ep, EpChoice, Precision, SessionOptions};
pub use error::{Error, Result};
pub use openvino::{OPENVINO_EP, OpenVinoPlugin, bf16_support};
pub use runtime::{EXPECTED_ORT, Runtime};
pub use session::create_session;
