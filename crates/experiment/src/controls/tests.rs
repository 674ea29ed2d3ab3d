use super::*;

fn control(seed: u64) -> Control {
    Control {
        kind: ControlKind::RandomWords,
        of: "descriptive".into(),
        group: "noise".into(),
        seed,
        seeds: 1,
        shuffled: BTreeMap::new(),
        excluded: BTreeSet::new(),
    }
}

#[test]
fn random_words_replace_what_follows_the_class_one_for_one() {
    let c = control(1);
    let p = c.random_words("daisy", 0, "a photo of a daisy, a type of flower.", "daisy");
    assert!(p.starts_with("a photo of a daisy, "), "{p}");
    assert!(p.ends_with('.'), "{p}");
    assert_eq!(p.split_whitespace().count(), 9, "{p}");
    assert!(!p.contains("type"), "{p}");
    // Nothing after the class: two words right after it, the full stop kept.
    let p = c.random_words("daisy", 0, "a photo of a daisy.", "daisy");
    assert!(
        p.starts_with("a photo of a daisy ") && p.ends_with('.'),
        "{p}"
    );
    assert_eq!(p.split_whitespace().count(), 7, "{p}");
    // No class word: every word replaced.
    let p = c.random_words("dandelion", 0, "yellow weed", "dandelion");
    assert_eq!(p.split_whitespace().count(), 2, "{p}");
    assert!(!p.contains("yellow") && !p.contains("weed"), "{p}");
    // A word inside another word is not the class: `rose` in `roses` stays whole.
    let p = c.random_words("rose", 0, "many roses by a rose bush", "rose");
    assert!(p.starts_with("many roses by a rose "), "{p}");
}

#[test]
fn controls_are_deterministic_for_a_seed_and_differ_across_seeds() {
    let prompt = "a photo of a daisy, a type of flower.";
    let a = control(1).random_words("daisy", 0, prompt, "daisy");
    assert_eq!(a, control(1).random_words("daisy", 0, prompt, "daisy"));
    let others: BTreeSet<String> = (2..7)
        .map(|s| control(s).random_words("daisy", 0, prompt, "daisy"))
        .collect();
    assert!(!others.contains(&a) && others.len() == 5, "{a} {others:?}");
    // Excluded words (a class's words) are never drawn.
    let mut c = control(1);
    c.excluded = words().into_iter().skip(2).map(String::from).collect();
    let p = c.random_words("daisy", 0, prompt, "daisy");
    let allowed: Vec<&str> = words().into_iter().take(2).collect();
    for word in p.trim_end_matches('.').split_whitespace().skip(5) {
        assert!(allowed.contains(&word), "{word} in {p}");
    }
    let classes: Vec<String> = ["a", "b", "c", "d", "e"].map(String::from).to_vec();
    let one = shuffle(&classes, 1);
    assert_eq!(one, shuffle(&classes, 1));
    assert!(
        one.iter().all(|(c, to)| c != to),
        "a cycle moves every class: {one:?}"
    );
    assert!((2..10).any(|s| shuffle(&classes, s) != one));
}

#[test]
fn the_generators_are_the_ones_documented() {
    // Reference values a reimplementation elsewhere can check against.
    assert_eq!(fnv1a(b""), 0xCBF2_9CE4_8422_2325);
    assert_eq!(fnv1a(b"a"), 0xAF63_DC4C_8601_EC8C);
    let mut rng = SplitMix64::new(0);
    assert_eq!(rng.next_u64(), 0xE220_A839_7B1D_CDAF);
    assert_eq!(
        Control::template_only("a photo of a {}."),
        "a photo of a object."
    );
    assert!(words().len() >= 200);
}
