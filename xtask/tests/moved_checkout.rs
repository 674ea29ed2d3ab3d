//! A copied or moved checkout is its own: xtask, compiled in another folder, must find the
//! checkout it runs in (cargo does not rebuild xtask when a workspace moves).

use std::path::Path;
use std::process::Command;

fn checkout(at: &Path) {
    std::fs::create_dir_all(at.join("xtask/src")).unwrap();
    std::fs::write(
        at.join("Cargo.toml"),
        "[workspace]\nmembers = [\"xtask\"]\n",
    )
    .unwrap();
    std::fs::write(at.join("xtask/Cargo.toml"), "[package]\nname = \"xtask\"\n").unwrap();
}

/// `xtask env` run as `cargo xtask env` runs it in `root` (cargo tells the binary its
/// package folder), or run directly from `current`.
fn env_in(current: &Path, manifest_dir: Option<&Path>, library: &Path) -> std::process::Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_xtask"));
    command
        .arg("env")
        .current_dir(current)
        .env("ORT_DYLIB_PATH", library)
        .env_remove("CARGO_MANIFEST_DIR");
    if let Some(dir) = manifest_dir {
        command.env("CARGO_MANIFEST_DIR", dir);
    }
    command.output().expect("xtask runs")
}

#[test]
fn a_copied_checkout_prints_its_own_folder() {
    let scratch = std::env::temp_dir().join(format!("xtask-moved-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&scratch);
    let copy = scratch.join("copy of ontosweep");
    checkout(&copy);
    let library = copy.join("libonnxruntime.so");
    std::fs::write(&library, b"stand-in").unwrap();
    let compiled_in = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let expected = format!("export ONTOSWEEP_HOME='{}'", copy.display());
    for (current, manifest_dir) in [
        (copy.clone(), Some(copy.join("xtask"))),
        (copy.join("xtask/src"), None),
    ] {
        let output = env_in(&current, manifest_dir.as_deref(), &library);
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        assert!(stdout.lines().any(|l| l == expected), "{stdout}");
        assert!(
            !stdout.contains(&compiled_in.display().to_string()),
            "the folder xtask was compiled in leaked: {stdout}"
        );
    }
    // Outside any checkout it says so rather than guessing.
    let outside = scratch.join("elsewhere");
    std::fs::create_dir_all(&outside).unwrap();
    let output = env_in(&outside, None, &library);
    assert!(!output.status.success());
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("cannot tell which ontosweep checkout"),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    std::fs::remove_dir_all(&scratch).unwrap();
}

/// `--ep cuda` on a machine without a GPU stops before the CUDA build is downloaded.
/// (On a GPU machine there is nothing to refuse, and this test would download it.)
#[test]
fn cuda_without_a_gpu_is_refused_before_anything_is_downloaded() {
    let signs = [
        "/dev/nvidia0",
        "/dev/nvidiactl",
        "/proc/driver/nvidia/version",
        "/dev/dxg",
    ];
    if signs.iter().any(|s| Path::new(s).exists()) {
        eprintln!("this machine has an NVIDIA GPU: nothing to refuse");
        return;
    }
    let scratch = std::env::temp_dir().join(format!("xtask-cuda-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&scratch);
    checkout(&scratch);
    for args in [
        &["sweep", "x.yaml", "--ep", "cuda"][..],
        &["embed", "--ep=cuda", "x"],
        &["throughput", "--gpu"],
    ] {
        let output = Command::new(env!("CARGO_BIN_EXE_xtask"))
            .args(args)
            .current_dir(&scratch)
            .env_remove("ORT_DYLIB_PATH")
            .env_remove("CARGO_MANIFEST_DIR")
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{args:?}");
        assert!(
            stderr.contains("shows no NVIDIA GPU") && stderr.contains("--ep cpu"),
            "{args:?}: {stderr}"
        );
        assert!(!scratch.join("target").exists(), "{args:?}: provisioned");
    }
    std::fs::remove_dir_all(&scratch).unwrap();
}
