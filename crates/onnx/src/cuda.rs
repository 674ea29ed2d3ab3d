//! The CUDA 13 and cuDNN 9 libraries ONNX Runtime's CUDA provider loads, and whether the
//! CUDA runtime sees a GPU: checked before a session so the reason can be named.

/// How many GPUs the CUDA runtime sees; why none, when it sees none (no driver, a driver
/// too old for CUDA 13, no device in this container).
pub(crate) fn cuda_device_count() -> std::result::Result<i32, String> {
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
}
