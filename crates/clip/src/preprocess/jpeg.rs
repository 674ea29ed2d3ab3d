//! JPEG decoded as Pillow decodes it, byte for byte: libjpeg-turbo's decoder (mozjpeg's
//! vendored copy, built from source, with SIMD where nasm was found: its integer paths give
//! the same bytes with or without), with libjpeg's defaults, which Pillow never changes (the slow integer
//! IDCT, fancy upsampling, block smoothing). Then as `convert("RGB")`: grey is copied to the
//! three channels; CMYK and YCCK are read with Adobe's polarity (every byte inverted, as
//! Pillow always does) and made RGB with Pillow's own integer formula.

use image::RgbImage;
use mozjpeg::decompress::DctMethod;
use mozjpeg::{ColorSpace, Decompress};

/// The image's RGB pixels; an error says why there are none. `check` sees the declared
/// size, and the bytes the pixels take on their way to RGB, before any pixel is decoded,
/// and may refuse them. A libjpeg error arrives as a panic, so the caller decodes under
/// `catch_unwind`.
pub(super) fn decode(
    bytes: &[u8],
    check: impl FnOnce(u32, u32, u64) -> Result<(), String>,
) -> Result<RgbImage, String> {
    let describe = |e: std::io::Error| e.to_string();
    let mut jpeg = Decompress::new_mem(bytes).map_err(describe)?;
    jpeg.dct_method(DctMethod::IntegerSlow);
    jpeg.do_fancy_upsampling(true);
    jpeg.do_block_smoothing(true);
    let (width, height) = jpeg.size();
    let (w, h) = (u32::try_from(width), u32::try_from(height));
    let (Ok(w), Ok(h)) = (w, h) else {
        return Err(format!(
            "{width}×{height} pixels is not a size an image can have"
        ));
    };
    // The decoded rows, then (for grey and CMYK) the RGB made of them.
    let per_pixel = match jpeg.components().len() {
        1 => 1 + 3,
        4 => 4 + 3,
        _ => 3,
    };
    check(w, h, u64::from(w) * u64::from(h) * per_pixel)?;
    super::jpeg_scans::check_scans(bytes, w, h)?;
    let rgb = match jpeg.components().len() {
        1 => {
            let mut started = jpeg.grayscale().map_err(describe)?;
            let grey: Vec<u8> = started.read_scanlines().map_err(describe)?;
            started.finish().map_err(describe)?;
            grey.iter().flat_map(|&v| [v, v, v]).collect()
        }
        3 => {
            let mut started = jpeg.rgb().map_err(describe)?;
            let rgb: Vec<u8> = started.read_scanlines().map_err(describe)?;
            started.finish().map_err(describe)?;
            rgb
        }
        4 => {
            let mut started = jpeg.to_colorspace(ColorSpace::JCS_CMYK).map_err(describe)?;
            let cmyk: Vec<u8> = started.read_scanlines().map_err(describe)?;
            started.finish().map_err(describe)?;
            cmyk.chunks_exact(4)
                .flat_map(inverted_cmyk_to_rgb)
                .collect()
        }
        n => return Err(format!("a JPEG with {n} components (1, 3 or 4 are images)")),
    };
    RgbImage::from_raw(w, h, rgb).ok_or_else(|| {
        "the decoder gave fewer pixels than the image declares (truncated data?)".to_string()
    })
}

/// Pillow's `cmyk2rgb` on the bytes libjpeg gives, which Pillow first inverts (`CMYK;I`):
/// with c, m, y, k the inverted values, each channel is `(255 − k) − (c·(255 − k))/255`,
/// rounded as Pillow's `MULDIV255` rounds.
fn inverted_cmyk_to_rgb(raw: &[u8]) -> [u8; 3] {
    let (c, m, y, k) = (255 - raw[0], 255 - raw[1], 255 - raw[2], 255 - raw[3]);
    let nk = 255 - i32::from(k);
    let channel = |v: u8| (nk - muldiv255(i32::from(v), nk)).clamp(0, 255) as u8;
    [channel(c), channel(m), channel(y)]
}

fn muldiv255(a: i32, b: i32) -> i32 {
    let t = a * b + 128;
    ((t >> 8) + t) >> 8
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cmyk_follows_pillows_integer_formula() {
        // Raw (Adobe-inverted) bytes: 255 is no ink, so white stays white.
        assert_eq!(inverted_cmyk_to_rgb(&[255, 255, 255, 255]), [255, 255, 255]);
        // Full black ink: black, whatever the colour inks.
        assert_eq!(inverted_cmyk_to_rgb(&[0, 128, 255, 0]), [0, 0, 0]);
        // c = 255 − 55 = 200, k = 255 − 215 = 40: nk = 215, 215 − MULDIV255(200, 215) = 215 − 169.
        assert_eq!(inverted_cmyk_to_rgb(&[55, 255, 0, 215])[0], 46);
        assert_eq!(muldiv255(200, 215), 169);
    }
}
