//! The OpenVINO execution provider through the plugin `cargo xtask test` provisions
//! (`ONTOSWEEP_OPENVINO_PLUGIN`). What to expect depends on the processor, and each case
//! asserts its own behaviour: on Intel CPUs the plugin offers a CPU device and must agree
//! with ONNX Runtime's CPU kernels; elsewhere it offers none and must say so. bf16 must be
//! refused unless the processor computes it (AMX or AVX-512 BF16), and differ from fp32
//! where it does. `ONTOSWEEP_TEST_OPENVINO_DEVICE=present|absent` overrides the vendor
//! rule (a developer's plugin build for other CPUs).
//!
//! The success paths are also named hardware tests (`hardware_*`, ignored): run on purpose on
//! an Intel machine (with AMX for bf16) by `cargo xtask test --hardware`, they fail where the
//! hardware is missing instead of checking the refusal.
#![cfg(all(target_os = "linux", target_arch = "x86_64"))]

mod common;

use std::path::PathBuf;

use common::{cosine, golden, runtime, tiny_model};
use ontosweep_clip::{
    Ep, EpChoice, Error, ImageEncoder, IoNames, Precision, SessionOptions, bf16_support,
};

fn plugin() -> PathBuf {
    std::env::var_os("ONTOSWEEP_OPENVINO_PLUGIN")
        .map(PathBuf::from)
        .expect("ONTOSWEEP_OPENVINO_PLUGIN is not set: run the tests with `cargo xtask test`, which provisions the OpenVINO plugin")
}

fn cpuinfo_line(key: &str) -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .unwrap()
        .lines()
        .find(|l| l.starts_with(key))
        .and_then(|l| l.split_once(':'))
        .map(|(_, v)| v.trim().to_string())
        .unwrap_or_default()
}

/// Whether the plugin should offer a CPU device here: its builds serve Intel CPUs.
fn device_expected() -> bool {
    match std::env::var("ONTOSWEEP_TEST_OPENVINO_DEVICE").as_deref() {
        Ok("present") => true,
        Ok("absent") => false,
        _ => cpuinfo_line("vendor_id") == "GenuineIntel",
    }
}

fn encoder(ep: EpChoice, precision: Precision) -> Result<ImageEncoder, Error> {
    let runtime = runtime();
    let registered = runtime.register_openvino(&plugin()).unwrap();
    assert_eq!(registered.library, plugin());
    let options = SessionOptions {
        ep,
        precision,
        ..SessionOptions::default()
    };
    ImageEncoder::new(runtime, &tiny_model(), &IoNames::default(), options)
}

fn golden_batch(encoder: &ImageEncoder) -> Vec<f32> {
    ["flower_0.jpg", "cmyk.jpg", "alpha.png", "exact224.png"]
        .iter()
        .flat_map(|f| {
            encoder
                .preprocessing()
                .load(&golden(&format!("preprocess/{f}")))
                .unwrap()
        })
        .collect()
}

fn cpu_embeddings() -> Vec<Vec<f32>> {
    let mut cpu = encoder(EpChoice::Cpu, Precision::Fp32).unwrap();
    let batch = golden_batch(&cpu);
    cpu.encode_batch(batch).unwrap()
}

/// fp32 kernels on an AMX Xeon differ by ~1e-7 (measured 0.9999999): [`FP32_AGREEMENT`]
/// would catch bf16 computed behind an fp32 request there. On a Xeon with AVX-512 FP16/BF16
/// but no AMX flag (2026-12-02) the lowest was 0.9999862, an open question for the OpenVINO
/// issue: the test that runs everywhere asks [`FP32_CLOSE`], the hardware test the tight bound.
const FP32_AGREEMENT: f64 = 0.99999;
const FP32_CLOSE: f64 = 0.9999;

fn agrees_with_the_cpu_kernels(openvino: &mut ImageEncoder, at_least: f64) {
    assert_eq!(openvino.ep(), Ep::OpenVino);
    let batch = golden_batch(openvino);
    let ours = openvino.encode_batch(batch).unwrap();
    for (i, (a, b)) in ours.iter().zip(cpu_embeddings()).enumerate() {
        let c = cosine(a, &b);
        assert!(c >= at_least, "image {i}: OpenVINO fp32 vs CPU cosine {c}");
    }
}

/// bf16 against OpenVINO's own fp32: an ignored hint would give its numbers exactly.
fn bf16_differs_from_fp32_but_stays_close(bf16: &mut ImageEncoder) {
    let batch = golden_batch(bf16);
    let ours = bf16.encode_batch(batch.clone()).unwrap();
    let mut openvino_fp32 = encoder(EpChoice::OpenVino, Precision::Fp32).unwrap();
    let fp32 = openvino_fp32.encode_batch(batch).unwrap();
    assert_ne!(ours, fp32, "bf16 gave OpenVINO fp32's numbers exactly");
    for (i, (a, b)) in ours.iter().zip(fp32).enumerate() {
        let c = cosine(a, &b);
        assert!(c >= 0.99, "image {i}: bf16 vs fp32 cosine {c}");
    }
}

#[test]
#[ignore = "hardware: needs an Intel CPU, which the OpenVINO plugin serves (cargo xtask test --hardware)"]
fn hardware_openvino_agrees_with_the_cpu_kernels() {
    let mut openvino = encoder(EpChoice::OpenVino, Precision::Fp32).unwrap_or_else(|error| {
        panic!(
            "OpenVINO does not run on {}: {error}",
            cpuinfo_line("model name")
        )
    });
    agrees_with_the_cpu_kernels(&mut openvino, FP32_AGREEMENT);
}

#[test]
#[ignore = "hardware: needs an Intel CPU with AMX or AVX-512 BF16 (cargo xtask test --hardware)"]
fn hardware_bf16_differs_from_fp32_but_stays_close() {
    let mut bf16 = encoder(EpChoice::OpenVino, Precision::Bf16).unwrap_or_else(|error| {
        panic!(
            "bf16 does not run on {}: {error}",
            cpuinfo_line("model name")
        )
    });
    bf16_differs_from_fp32_but_stays_close(&mut bf16);
}

#[test]
fn openvino_agrees_with_the_cpu_kernels_or_says_why_it_cannot_run() {
    match encoder(EpChoice::OpenVino, Precision::Fp32) {
        Ok(mut openvino) => {
            assert!(
                device_expected(),
                "OpenVINO ran on {}, which its plugin was not expected to serve",
                cpuinfo_line("model name")
            );
            agrees_with_the_cpu_kernels(&mut openvino, FP32_CLOSE);
        }
        Err(error) => {
            assert!(
                !device_expected(),
                "OpenVINO failed where it should run: {error}"
            );
            let message = error.to_string();
            for says in [
                "OpenVINO",
                "offers no device for this processor",
                cpuinfo_line("model name").as_str(),
                plugin().to_str().unwrap(),
            ] {
                assert!(message.contains(says), "{message:?} lacks {says:?}");
            }
            assert!(matches!(error, Error::OpenVino { .. }), "{error:?}");
        }
    }
}

#[test]
fn bf16_is_refused_unless_it_is_computed_and_then_it_changes_the_numbers() {
    let refused = encoder(EpChoice::Cpu, Precision::Bf16).err().unwrap();
    assert!(matches!(refused, Error::Precision { .. }), "{refused:?}");
    assert!(
        refused.to_string().contains("only by OpenVINO"),
        "{refused}"
    );

    let flags = cpuinfo_line("flags");
    match (
        bf16_support(&flags),
        encoder(EpChoice::OpenVino, Precision::Bf16),
    ) {
        (Err(_), Err(error)) => {
            assert!(matches!(error, Error::Precision { .. }), "{error:?}");
            assert!(error.to_string().contains("amx_bf16"), "{error}");
        }
        (Err(_), Ok(_)) => panic!("bf16 was accepted on a processor without bf16 arithmetic"),
        (Ok(()), Err(error)) => {
            assert!(
                !device_expected(),
                "bf16 failed where it should run: {error}"
            );
            assert!(matches!(error, Error::OpenVino { .. }), "{error:?}");
        }
        (Ok(()), Ok(mut bf16)) => bf16_differs_from_fp32_but_stays_close(&mut bf16),
    }
}
