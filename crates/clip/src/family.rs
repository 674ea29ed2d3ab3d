//! Model families: which tokenisation, preprocessing reference, I/O names and scoring a model
//! directory needs, read from its `config.json` (`model_type`).

use std::path::Path;

use ontosweep_onnx::{Error, Result};
use serde::{Deserialize, Serialize};

use crate::model::{IoNames, ModelDir, optional_file, read_small};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Family {
    /// OpenAI's CLIP: BPE with OpenAI's clean-up, 77 tokens trimmed per batch, softmax over
    /// classes.
    Clip,
    /// Google's SigLIP: SentencePiece padded to a fixed length (the text tower pools the last
    /// position), an independent sigmoid per class.
    Siglip,
}

impl Family {
    pub const ALL: [(&'static str, Family); 2] =
        [("clip", Family::Clip), ("siglip", Family::Siglip)];

    pub fn name(self) -> &'static str {
        match self {
            Family::Clip => "clip",
            Family::Siglip => "siglip",
        }
    }

    /// The family `config.json` declares. Without one (as some exports ship), the image
    /// processor or tokenizer class named in the other configs decides, else CLIP. An unknown
    /// `model_type` is an error that names it.
    pub fn of(model: &ModelDir) -> Result<Self> {
        let path = model.config();
        if optional_file(&path)? {
            return Self::from_config(&path);
        }
        // A file that cannot be read is an error; one that is not JSON names no family here
        // (its own reader says what is wrong with it).
        let names_siglip = |file: &Path, field: &str| -> Result<bool> {
            if !optional_file(file)? {
                return Ok(false);
            }
            Ok(
                serde_json::from_str::<serde_json::Value>(&read_small(file)?)
                    .ok()
                    .and_then(|json| json[field].as_str().map(|v| v.starts_with("Siglip")))
                    .unwrap_or(false),
            )
        };
        if names_siglip(&model.preprocessor_config(), "image_processor_type")?
            || names_siglip(&model.tokenizer_config(), "tokenizer_class")?
        {
            return Ok(Family::Siglip);
        }
        Ok(Family::Clip)
    }

    fn from_config(path: &Path) -> Result<Self> {
        #[derive(Deserialize)]
        struct Config {
            model_type: Option<String>,
        }
        let bad = |reason: String| Error::ModelFile {
            path: path.to_path_buf(),
            reason,
        };
        let text = read_small(path)?;
        let config: Config =
            serde_json::from_str(&text).map_err(|e| bad(format!("not a model config: {e}")))?;
        let Some(model_type) = config.model_type else {
            return Err(bad(
                "has no `model_type`: it should say `clip` or `siglip`".into()
            ));
        };
        // Hugging Face's model types; the tower-only types name the same families.
        match model_type.as_str() {
            "clip" | "clip_text_model" | "clip_vision_model" => Ok(Family::Clip),
            "siglip" | "siglip_text_model" | "siglip_vision_model" => Ok(Family::Siglip),
            other => Err(bad(format!(
                "`model_type: {}` is not a supported family; supported: clip, siglip",
                crate::echo::quoted(other)
            ))),
        }
    }

    /// The input and output names Hugging Face's ONNX exports of this family use.
    pub fn io_names(self) -> IoNames {
        match self {
            Family::Clip => IoNames::default(),
            // SigLIP has no projection head: the pooled output is the embedding.
            // Other exporters name it after transformers' fields (`text_embeds`,
            // `image_embeds`): the single embedding output is taken then.
            Family::Siglip => IoNames {
                text_embeds: "pooler_output".into(),
                image_embeds: "pooler_output".into(),
                single_embedding_output: true,
                ..IoNames::default()
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn model_type_decides_and_unknown_types_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.json");
        for (text, expected) in [
            (r#"{"model_type": "clip"}"#, Ok(Family::Clip)),
            (
                r#"{"model_type": "siglip", "text_config": {}}"#,
                Ok(Family::Siglip),
            ),
            (
                r#"{"model_type": "blip"}"#,
                Err("is not a supported family"),
            ),
            (r#"{"architectures": []}"#, Err("has no `model_type`")),
        ] {
            std::fs::write(&path, text).unwrap();
            match (Family::from_config(&path), expected) {
                (Ok(found), Ok(expected)) => assert_eq!(found, expected),
                (Err(e), Err(needle)) => assert!(e.to_string().contains(needle), "{e}"),
                (found, expected) => panic!("{text}: {found:?}, expected {expected:?}"),
            }
        }
        assert_eq!(Family::Siglip.io_names().text_embeds, "pooler_output");
        assert_eq!(Family::Clip.io_names().image_embeds, "image_embeds");
    }

    /// A FIFO (or a folder) named config.json is an error, promptly: neither a blocked read
    /// nor a silent "no config.json, so CLIP".
    #[cfg(unix)]
    #[test]
    fn a_config_json_that_is_no_regular_file_is_refused_without_blocking() {
        use crate::files::tests::{mkfifo, within_a_minute};
        let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../models/siglip-tiny-random");
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("onnx")).unwrap();
        for file in [
            "tokenizer.json",
            "preprocessor_config.json",
            "onnx/text_model.onnx",
            "onnx/vision_model.onnx",
        ] {
            std::fs::copy(source.join(file), dir.path().join(file)).unwrap();
        }
        let config = dir.path().join("config.json");
        mkfifo(&config);
        let model = ModelDir::open(dir.path()).unwrap();
        let err = within_a_minute(move || Family::of(&model))
            .expect("reading a FIFO config.json blocked")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("config.json") && err.contains("named pipe"),
            "{err}"
        );
        std::fs::remove_file(&config).unwrap();
        std::fs::create_dir(&config).unwrap();
        let err = Family::of(&ModelDir::open(dir.path()).unwrap()).unwrap_err();
        assert!(err.to_string().contains("a directory"), "{err}");
    }
}
