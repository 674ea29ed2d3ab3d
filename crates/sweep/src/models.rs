//! Resolving an experiment's model references to model directories.

use std::path::{Path, PathBuf};

use ontosweep_clip::{ModelDir, ModelSpec};

use crate::config::{Experiment, ModelRef};
use crate::progress::Progress;
use crate::provision::download_model;

/// A model ready to open.
#[derive(Debug, Clone)]
pub struct ResolvedModel {
    pub id: String,
    pub dir: ModelDir,
    pub spec: ModelSpec,
}

/// Resolves `models:` (or `override_dir`, which replaces them) against `models_dir`,
/// where `models/<id>.yaml` files live.
pub fn resolve(
    experiment: &Experiment,
    models_dir: &Path,
    override_dir: Option<&Path>,
    progress: &dyn Progress,
) -> Result<Vec<ResolvedModel>, String> {
    if let Some(dir) = override_dir {
        return Ok(vec![from_dir(dir)?]);
    }
    experiment
        .models
        .iter()
        .map(|model| match model {
            ModelRef::Path(dir) => from_dir(dir),
            ModelRef::Id(id) => from_spec(experiment, models_dir, id, progress),
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
        logit_scale: ontosweep_clip::default_logit_scale(),
        io: Default::default(),
    };
    Ok(ResolvedModel { id, dir, spec })
}

fn from_spec(
    experiment: &Experiment,
    models_dir: &Path,
    id: &str,
    progress: &dyn Progress,
) -> Result<ResolvedModel, String> {
    let yaml = models_dir.join(format!("{id}.yaml"));
    let text = std::fs::read_to_string(&yaml).map_err(|e| {
        experiment
            .diagnostic_at(&["models"], id, format!("model `{id}`: cannot read {} ({e}); add that file, or write `- path: DIR` for a model directory", yaml.display()))
            .to_string()
    })?;
    let spec: ModelSpec =
        yaml_serde::from_str(&text).map_err(|e| format!("{}: {e}", yaml.display()))?;
    let local = spec.local.clone().unwrap_or_else(|| PathBuf::from(id));
    let dir = models_dir.join(local);
    if ModelDir::open(&dir).is_err() && spec.source.is_some() && !spec.files.is_empty() {
        download_model(&spec, &yaml, &dir, progress)
            .map_err(|e| format!("model `{id}` ({}): {e}", yaml.display()))?;
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
    Ok(ResolvedModel {
        id: spec.id.clone(),
        dir,
        spec,
    })
}
