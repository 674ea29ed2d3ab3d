//! What a caller asks of its sessions (the execution provider, the precision, the threads)
//! and the provider a session ended up on.

/// Which execution provider the user asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EpChoice {
    /// CUDA when it registers, CPU otherwise; the provider used is always reported.
    #[default]
    Auto,
    Cpu,
    Cuda,
    /// The OpenVINO plugin's CPU device (`Runtime::register_openvino` first).
    #[serde(rename = "openvino")]
    OpenVino,
}

impl std::str::FromStr for EpChoice {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s {
            "auto" => Ok(Self::Auto),
            "cpu" => Ok(Self::Cpu),
            "cuda" => Ok(Self::Cuda),
            "openvino" => Ok(Self::OpenVino),
            other => Err(format!(
                "unknown execution provider `{other}`: use auto, cpu, cuda or openvino"
            )),
        }
    }
}

/// The execution provider a session actually runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Ep {
    Cpu,
    Cuda,
    #[serde(rename = "openvino")]
    OpenVino,
}

impl std::fmt::Display for Ep {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Ep::Cpu => "cpu",
            Ep::Cuda => "cuda",
            Ep::OpenVino => "openvino",
        })
    }
}

/// The arithmetic a session computes in. Only OpenVINO offers bf16 (on processors with
/// AMX or AVX-512 BF16); everything else is fp32.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Precision {
    #[default]
    Fp32,
    Bf16,
}

impl std::str::FromStr for Precision {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s {
            "fp32" => Ok(Self::Fp32),
            "bf16" => Ok(Self::Bf16),
            other => Err(format!("unknown precision `{other}`: use fp32 or bf16")),
        }
    }
}

impl std::fmt::Display for Precision {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Precision::Fp32 => "fp32",
            Precision::Bf16 => "bf16",
        })
    }
}

/// How sessions are made: provider, precision and CPU threads.
#[derive(Debug, Clone, Copy, Default)]
pub struct SessionOptions {
    pub ep: EpChoice,
    /// bf16 only with OpenVINO (`EpChoice::OpenVino`, or `Auto`, which then means OpenVINO).
    pub precision: Precision,
    /// ONNX Runtime intra-op threads; 0 lets ONNX Runtime choose (one per core).
    pub intra_threads: usize,
    /// Run the image encoder through an IoBinding (output allocated once per batch size).
    /// Same embeddings either way; off by default because on the CPU it measured no faster.
    pub io_binding: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ep_choice_parses_and_rejects() {
        assert_eq!("cuda".parse::<EpChoice>(), Ok(EpChoice::Cuda));
        assert!(
            "tpu"
                .parse::<EpChoice>()
                .unwrap_err()
                .contains("auto, cpu, cuda or openvino")
        );
    }
}
