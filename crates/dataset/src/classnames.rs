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
    let text = read_text(file)?;
    parse(&text, Repeats::Refused).map_err(|e| e.map(|m| format!("{}:{m}", file.display())))
}

/// A published list (CLIP_benchmark's `classnames.txt`), read as published: a name listed
/// twice (ImageNet's `missile`, `sunglasses`) is kept, since reproducing a published figure
/// needs the published names; [`tag_repeated_names`] then tells the classes apart.
pub fn read_published_classnames(file: &Path) -> Result<Vec<String>, DatasetError> {
    let text = read_text(file)?;
    parse(&text, Repeats::Kept).map_err(|e| e.map(|m| format!("{}:{m}", file.display())))
}

fn read_text(file: &Path) -> Result<String, DatasetError> {
    ontosweep_clip::files::read_bounded_text(file, MAX_CLASSNAMES_BYTES as u64).map_err(|e| {
        DatasetError::Unreadable(format!(
            "cannot read the class names {}: {e}",
            file.display()
        ))
    })
}

/// Classes told apart when a published list names two alike.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TaggedNames {
    /// One per class, in index order, all distinct: the published name, or for a name
    /// listed more than once, the name with `tag(index)` after it (`missile (n03773504)`).
    pub classes: Vec<String>,
    /// For each tagged class, the published name its prompts still use.
    pub display: BTreeMap<String, String>,
    /// One line per repeated name, to say before any work.
    pub warnings: Vec<String>,
}

/// Distinct class ids for a published list; the prompts keep the published words, so the
/// figures are the published task's (two classes with one name get the same prompts).
pub fn tag_repeated_names(names: &[String], tag: impl Fn(usize) -> String) -> TaggedNames {
    let mut indices: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (index, name) in names.iter().enumerate() {
        indices.entry(name).or_default().push(index);
    }
    let mut tagged = TaggedNames {
        classes: names.to_vec(),
        ..TaggedNames::default()
    };
    for (name, at) in indices.iter().filter(|(_, at)| at.len() > 1) {
        let ids: Vec<String> = at.iter().map(|&i| format!("{name} ({})", tag(i))).collect();
        for (&index, id) in at.iter().zip(&ids) {
            tagged.classes[index] = id.clone();
            tagged.display.insert(id.clone(), name.to_string());
        }
        tagged.warnings.push(format!(
            "the class names list `{name}` {} times (classes {}): kept as published, so their prompts are identical and the model cannot tell them apart; the report names them {}. To tell them apart, give each its own words in `dataset.names`",
            at.len(),
            at.iter().map(usize::to_string).collect::<Vec<_>>().join(", "),
            ids.join(" and ")
        ));
    }
    // A tag could collide with a listed name only by design of a hostile list.
    let mut seen = std::collections::BTreeSet::new();
    for class in tagged.classes.iter_mut() {
        while !seen.insert(class.clone()) {
            class.push('\'');
        }
    }
    tagged
}

#[derive(Clone, Copy, PartialEq)]
enum Repeats {
    Refused,
    Kept,
}

/// `Err("<line>: <problem>")`.
fn parse(text: &str, repeats: Repeats) -> Result<Vec<String>, DatasetError> {
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
        if let Some(first) = first_line.insert(name, line)
            && repeats == Repeats::Refused
        {
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
            parse("daisy\r\n dandelion \n\n", Repeats::Refused).unwrap(),
            ["daisy", "dandelion"]
        );
        let err = parse("daisy\ncrane\nrose\ncrane\n", Repeats::Refused)
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("4: `crane`") && err.contains("lines 2 and 4"),
            "{err}"
        );
        let err = parse("daisy\n\nrose\n", Repeats::Kept)
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("2: an empty line"), "{err}");
        assert!(parse("\n \n", Repeats::Kept).is_err());
    }

    #[test]
    fn a_published_list_keeps_repeats_and_tags_them_apart() {
        let names = parse("crane\nrose\ncrane\n", Repeats::Kept).unwrap();
        let tagged = tag_repeated_names(&names, |i| format!("index {i}"));
        assert_eq!(
            tagged.classes,
            ["crane (index 0)", "rose", "crane (index 2)"]
        );
        assert_eq!(tagged.display["crane (index 2)"], "crane");
        assert!(!tagged.display.contains_key("rose"));
        assert!(
            tagged.warnings[0].contains("classes 0, 2"),
            "{:?}",
            tagged.warnings
        );
        // A listed name that looks like a tag still leaves every class distinct.
        let hostile: Vec<String> = ["a", "a", "a (index 1)"].map(String::from).to_vec();
        let tagged = tag_repeated_names(&hostile, |i| format!("index {i}"));
        let distinct: std::collections::BTreeSet<_> = tagged.classes.iter().collect();
        assert_eq!(distinct.len(), 3, "{:?}", tagged.classes);
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
