//! `cargo xtask env [--gpu]`: the variables `cargo xtask sweep` hands the `ontosweep` binary,
//! as `export NAME='value'` lines, so that a job script can run `target/release/ontosweep`
//! itself (`exports=$(cargo xtask env)` then `eval "$exports"`).
//!
//! It provisions nothing. Many array tasks may call it at once on a shared checkout, and
//! provisioning from each of them would race: every task downloading the wheel, renaming
//! libraries over each other's while others check them against `MANIFEST.json`. So it asks
//! for `cargo xtask setup` to have run once, and then only re-checks the provisioned copy,
//! which reads files and writes none.

use std::path::Path;

use crate::provision;
use crate::runtime_args::wants_gpu;

pub const USAGE: &str = "usage: cargo xtask env [--gpu]";

pub fn env(args: &[String]) -> Result<(), String> {
    if let Some(other) = args.iter().find(|a| *a != "--gpu") {
        return Err(format!("env: unknown argument `{other}`\n{USAGE}"));
    }
    let gpu = wants_gpu(args);
    if std::env::var_os("ORT_DYLIB_PATH").is_none() {
        require_provisioned(gpu)?;
    }
    let runtime = provision::runtime(gpu)?;
    let library = utf8(&runtime.library)?;
    let mut lines = vec![
        export("ORT_DYLIB_PATH", library),
        export("ONTOSWEEP_HOME", utf8(&provision::workspace_root())?),
    ];
    if let Some(sha256) = &runtime.sha256 {
        // `sha256sum`'s line, as `cargo xtask sweep` sets it: the binary re-checks the library.
        lines.push(export(
            "ONTOSWEEP_ORT_SHA256",
            &format!("{sha256}  {library}"),
        ));
    }
    // The plugin only when `setup --openvino` provisioned it: this provisions nothing.
    if let Some(plugin) = provision::openvino_if_provisioned() {
        let plugin = plugin?;
        lines.push(export("ONTOSWEEP_OPENVINO_PLUGIN", utf8(&plugin.library)?));
        if let Some(sha256) = &plugin.sha256 {
            lines.push(export("ONTOSWEEP_OPENVINO_SHA256", sha256));
        }
    }
    println!("{}", lines.join("\n"));
    Ok(())
}

/// Refuses when `provision::runtime(gpu)` would provision rather than check: the copy it
/// would pick (the CUDA build when asked for or already there, else the CPU build, in
/// `target/onnxruntime/<cpu|gpu>-<version>/`, as `packages.rs` lays them out) must hold
/// its `MANIFEST.json`.
fn require_provisioned(gpu: bool) -> Result<(), String> {
    let base = provision::workspace_root().join("target/onnxruntime");
    let dir = |flavour: &str| base.join(format!("{flavour}-{}", provision::ORT_VERSION));
    let gpu_dir = dir("gpu");
    let gpu_there = gpu_dir.join("MANIFEST.json").exists() || gpu_dir.join("VERIFIED").exists();
    let (chosen, setup) = if gpu || gpu_there {
        (gpu_dir, "cargo xtask setup --gpu")
    } else {
        (dir("cpu"), "cargo xtask setup")
    };
    if chosen.join("MANIFEST.json").is_file() {
        Ok(())
    } else {
        Err(format!(
            "ONNX Runtime is not provisioned in {}: run `{setup}` once first (`cargo xtask env` \
             provisions nothing, so that many jobs can call it at once), or set ORT_DYLIB_PATH",
            chosen.display()
        ))
    }
}

fn utf8(path: &Path) -> Result<&str, String> {
    path.to_str().ok_or_else(|| {
        format!(
            "{} is not valid UTF-8: it cannot be written for a shell",
            path.display()
        )
    })
}

fn export(name: &str, value: &str) -> String {
    format!("export {name}={}", shell_quote(value))
}

/// One word for any POSIX shell, whatever `value` holds.
fn shell_quote(value: &str) -> String {
    format!("'{}'", value.replace('\'', r"'\''"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;

    #[test]
    fn quoted_values_come_back_unchanged_from_a_shell() {
        for value in [
            "",
            "/plain/path",
            "a b",
            "it's",
            "$HOME `id` \"x\" \\ *",
            "line\nbreak",
        ] {
            let line = export("VALUE", value);
            let output = Command::new("sh")
                .arg("-c")
                .arg(format!("{line}\nprintf %s \"$VALUE\""))
                .output()
                .expect("sh");
            assert!(output.status.success(), "{line}");
            assert_eq!(String::from_utf8_lossy(&output.stdout), value, "{line}");
        }
    }

    #[test]
    fn unknown_arguments_are_refused() {
        let error = env(&["--cpu".to_string()]).unwrap_err();
        assert!(
            error.contains("`--cpu`") && error.contains(USAGE),
            "{error}"
        );
    }
}
