//! The packages xtask provisions (ONNX Runtime's CPU and CUDA builds, the OpenVINO
//! plugin): their versions, pinned wheels, where their libraries sit, and which one each
//! hands over.

use std::path::PathBuf;

use crate::pins;
use crate::root::workspace_root;

pub const ORT_VERSION: &str = "1.31.1";
/// `onnxruntime-ep-openvino`, built for ONNX Runtime 1.31 (it carries OpenVINO 2026.4.1).
pub const OPENVINO_PLUGIN_VERSION: &str = "1.8.1";
/// The library ONNX Runtime registers as the OpenVINO execution provider.
pub const OPENVINO_PLUGIN: &str = "libonnxruntime_providers_openvino_plugin.so";
/// What a CPU run loads of the wheel's 158 MB (measured: the GPU, NPU, hetero and auto
/// plugins are never opened for the CPU device), 90 MB.
pub(crate) const OPENVINO_CPU_LIBRARIES: &[&str] = &[
    OPENVINO_PLUGIN,
    "libopenvino.so.2641",
    "libopenvino_onnx_frontend.so.2641",
    "libopenvino_intel_cpu_plugin.so",
    "libtbb.so.12",
];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Flavour {
    Cpu,
    Gpu,
    /// The OpenVINO execution-provider plugin for the CPU runtime (Intel CPUs).
    OpenVino,
}

/// What one provisioned package is: its pinned wheels, where its libraries sit inside them,
/// which to unpack, and which one is handed over.
pub(crate) struct Spec<'a> {
    pub(crate) package: &'a str,
    pub(crate) version: &'a str,
    pub(crate) pins: &'a [(&'a str, &'a str)],
    pub(crate) setup: &'a str,
    /// The folder inside the wheel that holds the libraries.
    pub(crate) inside: &'a str,
    /// The libraries to unpack (all of `inside`'s when empty).
    pub(crate) only: &'a [&'a str],
    /// The file handed over.
    pub(crate) library: String,
    /// How to go without this package, said with every refusal.
    pub(crate) alternative: &'a str,
}

impl<'a> Spec<'a> {
    pub(crate) fn onnxruntime(
        package: &'a str,
        pins: &'a [(&'a str, &'a str)],
        setup: &'a str,
    ) -> Self {
        Spec {
            package,
            version: ORT_VERSION,
            pins,
            setup,
            inside: "onnxruntime/capi/",
            only: &[],
            library: library_name(),
            alternative: "set ORT_DYLIB_PATH to a runtime of your own",
        }
    }
}

impl Flavour {
    pub(crate) fn spec(self) -> Spec<'static> {
        match self {
            Flavour::Cpu => Spec::onnxruntime("onnxruntime", pins::CPU_WHEELS, "cargo xtask setup"),
            Flavour::Gpu => Spec::onnxruntime(
                "onnxruntime-gpu",
                pins::GPU_WHEELS,
                "cargo xtask setup --gpu",
            ),
            Flavour::OpenVino => Spec {
                package: "onnxruntime-ep-openvino",
                version: OPENVINO_PLUGIN_VERSION,
                pins: pins::OPENVINO_WHEELS,
                setup: "cargo xtask setup --openvino",
                inside: "onnxruntime_ep_openvino/",
                only: OPENVINO_CPU_LIBRARIES,
                library: OPENVINO_PLUGIN.into(),
                alternative: "use --ep cpu",
            },
        }
    }

    pub(crate) fn dir(self) -> PathBuf {
        let (name, version) = match self {
            Flavour::Cpu => ("cpu", ORT_VERSION),
            Flavour::Gpu => ("gpu", ORT_VERSION),
            Flavour::OpenVino => ("openvino", OPENVINO_PLUGIN_VERSION),
        };
        workspace_root()
            .join("target/onnxruntime")
            .join(format!("{name}-{version}"))
    }
}

pub(crate) fn library_name() -> String {
    if cfg!(target_os = "macos") {
        format!("libonnxruntime.{ORT_VERSION}.dylib")
    } else {
        format!("libonnxruntime.so.{ORT_VERSION}")
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) const PINNED_NAME: &str = "onnxruntime-1.31.1-cp311-cp311-manylinux_2_28_x86_64.whl";

    #[test]
    fn the_pins_are_well_formed() {
        for (wheels, prefix) in [
            (pins::CPU_WHEELS, "onnxruntime-".to_string()),
            (pins::GPU_WHEELS, "onnxruntime_gpu-".to_string()),
            (
                pins::OPENVINO_WHEELS,
                format!("onnxruntime_ep_openvino-{OPENVINO_PLUGIN_VERSION}-"),
            ),
        ] {
            let mut names: Vec<&str> = wheels.iter().map(|(name, _)| *name).collect();
            names.sort_unstable();
            names.dedup();
            assert_eq!(names.len(), wheels.len(), "a wheel is pinned twice");
            for (name, sha256) in wheels {
                let versioned = if prefix.contains(OPENVINO_PLUGIN_VERSION) {
                    prefix.clone()
                } else {
                    format!("{prefix}{ORT_VERSION}-")
                };
                assert!(
                    name.starts_with(&versioned) && name.ends_with(".whl"),
                    "{name}"
                );
                assert!(
                    sha256.len() == 64
                        && sha256
                            .bytes()
                            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)),
                    "{name}: {sha256}"
                );
            }
        }
        for python in ["cp311-cp311", "cp312-cp312", "cp313-cp313", "cp314-cp314"] {
            for platform in [
                "manylinux_2_28_x86_64",
                "manylinux_2_28_aarch64",
                "macosx_14_0_arm64",
            ] {
                let name = format!("onnxruntime-{ORT_VERSION}-{python}-{platform}.whl");
                assert!(pins::CPU_WHEELS.iter().any(|(n, _)| *n == name), "{name}");
            }
            let name = format!("onnxruntime_gpu-{ORT_VERSION}-{python}-manylinux_2_28_x86_64.whl");
            assert!(pins::GPU_WHEELS.iter().any(|(n, _)| *n == name), "{name}");
        }
        assert!(pins::CPU_WHEELS.iter().any(|(n, _)| *n == PINNED_NAME));
    }
}
