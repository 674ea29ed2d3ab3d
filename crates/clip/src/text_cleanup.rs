//! OpenAI CLIP's text clean-up, which `tokenizer.json` lacks: HTML entities (unescaped
//! twice, as the reference does), the ftfy repairs that change CLIP prompts (mojibake,
//! ligatures, full-width forms, curly quotes, control characters) and whitespace clean-up.
//!
//! Deliberately not a general Unicode normaliser: ftfy keeps `½`, `²` and `…` as they are,
//! so NFKC would break agreement with the reference.

/// Cleans `text` the way OpenAI's `basic_clean` + `whitespace_clean` do. Lower-casing and
/// NFC are left to the tokenizer's own normaliser.
pub fn clean(text: &str) -> String {
    let unescaped =
        html_escape::decode_html_entities(&html_escape::decode_html_entities(text)).into_owned();
    let repaired = fix_mojibake(&unescaped);
    let fixed: String = repaired
        .chars()
        .filter_map(fix_char)
        .flat_map(expand_ligature)
        .collect();
    fixed.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Per-character ftfy repairs; `None` drops the character.
fn fix_char(c: char) -> Option<char> {
    match c {
        '\u{2018}' | '\u{2019}' | '\u{201A}' | '\u{201B}' => Some('\''),
        '\u{201C}' | '\u{201D}' | '\u{201E}' | '\u{201F}' => Some('"'),
        // Full-width ASCII forms and the ideographic space.
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFF01 + 0x21),
        '\u{3000}' => Some(' '),
        // Whitespace controls survive until whitespace clean-up; other controls go.
        '\t' | '\n' | '\r' | '\u{0B}' | '\u{0C}' => Some(c),
        c if c.is_control() => None,
        c => Some(c),
    }
}

fn expand_ligature(c: char) -> LigatureExpansion {
    let expanded: &'static str = match c {
        '\u{FB00}' => "ff",
        '\u{FB01}' => "fi",
        '\u{FB02}' => "fl",
        '\u{FB03}' => "ffi",
        '\u{FB04}' => "ffl",
        '\u{FB05}' | '\u{FB06}' => "st",
        _ => return LigatureExpansion::One(Some(c)),
    };
    LigatureExpansion::Many(expanded.chars())
}

enum LigatureExpansion {
    One(Option<char>),
    Many(std::str::Chars<'static>),
}

impl Iterator for LigatureExpansion {
    type Item = char;
    fn next(&mut self) -> Option<char> {
        match self {
            LigatureExpansion::One(c) => c.take(),
            LigatureExpansion::Many(chars) => chars.next(),
        }
    }
}

/// Repairs UTF-8 that was decoded as Windows-1252/Latin-1 (`cafÃ©` → `café`), ftfy's most
/// common fix. Only runs of characters that re-encode to one byte each and then decode as
/// valid multi-byte UTF-8 are replaced, so ordinary accented text is left alone.
fn fix_mojibake(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        if let Some((fixed, used)) = decode_sequence(&chars[i..]) {
            out.push(fixed);
            i += used;
        } else {
            out.push(chars[i]);
            i += 1;
        }
    }
    out
}

fn decode_sequence(chars: &[char]) -> Option<(char, usize)> {
    let lead = to_cp1252_byte(*chars.first()?)?;
    let len = match lead {
        0xC2..=0xDF => 2,
        0xE0..=0xEF => 3,
        0xF0..=0xF4 => 4,
        _ => return None,
    };
    let bytes: Vec<u8> = chars
        .get(..len)?
        .iter()
        .map(|&c| to_cp1252_byte(c))
        .collect::<Option<_>>()?;
    let decoded = std::str::from_utf8(&bytes).ok()?;
    let mut it = decoded.chars();
    let c = it.next()?;
    (it.next().is_none() && !c.is_ascii()).then_some((c, len))
}

/// The byte that Windows-1252 (with Latin-1 for its gaps) encodes `c` as.
fn to_cp1252_byte(c: char) -> Option<u8> {
    const HIGH: [(char, u8); 27] = [
        ('€', 0x80),
        ('‚', 0x82),
        ('ƒ', 0x83),
        ('„', 0x84),
        ('…', 0x85),
        ('†', 0x86),
        ('‡', 0x87),
        ('ˆ', 0x88),
        ('‰', 0x89),
        ('Š', 0x8A),
        ('‹', 0x8B),
        ('Œ', 0x8C),
        ('Ž', 0x8E),
        ('‘', 0x91),
        ('’', 0x92),
        ('“', 0x93),
        ('”', 0x94),
        ('•', 0x95),
        ('–', 0x96),
        ('—', 0x97),
        ('˜', 0x98),
        ('™', 0x99),
        ('š', 0x9A),
        ('›', 0x9B),
        ('œ', 0x9C),
        ('ž', 0x9E),
        ('Ÿ', 0x9F),
    ];
    match c as u32 {
        0x80..=0xFF => Some(c as u32 as u8),
        _ => HIGH.iter().find(|(h, _)| *h == c).map(|&(_, b)| b),
    }
}

#[cfg(test)]
mod tests {
    use super::clean;

    #[test]
    fn repairs_what_ftfy_repairs() {
        assert_eq!(clean("fish &amp;amp; chips"), "fish & chips");
        assert_eq!(clean("&lt;b&gt;"), "<b>");
        assert_eq!(clean("ﬁne ﬂower"), "fine flower");
        assert_eq!(clean("Ｆｕｌｌ"), "Full");
        assert_eq!(clean("it’s a “daisy”"), "it's a \"daisy\"");
        assert_eq!(clean("tab\tand\u{7}bell"), "tab andbell");
        assert_eq!(clean("cafÃ© mojibake"), "café mojibake");
    }

    #[test]
    fn leaves_ordinary_text_alone() {
        for text in [
            "café au lait",
            "½ of a flower",
            "x²",
            "ellipsis…",
            "Zürich",
            "タンポポ",
        ] {
            assert_eq!(clean(text), text);
        }
        assert_eq!(
            clean("  lots   of\twhitespace \n here  "),
            "lots of whitespace here"
        );
    }
}
