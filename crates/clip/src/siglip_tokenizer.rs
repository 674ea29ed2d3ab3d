//! SigLIP tokenisation: the SentencePiece model in `tokenizer.json` (its normaliser does the
//! text clean-up), `</s>` at the end, and every prompt padded to the model's fixed length
//! with its pad id. SigLIP was trained that way and its text tower pools the last position,
//! so trimming, or an attention mask, would change its embeddings. A prompt too long keeps
//! its first pieces and `</s>`, as the reference truncation does.

use std::path::{Path, PathBuf};

use ontosweep_onnx::{Error, Result};
use serde::Deserialize;

use crate::model::{ModelDir, optional_file, read_small};
use crate::tokens::{Tokens, read_tokenizer};

/// Hugging Face writes a huge `model_max_length` when a tokenizer has no limit of its own.
const NO_LIMIT: usize = 1 << 20;

pub struct SiglipTokenizer {
    inner: tokenizers::Tokenizer,
    path: PathBuf,
    length: usize,
    pad: i64,
    end: i64,
}

#[derive(Deserialize, Default)]
struct TokenizerConfig {
    model_max_length: Option<f64>,
    pad_token: Option<TokenField>,
    eos_token: Option<TokenField>,
}

/// `"</s>"` or `{"content": "</s>", ...}`: both occur.
#[derive(Deserialize)]
#[serde(untagged)]
enum TokenField {
    Plain(String),
    Added { content: String },
}

impl TokenField {
    fn text(&self) -> &str {
        match self {
            TokenField::Plain(s) | TokenField::Added { content: s } => s,
        }
    }
}

#[derive(Deserialize, Default)]
struct ModelConfig {
    #[serde(default)]
    text_config: TextConfig,
}

#[derive(Deserialize, Default)]
struct TextConfig {
    max_position_embeddings: Option<usize>,
}

impl SiglipTokenizer {
    pub fn for_model(model: &ModelDir) -> Result<Self> {
        let path = model.tokenizer();
        let bad = |reason: String| Error::Tokenizer {
            path: path.clone(),
            reason,
        };
        let mut inner = read_tokenizer(&path)?;
        let config: TokenizerConfig = read_json(&model.tokenizer_config())?.unwrap_or_default();
        // A padding block in tokenizer.json, when fixed, says the length and pad id itself.
        let fixed = inner.get_padding().and_then(|p| match p.strategy {
            tokenizers::PaddingStrategy::Fixed(n) => Some((n, i64::from(p.pad_id))),
            tokenizers::PaddingStrategy::BatchLongest => None,
        });
        let length = match fixed {
            Some((n, _)) => n,
            None => match config.model_max_length.map(|l| l as usize) {
                Some(l) if l > 0 && l < NO_LIMIT => l,
                _ => read_json::<ModelConfig>(&model.config())?
                    .and_then(|c| c.text_config.max_position_embeddings)
                    .ok_or_else(|| {
                        bad(format!(
                            "cannot tell SigLIP's fixed text length: no padding block here, no `model_max_length` in {}, no `text_config.max_position_embeddings` in {}",
                            model.tokenizer_config().display(),
                            model.config().display()
                        ))
                    })?,
            },
        };
        let id_of = |token: &str, what: &str| {
            inner.token_to_id(token).map(i64::from).ok_or_else(|| {
                bad(format!(
                    "its {what} token {token:?} is not in the vocabulary"
                ))
            })
        };
        let end = id_of(
            config.eos_token.as_ref().map_or("</s>", TokenField::text),
            "end",
        )?;
        let pad = match (fixed, &config.pad_token) {
            (Some((_, pad)), _) => pad,
            (None, Some(token)) => id_of(token.text(), "pad")?,
            (None, None) => end, // SigLIP pads with `</s>`
        };
        // Padding and truncation are done here, where the reference's rules are spelt out.
        inner.with_padding(None);
        inner
            .with_truncation(None)
            .map_err(|e| bad(e.to_string()))?;
        Ok(Self {
            inner,
            path,
            length,
            pad,
            end,
        })
    }

    /// The vocabulary entry of `id`.
    pub fn token(&self, id: i64) -> Option<String> {
        self.inner.id_to_token(u32::try_from(id).ok()?)
    }

    pub fn length(&self) -> usize {
        self.length
    }

    pub fn encode(&self, text: &str) -> Result<Tokens> {
        let encoding = self
            .inner
            .encode(text, true)
            .map_err(|e| Error::Tokenizer {
                path: self.path.clone(),
                reason: e.to_string(),
            })?;
        let mut ids: Vec<i64> = encoding.get_ids().iter().map(|&id| id.into()).collect();
        // The reference adds `</s>` when the template has not.
        if ids.last() != Some(&self.end) {
            ids.push(self.end);
        }
        let truncated = ids.len() > self.length;
        if truncated {
            ids.truncate(self.length);
            ids[self.length - 1] = self.end;
        }
        ids.resize(self.length, self.pad);
        Ok(Tokens { ids, truncated })
    }
}

/// A JSON config file, `None` when absent.
fn read_json<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<Option<T>> {
    if !optional_file(path)? {
        return Ok(None);
    }
    let text = read_small(path)?;
    serde_json::from_str(&text)
        .map(Some)
        .map_err(|e| Error::ModelFile {
            path: path.to_path_buf(),
            reason: format!("not a valid config: {e}"),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The tiny SigLIP's files in a scratch folder, with `tokenizer_config.json` and
    /// `config.json` as given (`None`: absent).
    fn model(
        tokenizer_config: Option<&str>,
        config: Option<&str>,
    ) -> (tempfile::TempDir, ModelDir) {
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
        for (name, text) in [
            ("tokenizer_config.json", tokenizer_config),
            ("config.json", config),
        ] {
            if let Some(text) = text {
                std::fs::write(dir.path().join(name), text).unwrap();
            }
        }
        let model = ModelDir::open(dir.path()).unwrap();
        (dir, model)
    }

    #[test]
    fn the_length_comes_from_the_tokenizer_config_else_the_model_config() {
        let (_d, m) = model(
            Some(r#"{"model_max_length": 16, "pad_token": "<unk>"}"#),
            None,
        );
        let t = SiglipTokenizer::for_model(&m).unwrap();
        let tokens = t.encode("a daisy").unwrap();
        assert_eq!(tokens.ids.len(), 16);
        assert_eq!(*tokens.ids.last().unwrap(), 2, "padded with <unk>'s id");
        // Without config.json the image processor's class tells the family.
        assert_eq!(crate::Family::of(&m).unwrap(), crate::Family::Siglip);
        let (_d, m) = model(
            Some(r#"{"model_max_length": 1000000000000000019884624838656}"#),
            Some(r#"{"model_type": "siglip", "text_config": {"max_position_embeddings": 8}}"#),
        );
        let t = SiglipTokenizer::for_model(&m).unwrap();
        let tokens = t.encode(&"dandelion ".repeat(20)).unwrap();
        assert_eq!((tokens.ids.len(), tokens.truncated), (8, true));
        assert_eq!(tokens.ids[7], 1, "the end token is kept last");
        let (_d, m) = model(None, Some(r#"{"model_type": "siglip"}"#));
        let Err(err) = SiglipTokenizer::for_model(&m) else {
            panic!("a length was invented")
        };
        assert!(
            err.to_string()
                .contains("cannot tell SigLIP's fixed text length"),
            "{err}"
        );
    }

    #[cfg(unix)]
    #[test]
    fn a_fifo_for_tokenizer_config_json_is_refused_without_blocking() {
        use crate::files::tests::{mkfifo, within_a_minute};
        let (_d, m) = model(None, Some(r#"{"model_type": "siglip"}"#));
        mkfifo(&m.tokenizer_config());
        let Err(err) = within_a_minute(move || SiglipTokenizer::for_model(&m).map(|_| ()))
            .expect("reading a FIFO tokenizer_config.json blocked")
        else {
            panic!("a FIFO was taken for an absent tokenizer_config.json")
        };
        let err = err.to_string();
        assert!(
            err.contains("tokenizer_config.json") && err.contains("named pipe"),
            "{err}"
        );
    }
}
