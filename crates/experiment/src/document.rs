//! The document's shape: bounded, then parsed into the raw fields.

use std::path::Path;

use crate::{ConfigErrors, Diagnostic, Position};

/// The document's shape: bounded, then parsed into the raw fields. A problem here stops
/// parsing, so it is the only diagnostic.
pub(crate) fn parse_document<T: serde::de::DeserializeOwned>(
    file: &Path,
    source: &str,
) -> Result<T, ConfigErrors> {
    let only = |position, message| {
        ConfigErrors(vec![Diagnostic {
            file: file.to_path_buf(),
            position,
            message,
        }])
    };
    crate::bounds::check(source)
        .map_err(|too| only(too.position, format!("{}. Nothing was run", too.message)))?;
    yaml_serde::from_str(source).map_err(|e| {
        let mut position = e.location().map(|l| Position {
            line: l.line(),
            column: l.column(),
        });
        let mut message = e.to_string();
        // The location is printed by Diagnostic; drop the parser's own copy of it.
        if let Some(at) = message.find(" at line ") {
            message.truncate(at);
        }
        if let (Some(key), Some(first)) = (duplicate_key(&message), position) {
            // The parser points at the first of the two; the second is the one to look at.
            position = second_occurrence(source, first, key).or(position);
        }
        // Only a field or a type can be looked up; a syntax error is about the text.
        let about_fields = [
            "unknown field",
            "missing field",
            "invalid type",
            "unknown variant",
        ]
        .iter()
        .any(|kind| message.contains(kind));
        if about_fields {
            message.push_str(". See docs/experiments.md for the fields");
        }
        only(position, message)
    })
}

/// The key of a "duplicate entry with key" message.
pub(crate) fn duplicate_key(message: &str) -> Option<&str> {
    message
        .split_once("duplicate entry with key \"")?
        .1
        .split_once('"')
        .map(|(key, _)| key)
}

/// The next line after `first` that holds `key:` at the same indentation, within its block.
fn second_occurrence(source: &str, first: Position, key: &str) -> Option<Position> {
    let indent = first.column.saturating_sub(1);
    for (index, line) in source.lines().enumerate().skip(first.line) {
        let trimmed = line.trim_start();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let here = line.len() - trimmed.len();
        if here < indent {
            return None;
        }
        let named = [
            format!("{key}:"),
            format!("\"{key}\":"),
            format!("'{key}':"),
        ];
        if here == indent && named.iter().any(|n| trimmed.starts_with(n.as_str())) {
            return Some(Position {
                line: index + 1,
                column: indent + 1,
            });
        }
    }
    None
}

/// The field an "unknown field `x`" message names.
pub(crate) fn unknown_field(message: &str) -> Option<&str> {
    message
        .split_once("unknown field `")?
        .1
        .split_once('`')
        .map(|(field, _)| field)
}
