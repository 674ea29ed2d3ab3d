//! The experiment's dataset, read and checked against the experiment before any model is
//! loaded: classes declared where a search needs them, manifest typos blamed on the
//! manifest.

use std::path::{Path, PathBuf};

use ontosweep_dataset::{
    self as dataset, CbNames, CifarSplit, Dataset, DatasetError, read_classnames, webdataset,
};
use ontosweep_experiment::{ConfigErrors, Experiment, StandardDataset, StandardKind};
use ontosweep_models::Progress;

use crate::archives::{KNOWN_ARCHIVES, fetch_archive};
use crate::error::SweepError;

/// Reads the dataset and checks the experiment against it; the words a dataset gives its
/// classes' prompts (a published name shared by two classes) join the experiment's.
pub fn load_dataset(
    experiment: &mut Experiment,
    data_root: Option<&Path>,
    progress: &dyn Progress,
) -> Result<Dataset, SweepError> {
    let dataset = read_dataset(experiment, data_root, progress)?;
    experiment.adopt_dataset_words(&dataset.display);
    experiment.adopt_classes(&dataset.classes);
    refuse_search_over_found_labels(experiment, &dataset)?;
    blame_manifest_typos(experiment, &dataset)?;
    experiment.check_classes(&dataset.classes)?;
    Ok(dataset)
}

fn read_dataset(
    experiment: &Experiment,
    data_root: Option<&Path>,
    progress: &dyn Progress,
) -> Result<Dataset, SweepError> {
    let spec = &experiment.dataset;
    let in_file = |e: DatasetError| SweepError::Dataset(e.in_context(experiment.file.display()));
    let at_key = |key: &str, e: DatasetError| {
        SweepError::Config(ConfigErrors(vec![
            experiment.diagnostic(&["dataset", key], e.to_string()),
        ]))
    };
    let base = experiment.file.parent().unwrap_or(Path::new(""));
    let root = data_root.or(spec.root.as_deref());
    if let (Some(root), Some(name)) = (root, &spec.download)
        && !root.exists()
    {
        let archive = KNOWN_ARCHIVES
            .iter()
            .find(|a| a.name == name)
            .expect("validated: a known download");
        fetch_archive(archive, root, progress).map_err(|e| in_file(DatasetError::Unreadable(e)))?;
    }
    let listed = spec.name_list.as_deref().map(|list| {
        let names = ontosweep_catalog::class_names(list).expect("validated: a known list");
        (names, list)
    });
    if let Some(standard) = &spec.standard {
        return read_standard(standard, listed, spec.classes.as_deref()).map_err(in_file);
    }
    let (names, display, warnings) = match (&spec.classnames, listed) {
        (Some(file), _) => {
            let names = read_classnames(file).map_err(|e| at_key("classnames", e))?;
            (Some(names), Default::default(), Vec::new())
        }
        (None, Some((names, _))) => {
            let tagged = dataset::tag_repeated_names(names, |i| format!("class {i}"));
            (Some(tagged.classes), tagged.display, tagged.warnings)
        }
        (None, None) => (None, Default::default(), Vec::new()),
    };
    let names_source = spec
        .classnames
        .clone()
        .or_else(|| listed.map(|(_, list)| PathBuf::from(list)));
    let declared = names.as_deref().zip(names_source.as_deref());
    let mut dataset = match (root, &spec.manifest) {
        (Some(root), _) => dataset::scan_folder(root, spec.classes.as_deref())
            .map_err(|e| in_file(e.map(|e| with_shards_hint(e, root, base)))),
        (None, Some(manifest)) => {
            dataset::read_manifest(manifest, declared, spec.classes.as_deref()).map_err(in_file)
        }
        (None, None) => {
            let shards =
                webdataset::expand(&spec.webdataset, base).map_err(|e| at_key("webdataset", e))?;
            let labels = webdataset::Labels {
                names: declared,
                wanted: spec.classes.as_deref(),
            };
            webdataset::read_shards(&shards, &labels).map_err(in_file)
        }
    }?;
    dataset.display.extend(display);
    dataset.warnings.extend(warnings);
    Ok(dataset)
}

/// A standard benchmark in its published on-disk form; `listed` replaces its own names.
fn read_standard(
    standard: &StandardDataset,
    listed: Option<(&[String], &str)>,
    wanted: Option<&[String]>,
) -> Result<Dataset, DatasetError> {
    let StandardDataset {
        kind,
        folder,
        split,
    } = standard;
    match kind {
        StandardKind::ClipBenchmark => {
            let names = listed.map_or(CbNames::Folder, |(names, list)| CbNames::Given(names, list));
            dataset::read_clip_benchmark(folder, split, names, wanted)
        }
        StandardKind::ImageNet => {
            let (names, source) = listed.unwrap_or_else(|| {
                let list = "clip-benchmark/imagenet1k";
                (
                    ontosweep_catalog::class_names(list).expect("a built-in list"),
                    list,
                )
            });
            dataset::read_imagenet(folder, split, names, source, wanted)
        }
        StandardKind::Cifar | StandardKind::Food101 => {
            let mut dataset = if *kind == StandardKind::Cifar {
                let split = match split.as_str() {
                    "train" => CifarSplit::Train,
                    _ => CifarSplit::Test,
                };
                dataset::read_cifar(folder, split, wanted)?
            } else {
                dataset::read_food101(folder, split, wanted)?
            };
            if let Some((names, list)) = listed {
                rename_by_index(&mut dataset, names, list)?;
            }
            Ok(dataset)
        }
    }
}

/// A list given for a dataset with its own names: class N's prompts use the list's N-th
/// name (its classes stay as the dataset names them, so its files still match).
fn rename_by_index(
    dataset: &mut Dataset,
    names: &[String],
    list: &str,
) -> Result<(), DatasetError> {
    if names.len() != dataset.classes.len() {
        return Err(DatasetError::Classes(format!(
            "`{list}` names {} classes, but the dataset declares {}",
            names.len(),
            dataset.classes.len()
        )));
    }
    dataset.display = dataset
        .classes
        .iter()
        .cloned()
        .zip(names.iter().cloned())
        .collect();
    Ok(())
}

/// The experiment's `download:` dataset and the folder it goes to, while it is not there.
pub fn dataset_to_fetch(
    experiment: &Experiment,
    data_root: Option<&Path>,
) -> Option<(String, PathBuf)> {
    let spec = &experiment.dataset;
    let root = data_root.or(spec.root.as_deref())?;
    let name = spec.download.as_ref()?;
    (!root.exists()).then(|| (name.clone(), root.to_path_buf()))
}

/// A folder of WebDataset shards given as `root:` gets the line that reads it.
fn with_shards_hint(error: String, root: &Path, base: &Path) -> String {
    let folders = webdataset::tar_folders(root);
    let Some(first) = folders.first() else {
        return error;
    };
    let shown = first.strip_prefix(base).unwrap_or(first).display();
    format!(
        "{error}\n{} holds WebDataset tar shards: in place of `root:`, write `webdataset: {shown}/*.tar` (with `classnames:` naming its classnames.txt when the labels are `.cls` indices)",
        root.display()
    )
}

/// A search must see the same classes whatever the test images' labels say: with classes
/// taken from the labels, one relabelled test image could change what it chooses.
fn refuse_search_over_found_labels(
    experiment: &Experiment,
    dataset: &Dataset,
) -> Result<(), SweepError> {
    let Some(search) = experiment
        .ontologies
        .iter()
        .find(|o| matches!(o.kind, ontosweep_experiment::OntologyKind::Search(_)))
    else {
        return Ok(());
    };
    if dataset.class_source.is_declared() {
        return Ok(());
    }
    let listed = if dataset.classes.len() <= 30 {
        format!(
            "`classes: [{}]`",
            dataset
                .classes
                .iter()
                .map(|c| yaml_scalar(c))
                .collect::<Vec<_>>()
                .join(", ")
        )
    } else {
        "`classes: [...]`".into()
    };
    Err(SweepError::Config(ConfigErrors(vec![experiment.diagnostic(
        &["dataset"],
        format!(
            "ontology `{}` searches prompts, so the classes must be fixed before any label is read (else a test image's label could change what the search sees), but these come from the labels in the data. Declare them under `dataset:` with {listed} or `classnames: FILE` (one per line)",
            search.name
        ),
    )])))
}

/// A class name as a YAML flow scalar: quoted unless plainly safe.
fn yaml_scalar(text: &str) -> String {
    let plain = !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, ' ' | '_' | '-' | '.'))
        && !text.starts_with([' ', '-', '.'])
        && !text.ends_with(' ');
    if plain {
        text.to_string()
    } else {
        serde_json::to_string(text).expect("a string serialises")
    }
}

/// A manifest label that no ontology has prompts for, one edit or two from a class that
/// they all do (`dandelions` beside `dandelion`), is a typo in the manifest: say so at its
/// lines, not at the ontologies.
fn blame_manifest_typos(experiment: &Experiment, dataset: &Dataset) -> Result<(), SweepError> {
    let Some((manifest, lines)) = &dataset.label_lines else {
        return Ok(());
    };
    let covered = |class: &str| {
        experiment
            .ontologies
            .iter()
            .filter_map(|o| o.written())
            .all(|w| !w.prompts_for(class).is_empty())
    };
    let mut errors = Vec::new();
    for class in dataset.classes.iter().filter(|c| !covered(c)) {
        let Some(near) = dataset
            .classes
            .iter()
            .filter(|other| *other != class && covered(other))
            .find(|other| ontosweep_clip::echo::edit_distance(class, other) <= 2)
        else {
            continue;
        };
        let at = lines.get(class).cloned().unwrap_or_default();
        let listed: Vec<String> = at.iter().take(8).map(ToString::to_string).collect();
        errors.push(ontosweep_experiment::Diagnostic {
            file: manifest.clone(),
            position: at.first().map(|&line| crate::Position { line, column: 1 }),
            message: format!(
                "label `{class}` (line{} {}{}) has no prompts in the experiment, and `{near}` does: a typo in the manifest? Fix those rows, or give `{class}` prompts in {}",
                if at.len() == 1 { "" } else { "s" },
                listed.join(", "),
                if at.len() > 8 { ", …" } else { "" },
                experiment.file.display()
            ),
        });
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ConfigErrors(errors).into())
    }
}
