//! Hardware tests: `#[ignore]`d tests named `hardware_<kind>_…` that only some machines can
//! pass (and that fail, not skip, where the hardware is missing). `cargo xtask test` names
//! those it did not run and what each needs; `cargo xtask test --hardware` runs them.

use std::path::Path;

/// A kind of hardware test: its name prefix and what it needs.
struct Kind {
    prefix: &'static str,
    needs: &'static str,
}

const KINDS: [Kind; 3] = [
    Kind {
        prefix: "hardware_openvino_",
        needs: "an Intel CPU (the OpenVINO plugin offers no device on others)",
    },
    Kind {
        prefix: "hardware_bf16_",
        needs: "an Intel CPU with AMX or AVX-512 BF16 (amx_bf16 or avx512_bf16)",
    },
    Kind {
        prefix: "hardware_cuda_",
        needs: "an NVIDIA GPU with the CUDA 13 and cuDNN 9 libraries (add --gpu)",
    },
];

/// Whether the machine under `root` shows an NVIDIA driver: a device node (also in
/// containers given a GPU), the driver's `/proc` entry, or WSL's GPU device.
pub fn nvidia_gpu_seen(root: &Path) -> bool {
    NVIDIA_SIGNS.iter().any(|sign| root.join(sign).exists())
}

pub const NVIDIA_SIGNS: [&str; 4] = [
    "dev/nvidia0",
    "dev/nvidiactl",
    "proc/driver/nvidia/version",
    "dev/dxg",
];

/// What this machine offers, from `/proc/cpuinfo` and the NVIDIA device node.
pub struct Machine {
    pub vendor: String,
    pub model: String,
    pub flags: String,
    pub gpu: bool,
}

impl Machine {
    pub fn here() -> Machine {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let field = |key: &str| {
            cpuinfo
                .lines()
                .filter_map(|l| l.split_once(':'))
                .find(|(k, _)| k.trim() == key)
                .map(|(_, v)| v.trim().to_string())
                .unwrap_or_default()
        };
        Machine {
            vendor: field("vendor_id"),
            model: field("model name"),
            flags: field("flags"),
            gpu: nvidia_gpu_seen(Path::new("/")),
        }
    }

    fn has_flag(&self, flag: &str) -> bool {
        self.flags.split_whitespace().any(|f| f == flag)
    }

    /// Why this machine cannot pass tests of the kind with `prefix`; `None` when it can.
    fn lacks(&self, prefix: &str) -> Option<String> {
        let cpu = if self.model.is_empty() {
            "this processor".to_string()
        } else {
            self.model.clone()
        };
        let intel = self.vendor == "GenuineIntel";
        match prefix {
            "hardware_openvino_" if !intel => Some(format!("{cpu} is not an Intel CPU")),
            "hardware_bf16_" if !intel => Some(format!("{cpu} is not an Intel CPU")),
            "hardware_bf16_" if !self.has_flag("amx_bf16") && !self.has_flag("avx512_bf16") => {
                Some(format!("{cpu} has neither amx_bf16 nor avx512_bf16"))
            }
            "hardware_cuda_" if !self.gpu => Some("no NVIDIA GPU (no NVIDIA driver: /dev/nvidia0, /dev/nvidiactl, /proc/driver/nvidia)".into()),
            _ => None,
        }
    }
}

/// The hardware tests in the output of `cargo test -- --list --ignored` (`path::name: test`).
pub fn listed(list: &str) -> Vec<String> {
    list.lines()
        .filter_map(|line| line.strip_suffix(": test"))
        .filter(|name| {
            name.rsplit("::")
                .next()
                .is_some_and(|last| last.starts_with("hardware_"))
        })
        .map(str::to_string)
        .collect()
}

/// One line per hardware test that did not run: what it needs and what this machine lacks.
pub fn not_run(names: &[String], machine: &Machine) -> String {
    if names.is_empty() {
        return String::new();
    }
    let mut out = String::from(
        "hardware tests not run (on a machine that has what they need: cargo xtask test --hardware):\n",
    );
    for name in names {
        let last = name.rsplit("::").next().unwrap_or(name);
        let line = match KINDS.iter().find(|k| last.starts_with(k.prefix)) {
            Some(kind) => {
                let here = machine.lacks(kind.prefix).unwrap_or_else(|| {
                    "this machine seems to have it: run them with --hardware".into()
                });
                format!("  {name}: needs {}; {here}\n", kind.needs)
            }
            None => {
                format!("  {name}: needs hardware that xtask/src/hardware.rs does not describe\n")
            }
        };
        out.push_str(&line);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn amd() -> Machine {
        Machine {
            vendor: "AuthenticAMD".into(),
            model: "AMD EPYC 7B13".into(),
            flags: "fpu avx2 avx512f".into(),
            gpu: false,
        }
    }

    #[test]
    fn any_sign_of_an_nvidia_driver_counts_and_none_means_no_gpu() {
        let scratch = crate::scratch::Scratch::new();
        let root = &scratch.0;
        assert!(!nvidia_gpu_seen(root));
        for sign in NVIDIA_SIGNS {
            let path = root.join(sign);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, "").unwrap();
            assert!(nvidia_gpu_seen(root), "{sign}");
            std::fs::remove_file(&path).unwrap();
        }
    }

    #[test]
    fn only_hardware_tests_are_taken_from_the_list() {
        let list = "tests::hardware_cuda_libraries_are_all_found: test\n\
                    hardware_bf16_x: test\n\
                    a_hardware_test_by_another_name: test\n\
                    hardware_openvino_y: benchmark\n\
                    \n\
                    3 tests, 0 benchmarks\n";
        assert_eq!(
            listed(list),
            [
                "tests::hardware_cuda_libraries_are_all_found",
                "hardware_bf16_x"
            ]
        );
    }

    #[test]
    fn each_test_not_run_says_what_it_needs_and_what_is_missing() {
        let names = [
            "hardware_openvino_a",
            "hardware_bf16_b",
            "tests::hardware_cuda_c",
            "hardware_quantum_d",
        ]
        .map(String::from);
        let report = not_run(&names, &amd());
        let lines: Vec<&str> = report.lines().collect();
        assert_eq!(lines.len(), 5, "{report}");
        assert!(lines[0].contains("--hardware"), "{report}");
        assert!(lines[1].contains("hardware_openvino_a: needs an Intel CPU"));
        assert!(lines[1].contains("AMD EPYC 7B13 is not an Intel CPU"));
        assert!(lines[2].contains("hardware_bf16_b: needs an Intel CPU with AMX"));
        assert!(lines[3].contains("tests::hardware_cuda_c: needs an NVIDIA GPU"));
        assert!(lines[3].contains("no NVIDIA driver"));
        assert!(lines[4].contains("does not describe"), "{report}");
        assert!(not_run(&[], &amd()).is_empty());
    }

    #[test]
    fn an_intel_cpu_without_amx_runs_openvino_tests_but_not_bf16() {
        let intel = Machine {
            vendor: "GenuineIntel".into(),
            model: "Intel Xeon".into(),
            flags: "fpu avx2 amx_tile".into(),
            gpu: true,
        };
        assert_eq!(intel.lacks("hardware_openvino_"), None);
        assert_eq!(intel.lacks("hardware_cuda_"), None);
        let why = intel.lacks("hardware_bf16_").unwrap();
        assert!(why.contains("neither amx_bf16 nor avx512_bf16"), "{why}");
        let amx = Machine {
            flags: "fpu amx_bf16".into(),
            ..intel
        };
        assert_eq!(amx.lacks("hardware_bf16_"), None);
    }
}
