//! Loading an experiment file, and the checks that need the dataset's classes.

use std::path::Path;

use crate::bounds::{MAX_YAML_BYTES, read_bounded};
use crate::checks::Checks;
use crate::document::parse_document;
use crate::locate::locate;
use crate::names::some_of;
use crate::{
    CLIP_BENCHMARK_TEMPLATES, ConfigErrors, Diagnostic, Experiment, MAX_SEARCH_PROMPTS,
    OntologyKind, ReportSpec, StandardKind,
};

impl Experiment {
    pub fn load(file: &Path) -> Result<Self, ConfigErrors> {
        Self::load_with_data_root(file, None)
    }

    /// As [`Experiment::load`], with `--data-root`: a standard dataset's folder replaced
    /// before anything reads it (its templates file included).
    pub fn load_with_data_root(
        file: &Path,
        data_root: Option<&Path>,
    ) -> Result<Self, ConfigErrors> {
        let source = read_bounded(file, MAX_YAML_BYTES).map_err(|e| {
            ConfigErrors(vec![Diagnostic {
                file: file.to_path_buf(),
                position: None,
                message: format!("cannot read the experiment file: {e}"),
            }])
        })?;
        Self::parse_with_data_root(file, &source, data_root)
    }

    /// Parses and checks an experiment file's text; `file` locates diagnostics and anchors
    /// relative paths. Every problem is reported, in file order within each section.
    pub fn parse(file: &Path, source: &str) -> Result<Self, ConfigErrors> {
        Self::parse_with_data_root(file, source, None)
    }

    fn parse_with_data_root(
        file: &Path,
        source: &str,
        data_root: Option<&Path>,
    ) -> Result<Self, ConfigErrors> {
        let raw: crate::raw::RawExperiment = parse_document(file, source)?;
        let folder = file.parent().unwrap_or(Path::new("."));
        let mut checks = Checks {
            file,
            source,
            folder,
            dataset_templates: None,
            errors: Vec::new(),
        };
        checks.name(&raw.name);
        let mut dataset = checks.dataset(raw.dataset, folder);
        if let (Some(standard), Some(data_root)) = (&mut dataset.standard, data_root) {
            standard.folder = data_root.to_path_buf();
        }
        checks.dataset_templates = dataset
            .standard
            .as_ref()
            .filter(|s| s.kind == StandardKind::ClipBenchmark)
            .map(|s| s.folder.join(CLIP_BENCHMARK_TEMPLATES));
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
        let check_spec = checks.check_spec(raw.checks);
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
            checks: check_spec,
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
                OntologyKind::Written(written) if written.control.is_some() => {}
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
