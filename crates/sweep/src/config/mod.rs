//! The experiment file: parsing and the validation that needs no dataset or model.
//! Every problem is reported with the file, line and column, and what to do about it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use ontosweep_clip::Precision;
use serde::Deserialize;

use crate::locate::{Position, locate};
use crate::yaml_bounds::{MAX_YAML_BYTES, read_bounded};

mod search;

pub use search::{MAX_TEMPLATES_LIMIT, Objective, SearchSpec, SplitSpec};

/// A problem in an experiment file, located.
#[derive(Debug, Clone, PartialEq)]
pub struct Diagnostic {
    pub file: PathBuf,
    pub position: Option<Position>,
    pub message: String,
}

impl std::fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.position {
            Some(p) => write!(
                f,
                "{}:{}:{}: {}",
                self.file.display(),
                p.line,
                p.column,
                self.message
            ),
            None => write!(f, "{}: {}", self.file.display(), self.message),
        }
    }
}

/// Every problem found, so that one edit fixes them all.
#[derive(Debug, Clone, PartialEq)]
pub struct ConfigErrors(pub Vec<Diagnostic>);

impl std::fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let lines: Vec<String> = self.0.iter().map(ToString::to_string).collect();
        f.write_str(&lines.join("\n"))
    }
}

impl std::error::Error for ConfigErrors {}

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
}

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
}

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
}

impl WrittenPrompts {
    /// The prompts for `class`: templates applied to its name, then its own prompts.
    pub fn prompts_for(&self, class: &str) -> Vec<String> {
        let word = self
            .names
            .get(class)
            .or(self.display.get(class))
            .map_or(class, String::as_str);
        let mut prompts: Vec<String> = self
            .templates
            .iter()
            .map(|t| t.replace("{}", word))
            .collect();
        prompts.extend(self.prompts.get(class).into_iter().flatten().cloned());
        prompts
    }
}

impl Ontology {
    /// The prompts written for it, unless it is searched.
    pub fn written(&self) -> Option<&WrittenPrompts> {
        match &self.kind {
            OntologyKind::Written(written) => Some(written),
            OntologyKind::Search(_) => None,
        }
    }

    /// The classes this ontology names explicitly, with the key path that names each.
    fn mentioned_classes(&self) -> Vec<(&String, [&str; 2])> {
        match &self.kind {
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

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawExperiment {
    name: String,
    dataset: RawDataset,
    models: Vec<RawModel>,
    baseline: Option<String>,
    ontologies: yaml_serde::Mapping,
    split: Option<search::RawSplit>,
    report: Option<RawReport>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawReport {
    #[serde(default)]
    all_probabilities: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDataset {
    root: Option<PathBuf>,
    manifest: Option<PathBuf>,
    webdataset: Option<OneOrMany>,
    classnames: Option<PathBuf>,
    classes: Option<Vec<String>>,
    download: Option<String>,
    #[serde(default)]
    names: BTreeMap<String, String>,
}

enum RawModel {
    Id(String),
    Entry(RawModelEntry),
}

// By hand rather than `untagged`, whose one message ("did not match any variant") would hide
// which field is misspelt.
impl<'de> Deserialize<'de> for RawModel {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::Error as _;
        match yaml_serde::Value::deserialize(deserializer)? {
            yaml_serde::Value::String(id) => Ok(RawModel::Id(id)),
            entry @ yaml_serde::Value::Mapping(_) => yaml_serde::from_value(entry)
                .map(RawModel::Entry)
                .map_err(D::Error::custom),
            _ => Err(D::Error::custom(
                "invalid type: a model entry is an id (`- clip-vit-b32`) or a mapping (`- {id: ID}` or `- {path: DIR}`, with an optional `precision: fp32|bf16`)",
            )),
        }
    }
}

/// `{id: ID}` or `{path: DIR}`, optionally with `precision`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawModelEntry {
    id: Option<String>,
    path: Option<PathBuf>,
    precision: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOntology {
    #[serde(default)]
    templates: Vec<String>,
    #[serde(default)]
    prompts: BTreeMap<String, OneOrMany>,
    #[serde(default)]
    names: BTreeMap<String, String>,
    search: Option<search::RawSearch>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl OneOrMany {
    fn into_vec(self) -> Vec<String> {
        match self {
            OneOrMany::One(s) => vec![s],
            OneOrMany::Many(v) => v,
        }
    }
}

impl Experiment {
    pub fn load(file: &Path) -> Result<Self, ConfigErrors> {
        let source = read_bounded(file, MAX_YAML_BYTES).map_err(|e| {
            ConfigErrors(vec![Diagnostic {
                file: file.to_path_buf(),
                position: None,
                message: format!("cannot read the experiment file: {e}"),
            }])
        })?;
        Self::parse(file, &source)
    }

    /// Parses and checks an experiment file's text; `file` locates diagnostics and anchors
    /// relative paths. Every problem is reported, in file order within each section.
    pub fn parse(file: &Path, source: &str) -> Result<Self, ConfigErrors> {
        let raw = parse_document(file, source)?;
        let folder = file.parent().unwrap_or(Path::new("."));
        let mut checks = Checks {
            file,
            source,
            errors: Vec::new(),
        };
        checks.name(&raw.name);
        let dataset = checks.dataset(raw.dataset, folder);
        let models = checks.models(raw.models, folder);
        let mut ontologies = checks.ontologies(raw.ontologies);
        for ontology in &mut ontologies {
            match &mut ontology.kind {
                OntologyKind::Written(w) => w.display = dataset.names.clone(),
                OntologyKind::Search(s) => s.display = dataset.names.clone(),
            }
        }
        let baseline = checks.baseline(raw.baseline, &ontologies);
        let searched = ontologies.iter().any(|o| o.written().is_none());
        let split = checks.split(raw.split, searched);
        if !checks.errors.is_empty() {
            return Err(ConfigErrors(checks.errors));
        }
        Ok(Experiment {
            file: file.to_path_buf(),
            source: source.to_string(),
            name: raw.name,
            dataset,
            models,
            baseline,
            ontologies,
            split,
            report: ReportSpec {
                all_probabilities: raw.report.is_some_and(|r| r.all_probabilities),
            },
        })
    }

    /// Checks the ontologies against the dataset's classes: every class needs prompts, and
    /// no ontology may name a class the dataset lacks (keyed by name, never by position).
    pub fn check_classes(&self, classes: &[String]) -> Result<(), ConfigErrors> {
        let mut errors = Vec::new();
        for class in self.dataset.names.keys() {
            if !classes.contains(class) {
                errors.push(self.diagnostic(
                    &["dataset", "names", class],
                    format!("`dataset.names` names class `{class}`, which the dataset does not have (classes: {}); fix the spelling or remove it", some_of(classes, class)),
                ));
            }
        }
        for ontology in &self.ontologies {
            for (class, section) in ontology.mentioned_classes() {
                if !classes.contains(class) {
                    let path: Vec<&str> = ["ontologies", &ontology.name]
                        .into_iter()
                        .chain(section.into_iter().filter(|s| !s.is_empty()))
                        .chain([class.as_str()])
                        .collect();
                    errors.push(self.diagnostic(
                        &path,
                        format!("ontology `{}` names class `{class}`, which the dataset does not have (classes: {}); fix the spelling or remove it", ontology.name, some_of(classes, class)),
                    ));
                }
            }
            match &ontology.kind {
                OntologyKind::Written(written) => {
                    for class in classes {
                        if written.prompts_for(class).is_empty() {
                            errors.push(self.diagnostic(
                                &["ontologies", &ontology.name],
                                format!("ontology `{}` has no prompt for class `{class}`: add `prompts: {{{class}: ...}}` or a template", ontology.name),
                            ));
                        }
                    }
                }
                OntologyKind::Search(search) => {
                    let names: usize = classes.iter().map(|c| search.names_for(c).len()).sum();
                    let candidates = names.saturating_mul(search.templates.len());
                    if candidates > MAX_SEARCH_PROMPTS {
                        errors.push(self.diagnostic(
                            &["ontologies", &ontology.name, "search"],
                            format!("ontology `{}` would search {candidates} candidate prompts ({} templates × {names} class names), more than the {MAX_SEARCH_PROMPTS} ontosweep encodes for one search; use fewer templates or candidate names", ontology.name, search.templates.len()),
                        ));
                    }
                }
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(ConfigErrors(errors))
        }
    }

    /// A diagnostic located at a key path of this file.
    pub fn diagnostic(&self, path: &[&str], message: String) -> Diagnostic {
        Diagnostic {
            file: self.file.clone(),
            position: locate(&self.source, path, None),
            message,
        }
    }

    /// As [`Experiment::diagnostic`], at the line inside `path` that contains `needle`.
    pub fn diagnostic_at(&self, path: &[&str], needle: &str, message: String) -> Diagnostic {
        Diagnostic {
            file: self.file.clone(),
            position: locate(&self.source, path, Some(needle)),
            message,
        }
    }
}

/// The document's shape: bounded, then parsed into the raw fields. A problem here stops
/// parsing, so it is the only diagnostic.
fn parse_document(file: &Path, source: &str) -> Result<RawExperiment, ConfigErrors> {
    let only = |position, message| {
        ConfigErrors(vec![Diagnostic {
            file: file.to_path_buf(),
            position,
            message,
        }])
    };
    crate::yaml_bounds::check(source)
        .map_err(|too| only(too.position, format!("{}. Nothing was run", too.message)))?;
    yaml_serde::from_str(source).map_err(|e| {
        let mut position = e.location().map(|l| Position {
            line: l.line(),
            column: l.column(),
        });
        let mut message = e.to_string();
        // The location is printed by Diagnostic; drop the parser's own copy of it.
        if let Some(at) = message.find(" at line ") {
            message.truncate(at);
        }
        if let (Some(key), Some(first)) = (duplicate_key(&message), position) {
            // The parser points at the first of the two; the second is the one to look at.
            position = second_occurrence(source, first, key).or(position);
        }
        // Only a field or a type can be looked up; a syntax error is about the text.
        let about_fields = [
            "unknown field",
            "missing field",
            "invalid type",
            "unknown variant",
        ]
        .iter()
        .any(|kind| message.contains(kind));
        if about_fields {
            message.push_str(". See docs/experiments.md for the fields");
        }
        only(position, message)
    })
}

/// The key of a "duplicate entry with key" message.
fn duplicate_key(message: &str) -> Option<&str> {
    message
        .split_once("duplicate entry with key \"")?
        .1
        .split_once('"')
        .map(|(key, _)| key)
}

/// The next line after `first` that holds `key:` at the same indentation, within its block.
fn second_occurrence(source: &str, first: Position, key: &str) -> Option<Position> {
    let indent = first.column.saturating_sub(1);
    for (index, line) in source.lines().enumerate().skip(first.line) {
        let trimmed = line.trim_start();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let here = line.len() - trimmed.len();
        if here < indent {
            return None;
        }
        let named = [
            format!("{key}:"),
            format!("\"{key}\":"),
            format!("'{key}':"),
        ];
        if here == indent && named.iter().any(|n| trimmed.starts_with(n.as_str())) {
            return Some(Position {
                line: index + 1,
                column: indent + 1,
            });
        }
    }
    None
}

/// The field an "unknown field `x`" message names.
fn unknown_field(message: &str) -> Option<&str> {
    message
        .split_once("unknown field `")?
        .1
        .split_once('`')
        .map(|(field, _)| field)
}

/// The checks that follow a successful parse, each section in turn; every problem found is
/// kept, located at its key path in the source.
struct Checks<'a> {
    file: &'a Path,
    source: &'a str,
    errors: Vec<Diagnostic>,
}

impl Checks<'_> {
    /// Records a problem at `path` (at the line inside it that contains `needle`, if given).
    fn report(&mut self, path: &[&str], needle: Option<&str>, message: String) {
        self.errors.push(Diagnostic {
            file: self.file.to_path_buf(),
            position: locate(self.source, path, needle),
            message,
        });
    }

    fn name(&mut self, name: &str) {
        if let Err(problem) = check_plain_name(name) {
            self.report(
                &["name"],
                None,
                format!("`name: {name:?}` {problem}: it names the report folder (reports/<name>/), so it must be one plain folder name of letters, digits, `.`, `_` and `-`, not starting with `.`, at most {MAX_NAME_BYTES} bytes, e.g. `flowers-v2`"),
            );
        }
    }

    /// The dataset section, its paths resolved against `folder`.
    fn dataset(&mut self, raw: RawDataset, folder: &Path) -> DatasetSpec {
        let dataset = DatasetSpec {
            root: raw.root.map(|p| folder.join(p)),
            manifest: raw.manifest.map(|p| folder.join(p)),
            webdataset: raw
                .webdataset
                .map(OneOrMany::into_vec)
                .unwrap_or_default()
                .into_iter()
                .map(|p| folder.join(p))
                .collect(),
            classnames: raw.classnames.map(|p| folder.join(p)),
            classes: raw.classes,
            download: raw.download,
            names: raw.names,
        };
        for (class, name) in &dataset.names {
            if name.trim().is_empty() {
                self.report(
                    &["dataset", "names", class],
                    None,
                    format!("class `{class}` has an empty name; give the words templates should use, e.g. `roses: rose`"),
                );
            }
        }
        let sources = [
            dataset.root.is_some(),
            dataset.manifest.is_some(),
            !dataset.webdataset.is_empty(),
        ];
        if sources.iter().filter(|&&given| given).count() != 1 {
            self.report(&["dataset"], None, "give exactly one of `dataset.root` (a folder per class), `dataset.manifest` (a CSV of path,label) or `dataset.webdataset` (tar shards)".into());
        }
        if dataset.classnames.is_some() && dataset.root.is_some() {
            self.report(&["dataset", "classnames"], None, "`classnames` declares every class, one per line, for `manifest` or `webdataset`; with `root` the class folders declare them (choose some with `classes`)".into());
        }
        let known: Vec<&str> = crate::provision::KNOWN_ARCHIVES
            .iter()
            .map(|a| a.name)
            .collect();
        if let Some(download) = &dataset.download
            && !known.contains(&download.as_str())
        {
            self.report(
                &["dataset", "download"],
                None,
                format!("unknown download `{download}`; known: {}", known.join(", ")),
            );
        }
        for duplicate in duplicates(dataset.classes.as_deref().unwrap_or_default()) {
            self.report(
                &["dataset", "classes"],
                Some(duplicate),
                format!("class `{duplicate}` is listed twice"),
            );
        }
        dataset
    }

    /// The model list: ids must be plain names; paths are resolved against `folder`.
    fn models(&mut self, raw: Vec<RawModel>, folder: &Path) -> Vec<ModelEntry> {
        if raw.is_empty() {
            self.report(
                &["models"],
                None,
                "`models` is empty: list at least one model id (models/<id>.yaml) or `path: DIR`"
                    .into(),
            );
        }
        let mut entries = Vec::new();
        for model in raw {
            let (id, path, precision) = match model {
                RawModel::Id(id) => (Some(id), None, None),
                RawModel::Entry(e) => (e.id, e.path, e.precision),
            };
            let model = match (id, path) {
                (Some(id), None) => {
                    if let Err(problem) = check_plain_name(&id) {
                        self.report(
                            &["models"],
                            Some(&id),
                            format!("model id {id:?} {problem}: an id names models/<id>.yaml, so it is one plain name of letters, digits, `.`, `_` and `-`; for a model folder elsewhere write `- path: DIR`"),
                        );
                    }
                    ModelRef::Id(id)
                }
                (None, Some(path)) => ModelRef::Path(folder.join(path)),
                (id, path) => {
                    let needle = id.or(path.map(|p| p.display().to_string()));
                    self.report(
                        &["models"],
                        needle.as_deref(),
                        "a model entry gives either `id: ID` (models/<id>.yaml) or `path: DIR`, not both or neither".into(),
                    );
                    continue;
                }
            };
            let precision = precision.and_then(|text| match text.parse::<Precision>() {
                Ok(p) => Some(p),
                Err(problem) => {
                    self.report(
                        &["models"],
                        Some(&text),
                        format!("{problem} (bf16 runs on OpenVINO; fp32 is the default)"),
                    );
                    None
                }
            });
            let entry = ModelEntry { model, precision };
            if entries.contains(&entry) {
                let name = match &entry.model {
                    ModelRef::Id(id) => id.clone(),
                    ModelRef::Path(path) => path.display().to_string(),
                };
                self.report(
                    &["models"],
                    None,
                    format!("model `{name}` is listed twice at the same precision"),
                );
            }
            entries.push(entry);
        }
        entries
    }

    /// Every ontology that parses, in file order. "None defined" is said only when nothing
    /// else is wrong, since a broken ontology is not an absent one.
    fn ontologies(&mut self, raw: yaml_serde::Mapping) -> Vec<Ontology> {
        let ontologies: Vec<Ontology> = raw
            .into_iter()
            .filter_map(|(key, value)| self.ontology(key, value))
            .collect();
        if ontologies.is_empty() && self.errors.is_empty() {
            self.report(
                &["ontologies"],
                None,
                "`ontologies` is empty: define at least one".into(),
            );
        }
        ontologies
    }

    /// One ontology: `None` when its name or shape is wrong (it is then not checked
    /// further); otherwise it is returned even with problems in its prompts.
    fn ontology(&mut self, key: yaml_serde::Value, value: yaml_serde::Value) -> Option<Ontology> {
        let Some(name) = key.as_str().map(str::to_string) else {
            self.report(
                &["ontologies"],
                None,
                format!("ontology names must be strings, found {key:?}"),
            );
            return None;
        };
        let parsed: RawOntology = match yaml_serde::from_value(value) {
            Ok(parsed) => parsed,
            Err(e) => {
                let message = e.to_string();
                // A misspelt field is shown at its own line; search fields are one level down.
                let path: Vec<&str> = match unknown_field(&message) {
                    Some(field) if message.contains("`max_templates`") => {
                        vec!["ontologies", &name, "search", field]
                    }
                    Some(field) => vec!["ontologies", &name, field],
                    None => vec!["ontologies", &name],
                };
                self.report(&path, None, format!("ontology `{name}`: {message}. An ontology has `templates:` (a list with `{{}}` for the class) and/or `prompts:` (class: prompt or list of prompts), or only `search:`"));
                return None;
            }
        };
        if let Some(search) = parsed.search {
            if !(parsed.templates.is_empty()
                && parsed.prompts.is_empty()
                && parsed.names.is_empty())
            {
                self.report(
                    &["ontologies", &name, "search"],
                    None,
                    format!("ontology `{name}` has `search:` beside written prompts: a searched ontology chooses its own; move `templates`, `prompts` and `names` to an ontology of their own (candidate names go in `search.names`)"),
                );
            }
            let spec = self.search(&name, search);
            return Some(Ontology {
                name,
                kind: OntologyKind::Search(spec),
            });
        }
        for template in &parsed.templates {
            if !template.contains("{}") {
                self.report(
                    &["ontologies", &name, "templates"],
                    Some(template),
                    format!("template {template:?} has no `{{}}`: write where the class name goes, e.g. \"a photo of a {{}}.\", or move it to `prompts:`"),
                );
            }
        }
        let prompts: BTreeMap<String, Vec<String>> = parsed
            .prompts
            .into_iter()
            .map(|(class, p)| (class, p.into_vec()))
            .collect();
        if parsed.templates.is_empty() {
            self.prompt_texts(&name, &prompts);
        }
        Some(Ontology {
            name,
            kind: OntologyKind::Written(WrittenPrompts {
                templates: parsed.templates,
                prompts,
                names: parsed.names,
                display: BTreeMap::new(),
            }),
        })
    }

    /// An ontology without templates: every class it lists needs some prompt text, and it
    /// needs at least one class.
    fn prompt_texts(&mut self, name: &str, prompts: &BTreeMap<String, Vec<String>>) {
        for (class, list) in prompts {
            if list.iter().all(|p| p.trim().is_empty()) {
                self.report(
                    &["ontologies", name, "prompts", class],
                    None,
                    format!("ontology `{name}`: class `{class}` has no prompt text"),
                );
            }
        }
        if prompts.is_empty() {
            self.report(
                &["ontologies", name],
                None,
                format!("ontology `{name}` has neither `templates` nor `prompts`"),
            );
        }
    }

    /// The baseline ontology: the one named, or the first.
    fn baseline(&mut self, baseline: Option<String>, ontologies: &[Ontology]) -> String {
        match baseline {
            Some(b) if ontologies.iter().any(|o| o.name == b) => b,
            Some(b) => {
                let known: Vec<&str> = ontologies.iter().map(|o| o.name.as_str()).collect();
                self.report(
                    &["baseline"],
                    None,
                    format!(
                        "baseline `{b}` is not an ontology here; choose one of: {}",
                        known.join(", ")
                    ),
                );
                b
            }
            None => ontologies
                .first()
                .map(|o| o.name.clone())
                .unwrap_or_default(),
        }
    }
}

/// Longest experiment name, in bytes: it becomes a folder name, and staging names add to it.
pub const MAX_NAME_BYTES: usize = 100;

/// One safe path component: an experiment name names `reports/<name>/` and a model id
/// names `models/<id>.yaml`, and a name such as `..` must never point elsewhere.
pub fn check_plain_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("is empty".into());
    }
    if name == "." || name == ".." || name.starts_with('.') {
        return Err("starts with `.`".into());
    }
    if name.len() > MAX_NAME_BYTES {
        return Err(format!("is {} bytes long", name.len()));
    }
    match name
        .chars()
        .find(|&c| !(c.is_alphanumeric() || matches!(c, '.' | '_' | '-')))
    {
        Some(c) => Err(format!("contains {c:?}")),
        None => Ok(()),
    }
}

fn duplicates(items: &[String]) -> Vec<&str> {
    let mut seen = std::collections::BTreeSet::new();
    items
        .iter()
        .filter(|i| !seen.insert(i.as_str()))
        .map(String::as_str)
        .collect()
}

/// The classes a message shows: all of a few, else the nearest to `wanted` and a count, so
/// a 1,000-class dataset gives a line a person can read.
fn some_of(classes: &[String], wanted: &str) -> String {
    const SHOWN: usize = 8;
    if classes.len() <= SHOWN {
        return classes.join(", ");
    }
    let mut near: Vec<&String> = classes.iter().collect();
    near.sort_by_key(|c| crate::dataset::edit_distance(wanted, c));
    let shown: Vec<&str> = near.iter().take(5).map(|c| c.as_str()).collect();
    format!("{} in all; nearest: {}", classes.len(), shown.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(source: &str) -> Result<Experiment, ConfigErrors> {
        Experiment::parse(Path::new("exp.yaml"), source)
    }

    const GOOD: &str = "name: t\ndataset:\n  root: data\nmodels: [m]\nontologies:\n  plain:\n    prompts:\n      daisy: daisy\n      dandelion: [dandelion, a dandelion]\n  tpl:\n    templates: [\"a photo of a {}.\"]\n    names: {daisy: daisy flower}\n";

    #[test]
    fn parses_prompts_templates_and_names() {
        let e = parse(GOOD).unwrap();
        assert_eq!(e.baseline, "plain");
        assert_eq!(e.dataset.root, Some(PathBuf::from("data")));
        let written = |i: usize| e.ontologies[i].written().unwrap();
        assert_eq!(
            written(0).prompts_for("dandelion"),
            vec!["dandelion", "a dandelion"]
        );
        assert_eq!(
            written(1).prompts_for("daisy"),
            vec!["a photo of a daisy flower."]
        );
        assert_eq!(
            written(1).prompts_for("dandelion"),
            vec!["a photo of a dandelion."]
        );
        assert_eq!(e.split, None);
        e.check_classes(&["daisy".into(), "dandelion".into()])
            .unwrap();
    }

    fn messages(source: &str) -> Vec<String> {
        parse(source)
            .unwrap_err()
            .0
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    #[test]
    fn template_without_braces_is_located() {
        let m = messages(&GOOD.replace("a photo of a {}.", "a photo"));
        assert_eq!(m.len(), 1);
        assert!(
            m[0].starts_with("exp.yaml:11:") && m[0].contains("has no `{}`"),
            "{m:?}"
        );
    }

    #[test]
    fn unknown_fields_and_duplicates_are_located() {
        let m = messages(&GOOD.replace("models: [m]", "models: [m]\nmodel: x"));
        assert!(
            m[0].starts_with("exp.yaml:5:") && m[0].contains("unknown field `model`"),
            "{m:?}"
        );
        let m = messages(&GOOD.replace("  tpl:", "  plain:"));
        assert!(
            m[0].contains("duplicate") && m[0].starts_with("exp.yaml:"),
            "{m:?}"
        );
    }

    #[test]
    fn every_probability_is_asked_for_in_a_report_section() {
        assert!(!parse(GOOD).unwrap().report.all_probabilities);
        let asked = parse(&format!("{GOOD}report: {{all_probabilities: true}}\n")).unwrap();
        assert!(asked.report.all_probabilities);
        let m = messages(&format!("{GOOD}report:\n  all_probability: true\n"));
        assert!(
            m[0].starts_with("exp.yaml:14:") && m[0].contains("unknown field `all_probability`"),
            "{m:?}"
        );
    }

    #[test]
    fn baseline_and_classes_are_checked_by_name() {
        let m = messages(&format!("{GOOD}baseline: nope\n"));
        assert!(
            m[0].starts_with("exp.yaml:13:1") && m[0].contains("choose one of: plain, tpl"),
            "{m:?}"
        );
        let e = parse(GOOD).unwrap();
        let err = e
            .check_classes(&["daisy".into(), "tulip".into()])
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("exp.yaml:9:7")
                && err.contains("class `dandelion`, which the dataset does not have"),
            "{err}"
        );
        let e = parse(&GOOD.replace(
            "  tpl:\n    templates: [\"a photo of a {}.\"]\n    names: {daisy: daisy flower}\n",
            "",
        ))
        .unwrap();
        let err = e
            .check_classes(&["daisy".into(), "dandelion".into(), "rose".into()])
            .unwrap_err()
            .to_string();
        assert!(err.contains("no prompt for class `rose`"), "{err}");
    }

    #[test]
    fn experiment_names_are_one_safe_folder_name() {
        for bad in [
            "..",
            ".",
            ".hidden",
            "",
            "a/b",
            "..\\x",
            "a b",
            "x\0y",
            "日本/..",
            "a\nb",
        ] {
            let source = GOOD.replace("name: t", &format!("name: {bad:?}"));
            let m = messages(&source);
            assert!(
                m[0].starts_with("exp.yaml:1:1") && m[0].contains("names the report folder"),
                "{bad:?}: {m:?}"
            );
        }
        let long = "x".repeat(MAX_NAME_BYTES + 1);
        let m = messages(&GOOD.replace("name: t", &format!("name: {long}")));
        assert!(m[0].contains("bytes long"), "{m:?}");
        for good in ["flowers", "flowers-v2.1_b", "日本語", "a..b"] {
            let e = parse(&GOOD.replace("name: t", &format!("name: {good:?}"))).unwrap();
            assert_eq!(e.name, good);
        }
    }

    #[test]
    fn model_ids_are_plain_names() {
        let m = messages(&GOOD.replace("models: [m]", "models: [ok, \"../../x\", /etc/y]"));
        assert_eq!(m.len(), 2, "{m:?}");
        assert!(
            m[0].starts_with("exp.yaml:4:") && m[0].contains("\"../../x\""),
            "{m:?}"
        );
    }

    #[test]
    fn a_model_entry_may_give_its_precision() {
        let e = parse(&GOOD.replace(
            "models: [m]",
            "models:\n  - m\n  - {id: m, precision: bf16}\n  - {path: dir, precision: fp32}",
        ))
        .unwrap();
        let precisions: Vec<_> = e.models.iter().map(|m| m.precision).collect();
        assert_eq!(
            precisions,
            [None, Some(Precision::Bf16), Some(Precision::Fp32)]
        );
        assert_eq!(e.models[1].model, ModelRef::Id("m".into()));
        assert_eq!(e.models[2].model, ModelRef::Path(PathBuf::from("dir")));
    }

    #[test]
    fn a_misspelt_model_field_is_named() {
        let m = messages(&GOOD.replace("models: [m]", "models:\n  - {path: dir, precison: bf16}"));
        assert!(m[0].contains("unknown field `precison`"), "{m:?}");
        assert!(m[0].starts_with("exp.yaml:5:"), "{m:?}");
        let m = messages(&GOOD.replace("models: [m]", "models: [[m]]"));
        assert!(m[0].contains("a model entry is an id"), "{m:?}");
    }

    #[test]
    fn bad_model_entries_are_located() {
        let m = messages(&GOOD.replace(
            "models: [m]",
            "models:\n  - m\n  - {id: m, precision: fp16}",
        ));
        assert!(
            m[0].starts_with("exp.yaml:6:") && m[0].contains("unknown precision `fp16`"),
            "{m:?}"
        );
        let m = messages(&GOOD.replace("models: [m]", "models:\n  - {id: m, path: x}"));
        assert!(m[0].contains("either `id: ID`"), "{m:?}");
        let m = messages(&GOOD.replace("models: [m]", "models: [m, n, m]"));
        assert!(m[0].contains("`m` is listed twice"), "{m:?}");
    }

    #[test]
    fn files_that_expand_or_nest_without_bound_are_refused_with_a_place() {
        let items: Vec<String> = (0..5_000).map(|i| format!("p{i}")).collect();
        let source = format!(
            "{GOOD}x: &a [{}]\ny: [{}]\n",
            items.join(", "),
            vec!["*a"; 5_000].join(", ")
        );
        let m = messages(&source);
        assert!(
            m[0].contains("expands to more than") && m[0].starts_with("exp.yaml:"),
            "{m:?}"
        );
        let deep = format!("{GOOD}x: {}\n", "[".repeat(50_000));
        let m = messages(&deep);
        assert!(
            m[0].starts_with("exp.yaml:13:") && m[0].contains("nesting"),
            "{m:?}"
        );
    }

    #[test]
    fn a_dataset_needs_a_root_or_a_manifest() {
        let m = messages(&GOOD.replace("  root: data\n", "  classes: [a]\n"));
        assert!(m[0].contains("exactly one of `dataset.root`"), "{m:?}");
    }
}
