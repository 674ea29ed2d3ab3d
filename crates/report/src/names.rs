/// A file-name-safe form of a model or ontology name (`confusion_<model>_<ontology>.csv`).
pub fn file_stem(name: &str) -> String {
    let stem: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if stem.is_empty() { "_".into() } else { stem }
}

#[cfg(test)]
mod tests {
    #[test]
    fn unsafe_characters_become_underscores() {
        assert_eq!(super::file_stem("picture of a/daisy"), "picture_of_a_daisy");
        assert_eq!(super::file_stem("clip-vit-b32"), "clip-vit-b32");
    }
}
