//! Cache namespaces: everything but the input that decides an embedding, so that no entry
//! can go stale when a model file, a preprocessing setting, an input or output name, or the
//! embedding code changes.

use ontosweep_clip::{
    EMBEDDING_CODE_VERSION, EpChoice, IoNames, Precision, Preprocessing, SessionOptions,
};

use super::cache::namespace;

/// The arithmetic that computes the embeddings, when it is not ONNX Runtime's own fp32
/// kernels (CPU or CUDA, which share entries; each entry records which computed it):
/// OpenVINO's kernels, each plugin version's, and bf16 give other numbers and so other
/// entries.
pub fn numerics(session: &SessionOptions, openvino_plugin: Option<&str>) -> Option<String> {
    let openvino = session.ep == EpChoice::OpenVino || session.precision == Precision::Bf16;
    openvino.then(|| {
        format!(
            "openvino-{}-{}",
            openvino_plugin.unwrap_or("unknown"),
            session.precision
        )
    })
}

/// Image embeddings (the key is the image's content hash).
pub fn images(
    vision_sha256: &str,
    preprocessing: &Preprocessing,
    io: &IoNames,
    numerics: Option<&str>,
) -> String {
    let code = EMBEDDING_CODE_VERSION.to_string();
    let preprocessing = serde_json::to_string(preprocessing).unwrap_or_default();
    let mut parts = vec![
        vision_sha256,
        &preprocessing,
        &io.pixel_values,
        &io.image_embeds,
        &code,
    ];
    // Appended only when present: fp32 entries made before keep their names.
    parts.extend(numerics);
    namespace(&parts)
}

/// Prompt embeddings (the key is the token ids).
pub fn prompts(text_sha256: &str, io: &IoNames, numerics: Option<&str>) -> String {
    let code = EMBEDDING_CODE_VERSION.to_string();
    let mut parts = vec![
        text_sha256,
        &io.input_ids,
        &io.attention_mask,
        &io.text_embeds,
        &code,
    ];
    parts.extend(numerics);
    namespace(&parts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn namespaces_change_with_everything_that_changes_an_embedding() {
        let (p, io) = (Preprocessing::default(), IoNames::default());
        let base = images("sha", &p, &io, None);
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
            images("sha2", &p, &io, None),
            images("sha", &other_size, &io, None),
            images("sha", &p, &other_io, None),
            images("sha", &p, &io, Some("openvino-fp32")),
            images("sha", &p, &io, Some("openvino-bf16")),
        ];
        assert!(variants.iter().all(|v| *v != base), "{variants:?}");
        assert_ne!(variants[3], variants[4]);
        let text = prompts("sha", &io, None);
        let no_mask = IoNames {
            attention_mask: String::new(),
            ..IoNames::default()
        };
        assert_ne!(text, prompts("sha", &no_mask, None));
        assert_ne!(text, prompts("sha2", &io, None));
        assert_ne!(text, prompts("sha", &io, Some("openvino-bf16")));
    }

    #[test]
    fn only_openvino_and_bf16_get_namespaces_of_their_own() {
        let with = |ep, precision| {
            numerics(
                &SessionOptions {
                    ep,
                    precision,
                    ..SessionOptions::default()
                },
                Some("1.8.1"),
            )
        };
        // ONNX Runtime's fp32 kernels share entries, as before this setting existed.
        assert_eq!(with(EpChoice::Cpu, Precision::Fp32), None);
        assert_eq!(with(EpChoice::Cuda, Precision::Fp32), None);
        assert_eq!(with(EpChoice::Auto, Precision::Fp32), None);
        assert_eq!(
            with(EpChoice::OpenVino, Precision::Fp32).as_deref(),
            Some("openvino-1.8.1-fp32")
        );
        // Another plugin version, other entries.
        let newer = SessionOptions {
            ep: EpChoice::OpenVino,
            ..SessionOptions::default()
        };
        assert_ne!(
            numerics(&newer, Some("1.9.0")),
            with(EpChoice::OpenVino, Precision::Fp32)
        );
        // bf16 is OpenVINO's whether asked by name or through auto.
        assert_eq!(
            with(EpChoice::OpenVino, Precision::Bf16),
            with(EpChoice::Auto, Precision::Bf16)
        );
        assert_eq!(
            with(EpChoice::Auto, Precision::Bf16).as_deref(),
            Some("openvino-1.8.1-bf16")
        );
    }
}
