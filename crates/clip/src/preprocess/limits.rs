//! How much one image may declare and make preprocessing allocate, and how large a model
//! input a config may ask for.

/// Images declaring more pixels than this are refused before any pixel is allocated.
pub const MAX_PIXELS: u64 = 100_000_000;

/// Files larger than this are refused unread by
/// [`Preprocessing::load`](super::Preprocessing::load): an image within the limits needs
/// less (an uncompressed 100-megapixel 16-bit RGBA TIFF has 800 MB).
pub const MAX_FILE_BYTES: u64 = 1 << 30;

/// Widest long-side-to-short-side ratio accepted. Panoramas reach about 20:1; far beyond that
/// the crop sees a sliver and the resize target explodes (1×100000 → 224×22400000).
pub const MAX_ASPECT_RATIO: u64 = 50;

/// Most pixels either resize pass may produce (the horizontal pass keeps the source height).
/// The widest image accepted needs 15.8 M at 224 pixels; this leaves room for larger models.
pub const MAX_RESIZE_PIXELS: u64 = 30_000_000;

/// Longest side a decoder may even start on (a strict `image::Limits`): some size row buffers
/// from the header before our checks run. Above anything those checks accept
/// (√(MAX_PIXELS·MAX_ASPECT_RATIO) ≈ 70,711), so that they, with the sizes, give the reason.
pub const MAX_SIDE: u32 = 1 << 18;

/// Decoded pixels plus the decoder's whole-image working buffers: any 8-bit image within
/// [`MAX_PIXELS`] fits, RGBA included.
pub const MAX_DECODE_BYTES: u64 = 512 << 20;

/// Most scans a JPEG may have: libjpeg's progressions use about 10, encoders that optimise
/// them a few dozen.
pub const MAX_JPEG_SCANS: usize = 1_000;

/// Most pixels a JPEG's scans may pass over in all (scans × pixels): about ten seconds of
/// decoding; a 100-megapixel progressive photo's ten scans need a tenth of it.
pub const MAX_JPEG_SCAN_PIXELS: u64 = 10_000_000_000;

/// What a decoder may allocate while reading the header and keep as metadata (PNG counts its
/// ICC profile and text chunks against it); real profiles are well under 1 MiB.
pub(super) const HEADER_ALLOC: u64 = 16 << 20;

/// Header metadata, row buffers, resize kernels, the crop and the tensor (of any crop up to
/// 1024×1024): each far below this.
const SMALL_BUFFERS: u64 = 64 << 20;

/// The most one image makes preprocessing allocate, besides its encoded bytes: the decode
/// budget, the 8-bit RGB copy made while it is alive, and small buffers.
pub const MAX_IMAGE_BYTES: u64 = MAX_DECODE_BYTES + 3 * MAX_PIXELS + SMALL_BUFFERS;

// The resize holds the RGB image and two resize buffers: it must stay below the decode peak.
const _: () = assert!(2 * 3 * MAX_RESIZE_PIXELS <= MAX_DECODE_BYTES);
// The module doc states this number.
const _: () = assert!(MAX_IMAGE_BYTES == 903_979_776);

/// Largest model input side, and resize edge, accepted from a config (the tensor stays
/// within the small buffers' budget).
pub(super) const MAX_INPUT_SIDE: u32 = 1024;
