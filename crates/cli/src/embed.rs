//! `tokenize` and `embed`: the inference crate from the command line, one JSON line each.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use ontosweep_clip::{ImageEncoder, TextEncoder, TextTokenizer};
use serde_json::json;

#[derive(Args)]
pub struct TokenizeArgs {
    /// A model folder (Hugging Face ONNX layout), or a model id (`clip-vit-b32`: models/<id>.yaml).
    #[arg(long)]
    model: PathBuf,
    /// Texts to tokenize; each prints one JSON line with its ids and their tokens.
    #[arg(required = true)]
    texts: Vec<String>,
}

#[derive(Args)]
pub struct EmbedArgs {
    /// A model folder (Hugging Face ONNX layout), or a model id (`clip-vit-b32`: models/<id>.yaml).
    #[arg(long)]
    model: PathBuf,
    #[command(flatten)]
    session: crate::session_args::SessionArgs,
    /// A text to embed (repeat the flag for more).
    #[arg(long = "text", value_name = "TEXT")]
    texts: Vec<String>,
    /// An image file to embed (repeat the flag for more).
    #[arg(long = "image", value_name = "FILE")]
    images: Vec<PathBuf>,
    /// Images per encoder call.
    #[arg(long, default_value_t = 32)]
    batch: usize,
}

/// The model a `--model` argument names, folder or id.
fn model(argument: &std::path::Path) -> anyhow::Result<ontosweep_sweep::ResolvedModel> {
    let models = crate::sweep::project_root().join("models");
    ontosweep_sweep::resolve_argument(argument, &models, &crate::progress::Bars::default())
        .map_err(anyhow::Error::msg)
}

pub fn tokenize(args: TokenizeArgs) -> anyhow::Result<ExitCode> {
    let model = model(&args.model)?;
    // The ids exactly as the text tower is fed them (SigLIP's padded to its fixed length).
    let tokenizer = TextTokenizer::for_model(&model.dir, model.family)?;
    for text in &args.texts {
        let tokens = tokenizer.encode(text)?;
        let pieces: Vec<String> = tokens
            .ids
            .iter()
            .map(|&id| tokenizer.token(id).unwrap_or_default())
            .collect();
        println!(
            "{}",
            json!({"text": text, "ids": tokens.ids, "tokens": pieces, "truncated": tokens.truncated})
        );
    }
    Ok(ExitCode::SUCCESS)
}

pub fn embed(args: EmbedArgs) -> anyhow::Result<ExitCode> {
    anyhow::ensure!(
        !args.texts.is_empty() || !args.images.is_empty(),
        "nothing to embed: give --text T and/or --image FILE"
    );
    let resolved = model(&args.model)?;
    let (model, family, io) = (&resolved.dir, resolved.family, &resolved.io);
    let runtime = crate::runtime()?;
    args.session.prepare(runtime)?;
    let options = args.session.options();
    if !args.texts.is_empty() {
        let tokenizer = TextTokenizer::for_model(model, family)?;
        let mut encoder = TextEncoder::new(runtime, model, io, options)?;
        eprintln!("text tower: execution provider {}", encoder.ep());
        if let Some(note) = encoder.output_note() {
            eprintln!("note: {note}");
        }
        let tokens = args
            .texts
            .iter()
            .map(|t| tokenizer.encode(t))
            .collect::<Result<Vec<_>, _>>()?;
        for (text, embedding) in args.texts.iter().zip(encoder.encode(&tokens, 64)?) {
            println!(
                "{}",
                json!({"kind": "text", "input": text, "embedding": embedding})
            );
        }
    }
    if !args.images.is_empty() {
        let mut encoder = ImageEncoder::new(runtime, model, io, options)?;
        eprintln!("vision tower: execution provider {}", encoder.ep());
        if let Some(note) = encoder.output_note() {
            eprintln!("note: {note}");
        }
        for chunk in args.images.chunks(args.batch.max(1)) {
            let mut pixels = Vec::new();
            for path in chunk {
                pixels.extend(encoder.preprocessing().load(path)?);
            }
            for (path, embedding) in chunk.iter().zip(encoder.encode_batch(pixels)?) {
                println!(
                    "{}",
                    json!({"kind": "image", "input": path.display().to_string(), "embedding": embedding})
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
