//! Project automation (the cargo-xtask pattern): provisions ONNX Runtime, then hands the
//! real work to cargo and the `ontosweep` binary. Deliberately thin and dependency-free so
//! it builds in seconds; no product logic lives here.

mod deploy_check;
mod handover;
mod hardware;
mod install;
mod manifest;
mod packages;
mod pins;
mod provision;
mod python;
mod root;
mod runtime_args;
#[cfg(test)]
mod scratch;
mod shell_env;
mod staging;
mod venv;

use std::env;
use std::path::Path;
use std::process::{Command, ExitCode};

use runtime_args::{wants_gpu, wants_openvino};

const USAGE: &str = "\
usage: cargo xtask <command> [args]

commands:
  setup [--gpu] [--openvino]
                       provision ONNX Runtime (CPU, or the CUDA build with --gpu) and print where it
                       is; --openvino adds the OpenVINO execution-provider plugin (Intel CPUs;
                       `sweep`, `embed` and `throughput` provision it themselves for --ep openvino)
  test [--hardware] [cargo args]
                       provision, then run the whole test suite, then `check-deploy`, then name the
                       hardware tests (`hardware_*`: Intel/AMX for OpenVINO and bf16, an NVIDIA GPU
                       for CUDA) that did not run and what each needs; --hardware runs them too,
                       and they fail where the hardware is missing (CUDA ones also need --gpu)
  sweep FILE.yaml ...  run an experiment (see `cargo xtask sweep --help`)
  suite FILE.yaml ...  run a suite's experiments, then one table across them (`suite --help`)
  tokenize ...         print CLIP token ids (see `cargo xtask tokenize --help`)
  embed ...            print L2-normalised embeddings (see `cargo xtask embed --help`)
  throughput ...       image-encoding speed: raw session vs the sweep pipeline, same images
  peers --model DIR --images DIR [--batch N] [--limit N] [--rounds N] [--arm 'FLAGS']...
                       [--torch-python PYTHON]
                       `throughput` and the Python peer (Pillow + onnxruntime) on the same images,
                       in interleaved rounds (default 3); each --arm adds a `throughput` variant
                       (e.g. --arm '--io-binding', --arm '--model target/int8');
                       --torch-python PYTHON adds PyTorch fp32 and bf16-autocast (a Python with
                       torch and transformers); prints each figure's median and the medians of
                       per-round ratios
  convert --fp16|--int8 --model DIR --out DIR [--recipe fastest|plain|pre-processed]
                       a float16 copy of a model (fp32 inputs and outputs), or an int8 one (ONNX
                       Runtime dynamic quantisation of the vision tower; --recipe fastest, the
                       default, times both recipes here and keeps the faster); OUT must not exist
  quantize --model DIR --out DIR
                       the same as `convert --int8`
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
    let own = [
        "setup",
        "bench",
        "peers",
        "env",
        "check-deploy",
        "convert",
        "quantize",
    ];
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
        "test" => test(rest),
        "bench" => cargo_with_runtime(&["bench", "--workspace"], rest, false),
        "sweep" | "suite" | "tokenize" | "embed" | "throughput" => {
            return run_ontosweep(command, rest, wants_gpu(rest));
        }
        "peers" => peers(rest),
        "env" => shell_env::env(rest),
        "check-deploy" => deploy_check::check(rest),
        "convert" => convert(rest),
        "quantize" => convert(&[&["--int8".to_string()], rest].concat()),
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

fn setup(args: &[String]) -> Result<(), String> {
    let runtime = provision::runtime(wants_gpu(args))?;
    println!("{}", runtime.library.display());
    if wants_openvino(args) {
        println!("{}", provision::openvino()?.library.display());
    }
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
    if gpu && env::var_os("ORT_DYLIB_PATH").is_none() && !hardware::nvidia_gpu_seen(Path::new("/"))
    {
        return fail(no_gpu_here());
    }
    let mut command = match ontosweep_command(gpu, wants_openvino(args)) {
        Ok(command) => command,
        Err(message) => return fail(message),
    };
    command
        .arg(subcommand)
        .args(args.iter().filter(|a| *a != "--gpu"));
    match command.status() {
        Ok(status) => match status.code() {
            Some(code) => ExitCode::from(u8::try_from(code).unwrap_or(1)),
            None => fail(format!("ontosweep was stopped ({status})")),
        },
        Err(e) => fail(format!("could not start ontosweep: {e}")),
    }
}

/// Why `--ep cuda` stops before the CUDA build (hundreds of MB) is downloaded for nothing.
fn no_gpu_here() -> String {
    let signs: Vec<String> = hardware::NVIDIA_SIGNS
        .iter()
        .map(|s| format!("/{s}"))
        .collect();
    format!(
        "--ep cuda: this machine shows no NVIDIA GPU (none of {}), so nothing was downloaded or run. Run on a GPU machine, or choose --ep cpu; `cargo xtask setup --gpu` provisions the CUDA build anyway (e.g. on a login node, for its GPU nodes)",
        signs.join(", ")
    )
}

/// The release binary, built, with the provisioned runtime (and OpenVINO plugin) in its
/// environment.
fn ontosweep_command(gpu: bool, openvino: bool) -> Result<Command, String> {
    let runtime = provision::runtime(gpu)?;
    // Asked for: provisioned now. Otherwise handed over when `setup --openvino` made it, so
    // that an experiment's `precision: bf16` entry finds it (xtask never reads experiments).
    let plugin = if openvino {
        Some(provision::openvino()?)
    } else {
        provision::openvino_if_provisioned().transpose()?
    };
    let cargo = env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let build = Command::new(cargo)
        .args(["build", "--release", "--package", "ontosweep"])
        .current_dir(provision::workspace_root())
        .status();
    match build {
        Ok(status) if status.success() => {}
        Ok(_) => return Err("building ontosweep failed (cargo's messages are above)".into()),
        Err(e) => return Err(format!("could not start cargo: {e}")),
    }
    let target = env::var_os("CARGO_TARGET_DIR")
        .map_or_else(|| provision::workspace_root().join("target"), Into::into);
    let mut command = Command::new(target.join("release").join("ontosweep"));
    with_runtime_env(&mut command, &runtime, plugin.as_ref());
    Ok(command)
}

/// What the binary needs to load the provisioned runtime, and to check it once more; and
/// where the OpenVINO plugin is, when it was provisioned and checked.
fn with_runtime_env(
    command: &mut Command,
    runtime: &provision::Runtime,
    openvino: Option<&provision::Runtime>,
) {
    if let Some(plugin) = openvino {
        command.env("ONTOSWEEP_OPENVINO_PLUGIN", &plugin.library);
        if let Some(sha256) = &plugin.sha256 {
            command.env("ONTOSWEEP_OPENVINO_SHA256", sha256);
        }
    }
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

/// The test suite, doc examples, `check-deploy`; then the hardware tests: run with
/// `--hardware`, otherwise listed with what each needs.
fn test(args: &[String]) -> Result<(), String> {
    let gpu = wants_gpu(args);
    let run_hardware = args.iter().any(|a| a == "--hardware");
    let rest: Vec<String> = args
        .iter()
        .filter(|a| *a != "--hardware")
        .cloned()
        .collect();
    cargo_with_runtime(&["test", "--workspace", "--all-targets"], &rest, gpu)?;
    // Doc examples are not among `--all-targets`: they run as a second step.
    cargo_with_runtime(&["test", "--workspace", "--doc"], &rest, gpu)?;
    // The cluster files are no Rust: linted with their own tools once the tests pass.
    deploy_check::in_tests()?;
    // The ignored tests of the same targets, after the test binary's own `--`.
    let split = rest.iter().position(|a| a == "--").unwrap_or(rest.len());
    let (cargo_args, test_args) = (&rest[..split], rest.get(split + 1..).unwrap_or(&[]));
    let mut ignored: Vec<String> = cargo_args.to_vec();
    ignored.push("--".into());
    ignored.extend(test_args.iter().cloned());
    ignored.push("--ignored".into());
    if run_hardware {
        if test_args.is_empty() {
            ignored.push("hardware_".into());
        }
        return cargo_with_runtime(&["test", "--workspace", "--all-targets"], &ignored, gpu);
    }
    ignored.push("--list".into());
    let mut list = cargo_command(
        &["test", "--quiet", "--workspace", "--all-targets"],
        &ignored,
        gpu,
    )?;
    let output = list
        .output()
        .map_err(|e| format!("could not start cargo: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "listing the hardware tests failed ({}): {}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    let names = hardware::listed(&String::from_utf8_lossy(&output.stdout));
    print!("{}", hardware::not_run(&names, &hardware::Machine::here()));
    Ok(())
}

/// `cargo <cargo_args> <rest>` with the runtime and, where its wheel exists (Linux x86_64),
/// the OpenVINO plugin, so that the tests and benchmarks of both run.
fn cargo_with_runtime(cargo_args: &[&str], rest: &[String], gpu: bool) -> Result<(), String> {
    let status = cargo_command(cargo_args, rest, gpu)?
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

/// `cargo <cargo_args> <rest>` (without xtask's `--gpu`) in the runtime's environment.
fn cargo_command(cargo_args: &[&str], rest: &[String], gpu: bool) -> Result<Command, String> {
    let runtime = provision::runtime(gpu)?;
    let plugin = if cfg!(all(target_os = "linux", target_arch = "x86_64")) {
        Some(provision::openvino()?)
    } else {
        None
    };
    let cargo = env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let rest: Vec<&String> = rest.iter().filter(|a| *a != "--gpu").collect();
    let mut command = Command::new(cargo);
    command.args(cargo_args).args(rest);
    with_runtime_env(&mut command, &runtime, plugin.as_ref());
    Ok(command)
}

/// `throughput` and the Python peer on the same images and model, in interleaved rounds
/// (`scripts/peers/interleave.py` runs them and takes the medians of per-round ratios).
fn peers(args: &[String]) -> Result<(), String> {
    if !args.iter().any(|a| a == "--model") || !args.iter().any(|a| a == "--images") {
        return Err("usage: cargo xtask peers --model DIR --images DIR [--batch N] [--limit N] [--rounds N] [--arm 'THROUGHPUT FLAGS']... [--torch-python PYTHON]".into());
    }
    let openvino = args
        .iter()
        .any(|a| a.contains("openvino") || a.contains("bf16"));
    let ontosweep = ontosweep_command(false, openvino)?;
    let python = python_tools()?;
    let mut script = Command::new(&python);
    script
        .arg(provision::workspace_root().join("scripts/peers/interleave.py"))
        .arg("--ontosweep")
        .arg(ontosweep.get_program());
    // `--arm FLAGS` as `--arm=FLAGS`: argparse would take FLAGS' own `--` for an option.
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        match (arg.as_str(), arg == "--arm") {
            (_, true) => script.arg(format!("--arm={}", rest.next().map_or("", |v| v))),
            (other, false) => script.arg(other),
        };
    }
    for (key, value) in ontosweep.get_envs() {
        if let Some(value) = value {
            script.env(key, value);
        }
    }
    match script.status() {
        Ok(s) if s.success() => Ok(()),
        Ok(_) => Err("the interleaved comparison failed (its message is above)".into()),
        Err(e) => Err(format!("could not start Python: {e}")),
    }
}

/// A venv in `target/tools-venv` with what the Python scripts need (`convert`, `peers`).
fn python_tools() -> Result<std::path::PathBuf, String> {
    let requirements = format!(
        "pillow\nnumpy\nonnx\nsympy\nonnxruntime=={}\n",
        provision::ORT_VERSION
    );
    venv::stamped(
        &provision::workspace_root().join("target/tools-venv"),
        &requirements,
        &[],
        "pillow, numpy, onnx and onnxruntime",
        "pip could not install pillow, numpy, onnx and onnxruntime into target/tools-venv (pip's message above says why; it needs the package index once)",
    )
}

/// `convert --fp16|--int8 --model DIR --out DIR`: a converted copy of a model directory.
fn convert(args: &[String]) -> Result<(), String> {
    let usage = "usage: cargo xtask convert --fp16|--int8 --model DIR --out DIR [--recipe fastest|plain|pre-processed]";
    let value = |flag: &str| args.windows(2).find(|w| w[0] == flag).map(|w| w[1].clone());
    let precision = match (
        args.iter().any(|a| a == "--fp16"),
        args.iter().any(|a| a == "--int8"),
    ) {
        (true, false) => "fp16",
        (false, true) => "int8",
        _ => return Err(format!("{usage} (one of --fp16 and --int8)")),
    };
    let (Some(model), Some(out)) = (value("--model"), value("--out")) else {
        return Err(usage.into());
    };
    let script = provision::workspace_root().join("scripts/convert.py");
    match Command::new(python_tools()?)
        .arg(script)
        .args([precision, &model, &out])
        .args(value("--recipe"))
        .status()
    {
        Ok(s) if s.success() => Ok(()),
        Ok(_) => Err(format!(
            "the {precision} conversion failed (its message is above)"
        )),
        Err(e) => Err(format!("could not start Python: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;
    use std::process::Command;

    use crate::provision::workspace_root;

    /// `scripts/convert.py` refuses an `--out` that exists, whatever it is, before it needs
    /// anything beyond the standard library, and leaves it as it was.
    #[test]
    fn convert_never_writes_into_an_existing_out() {
        let scratch = std::env::temp_dir().join(format!("xtask-convert-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&scratch);
        std::fs::create_dir_all(scratch.join("mine")).unwrap();
        std::fs::write(scratch.join("mine/notes.txt"), "keep me").unwrap();
        std::fs::write(scratch.join("a-file"), "keep me too").unwrap();
        std::os::unix::fs::symlink(scratch.join("elsewhere"), scratch.join("a-link")).unwrap();
        let model = workspace_root().join("models/clip-tiny-random");
        for (precision, out) in [("fp16", "mine"), ("int8", "a-file"), ("fp16", "a-link")] {
            let output = Command::new(std::env::var("PYTHON").unwrap_or_else(|_| "python3".into()))
                .arg(workspace_root().join("scripts/convert.py"))
                .arg(precision)
                .arg(&model)
                .arg(scratch.join(out))
                .output()
                .unwrap();
            assert!(!output.status.success(), "{out}: converted");
            let message = String::from_utf8_lossy(&output.stderr);
            assert!(message.contains("already exists"), "{out}: {message}");
        }
        assert_eq!(
            std::fs::read_to_string(scratch.join("mine/notes.txt")).unwrap(),
            "keep me"
        );
        assert_eq!(
            std::fs::read_to_string(scratch.join("a-file")).unwrap(),
            "keep me too"
        );
        assert!(!Path::new(&scratch.join("elsewhere")).exists());
        let leftovers: Vec<_> = std::fs::read_dir(&scratch)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with(".convert-"))
            .collect();
        assert!(leftovers.is_empty(), "{leftovers:?}");
        std::fs::remove_dir_all(&scratch).unwrap();
    }
}
