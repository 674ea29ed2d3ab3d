//! The experiment as checked, typed values: what a sweep reads.

use std::collections::BTreeMap;
use std::path::PathBuf;

use ontosweep_clip::Precision;

use crate::controls::{Control, ControlKind};
use crate::search::{SearchSpec, SplitSpec};

/// A parsed experiment, with paths resolved against the file's folder.
#[derive(Debug, Clone)]
pub struct Experiment {
    pub file: PathBuf,
    pub source: String,
    pub name: String,
    pub dataset: DatasetSpec,
    pub models: Vec<ModelEntry>,
    pub baseline: String,
    /// In file order.
    pub ontologies: Vec<Ontology>,
    /// Present when images are held out: always when an ontology is searched.
    pub split: Option<SplitSpec>,
    /// What the report holds beyond its defaults.
    pub report: ReportSpec,
    /// How the ontology checks before scoring treat what they find.
    pub checks: CheckSpec,
}

/// The experiment's `checks:` section.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckSpec {
    /// Two classes with identical prompts (after the model's clean-up and tokenisation) stop
    /// the run, unless the experiment says `identical_prompts: warn` (to reproduce a
    /// published figure whose class list names two classes alike).
    pub identical_prompts_stop: bool,
    /// Pairs of classes whose text embeddings have at least this cosine are named.
    pub similar_classes: f64,
}

impl Default for CheckSpec {
    fn default() -> Self {
        CheckSpec {
            identical_prompts_stop: true,
            similar_classes: DEFAULT_SIMILAR_CLASSES,
        }
    }
}

/// The cosine above which two classes' text embeddings are named as near duplicates.
pub const DEFAULT_SIMILAR_CLASSES: f64 = 0.98;

/// The experiment's `report:` section.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ReportSpec {
    /// Every class's probability for every image, as `.npy` arrays; otherwise only the top
    /// classes and the true class's are kept (above `FEW_CLASSES` classes).
    pub all_probabilities: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct DatasetSpec {
    /// A folder with one sub-folder per class.
    pub root: Option<PathBuf>,
    /// Or a CSV file with `path,label` rows (paths relative to the CSV's folder).
    pub manifest: Option<PathBuf>,
    /// Or WebDataset tar shards (paths or patterns: `*`, `?`, `{000000..000009}`).
    pub webdataset: Vec<PathBuf>,
    /// Every class, one per line in index order (a shard's `.cls` indices refer to it); for
    /// shards or a manifest.
    pub classnames: Option<PathBuf>,
    /// A subset of classes, in this order; all folders (sorted) when absent.
    pub classes: Option<Vec<String>>,
    /// A known archive to fetch when the folder is missing.
    pub download: Option<String>,
    /// Per class: the words every template uses instead of the folder name (`roses: rose`),
    /// unless an ontology's own `names` say otherwise.
    pub names: BTreeMap<String, String>,
    /// Or a standard benchmark in one of its published on-disk forms.
    pub standard: Option<StandardDataset>,
    /// A catalog list naming every class in index order (`clip-benchmark/imagenet1k`), in
    /// place of the dataset's own names.
    pub name_list: Option<String>,
    /// How results name the dataset beside CLIP_benchmark's own (`cifar10`, `wds/cifar10`).
    pub benchmark_name: Option<String>,
}

/// A standard benchmark as its own tools leave it on disk.
#[derive(Debug, Clone, PartialEq)]
pub struct StandardDataset {
    pub kind: StandardKind,
    /// The folder the experiment names.
    pub folder: PathBuf,
    pub split: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StandardKind {
    /// CLIP_benchmark's WebDataset export: `<split>/nshards.txt`, `<split>/0.tar …`,
    /// `classnames.txt`, `zeroshot_classification_templates.txt`.
    ClipBenchmark,
    /// ImageNet's validation set as `val/<wnid>/` folders.
    ImageNet,
    /// CIFAR-10/100 as torchvision downloads them (the python-version batches).
    Cifar,
    /// Food-101's `images/<class>/` with `meta/<split>.txt`.
    Food101,
}

impl StandardKind {
    pub const ALL: [StandardKind; 4] = [
        StandardKind::ClipBenchmark,
        StandardKind::ImageNet,
        StandardKind::Cifar,
        StandardKind::Food101,
    ];

    /// The `dataset:` key that names it.
    pub fn key(self) -> &'static str {
        match self {
            StandardKind::ClipBenchmark => "clip_benchmark",
            StandardKind::ImageNet => "imagenet",
            StandardKind::Cifar => "cifar",
            StandardKind::Food101 => "food101",
        }
    }

    /// The splits it has, the default first; empty when any folder name may be a split.
    pub fn splits(self) -> &'static [&'static str] {
        match self {
            StandardKind::ClipBenchmark => &[],
            StandardKind::ImageNet => &["val", "train"],
            StandardKind::Cifar | StandardKind::Food101 => &["test", "train"],
        }
    }

    pub fn default_split(self) -> &'static str {
        self.splits().first().copied().unwrap_or("test")
    }
}

/// The file of a CLIP_benchmark folder that `templates: dataset` reads.
pub const CLIP_BENCHMARK_TEMPLATES: &str = "zeroshot_classification_templates.txt";

/// One `models:` entry: the model, and the precision it runs at when the entry says
/// (listing a model twice at two precisions puts their agreement in the report).
#[derive(Debug, Clone, PartialEq)]
pub struct ModelEntry {
    pub model: ModelRef,
    pub precision: Option<Precision>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ModelRef {
    /// `models/<id>.yaml`.
    Id(String),
    /// A model directory.
    Path(PathBuf),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Ontology {
    pub name: String,
    pub kind: OntologyKind,
}

#[derive(Debug, Clone, PartialEq)]
pub enum OntologyKind {
    /// Prompts written in the file.
    Written(WrittenPrompts),
    /// Prompts a search chooses on the dev split.
    Search(SearchSpec),
}

#[derive(Debug, Clone, PartialEq)]
pub struct WrittenPrompts {
    /// Applied to every class (through `names` when given).
    pub templates: Vec<String>,
    /// Per class: extra prompts written out.
    pub prompts: BTreeMap<String, Vec<String>>,
    /// Per class: the words templates use instead of the folder name.
    pub names: BTreeMap<String, String>,
    /// The dataset's `names`, for the classes this ontology does not name itself.
    pub display: BTreeMap<String, String>,
    /// Set for a control: the fields above are the mirrored ontology's, and this turns its
    /// prompts into the control's.
    pub control: Option<Control>,
}

impl WrittenPrompts {
    /// The prompts for `class`: templates applied to its name, then its own prompts (a
    /// control's: generated from those).
    pub fn prompts_for(&self, class: &str) -> Vec<String> {
        let Some(control) = &self.control else {
            return self.own_prompts(class);
        };
        match control.kind {
            ControlKind::RandomWords => self
                .own_prompts(class)
                .iter()
                .enumerate()
                .map(|(i, p)| control.random_words(class, i, p, self.word(class)))
                .collect(),
            ControlKind::ShuffledNames => {
                let other = control.shuffled.get(class).map_or(class, String::as_str);
                self.own_prompts(other)
            }
            ControlKind::TemplateOnly => self
                .templates
                .iter()
                .map(|t| Control::template_only(t))
                .collect(),
        }
    }

    /// The words templates put in the slot for `class`.
    pub fn word<'a>(&'a self, class: &'a str) -> &'a str {
        self.names
            .get(class)
            .or(self.display.get(class))
            .map_or(class, String::as_str)
    }

    fn own_prompts(&self, class: &str) -> Vec<String> {
        let word = self.word(class);
        let mut prompts: Vec<String> = self
            .templates
            .iter()
            .map(|t| t.replace("{}", word))
            .collect();
        prompts.extend(self.prompts.get(class).into_iter().flatten().cloned());
        prompts
    }
}

impl Experiment {
    /// What controls need of the classes: `shuffled-names` their permutation, `random-words`
    /// the words it must never draw (any class's words).
    pub fn adopt_classes(&mut self, classes: &[String]) {
        for ontology in &mut self.ontologies {
            let OntologyKind::Written(written) = &mut ontology.kind else {
                continue;
            };
            let excluded: std::collections::BTreeSet<String> = classes
                .iter()
                .flat_map(|c| {
                    let word = written.word(c).to_lowercase();
                    let mut all: Vec<String> = word
                        .split(|ch: char| !ch.is_alphanumeric())
                        .filter(|w| !w.is_empty())
                        .map(String::from)
                        .collect();
                    all.extend(
                        c.to_lowercase()
                            .split(|ch: char| !ch.is_alphanumeric())
                            .filter(|w| !w.is_empty())
                            .map(String::from),
                    );
                    all
                })
                .collect();
            if let Some(control) = &mut written.control {
                control.shuffled = crate::controls::shuffle(classes, control.seed);
                control.excluded = excluded;
            }
        }
    }

    /// Words a dataset gives its classes' prompts (a published name two classes share,
    /// `apple_pie` read as `apple pie`), wherever the experiment's `dataset.names` is silent.
    pub fn adopt_dataset_words(&mut self, words: &BTreeMap<String, String>) {
        for ontology in &mut self.ontologies {
            let display = match &mut ontology.kind {
                OntologyKind::Written(w) => &mut w.display,
                OntologyKind::Search(s) => &mut s.display,
            };
            for (class, word) in words {
                display.entry(class.clone()).or_insert_with(|| word.clone());
            }
        }
    }
}

impl Ontology {
    /// The control it is, if it is one.
    pub fn control(&self) -> Option<&Control> {
        self.written().and_then(|w| w.control.as_ref())
    }

    /// The prompts written for it, unless it is searched.
    pub fn written(&self) -> Option<&WrittenPrompts> {
        match &self.kind {
            OntologyKind::Written(written) => Some(written),
            OntologyKind::Search(_) => None,
        }
    }

    /// The classes this ontology names explicitly, with the key path that names each.
    pub(crate) fn mentioned_classes(&self) -> Vec<(&String, [&str; 2])> {
        match &self.kind {
            // The ontology it mirrors names them, and is checked.
            OntologyKind::Written(w) if w.control.is_some() => Vec::new(),
            OntologyKind::Written(w) => w
                .prompts
                .keys()
                .map(|c| (c, ["prompts", ""]))
                .chain(w.names.keys().map(|c| (c, ["names", ""])))
                .collect(),
            OntologyKind::Search(s) => s.names.keys().map(|c| (c, ["search", "names"])).collect(),
        }
    }
}

/// Most candidate prompts one searched ontology may have (templates × names, all classes):
/// each is encoded and scored against every dev image.
pub const MAX_SEARCH_PROMPTS: usize = 100_000;
