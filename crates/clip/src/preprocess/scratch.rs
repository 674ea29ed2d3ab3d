//! Whole-image working buffers that some decoders allocate outside `image::Limits`, estimated
//! from the encoded bytes before decoding so that the decode budget covers them too.
//!
//! PNG, GIF and BMP decode into the output buffer with per-row (or, for GIF, per-frame and
//! Limits-counted) buffers; the others keep a second copy of the image in some form.

use image::ImageFormat;

use super::jpeg_markers::{next_marker, segment, stands_alone};

/// Upper bound on the bytes the decoder of `format` allocates besides its `output_bytes`, for
/// an image declared `width`×`height` whose encoded form is `bytes`; or why it would fail
/// anyway, found before those bytes are spent.
pub(super) fn scratch_bytes(
    format: ImageFormat,
    bytes: &[u8],
    (width, height): (u32, u32),
    output_bytes: u64,
) -> Result<u64, String> {
    Ok(match format {
        ImageFormat::Jpeg => jpeg_coefficients(bytes, width, height),
        ImageFormat::WebP => webp_buffers(bytes, width, height)?,
        // The TIFF decoder reads into its own buffer and copies it out (it counts anything
        // beyond that, such as CMYK's wider buffer, against Limits itself).
        ImageFormat::Tiff => output_bytes,
        _ => 0,
    })
}

/// libjpeg keeps every component's DCT coefficients (`i16`, padded to whole MCUs of at most
/// 32 pixels) for a progressive JPEG, or one whose first scan lacks some components; a
/// single-scan baseline JPEG is decoded a row of MCUs at a time.
fn jpeg_coefficients(bytes: &[u8], width: u32, height: u32) -> u64 {
    let planes = |components: u8| {
        2 * u64::from(components) * (u64::from(width) + 32) * (u64::from(height) + 32)
    };
    match jpeg_frame(bytes) {
        Some(frame) if !frame.progressive && frame.first_scan_components >= frame.components => 0,
        Some(frame) => planes(frame.components.min(4)), // more than 4 is refused
        None => planes(4), // not walkable here: assume the worst the decoder could do
    }
}

struct JpegFrame {
    progressive: bool,
    components: u8,
    first_scan_components: u8,
}

/// Walks the marker segments from SOI to the first SOS as libjpeg reads them (skipping
/// APPn segments whole, so an EXIF thumbnail's own markers are never seen, and skipping what
/// libjpeg skips between segments, so nothing can hide a frame from this walk).
fn jpeg_frame(bytes: &[u8]) -> Option<JpegFrame> {
    let mut at = 2;
    let mut frame: Option<JpegFrame> = None;
    loop {
        let (marker, start) = next_marker(bytes, at)?;
        if marker == 0xD9 {
            return None; // the image ended without a scan
        }
        if stands_alone(marker) {
            at = start;
            continue;
        }
        let (length, end) = segment(bytes, start)?;
        let body = bytes.get(start + 2..start + length.max(2))?;
        match marker {
            0xC0..=0xCF if !matches!(marker, 0xC4 | 0xC8 | 0xCC) => {
                let components = *body.get(5)?;
                let previous = frame
                    .as_ref()
                    .map_or((false, 0), |f| (f.progressive, f.components));
                frame = Some(JpegFrame {
                    progressive: previous.0 || matches!(marker, 0xC2 | 0xC6 | 0xCA | 0xCE),
                    components: components.max(previous.1),
                    first_scan_components: 0,
                });
            }
            0xDA => {
                let mut frame = frame?;
                frame.first_scan_components = *body.first()?;
                return Some(frame);
            }
            _ => {}
        }
        at = end;
    }
}

/// image-webp's buffers besides the output, summed over every kind of chunk present (found by
/// a plain scan, so a chunk hidden in odd padding still counts): an animation's RGBA canvas
/// and frame, a lossless bitstream's RGBA pixels and sub-images, an alpha plane decoded
/// through lossless, and the YUV planes of the largest VP8 frame, which is read whole before
/// its size is compared with the canvas (so a still image whose frame is not the canvas's
/// size is refused here, as the decoder would refuse it afterwards).
fn webp_buffers(bytes: &[u8], width: u32, height: u32) -> Result<u64, String> {
    let has = |tag: &[u8; 4]| bytes.windows(4).any(|w| w == tag);
    let per_pixel = [(b"ANMF", 8), (b"VP8L", 5), (b"ALPH", 5)]
        .iter()
        .filter(|(tag, _)| has(tag))
        .map(|(_, bytes)| bytes)
        .sum::<u64>();
    let frames = vp8_frames(bytes);
    if let Some((w, h)) = frames.iter().find(|&&f| f != (width, height))
        && !has(b"ANMF")
    {
        return Err(format!(
            "the VP8 frame declares {w}×{h} pixels, the canvas {width}×{height}"
        ));
    }
    let padded = |(w, h): (u32, u32)| (u64::from(w) + 16) * (u64::from(h) + 16);
    let largest = frames.into_iter().map(padded).max().unwrap_or(0);
    Ok(per_pixel * u64::from(width) * u64::from(height) + largest * 3 / 2)
}

/// The size of every VP8 key frame header in the file: `VP8 `, the chunk size, a 3-byte
/// frame tag, the start code 9D 01 2A, then 14-bit width and height.
fn vp8_frames(bytes: &[u8]) -> Vec<(u32, u32)> {
    let side = |lo: u8, hi: u8| u32::from(u16::from_le_bytes([lo, hi]) & 0x3FFF);
    bytes
        .windows(18)
        .filter(|w| &w[..4] == b"VP8 " && w[11..14] == [0x9D, 0x01, 0x2A])
        .map(|w| (side(w[14], w[15]), side(w[16], w[17])))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A progressive frame hidden behind a stuffed `FF 00` and a decoy baseline frame after
    /// it: libjpeg skips the `FF 00` and its stray bytes and decodes the progressive frame,
    /// so its coefficient planes must be counted.
    #[test]
    fn bytes_libjpeg_skips_hide_no_progressive_frame() {
        let golden = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/jpeg/pillow_420_progressive.jpg");
        let real = std::fs::read(golden).unwrap();
        let sof = real.windows(2).position(|w| w == [0xFF, 0xC2]).unwrap();
        let progressive = &real[sof..real.len() - 2]; // up to the real end of image
        // Read as a segment, `FF 00`'s "length" would jump over the progressive frame.
        let jump = u16::try_from(progressive.len() + 2).unwrap().to_be_bytes();
        let mut hidden = vec![0xFF, 0xD8, 0xFF, 0x00, jump[0], jump[1]];
        hidden.extend_from_slice(progressive);
        hidden.extend_from_slice(&[0xFF, 0xC0, 0, 17, 8, 0, 1, 0, 1, 3]); // a decoy baseline
        hidden.extend_from_slice(&[1, 0x11, 0, 2, 0x11, 1, 3, 0x11, 1]);
        hidden.extend_from_slice(&[0xFF, 0xDA, 0, 12, 3, 1, 0, 2, 0x11, 3, 0x11, 0, 63, 0]);
        hidden.extend_from_slice(&[0xFF, 0xD9]);
        assert!(jpeg_coefficients(&hidden, 61, 37) > 0);
    }

    #[test]
    fn a_baseline_jpeg_needs_no_coefficient_planes_and_a_progressive_one_does() {
        let golden = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/golden/preprocess/flower_0.jpg");
        let mut bytes = std::fs::read(golden).unwrap();
        assert_eq!(jpeg_coefficients(&bytes, 100, 100), 0);
        let sof = bytes.windows(2).position(|w| w == [0xFF, 0xC0]).unwrap();
        bytes[sof + 1] = 0xC2;
        assert_eq!(jpeg_coefficients(&bytes, 100, 100), 2 * 3 * 132 * 132);
        assert_eq!(
            jpeg_coefficients(&bytes[..sof], 100, 100),
            2 * 4 * 132 * 132
        );
    }

    #[test]
    fn a_vp8_frame_is_found_and_must_match_a_still_canvas() {
        let golden = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/golden/preprocess/flower.webp");
        let bytes = std::fs::read(golden).unwrap();
        assert_eq!(vp8_frames(&bytes), [(320, 263)]);
        assert_eq!(
            webp_buffers(&bytes, 320, 263),
            Ok((320 + 16) * (263 + 16) * 3 / 2)
        );
        let err = webp_buffers(&bytes, 100, 100).unwrap_err();
        assert!(err.contains("320×263"), "{err}");
    }
}
