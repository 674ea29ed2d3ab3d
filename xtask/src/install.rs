//! Installing a downloaded wheel: its name and sha256 checked against the pins before any
//! byte is unpacked, its libraries unpacked in staging, moved into place one rename each,
//! and their sha256 recorded in `MANIFEST.json`.

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::handover::{LEGACY_MARKER, MANIFEST, Runtime, check, is_library};
use crate::manifest::Manifest;
use crate::packages::Spec;
use crate::python::{python, run, sha256_files};
use crate::staging::{Staging, file_name};

const UNPACK_SCRIPT: &str = include_str!("unpack_wheel.py");

/// Checks `wheel` against `pins` (file name → sha256) before any byte of it is unpacked,
/// unpacks its libraries into `staging`, moves them into `dir` and records their sha256 in
/// `dir/MANIFEST.json`; then checks `dir` as every hand-over does.
pub(crate) fn install(
    wheel: &Path,
    dir: &Path,
    staging: &Staging,
    spec: &Spec,
) -> Result<Runtime, String> {
    let (name, sha256) = pinned_wheel(wheel, spec)?;
    let libraries = unpack(wheel, &sha256, staging, spec)?;
    let digests = sha256_files(&libraries.iter().map(PathBuf::as_path).collect::<Vec<_>>())?;
    let files: BTreeMap<String, String> = libraries
        .iter()
        .zip(digests)
        .map(|(path, sha256)| (file_name(path), sha256))
        .collect();
    move_into_place(&libraries, dir)?;
    let manifest = Manifest {
        package: spec.package.into(),
        version: spec.version.into(),
        wheel: name.into(),
        wheel_sha256: sha256,
        files,
    };
    write_manifest(&manifest, staging, dir)?;
    let _ = fs::remove_file(dir.join(LEGACY_MARKER));
    check(dir, spec)
}

/// The wheel's file name and sha256, when both are pinned together; refused otherwise.
fn pinned_wheel<'w>(wheel: &'w Path, spec: &Spec) -> Result<(&'w str, String), String> {
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
    Ok((name, actual))
}

/// Unpacks the wheel's libraries into `staging` (the script checks `pinned` once more on
/// the open file); returns them sorted, the handed-over one among them.
fn unpack(
    wheel: &Path,
    pinned: &str,
    staging: &Staging,
    spec: &Spec,
) -> Result<Vec<PathBuf>, String> {
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
    Ok(libraries)
}

/// Moves each library into `dir`.
fn move_into_place(libraries: &[PathBuf], dir: &Path) -> Result<(), String> {
    fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    // One rename per library: a process that already loaded the old copy keeps it, and one
    // starting now finds either the old or the new file, never a partial one.
    for path in libraries {
        let target = dir.join(file_name(path));
        fs::rename(path, &target).map_err(|e| {
            format!(
                "cannot move {} to {}: {e}",
                path.display(),
                target.display()
            )
        })?;
    }
    Ok(())
}

/// Writes `manifest` in `staging` and renames it into `dir`, so it is never half-written.
fn write_manifest(manifest: &Manifest, staging: &Staging, dir: &Path) -> Result<(), String> {
    let part = staging.path.join(MANIFEST);
    fs::write(&part, manifest.to_json())
        .map_err(|e| format!("cannot write {}: {e}", part.display()))?;
    fs::rename(&part, dir.join(MANIFEST))
        .map_err(|e| format!("cannot write {}: {e}", dir.join(MANIFEST).display()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::handover::{State, state};
    use crate::packages::tests::PINNED_NAME;
    use crate::packages::{
        Flavour, OPENVINO_CPU_LIBRARIES, OPENVINO_PLUGIN, OPENVINO_PLUGIN_VERSION, library_name,
    };
    use crate::pins;
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

    /// A copy provisioned in `dir` from a wheel pinned by `pins`, and what its next
    /// hand-over says.
    struct Provisioned<'a> {
        dir: &'a Path,
        pins: &'a [(&'a str, &'a str)],
        setup: &'a str,
    }

    impl Provisioned<'_> {
        fn spec(&self) -> Spec<'_> {
            Spec::onnxruntime("onnxruntime", self.pins, self.setup)
        }

        fn passes(&self) {
            check(self.dir, &self.spec()).unwrap();
        }

        /// The hand-over is refused, saying `says`, where the copy is and how to replace it.
        fn refused(&self, says: &[&str]) {
            let error = check(self.dir, &self.spec()).unwrap_err();
            for s in says {
                assert!(error.contains(s), "{error:?} lacks {s:?}");
            }
            assert!(error.contains(&self.dir.display().to_string()) && error.contains(self.setup));
        }
    }

    #[test]
    fn a_swapped_library_is_detected_after_provisioning() {
        let scratch = Scratch::new();
        let wheel = scratch.0.join("onnxruntime-test.whl");
        fake_wheel(&wheel);
        let wheel_sha256 = sha256_of(&wheel);
        let pins = [("onnxruntime-test.whl", wheel_sha256.as_str())];
        let dir = scratch.0.join("cpu-1.31.1");
        let copy = Provisioned {
            dir: &dir,
            pins: &pins,
            setup: "cargo xtask setup",
        };
        provision_and_recheck(&wheel, &wheel_sha256, &copy);
        altered_libraries_are_refused(&copy, &scratch);
        altered_manifests_are_refused(&copy);
    }

    /// Installs `wheel` as `copy`, checks what was recorded, and that an untouched copy
    /// passes its next hand-over.
    fn provision_and_recheck(wheel: &Path, wheel_sha256: &str, copy: &Provisioned) {
        let dir = copy.dir;
        let staging = Staging::new(dir).unwrap();
        let runtime = install(wheel, dir, &staging, &copy.spec()).unwrap();
        drop(staging);
        let library = dir.join(library_name());
        assert_eq!(runtime.library, library);
        assert_eq!(
            runtime.sha256.as_deref(),
            Some(sha256_of(&library).as_str())
        );
        assert_eq!(state(dir), State::Manifest);
        assert_eq!(
            libraries_in(dir),
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
        copy.passes();
    }

    /// Libraries swapped, planted, linked or removed after provisioning are refused by name.
    fn altered_libraries_are_refused(copy: &Provisioned, scratch: &Scratch) {
        let dir = copy.dir;
        let library = dir.join(library_name());
        // A library swapped for other bytes.
        let genuine = fs::read(&library).unwrap();
        fs::write(&library, "a swapped library").unwrap();
        copy.refused(&[&library.display().to_string(), "replaced or altered"]);
        fs::write(&library, &genuine).unwrap();
        copy.passes();

        // The provider library too: ONNX Runtime loads it from the same folder.
        let provider = dir.join("libonnxruntime_providers_shared.so");
        fs::write(&provider, "a swapped provider").unwrap();
        copy.refused(&[&provider.display().to_string(), "replaced or altered"]);
        fs::write(&provider, "not really a provider").unwrap();

        // A library planted beside them.
        let planted = dir.join("libonnxruntime_providers_cuda.so");
        fs::write(&planted, "planted").unwrap();
        copy.refused(&[
            &planted.display().to_string(),
            "not unpacked from the pinned wheel",
        ]);
        fs::remove_file(&planted).unwrap();

        // A link in place of the library, even to identical bytes.
        #[cfg(unix)]
        {
            let link_target = scratch.0.join("copy");
            fs::write(&link_target, &genuine).unwrap();
            fs::remove_file(&library).unwrap();
            std::os::unix::fs::symlink(&link_target, &library).unwrap();
            copy.refused(&[&library.display().to_string(), "not a plain file"]);
            fs::remove_file(&library).unwrap();
            fs::write(&library, &genuine).unwrap();
        }

        // A missing library.
        fs::remove_file(&provider).unwrap();
        copy.refused(&[&provider.display().to_string()]);
        fs::write(&provider, "not really a provider").unwrap();
        copy.passes();
    }

    /// A manifest rewritten to name a wheel that is not pinned, or another package, or
    /// not a manifest at all, is refused.
    fn altered_manifests_are_refused(copy: &Provisioned) {
        let dir = copy.dir;
        let text = fs::read_to_string(dir.join(MANIFEST)).unwrap();
        fs::write(
            dir.join(MANIFEST),
            text.replace("onnxruntime-test.whl", "onnxruntime-other.whl"),
        )
        .unwrap();
        copy.refused(&["onnxruntime-other.whl", "not one xtask pins"]);
        fs::write(dir.join(MANIFEST), &text).unwrap();
        let error = check(
            dir,
            &Spec::onnxruntime("onnxruntime-gpu", copy.pins, copy.setup),
        )
        .unwrap_err();
        assert!(error.contains("not onnxruntime-gpu==1.31.1"), "{error}");
        fs::write(dir.join(MANIFEST), "VERIFIED").unwrap();
        copy.refused(&[MANIFEST]);
        fs::write(dir.join(MANIFEST), &text).unwrap();
        copy.passes();
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
