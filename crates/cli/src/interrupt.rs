//! Ctrl-C during a sweep: say what the run kept and that no report was written, then exit
//! 130 as shells expect of an interrupted command.

use std::path::PathBuf;

use crate::progress::Bars;

/// What an interrupted sweep leaves behind.
pub struct Kept {
    pub progress: &'static Bars,
    /// The embedding cache, `None` with `--no-cache`.
    pub cache: Option<PathBuf>,
    /// A shard run writes a record, not a report.
    pub shard: bool,
}

/// Installs the handler for this process (once: a second call is an error).
pub fn say_what_is_kept_on_ctrl_c(kept: Kept) -> anyhow::Result<()> {
    ctrlc::set_handler(move || {
        kept.progress.clear();
        eprintln!("\n{}", message(&kept));
        // No exit handlers: ONNX Runtime's threads may be mid-batch, and every entry already
        // in the cache is whole (each is renamed into place).
        // SAFETY: `_exit` ends the process at once; nothing is left half-done that matters.
        unsafe { libc::_exit(130) }
    })
    .map_err(|e| anyhow::anyhow!("cannot watch for Ctrl-C: {e}"))
}

fn message(kept: &Kept) -> String {
    let output = if kept.shard {
        "no shard record was written"
    } else {
        "no report was written (the report folder keeps what it had)"
    };
    let images = kept.progress.cached_images();
    match &kept.cache {
        None => format!("interrupted: nothing was kept (--no-cache), and {output}"),
        Some(_) if images == 0 => format!(
            "interrupted before any new image embedding was cached; {output}. Embeddings cached by earlier runs are still there"
        ),
        Some(cache) => format!(
            "interrupted: {} image embedding{} encoded and cached in {} this run; run the same command to continue from there. {}{}",
            grouped(images),
            if images == 1 { " was" } else { "s were" },
            cache.display(),
            output[..1].to_uppercase(),
            &output[1..]
        ),
    }
}

/// `1204` as `1,204`.
fn grouped(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::grouped;

    #[test]
    fn counts_are_grouped_by_thousands() {
        assert_eq!(grouped(0), "0");
        assert_eq!(grouped(999), "999");
        assert_eq!(grouped(1_204), "1,204");
        assert_eq!(grouped(50_000_000), "50,000,000");
    }
}
