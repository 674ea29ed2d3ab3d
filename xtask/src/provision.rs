//! ONNX Runtime provisioning from PyPI's wheels into `target/onnxruntime/`, verified
//! against the wheel's RECORD. Idempotent: a verified copy is reused as is.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

pub const ORT_VERSION: &str = "1.31.1";
const UNPACK_SCRIPT: &str = include_str!("unpack_wheel.py");
const VERIFIED_MARKER: &str = "VERIFIED";

#[derive(Clone, Copy)]
enum Flavour {
    Cpu,
    Gpu,
}

impl Flavour {
    fn package(self) -> &'static str {
        match self {
            Flavour::Cpu => "onnxruntime",
            Flavour::Gpu => "onnxruntime-gpu",
        }
    }

    fn dir(self) -> PathBuf {
        let name = match self {
            Flavour::Cpu => "cpu",
            Flavour::Gpu => "gpu",
        };
        workspace_root()
            .join("target/onnxruntime")
            .join(format!("{name}-{ORT_VERSION}"))
    }
}

pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives in the workspace")
        .to_path_buf()
}

/// The `libonnxruntime.so` to use. `ORT_DYLIB_PATH` wins; `gpu` asks for the CUDA build;
/// otherwise an already provisioned CUDA build is preferred so `--ep auto` can use it.
pub fn runtime(gpu: bool) -> Result<PathBuf, String> {
    if let Some(path) = std::env::var_os("ORT_DYLIB_PATH") {
        let path = PathBuf::from(path);
        if !path.is_file() {
            return Err(format!(
                "ORT_DYLIB_PATH={} is not a file: point it at a libonnxruntime.so {ORT_VERSION}, or unset it to let xtask provision one",
                path.display()
            ));
        }
        return Ok(path);
    }
    if !gpu && is_verified(Flavour::Gpu.dir()) {
        return Ok(library_in(&Flavour::Gpu.dir()));
    }
    provision(if gpu { Flavour::Gpu } else { Flavour::Cpu })
}

fn library_in(dir: &Path) -> PathBuf {
    dir.join(format!("libonnxruntime.so.{ORT_VERSION}"))
}

fn is_verified(dir: PathBuf) -> bool {
    dir.join(VERIFIED_MARKER).is_file() && library_in(&dir).is_file()
}

fn provision(flavour: Flavour) -> Result<PathBuf, String> {
    let dir = flavour.dir();
    if is_verified(dir.clone()) {
        return Ok(library_in(&dir));
    }
    let package = flavour.package();
    eprintln!(
        "provisioning ONNX Runtime {ORT_VERSION} from the `{package}` wheel into {}",
        dir.display()
    );
    let download = dir.join("download");
    fs::create_dir_all(&download)
        .map_err(|e| format!("cannot create {}: {e}", download.display()))?;
    let python = std::env::var("PYTHON").unwrap_or_else(|_| "python3".into());
    run(
        Command::new(&python)
            .args([
                "-m",
                "pip",
                "download",
                "--quiet",
                "--no-deps",
                "--only-binary=:all:",
            ])
            .arg(format!("{package}=={ORT_VERSION}"))
            .arg("--dest")
            .arg(&download),
        &format!(
            "pip could not download {package}=={ORT_VERSION}. Check that pip can reach the package index, \
             or set ORT_DYLIB_PATH to an existing libonnxruntime.so {ORT_VERSION}"
        ),
    )?;
    let wheel = fs::read_dir(&download)
        .map_err(|e| e.to_string())?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .find(|p| p.extension().is_some_and(|ext| ext == "whl"))
        .ok_or_else(|| format!("pip left no wheel in {}", download.display()))?;
    let script = dir.join("unpack_wheel.py");
    fs::write(&script, UNPACK_SCRIPT).map_err(|e| e.to_string())?;
    run(
        Command::new(&python).arg(&script).arg(&wheel).arg(&dir),
        &format!(
            "could not unpack {}; delete {} and try again",
            wheel.display(),
            dir.display()
        ),
    )?;
    let _ = fs::remove_file(&script);
    let library = library_in(&dir);
    if !library.is_file() {
        return Err(format!(
            "{} holds no {}",
            wheel.display(),
            library.display()
        ));
    }
    fs::write(
        dir.join(VERIFIED_MARKER),
        format!("{package}=={ORT_VERSION}\n"),
    )
    .map_err(|e| e.to_string())?;
    // The wheel is large (the CUDA one especially) and everything needed is unpacked.
    let _ = fs::remove_dir_all(&download);
    Ok(library)
}

fn run(command: &mut Command, what_to_do: &str) -> Result<(), String> {
    match command.status() {
        Ok(status) if status.success() => Ok(()),
        Ok(status) => Err(format!("{what_to_do} ({status})")),
        Err(e) => Err(format!(
            "{what_to_do} (could not start {:?}: {e})",
            command.get_program()
        )),
    }
}
