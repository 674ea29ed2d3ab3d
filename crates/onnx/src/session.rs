//! Sessions on the provider a caller chose. CUDA and OpenVINO are never given up on
//! silently: asked for by name, they fail with the reason; `auto` says which provider it
//! ended up with.

use std::path::Path;

use ort::ep;
use ort::session::Session;
use ort::session::builder::SessionBuilder;

use crate::ep::{Ep, EpChoice, Precision, SessionOptions};
use crate::error::{Error, Result};
use crate::openvino;
use crate::runtime::{Runtime, cuda_loadable};

/// Creates a session for `model` on the provider `options.ep` resolves to.
pub fn create_session(
    runtime: &Runtime,
    model: &Path,
    options: SessionOptions,
) -> Result<(Session, Ep)> {
    if options.precision == Precision::Bf16 && matches!(options.ep, EpChoice::Cpu | EpChoice::Cuda)
    {
        return Err(Error::Precision {
            reason: format!(
                "bf16 is computed only by OpenVINO; the {} provider computes fp32",
                if options.ep == EpChoice::Cpu {
                    "cpu"
                } else {
                    "cuda"
                }
            ),
        });
    }
    match options.ep {
        EpChoice::OpenVino => Ok((
            commit(openvino_builder(runtime, options)?, model)?,
            Ep::OpenVino,
        )),
        // bf16 exists only on OpenVINO: asking for it is asking for OpenVINO.
        EpChoice::Auto if options.precision == Precision::Bf16 => Ok((
            commit(openvino_builder(runtime, options)?, model)?,
            Ep::OpenVino,
        )),
        EpChoice::Cpu => Ok((commit(cpu_builder(runtime, options)?, model)?, Ep::Cpu)),
        EpChoice::Cuda => {
            let builder = cuda_builder(runtime, options)?;
            Ok((
                commit(builder, model).map_err(|e| cuda_session_error(model, e))?,
                Ep::Cuda,
            ))
        }
        EpChoice::Auto => match cuda_builder(runtime, options) {
            Ok(builder) => match commit(builder, model) {
                Ok(session) => Ok((session, Ep::Cuda)),
                Err(e) => {
                    tracing::warn!("CUDA could not run {}: {e}; using the CPU", model.display());
                    Ok((commit(cpu_builder(runtime, options)?, model)?, Ep::Cpu))
                }
            },
            Err(reason) if runtime.has_cuda() => {
                // The user provisioned CUDA, so not using it deserves a word, once.
                if runtime.first_cuda_fallback() {
                    tracing::warn!(
                        "CUDA is not usable here, so the CPU runs this run's models: {reason}. ONNX Runtime {} is the CUDA build; `--ep cpu` says the CPU is meant, and removing that build's folder goes back to the CPU runtime",
                        runtime.library().display()
                    );
                }
                Ok((commit(cpu_builder(runtime, options)?, model)?, Ep::Cpu))
            }
            Err(reason) => {
                tracing::info!("execution provider: cpu ({reason})");
                Ok((commit(cpu_builder(runtime, options)?, model)?, Ep::Cpu))
            }
        },
    }
}

fn cuda_session_error(model: &Path, e: Error) -> Error {
    Error::Cuda {
        reason: format!(
            "could not create a CUDA session for {}: {e}",
            model.display()
        ),
    }
}

fn base_builder(
    runtime: &Runtime,
    options: SessionOptions,
) -> std::result::Result<SessionBuilder, String> {
    let builder = Session::builder(runtime.environment()).map_err(|e| e.to_string())?;
    if options.intra_threads > 0 {
        builder
            .with_intra_threads(options.intra_threads)
            .map_err(|e| e.to_string())
    } else {
        Ok(builder)
    }
}

fn openvino_builder(runtime: &Runtime, options: SessionOptions) -> Result<SessionBuilder> {
    let base = base_builder(runtime, options).map_err(Error::ExecutionProvider)?;
    openvino::builder(
        runtime.environment(),
        runtime.openvino()?,
        base,
        options.precision,
        options.intra_threads,
    )
}

fn cpu_builder(runtime: &Runtime, options: SessionOptions) -> Result<SessionBuilder> {
    base_builder(runtime, options).map_err(Error::ExecutionProvider)
}

/// A session builder with CUDA registered, or why that is impossible.
fn cuda_builder(runtime: &Runtime, options: SessionOptions) -> Result<SessionBuilder> {
    let cuda = |reason| Error::Cuda { reason };
    cuda_loadable(runtime)?;
    let builder = base_builder(runtime, options).map_err(Error::ExecutionProvider)?;
    builder
        .with_execution_providers([ep::CUDA::default().build().error_on_failure()])
        .map_err(|e| cuda(format!("the CUDA execution provider did not register: {e}")))
}

fn commit(mut builder: SessionBuilder, model: &Path) -> Result<Session> {
    builder.commit_from_file(model).map_err(|e| Error::ModelFile {
        path: model.to_path_buf(),
        reason: format!("ONNX Runtime cannot load it: {e}. Is it an ONNX file? Re-download or re-export the model"),
    })
}
