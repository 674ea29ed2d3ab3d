//! ONNX Runtime, loaded once per process from a given library, with what it can offer
//! sessions here: the OpenVINO plugin registered with it, and whether CUDA can run.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::sync::atomic::Ordering;

use ort::ep::{self, ExecutionProvider as _};

use crate::cuda::{cuda_device_count, missing_cuda_libraries};
use crate::ep::{Ep, Precision};
use crate::error::{Error, Result};
use crate::openvino::{self, OpenVinoPlugin};
use crate::sha256::sha256_file;

/// The ONNX Runtime version this crate is built and tested against.
pub const EXPECTED_ORT: &str = "1.31.x";

/// A loaded ONNX Runtime. Only one can exist per process.
#[derive(Debug)]
pub struct Runtime {
    library: PathBuf,
    version: String,
    environment: ort::environment::Environment,
    openvino: OnceLock<OpenVinoPlugin>,
    /// Set once `--ep auto` has said that the provisioned CUDA build cannot be used here:
    /// one word per run, not one per session.
    cuda_fallback_said: std::sync::atomic::AtomicBool,
}

static RUNTIME: OnceLock<Runtime> = OnceLock::new();
static LOADING: std::sync::Mutex<()> = std::sync::Mutex::new(());

impl Runtime {
    /// Loads ONNX Runtime from `library` (a `libonnxruntime.so`), or returns the one already
    /// loaded from that same path.
    pub fn load(library: &Path) -> Result<&'static Runtime> {
        Self::load_pinned(library, None)
    }

    /// [`Runtime::load`], refusing a `library` whose sha256 (lowercase hex) is not `sha256`,
    /// e.g. one recorded when the library was downloaded and checked. The file is
    /// hashed just before it is loaded, under the same lock; a runtime already loaded from
    /// that path is returned as is.
    pub fn load_pinned(library: &Path, sha256: Option<&str>) -> Result<&'static Runtime> {
        // ONNX Runtime allows one environment per process: loads must not race.
        let _one_at_a_time = LOADING
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(runtime) = RUNTIME.get() {
            return if same_file(&runtime.library, library) {
                Ok(runtime)
            } else {
                Err(Error::RuntimeMismatch {
                    loaded: runtime.library.clone(),
                    requested: library.to_path_buf(),
                })
            };
        }
        let load_error = |reason: String| Error::RuntimeLoad {
            path: library.to_path_buf(),
            reason,
            expected: EXPECTED_ORT,
        };
        if !library.is_file() {
            return Err(load_error("no such file".into()));
        }
        if let Some(pinned) = sha256 {
            let actual = sha256_file(library)
                .map_err(|e| load_error(format!("could not read it to check its sha256: {e}")))?;
            if !actual.eq_ignore_ascii_case(pinned) {
                return Err(Error::RuntimeChanged {
                    path: library.to_path_buf(),
                    actual,
                    pinned: pinned.to_string(),
                });
            }
        }
        let builder = ort::init_from(library).map_err(|e| load_error(e.to_string()))?;
        let environment = builder
            .with_name("ontosweep")
            .build()
            .map_err(|e| load_error(e.to_string()))?;
        let version = library_version(library).map_err(load_error)?;
        let runtime = Runtime {
            library: library.to_path_buf(),
            version,
            environment,
            openvino: OnceLock::new(),
            cuda_fallback_said: Default::default(),
        };
        Ok(RUNTIME.get_or_init(|| runtime))
    }

    pub fn library(&self) -> &Path {
        &self.library
    }

    /// e.g. `1.31.1`, read from the library's build information.
    pub fn version(&self) -> &str {
        &self.version
    }

    pub(crate) fn environment(&self) -> &ort::environment::Environment {
        &self.environment
    }

    /// Registers the OpenVINO execution-provider plugin (`libonnxruntime_providers_openvino_plugin.so`)
    /// so that sessions can use `EpChoice::OpenVino`; once per process, later calls with the
    /// same library return the same plugin.
    pub fn register_openvino(&self, library: &Path) -> Result<&OpenVinoPlugin> {
        self.register_openvino_pinned(library, None)
    }

    /// [`Runtime::register_openvino`], refusing a plugin whose sha256 is not `sha256`.
    pub fn register_openvino_pinned(
        &self,
        library: &Path,
        sha256: Option<&str>,
    ) -> Result<&OpenVinoPlugin> {
        let _one_at_a_time = LOADING
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(plugin) = self.openvino.get() {
            return if same_file(&plugin.library, library) {
                Ok(plugin)
            } else {
                Err(Error::OpenVino {
                    reason: format!(
                        "the OpenVINO plugin was already registered from {}; one process registers one (asked for {})",
                        plugin.library.display(),
                        library.display()
                    ),
                })
            };
        }
        let plugin = openvino::register(&self.environment, library, sha256)?;
        Ok(self.openvino.get_or_init(|| plugin))
    }

    /// The registered OpenVINO plugin.
    pub fn openvino(&self) -> Result<&OpenVinoPlugin> {
        self.openvino.get().ok_or_else(|| Error::OpenVino {
            reason: "the OpenVINO execution-provider plugin is not registered".into(),
        })
    }

    /// Whether OpenVINO can make sessions here at `precision`; the reason when it cannot.
    /// Checked before any work by a caller that will need it.
    pub fn openvino_ready(&self, precision: Precision) -> Result<()> {
        openvino::ready(&self.environment, self.openvino()?, precision).map(drop)
    }

    /// Whether CUDA sessions can run here: this build has the provider, its libraries load,
    /// and the CUDA runtime sees a GPU. Checked before any work by a caller that will need
    /// it, so that a run with everything cached cannot pass for a CUDA run.
    pub fn cuda_ready(&self) -> Result<()> {
        cuda_loadable(self)?;
        cuda_device_count()
            .map(drop)
            .map_err(|reason| Error::Cuda { reason })
    }

    /// Whether this build of ONNX Runtime contains the CUDA provider at all.
    pub fn has_cuda(&self) -> bool {
        ep::CUDA::is_available().unwrap_or(false)
    }

    /// The provider [`EpChoice::Auto`](crate::EpChoice::Auto) picks at fp32 here: CUDA when
    /// this build has it and its libraries load, else the CPU (a CUDA session that then fails
    /// to start also falls back to the CPU, with a warning).
    pub fn auto_ep(&self) -> Ep {
        if self.has_cuda() && missing_cuda_libraries().is_empty() {
            Ep::Cuda
        } else {
            Ep::Cpu
        }
    }

    /// True the first time it is asked: `--ep auto` says once per run, not once per
    /// session, that the provisioned CUDA build cannot be used here.
    pub(crate) fn first_cuda_fallback(&self) -> bool {
        !self.cuda_fallback_said.swap(true, Ordering::Relaxed)
    }
}

/// Whether the CUDA provider is in this build and the libraries it loads are findable.
pub(crate) fn cuda_loadable(runtime: &Runtime) -> Result<()> {
    let cuda = |reason| Error::Cuda { reason };
    if !runtime.has_cuda() {
        return Err(cuda(format!(
            "the ONNX Runtime at {} has no CUDA execution provider (it is a CPU-only build)",
            runtime.library().display()
        )));
    }
    let missing = missing_cuda_libraries();
    if !missing.is_empty() {
        return Err(cuda(format!(
            "these CUDA libraries cannot be loaded: {}",
            missing.join(", ")
        )));
    }
    Ok(())
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}

/// The version string the library reports (`OrtGetApiBase()->GetVersionString()`).
fn library_version(library: &Path) -> std::result::Result<String, String> {
    // SAFETY: the library is ONNX Runtime, already loaded by `ort::init_from` (this only
    // takes another reference); `OrtGetApiBase` has this signature in every version, and
    // the version string it hands out is static.
    unsafe {
        let lib = libloading::Library::new(library).map_err(|e| e.to_string())?;
        let get_api_base: libloading::Symbol<
            unsafe extern "C" fn() -> *const ort::sys::OrtApiBase,
        > = lib
            .get(b"OrtGetApiBase")
            .map_err(|_| "not an ONNX Runtime library (no OrtGetApiBase)".to_string())?;
        let base = get_api_base();
        if base.is_null() {
            return Err("OrtGetApiBase returned nothing".into());
        }
        let version = ((*base).GetVersionString)();
        Ok(std::ffi::CStr::from_ptr(version)
            .to_string_lossy()
            .into_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_library_whose_sha256_is_not_the_pinned_one_is_not_loaded() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("libonnxruntime.so");
        std::fs::write(&file, "abc").unwrap();
        let pin = "0".repeat(64);
        let error = Runtime::load_pinned(&file, Some(&pin)).unwrap_err();
        assert!(
            matches!(&error, Error::RuntimeChanged { pinned, .. } if *pinned == pin),
            "{error:?}"
        );
        let message = error.to_string();
        for says in [
            "its sha256 is ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
            pin.as_str(),
            "not loaded",
        ] {
            assert!(message.contains(says), "{message:?} lacks {says:?}");
        }
        assert!(RUNTIME.get().is_none(), "it was loaded");
    }
}
