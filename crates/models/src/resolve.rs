//! Resolving an experiment's model references to model directories.

use std::path::{Path, PathBuf};

use ontosweep_clip::{Family, IoNames, ModelDir, Precision, SessionOptions};
use ontosweep_experiment::bounds::{self, MAX_YAML_BYTES, read_bounded};
use ontosweep_experiment::locate::locate;
use ontosweep_experiment::{Diagnostic, Experiment, ModelRef};

use crate::downloads::{FileHasher, check_model_files, download_model, hash_file};
use crate::progress::Progress;
use crate::scoring::Scoring;
use crate::spec::{CLIP_LOGIT_SCALE, ModelSpec};

/// A model ready to open.
#[derive(Debug, Clone)]
pub struct ResolvedModel {
    pub id: String,
    pub dir: ModelDir,
    pub spec: ModelSpec,
    pub family: Family,
    /// The family's input and output names, with the yaml's overrides.
    pub io: IoNames,
    pub scoring: Scoring,
    /// The precision its experiment entry asks for, over the run's own.
    pub precision: Option<Precision>,
    /// Said once per sweep (e.g. a SigLIP folder without a yaml to give its bias).
    pub warnings: Vec<String>,
}

/// SigLIP's initial scale and bias (log 10 and −10 before training): used, with a warning,
/// for a SigLIP folder given without a yaml. Predictions do not depend on them.
const SIGLIP_UNTRAINED: (f32, f32) = (10.0, -10.0);

/// The family (the yaml's, else `config.json`'s), I/O names and scoring of a model.
fn finish(
    id: String,
    dir: ModelDir,
    spec: ModelSpec,
    described: Option<&Path>,
) -> Result<ResolvedModel, String> {
    let declared = Family::of(&dir).map_err(|e| e.to_string())?;
    let family = spec.family.unwrap_or(declared);
    let place = described.map_or_else(
        || dir.root().display().to_string(),
        |yaml| yaml.display().to_string(),
    );
    if spec.family.is_some() && dir.config().is_file() && declared != family {
        return Err(format!(
            "{place}: `family: {}` but {} says `{}`; remove `family:` or fix it",
            family.name(),
            dir.config().display(),
            declared.name()
        ));
    }
    let mut warnings = Vec::new();
    let scoring = match family {
        Family::Clip => {
            if spec.logit_bias.is_some() {
                return Err(format!(
                    "{place}: `logit_bias` is for SigLIP's sigmoid; a CLIP model has none (remove it)"
                ));
            }
            Scoring::Softmax {
                scale: spec.logit_scale.unwrap_or(CLIP_LOGIT_SCALE),
            }
        }
        Family::Siglip => match (spec.logit_scale, spec.logit_bias, described) {
            (Some(scale), Some(bias), _) => Scoring::Sigmoid { scale, bias },
            (_, _, Some(yaml)) => {
                return Err(format!(
                    "{}: a SigLIP model needs `logit_scale` and `logit_bias` (its learnt temperature, exp(logit_scale), and bias: not in the ONNX files); add both",
                    yaml.display()
                ));
            }
            (_, _, None) => {
                let (scale, bias) = SIGLIP_UNTRAINED;
                warnings.push(format!(
                    "warning: {place} is a SigLIP model without a models/<id>.yaml to give its logit_scale and logit_bias: probabilities and calibration use SigLIP's untrained values ({scale}, {bias}); predictions and accuracy do not depend on them"
                ));
                Scoring::Sigmoid { scale, bias }
            }
        },
    };
    Ok(ResolvedModel {
        io: spec.io.apply(family.io_names()),
        id,
        dir,
        spec,
        family,
        scoring,
        precision: None,
        warnings,
    })
}

impl ResolvedModel {
    /// The run's session options with this model's own precision, if its entry gives one.
    pub fn session(&self, run: SessionOptions) -> SessionOptions {
        SessionOptions {
            precision: self.precision.unwrap_or(run.precision),
            ..run
        }
    }
}

/// Resolves `models:` (or `override_dir`, which replaces them) against `models_dir`,
/// where `models/<id>.yaml` files live.
pub fn resolve(
    experiment: &Experiment,
    models_dir: &Path,
    override_dir: Option<&Path>,
    progress: &dyn Progress,
) -> Result<Vec<ResolvedModel>, String> {
    resolve_hashing(experiment, models_dir, override_dir, progress, &hash_file)
}

/// As [`resolve`], hashing model files (to check them against pins and locks) with `hash`.
pub fn resolve_hashing(
    experiment: &Experiment,
    models_dir: &Path,
    override_dir: Option<&Path>,
    progress: &dyn Progress,
    hash: FileHasher,
) -> Result<Vec<ResolvedModel>, String> {
    let files = ModelFiles {
        hash,
        download: true,
    };
    resolve_each(experiment, models_dir, override_dir, progress, &files)
        .into_iter()
        .collect()
}

/// How a model's files are had: checked with `hash`, and fetched when missing if `download`.
pub struct ModelFiles<'a> {
    pub hash: FileHasher<'a>,
    pub download: bool,
}

/// Each of `models:` (or `override_dir` alone) resolved on its own: one model that cannot
/// be had does not hide what the others are.
pub fn resolve_each(
    experiment: &Experiment,
    models_dir: &Path,
    override_dir: Option<&Path>,
    progress: &dyn Progress,
    files: &ModelFiles,
) -> Vec<Result<ResolvedModel, String>> {
    if let Some(dir) = override_dir {
        return vec![from_dir(dir)];
    }
    experiment
        .models
        .iter()
        .map(|entry| {
            let mut model = match &entry.model {
                ModelRef::Path(dir) => from_dir(dir)?,
                ModelRef::Id(id) => from_spec(experiment, models_dir, id, progress, files)?,
            };
            if let Some(precision) = entry.precision {
                // The same model at two precisions: two names in the report.
                model.id = format!("{} ({precision})", model.id);
                model.precision = Some(precision);
            }
            Ok(model)
        })
        .collect()
}

fn from_dir(dir: &Path) -> Result<ResolvedModel, String> {
    let dir = ModelDir::open(dir).map_err(|e| e.to_string())?;
    let id = dir
        .root()
        .file_name()
        .map_or_else(|| "model".into(), |n| n.to_string_lossy().into_owned());
    let spec = ModelSpec {
        id: id.clone(),
        description: None,
        local: Some(dir.root().to_path_buf()),
        source: None,
        files: Vec::new(),
        family: None,
        logit_scale: None,
        logit_bias: None,
        io: Default::default(),
    };
    finish(id, dir, spec, None)
}

/// A model yaml may be shared: its paths must stay inside the models folder and the
/// model's own folder, whatever they say, or a download could write any file the user can;
/// and its scale and bias must be ones that leave predictions meaningful.
fn check_spec(spec: &ModelSpec, text: &str, yaml: &Path) -> Result<(), String> {
    let mut problems = Vec::new();
    let mut problem = |key: &[&str], needle: Option<&str>, message: String| {
        problems.push(
            Diagnostic {
                file: yaml.to_path_buf(),
                position: locate(text, key, needle),
                message,
            }
            .to_string(),
        )
    };
    if let Some(local) = &spec.local
        && !is_contained_relative(local)
    {
        problem(
            &["local"],
            None,
            format!(
                "`local: {}` must be a relative folder inside the models folder (no `..`, no leading `/`)",
                local.display()
            ),
        );
    }
    for (field, message) in spec.scoring_problems() {
        problem(&[field], None, message);
    }
    for file in &spec.files {
        if !is_contained_relative(Path::new(&file.path)) || file.path.contains('\\') {
            problem(
                &["files"],
                Some(&file.path),
                format!(
                    "file path {:?} must be relative and stay inside the model folder (no `..`, no leading `/`), as in the repository's layout, e.g. onnx/vision_model.onnx",
                    file.path
                ),
            );
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("\n"))
    }
}

/// Relative, and made only of plain names: joined to a folder, it stays inside it.
fn is_contained_relative(path: &Path) -> bool {
    path.components().next().is_some()
        && path
            .components()
            .all(|c| matches!(c, std::path::Component::Normal(_)))
}

/// A model named on the command line: a model folder, or the id of a `models/<id>.yaml`
/// (downloaded and checked as a sweep would).
pub fn resolve_argument(
    argument: &Path,
    models_dir: &Path,
    progress: &dyn Progress,
) -> Result<ResolvedModel, String> {
    if argument.is_dir() {
        return from_dir(argument);
    }
    let id = argument.to_string_lossy();
    if ontosweep_experiment::check_plain_name(&id).is_err()
        || !models_dir.join(format!("{id}.yaml")).is_file()
    {
        return Err(format!(
            "{}: neither a model folder nor the id of a model in {} (ids: {})",
            argument.display(),
            models_dir.display(),
            known_ids(models_dir).join(", ")
        ));
    }
    let locate = |e: String| format!("model `{id}`: {e}");
    let files = ModelFiles {
        hash: &hash_file,
        download: true,
    };
    from_spec_file(models_dir, &id, progress, &files, &locate)
}

/// The ids of `models_dir`'s yaml files, sorted.
fn known_ids(models_dir: &Path) -> Vec<String> {
    let mut ids: Vec<String> = std::fs::read_dir(models_dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let id = name.strip_suffix(".yaml")?;
            (!id.ends_with(".lock")).then(|| id.to_string())
        })
        .collect();
    ids.sort();
    ids
}

fn from_spec(
    experiment: &Experiment,
    models_dir: &Path,
    id: &str,
    progress: &dyn Progress,
    files: &ModelFiles,
) -> Result<ResolvedModel, String> {
    let unreadable = |e: String| {
        experiment
            .diagnostic_at(
                &["models"],
                id,
                format!(
                    "model `{id}`: {e}; add that file, or write `- path: DIR` for a model directory"
                ),
            )
            .to_string()
    };
    from_spec_file(models_dir, id, progress, files, &unreadable)
}

/// `models/<id>.yaml` read, its paths checked, its files downloaded or checked.
fn from_spec_file(
    models_dir: &Path,
    id: &str,
    progress: &dyn Progress,
    files: &ModelFiles,
    unreadable: &dyn Fn(String) -> String,
) -> Result<ResolvedModel, String> {
    let yaml = models_dir.join(format!("{id}.yaml"));
    let text = read_bounded(&yaml, MAX_YAML_BYTES)
        .map_err(|e| unreadable(format!("cannot read {} ({e})", yaml.display())))?;
    bounds::check(&text).map_err(|too| {
        Diagnostic {
            file: yaml.clone(),
            position: too.position,
            message: too.message,
        }
        .to_string()
    })?;
    let spec: ModelSpec =
        yaml_serde::from_str(&text).map_err(|e| format!("{}: {e}", yaml.display()))?;
    check_spec(&spec, &text, &yaml)?;
    let local = spec.local.clone().unwrap_or_else(|| PathBuf::from(id));
    let dir = models_dir.join(local);
    let in_yaml = |e: String| format!("model `{id}` ({}): {e}", yaml.display());
    let missing = ModelDir::open(&dir).is_err();
    match &spec.source {
        Some(source) if missing && !spec.files.is_empty() && !files.download => {
            return Err(in_yaml(format!(
                "not downloaded yet: a sweep fetches its {} files from Hugging Face `{}` into {}",
                spec.files.len(),
                source.hf_repo,
                dir.display()
            )));
        }
        Some(_) if missing && !spec.files.is_empty() => {
            download_model(&spec, &yaml, &dir, progress).map_err(in_yaml)?;
        }
        // Files placed by hand (or changed since) must still be the pinned or locked ones.
        _ => check_model_files(&spec, &yaml, &dir, progress, files.hash).map_err(in_yaml)?,
    }
    let dir = ModelDir::open(&dir).map_err(|e| {
        let fetch = match &spec.source {
            Some(source) => format!(
                " Download its files from Hugging Face `{}` ({}) into {}, keeping the repository layout.",
                source.hf_repo,
                source.revision.as_deref().unwrap_or("latest revision"),
                dir.display()
            ),
            None => String::new(),
        };
        format!("model `{id}` ({}): {e}{fetch}", yaml.display())
    })?;
    finish(spec.id.clone(), dir, spec, Some(&yaml))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(text: &str) -> Result<(), String> {
        let spec: ModelSpec = yaml_serde::from_str(text).unwrap();
        check_spec(&spec, text, Path::new("models/m.yaml"))
    }

    #[test]
    fn yaml_paths_must_stay_inside_their_folders() {
        let good = "id: m\nlocal: m\nsource: {hf_repo: a/b}\nfiles:\n  - path: onnx/text_model.onnx\n  - path: tokenizer.json\n";
        spec(good).unwrap();
        let err = spec(&good.replace("tokenizer.json", "../../outside/pwned.txt")).unwrap_err();
        assert!(
            err.starts_with("models/m.yaml:6:") && err.contains("pwned"),
            "{err}"
        );
        let err = spec(&good.replace("tokenizer.json", "/etc/passwd")).unwrap_err();
        assert!(err.contains("/etc/passwd"), "{err}");
        let err = spec(&good.replace("local: m", "local: ../elsewhere")).unwrap_err();
        assert!(err.starts_with("models/m.yaml:2:"), "{err}");
        assert!(spec(&good.replace("local: m", "local: /tmp/x")).is_err());
        assert!(spec(&good.replace("tokenizer.json", "a/./../../b")).is_err());
    }

    /// Each of these would flip or freeze every prediction, or overflow the scoring.
    #[test]
    fn scale_and_bias_must_leave_predictions_meaningful() {
        let good = "id: m\nlocal: m\nlogit_scale: 117.33\nlogit_bias: -12.9\n";
        spec(good).unwrap();
        for scale in [".nan", ".inf", "-.inf", "1e308", "0", "-100", "20000"] {
            let err = spec(&good.replace("117.33", scale)).unwrap_err();
            assert!(
                err.starts_with("models/m.yaml:3:1:")
                    && err.contains("`logit_scale: ")
                    && err.contains("at most 10000"),
                "{scale}: {err}"
            );
        }
        for bias in [".nan", ".inf", "-1e5"] {
            let err = spec(&good.replace("-12.9", bias)).unwrap_err();
            assert!(
                err.starts_with("models/m.yaml:4:1:") && err.contains("`logit_bias: "),
                "{bias}: {err}"
            );
        }
        spec(&good.replace("117.33", "10000")).unwrap();
    }

    /// A FIFO in place of the model yaml is refused at once, not waited on forever.
    #[cfg(unix)]
    #[test]
    fn a_fifo_model_yaml_is_refused_without_blocking() {
        let dir = tempfile::tempdir().unwrap();
        ontosweep_testkit::mkfifo(&dir.path().join("m.yaml"));
        let models = dir.path().to_path_buf();
        let err = ontosweep_testkit::within_a_minute(move || {
            from_spec_file(
                &models,
                "m",
                &crate::progress::Silent,
                &ModelFiles {
                    hash: &hash_file,
                    download: true,
                },
                &|e: String| e,
            )
            .map(|_| ())
        })
        .expect("reading a FIFO model yaml blocked")
        .unwrap_err();
        assert!(
            err.contains("m.yaml") && err.contains("named pipe"),
            "{err}"
        );
    }

    /// Every model the repository ships a yaml for is one the resolver accepts: an id that
    /// names its file, confined paths, and a SigLIP's scale and bias.
    #[test]
    fn every_shipped_model_yaml_is_valid() {
        let folder = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../models");
        let mut seen = Vec::new();
        for entry in std::fs::read_dir(&folder).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().and_then(|e| e.to_str()) != Some("yaml") {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            let parsed: ModelSpec =
                yaml_serde::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            assert_eq!(
                Some(parsed.id.as_str()),
                path.file_stem().and_then(|s| s.to_str())
            );
            check_spec(&parsed, &text, &path).unwrap();
            if parsed.id.starts_with("siglip") {
                assert!(
                    parsed.logit_scale.is_some() && parsed.logit_bias.is_some(),
                    "{}",
                    parsed.id
                );
            }
            if parsed.source.is_some() {
                assert!(
                    !parsed.files.is_empty(),
                    "{} has a source but no files",
                    parsed.id
                );
            }
            seen.push(parsed.id);
        }
        seen.sort();
        for id in [
            "clip-vit-b16",
            "clip-vit-b32",
            "clip-vit-l14",
            "siglip-base-p16-224",
            "siglip-tiny-random",
        ] {
            assert!(seen.iter().any(|s| s == id), "{id} missing from {seen:?}");
        }
    }

    fn tiny(name: &str) -> ModelDir {
        ModelDir::open(
            &Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../../models")
                .join(name),
        )
        .unwrap()
    }

    fn bare(
        logit_scale: Option<f32>,
        logit_bias: Option<f32>,
        family: Option<Family>,
    ) -> ModelSpec {
        ModelSpec {
            id: "m".into(),
            description: None,
            local: None,
            source: None,
            files: Vec::new(),
            family,
            logit_scale,
            logit_bias,
            io: Default::default(),
        }
    }

    #[test]
    fn the_family_decides_names_and_scoring() {
        let yaml = Path::new("models/m.yaml");
        let clip = finish(
            "m".into(),
            tiny("clip-tiny-random"),
            bare(None, None, None),
            Some(yaml),
        )
        .unwrap();
        assert_eq!(
            (clip.family, clip.scoring),
            (Family::Clip, Scoring::Softmax { scale: 100.0 })
        );
        let siglip = finish(
            "m".into(),
            tiny("siglip-tiny-random"),
            bare(Some(9.0), Some(-2.0), None),
            Some(yaml),
        )
        .unwrap();
        assert_eq!(
            siglip.scoring,
            Scoring::Sigmoid {
                scale: 9.0,
                bias: -2.0
            }
        );
        assert_eq!(siglip.io.text_embeds, "pooler_output");
        let err = finish(
            "m".into(),
            tiny("siglip-tiny-random"),
            bare(None, None, None),
            Some(yaml),
        )
        .unwrap_err();
        assert!(
            err.contains("needs `logit_scale` and `logit_bias`"),
            "{err}"
        );
        let err = finish(
            "m".into(),
            tiny("clip-tiny-random"),
            bare(None, Some(1.0), None),
            Some(yaml),
        )
        .unwrap_err();
        assert!(err.contains("a CLIP model has none"), "{err}");
        let err = finish(
            "m".into(),
            tiny("clip-tiny-random"),
            bare(None, None, Some(Family::Siglip)),
            Some(yaml),
        )
        .unwrap_err();
        assert!(
            err.contains("`family: siglip`") && err.contains("says `clip`"),
            "{err}"
        );
        // A folder without a yaml: SigLIP's untrained values, said out loud.
        let folder = finish(
            "m".into(),
            tiny("siglip-tiny-random"),
            bare(None, None, None),
            None,
        )
        .unwrap();
        assert_eq!(
            folder.scoring,
            Scoring::Sigmoid {
                scale: 10.0,
                bias: -10.0
            }
        );
        assert!(folder.warnings[0].contains("predictions and accuracy do not depend on them"));
    }
}
