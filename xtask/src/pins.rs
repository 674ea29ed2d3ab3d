//! The ONNX Runtime wheels xtask accepts: file name → sha256 of the whole wheel, for
//! `onnxruntime` and `onnxruntime-gpu` 1.31.1. A wheel whose name is not here, or whose
//! bytes hash to anything else, is refused before a byte of it is unpacked (issue 16).
//!
//! What exists on the index for 1.31.1: CPython 3.11–3.14 and the free-threaded 3.13t/3.14t,
//! manylinux_2_28 x86_64 and aarch64, and (CPU only, not free-threaded) macOS 14 arm64;
//! the CUDA build is manylinux_2_28 x86_64 only. There are no 3.10 wheels for 1.31.1.
//!
//! How the hashes were obtained (pip 23.2, one run per package, Python version and platform;
//! the report's `download_info.archive_info.hashes.sha256` is the index's hash):
//!
//! ```sh
//! python3 -m pip install --dry-run --quiet --no-deps --only-binary=:all: \
//!     --platform manylinux_2_28_x86_64 --python-version 3.12 --implementation cp \
//!     [--abi cp314t] --ignore-installed --target /tmp/nothere --report report.json \
//!     onnxruntime==1.31.1
//! ```
//!
//! and, for every CPU wheel, confirmed on the downloaded bytes:
//!
//! ```sh
//! python3 -m pip download --no-deps --only-binary=:all: --platform manylinux_2_28_x86_64 \
//!     --python-version 3.12 --implementation cp -d /tmp/wheels onnxruntime==1.31.1
//! sha256sum /tmp/wheels/*.whl
//! ```
//!
//! (the CUDA wheels, about 200 MB each, from the report only). To support another wheel,
//! add its name and sha256 here after checking them the same way.

/// `onnxruntime` 1.31.1.
pub const CPU_WHEELS: &[(&str, &str)] = &[
    (
        "onnxruntime-1.31.1-cp311-cp311-macosx_14_0_arm64.whl",
        "60b6b69bfe580eab576cacc5d132a0e9cf2a37fcfd18d46dd191042b1d1ed0d7",
    ),
    (
        "onnxruntime-1.31.1-cp311-cp311-manylinux_2_28_aarch64.whl",
        "da05378364c44d4407e463982d2bf8d5e4cfea873283757e48beeb41df97b7f3",
    ),
    (
        "onnxruntime-1.31.1-cp311-cp311-manylinux_2_28_x86_64.whl",
        "5752bd508126ae7c49894d3b9d2e83f0c3d487319246d04c444b393308d7ad7f",
    ),
    (
        "onnxruntime-1.31.1-cp312-cp312-macosx_14_0_arm64.whl",
        "96dd2564b10ea7153ad9c207e7cd8e5917cb3ba521e0e0a62ac03486fdc8d56c",
    ),
    (
        "onnxruntime-1.31.1-cp312-cp312-manylinux_2_28_aarch64.whl",
        "0b9a492176886992e0e875f06bc0367e333f5fff11711a2d642e18b02f3009cc",
    ),
    (
        "onnxruntime-1.31.1-cp312-cp312-manylinux_2_28_x86_64.whl",
        "1f3dea47f2f0e5117c2404cea7d21fd253ae7836a3bf167a501cdfbb2600d536",
    ),
    (
        "onnxruntime-1.31.1-cp313-cp313-macosx_14_0_arm64.whl",
        "e4ad067d36e2220218e085d7223283b2ee1bc73d887e811fd14d21cf901a11ee",
    ),
    (
        "onnxruntime-1.31.1-cp313-cp313-manylinux_2_28_aarch64.whl",
        "dcaedc50333876f3829ab966b242147f0e548229e29c36fe44622ecf748c25ee",
    ),
    (
        "onnxruntime-1.31.1-cp313-cp313-manylinux_2_28_x86_64.whl",
        "74a6a52994616c4d18b33db1e13c226333a70a6ba07480a5cab9c2a50dff1430",
    ),
    (
        "onnxruntime-1.31.1-cp313-cp313t-manylinux_2_28_aarch64.whl",
        "ae0987aedb9ae589f3395615c58b22aad2eae6657b14508cec70c24b367cfad1",
    ),
    (
        "onnxruntime-1.31.1-cp313-cp313t-manylinux_2_28_x86_64.whl",
        "6711108bcddf8b401145fb31ac93776b8ca6e7e7e56acdfa9d478575b8df9a2f",
    ),
    (
        "onnxruntime-1.31.1-cp314-cp314-macosx_14_0_arm64.whl",
        "8536ac43682caa7492c46d6cfd4c3c8db288dcf0619508431a22170b670ee1d0",
    ),
    (
        "onnxruntime-1.31.1-cp314-cp314-manylinux_2_28_aarch64.whl",
        "c878686b75cade1ed59131aa018ab004b1e64368b0d54041912450b9642cf04f",
    ),
    (
        "onnxruntime-1.31.1-cp314-cp314-manylinux_2_28_x86_64.whl",
        "c20d7f15d84427db070b163f78c2c7146cc93edd6113fa7327671259a24184fe",
    ),
    (
        "onnxruntime-1.31.1-cp314-cp314t-manylinux_2_28_aarch64.whl",
        "564d7b83fb3e94fb3d18629c6b339e9bce10966dd29a8442c433175aac3d60fd",
    ),
    (
        "onnxruntime-1.31.1-cp314-cp314t-manylinux_2_28_x86_64.whl",
        "4d5f5fcc01f0c334d282a8991eab44e7752ad01c47b336d848ba43eb38084958",
    ),
];

/// `onnxruntime-gpu` 1.31.1 (CUDA 13 build).
pub const GPU_WHEELS: &[(&str, &str)] = &[
    (
        "onnxruntime_gpu-1.31.1-cp311-cp311-manylinux_2_28_x86_64.whl",
        "e26c475fe361b2015f45b4b824bd13f0bb20204e59b62814e6f0acd5f3d491a6",
    ),
    (
        "onnxruntime_gpu-1.31.1-cp312-cp312-manylinux_2_28_x86_64.whl",
        "05d548956197b9d01f59b625de740e0d6be3593f874e241a12dc0362650ecdf7",
    ),
    (
        "onnxruntime_gpu-1.31.1-cp313-cp313-manylinux_2_28_x86_64.whl",
        "f659529e07c21ec6b6179fd1bfaf82ffb7c3dc9c0916e18f6f313f9a690891be",
    ),
    (
        "onnxruntime_gpu-1.31.1-cp313-cp313t-manylinux_2_28_x86_64.whl",
        "856e974257474d7226e6e1d8658a5c0258983d9ade14a6c410fa41b9c1360c06",
    ),
    (
        "onnxruntime_gpu-1.31.1-cp314-cp314-manylinux_2_28_x86_64.whl",
        "52a9ec263f331678e8fcb4f71a6fa44e5f901f0aac0b61fbe5a61517f2b4cc7d",
    ),
    (
        "onnxruntime_gpu-1.31.1-cp314-cp314t-manylinux_2_28_x86_64.whl",
        "bfe1bb15168f7dcc76e970eff8f07615adb87a128d53bc9f00d8def2c3dbf1b6",
    ),
];

/// `onnxruntime-ep-openvino` 1.8.1, the OpenVINO execution-provider plugin for ONNX Runtime
/// 1.31 (tagged `py3-none`: one wheel for every CPython 3, Linux x86_64 with glibc 2.28+). Checked on the downloaded bytes:
/// `python3 -m pip download --no-deps onnxruntime-ep-openvino==1.8.1 -d /tmp/wheels` then
/// `sha256sum` (52,587,628 bytes).
pub const OPENVINO_WHEELS: &[(&str, &str)] = &[(
    "onnxruntime_ep_openvino-1.8.1-py3-none-manylinux_2_28_x86_64.whl",
    "3832643158c8c187fcab6db661cde2a8c06a2b3559d95d0f2411ac0e51c5e924",
)];
