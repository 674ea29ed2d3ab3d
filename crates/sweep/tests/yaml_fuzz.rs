//! Random and mutated experiment files never panic, and every error names a line and column.

use std::path::Path;

use ontosweep_sweep::Experiment;
use proptest::prelude::*;

const VALID: &str = include_str!("../../../experiments/flowers-mini.yaml");

fn check(source: &str) {
    if let Err(errors) = Experiment::parse(Path::new("exp.yaml"), source) {
        assert!(!errors.0.is_empty());
        for d in &errors.0 {
            let text = d.to_string();
            let rest = text
                .strip_prefix("exp.yaml:")
                .unwrap_or_else(|| panic!("unlocated: {text}"));
            let mut parts = rest.splitn(3, ':');
            let line: usize = parts
                .next()
                .unwrap()
                .parse()
                .unwrap_or_else(|_| panic!("no line: {text}"));
            let column: usize = parts
                .next()
                .unwrap()
                .parse()
                .unwrap_or_else(|_| panic!("no column: {text}"));
            assert!(line >= 1 && column >= 1, "{text}");
            assert!(
                line <= source.lines().count().max(1) + 1,
                "line {line} beyond the file: {text}"
            );
        }
    }
}

#[derive(Debug, Clone)]
enum Mutation {
    Delete { at: usize, len: usize },
    Insert { at: usize, text: String },
    DuplicateLine(usize),
    SwapLines(usize, usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let snippet = prop_oneof![
        Just(":".to_string()),
        Just("- ".to_string()),
        Just("\n  ".to_string()),
        Just("{}".to_string()),
        Just("[".to_string()),
        Just("\"".to_string()),
        Just("\t".to_string()),
        Just("&a *a ".to_string()),
        Just("baseline: nope\n".to_string()),
        "[a-z{}:\\- \n]{1,12}",
    ];
    prop_oneof![
        (0..2000usize, 1..40usize).prop_map(|(at, len)| Mutation::Delete { at, len }),
        (0..2000usize, snippet).prop_map(|(at, text)| Mutation::Insert { at, text }),
        (0..60usize).prop_map(Mutation::DuplicateLine),
        (0..60usize, 0..60usize).prop_map(|(a, b)| Mutation::SwapLines(a, b)),
    ]
}

fn apply(source: &str, m: &Mutation) -> String {
    let chars: Vec<char> = source.chars().collect();
    let mut lines: Vec<&str> = source.lines().collect();
    match m {
        Mutation::Delete { at, len } => {
            let at = at % chars.len().max(1);
            chars[..at]
                .iter()
                .chain(chars[(at + len).min(chars.len())..].iter())
                .collect()
        }
        Mutation::Insert { at, text } => {
            let at = at % (chars.len() + 1);
            chars[..at].iter().collect::<String>() + text + &chars[at..].iter().collect::<String>()
        }
        Mutation::DuplicateLine(i) => {
            let i = i % lines.len();
            lines.insert(i, lines[i]);
            lines.join("\n")
        }
        Mutation::SwapLines(a, b) => {
            let (a, b) = (a % lines.len(), b % lines.len());
            lines.swap(a, b);
            lines.join("\n")
        }
    }
}

proptest! {
    // Seeded: every run tries the same cases, so a failure seen once is seen again.
    #![proptest_config(ProptestConfig {
        rng_seed: proptest::test_runner::RngSeed::Fixed(0x0A7_05EE9),
        ..ProptestConfig::with_cases(512)
    })]

    #[test]
    fn mutated_experiments_never_panic_and_errors_are_located(mutations in prop::collection::vec(mutation(), 1..4)) {
        let source = mutations.iter().fold(VALID.to_string(), |s, m| apply(&s, m));
        check(&source);
    }

    #[test]
    fn random_text_never_panics(source in "[ -~\n\t]{0,300}") {
        check(&source);
    }
}

#[test]
fn the_committed_experiments_are_valid() {
    for file in ["flowers.yaml", "flowers-mini.yaml"] {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../experiments")
            .join(file);
        Experiment::load(&path).unwrap_or_else(|e| panic!("{e}"));
    }
}
