//! What the arguments passed on to ontosweep ask of the runtime: the CUDA build, or OpenVINO.

/// `--ep cuda` (or `--gpu`) needs the CUDA build of ONNX Runtime.
pub(crate) fn wants_gpu(args: &[String]) -> bool {
    args.iter().any(|a| a == "--gpu" || a == "--ep=cuda")
        || args.windows(2).any(|w| w[0] == "--ep" && w[1] == "cuda")
}

/// Whether the arguments ask for OpenVINO: by name, or by bf16, which only it computes.
pub(crate) fn wants_openvino(args: &[String]) -> bool {
    args.iter()
        .any(|a| a == "--openvino" || a == "--ep=openvino" || a == "--precision=bf16")
        || args.windows(2).any(|w| {
            (w[0] == "--ep" && w[1] == "openvino") || (w[0] == "--precision" && w[1] == "bf16")
        })
}
