//! `tokenize` and `embed`: the inference crate from the command line, one JSON line each.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use ontosweep_clip::{
    EpChoice, Family, ImageEncoder, ModelDir, SessionOptions, TextEncoder, TextTokenizer,
};
use serde_json::json;

#[derive(Args)]
pub struct TokenizeArgs {
    /// Model directory (Hugging Face ONNX layout).
    #[arg(long)]
    model: PathBuf,
    /// Texts to tokenize.
    #[arg(required = true)]
    texts: Vec<String>,
}

#[derive(Args)]
pub struct EmbedArgs {
    #[arg(long)]
    model: PathBuf,
    /// Execution provider: auto, cpu or cuda.
    #[arg(long, default_value = "auto")]
    ep: EpChoice,
    #[arg(long = "text")]
    texts: Vec<String>,
    #[arg(long = "image")]
    images: Vec<PathBuf>,
    /// Images per encoder call.
    #[arg(long, default_value_t = 32)]
    batch: usize,
}

pub fn tokenize(args: TokenizeArgs) -> anyhow::Result<ExitCode> {
    let model = ModelDir::open(&args.model)?;
    // The ids exactly as the text tower is fed them (SigLIP's padded to its fixed length).
    let tokenizer = TextTokenizer::for_model(&model, Family::of(&model)?)?;
    for text in &args.texts {
        let tokens = tokenizer.encode(text)?;
        println!(
            "{}",
            json!({"text": text, "ids": tokens.ids, "truncated": tokens.truncated})
        );
    }
    Ok(ExitCode::SUCCESS)
}

pub fn embed(args: EmbedArgs) -> anyhow::Result<ExitCode> {
    anyhow::ensure!(
        !args.texts.is_empty() || !args.images.is_empty(),
        "nothing to embed: give --text T and/or --image FILE"
    );
    let model = ModelDir::open(&args.model)?;
    let family = Family::of(&model)?;
    let io = family.io_names();
    let runtime = crate::runtime()?;
    let options = SessionOptions {
        ep: args.ep,
        intra_threads: 0,
    };
    if !args.texts.is_empty() {
        let tokenizer = TextTokenizer::for_model(&model, family)?;
        let mut encoder = TextEncoder::new(runtime, &model, &io, options)?;
        eprintln!("text tower: execution provider {}", encoder.ep());
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
        let mut encoder = ImageEncoder::new(runtime, &model, &io, options)?;
        eprintln!("vision tower: execution provider {}", encoder.ep());
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
