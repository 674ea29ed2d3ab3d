//! Handing a provisioned copy over: what state its folder is in, and the re-check against
//! its manifest that every hand-over makes, so a library swapped after provisioning is
//! refused with its name.

use std::fs;
use std::path::{Path, PathBuf};

use crate::manifest::Manifest;
use crate::packages::Spec;
use crate::python::sha256_files;

pub(crate) const MANIFEST: &str = "MANIFEST.json";
/// The plain-text marker of copies provisioned before the manifest: never trusted.
pub(crate) const LEGACY_MARKER: &str = "VERIFIED";

/// The runtime xtask hands over: the library, and its sha256 when xtask provisioned and
/// checked it (`None` for a user's own `ORT_DYLIB_PATH`, which stays unchecked).
#[derive(Debug)]
pub struct Runtime {
    pub library: PathBuf,
    pub sha256: Option<String>,
}

#[derive(Debug, PartialEq, Eq)]
pub(crate) enum State {
    /// Provisioned with a manifest: check it.
    Manifest,
    /// Provisioned before the manifest existed: provision again.
    Legacy,
    Missing,
}

pub(crate) fn state(dir: &Path) -> State {
    if dir.join(MANIFEST).exists() {
        State::Manifest
    } else if dir.join(LEGACY_MARKER).exists() {
        State::Legacy
    } else {
        State::Missing
    }
}

/// Re-checks a provisioned copy against its manifest: the wheel it names is pinned, every
/// library it lists hashes as recorded, and no other library sits beside them.
pub(crate) fn check(dir: &Path, spec: &Spec) -> Result<Runtime, String> {
    let fix = format!(
        "Delete {} and run `{}` to provision a fresh copy (or {})",
        dir.display(),
        spec.setup,
        spec.alternative
    );
    let manifest = read_manifest(dir, spec, &fix)?;
    let library = &spec.library;
    let Some(library_sha256) = manifest.files.get(library) else {
        return Err(format!(
            "{}: does not list {library}. {fix}",
            dir.join(MANIFEST).display()
        ));
    };
    refuse_unlisted_libraries(dir, &manifest, &fix)?;
    refuse_altered_files(dir, &manifest, &fix)?;
    Ok(Runtime {
        library: dir.join(library),
        sha256: Some(library_sha256.clone()),
    })
}

/// `dir`'s manifest, when it records `spec`'s package from a pinned wheel and lists only
/// plain file names.
fn read_manifest(dir: &Path, spec: &Spec, fix: &str) -> Result<Manifest, String> {
    let (package, version) = (spec.package, spec.version);
    let path = dir.join(MANIFEST);
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
    Ok(manifest)
}

/// Refuses a library in `dir` that the manifest does not list: ONNX Runtime could load it.
fn refuse_unlisted_libraries(dir: &Path, manifest: &Manifest, fix: &str) -> Result<(), String> {
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
    Ok(())
}

/// Refuses a listed file that is missing, not a plain file, or not the bytes unpacked.
fn refuse_altered_files(dir: &Path, manifest: &Manifest, fix: &str) -> Result<(), String> {
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
    Ok(())
}

/// A shared library ONNX Runtime could load from its folder.
pub(crate) fn is_library(name: &str) -> bool {
    name.starts_with("lib") && (name.contains(".so") || name.ends_with(".dylib"))
}

fn is_plain_file_name(name: &str) -> bool {
    !name.is_empty()
        && name != "."
        && name != ".."
        && !name.contains(['/', '\\', '\0'])
        && name != MANIFEST
}
