//! The dev/test split. An image's side depends on its bytes and the seed alone: never on its
//! label, name, folder or position, nor on any other image. Relabelling test images (or
//! renaming, adding or removing files) therefore moves no image, and a search on the dev
//! side cannot learn which images it will be judged on. Each class gets `dev_fraction` of its
//! images in expectation; the report counts them and warns when too few.

use ontosweep_experiment::SplitSpec;
use sha2::{Digest, Sha256};

/// Fewest dev images per class before a search result is called untrustworthy: below it one
/// image moves a class's recall by more than 5 points.
pub const MIN_DEV_PER_CLASS: usize = 20;

/// Whether the image with content key `content` (its sha256, hex) is in the dev split.
pub fn is_dev(spec: SplitSpec, content: &str) -> bool {
    let digest = Sha256::new()
        .chain_update(b"ontosweep split\0")
        .chain_update(spec.seed.to_le_bytes())
        .chain_update(content.as_bytes())
        .finalize();
    let bits = u64::from_le_bytes(digest[..8].try_into().expect("8 bytes"));
    // The top 53 bits, uniform in [0, 1).
    let uniform = (bits >> 11) as f64 / (1u64 << 53) as f64;
    uniform < spec.dev_fraction
}

/// Classes a warning names; the rest are counted, and `run.json` has every class's count.
pub const CLASSES_NAMED: usize = 5;

/// One side of the split, as a warning about it names it.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Side {
    /// What a search chooses on.
    Dev,
    /// What every figure of the report is measured on.
    Test,
}

/// Warnings about a side of the split too small to read: per class counts below
/// [`MIN_DEV_PER_CLASS`], the first [`CLASSES_NAMED`] named with their counts.
pub fn small_split_warnings(side: Side, classes: &[String], labels: &[usize]) -> Vec<String> {
    let mut counts = vec![0usize; classes.len()];
    for &label in labels {
        counts[label] += 1;
    }
    let small: Vec<String> = classes
        .iter()
        .zip(&counts)
        .filter(|&(_, &n)| n < MIN_DEV_PER_CLASS)
        .map(|(class, n)| format!("{class}: {n}"))
        .collect();
    if small.is_empty() {
        return Vec::new();
    }
    let every_count = match side {
        Side::Dev => "run.json, `split.dev_images_per_class`",
        Side::Test => "the report's class table",
    };
    let named = if small.len() > CLASSES_NAMED {
        format!(
            "{}, … {} more; every class's count is in {every_count}",
            small[..CLASSES_NAMED].join(", "),
            small.len() - CLASSES_NAMED
        )
    } else {
        small.join(", ")
    };
    let below = format!(
        "{} class{} below {MIN_DEV_PER_CLASS} ({named})",
        small.len(),
        if small.len() == 1 { "" } else { "es" },
    );
    let n = labels.len();
    vec![match side {
        Side::Dev => format!(
            "the dev split is too small to trust a search on it: {n} dev images in all, and {below}. One image then moves a class's recall by more than 5 points, so the chosen prompts may fit these images rather than the class; compare the dev and test figures, and use more images or a larger `split.dev_fraction`"
        ),
        Side::Test => format!(
            "the test split, on which every figure is measured, is too small to read: {n} test image{} in all, and {below}. One image then moves a class's recall by more than 5 points{}; read the intervals beside each figure, and use more images or a smaller `split.dev_fraction`",
            if n == 1 { "" } else { "s" },
            if n < 100 {
                format!(", and the accuracy by {:.1}", 100.0 / n.max(1) as f64)
            } else {
                String::new()
            }
        ),
    }]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(i: usize) -> String {
        format!("{:064x}", i * 7919 + 13)
    }

    #[test]
    fn the_side_depends_on_content_and_seed_only() {
        let spec = SplitSpec {
            dev_fraction: 0.5,
            seed: 0,
        };
        let sides: Vec<bool> = (0..2_000).map(|i| is_dev(spec, &key(i))).collect();
        let dev = sides.iter().filter(|&&d| d).count();
        assert!((900..1_100).contains(&dev), "{dev} of 2000");
        // The same content gives the same side, whatever else is asked in between.
        assert_eq!(is_dev(spec, &key(5)), sides[5]);
        let reseeded: Vec<bool> = (0..2_000)
            .map(|i| is_dev(SplitSpec { seed: 1, ..spec }, &key(i)))
            .collect();
        assert_ne!(sides, reseeded);
        let quarter = (0..2_000)
            .filter(|&i| {
                is_dev(
                    SplitSpec {
                        dev_fraction: 0.25,
                        ..spec
                    },
                    &key(i),
                )
            })
            .count();
        assert!((400..600).contains(&quarter), "{quarter} of 2000");
    }

    #[test]
    fn small_classes_are_named_with_their_counts() {
        let classes = vec!["a".to_string(), "b".to_string()];
        let mut labels = vec![0; 25];
        labels.extend([1; 3]);
        let w = small_split_warnings(Side::Dev, &classes, &labels);
        assert_eq!(w.len(), 1);
        assert!(
            w[0].contains("28 dev images") && w[0].contains("(b: 3)"),
            "{w:?}"
        );
        assert!(
            small_split_warnings(Side::Dev, &classes, &[vec![0; 20], vec![1; 20]].concat())
                .is_empty()
        );
    }

    #[test]
    fn a_thousand_small_classes_are_counted_not_listed() {
        let classes: Vec<String> = (0..1000).map(|c| format!("class-{c:04}")).collect();
        let labels: Vec<usize> = (0..1000).collect();
        let w = small_split_warnings(Side::Dev, &classes, &labels);
        assert_eq!(w.len(), 1);
        assert!(w[0].contains("1000 classes below"), "{}", w[0]);
        assert!(w[0].contains("(class-0000: 1, class-0001: 1"), "{}", w[0]);
        assert!(
            w[0].contains("… 995 more") && w[0].contains("run.json"),
            "{}",
            w[0]
        );
        assert!(!w[0].contains("class-0005"), "{}", w[0]);
        assert!(w[0].len() < 1000, "{} bytes", w[0].len());
    }

    #[test]
    fn a_small_test_split_is_named_as_the_test_split() {
        let classes = vec!["a".to_string(), "b".to_string()];
        let w = small_split_warnings(Side::Test, &classes, &[0, 0, 1, 1]);
        assert_eq!(w.len(), 1);
        assert!(
            w[0].contains("the test split")
                && w[0].contains("4 test images")
                && w[0].contains("accuracy by 25.0")
                && w[0].contains("smaller `split.dev_fraction`"),
            "{w:?}"
        );
        let enough = [vec![0; 20], vec![1; 20]].concat();
        assert!(small_split_warnings(Side::Test, &classes, &enough).is_empty());
    }
}
