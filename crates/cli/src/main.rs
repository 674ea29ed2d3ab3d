//! `ontosweep`: tokenize, embed and sweep from the command line. `cargo xtask` provisions
//! ONNX Runtime and calls this binary; it owns argument parsing and terminal output only.

mod dry_run;
mod embed;
mod hints;
mod interrupt;
mod progress;
mod searches;
mod session_args;
mod suite;
mod sweep;
mod table;
mod throughput;

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};
use ontosweep_clip::{EXPECTED_ORT, Runtime};

#[derive(Parser)]
#[command(
    name = "ontosweep",
    version,
    about = "How the wording of class prompts changes CLIP's zero-shot accuracy"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run an experiment file and write its report.
    Sweep(sweep::SweepArgs),
    /// Run several experiment files, then one table across their datasets and models.
    Suite(suite::SuiteArgs),
    /// Print CLIP token ids, one JSON line per text.
    Tokenize(embed::TokenizeArgs),
    /// Print L2-normalised embeddings, one JSON line per input.
    Embed(embed::EmbedArgs),
    /// Measure image-encoding throughput: raw session vs the sweep pipeline.
    Throughput(throughput::ThroughputArgs),
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("ONTOSWEEP_LOG")
                .unwrap_or_else(|_| "warn,ort=error".into()),
        )
        .with_writer(std::io::stderr)
        .with_ansi(colour_wanted(
            std::io::stderr().is_terminal(),
            std::env::var_os("NO_COLOR"),
        ))
        .init();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Sweep(args) => sweep::sweep_command(args),
        Command::Suite(args) => suite::suite_command(args),
        Command::Tokenize(args) => embed::tokenize(args),
        Command::Embed(args) => embed::embed(args),
        Command::Throughput(args) => throughput::measure(args),
    };
    match result {
        Ok(code) => code,
        Err(error) => {
            let message = format!("error: {:#}", hints::with_hints(error));
            eprintln!("{}", ontosweep_clip::echo::fit_lines(&message));
            ExitCode::FAILURE
        }
    }
}

/// Colour codes only for a person at a terminal: never into a pipe or a log file, and not
/// when `NO_COLOR` is set to anything but the empty string (no-color.org).
fn colour_wanted(terminal: bool, no_color: Option<std::ffi::OsString>) -> bool {
    terminal && no_color.is_none_or(|value| value.is_empty())
}

/// The ONNX Runtime named by `ORT_DYLIB_PATH` (set by `cargo xtask`).
///
/// `cargo xtask` also sets `ONTOSWEEP_ORT_SHA256` to `sha256sum`'s line for the library it
/// provisioned and checked (`HEX  PATH`): when `ORT_DYLIB_PATH` names that file, its sha256
/// must still be HEX, or it is not loaded. A bare `HEX` pins whatever `ORT_DYLIB_PATH` names.
/// A library the caller names elsewhere, without the variable, stays unchecked.
pub fn runtime() -> anyhow::Result<&'static Runtime> {
    let path = std::env::var_os("ORT_DYLIB_PATH").map(PathBuf::from).with_context(|| {
        format!("ORT_DYLIB_PATH is not set: run through `cargo xtask ...`, which provisions ONNX Runtime, or point it at a libonnxruntime.so {EXPECTED_ORT}")
    })?;
    let mut pinned = None;
    if let Some(value) = std::env::var_os("ONTOSWEEP_ORT_SHA256") {
        let value = value.to_string_lossy().into_owned();
        let (sha256, pinned_path) = match value.split_once("  ") {
            Some((sha256, pinned_path)) => (sha256.trim(), Some(pinned_path)),
            None => (value.trim(), None),
        };
        anyhow::ensure!(
            sha256.len() == 64 && sha256.bytes().all(|b| b.is_ascii_hexdigit()),
            "ONTOSWEEP_ORT_SHA256 must be a sha256 in hex, optionally followed by two spaces and the library's path (`sha256sum`'s line), not {value:?}"
        );
        let applies = pinned_path.is_none_or(|pinned_path| {
            let pinned_path = PathBuf::from(pinned_path);
            pinned_path.as_os_str().to_string_lossy() == path.as_os_str().to_string_lossy()
                || matches!(
                    (pinned_path.canonicalize(), path.canonicalize()),
                    (Ok(a), Ok(b)) if a == b
                )
        });
        if applies {
            pinned = Some(sha256.to_ascii_lowercase());
        }
    }
    Ok(Runtime::load_pinned(&path, pinned.as_deref())?)
}

#[cfg(test)]
mod tests {
    use super::colour_wanted;

    #[test]
    fn colour_only_at_a_terminal_without_no_color() {
        assert!(colour_wanted(true, None));
        assert!(colour_wanted(true, Some("".into())));
        assert!(!colour_wanted(true, Some("1".into())));
        assert!(!colour_wanted(false, None));
    }
}
