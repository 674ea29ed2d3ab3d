//! torchvision's shortest-side sizes and centre crop around Pillow's resample, refusing
//! sizes over the limits.

use image::RgbImage;

use super::limits::{MAX_ASPECT_RATIO, MAX_RESIZE_PIXELS};
use super::resample::resample;
use super::settings::{Preprocessing, Resize};

impl Preprocessing {
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
        let resized = resample(rgb, new_width, new_height, self.filter)?;
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
}
