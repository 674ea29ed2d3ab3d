//! Project automation (the cargo-xtask pattern): provisions ONNX Runtime, then hands the
//! real work to cargo and the `ontosweep` binary. Deliberately thin and dependency-free so
//! it builds in seconds; no product logic lives here.

mod deploy_check;
mod manifest;
mod pins;
mod provision;
mod shell_env;

use std::env;
use std::process::{Command, ExitCode};

const USAGE: &str = "\
usage: cargo xtask <command> [args]

commands:
  setup [--gpu]        provision ONNX Runtime (CPU, or the CUDA build with --gpu) and print where it is
  test [cargo args]    provision, then run the whole test suite, then `check-deploy`
  sweep FILE.yaml ...  run an experiment (see `cargo xtask sweep --help`)
  tokenize ...         print CLIP token ids (see `cargo xtask tokenize --help`)
  embed ...            print L2-normalised embeddings (see `cargo xtask embed --help`)
  throughput ...       image-encoding speed: raw session vs the sweep pipeline, same images
  peers --model DIR --images DIR [--batch N] [--limit N]
                       `throughput`, then the Python peer (Pillow + onnxruntime) on the same images
  quantize --model DIR --out DIR
                       an int8 copy of a model (ONNX Runtime dynamic quantisation of the vision tower)
  bench [args]         provision, then run the criterion benchmarks
  env [--gpu]          print `export` lines for running target/release/ontosweep directly
                       (ORT_DYLIB_PATH, ONTOSWEEP_HOME, ONTOSWEEP_ORT_SHA256); provisions nothing:
                       run `setup` first. For job scripts: exports=$(cargo xtask env); eval \"$exports\"
  check-deploy         ShellCheck on deploy/**/*.sh and *.sbatch, kubernetes-validate on
                       deploy/k8s/*.yaml (tools pinned by sha256 into target/deploy-check/)

ORT_DYLIB_PATH, when set, names the libonnxruntime.so to use instead of the provisioned one
(unchecked). A provisioned runtime comes only from a wheel pinned by sha256 in
xtask/src/pins.rs, and its libraries are re-checked against target/onnxruntime/*/MANIFEST.json
each time; the `ontosweep` binary gets ONTOSWEEP_ORT_SHA256 to check the library once more.";

fn main() -> ExitCode {
    let args: Vec<String> = env::args().skip(1).collect();
    let Some((command, rest)) = args.split_first() else {
        eprintln!("{USAGE}");
        return ExitCode::from(2);
    };
    // The commands xtask runs itself answer `--help` with their own line of the usage.
    let own = ["setup", "bench", "peers", "env", "check-deploy", "quantize"];
    if own.contains(&command.as_str()) && rest.iter().any(|a| a == "--help" || a == "-h") {
        let mut lines = USAGE
            .lines()
            .skip_while(|l| !l.trim_start().starts_with(command.as_str()));
        if let Some(first) = lines.next() {
            println!("usage: cargo xtask {}", first.trim());
            for line in lines.take_while(|l| l.starts_with("                 ")) {
                println!("  {}", line.trim());
            }
        }
        return ExitCode::SUCCESS;
    }
    let result = match command.as_str() {
        "setup" => setup(rest),
        // Doc examples are not among `--all-targets`: they run as a second step.
        "test" => cargo_with_runtime(
            &["test", "--workspace", "--all-targets"],
            rest,
            wants_gpu(rest),
        )
        .and_then(|()| cargo_with_runtime(&["test", "--workspace", "--doc"], rest, wants_gpu(rest)))
        // The cluster files are no Rust: linted with their own tools once the tests pass.
        .and_then(|()| deploy_check::in_tests()),
        "bench" => cargo_with_runtime(&["bench", "--workspace"], rest, false),
        "sweep" | "tokenize" | "embed" | "throughput" => {
            return run_ontosweep(command, rest, wants_gpu(rest));
        }
        "peers" => peers(rest),
        "env" => shell_env::env(rest),
        "check-deploy" => deploy_check::check(rest),
        "quantize" => quantize(rest),
        "-h" | "--help" | "help" => {
            println!("{USAGE}");
            Ok(())
        }
        other => Err(format!("unknown command `{other}`\n\n{USAGE}")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

/// `--ep cuda` (or `--gpu`) needs the CUDA build of ONNX Runtime.
fn wants_gpu(args: &[String]) -> bool {
    args.iter().any(|a| a == "--gpu" || a == "--ep=cuda")
        || args.windows(2).any(|w| w[0] == "--ep" && w[1] == "cuda")
}

fn setup(args: &[String]) -> Result<(), String> {
    let runtime = provision::runtime(wants_gpu(args))?;
    println!("{}", runtime.library.display());
    Ok(())
}

/// Builds the release binary (cargo's progress shows: the first build takes minutes), then
/// runs `ontosweep <subcommand> <args>` with ONNX Runtime. The binary prints its own errors;
/// its exit status is passed on without another word.
fn run_ontosweep(subcommand: &str, args: &[String], gpu: bool) -> ExitCode {
    let fail = |message: String| {
        eprintln!("error: {message}");
        ExitCode::FAILURE
    };
    let runtime = match provision::runtime(gpu) {
        Ok(runtime) => runtime,
        Err(message) => return fail(message),
    };
    let cargo = env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let build = Command::new(cargo)
        .args(["build", "--release", "--package", "ontosweep"])
        .current_dir(provision::workspace_root())
        .status();
    match build {
        Ok(status) if status.success() => {}
        Ok(_) => return fail("building ontosweep failed (cargo's messages are above)".into()),
        Err(e) => return fail(format!("could not start cargo: {e}")),
    }
    let target = env::var_os("CARGO_TARGET_DIR")
        .map_or_else(|| provision::workspace_root().join("target"), Into::into);
    let mut command = Command::new(target.join("release").join("ontosweep"));
    command
        .arg(subcommand)
        .args(args.iter().filter(|a| *a != "--gpu"));
    with_runtime_env(&mut command, &runtime);
    match command.status() {
        Ok(status) => match status.code() {
            Some(code) => ExitCode::from(u8::try_from(code).unwrap_or(1)),
            None => fail(format!("ontosweep was stopped ({status})")),
        },
        Err(e) => fail(format!("could not start ontosweep: {e}")),
    }
}

/// What the binary needs to load the provisioned runtime, and to check it once more.
fn with_runtime_env(command: &mut Command, runtime: &provision::Runtime) {
    command
        .env("ORT_DYLIB_PATH", &runtime.library)
        .env("ONTOSWEEP_HOME", provision::workspace_root());
    if let Some(sha256) = &runtime.sha256 {
        // `sha256sum`'s line: the binary re-checks this library against it before loading.
        let mut pin = std::ffi::OsString::from(format!("{sha256}  "));
        pin.push(&runtime.library);
        command.env("ONTOSWEEP_ORT_SHA256", pin);
    }
}

fn cargo_with_runtime(cargo_args: &[&str], rest: &[String], gpu: bool) -> Result<(), String> {
    let runtime = provision::runtime(gpu)?;
    let cargo = env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let rest: Vec<&String> = rest.iter().filter(|a| *a != "--gpu").collect();
    let mut command = Command::new(cargo);
    command.args(cargo_args).args(rest);
    with_runtime_env(&mut command, &runtime);
    let status = command
        .status()
        .map_err(|e| format!("could not start cargo: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!(
            "`cargo {}` failed ({status})",
            cargo_args.join(" ")
        ))
    }
}

/// `throughput` and the Python peers on the same images and model, one after the other.
fn peers(args: &[String]) -> Result<(), String> {
    let value = |flag: &str| args.windows(2).find(|w| w[0] == flag).map(|w| w[1].clone());
    let (model, images) = match (value("--model"), value("--images")) {
        (Some(m), Some(i)) => (m, i),
        _ => {
            return Err(
                "usage: cargo xtask peers --model DIR --images DIR [--batch N] [--limit N]".into(),
            );
        }
    };
    let batch = value("--batch").unwrap_or_else(|| "32".into());
    let limit = value("--limit");
    let mut ours = vec![
        "--model".to_string(),
        model.clone(),
        "--images".into(),
        images.clone(),
        "--batch".into(),
        batch.clone(),
    ];
    if let Some(limit) = &limit {
        ours.extend(["--limit".into(), limit.clone()]);
    }
    if run_ontosweep("throughput", &ours, false) != ExitCode::SUCCESS {
        return Err("`throughput` failed (its message is above)".into());
    }
    let root = provision::workspace_root();
    let python = python_tools()?;
    let mut script = Command::new(&python);
    script
        .arg(root.join("scripts/peers/pillow_onnxruntime.py"))
        .args([&model, &images, &batch]);
    if let Some(limit) = &limit {
        script.arg(limit);
    }
    match script.status() {
        Ok(s) if s.success() => Ok(()),
        other => Err(format!("the Pillow + onnxruntime peer failed ({other:?})")),
    }
}

/// A venv in `target/` with what the Python scripts need (made once).
fn python_tools() -> Result<std::path::PathBuf, String> {
    let venv = provision::workspace_root().join("target/tools-venv");
    let python = venv.join("bin/python");
    if python.is_file() {
        return Ok(python);
    }
    let status = Command::new(std::env::var("PYTHON").unwrap_or_else(|_| "python3".into()))
        .args(["-m", "venv"])
        .arg(&venv)
        .status();
    if !status.is_ok_and(|s| s.success()) {
        return Err(format!(
            "could not create a Python venv at {}",
            venv.display()
        ));
    }
    let packages = [
        "pillow",
        "numpy",
        "onnx",
        "sympy",
        &format!("onnxruntime=={}", provision::ORT_VERSION),
    ];
    let status = Command::new(&python)
        .args(["-m", "pip", "install", "--quiet"])
        .args(packages)
        .status();
    if !status.is_ok_and(|s| s.success()) {
        let _ = std::fs::remove_dir_all(&venv);
        return Err(
            "pip could not install pillow, numpy, onnx and onnxruntime into target/tools-venv"
                .into(),
        );
    }
    Ok(python)
}

/// `quantize --model DIR --out DIR`: an int8 copy of a model directory.
fn quantize(args: &[String]) -> Result<(), String> {
    let value = |flag: &str| args.windows(2).find(|w| w[0] == flag).map(|w| w[1].clone());
    let (Some(model), Some(out)) = (value("--model"), value("--out")) else {
        return Err("usage: cargo xtask quantize --model DIR --out DIR".into());
    };
    let script = provision::workspace_root().join("scripts/quantize.py");
    match Command::new(python_tools()?)
        .arg(script)
        .args([&model, &out])
        .status()
    {
        Ok(s) if s.success() => Ok(()),
        other => Err(format!("quantisation failed ({other:?})")),
    }
}
