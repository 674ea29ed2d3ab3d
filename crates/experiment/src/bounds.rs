//! Bounds on YAML read from users' files, checked before the real parse: a small file must
//! not cost minutes or gigabytes. Three costs are bounded: the bytes, the nesting depth
//! (the parser's time grows with it), and the nodes the document expands to once aliases
//! are replayed (an anchor of 5,000 items aliased 5,000 times is 25 million nodes from a
//! 25 KB file).

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

use crate::locate::Position;

/// Largest experiment or model file read; real ones are a few kilobytes.
pub const MAX_YAML_BYTES: usize = 1 << 20;
/// Deepest nesting of sequences and mappings; real files nest four or five levels.
pub const MAX_YAML_DEPTH: usize = 32;
/// Most nodes a document may expand to, aliases replayed.
pub const MAX_YAML_NODES: usize = 200_000;

/// Reads `path` as text if it is a regular file of at most `max` bytes: a larger file, a
/// FIFO or a device is an error that says so, never an unbounded or blocking read.
pub fn read_bounded(path: &std::path::Path, max: usize) -> std::io::Result<String> {
    ontosweep_clip::files::read_bounded_text(path, max as u64)
}

/// What is over a bound, and where when known.
#[derive(Debug)]
pub struct TooLarge {
    pub position: Option<Position>,
    pub message: String,
}

/// Checks `source` against every bound; the YAML itself may still be invalid.
pub fn check(source: &str) -> Result<(), TooLarge> {
    if source.len() > MAX_YAML_BYTES {
        return Err(TooLarge {
            position: None,
            message: format!(
                "the file is {} bytes; at most {MAX_YAML_BYTES} are read",
                source.len()
            ),
        });
    }
    if let Some(position) = too_deep(source) {
        return Err(TooLarge {
            position: Some(position),
            message: format!(
                "nesting deeper than {MAX_YAML_DEPTH} levels; experiment and model files nest a few levels"
            ),
        });
    }
    count_nodes(source)
}

/// Where flow (`[`, `{`) or block nesting first exceeds the bound, by a scan that skips
/// quoted text and comments. It may count a little more than the parser would (never
/// less), which only matters for files far beyond any real one.
fn too_deep(source: &str) -> Option<Position> {
    unbalanced_brackets(source).or_else(|| too_deep_outside_quotes(source))
}

/// Open brackets counted everywhere, quotes and comments included, against a looser bound:
/// a quote the scan below misreads (`x_'` is a plain value) must not hide deep nesting, and
/// no real file has that many unclosed brackets, even inside strings.
fn unbalanced_brackets(source: &str) -> Option<Position> {
    let (mut open, mut line, mut line_start) = (0usize, 1usize, 0usize);
    for (at, c) in source.char_indices() {
        match c {
            '\n' => (line, line_start) = (line + 1, at + 1),
            '[' | '{' => {
                open += 1;
                if open > 4 * MAX_YAML_DEPTH {
                    return Some(Position {
                        line,
                        column: at - line_start + 1,
                    });
                }
            }
            ']' | '}' => open = open.saturating_sub(1),
            _ => {}
        }
    }
    None
}

fn too_deep_outside_quotes(source: &str) -> Option<Position> {
    let mut flow = 0usize;
    for (index, line) in source.lines().enumerate() {
        let indent = line.len() - line.trim_start_matches([' ', '-']).len();
        // A block level costs at least one column (`- ` or an indented key).
        let block = indent / 2;
        let mut quote: Option<char> = None;
        let mut previous = ' ';
        for (column, c) in line.char_indices() {
            match quote {
                Some(q) if c == q => quote = None,
                Some(_) => {}
                None => match c {
                    '#' if previous.is_whitespace() => break,
                    '"' | '\'' if !previous.is_alphanumeric() => quote = Some(c),
                    '[' | '{' => flow += 1,
                    ']' | '}' => flow = flow.saturating_sub(1),
                    _ => {}
                },
            }
            if flow + block > MAX_YAML_DEPTH {
                return Some(Position {
                    line: index + 1,
                    column: column + 1,
                });
            }
            previous = c;
        }
        if block > MAX_YAML_DEPTH {
            return Some(Position {
                line: index + 1,
                column: 1,
            });
        }
    }
    None
}

/// Walks the document as the deserializer replays it (aliases included) and stops at the
/// node bound: the cost of the check is bounded by the bound itself.
fn count_nodes(source: &str) -> Result<(), TooLarge> {
    let mut nodes = 0usize;
    let deserializer = yaml_serde::Deserializer::from_str(source);
    match (Counter { nodes: &mut nodes }).deserialize(deserializer) {
        Err(e) if e.to_string().contains(OVER_NODES) => Err(TooLarge {
            position: e.location().map(|l| Position {
                line: l.line(),
                column: l.column(),
            }),
            message: format!(
                "the document expands to more than {MAX_YAML_NODES} values (aliases `*name` repeat what their anchor `&name` holds); write the values out or use fewer aliases"
            ),
        }),
        // Other problems are the real parser's to report, with its own message.
        _ => Ok(()),
    }
}

const OVER_NODES: &str = "ontosweep: node bound exceeded";

struct Counter<'a> {
    nodes: &'a mut usize,
}

impl Counter<'_> {
    fn count<E: de::Error>(&mut self) -> Result<(), E> {
        *self.nodes += 1;
        if *self.nodes > MAX_YAML_NODES {
            Err(E::custom(OVER_NODES))
        } else {
            Ok(())
        }
    }
}

impl<'de> DeserializeSeed<'de> for Counter<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Counter<'_> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("any YAML value")
    }

    fn visit_bool<E: de::Error>(mut self, _: bool) -> Result<(), E> {
        self.count()
    }
    fn visit_i64<E: de::Error>(mut self, _: i64) -> Result<(), E> {
        self.count()
    }
    fn visit_u64<E: de::Error>(mut self, _: u64) -> Result<(), E> {
        self.count()
    }
    fn visit_f64<E: de::Error>(mut self, _: f64) -> Result<(), E> {
        self.count()
    }
    fn visit_str<E: de::Error>(mut self, _: &str) -> Result<(), E> {
        self.count()
    }
    fn visit_unit<E: de::Error>(mut self) -> Result<(), E> {
        self.count()
    }
    fn visit_none<E: de::Error>(mut self) -> Result<(), E> {
        self.count()
    }
    fn visit_some<D: Deserializer<'de>>(mut self, deserializer: D) -> Result<(), D::Error> {
        self.count()?;
        self.deserialize(deserializer)
    }

    fn visit_seq<A: SeqAccess<'de>>(mut self, mut seq: A) -> Result<(), A::Error> {
        self.count()?;
        while seq
            .next_element_seed(Counter {
                nodes: &mut *self.nodes,
            })?
            .is_some()
        {}
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(mut self, mut map: A) -> Result<(), A::Error> {
        self.count()?;
        while map
            .next_key_seed(Counter {
                nodes: &mut *self.nodes,
            })?
            .is_some()
        {
            map.next_value_seed(Counter {
                nodes: &mut *self.nodes,
            })?;
        }
        Ok(())
    }

    fn visit_enum<A: de::EnumAccess<'de>>(mut self, data: A) -> Result<(), A::Error> {
        // Tagged values (`!tag x`): count the tag and walk what it holds.
        self.count()?;
        let (_, variant) = data.variant::<de::IgnoredAny>()?;
        de::VariantAccess::newtype_variant_seed(
            variant,
            Counter {
                nodes: &mut *self.nodes,
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quadratic_alias_expansion_is_refused_quickly() {
        let items: Vec<String> = (0..5_000).map(|i| format!("p{i}")).collect();
        let aliases = vec!["*a"; 5_000].join(", ");
        let source = format!("anchor: &a [{}]\nmany: [{aliases}]\n", items.join(", "));
        assert!(source.len() < 60_000);
        let err = check(&source).unwrap_err();
        assert!(
            err.message.contains("expands to more than"),
            "{}",
            err.message
        );
    }

    #[test]
    fn deep_nesting_is_refused_before_parsing() {
        let flow = format!("a: {}{}", "[".repeat(100_000), "]".repeat(100_000));
        let err = check(&flow).unwrap_err();
        assert_eq!(err.position.map(|p| p.line), Some(1));
        assert!(err.message.contains("nesting deeper"));
        let block: String = (0..60)
            .map(|i| format!("{}k{i}:\n", "  ".repeat(i)))
            .collect();
        assert!(check(&block).is_err());
    }

    #[test]
    fn a_misread_quote_does_not_hide_deep_nesting() {
        let deep = format!("a: [x_', {}{}]\n", "[".repeat(100_000), "]".repeat(100_000));
        assert!(check(&deep).is_err());
        let multi_line = format!("a: \"start\n  \", {}\n", "[".repeat(100_000));
        assert!(check(&multi_line).is_err());
    }

    #[test]
    fn real_files_and_modest_aliases_pass() {
        check(include_str!("../../../experiments/flowers-mini.yaml")).unwrap();
        check(include_str!("../../../experiments/flowers.yaml")).unwrap();
        let shared = "names: &n {roses: rose}\na:\n  names: *n\nb:\n  names: *n\nq: \"[[[[ # not nesting\"\n";
        check(shared).unwrap();
        assert!(check(&"x".repeat(MAX_YAML_BYTES + 1)).is_err());
    }
}
