//! The Python xtask runs (`$PYTHON`, else `python3`), the commands it starts, and sha256 by
//! Python's `hashlib`: xtask stays dependency-free, and `hashlib` hashes the CUDA build's few
//! hundred MB in well under a second, which a hand-written digest compiled at xtask's debug
//! opt-level would not.

use std::path::Path;
use std::process::{Command, Stdio};

const SHA256_SCRIPT: &str = "\
import hashlib, sys
for path in sys.argv[1:]:
    digest = hashlib.sha256()
    with open(path, 'rb') as f:
        for block in iter(lambda: f.read(1 << 20), b''):
            digest.update(block)
    print(digest.hexdigest())
";

pub(crate) fn python() -> String {
    std::env::var("PYTHON").unwrap_or_else(|_| "python3".into())
}

/// The sha256 of each file, lowercase hex, in order (Python's `hashlib`).
pub(crate) fn sha256_files(paths: &[&Path]) -> Result<Vec<String>, String> {
    if paths.is_empty() {
        return Ok(Vec::new());
    }
    let output = Command::new(python())
        .arg("-c")
        .arg(SHA256_SCRIPT)
        .args(paths)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("could not start {} to compute sha256: {e}", python()))?;
    let digests: Vec<String> = String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(str::to_owned)
        .collect();
    let well_formed = digests
        .iter()
        .all(|d| d.len() == 64 && d.bytes().all(|b| b.is_ascii_hexdigit()));
    if !output.status.success() || digests.len() != paths.len() || !well_formed {
        return Err(format!(
            "could not compute the sha256 of {}: {}",
            paths
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", "),
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    Ok(digests)
}

/// Runs `command`; `what_to_do` is the message when it fails or cannot start.
pub(crate) fn run(command: &mut Command, what_to_do: &str) -> Result<(), String> {
    match command.status() {
        Ok(status) if status.success() => Ok(()),
        Ok(status) => Err(format!("{what_to_do} ({status})")),
        Err(e) => Err(format!(
            "{what_to_do} (could not start {:?}: {e})",
            command.get_program()
        )),
    }
}

#[cfg(test)]
mod tests {
    use std::fs;

    use super::*;
    use crate::scratch::Scratch;

    fn sha256_of(path: &Path) -> String {
        sha256_files(&[path]).unwrap().remove(0)
    }

    #[test]
    fn sha256_matches_a_known_answer() {
        let scratch = Scratch::new();
        let file = scratch.0.join("abc");
        fs::write(&file, "abc").unwrap();
        assert_eq!(
            sha256_of(&file),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert!(sha256_files(&[&scratch.0.join("missing")]).is_err());
    }
}
