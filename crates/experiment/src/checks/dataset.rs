//! `dataset:`.

use std::path::Path;

use super::Checks;
use crate::DatasetSpec;
use crate::names::duplicates;
use crate::raw::{OneOrMany, RawDataset};

impl Checks<'_> {
    pub(crate) fn dataset(&mut self, raw: RawDataset, folder: &Path) -> DatasetSpec {
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
        let known = crate::KNOWN_DOWNLOADS;
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
}
