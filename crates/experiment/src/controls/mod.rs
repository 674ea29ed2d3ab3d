//! Control ontologies: prompts generated deterministically from another ontology and a seed,
//! scored like any other, so that a wording's gain can be read beside what noise gains.
//!
//! - `random-words`: each prompt of the mirrored ontology keeps everything up to and including
//!   the class's words; every word after them is replaced, one for one, by a random word
//!   (trailing punctuation kept); a prompt with nothing after the class's words gets two
//!   random words right after them. A prompt without the class's words has all of its words
//!   replaced. Words come from `words.txt`, never one that is part of a class's words.
//! - `shuffled-names`: every class takes the prompts the mirrored ontology gives another
//!   class: a random cyclic permutation of the classes (Sattolo's algorithm), so no class
//!   keeps its own.
//! - `template-only`: the mirrored ontology's templates with `{}` filled by [`NEUTRAL`]:
//!   the same prompts for every class, the floor a template reaches without any class name.
//!
//! Randomness is SplitMix64. `random-words` seeds it per prompt with FNV-1a of
//! `"<seed>\0<class>\0<prompt index>"`, so a class's prompts do not depend on the other
//! classes or their order; `shuffled-names` seeds it with the seed and draws over the classes
//! in the dataset's order.

mod random;

use std::collections::{BTreeMap, BTreeSet};

pub use random::{SplitMix64, fnv1a};

/// The word `template-only` puts in every template's slot.
pub const NEUTRAL: &str = "object";

/// The random-words control's source: plain English words.
pub fn words() -> Vec<&'static str> {
    include_str!("words.txt")
        .lines()
        .filter(|w| !w.is_empty())
        .collect()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ControlKind {
    RandomWords,
    ShuffledNames,
    TemplateOnly,
}

impl ControlKind {
    pub const ALL: [(&'static str, ControlKind); 3] = [
        ("random-words", ControlKind::RandomWords),
        ("shuffled-names", ControlKind::ShuffledNames),
        ("template-only", ControlKind::TemplateOnly),
    ];

    pub fn name(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(_, k)| *k == self)
            .map(|(n, _)| *n)
            .expect("every kind is listed")
    }

    /// Whether seeds change it.
    pub fn is_seeded(self) -> bool {
        self != ControlKind::TemplateOnly
    }
}

/// One control ontology (one seed of it).
#[derive(Debug, Clone, PartialEq)]
pub struct Control {
    pub kind: ControlKind,
    /// The ontology it mirrors.
    pub of: String,
    /// The name written in the file; seeded copies are `<group>.seed<k>`.
    pub group: String,
    pub seed: u64,
    /// How many seeds the group has.
    pub seeds: usize,
    /// `shuffled-names`: the class whose prompts each class takes (set once classes are known).
    pub shuffled: BTreeMap<String, String>,
    /// `random-words`: words never drawn, as they are part of a class's words.
    pub excluded: BTreeSet<String>,
}

impl Control {
    /// `random-words`: `prompt` of `class` (its `index`-th prompt), whose class words are `word`.
    pub fn random_words(&self, class: &str, index: usize, prompt: &str, word: &str) -> String {
        let words: Vec<&str> = words()
            .into_iter()
            .filter(|w| !self.excluded.contains(*w))
            .collect();
        let mut rng = SplitMix64::new(fnv1a(format!("{}\0{class}\0{index}", self.seed).as_bytes()));
        let mut draw = || words[(rng.next_u64() % words.len() as u64) as usize];
        let (kept, rest) = match find_word(prompt, word) {
            Some(end) => prompt.split_at(end),
            None => ("", prompt),
        };
        let replaced: Vec<String> = rest
            .split_whitespace()
            .map(|token| replace_word(token, &mut draw))
            .collect();
        let any_word = rest.split_whitespace().any(has_letters);
        if any_word || kept.is_empty() {
            let joined = replaced.join(" ");
            return match (kept.is_empty(), rest.starts_with(char::is_whitespace)) {
                (true, _) => joined,
                (false, true) => format!("{kept} {joined}"),
                (false, false) => format!("{kept}{joined}"),
            };
        }
        // Nothing follows the class's words but punctuation: two words go right after them.
        format!("{kept} {} {}{rest}", draw(), draw())
    }

    /// `template-only`: the template with its slot filled by [`NEUTRAL`].
    pub fn template_only(template: &str) -> String {
        template.replace("{}", NEUTRAL)
    }
}

/// A cyclic permutation of `classes` from `seed` (Sattolo): class → the class whose prompts
/// it takes; with one class, itself.
pub fn shuffle(classes: &[String], seed: u64) -> BTreeMap<String, String> {
    let mut order: Vec<usize> = (0..classes.len()).collect();
    let mut rng = SplitMix64::new(seed);
    for i in (1..order.len()).rev() {
        let j = (rng.next_u64() % i as u64) as usize;
        order.swap(i, j);
    }
    classes
        .iter()
        .zip(&order)
        .map(|(c, &o)| (c.clone(), classes[o].clone()))
        .collect()
}

/// The byte offset just past the first whole-word occurrence of `word` in `prompt`.
fn find_word(prompt: &str, word: &str) -> Option<usize> {
    if word.is_empty() {
        return None;
    }
    let mut from = 0;
    while let Some(at) = prompt[from..].find(word) {
        let start = from + at;
        let end = start + word.len();
        let before = prompt[..start].chars().next_back();
        let after = prompt[end..].chars().next();
        let boundary = |c: Option<char>| c.is_none_or(|c| !c.is_alphanumeric());
        if boundary(before) && boundary(after) {
            return Some(end);
        }
        from = start + word.len().max(1);
        while !prompt.is_char_boundary(from) {
            from += 1;
        }
    }
    None
}

fn has_letters(token: &str) -> bool {
    token.chars().any(char::is_alphanumeric)
}

/// A token's word replaced, the punctuation around it kept (`flower.` → `stone.`).
fn replace_word<'w>(token: &str, draw: &mut impl FnMut() -> &'w str) -> String {
    if !has_letters(token) {
        return token.to_string();
    }
    let start = token.find(char::is_alphanumeric).unwrap_or(0);
    let end = token.rfind(char::is_alphanumeric).map_or(token.len(), |i| {
        i + token[i..].chars().next().map_or(1, char::len_utf8)
    });
    format!("{}{}{}", &token[..start], draw(), &token[end..])
}

#[cfg(test)]
mod tests;
