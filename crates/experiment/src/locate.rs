//! Finds where a key sits in a block-style YAML file, so that validation messages can name
//! a line and column even though the parsed values carry no positions.

/// 1-based line and column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    pub line: usize,
    pub column: usize,
}

/// Position of the key at `path` (each key nested in the one before), or of the deepest
/// key found. With `needle`, the first line inside that block containing it.
pub fn locate(source: &str, path: &[&str], needle: Option<&str>) -> Option<Position> {
    let lines: Vec<&str> = source.lines().collect();
    let mut from = 0;
    let mut parent_indent: Option<usize> = None;
    let mut found: Option<Position> = None;
    for key in path {
        match find_key(&lines, from, parent_indent, key) {
            Some((index, indent)) => {
                found = Some(Position {
                    line: index + 1,
                    column: indent + 1,
                });
                from = index + 1;
                parent_indent = Some(indent);
            }
            None => return found,
        }
    }
    if let Some(needle) = needle {
        for (index, line) in block(&lines, from, parent_indent) {
            if let Some(column) = line.find(needle) {
                return Some(Position {
                    line: index + 1,
                    column: column + 1,
                });
            }
        }
    }
    found
}

/// The lines after `from` that are nested deeper than `parent_indent`.
fn block<'a>(
    lines: &'a [&'a str],
    from: usize,
    parent_indent: Option<usize>,
) -> impl Iterator<Item = (usize, &'a str)> {
    lines
        .iter()
        .enumerate()
        .skip(from)
        .filter(|(_, line)| !is_blank(line))
        .take_while(move |(_, line)| parent_indent.is_none_or(|p| indent_of(line) > p))
        .map(|(i, line)| (i, *line))
}

fn find_key(
    lines: &[&str],
    from: usize,
    parent_indent: Option<usize>,
    key: &str,
) -> Option<(usize, usize)> {
    block(lines, from, parent_indent).find_map(|(index, line)| {
        let trimmed = line.trim_start();
        let unquoted = [
            format!("{key}:"),
            format!("\"{key}\":"),
            format!("'{key}':"),
        ];
        unquoted
            .iter()
            .any(|k| trimmed.starts_with(k.as_str()))
            .then(|| (index, indent_of(line)))
    })
}

fn is_blank(line: &str) -> bool {
    let t = line.trim_start();
    t.is_empty() || t.starts_with('#')
}

fn indent_of(line: &str) -> usize {
    line.len() - line.trim_start().len()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SOURCE: &str = "name: x\nontologies:\n  plain:\n    prompts:\n      daisy: daisy\n  \"long\":\n    templates:\n      - a photo of a {}\n      - no braces\n";

    #[test]
    fn finds_nested_keys_and_values() {
        assert_eq!(
            locate(SOURCE, &["ontologies", "plain", "prompts", "daisy"], None),
            Some(Position { line: 5, column: 7 })
        );
        assert_eq!(
            locate(SOURCE, &["ontologies", "long"], None),
            Some(Position { line: 6, column: 3 })
        );
        assert_eq!(
            locate(
                SOURCE,
                &["ontologies", "long", "templates"],
                Some("no braces")
            ),
            Some(Position { line: 9, column: 9 })
        );
    }

    #[test]
    fn falls_back_to_the_deepest_key_found() {
        assert_eq!(
            locate(SOURCE, &["ontologies", "plain", "tulips"], None),
            Some(Position { line: 3, column: 3 })
        );
        assert_eq!(locate(SOURCE, &["nothing"], None), None);
    }
}
