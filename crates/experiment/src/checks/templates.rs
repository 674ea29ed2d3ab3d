//! Any `templates:` value: a list, a named set, or a file; each template's class slot
//! checked where it was written, then `{c}` (CLIP_benchmark's slot) written as `{}`.

use std::path::Path;

use super::Checks;
use crate::raw::RawTemplates;
use crate::templates;

/// Largest templates file read.
const MAX_TEMPLATES_FILE_BYTES: u64 = 1 << 20;

/// The two ways a template marks where the class name goes.
pub(crate) fn has_slot(template: &str) -> bool {
    template.contains("{}") || template.contains("{c}")
}

/// `{c}` is CLIP_benchmark's slot; ontosweep applies templates through `{}`.
fn with_plain_slot(template: &str) -> String {
    template.replace("{c}", "{}")
}

fn no_slot(template: &str) -> String {
    format!(
        "template {template:?} has no `{{}}` (or `{{c}}`): write where the class name goes, e.g. \"a photo of a {{}}.\""
    )
}

impl Checks<'_> {
    /// The templates `raw` names, located at `path` (the `templates` key) for problems.
    pub(crate) fn template_list(&mut self, path: &[&str], raw: RawTemplates) -> Vec<String> {
        match raw {
            RawTemplates::List(list) => {
                for template in list.iter().filter(|t| !has_slot(t)) {
                    self.report(path, Some(template), no_slot(template));
                }
                list.iter().map(|t| with_plain_slot(t)).collect()
            }
            RawTemplates::Named(name) => self.named_templates(path, &name),
            RawTemplates::File(file) => {
                let file = self.folder.join(file);
                self.templates_file(path, &file, "")
            }
        }
    }

    fn named_templates(&mut self, path: &[&str], name: &str) -> Vec<String> {
        if name == "dataset" {
            return match self.dataset_templates.clone() {
                Some(file) => self.templates_file(path, &file, " (`templates: dataset`)"),
                None => {
                    self.report(path, None, "`templates: dataset` reads a CLIP_benchmark folder's own zeroshot_classification_templates.txt, and this dataset is not one (`dataset.clip_benchmark: DIR`); list the templates, or name a set such as `clip-benchmark/imagenet1k`".into());
                    Vec::new()
                }
            };
        }
        if let Some(set) = templates::built_in(name) {
            return set.iter().map(|t| t.to_string()).collect();
        }
        if let Some(set) = ontosweep_catalog::templates(name) {
            return set.iter().map(|t| with_plain_slot(t)).collect();
        }
        let built_in = templates::BUILT_IN.iter().map(|(n, _)| n.to_string());
        let known: Vec<String> = built_in
            .chain(ontosweep_catalog::template_lists())
            .collect();
        self.report(
            path,
            None,
            format!("unknown template set {name:?}: the built-in sets are {}, and `dataset` (a CLIP_benchmark folder's own); or give a list of templates, each with `{{}}` or `{{c}}` where the class name goes, or `{{file: FILE}}`", known.join(", ")),
        );
        Vec::new()
    }

    /// One template per line; blank lines are skipped. Problems name the file and line, and
    /// are shown at the `templates` key that names the file.
    fn templates_file(&mut self, path: &[&str], file: &Path, why: &str) -> Vec<String> {
        let text = match ontosweep_clip::files::read_bounded_text(file, MAX_TEMPLATES_FILE_BYTES) {
            Ok(text) => text,
            Err(e) => {
                self.report(
                    path,
                    None,
                    format!(
                        "cannot read the templates file {}{why}: {e}",
                        file.display()
                    ),
                );
                return Vec::new();
            }
        };
        let mut list = Vec::new();
        for (index, line) in text.lines().enumerate() {
            let template = line.trim();
            if template.is_empty() {
                continue;
            }
            if !has_slot(template) {
                let problem = no_slot(template);
                let at = format!("{}:{}: {problem}", file.display(), index + 1);
                self.report(path, None, at);
            }
            list.push(with_plain_slot(template));
        }
        if list.is_empty() {
            self.report(
                path,
                None,
                format!("the templates file {} holds no template (one per line, with `{{}}` or `{{c}}` where the class name goes)", file.display()),
            );
        }
        list
    }
}
