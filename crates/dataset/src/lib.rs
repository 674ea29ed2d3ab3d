//! What images a dataset holds and their labels: class folders, a CSV manifest, WebDataset
//! tar shards or CIFAR batches (both read in place), with the candidate classes and where
//! they were declared ([`ClassSource`]). Every sample found is an image with a label or a
//! [`ontosweep_results::SkippedFile`] with its reason; a label naming no class is an error.
//!
//! Deliberately absent: no model, no decoding, no scoring, no experiment file. Readers are
//! bounded and never block on a FIFO; nothing is unpacked or written.
//!
//! ```
//! let root = tempfile::tempdir().unwrap();
//! for (class, file) in [("daisy", "a.jpg"), ("dandelion", "b.jpg"), ("dandelion", "notes.txt")] {
//!     std::fs::create_dir_all(root.path().join(class)).unwrap();
//!     std::fs::write(root.path().join(class).join(file), b"bytes").unwrap();
//! }
//! let found = ontosweep_dataset::scan_folder(root.path(), None).unwrap();
//! assert_eq!(found.classes, ["daisy", "dandelion"]);
//! assert_eq!(found.images.len(), 2);
//! assert_eq!(found.skipped[0].path, "dandelion/notes.txt");
//! ```

mod cifar;
mod classnames;
mod clip_benchmark;
mod dataset;
mod error;
mod folders;
mod food101;
mod image_list;
mod imagenet;
mod manifest;
mod policy;
pub mod webdataset;

pub use cifar::{CifarSplit, MAX_PICKLE_BYTES, read_cifar};
pub use classnames::{TaggedNames, read_classnames, read_published_classnames, tag_repeated_names};
pub use clip_benchmark::{CLASSNAMES_FILE, CbNames, read_clip_benchmark};
pub use dataset::{
    ClassSource, Dataset, DatasetImage, IMAGE_EXTENSIONS, ImageSource, TarMember,
    refuse_empty_classes,
};
pub use error::DatasetError;
pub use folders::scan_folder;
pub use food101::read_food101;
pub use image_list::{ImageList, ImageListWriter};
pub use imagenet::read_imagenet;
pub use manifest::{MAX_MANIFEST_BYTES, read_manifest};
