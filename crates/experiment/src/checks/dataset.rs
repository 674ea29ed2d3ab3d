//! `dataset:`.

use std::collections::BTreeMap;
use std::path::Path;

use super::Checks;
use crate::names::duplicates;
use crate::raw::{OneOrMany, RawDataset, RawNames};
use crate::{DatasetSpec, StandardDataset, StandardKind};

impl Checks<'_> {
    pub(crate) fn dataset(&mut self, raw: RawDataset, folder: &Path) -> DatasetSpec {
        let standard = self.standard(&raw, folder);
        let standard_given = StandardKind::ALL
            .iter()
            .filter(|k| standard_folder(&raw, **k).is_some())
            .count();
        let (names, name_list) = match raw.names {
            RawNames::PerClass(names) => (names, None),
            RawNames::List(list) => (BTreeMap::new(), self.name_list(list)),
        };
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
            names,
            standard,
            name_list,
            benchmark_name: raw.benchmark_name,
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
        if raw.split.is_some() && dataset.standard.is_none() {
            self.report(&["dataset", "split"], None, "`split` chooses a split of a standard dataset (`clip_benchmark`, `imagenet`, `cifar` or `food101`); for other datasets, name the split's folder or file itself".into());
        }
        let sources = [
            dataset.root.is_some(),
            dataset.manifest.is_some(),
            !dataset.webdataset.is_empty(),
        ];
        let given = sources.iter().filter(|&&given| given).count() + standard_given;
        if given != 1 {
            self.report(&["dataset"], None, "give exactly one of `dataset.root` (a folder per class), `dataset.manifest` (a CSV of path,label), `dataset.webdataset` (tar shards), or a standard benchmark's folder: `clip_benchmark` (CLIP_benchmark's WebDataset export), `imagenet` (val/<wnid>/ folders), `cifar` (torchvision's python-version batches) or `food101`".into());
        }
        if dataset.classnames.is_some()
            && (dataset.root.is_some() || dataset.standard.is_some() || dataset.name_list.is_some())
        {
            self.report(&["dataset", "classnames"], None, "`classnames` declares every class, one per line, for `manifest` or `webdataset`; class folders and standard datasets declare their own (choose some with `classes`, rename them with `names`)".into());
        }
        if dataset.name_list.is_some() && dataset.root.is_some() {
            self.report(&["dataset", "names"], None, "a list of names for every class in index order fits datasets whose labels are indices (`webdataset`, `manifest`, `clip_benchmark`, `imagenet`, `cifar`); class folders are named by their folder names: give `names:` per class instead (`folder: words`)".into());
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

    /// The standard dataset the section names, with its split checked.
    fn standard(&mut self, raw: &RawDataset, folder: &Path) -> Option<StandardDataset> {
        let (kind, path) = StandardKind::ALL
            .into_iter()
            .find_map(|kind| standard_folder(raw, kind).map(|path| (kind, path)))?;
        let split = raw
            .split
            .clone()
            .unwrap_or_else(|| kind.default_split().to_string());
        let known = kind.splits();
        let plain = crate::check_plain_name(&split).is_ok();
        if !plain || (!known.is_empty() && !known.contains(&split.as_str())) {
            let choose = match known {
                [] => "a folder name inside it, such as `test`".to_string(),
                known => known.join(" or "),
            };
            self.report(
                &["dataset", "split"],
                None,
                format!(
                    "`split: {split:?}` is not a split of a `{}` dataset; choose {choose}",
                    kind.key()
                ),
            );
        }
        Some(StandardDataset {
            kind,
            folder: folder.join(path),
            split,
        })
    }

    /// `names: clip-benchmark/<dataset>`: a catalog list that must exist.
    fn name_list(&mut self, list: String) -> Option<String> {
        if ontosweep_catalog::class_names(&list).is_some() {
            return Some(list);
        }
        self.report(
            &["dataset", "names"],
            None,
            format!("unknown list of class names {list:?}; the built-in lists are {}; or give per-class names (`folder: words`)", ontosweep_catalog::class_name_lists().join(", ")),
        );
        None
    }
}

fn standard_folder(raw: &RawDataset, kind: StandardKind) -> Option<&Path> {
    match kind {
        StandardKind::ClipBenchmark => raw.clip_benchmark.as_deref(),
        StandardKind::ImageNet => raw.imagenet.as_deref(),
        StandardKind::Cifar => raw.cifar.as_deref(),
        StandardKind::Food101 => raw.food101.as_deref(),
    }
}
