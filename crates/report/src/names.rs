//! File names of the per-(model, ontology) report files, computed once per report so that
//! the tables, the charts and the page agree, and no two pairs share a file.

use std::collections::{HashMap, HashSet};

use ontosweep_results::SweepResults;
use sha2::{Digest, Sha256};

/// Longest readable part taken from one name; keeps every file name far below 255 bytes.
const MAX_PART: usize = 48;
/// Hex digits of the name hash appended to stems that had to be changed.
const HASH_DIGITS: usize = 8;

/// The file stem part of every (model, ontology) pair, indexed like
/// `results.models[m].ontologies[o]`; each kind of file adds its own prefix.
pub struct ReportFiles {
    stems: Vec<Vec<String>>,
}

impl ReportFiles {
    pub fn new(results: &SweepResults) -> Self {
        let names: Vec<(&str, &str)> = results
            .models
            .iter()
            .flat_map(|model| {
                model
                    .ontologies
                    .iter()
                    .map(|o| (model.model.as_str(), o.ontology.as_str()))
            })
            .collect();
        let mut flat = unique_stems(&names).into_iter();
        let stems = results
            .models
            .iter()
            .map(|model| {
                model
                    .ontologies
                    .iter()
                    .map(|_| flat.next().unwrap())
                    .collect()
            })
            .collect();
        ReportFiles { stems }
    }

    pub fn confusion_csv(&self, model: usize, ontology: usize) -> String {
        format!("confusion_{}.csv", self.stems[model][ontology])
    }

    pub fn confusion_svg(&self, model: usize, ontology: usize) -> String {
        format!("confusion_{}.svg", self.stems[model][ontology])
    }

    /// The most confused pairs' chart, for many classes.
    pub fn confused_pairs_svg(&self, model: usize, ontology: usize) -> String {
        format!("confused_pairs_{}.svg", self.stems[model][ontology])
    }

    /// Every class's probability for every image, when asked for.
    pub fn probabilities_npy(&self, model: usize, ontology: usize) -> String {
        format!("probabilities_{}.npy", self.stems[model][ontology])
    }

    /// The result in CLIP_benchmark's schema: `<model>_<ontology>.json` for plain names.
    pub fn clip_benchmark_json(&self, model: usize, ontology: usize) -> String {
        format!("{}.json", self.stems[model][ontology])
    }

    /// The prompt search's path, for a searched ontology.
    pub fn search_svg(&self, model: usize, ontology: usize) -> String {
        format!("search_{}.svg", self.stems[model][ontology])
    }

    /// The searched prompts as an experiment-file snippet.
    pub fn search_yaml(&self, model: usize, ontology: usize) -> String {
        format!("search_{}.yaml", self.stems[model][ontology])
    }
}

/// Stems for `(model, ontology)` pairs, unique even on case-insensitive file systems.
fn unique_stems(pairs: &[(&str, &str)]) -> Vec<String> {
    let mut stems: Vec<String> = pairs.iter().map(|&(m, o)| natural_stem(m, o)).collect();
    // Readable stems that differ only in case get a hash of the exact names.
    let mut counts: HashMap<String, usize> = HashMap::new();
    for stem in &stems {
        *counts.entry(stem.to_ascii_lowercase()).or_default() += 1;
    }
    for (stem, &(m, o)) in stems.iter_mut().zip(pairs) {
        if counts[&stem.to_ascii_lowercase()] > 1 && is_safe(m) && is_safe(o) {
            *stem = hashed_stem(m, o);
        }
    }
    // Identical names (or a hash clash): number the later ones, avoiding every stem in use.
    let mut taken: HashSet<String> = stems.iter().map(|s| s.to_ascii_lowercase()).collect();
    let mut claimed = HashSet::new();
    for stem in &mut stems {
        if !claimed.insert(stem.to_ascii_lowercase()) {
            let free = (2..)
                .map(|k| format!("{stem}-{k}"))
                .find(|s| !taken.contains(&s.to_ascii_lowercase()))
                .expect("some number is free");
            taken.insert(free.to_ascii_lowercase());
            claimed.insert(free.to_ascii_lowercase());
            *stem = free;
        }
    }
    stems
}

/// `<model>_<ontology>` when both names are safe; otherwise a sanitised form plus a hash.
/// Safe names have no `_`, so the readable form is unambiguous and can never equal a
/// hashed one (which has at least two `_`).
fn natural_stem(model: &str, ontology: &str) -> String {
    if is_safe(model) && is_safe(ontology) {
        format!("{model}_{ontology}")
    } else {
        hashed_stem(model, ontology)
    }
}

fn hashed_stem(model: &str, ontology: &str) -> String {
    format!(
        "{}_{}_{}",
        sanitise(model),
        sanitise(ontology),
        name_hash(model, ontology)
    )
}

/// Kept as is in a file name: short, ASCII letters, digits, `-` and `.`, no leading dot.
fn is_safe(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_PART
        && !name.starts_with('.')
        && name.chars().all(safe_char)
}

fn safe_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '-' || c == '.'
}

/// A readable, bounded, ASCII-only form of a name (`日本` → `__`).
fn sanitise(name: &str) -> String {
    let stem: String = name
        .chars()
        .take(MAX_PART)
        .map(|c| if safe_char(c) { c } else { '_' })
        .collect();
    if stem.is_empty() { "_".into() } else { stem }
}

/// A hash of the exact names, length-prefixed so that no split of the text is ambiguous.
fn name_hash(model: &str, ontology: &str) -> String {
    let mut hasher = Sha256::new();
    for name in [model, ontology] {
        hasher.update((name.len() as u64).to_le_bytes());
        hasher.update(name.as_bytes());
    }
    hex::encode(hasher.finalize())[..HASH_DIGITS].to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stems(pairs: &[(&str, &str)]) -> Vec<String> {
        unique_stems(pairs)
    }

    fn assert_unique(stems: &[String]) {
        let lower: HashSet<String> = stems.iter().map(|s| s.to_ascii_lowercase()).collect();
        assert_eq!(lower.len(), stems.len(), "{stems:?}");
        for s in stems {
            assert!(s.len() + "confusion_.csv".len() < 200, "{s}");
            assert!(!s.contains(['/', '\\', '\0']), "{s}");
        }
    }

    #[test]
    fn safe_names_stay_readable() {
        assert_eq!(
            stems(&[("clip-tiny-random", "plain"), ("clip-vit-b32", "v1.2")]),
            ["clip-tiny-random_plain", "clip-vit-b32_v1.2"]
        );
    }

    #[test]
    fn names_that_sanitise_alike_get_distinct_stems() {
        let s = stems(&[
            ("m", "plain words"),
            ("m", "plain_words"),
            ("m", "日本"),
            ("m", "中文"),
            ("a_b", "c"),
            ("a", "b_c"),
            ("m", "Plain"),
            ("m", "plain"),
            ("m", ".hidden"),
        ]);
        assert_unique(&s);
        assert!(s[0].starts_with("m_plain_words_"), "{}", s[0]);
        assert!(s[2].starts_with("m____"), "{}", s[2]);
    }

    #[test]
    fn identical_pairs_and_long_names_are_handled() {
        let long = "x".repeat(1000);
        let wide = "日".repeat(300);
        let s = stems(&[
            ("m", "p"),
            ("m", "p"),
            ("m", "p"),
            (&long, &wide),
            (&long, &long),
        ]);
        assert_unique(&s);
        assert_eq!(s[1], format!("{}-2", s[0]));
        assert_eq!(s[2], format!("{}-3", s[0]));
    }

    #[test]
    fn stems_are_deterministic() {
        let pairs = [("m", "a b"), ("M", "a b"), ("m", "p")];
        assert_eq!(stems(&pairs), stems(&pairs));
    }
}
