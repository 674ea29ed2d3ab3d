//! `--ep openvino` and `--precision` from the command line: the refusals name what is wrong
//! and what to do, and a sweep on OpenVINO keeps its embeddings apart from the CPU's.
//! Whether OpenVINO can run depends on the processor (the plugin serves Intel CPUs;
//! `ONTOSWEEP_TEST_OPENVINO_DEVICE=present|absent` overrides that rule); each case asserts
//! its own behaviour. The success paths are also named hardware tests (`hardware_*`,
//! ignored), run on purpose on Intel (with AMX for bf16) by `cargo xtask test --hardware`,
//! where missing hardware fails them.

mod common;

use common::{command, golden, json, model, stderr, succeeded};

const PLUGIN_VAR: &str = "ONTOSWEEP_OPENVINO_PLUGIN";

fn embed(args: &[&str]) -> std::process::Command {
    let image = golden("preprocess/flower_0.jpg");
    let tiny = model("clip-tiny-random");
    let mut all = vec![
        "embed",
        "--model",
        tiny.to_str().unwrap(),
        "--image",
        image.to_str().unwrap(),
    ];
    all.extend_from_slice(args);
    command(&all)
}

fn refused(mut command: std::process::Command, says: &[&str]) {
    let output = command.output().unwrap();
    assert!(!output.status.success(), "it ran");
    let message = stderr(&output);
    for s in says {
        assert!(message.contains(s), "{message:?} lacks {s:?}");
    }
}

#[test]
fn openvino_without_its_plugin_says_how_to_get_it() {
    let mut command = embed(&["--ep", "openvino"]);
    command.env_remove(PLUGIN_VAR);
    refused(command, &[PLUGIN_VAR, "cargo xtask setup --openvino"]);
}

#[test]
fn a_plugin_that_is_not_there_is_named() {
    let mut command = embed(&["--ep", "openvino"]);
    command.env(PLUGIN_VAR, "/no/such/dir/libplugin.so");
    refused(
        command,
        &["/no/such/dir/libplugin.so", "does not exist", "--ep cpu"],
    );
}

#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
#[test]
fn a_plugin_altered_after_provisioning_is_not_loaded() {
    let mut command = embed(&["--ep", "openvino"]);
    let pin = "0".repeat(64);
    command.env("ONTOSWEEP_OPENVINO_SHA256", &pin);
    refused(command, &["not the pinned", &pin, "was not loaded"]);
}

#[test]
fn bf16_is_refused_where_only_fp32_is_computed() {
    refused(
        embed(&["--ep", "cpu", "--precision", "bf16"]),
        &[
            "--precision",
            "bf16",
            "only by OpenVINO",
            "--precision fp32",
        ],
    );
    refused(
        embed(&["--precision", "fp16"]),
        &["unknown precision `fp16`", "fp32 or bf16"],
    );
}

fn device_expected() -> bool {
    match std::env::var("ONTOSWEEP_TEST_OPENVINO_DEVICE").as_deref() {
        Ok("present") => true,
        Ok("absent") => false,
        _ => std::fs::read_to_string("/proc/cpuinfo")
            .unwrap_or_default()
            .lines()
            .any(|l| l.starts_with("vendor_id") && l.ends_with("GenuineIntel")),
    }
}

/// A CPU sweep into a fresh cache, then the same sweep on OpenVINO; the second's output and
/// a function that sweeps again into the same cache.
#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
fn cpu_then_openvino(
    temp: &std::path::Path,
) -> (std::process::Output, impl Fn(&str) -> std::process::Output) {
    assert!(
        std::env::var_os(PLUGIN_VAR).is_some(),
        "{PLUGIN_VAR} is not set: run the tests with `cargo xtask test`"
    );
    let cache = temp.join("cache");
    let experiment = common::root().join("experiments/flowers-mini.yaml");
    let temp = temp.to_path_buf();
    let sweep = move |out: &str, ep: &str| {
        common::sweep(&experiment, &temp.join(out), &cache, &["--ep", ep])
            .output()
            .unwrap()
    };
    succeeded(sweep("cpu", "cpu"));
    let output = sweep("openvino", "openvino");
    (output, move |out| sweep(out, "openvino"))
}

#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
#[test]
#[ignore = "hardware: needs an Intel CPU, which the OpenVINO plugin serves (cargo xtask test --hardware)"]
fn hardware_openvino_sweep_runs_with_its_own_cache_entries() {
    let temp = tempfile::tempdir().unwrap();
    let (output, again) = cpu_then_openvino(temp.path());
    openvino_sweep_kept_its_own_entries(temp.path(), output, again);
}

#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
#[test]
fn an_openvino_sweep_runs_with_its_own_cache_entries_or_says_why_not() {
    let temp = tempfile::tempdir().unwrap();
    let (output, again) = cpu_then_openvino(temp.path());
    if !device_expected() {
        assert!(!output.status.success(), "OpenVINO ran where it should not");
        let message = stderr(&output);
        for says in [
            "--ep openvino",
            "offers no device for this processor",
            "--ep cpu",
        ] {
            assert!(message.contains(says), "{message:?} lacks {says:?}");
        }
        assert!(
            !temp.path().join("openvino/index.html").exists(),
            "a report was written"
        );
        return;
    }
    openvino_sweep_kept_its_own_entries(temp.path(), output, again);
}

#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
fn openvino_sweep_kept_its_own_entries(
    temp: &std::path::Path,
    output: std::process::Output,
    again: impl Fn(&str) -> std::process::Output,
) {
    succeeded(output);
    let run = json(&temp.join("openvino/run.json"));
    let model = &run["models"][0];
    // The CPU's entries are not OpenVINO's: everything is encoded again, on OpenVINO.
    assert_eq!(model["images_from_cache"], 0, "{model}");
    assert_eq!(model["images_encoded"], 120);
    assert_eq!(model["vision_ep"], "openvino");
    assert_eq!(model["text_ep"], "openvino");
    assert_eq!(run["onnxruntime"]["precision"], "fp32");
    assert!(
        !run["onnxruntime"]["openvino_plugin"]["version"]
            .as_str()
            .unwrap()
            .is_empty()
    );
    // And OpenVINO's entries serve the next OpenVINO run, which says what computed them.
    succeeded(again("again"));
    let again = json(&temp.join("again/run.json"));
    assert_eq!(again["models"][0]["images_from_cache"], 120);
    let origin = again["models"][0]["vision_cached_from"][0]
        .as_str()
        .unwrap();
    assert!(origin.starts_with("openvino fp32 (plugin "), "{origin}");
}

/// The mini experiment with `models` replaced, written into `dir`.
fn experiment_with_models(dir: &std::path::Path, models: &str) -> std::path::PathBuf {
    let source = std::fs::read_to_string(common::root().join("experiments/flowers-mini.yaml"))
        .unwrap()
        .replace(
            "root: data/flowers-mini",
            &format!("root: {:?}", common::mini()),
        )
        .replace("  - clip-tiny-random\n", models);
    let file = dir.join("two-precisions.yaml");
    std::fs::write(&file, source).unwrap();
    file
}

#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
#[test]
fn a_model_listed_at_bf16_is_compared_with_fp32_or_refused_before_any_encoding() {
    let temp = tempfile::tempdir().unwrap();
    let file = experiment_with_models(
        temp.path(),
        "  - clip-tiny-random\n  - {id: clip-tiny-random, precision: bf16}\n",
    );
    let cache = temp.path().join("cache");
    let sweep = |out: &str, extra: &[&str]| {
        common::sweep(&file, &temp.path().join(out), &cache, extra)
            .output()
            .unwrap()
    };
    // The CPU provider computes no bf16: refused at once, naming the file.
    let output = sweep("cpu", &["--ep", "cpu"]);
    assert!(!output.status.success());
    let message = stderr(&output);
    for says in ["two-precisions.yaml", "precision: bf16", "--ep openvino"] {
        assert!(message.contains(says), "{message:?} lacks {says:?}");
    }
    assert!(!temp.path().join("cache").exists(), "something was encoded");

    let output = sweep("auto", &[]);
    let flags = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let bf16_here = device_expected() && ontosweep_clip::bf16_support(&flags).is_ok();
    if !bf16_here {
        assert!(!output.status.success(), "bf16 ran where it cannot");
        let message = stderr(&output);
        assert!(
            message.contains("--ep openvino:") || message.contains("--precision: bf16"),
            "{message}"
        );
        assert!(message.contains("two-precisions.yaml"), "{message}");
        // Refused before the fp32 model was encoded, not after.
        assert!(!temp.path().join("cache").exists(), "something was encoded");
        return;
    }
    bf16_was_compared_with_fp32(temp.path(), output);
}

#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
#[test]
#[ignore = "hardware: needs an Intel CPU with AMX or AVX-512 BF16 (cargo xtask test --hardware)"]
fn hardware_bf16_model_is_compared_with_fp32() {
    let temp = tempfile::tempdir().unwrap();
    let file = experiment_with_models(
        temp.path(),
        "  - clip-tiny-random\n  - {id: clip-tiny-random, precision: bf16}\n",
    );
    let output = common::sweep(
        &file,
        &temp.path().join("auto"),
        &temp.path().join("cache"),
        &[],
    )
    .output()
    .unwrap();
    bf16_was_compared_with_fp32(temp.path(), output);
}

#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
fn bf16_was_compared_with_fp32(temp: &std::path::Path, output: std::process::Output) {
    succeeded(output);
    let rows = common::rows(&temp.join("auto/agreement.csv"));
    assert!(!rows.is_empty());
    for row in rows {
        assert_eq!(row["model"], "clip-tiny-random (bf16)");
        assert_eq!(row["reference"], "clip-tiny-random");
        let agreement: f64 = row["prediction_agreement"].parse().unwrap();
        let cosine: f64 = row["image_cosine_min"].parse().unwrap();
        // Random weights leave near-ties that bf16 may flip: the embeddings must agree
        // closely, the predictions mostly.
        assert!(agreement >= 0.5 && cosine >= 0.99, "{row:?}");
    }
}
