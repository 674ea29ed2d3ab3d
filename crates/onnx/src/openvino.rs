//! The OpenVINO execution provider, a plugin library registered with ONNX Runtime at run
//! time (PyPI's `onnxruntime-ep-openvino`). It is never given up on silently: a plugin that
//! does not load, offers no device for this CPU, or leaves a node to ONNX Runtime's own CPU
//! kernels is an error that says so. The precision is always stated to OpenVINO, because
//! its default on CPUs with AMX is bf16.

use std::ffi::{CStr, CString};
use std::path::{Path, PathBuf};

use ort::AsPointer;
use ort::environment::Environment;
use ort::session::builder::SessionBuilder;

use crate::ep::Precision;
use crate::error::{Error, Result};
use crate::sha256::sha256_file;

/// The provider's name in ONNX Runtime.
pub const OPENVINO_EP: &str = "OpenVINOExecutionProvider";

/// A registered plugin: where it was loaded from and the version its CPU device reports.
#[derive(Debug, Clone)]
pub struct OpenVinoPlugin {
    pub library: PathBuf,
    pub version: String,
}

/// Registers the plugin library with the runtime's environment (once per process),
/// refusing one whose sha256 (lowercase hex) is not `sha256` when a pin is given.
pub(crate) fn register(
    environment: &Environment,
    library: &Path,
    sha256: Option<&str>,
) -> Result<OpenVinoPlugin> {
    let fail = |reason: String| Error::OpenVino { reason };
    if !library.is_file() {
        return Err(fail(format!(
            "the OpenVINO plugin {} does not exist",
            library.display()
        )));
    }
    if let Some(pinned) = sha256 {
        let actual = sha256_file(library).map_err(|e| {
            fail(format!(
                "could not read the OpenVINO plugin {} to check its sha256: {e}",
                library.display()
            ))
        })?;
        if !actual.eq_ignore_ascii_case(pinned) {
            return Err(fail(format!(
                "the OpenVINO plugin {} has sha256 {actual}, not the pinned {pinned}: it was replaced or altered since it was provisioned, so it was not loaded",
                library.display()
            )));
        }
    }
    environment
        .register_ep_library("OpenVINO", library)
        .map_err(|e| {
            fail(format!(
                "ONNX Runtime could not register the OpenVINO plugin {}: {e}",
                library.display()
            ))
        })?;
    let version = cpu_device(environment)
        .map(|device| metadata(&device, "version").unwrap_or_else(|| "unknown".into()))
        .unwrap_or_else(|| "unknown".into());
    Ok(OpenVinoPlugin {
        library: library.to_path_buf(),
        version,
    })
}

/// The OpenVINO plugin's CPU device, if it offers one on this machine.
fn cpu_device(environment: &Environment) -> Option<ort::device::Device<'_>> {
    environment.devices().find(|device| {
        device.ep().is_ok_and(|ep| ep == OPENVINO_EP)
            && metadata(device, "ov_device").as_deref() == Some("CPU")
    })
}

/// One entry of a device's provider metadata (`ov_device`, `version`, ...).
fn metadata(device: &ort::device::Device<'_>, key: &str) -> Option<String> {
    let key = CString::new(key).ok()?;
    let api = ort::api();
    // SAFETY: the device comes from the live environment; ONNX Runtime owns the key-value
    // pairs it returns (valid as long as the device) and returns null for a missing key.
    unsafe {
        let pairs = (api.EpDevice_EpMetadata)(device.ptr());
        if pairs.is_null() {
            return None;
        }
        let value = (api.GetKeyValue)(pairs, key.as_ptr());
        (!value.is_null()).then(|| CStr::from_ptr(value).to_string_lossy().into_owned())
    }
}

/// What `bf16` needs from the processor for OpenVINO to use it (without it OpenVINO runs
/// fp32 and says nothing). `cpu_flags` is `/proc/cpuinfo`'s `flags` line.
pub fn bf16_support(cpu_flags: &str) -> std::result::Result<(), String> {
    let has = |flag: &str| cpu_flags.split_whitespace().any(|f| f == flag);
    if has("amx_bf16") || has("avx512_bf16") {
        Ok(())
    } else {
        Err("this processor has neither AMX (amx_bf16) nor AVX-512 BF16 (avx512_bf16), so OpenVINO would compute in fp32 and call it bf16".into())
    }
}

/// One field of `/proc/cpuinfo` (its first processor), e.g. `flags` or `model name`.
fn cpuinfo(field: &str) -> Option<String> {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|text| {
            text.lines()
                .find(|l| l.split(':').next().is_some_and(|k| k.trim() == field))
                .and_then(|l| l.split_once(':'))
                .map(|(_, value)| value.trim().to_string())
        })
}

/// Whether OpenVINO can run here at `precision`, with the reason when it cannot: the
/// `plugin` registered with `environment` offers a CPU device, and the processor computes
/// bf16 if that is asked. Cheap: callers check it before any work, so a run never stops
/// half-way for it.
pub(crate) fn ready<'e>(
    environment: &'e Environment,
    plugin: &OpenVinoPlugin,
    precision: Precision,
) -> Result<ort::device::Device<'e>> {
    if precision == Precision::Bf16 {
        bf16_support(&cpuinfo("flags").unwrap_or_default()).map_err(|reason| Error::Precision {
            reason: format!("bf16 cannot be honoured: {reason}"),
        })?;
    }
    cpu_device(environment).ok_or_else(|| Error::OpenVino {
        reason: format!(
            "the OpenVINO plugin {} offers no device for this processor ({}); its builds serve \
             Intel CPUs only",
            plugin.library.display(),
            cpuinfo("model name").unwrap_or_else(|| "unknown processor".into())
        ),
    })
}

/// A session builder with OpenVINO's CPU device appended at `precision` (and `threads`
/// inference threads when not 0: ONNX Runtime's intra-op setting does not reach OpenVINO),
/// and ONNX Runtime's CPU fallback disabled so that every node runs on OpenVINO or the
/// session fails.
pub(crate) fn builder(
    environment: &Environment,
    plugin: &OpenVinoPlugin,
    base: SessionBuilder,
    precision: Precision,
    threads: usize,
) -> Result<SessionBuilder> {
    let fail = |reason: String| Error::OpenVino { reason };
    let device = ready(environment, plugin, precision)?;
    let options = [(
        format!("{OPENVINO_EP}.load_config"),
        load_config(precision, threads),
    )];
    let appended = |e: ort::Error<SessionBuilder>| {
        fail(format!(
            "OpenVINO could not be appended to the session: {e}"
        ))
    };
    base.with_config_entry("session.disable_cpu_ep_fallback", "1")
        .map_err(appended)?
        .with_devices([device], Some(&options))
        .map_err(appended)
}

/// OpenVINO's CPU properties: the precision always (its default on AMX is bf16), the
/// thread count when one is asked for.
fn load_config(precision: Precision, threads: usize) -> String {
    let hint = match precision {
        Precision::Fp32 => "f32",
        Precision::Bf16 => "bf16",
    };
    let threads = if threads > 0 {
        format!(r#", "INFERENCE_NUM_THREADS": "{threads}""#)
    } else {
        String::new()
    };
    format!(r#"{{"CPU": {{"INFERENCE_PRECISION_HINT": "{hint}"{threads}}}}}"#)
}

#[cfg(test)]
mod tests {
    use super::{bf16_support, load_config};
    use crate::ep::Precision;

    #[test]
    fn the_load_config_states_the_precision_and_threads_when_asked() {
        assert_eq!(
            load_config(Precision::Fp32, 0),
            r#"{"CPU": {"INFERENCE_PRECISION_HINT": "f32"}}"#
        );
        assert_eq!(
            load_config(Precision::Bf16, 2),
            r#"{"CPU": {"INFERENCE_PRECISION_HINT": "bf16", "INFERENCE_NUM_THREADS": "2"}}"#
        );
    }

    #[test]
    fn bf16_needs_amx_or_avx512_bf16() {
        assert!(bf16_support("fpu sse avx2 amx_bf16 amx_tile").is_ok());
        assert!(bf16_support("fpu avx512f avx512_bf16").is_ok());
        let refused = bf16_support("fpu sse avx2 fma avx512f avx512_vnni").unwrap_err();
        assert!(refused.contains("amx_bf16"), "{refused}");
        // a flag that merely contains the name is not the flag
        assert!(bf16_support("xamx_bf16 avx512_bf16x").is_err());
    }
}
