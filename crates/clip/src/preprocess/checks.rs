//! Values of a preprocessor config that would make every image fail, or every tensor
//! meaningless, refused by field name before any image is encoded.

use super::limits::MAX_INPUT_SIDE;
use super::settings::{Normalize, Preprocessing, Resize};

/// Why `preprocessing` (read from a config) cannot be followed, naming the field.
pub(super) fn check(preprocessing: &Preprocessing) -> Result<(), String> {
    match preprocessing.resize {
        Resize::ShortestEdge {
            edge,
            crop_height,
            crop_width,
        } => {
            side("size", edge)?;
            side("crop_size", crop_height)?;
            side("crop_size", crop_width)?;
            if crop_height > edge || crop_width > edge {
                return Err(format!(
                    "`crop_size` {crop_width}×{crop_height} is larger than `size` {edge}, the shortest side after resizing: no image could be cropped to it; make `crop_size` at most `size`"
                ));
            }
        }
        Resize::Exact { height, width } => {
            side("size", height)?;
            side("size", width)?;
        }
    }
    if let Some(factor) = preprocessing.rescale_factor
        && !(factor.is_finite() && factor > 0.0)
    {
        return Err(format!(
            "`rescale_factor: {factor}` must be a positive finite number (usually 1/255 = 0.00392156862745098)"
        ));
    }
    if let Some(Normalize { mean, std }) = preprocessing.normalize {
        if mean.iter().any(|m| !m.is_finite()) {
            return Err(format!("`image_mean: {mean:?}` must hold finite numbers"));
        }
        if std.iter().any(|s| !(s.is_normal() && *s > 0.0)) {
            return Err(format!(
                "`image_std: {std:?}` must hold positive finite numbers: a zero would divide by zero"
            ));
        }
    }
    // Each value right, the extremes may still overflow together (a tiny std).
    for channel in 0..3 {
        for pixel in [u8::MIN, u8::MAX] {
            let value = preprocessing.tensor_value(pixel, channel);
            if !value.is_finite() {
                return Err(format!(
                    "`rescale_factor`, `image_mean` and `image_std` turn pixel value {pixel} of channel {channel} into {value}, not a number a model can take"
                ));
            }
        }
    }
    Ok(())
}

fn side(field: &str, pixels: u32) -> Result<(), String> {
    if (1..=MAX_INPUT_SIDE).contains(&pixels) {
        Ok(())
    } else {
        Err(format!(
            "`{field}` of {pixels} pixels: each side must be between 1 and {MAX_INPUT_SIDE}"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::super::Preprocessing;

    fn from(json: &str) -> Result<Preprocessing, String> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("preprocessor_config.json");
        std::fs::write(&path, json).unwrap();
        Preprocessing::from_config_file(&path).map_err(|e| e.to_string())
    }

    #[test]
    fn values_no_image_could_pass_are_refused_by_field_and_file() {
        for (json, needle) in [
            (r#"{"size": 0, "crop_size": 0}"#, "`size` of 0 pixels"),
            (
                r#"{"size": {"shortest_edge": 0}, "crop_size": 224}"#,
                "`size` of 0 pixels",
            ),
            (
                r#"{"size": {"height": 0, "width": 224}}"#,
                "`size` of 0 pixels",
            ),
            (
                r#"{"size": 224, "crop_size": 0}"#,
                "`crop_size` of 0 pixels",
            ),
            (
                r#"{"size": 224, "crop_size": {"height": 224, "width": 0}}"#,
                "`crop_size` of 0 pixels",
            ),
            (
                r#"{"size": 224, "crop_size": 256}"#,
                "`crop_size` 256×256 is larger than `size` 224",
            ),
            (
                r#"{"crop_size": 336, "do_center_crop": true}"#,
                "`crop_size` 336×336 is larger than `size` 224",
            ),
            (r#"{"size": 100000, "crop_size": 224}"#, "`size` of 100000"),
            (r#"{"rescale_factor": 0}"#, "`rescale_factor: 0`"),
            (r#"{"rescale_factor": -0.5}"#, "`rescale_factor: -0.5`"),
            (r#"{"rescale_factor": 1e39}"#, "`rescale_factor: inf`"),
            (
                r#"{"image_mean": [0.5, 1e39, 0.5]}"#,
                "`image_mean: [0.5, inf",
            ),
            (r#"{"image_std": [0.5, 0.0, 0.5]}"#, "divide by zero"),
            (
                r#"{"image_std": [0.5, -0.2, 0.5]}"#,
                "`image_std: [0.5, -0.2",
            ),
            (r#"{"image_std": [1e39, 1, 1]}"#, "`image_std: [inf"),
            (
                r#"{"image_std": [1e-30, 1, 1], "rescale_factor": 1e30}"#,
                "pixel value 255 of channel 0 into inf",
            ),
        ] {
            let err = from(json).unwrap_err();
            assert!(
                err.contains(needle) && err.contains("preprocessor_config.json"),
                "{json}: {err}"
            );
        }
    }

    #[test]
    fn real_values_and_unused_steps_pass() {
        // OpenAI's CLIP at 336 pixels, and SigLIP's.
        from(r#"{"size": {"shortest_edge": 336}, "crop_size": {"height": 336, "width": 336}, "rescale_factor": 0.00392156862745098, "image_mean": [0.48145466, 0.4578275, 0.40821073], "image_std": [0.26862954, 0.26130258, 0.27577711]}"#).unwrap();
        from(r#"{"image_processor_type": "SiglipImageProcessor", "size": {"height": 224, "width": 224}, "image_mean": [0.5, 0.5, 0.5], "image_std": [0.5, 0.5, 0.5], "resample": 3}"#).unwrap();
        // A crop smaller than the resize (256 then 224) is fine.
        from(r#"{"size": 256, "crop_size": 224}"#).unwrap();
        // A step switched off is not checked: its values are never used.
        from(r#"{"do_normalize": false, "image_std": [0, 0, 0]}"#).unwrap();
    }
}
