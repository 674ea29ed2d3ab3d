//! Image preprocessing as CLIP's reference does it: decode, 8-bit RGB, resize the shortest
//! side with bicubic (Pillow's kernel is Catmull-Rom), centre crop with round-half-to-even
//! offsets, rescale and normalise into a CHW tensor.

use std::path::{Path, PathBuf};

use fast_image_resize as fr;
use image::{ImageDecoder, ImageReader, RgbImage};
use serde::Deserialize;

use crate::error::{Error, Result};

/// Images declaring more pixels than this are refused before any pixel is allocated.
pub const MAX_PIXELS: u64 = 100_000_000;

/// Everything that decides the pixels a model sees; part of the embedding cache key.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Preprocessing {
    pub shortest_edge: u32,
    pub crop_height: u32,
    pub crop_width: u32,
    pub mean: [f32; 3],
    pub std: [f32; 3],
    pub rescale_factor: f32,
}

impl Default for Preprocessing {
    /// OpenAI CLIP at 224 pixels.
    fn default() -> Self {
        Self {
            shortest_edge: 224,
            crop_height: 224,
            crop_width: 224,
            mean: [0.481_454_66, 0.457_827_5, 0.408_210_73],
            std: [0.268_629_54, 0.261_302_6, 0.275_777_1],
            rescale_factor: 1.0 / 255.0,
        }
    }
}

/// Either `224` or `{"shortest_edge": 224}` / `{"height": 224, "width": 224}`: both occur.
#[derive(Deserialize)]
#[serde(untagged)]
enum SizeField {
    Square(u32),
    Shortest { shortest_edge: u32 },
    Box { height: u32, width: u32 },
}

#[derive(Deserialize)]
struct PreprocessorConfig {
    size: Option<SizeField>,
    crop_size: Option<SizeField>,
    image_mean: Option<[f32; 3]>,
    image_std: Option<[f32; 3]>,
    rescale_factor: Option<f32>,
    resample: Option<u32>,
}

impl Preprocessing {
    /// Reads a Hugging Face `preprocessor_config.json`; absent fields keep CLIP's defaults.
    pub fn from_config_file(path: &Path) -> Result<Self> {
        let bad = |reason: String| Error::ModelFile {
            path: path.to_path_buf(),
            reason,
        };
        let text = std::fs::read_to_string(path).map_err(|e| bad(e.to_string()))?;
        let config: PreprocessorConfig = serde_json::from_str(&text)
            .map_err(|e| bad(format!("not a preprocessor config: {e}")))?;
        if let Some(resample) = config.resample.filter(|&r| r != 3) {
            return Err(bad(format!(
                "resample = {resample}; only bicubic (3) is supported, as CLIP uses"
            )));
        }
        let mut p = Self::default();
        match config.size {
            Some(SizeField::Square(s) | SizeField::Shortest { shortest_edge: s }) => {
                p.shortest_edge = s
            }
            Some(SizeField::Box { height, width }) if height == width => p.shortest_edge = height,
            Some(SizeField::Box { .. }) => {
                return Err(bad("`size` must be square or a shortest edge".into()));
            }
            None => {}
        }
        match config.crop_size {
            Some(SizeField::Square(s) | SizeField::Shortest { shortest_edge: s }) => {
                (p.crop_height, p.crop_width) = (s, s)
            }
            Some(SizeField::Box { height, width }) => {
                (p.crop_height, p.crop_width) = (height, width)
            }
            None => {}
        }
        p.mean = config.image_mean.unwrap_or(p.mean);
        p.std = config.image_std.unwrap_or(p.std);
        p.rescale_factor = config.rescale_factor.unwrap_or(p.rescale_factor);
        Ok(p)
    }

    /// Values in one preprocessed image tensor (3 × crop height × crop width).
    pub fn tensor_len(&self) -> usize {
        3 * self.crop_height as usize * self.crop_width as usize
    }

    /// Decodes, resizes, crops and normalises an image file.
    pub fn load(&self, path: &Path) -> Result<Vec<f32>> {
        let bytes = std::fs::read(path).map_err(|e| image_error(path, e.to_string()))?;
        self.tensor_from_bytes(&bytes, path)
    }

    /// As [`Preprocessing::load`], from bytes already read; `path` names them in errors.
    pub fn tensor_from_bytes(&self, bytes: &[u8], path: &Path) -> Result<Vec<f32>> {
        let crop = self
            .crop(&decode_rgb8(bytes, path)?)
            .map_err(|e| image_error(path, e))?;
        Ok(self.normalise(&crop))
    }

    /// The resized and cropped 8-bit image, before normalisation.
    pub fn crop(&self, rgb: &RgbImage) -> std::result::Result<RgbImage, String> {
        let (width, height) = rgb.dimensions();
        if width == 0 || height == 0 {
            return Err("the image has no pixels".into());
        }
        let (new_width, new_height) = resized_dimensions(width, height, self.shortest_edge);
        let resized = resize_bicubic(rgb, new_width, new_height)?;
        let (crop_w, crop_h) = (self.crop_width, self.crop_height);
        if new_width < crop_w || new_height < crop_h {
            return Err(format!(
                "resized to {new_width}×{new_height}, smaller than the {crop_w}×{crop_h} crop"
            ));
        }
        let left = centre_offset(new_width, crop_w);
        let top = centre_offset(new_height, crop_h);
        Ok(image::imageops::crop_imm(&resized, left, top, crop_w, crop_h).to_image())
    }

    /// CHW float tensor: `(pixel × rescale − mean) / std` per channel.
    pub fn normalise(&self, crop: &RgbImage) -> Vec<f32> {
        let plane = (crop.width() * crop.height()) as usize;
        let mut out = vec![0.0f32; 3 * plane];
        for (i, pixel) in crop.pixels().enumerate() {
            for c in 0..3 {
                out[c * plane + i] =
                    (f32::from(pixel[c]) * self.rescale_factor - self.mean[c]) / self.std[c];
            }
        }
        out
    }
}

fn image_error(path: &Path, reason: String) -> Error {
    Error::Image {
        path: PathBuf::from(path),
        reason,
    }
}

/// Decodes any supported format to 8-bit RGB as Pillow's `convert("RGB")` does: alpha is
/// dropped, 16-bit values are rounded to 8 bits, the first frame of an animation is used.
/// EXIF orientation is not applied, as in CLIP's own transform.
pub fn decode_rgb8(bytes: &[u8], path: &Path) -> Result<RgbImage> {
    let reader = ImageReader::new(std::io::Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| image_error(path, e.to_string()))?;
    if reader.format().is_none() {
        return Err(image_error(
            path,
            "not an image in a supported format (JPEG, PNG, WebP, GIF, BMP, TIFF)".into(),
        ));
    }
    if reader.format() == Some(image::ImageFormat::Jpeg) && is_truncated_jpeg(bytes) {
        return Err(image_error(
            path,
            "truncated JPEG (the image data has no end marker)".into(),
        ));
    }
    let decoder = reader
        .into_decoder()
        .map_err(|e| image_error(path, e.to_string()))?;
    let (width, height) = decoder.dimensions();
    if u64::from(width) * u64::from(height) > MAX_PIXELS {
        return Err(image_error(
            path,
            format!("declares {width}×{height} pixels, over the limit of {MAX_PIXELS}"),
        ));
    }
    let image =
        image::DynamicImage::from_decoder(decoder).map_err(|e| image_error(path, e.to_string()))?;
    Ok(image.into_rgb8())
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
        (u64::from(shortest_edge) * u64::from(long) / u64::from(short)) as u32
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

fn resize_bicubic(
    rgb: &RgbImage,
    width: u32,
    height: u32,
) -> std::result::Result<RgbImage, String> {
    // Pillow resizes horizontally first and rounds to 8 bits between the passes; doing the
    // same keeps overshoot near sharp edges identical to the reference.
    let horizontal = resize_pass(rgb, width, rgb.height())?;
    resize_pass(&horizontal, width, height)
}

fn resize_pass(rgb: &RgbImage, width: u32, height: u32) -> std::result::Result<RgbImage, String> {
    if rgb.dimensions() == (width, height) {
        return Ok(rgb.clone());
    }
    let src =
        fr::images::ImageRef::new(rgb.width(), rgb.height(), rgb.as_raw(), fr::PixelType::U8x3)
            .map_err(|e| e.to_string())?;
    let mut dst = fr::images::Image::new(width, height, fr::PixelType::U8x3);
    let options =
        fr::ResizeOptions::new().resize_alg(fr::ResizeAlg::Convolution(fr::FilterType::CatmullRom));
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
    fn reads_both_size_spellings() {
        let dir = std::env::temp_dir().join(format!("ontosweep-pp-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("preprocessor_config.json");
        std::fs::write(
            &path,
            r#"{"size": 336, "crop_size": 336, "image_mean": [0.5, 0.5, 0.5]}"#,
        )
        .unwrap();
        let p = Preprocessing::from_config_file(&path).unwrap();
        assert_eq!(
            (p.shortest_edge, p.crop_height, p.crop_width),
            (336, 336, 336)
        );
        assert_eq!(p.mean, [0.5; 3]);
        std::fs::write(&path, r#"{"resample": 2}"#).unwrap();
        let err = Preprocessing::from_config_file(&path)
            .unwrap_err()
            .to_string();
        assert!(err.contains("bicubic"), "{err}");
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
