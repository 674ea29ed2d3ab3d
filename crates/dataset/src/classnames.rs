//! A class-names file (CLIP_benchmark's `classnames.txt`): one class per line, in index
//! order, so line N names class index N-1. Read bounded and never from anything but a
//! regular file.

use std::collections::BTreeMap;
use std::path::Path;

use crate::DatasetError;

/// Largest class-names file read (ImageNet-21k's names fit many times over).
pub const MAX_CLASSNAMES_BYTES: usize = 16 << 20;

/// The names, in index order. Blank lines in the middle would shift every later index, and
/// a name listed twice could not be told apart: both are refused with their lines.
pub fn read_classnames(file: &Path) -> Result<Vec<String>, DatasetError> {
    let text = ontosweep_clip::files::read_bounded_text(file, MAX_CLASSNAMES_BYTES as u64)
        .map_err(|e| {
            DatasetError::Unreadable(format!(
                "cannot read the class names {}: {e}",
                file.display()
            ))
        })?;
    parse(&text).map_err(|e| e.map(|m| format!("{}:{m}", file.display())))
}

/// `Err("<line>: <problem>")`.
fn parse(text: &str) -> Result<Vec<String>, DatasetError> {
    let lines: Vec<&str> = text.lines().map(str::trim).collect();
    let used = lines
        .iter()
        .rposition(|l| !l.is_empty())
        .map_or(0, |i| i + 1);
    if used == 0 {
        return Err(DatasetError::Empty(
            " lists no class names (one per line, in index order)".into(),
        ));
    }
    let mut first_line: BTreeMap<&str, usize> = BTreeMap::new();
    for (index, name) in lines[..used].iter().enumerate() {
        let line = index + 1;
        if name.is_empty() {
            return Err(DatasetError::Malformed(format!(
                "{line}: an empty line; line N names class index N-1, so a blank line would shift every later class. Remove it, or name the class"
            )));
        }
        if let Some(first) = first_line.insert(name, line) {
            return Err(DatasetError::Duplicate(format!(
                "{line}: `{name}` is listed twice (lines {first} and {line}); prompts are keyed by class name, so the two classes could not be told apart. Rename one (e.g. `crane (bird)` and `crane (machine)`)"
            )));
        }
    }
    Ok(lines[..used].iter().map(|l| l.to_string()).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_keep_their_index_and_problems_their_lines() {
        assert_eq!(
            parse("daisy\r\n dandelion \n\n").unwrap(),
            ["daisy", "dandelion"]
        );
        let err = parse("daisy\ncrane\nrose\ncrane\n")
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("4: `crane`") && err.contains("lines 2 and 4"),
            "{err}"
        );
        let err = parse("daisy\n\nrose\n").unwrap_err().to_string();
        assert!(err.starts_with("2: an empty line"), "{err}");
        assert!(parse("\n \n").is_err());
    }

    #[test]
    fn a_fifo_or_a_folder_is_refused_without_blocking() {
        use ontosweep_testkit::{mkfifo, within_a_minute};
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("classnames.txt");
        mkfifo(&fifo);
        let err = within_a_minute(move || read_classnames(&fifo))
            .expect("reading a FIFO blocked")
            .unwrap_err()
            .to_string();
        assert!(err.contains("classnames.txt"), "{err}");
        assert!(read_classnames(dir.path()).is_err());
    }
}
