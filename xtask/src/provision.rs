//! ONNX Runtime provisioning from PyPI's wheels into `target/onnxruntime/`.
//!
//! Trust (issue 16): only the wheels pinned in `pins.rs` are accepted. pip downloads in
//! hash-checking mode (`--require-hashes`, every pinned sha256 of the package), then xtask
//! checks the wheel's file name and sha256 against the table itself, and the unpacking script
//! checks the sha256 once more on the open file before it reads the archive: a wheel that is
//! not pinned has no byte unpacked, however consistent its RECORD. The libraries are unpacked
//! into a staging folder, hashed, moved into place, and their sha256 recorded in
//! `MANIFEST.json`; every hand-over re-checks them, so a library swapped later is refused
//! with its name. A copy made before the manifest existed (a plain `VERIFIED` marker) is
//! provisioned again automatically.
//!
//! sha256 comes from Python's `hashlib` (see `python.rs`). What is pinned and handed over
//! is in `packages.rs`, the unpacking and the manifest in `install.rs`, and the re-check at
//! every hand-over in `handover.rs`.

use std::fs;
use std::path::PathBuf;
use std::process::Command;

pub use crate::handover::Runtime;
use crate::handover::{State, check, state};
use crate::install::install;
pub use crate::packages::ORT_VERSION;
use crate::packages::{Flavour, Spec};
use crate::python::{python, run};
pub use crate::root::workspace_root;
use crate::staging::Staging;

/// The `libonnxruntime.so` to use. `ORT_DYLIB_PATH` wins; `gpu` asks for the CUDA build;
/// otherwise an already provisioned CUDA build is preferred so `--ep auto` can use it.
/// A provisioned copy is re-checked against its manifest every time.
pub fn runtime(gpu: bool) -> Result<Runtime, String> {
    if let Some(path) = std::env::var_os("ORT_DYLIB_PATH") {
        let path = PathBuf::from(path);
        if !path.is_file() {
            return Err(format!(
                "ORT_DYLIB_PATH={} is not a file: point it at a libonnxruntime.so {ORT_VERSION}, or unset it to let xtask provision one",
                path.display()
            ));
        }
        return Ok(Runtime {
            library: path,
            sha256: None,
        });
    }
    if !gpu && state(&Flavour::Gpu.dir()) != State::Missing {
        return provision(Flavour::Gpu);
    }
    provision(if gpu { Flavour::Gpu } else { Flavour::Cpu })
}

/// The OpenVINO plugin, provisioned (from its pinned wheel) and checked like the runtime.
pub fn openvino() -> Result<Runtime, String> {
    provision(Flavour::OpenVino)
}

/// The OpenVINO plugin if it was provisioned before (then checked); never provisions.
pub fn openvino_if_provisioned() -> Option<Result<Runtime, String>> {
    (state(&Flavour::OpenVino.dir()) != State::Missing).then(openvino)
}

fn provision(flavour: Flavour) -> Result<Runtime, String> {
    let dir = flavour.dir();
    let spec = flavour.spec();
    match state(&dir) {
        State::Manifest => return check(&dir, &spec),
        State::Legacy => eprintln!(
            "{} predates the sha256 manifest of its libraries: provisioning it again",
            dir.display()
        ),
        State::Missing => {}
    }
    eprintln!(
        "provisioning {} {} from its wheel into {}",
        spec.package,
        spec.version,
        dir.display()
    );
    let staging = Staging::new(&dir)?;
    let wheel = download(&spec, &staging)?;
    install(&wheel, &dir, &staging, &spec)
}

/// Has pip download the one pinned wheel for this platform and Python into `staging`.
fn download(spec: &Spec, staging: &Staging) -> Result<PathBuf, String> {
    let (package, version) = (spec.package, spec.version);
    let download = staging.path.join("download");
    fs::create_dir_all(&download)
        .map_err(|e| format!("cannot create {}: {e}", download.display()))?;
    // Hash-checking mode: pip refuses any file whose sha256 is not one of the pins.
    let requirements = staging.path.join("requirements.txt");
    let hashes: String = spec
        .pins
        .iter()
        .map(|(_, sha256)| format!(" --hash=sha256:{sha256}"))
        .collect();
    fs::write(&requirements, format!("{package}=={version}{hashes}\n"))
        .map_err(|e| format!("cannot write {}: {e}", requirements.display()))?;
    run(
        Command::new(python())
            .args([
                "-m",
                "pip",
                "download",
                "--quiet",
                "--no-deps",
                "--only-binary=:all:",
                "--require-hashes",
                "--requirement",
            ])
            .arg(&requirements)
            .arg("--dest")
            .arg(&download),
        &format!(
            "pip could not download a pinned {package}=={version} wheel (xtask/src/pins.rs lists the \
             platforms and Python versions it pins). Check that pip can reach the package index, \
             or {}",
            spec.alternative
        ),
    )?;
    let wheels: Vec<PathBuf> = fs::read_dir(&download)
        .map_err(|e| format!("cannot read {}: {e}", download.display()))?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|ext| ext == "whl"))
        .collect();
    let [wheel] = wheels.as_slice() else {
        return Err(format!(
            "pip left {} wheels in {}, not one",
            wheels.len(),
            download.display()
        ));
    };
    Ok(wheel.clone())
}
