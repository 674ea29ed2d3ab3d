//! ONNX Runtime: loaded once per process from a given library, and the execution provider
//! choice. CUDA and OpenVINO are never given up on silently: asked for by name, they fail
//! with the reason; `auto` says which provider it ended up with.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::sync::atomic::Ordering;

use ort::ep::{self, ExecutionProvider as _};
use ort::session::Session;
use ort::session::builder::SessionBuilder;

use crate::error::{Error, Result};
use crate::openvino::{self, OpenVinoPlugin};

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
        let plugin = openvino::register(self, library, sha256)?;
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
        openvino::ready(self, precision).map(drop)
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

    /// The provider [`EpChoice::Auto`] picks at fp32 here: CUDA when this build has it and
    /// its libraries load, else the CPU (a CUDA session that then fails to start also falls
    /// back to the CPU, with a warning).
    pub fn auto_ep(&self) -> Ep {
        if self.has_cuda() && missing_cuda_libraries().is_empty() {
            Ep::Cuda
        } else {
            Ep::Cpu
        }
    }
}

pub(crate) fn sha256_file(path: &Path) -> std::io::Result<String> {
    use sha2::{Digest, Sha256};
    let mut hasher = Sha256::new();
    std::io::copy(&mut std::fs::File::open(path)?, &mut hasher)?;
    Ok(hex::encode(hasher.finalize()))
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

/// Which execution provider the user asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EpChoice {
    /// CUDA when it registers, CPU otherwise; the provider used is always reported.
    #[default]
    Auto,
    Cpu,
    Cuda,
    /// The OpenVINO plugin's CPU device (`Runtime::register_openvino` first).
    #[serde(rename = "openvino")]
    OpenVino,
}

impl std::str::FromStr for EpChoice {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s {
            "auto" => Ok(Self::Auto),
            "cpu" => Ok(Self::Cpu),
            "cuda" => Ok(Self::Cuda),
            "openvino" => Ok(Self::OpenVino),
            other => Err(format!(
                "unknown execution provider `{other}`: use auto, cpu, cuda or openvino"
            )),
        }
    }
}

/// The execution provider a session actually runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Ep {
    Cpu,
    Cuda,
    #[serde(rename = "openvino")]
    OpenVino,
}

impl std::fmt::Display for Ep {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Ep::Cpu => "cpu",
            Ep::Cuda => "cuda",
            Ep::OpenVino => "openvino",
        })
    }
}

/// The arithmetic a session computes in. Only OpenVINO offers bf16 (on processors with
/// AMX or AVX-512 BF16); everything else is fp32.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Precision {
    #[default]
    Fp32,
    Bf16,
}

impl std::str::FromStr for Precision {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s {
            "fp32" => Ok(Self::Fp32),
            "bf16" => Ok(Self::Bf16),
            other => Err(format!("unknown precision `{other}`: use fp32 or bf16")),
        }
    }
}

impl std::fmt::Display for Precision {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Precision::Fp32 => "fp32",
            Precision::Bf16 => "bf16",
        })
    }
}

/// How sessions are made: provider, precision and CPU threads.
#[derive(Debug, Clone, Copy, Default)]
pub struct SessionOptions {
    pub ep: EpChoice,
    /// bf16 only with OpenVINO (`EpChoice::OpenVino`, or `Auto`, which then means OpenVINO).
    pub precision: Precision,
    /// ONNX Runtime intra-op threads; 0 lets ONNX Runtime choose (one per core).
    pub intra_threads: usize,
    /// Run the image encoder through an IoBinding (output allocated once per batch size).
    /// Same embeddings either way; off by default because on the CPU it measured no faster.
    pub io_binding: bool,
}

/// What the CUDA execution provider needs, said with every reason it cannot be used.
pub(crate) const CUDA_NEEDS: &str = "CUDA needs the CUDA build of ONNX Runtime, and the CUDA 13 and cuDNN 9 libraries findable (LD_LIBRARY_PATH: libcudart, libcublas, libcublasLt, libcurand, libcufft, libcudnn*)";

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
                if !runtime.cuda_fallback_said.swap(true, Ordering::Relaxed) {
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
    let builder = Session::builder(&runtime.environment).map_err(|e| e.to_string())?;
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
    openvino::builder(runtime, base, options.precision, options.intra_threads)
}

fn cpu_builder(runtime: &Runtime, options: SessionOptions) -> Result<SessionBuilder> {
    base_builder(runtime, options).map_err(Error::ExecutionProvider)
}

/// Whether the CUDA provider is in this build and the libraries it loads are findable.
fn cuda_loadable(runtime: &Runtime) -> Result<()> {
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

/// How many GPUs the CUDA runtime sees; why none, when it sees none (no driver, a driver
/// too old for CUDA 13, no device in this container).
fn cuda_device_count() -> std::result::Result<i32, String> {
    use std::ffi::{CStr, c_char, c_int};
    // SAFETY: libcudart's documented C API (`cudaGetDeviceCount`, `cudaGetErrorString`),
    // called with a valid out-pointer; the library stays loaded for the CUDA provider, which
    // loads it too (unloading an initialised CUDA runtime is not safe).
    unsafe {
        let library = libloading::Library::new(CUDA_LIBRARIES[0]).map_err(|e| e.to_string())?;
        let count: libloading::Symbol<unsafe extern "C" fn(*mut c_int) -> c_int> = library
            .get(b"cudaGetDeviceCount")
            .map_err(|e| e.to_string())?;
        let describe: libloading::Symbol<unsafe extern "C" fn(c_int) -> *const c_char> = library
            .get(b"cudaGetErrorString")
            .map_err(|e| e.to_string())?;
        let mut devices: c_int = 0;
        let code = count(&mut devices);
        let result = match (code, devices) {
            (0, 0) => Err("the CUDA runtime sees no GPU on this machine".to_string()),
            (0, n) => Ok(n),
            (code, _) => Err(format!(
                "the CUDA runtime sees no usable GPU: {} (error {code})",
                CStr::from_ptr(describe(code)).to_string_lossy()
            )),
        };
        std::mem::forget(library);
        result
    }
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

/// The libraries ONNX Runtime 1.31's CUDA provider loads (CUDA 13, cuDNN 9).
pub const CUDA_LIBRARIES: &[&str] = &[
    "libcudart.so.13",
    "libcublasLt.so.13",
    "libcublas.so.13",
    "libcurand.so.10",
    "libcufft.so.12",
    "libcudnn.so.9",
];

/// Which of [`CUDA_LIBRARIES`] the dynamic loader cannot find, so the error can name them.
pub fn missing_cuda_libraries() -> Vec<&'static str> {
    unloadable(CUDA_LIBRARIES)
}

/// The libraries among `names` that the dynamic loader cannot load.
fn unloadable(names: &[&'static str]) -> Vec<&'static str> {
    names
        .iter()
        .copied()
        // SAFETY: system libraries (the CUDA runtime's own, loaded as the provider would);
        // they run no initialisation that depends on us.
        .filter(|name| unsafe { libloading::Library::new(*name) }.is_err())
        .collect()
}

fn commit(mut builder: SessionBuilder, model: &Path) -> Result<Session> {
    builder.commit_from_file(model).map_err(|e| Error::ModelFile {
        path: model.to_path_buf(),
        reason: format!("ONNX Runtime cannot load it: {e}. Is it an ONNX file? Re-download or re-export the model"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(target_os = "linux")]
    #[test]
    fn missing_libraries_are_named_and_present_ones_are_not() {
        // libc is on every Linux machine; the other name is on none.
        let names = ["libontosweep-no-such-library.so.1", "libc.so.6"];
        assert_eq!(unloadable(&names), ["libontosweep-no-such-library.so.1"]);
    }

    #[test]
    #[ignore = "hardware: needs the CUDA 13 and cuDNN 9 libraries of a GPU machine (cargo xtask test --hardware --gpu)"]
    fn hardware_cuda_libraries_are_all_found() {
        assert_eq!(missing_cuda_libraries(), Vec::<&str>::new());
    }

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

    #[test]
    fn ep_choice_parses_and_rejects() {
        assert_eq!("cuda".parse::<EpChoice>(), Ok(EpChoice::Cuda));
        assert!(
            "tpu"
                .parse::<EpChoice>()
                .unwrap_err()
                .contains("auto, cpu, cuda or openvino")
        );
    }
}
