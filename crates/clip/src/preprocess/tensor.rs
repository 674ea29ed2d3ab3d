//! The whole way from an image file to the model's CHW float tensor: decode, resize and
//! crop, then rescale and normalise each value.

use std::path::Path;

use image::RgbImage;
use ontosweep_onnx::Result;

use super::decode::{image_error, read_image_file};
use super::settings::{Normalize, Preprocessing};

impl Preprocessing {
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
    pub(super) fn tensor_value(&self, value: u8, channel: usize) -> f32 {
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
