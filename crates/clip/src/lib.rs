//! CLIP-family inference (CLIP and SigLIP), faithful to the references: the tokenizers,
//! image preprocessing, and the text and vision towers over ONNX Runtime.
//!
//! This crate knows nothing of experiments, datasets or caches: it turns prompts and
//! images into L2-normalised embeddings, and says clearly why when it cannot.
//!
//! It needs two things at run time: an ONNX Runtime shared library ([`EXPECTED_ORT`], e.g.
//! the `libonnxruntime.so` in PyPI's `onnxruntime` wheel), loaded once per process with
//! [`Runtime::load`]; and a model directory in Hugging Face's ONNX layout
//! (`onnx/text_model.onnx`, `onnx/vision_model.onnx`, `tokenizer.json`,
//! `preprocessor_config.json`), opened with [`ModelDir::open`].
//!
//! # Example
//!
//! Zero-shot classification of one image between two prompts:
//!
//! ```no_run
//! use std::path::Path;
//!
//! use ontosweep_clip::{
//!     ClipTokenizer, EpChoice, ImageEncoder, IoNames, ModelDir, Runtime, SessionOptions,
//!     TextEncoder,
//! };
//!
//! fn main() -> ontosweep_clip::Result<()> {
//!     let runtime = Runtime::load(Path::new("/opt/onnxruntime/lib/libonnxruntime.so"))?;
//!     let model = ModelDir::open(Path::new("models/clip-vit-base-patch32"))?;
//!     // CPU here; `EpChoice::Auto` uses CUDA when it can, `Cuda` insists on it.
//!     let options = SessionOptions {
//!         ep: EpChoice::Cpu,
//!         ..SessionOptions::default()
//!     };
//!     // The input and output names of Hugging Face's exports; other exports name theirs.
//!     let io = IoNames::default();
//!
//!     let tokenizer = ClipTokenizer::from_file(&model.tokenizer())?;
//!     let prompts = ["a photo of a daisy.", "a photo of a dandelion."];
//!     let tokens = prompts
//!         .iter()
//!         .map(|p| tokenizer.encode(p))
//!         .collect::<ontosweep_clip::Result<Vec<_>>>()?;
//!     let mut text = TextEncoder::new(runtime, &model, &io, options)?;
//!     let prompt_embeddings = text.encode(&tokens, 64)?;
//!
//!     let mut vision = ImageEncoder::new(runtime, &model, &io, options)?;
//!     // One image's tensor; several are laid end to end for a batch.
//!     let pixels = vision.preprocessing().load(Path::new("flower.jpg"))?;
//!     let image = vision.encode_batch(pixels)?.remove(0);
//!
//!     // Embeddings are L2-normalised: the dot product is the cosine similarity.
//!     let cosine = |a: &[f32], b: &[f32]| a.iter().zip(b).map(|(x, y)| x * y).sum::<f32>();
//!     let scores: Vec<f32> = prompt_embeddings.iter().map(|p| cosine(p, &image)).collect();
//!     let best = if scores[0] >= scores[1] { 0 } else { 1 };
//!     println!("{} (cosine {:.3})", prompts[best], scores[best]);
//!     Ok(())
//! }
//! ```

/// Bumped whenever a code change alters the embeddings of the same model files and inputs
/// (preprocessing, tokenisation, pooling): caches put it in their keys so no entry goes stale.
/// 2: JPEG decoded by libjpeg-turbo as Pillow decodes it, and resized by Pillow's resample.
pub const EMBEDDING_CODE_VERSION: u32 = 2;

pub mod echo;
mod encoder;
mod family;
pub mod files;
mod model;
pub mod preprocess;
mod siglip_tokenizer;
mod text_cleanup;
mod tokenizer;
mod tokens;

pub use encoder::{Embedding, ImageEncoder, TextEncoder, l2_normalise};
pub use family::Family;
pub use model::{IoNames, ModelDir, fingerprint};
pub use ontosweep_onnx::{
    EXPECTED_ORT, Ep, EpChoice, Error, OPENVINO_EP, OpenVinoPlugin, Precision, Result, Runtime,
    SessionOptions, bf16_support,
};
pub use preprocess::Preprocessing;
pub use siglip_tokenizer::SiglipTokenizer;
pub use text_cleanup::clean as clean_text;
pub use tokenizer::{CONTEXT_LENGTH, ClipTokenizer, TextTokenizer};
pub use tokens::Tokens;
