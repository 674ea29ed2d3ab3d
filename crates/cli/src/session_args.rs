//! The flags that decide how ONNX Runtime sessions are made, shared by every command that
//! encodes.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use clap::Args;
use ontosweep_clip::{EpChoice, Precision, Runtime, SessionOptions};

/// Where `cargo xtask` puts the OpenVINO plugin it provisioned and checked.
pub const OPENVINO_PLUGIN_VAR: &str = "ONTOSWEEP_OPENVINO_PLUGIN";
/// The plugin's sha256 as `cargo xtask` recorded it when it unpacked the plugin.
pub const OPENVINO_SHA256_VAR: &str = "ONTOSWEEP_OPENVINO_SHA256";

#[derive(Args, Debug, Clone)]
pub struct SessionArgs {
    /// Execution provider: auto, cpu, cuda or openvino (the plugin `cargo xtask setup
    /// --openvino` provisions; Intel CPUs).
    #[arg(long, default_value = "auto")]
    ep: EpChoice,
    /// Arithmetic: fp32, or bf16 (OpenVINO only, on processors with AMX or AVX-512 BF16;
    /// with `--ep auto` it means OpenVINO). bf16 embeddings are cached apart from fp32 ones.
    #[arg(long, default_value = "fp32")]
    precision: Precision,
    /// ONNX Runtime intra-op threads [default: one per core].
    #[arg(long)]
    threads: Option<usize>,
    /// Run the image encoder through an ONNX Runtime IoBinding (output allocated once per
    /// batch size). Same embeddings; it measured no faster on the CPU (BENCHMARKS.md).
    #[arg(long)]
    io_binding: bool,
}

impl SessionArgs {
    pub fn options(&self) -> SessionOptions {
        SessionOptions {
            ep: self.ep,
            precision: self.precision,
            intra_threads: self.threads.unwrap_or(0),
            io_binding: self.io_binding,
        }
    }

    /// Registers the OpenVINO plugin with `runtime` when these options need it.
    pub fn prepare(&self, runtime: &Runtime) -> anyhow::Result<()> {
        self.prepare_for(runtime, None)
    }

    /// [`Self::prepare`], for a sweep whose experiment `file` lists a model at bf16 when
    /// `bf16_entry` is `Some(file)`: that model runs on OpenVINO, so it is registered, and a
    /// provider that cannot compute bf16 is refused before anything is encoded.
    pub fn prepare_for(&self, runtime: &Runtime, bf16_entry: Option<&Path>) -> anyhow::Result<()> {
        if let Some(file) = bf16_entry
            && matches!(self.ep, EpChoice::Cpu | EpChoice::Cuda)
        {
            anyhow::bail!(
                "{}: a model entry asks for `precision: bf16`, which only OpenVINO computes, and `--ep {}` allows no OpenVINO: leave out --ep (auto), or give --ep openvino",
                file.display(),
                if self.ep == EpChoice::Cpu {
                    "cpu"
                } else {
                    "cuda"
                }
            );
        }
        // Asked for by name, CUDA must be able to run before anything is read or encoded:
        // with every embedding cached no session would be made to find out.
        if self.ep == EpChoice::Cuda {
            runtime.cuda_ready()?;
        }
        let wants_openvino = self.ep == EpChoice::OpenVino
            || (self.ep == EpChoice::Auto
                && (self.precision == Precision::Bf16 || bf16_entry.is_some()));
        if !wants_openvino {
            return Ok(());
        }
        let library = std::env::var_os(OPENVINO_PLUGIN_VAR).map(PathBuf::from).with_context(|| {
            format!("OpenVINO: {OPENVINO_PLUGIN_VAR} is not set: `cargo xtask setup --openvino` provisions the plugin once, and `cargo xtask sweep`, `embed` and `throughput` then hand it over (with `--ep openvino` they provision it themselves); or point it at a libonnxruntime_providers_openvino_plugin.so")
        })?;
        // `cargo xtask` pins what it provisioned and checked: re-checked here before loading.
        let pin = std::env::var(OPENVINO_SHA256_VAR)
            .ok()
            .filter(|pin| !pin.is_empty());
        let plugin = runtime.register_openvino_pinned(&library, pin.as_deref())?;
        tracing::info!(
            "OpenVINO plugin {} from {}",
            plugin.version,
            plugin.library.display()
        );
        // Whatever will run on OpenVINO must be able to, before any work is done.
        if self.ep == EpChoice::OpenVino || self.precision == Precision::Bf16 {
            runtime.openvino_ready(self.precision)?;
        }
        if let Some(file) = bf16_entry {
            runtime.openvino_ready(Precision::Bf16).with_context(|| {
                format!(
                    "{}: a model entry asks for `precision: bf16` (remove it, or make it fp32, to run that model at fp32)",
                    file.display()
                )
            })?;
        }
        Ok(())
    }
}
