//! An ONNX Runtime that is not one, of the wrong version, or missing is refused before any
//! work, with the command that provisions the right one.

use std::path::Path;
use std::process::Command;

mod common;

/// `embed` with `library` as the ONNX Runtime must fail, and say each of `expected`.
fn refuses_runtime(library: &Path, expected: &[&str]) {
    let model = common::model("clip-tiny-random");
    let args = [
        "embed",
        "--model",
        model.to_str().unwrap(),
        "--text",
        "daisy",
    ];
    let output = common::command(&args)
        .env("ORT_DYLIB_PATH", library)
        .output()
        .unwrap();
    assert!(
        !output.status.success(),
        "{} was accepted",
        library.display()
    );
    let message = common::stderr(&output);
    for e in expected {
        assert!(message.contains(e), "message lacks {e:?}:\n{message}");
    }
}

#[test]
fn a_library_that_is_not_onnx_runtime_is_refused() {
    // Any shared library will do; the test binary's own libc is always there.
    let libc = [
        "/lib/x86_64-linux-gnu/libc.so.6",
        "/usr/lib/x86_64-linux-gnu/libc.so.6",
        "/lib64/libc.so.6",
    ]
    .into_iter()
    .map(Path::new)
    .find(|p| p.exists())
    .expect("a libc to load");
    refuses_runtime(libc, &["OrtGetApiBase", "cargo xtask setup"]);
}

/// A stand-in `libonnxruntime.so` that reports an old version, built with the C compiler.
const OLD_RUNTIME_C: &str = r#"
typedef struct { const void *(*GetApi)(unsigned); const char *(*GetVersionString)(void); } OrtApiBase;
static const void *get_api(unsigned version) { (void)version; return 0; }
static const char *get_version(void) { return "1.20.1"; }
static const OrtApiBase base = { get_api, get_version };
const OrtApiBase *OrtGetApiBase(void) { return &base; }
"#;

#[test]
fn a_runtime_of_the_wrong_version_is_refused() {
    let temp = tempfile::tempdir().unwrap();
    let source = temp.path().join("old.c");
    let library = temp.path().join("libonnxruntime.so.1.20.1");
    std::fs::write(&source, OLD_RUNTIME_C).unwrap();
    let built = Command::new("cc")
        .args(["-shared", "-fPIC", "-o"])
        .arg(&library)
        .arg(&source)
        .status()
        .expect("a C compiler (cc)");
    assert!(built.success());
    refuses_runtime(&library, &["1.20.1", "1.31", "cargo xtask setup"]);
}

#[test]
fn a_missing_runtime_says_how_to_get_one() {
    refuses_runtime(
        Path::new("/nonexistent/libonnxruntime.so"),
        &["no such file", "cargo xtask setup"],
    );
}
