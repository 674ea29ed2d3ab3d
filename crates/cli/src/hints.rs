//! The inference crate's errors in this program's terms. `ontosweep-clip` says what is wrong
//! and what it needs, naming none of our commands, flags or files; here its messages get
//! the remedy a user of this command line can apply (`cargo xtask setup`, `--ep cpu`, `io:`
//! in a model's yaml).

use ontosweep_clip::{EXPECTED_ORT, Error as ClipError};
use ontosweep_sweep::SweepError;

const CUDA_HINT: &str = "Run `cargo xtask setup --gpu` to provision the CUDA build of ONNX Runtime, and make the CUDA 13 and cuDNN 9 libraries findable (LD_LIBRARY_PATH: libcudart, libcublas, libcublasLt, libcurand, libcufft, libcudnn*). Or choose `--ep cpu`.";
const OPENVINO_HINT: &str = "Choose `--ep cpu`; `cargo xtask setup --openvino` provisions the plugin (the pinned `onnxruntime-ep-openvino` wheel) when it is missing or was altered.";
const INPUT_HINT: &str = "Set `io:` in the model's yaml to the names this export uses";
const OUTPUT_HINT: &str = "Export the model with projection heads (CLIPTextModelWithProjection / CLIPVisionModelWithProjection), or set `io:` in the model's yaml";
/// A tower without a projection head (SigLIP) whose embedding output cannot be told apart.
const EMBEDDING_OUTPUT_HINT: &str = "Name the tower's embedding output in the model's yaml (`io: {text_embeds: NAME}` for the text tower, `io: {image_embeds: NAME}` for the vision tower)";

fn runtime_hint() -> String {
    format!("Run `cargo xtask setup` (or set ORT_DYLIB_PATH to a libonnxruntime.so {EXPECTED_ORT})")
}

/// `error` as it is printed (`{:#}`), with the inference crate's message in it worded by
/// [`message`] when there is a remedy to add; any other error as it is.
pub fn with_hints(error: anyhow::Error) -> anyhow::Error {
    let Some((plain, hinted)) =
        clip_error(&error).and_then(|clip| Some((clip.to_string(), message(clip)?)))
    else {
        return error;
    };
    let printed = format!("{error:#}");
    if !printed.contains(&plain) {
        return error;
    }
    anyhow::Error::msg(printed.replacen(&plain, &hinted, 1))
}

/// The inference crate's error in `error`'s chain, directly or inside the sweep's.
fn clip_error(error: &anyhow::Error) -> Option<&ClipError> {
    error.chain().find_map(|cause| {
        cause
            .downcast_ref::<ClipError>()
            .or(match cause.downcast_ref::<SweepError>() {
                Some(SweepError::Clip(clip)) => Some(clip),
                _ => None,
            })
    })
}

/// `error`'s message with this program's remedy, for the errors that have one.
fn message(error: &ClipError) -> Option<String> {
    Some(match error {
        ClipError::RuntimeLoad { path, reason, .. } => format!(
            "ONNX Runtime could not be loaded from {}: {reason}. {}",
            path.display(),
            runtime_hint()
        ),
        ClipError::RuntimeChanged {
            path,
            actual,
            pinned,
        } => format!(
            "ONNX Runtime could not be loaded from {}: its sha256 is {actual}, not the pinned {pinned} (ONTOSWEEP_ORT_SHA256, recorded when `cargo xtask` provisioned it): the library was replaced or altered since, so it was not loaded. {}",
            path.display(),
            runtime_hint()
        ),
        ClipError::Cuda { reason } => format!("--ep cuda: {reason}. {CUDA_HINT}"),
        ClipError::OpenVino { reason } => format!("--ep openvino: {reason}. {OPENVINO_HINT}"),
        ClipError::Precision { reason } => format!(
            "--precision: {reason}. Choose `--precision fp32` (the default), or for speed on this processor an int8 copy (`cargo xtask convert --int8`)"
        ),
        ClipError::WrongName {
            path,
            what,
            wanted,
            offered,
            ..
        } => format!(
            "{}: the model has no {what} named `{wanted}`; it offers {offered}. {}",
            path.display(),
            match *what {
                "input" => INPUT_HINT,
                "embedding output" => EMBEDDING_OUTPUT_HINT,
                _ => OUTPUT_HINT,
            }
        ),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use anyhow::Context;

    use super::*;

    fn printed(error: impl Into<anyhow::Error>) -> String {
        format!("{:#}", with_hints(error.into()))
    }

    #[test]
    fn runtime_errors_say_how_to_provision_one() {
        let load = ClipError::RuntimeLoad {
            path: PathBuf::from("/x/libonnxruntime.so"),
            reason: "no such file".into(),
            expected: EXPECTED_ORT,
        };
        assert_eq!(
            printed(load),
            format!(
                "ONNX Runtime could not be loaded from /x/libonnxruntime.so: no such file. Run `cargo xtask setup` (or set ORT_DYLIB_PATH to a libonnxruntime.so {EXPECTED_ORT})"
            )
        );
        let changed = ClipError::RuntimeChanged {
            path: PathBuf::from("/x/lib.so"),
            actual: "ab".into(),
            pinned: "cd".into(),
        };
        let message = printed(changed);
        for says in [
            "its sha256 is ab, not the pinned cd (ONTOSWEEP_ORT_SHA256, recorded when `cargo xtask` provisioned it)",
            "so it was not loaded. Run `cargo xtask setup`",
        ] {
            assert!(message.contains(says), "{message:?} lacks {says:?}");
        }
    }

    #[test]
    fn cuda_and_name_errors_name_the_flag_and_the_yaml_field() {
        let cuda = ClipError::Cuda {
            reason: "these CUDA libraries cannot be loaded: libcudart.so.13".into(),
        };
        assert_eq!(
            printed(cuda),
            format!(
                "--ep cuda: these CUDA libraries cannot be loaded: libcudart.so.13. {CUDA_HINT}"
            )
        );
        let name = |what| ClipError::WrongName {
            path: PathBuf::from("m/onnx/text_model.onnx"),
            what,
            wanted: "ids".into(),
            offered: "`input_ids`".into(),
            hint: "(the crate's own)",
        };
        assert_eq!(
            printed(name("input")),
            "m/onnx/text_model.onnx: the model has no input named `ids`; it offers `input_ids`. Set `io:` in the model's yaml to the names this export uses"
        );
        assert!(printed(name("output")).ends_with(OUTPUT_HINT));
    }

    #[test]
    fn hints_reach_through_the_sweep_error_and_keep_context() {
        let sweep = SweepError::Clip(ClipError::Cuda {
            reason: "no CUDA".into(),
        });
        let error = Err::<(), _>(sweep).context("encoding images").unwrap_err();
        assert_eq!(
            printed(error),
            format!("encoding images: --ep cuda: no CUDA. {CUDA_HINT}")
        );
        let other = ClipError::Image {
            path: PathBuf::from("a.jpg"),
            reason: "not an image".into(),
        };
        assert_eq!(printed(other), "a.jpg: not an image");
    }
}
