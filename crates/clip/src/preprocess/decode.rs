//! Image files to 8-bit RGB as Pillow makes them: an image whose declared size is over the
//! limits is refused before any pixel is decoded, and a decoder that panics costs that image,
//! not the run.

use std::panic::{self, AssertUnwindSafe};
use std::path::{Path, PathBuf};

use image::error::LimitErrorKind;
use image::{DynamicImage, ImageDecoder, ImageError, ImageFormat, ImageReader, Limits, RgbImage};
use ontosweep_onnx::{Error, Result};

use super::limits::{HEADER_ALLOC, MAX_DECODE_BYTES, MAX_FILE_BYTES, MAX_PIXELS, MAX_SIDE};
use super::scratch;
use super::settings::{Alpha, Preprocessing};

impl Preprocessing {
    /// As [`decode_rgb8`] (with this preprocessing's alpha rule), but refuses before decoding
    /// any pixel an image whose declared size this preprocessing could not resize within
    /// [`MAX_RESIZE_PIXELS`](super::MAX_RESIZE_PIXELS).
    pub fn decode(&self, bytes: &[u8], path: &Path) -> Result<RgbImage> {
        decode_checked(bytes, path, self.alpha, |width, height| {
            check_pixels(width, height)?;
            self.check_resize(width, height)
        })
    }
}

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

pub(super) fn image_error(path: &Path, reason: String) -> Error {
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
        if format == ImageFormat::Jpeg {
            // Pillow's own decoder, so that the pixels are the reference's; the header is
            // read and the size checked before any pixel is decoded.
            return super::jpeg::decode(bytes, |width, height, output| {
                check(width, height)?;
                let scratch = scratch::scratch_bytes(format, bytes, (width, height), output)?;
                within_decode_limit(width, height, output.saturating_add(scratch))
            });
        }
        let mut decoder = reader.into_decoder().map_err(describe)?;
        let (width, height) = decoder.dimensions();
        check(width, height)?;
        let output = decoder.total_bytes();
        let scratch = scratch::scratch_bytes(format, bytes, (width, height), output)?;
        within_decode_limit(width, height, output.saturating_add(scratch))?;
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

fn within_decode_limit(width: u32, height: u32, needed: u64) -> std::result::Result<(), String> {
    if needed > MAX_DECODE_BYTES {
        return Err(format!(
            "{width}×{height} pixels need {} MiB to decode, over the limit of {} MiB",
            needed.div_ceil(1 << 20),
            MAX_DECODE_BYTES >> 20
        ));
    }
    Ok(())
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

#[cfg(test)]
mod tests {
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
