//! Image preprocessing as CLIP's reference does it: decode, 8-bit RGB, resize the shortest
//! side with bicubic (Pillow's kernel is Catmull-Rom), centre crop with round-half-to-even
//! offsets, rescale and normalise into a CHW tensor.
//!
//! Memory is bounded per image, whatever its header says: the declared size is checked
//! against [`MAX_PIXELS`], [`MAX_ASPECT_RATIO`] and [`MAX_RESIZE_PIXELS`] before any pixel is
//! decoded, and decoding gets [`MAX_DECODE_BYTES`] for its output and working buffers. One
//! image therefore makes [`Preprocessing::tensor_from_bytes`] allocate at most
//! [`MAX_IMAGE_BYTES`] = 903,979,776 bytes (about 904 MB: 512 MiB to decode, 300 MB for the
//! 8-bit RGB copy made while the decoded image is alive, 64 MiB for everything else), besides
//! the encoded bytes themselves (at most [`MAX_FILE_BYTES`] through [`Preprocessing::load`]),
//! which the JPEG decoder copies once.
//!
//! Time is bounded too where a header can ask for unbounded work: a progressive JPEG passes
//! over the image once per scan, so its scans are counted first and more than
//! [`MAX_JPEG_SCANS`], or more than [`MAX_JPEG_SCAN_PIXELS`] scans × pixels, are refused.
//!
//! The steps live in submodules: the limits, the settings and the config file they are read
//! from, decoding, resizing and cropping, and the tensor.

mod checks;
mod config;
mod decode;
mod jpeg;
mod jpeg_markers;
mod jpeg_scans;
mod limits;
mod resample;
mod resize;
mod scratch;
mod settings;
mod tensor;

pub use decode::{decode_rgb8, read_image_file};
pub use limits::{
    MAX_ASPECT_RATIO, MAX_DECODE_BYTES, MAX_FILE_BYTES, MAX_IMAGE_BYTES, MAX_JPEG_SCAN_PIXELS,
    MAX_JPEG_SCANS, MAX_PIXELS, MAX_RESIZE_PIXELS, MAX_SIDE,
};
pub use resize::{centre_offset, resized_dimensions};
pub use settings::{Alpha, Filter, Normalize, Preprocessing, Resize};
