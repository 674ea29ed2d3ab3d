//! `models:`.

use std::path::Path;

use ontosweep_clip::Precision;

use super::Checks;
use crate::raw::RawModel;
use crate::{ModelEntry, ModelRef, check_plain_name};

impl Checks<'_> {
    /// The model list: ids must be plain names; paths are resolved against `folder`.
    pub(crate) fn models(&mut self, raw: Vec<RawModel>, folder: &Path) -> Vec<ModelEntry> {
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
}
