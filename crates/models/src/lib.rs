//! The models an experiment names, made ready to run: `models/<id>.yaml` read and checked
//! ([`ModelSpec`]: the family, scale and bias, pinned files), files downloaded from Hugging
//! Face and held to their pins or lock file, and each entry resolved to a [`ResolvedModel`]
//! (its folder, family, I/O names and [`Scoring`]).
//!
//! Deliberately absent: no session is opened, no image or prompt is encoded, nothing is
//! scored; a model yaml's paths never leave the models folder and the model's own folder.
//!
//! ```
//! // A CLIP model's cosines become probabilities by a softmax at its learnt scale.
//! let clip = ontosweep_models::Scoring::Softmax { scale: 100.0 };
//! assert_eq!((clip.scale(), clip.bias()), (100.0, None));
//! ```

mod downloads;
mod progress;
mod resolve;
mod scoring;
mod spec;

pub use downloads::{
    Endpoint, FileHasher, LockedFile, ModelLock, check_model_files, download_model,
    download_model_from, hash_file, lock_path,
};
pub use progress::{Adapter, Progress, Silent};
pub use resolve::{
    ModelFiles, ResolvedModel, resolve, resolve_argument, resolve_each, resolve_hashing,
};
pub use scoring::Scoring;
pub use spec::{CLIP_LOGIT_SCALE, IoOverrides, ModelFile, ModelSource, ModelSpec};
