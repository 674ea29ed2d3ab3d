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
//! sha256 comes from Python's `hashlib` (Python is already required for pip): xtask stays
//! dependency-free, and it hashes the CUDA build's few hundred MB in well under a second,
//! which a hand-written digest compiled at xtask's debug opt-level would not.

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::manifest::Manifest;
use crate::pins;
pub use crate::root::workspace_root;

pub const ORT_VERSION: &str = "1.31.1";
/// `onnxruntime-ep-openvino`, built for ONNX Runtime 1.31 (it carries OpenVINO 2026.4.1).
pub const OPENVINO_PLUGIN_VERSION: &str = "1.8.1";
/// The library ONNX Runtime registers as the OpenVINO execution provider.
pub const OPENVINO_PLUGIN: &str = "libonnxruntime_providers_openvino_plugin.so";
/// What a CPU run loads of the wheel's 158 MB (measured: the GPU, NPU, hetero and auto
/// plugins are never opened for the CPU device), 90 MB.
const OPENVINO_CPU_LIBRARIES: &[&str] = &[
    OPENVINO_PLUGIN,
    "libopenvino.so.2641",
    "libopenvino_onnx_frontend.so.2641",
    "libopenvino_intel_cpu_plugin.so",
    "libtbb.so.12",
];
const UNPACK_SCRIPT: &str = include_str!("unpack_wheel.py");
const MANIFEST: &str = "MANIFEST.json";
/// The plain-text marker of copies provisioned before the manifest: never trusted.
const LEGACY_MARKER: &str = "VERIFIED";
const SHA256_SCRIPT: &str = "\
import hashlib, sys
for path in sys.argv[1:]:
    digest = hashlib.sha256()
    with open(path, 'rb') as f:
        for block in iter(lambda: f.read(1 << 20), b''):
            digest.update(block)
    print(digest.hexdigest())
";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Flavour {
    Cpu,
    Gpu,
    /// The OpenVINO execution-provider plugin for the CPU runtime (Intel CPUs).
    OpenVino,
}

/// What one provisioned package is: its pinned wheels, where its libraries sit inside them,
/// which to unpack, and which one is handed over.
pub(crate) struct Spec<'a> {
    package: &'a str,
    version: &'a str,
    pins: &'a [(&'a str, &'a str)],
    setup: &'a str,
    /// The folder inside the wheel that holds the libraries.
    inside: &'a str,
    /// The libraries to unpack (all of `inside`'s when empty).
    only: &'a [&'a str],
    /// The file handed over.
    library: String,
    /// How to go without this package, said with every refusal.
    alternative: &'a str,
}

impl<'a> Spec<'a> {
    fn onnxruntime(package: &'a str, pins: &'a [(&'a str, &'a str)], setup: &'a str) -> Self {
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
    fn spec(self) -> Spec<'static> {
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

    fn dir(self) -> PathBuf {
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

/// The runtime xtask hands over: the library, and its sha256 when xtask provisioned and
/// checked it (`None` for a user's own `ORT_DYLIB_PATH`, which stays unchecked).
#[derive(Debug)]
pub struct Runtime {
    pub library: PathBuf,
    pub sha256: Option<String>,
}

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

fn library_name() -> String {
    if cfg!(target_os = "macos") {
        format!("libonnxruntime.{ORT_VERSION}.dylib")
    } else {
        format!("libonnxruntime.so.{ORT_VERSION}")
    }
}

#[derive(Debug, PartialEq, Eq)]
enum State {
    /// Provisioned with a manifest: check it.
    Manifest,
    /// Provisioned before the manifest existed: provision again.
    Legacy,
    Missing,
}

fn state(dir: &Path) -> State {
    if dir.join(MANIFEST).exists() {
        State::Manifest
    } else if dir.join(LEGACY_MARKER).exists() {
        State::Legacy
    } else {
        State::Missing
    }
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
    let (package, version) = (spec.package, spec.version);
    match state(&dir) {
        State::Manifest => return check(&dir, &spec),
        State::Legacy => eprintln!(
            "{} predates the sha256 manifest of its libraries: provisioning it again",
            dir.display()
        ),
        State::Missing => {}
    }
    eprintln!(
        "provisioning {package} {version} from its wheel into {}",
        dir.display()
    );
    let staging = Staging::new(&dir)?;
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
    install(wheel, &dir, &staging, &spec)
}

/// Checks `wheel` against `pins` (file name → sha256) before any byte of it is unpacked,
/// unpacks its libraries into `staging`, moves them into `dir` and records their sha256 in
/// `dir/MANIFEST.json`; then checks `dir` as every hand-over does.
fn install(wheel: &Path, dir: &Path, staging: &Staging, spec: &Spec) -> Result<Runtime, String> {
    let (package, version) = (spec.package, spec.version);
    let name = wheel
        .file_name()
        .and_then(OsStr::to_str)
        .ok_or_else(|| format!("{} is not a wheel file name", wheel.display()))?;
    let how_to_proceed = format!(
        "To go without it, {} (xtask does not check what you bring); to accept this wheel, check it and add its sha256 to xtask/src/pins.rs",
        spec.alternative
    );
    let Some(&(_, pinned)) = spec.pins.iter().find(|(pinned, _)| *pinned == name) else {
        return Err(format!(
            "{}: refused, not unpacked: {name} is not one of the {package} {version} wheels xtask pins. {how_to_proceed}",
            wheel.display()
        ));
    };
    let actual = sha256_files(&[wheel])?.remove(0);
    if actual != pinned {
        return Err(format!(
            "{}: refused, not unpacked: its sha256 is {actual}, not the pinned {pinned}. \
             It is not the wheel published as {name}; delete it. {how_to_proceed}",
            wheel.display()
        ));
    }
    let unpacked = staging.path.join("unpacked");
    run(
        Command::new(python())
            .arg("-c")
            .arg(UNPACK_SCRIPT)
            .arg(wheel)
            .arg(pinned)
            .arg(&unpacked)
            .arg(spec.inside)
            .args(spec.only),
        &format!("could not unpack {}", wheel.display()),
    )?;
    let mut libraries: Vec<PathBuf> = fs::read_dir(&unpacked)
        .map_err(|e| format!("cannot read {}: {e}", unpacked.display()))?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .and_then(OsStr::to_str)
                .is_some_and(is_library)
        })
        .collect();
    libraries.sort();
    let library = &spec.library;
    if !libraries.iter().any(|p| p.ends_with(library)) {
        return Err(format!("{} holds no {library}", wheel.display()));
    }
    let digests = sha256_files(&libraries.iter().map(PathBuf::as_path).collect::<Vec<_>>())?;
    let files: BTreeMap<String, String> = libraries
        .iter()
        .zip(digests)
        .map(|(path, sha256)| (file_name(path), sha256))
        .collect();
    fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    // One rename per library: a process that already loaded the old copy keeps it, and one
    // starting now finds either the old or the new file, never a partial one.
    for path in &libraries {
        let target = dir.join(file_name(path));
        fs::rename(path, &target).map_err(|e| {
            format!(
                "cannot move {} to {}: {e}",
                path.display(),
                target.display()
            )
        })?;
    }
    let manifest = Manifest {
        package: package.into(),
        version: version.into(),
        wheel: name.into(),
        wheel_sha256: actual,
        files,
    };
    let part = staging.path.join(MANIFEST);
    fs::write(&part, manifest.to_json())
        .map_err(|e| format!("cannot write {}: {e}", part.display()))?;
    fs::rename(&part, dir.join(MANIFEST))
        .map_err(|e| format!("cannot write {}: {e}", dir.join(MANIFEST).display()))?;
    let _ = fs::remove_file(dir.join(LEGACY_MARKER));
    check(dir, spec)
}

/// Re-checks a provisioned copy against its manifest: the wheel it names is pinned, every
/// library it lists hashes as recorded, and no other library sits beside them.
fn check(dir: &Path, spec: &Spec) -> Result<Runtime, String> {
    let (package, version) = (spec.package, spec.version);
    let path = dir.join(MANIFEST);
    let fix = format!(
        "Delete {} and run `{}` to provision a fresh copy (or {})",
        dir.display(),
        spec.setup,
        spec.alternative
    );
    let manifest = fs::read_to_string(&path)
        .map_err(|e| e.to_string())
        .and_then(|text| Manifest::parse(&text))
        .map_err(|e| format!("{}: {e}. {fix}", path.display()))?;
    if manifest.package != package || manifest.version != version {
        return Err(format!(
            "{}: records {}=={}, not {package}=={version}. {fix}",
            path.display(),
            manifest.package,
            manifest.version
        ));
    }
    if !spec
        .pins
        .iter()
        .any(|&(name, sha256)| name == manifest.wheel && sha256 == manifest.wheel_sha256)
    {
        return Err(format!(
            "{}: records the wheel {} (sha256 {}), which is not one xtask pins. {fix}",
            path.display(),
            manifest.wheel,
            manifest.wheel_sha256
        ));
    }
    if let Some(bad) = manifest.files.keys().find(|name| !is_plain_file_name(name)) {
        return Err(format!(
            "{}: lists {bad:?}, which is not a plain file name. {fix}",
            path.display()
        ));
    }
    let library = &spec.library;
    let Some(library_sha256) = manifest.files.get(library) else {
        return Err(format!(
            "{}: does not list {library}. {fix}",
            path.display()
        ));
    };
    let entries = fs::read_dir(dir).map_err(|e| format!("cannot read {}: {e}", dir.display()))?;
    for entry in entries.filter_map(Result::ok) {
        let name = entry.file_name().to_string_lossy().into_owned();
        if is_library(&name) && !manifest.files.contains_key(&name) {
            return Err(format!(
                "{}: not unpacked from the pinned wheel (it is not in {MANIFEST}), and ONNX Runtime could load it. {fix}",
                entry.path().display()
            ));
        }
    }
    let paths: Vec<PathBuf> = manifest.files.keys().map(|name| dir.join(name)).collect();
    for path in &paths {
        // Links are refused: what they point at is not what was unpacked.
        match fs::symlink_metadata(path) {
            Ok(meta) if meta.is_file() => {}
            Ok(_) => {
                return Err(format!(
                    "{}: is not a plain file (a link?); provisioning unpacked a file there. {fix}",
                    path.display()
                ));
            }
            Err(e) => return Err(format!("{}: {e}. {fix}", path.display())),
        }
    }
    let digests = sha256_files(&paths.iter().map(PathBuf::as_path).collect::<Vec<_>>())?;
    for ((path, recorded), actual) in paths.iter().zip(manifest.files.values()).zip(digests) {
        if &actual != recorded {
            return Err(format!(
                "{}: its sha256 is {actual}, not the {recorded} recorded in {} when it was unpacked \
                 from {}: the library was replaced or altered after provisioning. {fix}",
                path.display(),
                MANIFEST,
                manifest.wheel
            ));
        }
    }
    Ok(Runtime {
        library: dir.join(library),
        sha256: Some(library_sha256.clone()),
    })
}

/// A shared library ONNX Runtime could load from its folder.
fn is_library(name: &str) -> bool {
    name.starts_with("lib") && (name.contains(".so") || name.ends_with(".dylib"))
}

fn is_plain_file_name(name: &str) -> bool {
    !name.is_empty()
        && name != "."
        && name != ".."
        && !name.contains(['/', '\\', '\0'])
        && name != MANIFEST
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

fn python() -> String {
    std::env::var("PYTHON").unwrap_or_else(|_| "python3".into())
}

/// The sha256 of each file, lowercase hex, in order (Python's `hashlib`).
fn sha256_files(paths: &[&Path]) -> Result<Vec<String>, String> {
    if paths.is_empty() {
        return Ok(Vec::new());
    }
    let output = Command::new(python())
        .arg("-c")
        .arg(SHA256_SCRIPT)
        .args(paths)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("could not start {} to compute sha256: {e}", python()))?;
    let digests: Vec<String> = String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(str::to_owned)
        .collect();
    let well_formed = digests
        .iter()
        .all(|d| d.len() == 64 && d.bytes().all(|b| b.is_ascii_hexdigit()));
    if !output.status.success() || digests.len() != paths.len() || !well_formed {
        return Err(format!(
            "could not compute the sha256 of {}: {}",
            paths
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", "),
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    Ok(digests)
}

/// A fresh folder beside `dir` for one provisioning run, removed when dropped.
/// A fresh hidden sibling of a folder being installed, removed when dropped (unless renamed
/// into place).
pub(crate) struct Staging {
    pub(crate) path: PathBuf,
}

impl Staging {
    pub(crate) fn new(dir: &Path) -> Result<Staging, String> {
        let parent = dir.parent().unwrap_or(Path::new("."));
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let path = parent.join(format!(
            ".{}.staging-{}-{nanos}",
            file_name(dir),
            std::process::id()
        ));
        fs::create_dir_all(parent)
            .and_then(|()| fs::create_dir(&path))
            .map_err(|e| format!("cannot create {}: {e}", path.display()))?;
        Ok(Staging { path })
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.path);
    }
}

/// Runs `command`; `what_to_do` is the message when it fails or cannot start.
pub(crate) fn run(command: &mut Command, what_to_do: &str) -> Result<(), String> {
    match command.status() {
        Ok(status) if status.success() => Ok(()),
        Ok(status) => Err(format!("{what_to_do} ({status})")),
        Err(e) => Err(format!(
            "{what_to_do} (could not start {:?}: {e})",
            command.get_program()
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scratch::Scratch;

    /// A wheel whose RECORD matches its own contents (what pip's and the old RECORD checks
    /// accepted), holding a stand-in ONNX Runtime.
    fn fake_wheel(path: &Path) {
        let library = format!("onnxruntime/capi/{}", library_name());
        write_wheel(
            path,
            &[
                (library.as_str(), "not really ONNX Runtime"),
                (
                    "onnxruntime/capi/libonnxruntime_providers_shared.so",
                    "not really a provider",
                ),
                ("onnxruntime/__init__.py", ""),
            ],
        );
    }

    /// A zip holding `entries` (name, text) and a RECORD that matches them.
    fn write_wheel(path: &Path, entries: &[(&str, &str)]) {
        let script = r#"
import base64, hashlib, sys, zipfile
path, entries = sys.argv[1], sys.argv[2:]
record = []
with zipfile.ZipFile(path, "w") as zf:
    for name, text in zip(entries[::2], entries[1::2]):
        data = text.encode()
        zf.writestr(name, data)
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.append(f"{name},sha256={digest},{len(data)}")
    record.append("onnxruntime-1.31.1.dist-info/RECORD,,")
    zf.writestr("onnxruntime-1.31.1.dist-info/RECORD", "\n".join(record) + "\n")
"#;
        let status = Command::new(python())
            .arg("-c")
            .arg(script)
            .arg(path)
            .args(entries.iter().flat_map(|(name, text)| [name, text]))
            .status()
            .expect("python3");
        assert!(status.success());
    }

    fn sha256_of(path: &Path) -> String {
        sha256_files(&[path]).unwrap().remove(0)
    }

    /// Names the libraries in `dir`, sorted.
    fn libraries_in(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(dir)
            .map(|entries| {
                entries
                    .filter_map(Result::ok)
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .filter(|n| is_library(n))
                    .collect()
            })
            .unwrap_or_default();
        names.sort();
        names
    }

    const PINNED_NAME: &str = "onnxruntime-1.31.1-cp311-cp311-manylinux_2_28_x86_64.whl";

    #[test]
    fn sha256_matches_a_known_answer() {
        let scratch = Scratch::new();
        let file = scratch.0.join("abc");
        fs::write(&file, "abc").unwrap();
        assert_eq!(
            sha256_of(&file),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert!(sha256_files(&[&scratch.0.join("missing")]).is_err());
    }

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

    #[test]
    fn a_fake_wheel_under_a_pinned_name_is_refused_before_unpacking() {
        let scratch = Scratch::new();
        let wheel = scratch.0.join(PINNED_NAME);
        fake_wheel(&wheel);
        // The fake is self-consistent: checked against its own sha256 and its RECORD (all
        // that was checked before), it unpacks.
        let consistent = scratch.0.join("consistent");
        let own = sha256_of(&wheel);
        run(
            Command::new(python())
                .arg("-c")
                .arg(UNPACK_SCRIPT)
                .arg(&wheel)
                .arg(&own)
                .arg(&consistent),
            "unpack",
        )
        .unwrap();
        assert_eq!(libraries_in(&consistent).len(), 2);

        let dir = scratch.0.join("cpu");
        let staging = Staging::new(&dir).unwrap();
        let error = install(
            &wheel,
            &dir,
            &staging,
            &Spec::onnxruntime("onnxruntime", pins::CPU_WHEELS, "cargo xtask setup"),
        )
        .unwrap_err();
        for says in [
            wheel.display().to_string().as_str(),
            "refused, not unpacked",
            &own,
            "ORT_DYLIB_PATH",
        ] {
            assert!(error.contains(says), "{error:?} lacks {says:?}");
        }
        assert!(!dir.exists(), "the runtime folder was created");
        assert!(
            !staging.path.join("unpacked").exists(),
            "something was unpacked"
        );
        let staging_path = staging.path.clone();
        drop(staging);
        assert!(!staging_path.exists(), "the staging folder was left");
    }

    #[test]
    fn a_wheel_that_is_not_pinned_is_refused() {
        let scratch = Scratch::new();
        let wheel = scratch
            .0
            .join("onnxruntime-1.31.1-cp39-cp39-manylinux_2_28_x86_64.whl");
        fake_wheel(&wheel);
        let dir = scratch.0.join("cpu");
        let staging = Staging::new(&dir).unwrap();
        let error = install(
            &wheel,
            &dir,
            &staging,
            &Spec::onnxruntime("onnxruntime", pins::CPU_WHEELS, "cargo xtask setup"),
        )
        .unwrap_err();
        for says in [
            "onnxruntime-1.31.1-cp39-cp39-manylinux_2_28_x86_64.whl is not one of the onnxruntime 1.31.1 wheels xtask pins",
            "ORT_DYLIB_PATH",
            "xtask/src/pins.rs",
        ] {
            assert!(error.contains(says), "{error:?} lacks {says:?}");
        }
        assert!(!dir.exists());
    }

    #[test]
    fn the_unpacking_script_checks_the_pin_itself() {
        let scratch = Scratch::new();
        let wheel = scratch.0.join(PINNED_NAME);
        fake_wheel(&wheel);
        let dest = scratch.0.join("dest");
        let output = Command::new(python())
            .arg("-c")
            .arg(UNPACK_SCRIPT)
            .arg(&wheel)
            .arg("0".repeat(64))
            .arg(&dest)
            .output()
            .unwrap();
        assert!(!output.status.success());
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains("refused before unpacking"), "{stderr}");
        assert!(!dest.exists(), "the script created {}", dest.display());
    }

    #[test]
    fn a_swapped_library_is_detected_after_provisioning() {
        let scratch = Scratch::new();
        let wheel = scratch.0.join("onnxruntime-test.whl");
        fake_wheel(&wheel);
        let wheel_sha256 = sha256_of(&wheel);
        let pins = [("onnxruntime-test.whl", wheel_sha256.as_str())];
        let dir = scratch.0.join("cpu-1.31.1");
        let setup = "cargo xtask setup";
        let staging = Staging::new(&dir).unwrap();
        let runtime = install(
            &wheel,
            &dir,
            &staging,
            &Spec::onnxruntime("onnxruntime", &pins, setup),
        )
        .unwrap();
        drop(staging);
        let library = dir.join(library_name());
        assert_eq!(runtime.library, library);
        assert_eq!(
            runtime.sha256.as_deref(),
            Some(sha256_of(&library).as_str())
        );
        assert_eq!(state(&dir), State::Manifest);
        assert_eq!(
            libraries_in(&dir),
            [
                library_name(),
                "libonnxruntime_providers_shared.so".to_string()
            ]
        );
        let manifest = Manifest::parse(&fs::read_to_string(dir.join(MANIFEST)).unwrap()).unwrap();
        assert_eq!(manifest.wheel, "onnxruntime-test.whl");
        assert_eq!(manifest.wheel_sha256, wheel_sha256);
        assert_eq!(manifest.files.len(), 2);
        // Nothing changed: the next hand-over passes.
        check(&dir, &Spec::onnxruntime("onnxruntime", &pins, setup)).unwrap();

        let expect_refused = |says: &[&str]| {
            let error = check(&dir, &Spec::onnxruntime("onnxruntime", &pins, setup)).unwrap_err();
            for s in says {
                assert!(error.contains(s), "{error:?} lacks {s:?}");
            }
            assert!(error.contains(&dir.display().to_string()) && error.contains(setup));
        };

        // A library swapped for other bytes.
        let genuine = fs::read(&library).unwrap();
        fs::write(&library, "a swapped library").unwrap();
        expect_refused(&[&library.display().to_string(), "replaced or altered"]);
        fs::write(&library, &genuine).unwrap();
        check(&dir, &Spec::onnxruntime("onnxruntime", &pins, setup)).unwrap();

        // The provider library too: ONNX Runtime loads it from the same folder.
        let provider = dir.join("libonnxruntime_providers_shared.so");
        fs::write(&provider, "a swapped provider").unwrap();
        expect_refused(&[&provider.display().to_string(), "replaced or altered"]);
        fs::write(&provider, "not really a provider").unwrap();

        // A library planted beside them.
        let planted = dir.join("libonnxruntime_providers_cuda.so");
        fs::write(&planted, "planted").unwrap();
        expect_refused(&[
            &planted.display().to_string(),
            "not unpacked from the pinned wheel",
        ]);
        fs::remove_file(&planted).unwrap();

        // A link in place of the library, even to identical bytes.
        #[cfg(unix)]
        {
            let copy = scratch.0.join("copy");
            fs::write(&copy, &genuine).unwrap();
            fs::remove_file(&library).unwrap();
            std::os::unix::fs::symlink(&copy, &library).unwrap();
            expect_refused(&[&library.display().to_string(), "not a plain file"]);
            fs::remove_file(&library).unwrap();
            fs::write(&library, &genuine).unwrap();
        }

        // A missing library.
        fs::remove_file(&provider).unwrap();
        expect_refused(&[&provider.display().to_string()]);
        fs::write(&provider, "not really a provider").unwrap();
        check(&dir, &Spec::onnxruntime("onnxruntime", &pins, setup)).unwrap();

        // A manifest rewritten to name a wheel that is not pinned, or another package.
        let text = fs::read_to_string(dir.join(MANIFEST)).unwrap();
        fs::write(
            dir.join(MANIFEST),
            text.replace("onnxruntime-test.whl", "onnxruntime-other.whl"),
        )
        .unwrap();
        expect_refused(&["onnxruntime-other.whl", "not one xtask pins"]);
        fs::write(dir.join(MANIFEST), &text).unwrap();
        let error = check(&dir, &Spec::onnxruntime("onnxruntime-gpu", &pins, setup)).unwrap_err();
        assert!(error.contains("not onnxruntime-gpu==1.31.1"), "{error}");
        fs::write(dir.join(MANIFEST), "VERIFIED").unwrap();
        expect_refused(&[MANIFEST]);
        fs::write(dir.join(MANIFEST), &text).unwrap();
        check(&dir, &Spec::onnxruntime("onnxruntime", &pins, setup)).unwrap();
    }

    #[test]
    fn a_copy_from_before_the_manifest_is_provisioned_again() {
        let scratch = Scratch::new();
        let dir = scratch.0.join("cpu-1.31.1");
        assert_eq!(state(&dir), State::Missing);
        fs::create_dir_all(&dir).unwrap();
        fs::write(dir.join(library_name()), "anything").unwrap();
        assert_eq!(state(&dir), State::Missing);
        fs::write(dir.join(LEGACY_MARKER), "onnxruntime==1.31.1\n").unwrap();
        assert_eq!(state(&dir), State::Legacy);

        // Provisioning over it replaces the library and retires the plain marker.
        let wheel = scratch.0.join("onnxruntime-test.whl");
        fake_wheel(&wheel);
        let wheel_sha256 = sha256_of(&wheel);
        let pins = [("onnxruntime-test.whl", wheel_sha256.as_str())];
        let staging = Staging::new(&dir).unwrap();
        install(
            &wheel,
            &dir,
            &staging,
            &Spec::onnxruntime("onnxruntime", &pins, "cargo xtask setup"),
        )
        .unwrap();
        assert_eq!(state(&dir), State::Manifest);
        assert!(!dir.join(LEGACY_MARKER).exists());
        assert_eq!(
            fs::read_to_string(dir.join(library_name())).unwrap(),
            "not really ONNX Runtime"
        );
    }

    /// The OpenVINO spec with `pins` in place of the real ones.
    fn openvino_spec<'a>(pins: &'a [(&'a str, &'a str)]) -> Spec<'a> {
        Spec {
            pins,
            ..Flavour::OpenVino.spec()
        }
    }

    #[test]
    fn the_openvino_plugin_unpacks_only_what_a_cpu_run_loads() {
        let scratch = Scratch::new();
        let wheel = scratch.0.join("onnxruntime_ep_openvino-test.whl");
        let mut entries: Vec<(String, &str)> = OPENVINO_CPU_LIBRARIES
            .iter()
            .map(|name| (format!("onnxruntime_ep_openvino/{name}"), "a CPU library"))
            .collect();
        entries.push((
            "onnxruntime_ep_openvino/libopenvino_intel_gpu_plugin.so".into(),
            "the GPU plugin",
        ));
        entries.push(("onnxruntime_ep_openvino/__init__.py".into(), ""));
        let borrowed: Vec<(&str, &str)> = entries.iter().map(|(n, t)| (n.as_str(), *t)).collect();
        write_wheel(&wheel, &borrowed);
        let sha256 = sha256_of(&wheel);
        let pins = [("onnxruntime_ep_openvino-test.whl", sha256.as_str())];
        let dir = scratch.0.join("openvino");
        let staging = Staging::new(&dir).unwrap();
        let plugin = install(&wheel, &dir, &staging, &openvino_spec(&pins)).unwrap();
        assert_eq!(plugin.library, dir.join(OPENVINO_PLUGIN));
        let mut expected: Vec<String> = OPENVINO_CPU_LIBRARIES
            .iter()
            .map(|n| n.to_string())
            .collect();
        expected.sort();
        assert_eq!(libraries_in(&dir), expected);
        let manifest = Manifest::parse(&fs::read_to_string(dir.join(MANIFEST)).unwrap()).unwrap();
        assert_eq!(manifest.package, "onnxruntime-ep-openvino");
        assert_eq!(manifest.version, OPENVINO_PLUGIN_VERSION);
        assert_eq!(manifest.files.len(), OPENVINO_CPU_LIBRARIES.len());
        // Checked at every hand-over like the runtime: an altered CPU plugin is refused.
        fs::write(dir.join("libopenvino_intel_cpu_plugin.so"), "altered").unwrap();
        let error = check(&dir, &openvino_spec(&pins)).unwrap_err();
        for says in [
            "libopenvino_intel_cpu_plugin.so",
            "cargo xtask setup --openvino",
            "--ep cpu",
        ] {
            assert!(error.contains(says), "{error:?} lacks {says:?}");
        }
    }

    #[test]
    fn an_openvino_wheel_without_the_cpu_plugin_is_refused() {
        let scratch = Scratch::new();
        let wheel = scratch.0.join("onnxruntime_ep_openvino-test.whl");
        let entries: Vec<String> = OPENVINO_CPU_LIBRARIES
            .iter()
            .filter(|name| **name != "libopenvino_intel_cpu_plugin.so")
            .map(|name| format!("onnxruntime_ep_openvino/{name}"))
            .collect();
        let borrowed: Vec<(&str, &str)> = entries.iter().map(|n| (n.as_str(), "x")).collect();
        write_wheel(&wheel, &borrowed);
        let sha256 = sha256_of(&wheel);
        let pins = [("onnxruntime_ep_openvino-test.whl", sha256.as_str())];
        let dir = scratch.0.join("openvino");
        let staging = Staging::new(&dir).unwrap();
        let error = install(&wheel, &dir, &staging, &openvino_spec(&pins)).unwrap_err();
        assert!(error.contains("could not unpack"), "{error}");
        assert!(
            !dir.exists(),
            "a plugin folder was made from an incomplete wheel"
        );
    }
}
