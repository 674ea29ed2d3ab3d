//! Values from a user's files, echoed in messages: capped, so that one hostile or broken
//! value (a 100 KB `model_type`, a label the length of a file) cannot flood a terminal or a
//! log, and the message still says what was there; and how near a name is to a known one.

/// Characters of a value shown before it is cut.
const SHOWN_CHARS: usize = 60;
/// Longest line a whole message keeps; longer lines lose their middle.
const LINE_BYTES: usize = 2_000;

/// `value` quoted as Rust's `{:?}` quotes it, cut after `SHOWN_CHARS` (60) characters with its
/// full length said.
pub fn quoted(value: &str) -> String {
    let chars = value.chars().count();
    if chars <= SHOWN_CHARS {
        return format!("{value:?}");
    }
    let head: String = value.chars().take(SHOWN_CHARS).collect();
    format!("{head:?}… ({} bytes in all)", value.len())
}

/// `message` with each line over `LINE_BYTES` (2,000) cut in the middle, saying how much went:
/// the last guard for values no caller thought to cap.
pub fn fit_lines(message: &str) -> String {
    message
        .split('\n')
        .map(|line| {
            if line.len() <= LINE_BYTES {
                return line.to_string();
            }
            let head = floor_boundary(line, LINE_BYTES * 3 / 4);
            let tail = ceil_boundary(line, line.len() - LINE_BYTES / 8);
            format!(
                "{} … [{} bytes left out] … {}",
                &line[..head],
                tail - head,
                &line[tail..]
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Levenshtein distance over characters: how far a name is from a known one, to suggest the
/// nearest in a message.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut previous = row[0];
        row[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let substitution = previous + usize::from(ca != cb);
            previous = row[j + 1];
            row[j + 1] = substitution.min(row[j] + 1).min(previous + 1);
        }
    }
    row[b.len()]
}

fn floor_boundary(text: &str, mut at: usize) -> usize {
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

fn ceil_boundary(text: &str, mut at: usize) -> usize {
    while !text.is_char_boundary(at) {
        at += 1;
    }
    at
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_values_are_quoted_whole_and_long_ones_cut_with_their_size() {
        assert_eq!(quoted("clip"), "\"clip\"");
        let long = "é".repeat(50_000);
        let shown = quoted(&long);
        assert!(shown.len() < 200, "{} bytes", shown.len());
        assert!(shown.ends_with("… (100000 bytes in all)"), "{shown}");
    }

    #[test]
    fn only_overlong_lines_lose_their_middle() {
        let long = format!("start {} end", "ü".repeat(50_000));
        let message = format!("first line\n{long}\nlast line");
        let fitted = fit_lines(&message);
        let lines: Vec<&str> = fitted.lines().collect();
        assert_eq!(lines[0], "first line");
        assert_eq!(lines[2], "last line");
        assert!(
            lines[1].len() <= LINE_BYTES + 64,
            "{} bytes",
            lines[1].len()
        );
        assert!(lines[1].starts_with("start ") && lines[1].ends_with(" end"));
        assert!(lines[1].contains("bytes left out"), "{}", lines[1]);
        assert_eq!(fit_lines("a\nb"), "a\nb");
    }
}
