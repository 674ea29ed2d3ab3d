//! Cache namespaces: everything but the input that decides an embedding, so that no entry
//! can go stale when a model file, a preprocessing setting, an input or output name, or the
//! embedding code changes.

use ontosweep_clip::{EMBEDDING_CODE_VERSION, IoNames, Preprocessing};

use super::cache::namespace;

/// Image embeddings (the key is the image's content hash).
pub fn images(vision_sha256: &str, preprocessing: &Preprocessing, io: &IoNames) -> String {
    namespace(&[
        vision_sha256,
        &serde_json::to_string(preprocessing).unwrap_or_default(),
        &io.pixel_values,
        &io.image_embeds,
        &EMBEDDING_CODE_VERSION.to_string(),
    ])
}

/// Prompt embeddings (the key is the token ids).
pub fn prompts(text_sha256: &str, io: &IoNames) -> String {
    namespace(&[
        text_sha256,
        &io.input_ids,
        &io.attention_mask,
        &io.text_embeds,
        &EMBEDDING_CODE_VERSION.to_string(),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn namespaces_change_with_everything_that_changes_an_embedding() {
        let (p, io) = (Preprocessing::default(), IoNames::default());
        let base = images("sha", &p, &io);
        let other_io = IoNames {
            image_embeds: "pooler_output".into(),
            ..IoNames::default()
        };
        let other_size = Preprocessing {
            resize: ontosweep_clip::preprocess::Resize::Exact {
                height: 224,
                width: 224,
            },
            ..Preprocessing::default()
        };
        let variants = [
            images("sha2", &p, &io),
            images("sha", &other_size, &io),
            images("sha", &p, &other_io),
        ];
        assert!(variants.iter().all(|v| *v != base), "{variants:?}");
        let text = prompts("sha", &io);
        let no_mask = IoNames {
            attention_mask: String::new(),
            ..IoNames::default()
        };
        assert_ne!(text, prompts("sha", &no_mask));
        assert_ne!(text, prompts("sha2", &io));
    }
}
