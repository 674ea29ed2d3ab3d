//! `ontosweep`: tokenize, embed and sweep from the command line. `cargo xtask` provisions
//! ONNX Runtime and calls this binary; it owns argument parsing and terminal output only.

mod embed;
mod progress;
mod sweep;
mod table;
mod throughput;

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
        .init();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Sweep(args) => sweep::run(args),
        Command::Tokenize(args) => embed::tokenize(args),
        Command::Embed(args) => embed::embed(args),
        Command::Throughput(args) => throughput::run(args),
    };
    match result {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

/// The ONNX Runtime named by `ORT_DYLIB_PATH` (set by `cargo xtask`).
pub fn runtime() -> anyhow::Result<&'static Runtime> {
    let path = std::env::var_os("ORT_DYLIB_PATH").map(PathBuf::from).with_context(|| {
        format!("ORT_DYLIB_PATH is not set: run through `cargo xtask ...`, which provisions ONNX Runtime, or point it at a libonnxruntime.so {EXPECTED_ORT}")
    })?;
    Ok(Runtime::load(&path)?)
}
