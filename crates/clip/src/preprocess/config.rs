//! Hugging Face's `preprocessor_config.json`, read into [`Preprocessing`]: every field is
//! one ontosweep follows or one that changes no pixel, and each value is checked by name.

use std::path::Path;

use ontosweep_onnx::{Error, Result};
use serde::Deserialize;

use super::checks;
use super::settings::{Alpha, Filter, Normalize, Preprocessing, Resize};

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
        from_config(config).map_err(bad)
    }
}

/// The preprocessing `config` asks for, step by step, each refusal naming its field.
fn from_config(config: PreprocessorConfig) -> std::result::Result<Preprocessing, String> {
    let default = Preprocessing::default();
    let alpha = alpha_rule(config.image_processor_type.as_deref())?;
    let filter = filter(config.resample)?;
    refuse_skipped_steps(&config)?;
    let resize = resize(&config, default.resize)?;
    let fallback = default.normalize.expect("CLIP normalises");
    let preprocessing = Preprocessing {
        resize,
        filter,
        alpha,
        rescale_factor: rescale_factor(&config),
        normalize: normalize(&config, fallback),
    };
    checks::check(&preprocessing)?;
    Ok(preprocessing)
}

/// How the processor named by `image_processor_type` treats alpha (CLIP's when unnamed).
fn alpha_rule(processor: Option<&str>) -> std::result::Result<Alpha, String> {
    Ok(match processor {
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
    })
}

/// Pillow's filter numbered `resample` (bicubic when unset).
fn filter(resample: Option<u32>) -> std::result::Result<Filter, String> {
    match resample {
        None | Some(3) => Ok(Filter::Bicubic),
        Some(2) => Ok(Filter::Bilinear),
        Some(other) => Err(format!(
            "`resample: {other}` is not supported: bicubic (3) and bilinear (2) are"
        )),
    }
}

/// Skipping the resize or the RGB conversion would leave images the model cannot take.
fn refuse_skipped_steps(config: &PreprocessorConfig) -> std::result::Result<(), String> {
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
    Ok(())
}

/// The resize `size`, `crop_size`, `do_center_crop` and `default_to_square` ask for
/// together; `default` (CLIP's) where they leave it open.
fn resize(config: &PreprocessorConfig, default: Resize) -> std::result::Result<Resize, String> {
    let crop = config.do_center_crop.unwrap_or(config.crop_size.is_some());
    Ok(match (config.size, crop) {
        (None, true) => match (default, config.crop_size) {
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
        (None, false) => default,
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
    })
}

/// What 8-bit values are multiplied by (`None`: `do_rescale` is off).
fn rescale_factor(config: &PreprocessorConfig) -> Option<f32> {
    match config.do_rescale {
        Some(false) => None,
        _ => Some(config.rescale_factor.unwrap_or(1.0 / 255.0)),
    }
}

/// The mean and std to normalise by, `fallback`'s where the file gives none (`None`:
/// `do_normalize` is off).
fn normalize(config: &PreprocessorConfig, fallback: Normalize) -> Option<Normalize> {
    match config.do_normalize {
        Some(false) => None,
        _ => Some(Normalize {
            mean: config.image_mean.unwrap_or(fallback.mean),
            std: config.image_std.unwrap_or(fallback.std),
        }),
    }
}

#[cfg(test)]
mod tests {
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
