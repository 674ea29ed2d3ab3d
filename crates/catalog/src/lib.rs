//! The standard zero-shot benchmarks' class names and prompt templates, exactly as
//! CLIP_benchmark publishes them (its English lists; ImageNet's 80 templates are OpenAI's),
//! and ImageNet-1k's WordNet ids in class-index order. Carried as data with their source and
//! licence (`data/README.md`); an experiment names a list as `clip-benchmark/<dataset>`.
//!
//! Deliberately absent: no I/O, no dataset reading, no placeholder rewriting: templates are
//! given as published, with CLIP_benchmark's `{c}`.
//!
//! ```
//! let names = ontosweep_catalog::class_names("clip-benchmark/imagenet1k").unwrap();
//! assert_eq!((names.len(), names[0].as_str()), (1000, "tench"));
//! let templates = ontosweep_catalog::templates("clip-benchmark/cifar10").unwrap();
//! assert_eq!(templates[0], "a photo of a {c}.");
//! assert_eq!(ontosweep_catalog::imagenet_wnids()[0], "n01440764");
//! ```

use std::collections::BTreeMap;
use std::sync::OnceLock;

/// How an experiment names a list of this catalog: `clip-benchmark/cifar10`.
pub const PREFIX: &str = "clip-benchmark/";

/// Where the lists come from, for `--show-prompts` and the report.
pub const SOURCE: &str = "LAION-AI/CLIP_benchmark (commit 48de38c, MIT licence); CIFAR names from the datasets' own meta files";

type Lists = BTreeMap<String, Vec<String>>;

fn parse_json(text: &str) -> Lists {
    serde_json::from_str(text).expect("the catalog's JSON is valid (a unit test reads it)")
}

fn lines(text: &str) -> Vec<String> {
    text.lines().map(str::to_string).collect()
}

fn all_class_names() -> &'static Lists {
    static NAMES: OnceLock<Lists> = OnceLock::new();
    NAMES.get_or_init(|| {
        let mut lists = parse_json(include_str!("../data/clip_benchmark/en_classnames.json"));
        lists.insert(
            "cifar10".into(),
            lines(include_str!("../data/cifar/cifar10.txt")),
        );
        lists.insert(
            "cifar100".into(),
            lines(include_str!("../data/cifar/cifar100.txt")),
        );
        lists
    })
}

fn all_templates() -> &'static Lists {
    static TEMPLATES: OnceLock<Lists> = OnceLock::new();
    TEMPLATES.get_or_init(|| {
        parse_json(include_str!(
            "../data/clip_benchmark/en_zeroshot_classification_templates.json"
        ))
    })
}

/// The dataset a catalog name such as `clip-benchmark/cifar10` means, if it has the prefix.
pub fn dataset_of(name: &str) -> Option<&str> {
    name.strip_prefix(PREFIX)
}

/// A dataset's class names in index order: `clip-benchmark/<dataset>`.
pub fn class_names(name: &str) -> Option<&'static [String]> {
    all_class_names().get(dataset_of(name)?).map(Vec::as_slice)
}

/// A dataset's zero-shot templates as published (`{c}` marks the class): `clip-benchmark/<dataset>`.
pub fn templates(name: &str) -> Option<&'static [String]> {
    all_templates().get(dataset_of(name)?).map(Vec::as_slice)
}

/// Every name [`class_names`] knows, prefixed.
pub fn class_name_lists() -> Vec<String> {
    all_class_names()
        .keys()
        .map(|k| format!("{PREFIX}{k}"))
        .collect()
}

/// Every name [`templates`] knows, prefixed.
pub fn template_lists() -> Vec<String> {
    all_templates()
        .keys()
        .map(|k| format!("{PREFIX}{k}"))
        .collect()
}

/// ILSVRC-2012's WordNet ids, sorted: index N is the class `clip-benchmark/imagenet1k` names
/// at index N, as torchvision's `ImageNet` and `ImageFolder` number the `val/<wnid>/` folders.
pub fn imagenet_wnids() -> &'static [String] {
    static WNIDS: OnceLock<Vec<String>> = OnceLock::new();
    WNIDS.get_or_init(|| lines(include_str!("../data/imagenet1k_wnids.txt")))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    #[test]
    fn every_list_parses_and_has_its_published_size() {
        let sizes = [
            ("imagenet1k", 1000),
            ("cifar10", 10),
            ("cifar100", 100),
            ("flowers", 102),
            ("pets", 37),
        ];
        for (dataset, size) in sizes {
            let names = class_names(&format!("{PREFIX}{dataset}")).unwrap();
            assert_eq!(names.len(), size, "{dataset}");
        }
        let templates_of = |d: &str| templates(&format!("{PREFIX}{d}")).unwrap().len();
        assert_eq!(templates_of("imagenet1k"), 80);
        assert_eq!(templates_of("cifar10"), 18);
        assert_eq!(templates_of("food101"), 1);
        assert!(
            class_names("imagenet1k").is_none(),
            "the prefix is required"
        );
        assert!(templates("clip-benchmark/no-such-set").is_none());
    }

    #[test]
    fn every_template_has_one_class_slot_and_wnids_are_sorted_and_distinct() {
        for list in template_lists() {
            for template in templates(&list).unwrap() {
                assert_eq!(template.matches("{c}").count(), 1, "{list}: {template}");
            }
        }
        let wnids = imagenet_wnids();
        assert_eq!(wnids.len(), 1000);
        assert!(wnids.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(wnids.iter().collect::<BTreeSet<_>>().len(), 1000);
    }

    #[test]
    fn imagenet_templates_are_openais_80() {
        let published = templates("clip-benchmark/imagenet1k").unwrap();
        assert_eq!(published[0], "a bad photo of a {c}.");
        assert_eq!(published[79], "a tattoo of the {c}.");
    }
}
