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

use std::panic::{self, AssertUnwindSafe};
use std::path::{Path, PathBuf};

use fast_image_resize as fr;
use image::error::LimitErrorKind;
use image::{DynamicImage, ImageDecoder, ImageError, ImageFormat, ImageReader, Limits, RgbImage};
use serde::Deserialize;

use crate::error::{Error, Result};

mod checks;
mod scratch;

/// Images declaring more pixels than this are refused before any pixel is allocated.
pub const MAX_PIXELS: u64 = 100_000_000;

/// Files larger than this are refused unread by [`Preprocessing::load`]: an image within the
/// limits needs less (an uncompressed 100-megapixel 16-bit RGBA TIFF has 800 MB).
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

/// What a decoder may allocate while reading the header and keep as metadata (PNG counts its
/// ICC profile and text chunks against it); real profiles are well under 1 MiB.
const HEADER_ALLOC: u64 = 16 << 20;

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

/// Everything that decides the pixels a model sees; part of the embedding cache key.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Preprocessing {
    pub resize: Resize,
    pub filter: Filter,
    pub alpha: Alpha,
    /// Multiplies 8-bit values (`None`: `do_rescale` is off).
    pub rescale_factor: Option<f32>,
    /// Per-channel `(x − mean) / std` (`None`: `do_normalize` is off).
    pub normalize: Option<Normalize>,
}

/// How an image becomes the model's input size.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub enum Resize {
    /// CLIP: the shortest side to `edge` (the long side truncated), then a centre crop.
    ShortestEdge {
        edge: u32,
        crop_height: u32,
        crop_width: u32,
    },
    /// SigLIP: exactly this size, the aspect ratio not kept, no crop.
    Exact { height: u32, width: u32 },
}

/// The resampling filter, as Pillow computes it (its support widens when downscaling).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub enum Filter {
    /// Pillow's `BICUBIC` (3): Catmull-Rom.
    Bicubic,
    /// Pillow's `BILINEAR` (2): a triangle.
    Bilinear,
}

/// What becomes of transparent pixels on the way to RGB.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub enum Alpha {
    /// OpenAI's CLIP pipeline (Pillow's `convert("RGB")`): alpha is dropped.
    Drop,
    /// Hugging Face's image processors: composited onto white.
    OntoWhite,
}

#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Normalize {
    pub mean: [f32; 3],
    pub std: [f32; 3],
}

impl Default for Preprocessing {
    /// OpenAI CLIP at 224 pixels.
    fn default() -> Self {
        Self {
            resize: Resize::ShortestEdge {
                edge: 224,
                crop_height: 224,
                crop_width: 224,
            },
            filter: Filter::Bicubic,
            alpha: Alpha::Drop,
            rescale_factor: Some(1.0 / 255.0),
            normalize: Some(Normalize {
                mean: [0.481_454_66, 0.457_827_5, 0.408_210_73],
                std: [0.268_629_54, 0.261_302_6, 0.275_777_1],
            }),
        }
    }
}

/// Either `224` or `{"shortest_edge": 224}` / `{"height": 224, "width": 224}`: both occur.
#[derive(Deserialize, Clone, Copy)]
#[serde(untagged)]
enum SizeField {
    Square(u32),
    Shortest { shortest_edge: u32 },
    Box { height: u32, width: u32 },
}

/// A crop size's (height, width).
fn crop_sides(size: SizeField) -> (u32, u32) {
    match size {
        SizeField::Square(s) | SizeField::Shortest { shortest_edge: s } => (s, s),
        SizeField::Box { height, width } => (height, width),
    }
}

/// The fields of Hugging Face's `preprocessor_config.json` that ontosweep follows. Any other
/// field is an error that names it (see [`check_fields`]), so nothing that changes pixels is
/// ignored.
#[derive(Deserialize)]
struct PreprocessorConfig {
    size: Option<SizeField>,
    crop_size: Option<SizeField>,
    do_resize: Option<bool>,
    do_center_crop: Option<bool>,
    do_rescale: Option<bool>,
    rescale_factor: Option<f32>,
    do_normalize: Option<bool>,
    image_mean: Option<[f32; 3]>,
    image_std: Option<[f32; 3]>,
    resample: Option<u32>,
    do_convert_rgb: Option<bool>,
    image_processor_type: Option<String>,
    /// How an integer `size` is read: a square (`true`) or a shortest edge.
    default_to_square: Option<bool>,
}

/// Fields that change no pixel: names, and the settings of the fast processors' tensors.
const PIXEL_NEUTRAL: [&str; 6] = [
    "processor_class",
    "feature_extractor_type",
    "input_data_format",
    "device",
    "return_tensors",
    "disable_grouping",
];

/// Every field is one ontosweep follows, one that changes no pixel, or unset (`null`, which
/// the fast processors write for what they do not use); a few must hold the value ontosweep
/// produces.
fn check_fields(
    fields: &serde_json::Map<String, serde_json::Value>,
) -> std::result::Result<(), String> {
    const FOLLOWED: [&str; 13] = [
        "size",
        "crop_size",
        "do_resize",
        "do_center_crop",
        "do_rescale",
        "rescale_factor",
        "do_normalize",
        "image_mean",
        "image_std",
        "resample",
        "do_convert_rgb",
        "image_processor_type",
        "default_to_square",
    ];
    for (name, value) in fields {
        let fine = match name.as_str() {
            "data_format" => value.is_null() || value == "channels_first",
            "do_pad" => value.is_null() || value == false,
            n => value.is_null() || FOLLOWED.contains(&n) || PIXEL_NEUTRAL.contains(&n),
        };
        if !fine {
            return Err(format!(
                "`{name}: {value}` is not a setting ontosweep follows; it would change the pixels the model sees, so ontosweep refuses rather than ignore it"
            ));
        }
    }
    Ok(())
}

/// The image processors whose reference ontosweep reproduces, and how each treats alpha.
const PROCESSORS: [(&str, Alpha); 6] = [
    ("CLIPImageProcessor", Alpha::Drop),
    ("CLIPImageProcessorFast", Alpha::Drop),
    ("CLIPFeatureExtractor", Alpha::Drop),
    ("SiglipImageProcessor", Alpha::OntoWhite),
    ("SiglipImageProcessorFast", Alpha::OntoWhite),
    ("SiglipImageProcessorPil", Alpha::OntoWhite),
];

impl Preprocessing {
    /// Reads a Hugging Face `preprocessor_config.json`; absent fields keep CLIP's defaults.
    pub fn from_config_file(path: &Path) -> Result<Self> {
        let bad = |reason: String| Error::ModelFile {
            path: path.to_path_buf(),
            reason,
        };
        let text = crate::model::read_small(path)?;
        let fields: serde_json::Map<String, serde_json::Value> = serde_json::from_str(&text)
            .map_err(|e| bad(format!("not a preprocessor config: {e}")))?;
        check_fields(&fields).map_err(bad)?;
        let config: PreprocessorConfig = serde_json::from_value(fields.into()).map_err(|e| {
            bad(format!(
                "not a preprocessor config ontosweep can follow: {e}"
            ))
        })?;
        Self::from_config(config).map_err(bad)
    }

    fn from_config(config: PreprocessorConfig) -> std::result::Result<Self, String> {
        let default = Self::default();
        let alpha = match config.image_processor_type.as_deref() {
            None => Alpha::Drop,
            Some(kind) => match PROCESSORS.iter().find(|(name, _)| *name == kind) {
                Some((_, alpha)) => *alpha,
                None => {
                    let known: Vec<&str> = PROCESSORS.iter().map(|(n, _)| *n).collect();
                    return Err(format!(
                        "`image_processor_type: {kind:?}` is not one ontosweep reproduces; supported: {}",
                        known.join(", ")
                    ));
                }
            },
        };
        let filter = match config.resample {
            None | Some(3) => Filter::Bicubic,
            Some(2) => Filter::Bilinear,
            Some(other) => {
                return Err(format!(
                    "`resample: {other}` is not supported: bicubic (3) and bilinear (2) are"
                ));
            }
        };
        for (field, value) in [
            ("do_resize", config.do_resize),
            ("do_convert_rgb", config.do_convert_rgb),
        ] {
            if value == Some(false) {
                return Err(format!(
                    "`{field}: false` is not supported: images of every size must become the model's input"
                ));
            }
        }
        let crop = config.do_center_crop.unwrap_or(config.crop_size.is_some());
        let resize = match (config.size, crop) {
            (None, true) => match (default.resize, config.crop_size) {
                // CLIP's resize with the crop the file asks for.
                (Resize::ShortestEdge { edge, .. }, Some(crop_size)) => {
                    let (crop_height, crop_width) = crop_sides(crop_size);
                    Resize::ShortestEdge {
                        edge,
                        crop_height,
                        crop_width,
                    }
                }
                (resize, _) => resize,
            },
            (None, false) => default.resize,
            (Some(size), true) => {
                let edge = match size {
                    SizeField::Square(s) | SizeField::Shortest { shortest_edge: s } => s,
                    SizeField::Box { height, width } if height == width => height,
                    SizeField::Box { height, width } => {
                        return Err(format!(
                            "`size: {{height: {height}, width: {width}}}` with a centre crop: a shortest-edge resize needs one size"
                        ));
                    }
                };
                let (crop_height, crop_width) = config.crop_size.map_or((edge, edge), crop_sides);
                Resize::ShortestEdge {
                    edge,
                    crop_height,
                    crop_width,
                }
            }
            (Some(SizeField::Box { height, width }), false) => Resize::Exact { height, width },
            (Some(SizeField::Square(s)), false) if config.default_to_square != Some(false) => {
                Resize::Exact {
                    height: s,
                    width: s,
                }
            }
            (Some(SizeField::Square(s)), false) => {
                return Err(format!(
                    "`size: {s}` read as a shortest edge (`default_to_square: false`) without a centre crop gives images of different shapes; set `do_center_crop: true` or a `{{height, width}}` size"
                ));
            }
            (Some(SizeField::Shortest { shortest_edge }), false) => {
                return Err(format!(
                    "`size: {{shortest_edge: {shortest_edge}}}` without a centre crop gives images of different shapes; set `do_center_crop: true` or a `{{height, width}}` size"
                ));
            }
        };
        let rescale_factor = match config.do_rescale {
            Some(false) => None,
            _ => Some(config.rescale_factor.unwrap_or(1.0 / 255.0)),
        };
        let normalize = match config.do_normalize {
            Some(false) => None,
            _ => {
                let fallback = default.normalize.expect("CLIP normalises");
                Some(Normalize {
                    mean: config.image_mean.unwrap_or(fallback.mean),
                    std: config.image_std.unwrap_or(fallback.std),
                })
            }
        };
        let preprocessing = Self {
            resize,
            filter,
            alpha,
            rescale_factor,
            normalize,
        };
        checks::check(&preprocessing)?;
        Ok(preprocessing)
    }

    /// The model input's (height, width).
    pub fn input_size(&self) -> (u32, u32) {
        match self.resize {
            Resize::ShortestEdge {
                crop_height,
                crop_width,
                ..
            } => (crop_height, crop_width),
            Resize::Exact { height, width } => (height, width),
        }
    }

    /// Values in one preprocessed image tensor (3 × input height × input width).
    pub fn tensor_len(&self) -> usize {
        let (height, width) = self.input_size();
        3 * height as usize * width as usize
    }

    /// Decodes, resizes, crops and normalises an image file.
    pub fn load(&self, path: &Path) -> Result<Vec<f32>> {
        self.tensor_from_bytes(&read_image_file(path)?, path)
    }

    /// As [`Preprocessing::load`], from bytes already read; `path` names them in errors.
    pub fn tensor_from_bytes(&self, bytes: &[u8], path: &Path) -> Result<Vec<f32>> {
        let crop = self
            .crop(&self.decode(bytes, path)?)
            .map_err(|e| image_error(path, e))?;
        Ok(self.normalise(&crop))
    }

    /// As [`decode_rgb8`] (with this preprocessing's alpha rule), but refuses before decoding
    /// any pixel an image whose declared size this preprocessing could not resize within
    /// [`MAX_RESIZE_PIXELS`].
    pub fn decode(&self, bytes: &[u8], path: &Path) -> Result<RgbImage> {
        decode_checked(bytes, path, self.alpha, |width, height| {
            check_pixels(width, height)?;
            self.check_resize(width, height)
        })
    }

    /// The size the resize produces, before any crop.
    fn resized(&self, width: u32, height: u32) -> (u32, u32) {
        match self.resize {
            Resize::ShortestEdge { edge, .. } => resized_dimensions(width, height, edge),
            Resize::Exact { height, width } => (width, height),
        }
    }

    /// Why an image of this size cannot be resized and cropped within the limits, if so.
    pub fn check_resize(&self, width: u32, height: u32) -> std::result::Result<(), String> {
        if width == 0 || height == 0 {
            return Err("the image has no pixels".into());
        }
        let (new_width, new_height) = self.resized(width, height);
        let (long, short) = (width.max(height), width.min(height));
        if u64::from(long) > MAX_ASPECT_RATIO * u64::from(short) {
            return Err(format!(
                "{width}×{height} pixels: resizing it would need \
                 {new_width}×{new_height}; an aspect ratio over {MAX_ASPECT_RATIO}:1 is not supported"
            ));
        }
        let horizontal = u64::from(new_width) * u64::from(height);
        let largest = horizontal.max(u64::from(new_width) * u64::from(new_height));
        if largest > MAX_RESIZE_PIXELS {
            return Err(format!(
                "{width}×{height} pixels: resizing it to {new_width}×{new_height} needs a \
                 {largest}-pixel buffer, over the limit of {MAX_RESIZE_PIXELS}"
            ));
        }
        let (input_height, input_width) = self.input_size();
        if new_width < input_width || new_height < input_height {
            return Err(format!(
                "resized to {new_width}×{new_height}, smaller than the {input_width}×{input_height} crop"
            ));
        }
        Ok(())
    }

    /// The resized (and, for CLIP, cropped) 8-bit image, before rescaling and normalisation.
    pub fn crop(&self, rgb: &RgbImage) -> std::result::Result<RgbImage, String> {
        let (width, height) = rgb.dimensions();
        self.check_resize(width, height)?;
        let (new_width, new_height) = self.resized(width, height);
        let resized = resize(rgb, new_width, new_height, self.filter)?;
        match self.resize {
            Resize::Exact { .. } => Ok(resized),
            Resize::ShortestEdge {
                crop_height,
                crop_width,
                ..
            } => {
                let left = centre_offset(new_width, crop_width);
                let top = centre_offset(new_height, crop_height);
                Ok(
                    image::imageops::crop_imm(&resized, left, top, crop_width, crop_height)
                        .to_image(),
                )
            }
        }
    }

    /// CHW float tensor: `(pixel × rescale − mean) / std` per channel, each step as configured.
    pub fn normalise(&self, crop: &RgbImage) -> Vec<f32> {
        let plane = (crop.width() * crop.height()) as usize;
        let mut out = vec![0.0f32; 3 * plane];
        for (i, pixel) in crop.pixels().enumerate() {
            for c in 0..3 {
                out[c * plane + i] = self.tensor_value(pixel[c], c);
            }
        }
        out
    }

    /// What an 8-bit value of `channel` becomes in the tensor.
    #[inline]
    fn tensor_value(&self, value: u8, channel: usize) -> f32 {
        let mut value = f32::from(value);
        if let Some(factor) = self.rescale_factor {
            value *= factor;
        }
        if let Some(Normalize { mean, std }) = &self.normalize {
            value = (value - mean[channel]) / std[channel];
        }
        value
    }
}

/// Largest model input side, and resize edge, accepted from a config (the tensor stays
/// within the small buffers' budget).
const MAX_INPUT_SIDE: u32 = 1024;

/// The bytes of an image file, refusing one over [`MAX_FILE_BYTES`] before reading it (and
/// never reading more, should it grow meanwhile or be a device).
pub fn read_image_file(path: &Path) -> Result<Vec<u8>> {
    use std::io::Read;
    let io_error = |e: std::io::Error| image_error(path, e.to_string());
    let file = std::fs::File::open(path).map_err(io_error)?;
    let size = file.metadata().map_err(io_error)?.len();
    let too_large = |size: u64| {
        image_error(
            path,
            format!("the file has {size} bytes, over the limit of {MAX_FILE_BYTES} for an image"),
        )
    };
    if size > MAX_FILE_BYTES {
        return Err(too_large(size));
    }
    let mut bytes = Vec::with_capacity(size as usize);
    file.take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(io_error)?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(too_large(bytes.len() as u64));
    }
    Ok(bytes)
}

fn image_error(path: &Path, reason: String) -> Error {
    Error::Image {
        path: PathBuf::from(path),
        reason,
    }
}

/// Decodes any supported format to 8-bit RGB as Pillow's `convert("RGB")` does: alpha is
/// dropped, 16-bit values are rounded to 8 bits, the first frame of an animation is used.
/// EXIF orientation is not applied, as in CLIP's own transform. Sizes over [`MAX_PIXELS`] or
/// [`MAX_SIDE`], or needing over [`MAX_DECODE_BYTES`], are refused before decoding.
pub fn decode_rgb8(bytes: &[u8], path: &Path) -> Result<RgbImage> {
    decode_checked(bytes, path, Alpha::Drop, check_pixels)
}

fn check_pixels(width: u32, height: u32) -> std::result::Result<(), String> {
    if u64::from(width) * u64::from(height) > MAX_PIXELS {
        return Err(format!(
            "declares {width}×{height} pixels, over the limit of {MAX_PIXELS}"
        ));
    }
    Ok(())
}

/// Reads the header, lets `check` refuse the declared size, then decodes within
/// [`MAX_DECODE_BYTES`].
fn decode_checked(
    bytes: &[u8],
    path: &Path,
    alpha: Alpha,
    check: impl FnOnce(u32, u32) -> std::result::Result<(), String>,
) -> Result<RgbImage> {
    let mut reader = ImageReader::new(std::io::Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| image_error(path, e.to_string()))?;
    let Some(format) = reader.format() else {
        return Err(image_error(
            path,
            "not an image in a supported format (JPEG, PNG, WebP, GIF, BMP, TIFF)".into(),
        ));
    };
    if format == ImageFormat::Jpeg && is_truncated_jpeg(bytes) {
        return Err(image_error(
            path,
            "truncated JPEG (the image data has no end marker)".into(),
        ));
    }
    reader.limits(decoder_limits(HEADER_ALLOC));
    // The decoders parse untrusted bytes: should one panic, that costs this image, not the run.
    let decoded = panic::catch_unwind(AssertUnwindSafe(move || {
        let mut decoder = reader.into_decoder().map_err(describe)?;
        let (width, height) = decoder.dimensions();
        check(width, height)?;
        let output = decoder.total_bytes();
        let scratch = scratch::scratch_bytes(format, bytes, (width, height), output)?;
        let needed = output.saturating_add(scratch);
        if needed > MAX_DECODE_BYTES {
            return Err(format!(
                "{width}×{height} pixels ({:?}) need {} MiB to decode, over the limit of {} MiB",
                decoder.color_type(),
                needed.div_ceil(1 << 20),
                MAX_DECODE_BYTES >> 20
            ));
        }
        // What the decoders that honour `max_alloc` may add to their output.
        decoder
            .set_limits(decoder_limits(MAX_DECODE_BYTES - output))
            .map_err(describe)?;
        let image = DynamicImage::from_decoder(decoder).map_err(describe)?;
        Ok(match alpha {
            Alpha::Drop => image.into_rgb8(),
            Alpha::OntoWhite => onto_white(image),
        })
    }));
    match decoded {
        Ok(result) => result.map_err(|reason| image_error(path, reason)),
        Err(panic) => Err(image_error(
            path,
            format!(
                "the {format:?} decoder crashed on this file ({})",
                panic_message(panic.as_ref())
            ),
        )),
    }
}

fn decoder_limits(max_alloc: u64) -> Limits {
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    limits.max_alloc = Some(max_alloc);
    limits
}

/// The image crate's limit errors name no number; ours do.
fn describe(error: ImageError) -> String {
    match &error {
        ImageError::Limits(e) if e.kind() == LimitErrorKind::DimensionError => {
            format!("declares a side over {MAX_SIDE} pixels, the limit")
        }
        ImageError::Limits(e) if e.kind() == LimitErrorKind::InsufficientMemory => format!(
            "the decoder would need more memory than allowed ({} MiB for the header and \
             metadata, {} MiB to decode)",
            HEADER_ALLOC >> 20,
            MAX_DECODE_BYTES >> 20
        ),
        _ => error.to_string(),
    }
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> &str {
    payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("no message")
}

/// The JPEG decoder fills a cut-off file with grey; Pillow refuses it, and so do we. The
/// end-of-image marker must follow the last start-of-scan (an EXIF thumbnail has its own
/// pair earlier in the file; scan data never contains a bare 0xFF marker byte).
fn is_truncated_jpeg(bytes: &[u8]) -> bool {
    let last = |marker: u8| {
        bytes
            .windows(2)
            .rposition(|w| w[0] == 0xFF && w[1] == marker)
    };
    match (last(0xDA), last(0xD9)) {
        (Some(scan), Some(end)) => end < scan,
        (Some(_), None) => true,
        (None, _) => false, // no scan at all: let the decoder say what is wrong
    }
}

/// torchvision's `Resize(size)` on the shortest side: the long side is `int(size·long/short)`.
pub fn resized_dimensions(width: u32, height: u32, shortest_edge: u32) -> (u32, u32) {
    let scale = |long: u32, short: u32| {
        let scaled = u64::from(shortest_edge) * u64::from(long) / u64::from(short);
        u32::try_from(scaled).unwrap_or(u32::MAX)
    };
    if width <= height {
        (shortest_edge, scale(height, width))
    } else {
        (scale(width, height), shortest_edge)
    }
}

/// torchvision's `CenterCrop`: `round((size − crop) / 2)` with Python's half-to-even rounding.
pub fn centre_offset(size: u32, crop: u32) -> u32 {
    let twice = size - crop; // the offset is twice/2, rounded half to even
    let half = twice / 2;
    if twice % 2 == 1 && half % 2 == 1 {
        half + 1
    } else {
        half
    }
}

/// 8-bit RGB as Hugging Face's `convert_to_rgb` makes it: transparent pixels composited
/// onto white (Pillow's `alpha_composite` over an opaque white background, its integer
/// arithmetic included); images without alpha converted as Pillow converts them.
fn onto_white(image: DynamicImage) -> RgbImage {
    // Pillow: 7 fractional bits, and a division by 255 done with shifts.
    fn channel(value: u8, alpha: u8) -> u8 {
        let (value, alpha) = (u32::from(value), u32::from(alpha));
        let over = |a: u32| ((a >> 8) + a) >> 8;
        let blended = value * alpha * 128 + 255 * (255 - alpha) * 128;
        (over(blended + (0x80 << 7)) >> 7) as u8
    }
    if let DynamicImage::ImageLuma16(grey) = &image {
        // Pillow opens 16-bit greyscale as `I;16`, and its conversion to RGB clamps each
        // value to 255 instead of scaling it: the reference sees a nearly white image.
        let (width, height) = grey.dimensions();
        return RgbImage::from_fn(width, height, |x, y| {
            let v = grey.get_pixel(x, y).0[0].min(255) as u8;
            image::Rgb([v, v, v])
        });
    }
    if !image.color().has_alpha() {
        return image.into_rgb8();
    }
    let rgba = match image {
        DynamicImage::ImageRgba8(rgba) => rgba,
        other => other.into_rgba8(),
    };
    let (width, height) = rgba.dimensions();
    RgbImage::from_fn(width, height, |x, y| {
        let [r, g, b, a] = rgba.get_pixel(x, y).0;
        if a == 0 {
            image::Rgb([255, 255, 255])
        } else {
            image::Rgb([channel(r, a), channel(g, a), channel(b, a)])
        }
    })
}

fn resize(
    rgb: &RgbImage,
    width: u32,
    height: u32,
    filter: Filter,
) -> std::result::Result<RgbImage, String> {
    // Pillow resizes horizontally first and rounds to 8 bits between the passes; doing the
    // same keeps overshoot near sharp edges identical to the reference.
    let horizontal = resize_pass(rgb, width, rgb.height(), filter)?;
    resize_pass(&horizontal, width, height, filter)
}

fn resize_pass(
    rgb: &RgbImage,
    width: u32,
    height: u32,
    filter: Filter,
) -> std::result::Result<RgbImage, String> {
    if rgb.dimensions() == (width, height) {
        return Ok(rgb.clone());
    }
    let src =
        fr::images::ImageRef::new(rgb.width(), rgb.height(), rgb.as_raw(), fr::PixelType::U8x3)
            .map_err(|e| e.to_string())?;
    let mut dst = fr::images::Image::new(width, height, fr::PixelType::U8x3);
    let kernel = match filter {
        Filter::Bicubic => fr::FilterType::CatmullRom,
        Filter::Bilinear => fr::FilterType::Bilinear,
    };
    let options = fr::ResizeOptions::new().resize_alg(fr::ResizeAlg::Convolution(kernel));
    fr::Resizer::new()
        .resize(&src, &mut dst, &options)
        .map_err(|e| e.to_string())?;
    RgbImage::from_raw(width, height, dst.into_vec())
        .ok_or_else(|| "resize produced a wrong buffer size".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn centre_offset_rounds_half_to_even() {
        assert_eq!(centre_offset(224, 224), 0);
        assert_eq!(centre_offset(227, 224), 2); // 1.5 → 2
        assert_eq!(centre_offset(229, 224), 2); // 2.5 → 2
        assert_eq!(centre_offset(231, 224), 4); // 3.5 → 4
        assert_eq!(centre_offset(230, 224), 3);
    }

    #[test]
    fn shortest_side_becomes_the_target_and_the_long_side_truncates() {
        assert_eq!(resized_dimensions(500, 313, 224), (357, 224)); // 224·500/313 = 357.8
        assert_eq!(resized_dimensions(263, 320, 224), (224, 272));
        assert_eq!(resized_dimensions(224, 224, 224), (224, 224));
    }

    #[test]
    fn panoramas_pass_and_slivers_or_huge_resizes_are_refused() {
        let p = Preprocessing::default();
        assert_eq!(p.check_resize(44_721, 2_236), Ok(())); // 100 MP at 20:1
        assert_eq!(p.check_resize(2_236, 44_721), Ok(()));
        assert_eq!(p.check_resize(1, 1), Ok(())); // upscaled
        let err = p.check_resize(1, 100_000).unwrap_err();
        assert!(err.contains("224×22400000"), "{err}");
        assert!(err.contains("over 50:1"), "{err}");
        assert!(p.check_resize(100_000, 1).is_err());
        assert!(p.check_resize(0, 10).is_err());
        let large = Preprocessing {
            resize: Resize::ShortestEdge {
                edge: 1000,
                crop_height: 224,
                crop_width: 224,
            },
            ..Preprocessing::default()
        };
        let err = large.check_resize(60_000, 1_500).unwrap_err();
        assert!(err.contains("60000000-pixel buffer"), "{err}");
    }

    #[test]
    fn reads_both_size_spellings() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("preprocessor_config.json");
        std::fs::write(
            &path,
            r#"{"size": 336, "crop_size": 336, "image_mean": [0.5, 0.5, 0.5]}"#,
        )
        .unwrap();
        let p = Preprocessing::from_config_file(&path).unwrap();
        assert_eq!(
            p.resize,
            Resize::ShortestEdge {
                edge: 336,
                crop_height: 336,
                crop_width: 336
            }
        );
        assert_eq!(p.normalize.unwrap().mean, [0.5; 3]);
        std::fs::write(&path, r#"{"resample": 1}"#).unwrap();
        let err = Preprocessing::from_config_file(&path)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("`resample: 1`") && err.contains("bilinear (2)"),
            "{err}"
        );
    }
}

#[cfg(test)]
mod config_tests {
    use super::*;

    fn from(json: &str) -> std::result::Result<Preprocessing, String> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("preprocessor_config.json");
        std::fs::write(&path, json).unwrap();
        Preprocessing::from_config_file(&path).map_err(|e| e.to_string())
    }

    #[test]
    fn siglip_resizes_exactly_and_composites_onto_white() {
        let p = from(r#"{"image_processor_type": "SiglipImageProcessor", "size": {"height": 256, "width": 192}, "resample": 2, "do_normalize": false, "rescale_factor": 0.5}"#).unwrap();
        assert_eq!(
            p.resize,
            Resize::Exact {
                height: 256,
                width: 192
            }
        );
        assert_eq!((p.filter, p.alpha), (Filter::Bilinear, Alpha::OntoWhite));
        assert_eq!((p.rescale_factor, p.normalize), (Some(0.5), None));
        assert_eq!(p.tensor_len(), 3 * 256 * 192);
        let p = from(r#"{"do_rescale": false}"#).unwrap();
        assert_eq!((p.rescale_factor, p.alpha), (None, Alpha::Drop));
        // What a fast processor saves: unset fields and tensor settings change nothing.
        let fast = from(r#"{"image_processor_type": "SiglipImageProcessorFast", "size": {"height": 224, "width": 224}, "crop_size": null, "do_center_crop": null, "data_format": "channels_first", "device": null, "input_data_format": null, "return_tensors": null, "do_pad": null, "default_to_square": true, "resample": 3}"#).unwrap();
        assert_eq!(
            fast.resize,
            Resize::Exact {
                height: 224,
                width: 224
            }
        );
    }

    #[test]
    fn what_is_not_followed_is_refused_by_name() {
        for (json, needle) in [
            (r#"{"do_pad": true}"#, "`do_pad: true` is not a setting"),
            (r#"{"crop_pct": 0.9}"#, "`crop_pct: 0.9`"),
            (
                r#"{"data_format": "channels_last"}"#,
                "`data_format: \"channels_last\"`",
            ),
            (r#"{"resample": 0}"#, "`resample: 0`"),
            (r#"{"do_resize": false}"#, "`do_resize: false`"),
            (r#"{"do_convert_rgb": false}"#, "`do_convert_rgb: false`"),
            (
                r#"{"image_processor_type": "BlipImageProcessor"}"#,
                "\"BlipImageProcessor\"",
            ),
            (
                r#"{"size": {"shortest_edge": 224}, "do_center_crop": false}"#,
                "different shapes",
            ),
            (
                r#"{"size": {"height": 224, "width": 200}, "do_center_crop": true}"#,
                "needs one size",
            ),
            (r#"{"image_std": [0.5, 0.0, 0.5]}"#, "divide by zero"),
            (
                r#"{"size": {"height": 5000, "width": 5000}}"#,
                "between 1 and 1024",
            ),
        ] {
            let err = from(json).unwrap_err();
            assert!(err.contains(needle), "{json}: {err}");
        }
    }

    #[test]
    fn transparent_pixels_blend_onto_white_as_pillow_does() {
        let mut rgba = image::RgbaImage::new(3, 1);
        rgba.put_pixel(0, 0, image::Rgba([0, 0, 0, 0]));
        rgba.put_pixel(1, 0, image::Rgba([0, 100, 200, 128]));
        rgba.put_pixel(2, 0, image::Rgba([10, 20, 30, 255]));
        let rgb = onto_white(DynamicImage::ImageRgba8(rgba));
        // floor((c·a + 255·(255 − a)) / 255 + 1/2), Pillow's alpha_composite over white.
        assert_eq!(rgb.get_pixel(0, 0).0, [255, 255, 255]);
        assert_eq!(rgb.get_pixel(1, 0).0, [127, 177, 227]);
        assert_eq!(rgb.get_pixel(2, 0).0, [10, 20, 30]);
    }
}

#[cfg(test)]
mod refusal_tests {
    use super::*;

    #[test]
    fn a_panic_while_decoding_becomes_an_image_error() {
        let golden = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/preprocess/tiny.png");
        let bytes = std::fs::read(&golden).unwrap();
        let Err(err) = decode_checked(&bytes, &golden, Alpha::Drop, |_, _| {
            panic!("as a decoder might")
        }) else {
            panic!("the panic was not caught")
        };
        let err = err.to_string();
        assert!(err.contains("Png decoder crashed"), "{err}");
        assert!(err.contains("as a decoder might"), "{err}");
    }

    #[test]
    fn an_oversized_file_is_refused_unread() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("huge.png");
        let file = std::fs::File::create(&path).unwrap();
        file.set_len(MAX_FILE_BYTES + 1).unwrap(); // sparse: nothing is written
        let err = Preprocessing::default()
            .load(&path)
            .unwrap_err()
            .to_string();
        assert!(err.contains("over the limit of 1073741824"), "{err}");
    }
}

#[cfg(test)]
mod truncation_tests {
    use super::*;

    #[test]
    fn a_cut_off_jpeg_is_refused() {
        let golden =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/preprocess/flower_0.jpg");
        let bytes = std::fs::read(&golden).unwrap();
        assert!(decode_rgb8(&bytes, &golden).is_ok());
        let Err(err) = decode_rgb8(&bytes[..bytes.len() / 3], &golden) else {
            panic!("a cut-off JPEG was decoded")
        };
        let err = err.to_string();
        assert!(err.contains("truncated JPEG"), "{err}");
    }
}
