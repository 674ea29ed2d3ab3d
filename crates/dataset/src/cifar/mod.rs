//! CIFAR-10 and CIFAR-100 as torchvision leaves them on disk ("python version"):
//! `cifar-10-batches-py/` (`batches.meta`, `data_batch_1..5`, `test_batch`) or
//! `cifar-100-python/` (`meta`, `train`, `test`), each file a pickled dict. The pixels are
//! never loaded: each image is a member of its batch file, 3072 bytes of planar RGB read in
//! place and handed on as a BMP ([`ontosweep_results::PlanarRgb`]).

mod batch;
mod pickle;
#[cfg(test)]
mod tests;

use std::path::{Path, PathBuf};

use ontosweep_results::{PlanarRgb, SkippedFile};

use crate::{ClassSource, Dataset, DatasetError, DatasetImage, TarMember};

pub use batch::MAX_PICKLE_BYTES;

/// Which of the two splits CIFAR ships.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CifarSplit {
    Test,
    Train,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Variant {
    Cifar10,
    Cifar100,
}

impl Variant {
    /// The folder torchvision unpacks it to.
    fn folder(self) -> &'static str {
        match self {
            Variant::Cifar10 => "cifar-10-batches-py",
            Variant::Cifar100 => "cifar-100-python",
        }
    }

    fn meta(self) -> &'static str {
        match self {
            Variant::Cifar10 => "batches.meta",
            Variant::Cifar100 => "meta",
        }
    }

    /// The meta file's names, and the batches' labels: CIFAR-100's fine ones, as torchvision.
    fn keys(self) -> (&'static str, &'static str) {
        match self {
            Variant::Cifar10 => ("label_names", "labels"),
            Variant::Cifar100 => ("fine_label_names", "fine_labels"),
        }
    }

    fn batches(self, split: CifarSplit) -> Vec<String> {
        match (self, split) {
            (Variant::Cifar10, CifarSplit::Test) => vec!["test_batch".into()],
            (Variant::Cifar10, CifarSplit::Train) => {
                (1..=5).map(|i| format!("data_batch_{i}")).collect()
            }
            (Variant::Cifar100, CifarSplit::Test) => vec!["test".into()],
            (Variant::Cifar100, CifarSplit::Train) => vec!["train".into()],
        }
    }
}

/// The images of one split, with their classes from the meta file (in index order).
/// `folder` is the batches folder itself or the torchvision root holding it; `wanted`
/// (`dataset.classes`) keeps those classes, in that order, and lists the rest as skipped.
pub fn read_cifar(
    folder: &Path,
    split: CifarSplit,
    wanted: Option<&[String]>,
) -> Result<Dataset, DatasetError> {
    let (root, variant) = locate(folder)?;
    let meta = root.join(variant.meta());
    let (names_key, labels_key) = variant.keys();
    let names = batch::read_names(&meta, names_key)?;
    crate::dataset::refuse_unknown_wanted(Some((&names, &meta)), wanted)?;
    let (classes, class_source) = match wanted {
        Some(wanted) => (wanted.to_vec(), ClassSource::Listed),
        None => (names.clone(), ClassSource::NamesFile(meta.clone())),
    };
    let labels_of = crate::dataset::ClassIndex::new(&classes);
    let mut images = Vec::new();
    let mut skipped = Vec::new();
    for name in variant.batches(split) {
        let path = root.join(&name);
        require_present(&path, variant)?;
        let found = batch::read_batch(&path, labels_key, names.len())?;
        let digits = found
            .labels
            .len()
            .saturating_sub(1)
            .to_string()
            .len()
            .max(5);
        for (index, &label) in found.labels.iter().enumerate() {
            let relative = format!("{name}/{index:0digits$}");
            let class = &names[label];
            let Some(label) = labels_of.label(class) else {
                let reason = format!("class `{class}` is not one of `dataset.classes`");
                skipped.push(SkippedFile {
                    path: relative,
                    reason,
                });
                continue;
            };
            let member = planar_member(found.data_offset, index);
            images.push(DatasetImage {
                path: path.clone(),
                relative,
                label,
                member: Some(member),
            });
        }
    }
    crate::refuse_empty_classes(&classes, images.iter().map(|i| i.label), &class_source)?;
    Ok(Dataset {
        root,
        classes,
        class_source,
        images: crate::ImageList::new(&images)?,
        skipped,
        label_lines: None,
        warnings: Vec::new(),
        display: Default::default(),
    })
}

/// Image `index`'s 32×32 planar pixels in a batch whose pixel rows start at `data_offset`.
fn planar_member(data_offset: u64, index: usize) -> TarMember {
    TarMember {
        offset: data_offset + index as u64 * batch::IMAGE_BYTES,
        size: batch::IMAGE_BYTES,
        pixels: Some(PlanarRgb {
            width: 32,
            height: 32,
        }),
    }
}

/// The batches folder and which CIFAR it holds: `folder` itself, or the one folder
/// torchvision made inside it.
fn locate(folder: &Path) -> Result<(PathBuf, Variant), DatasetError> {
    if !folder.is_dir() {
        return Err(DatasetError::Unreadable(format!(
            "{} is not a folder: point the dataset at `cifar-10-batches-py` or `cifar-100-python` (or the folder torchvision downloaded one into)",
            folder.display()
        )));
    }
    if let Some(variant) = variant_in(folder)? {
        return Ok((folder.to_path_buf(), variant));
    }
    let inside: Vec<Variant> = [Variant::Cifar10, Variant::Cifar100]
        .into_iter()
        .filter(|v| folder.join(v.folder()).is_dir())
        .collect();
    match inside.as_slice() {
        [] => Err(DatasetError::Unreadable(format!(
            "{} holds no CIFAR batches: expected a folder as torchvision's CIFAR10/CIFAR100(download=True) leaves it, `cifar-10-batches-py` (batches.meta, data_batch_1..5, test_batch) or `cifar-100-python` (meta, train, test), or the folder holding one of them",
            folder.display()
        ))),
        [variant] => {
            let sub = folder.join(variant.folder());
            match variant_in(&sub)? {
                Some(found) if found == *variant => Ok((sub, found)),
                _ => Err(DatasetError::Unreadable(format!(
                    "{} lacks its `{}`: the download is incomplete; download it again",
                    sub.display(),
                    variant.meta()
                ))),
            }
        }
        _ => Err(DatasetError::Unreadable(format!(
            "{} holds both `cifar-10-batches-py` and `cifar-100-python`: point the dataset at the one to read ({})",
            folder.display(),
            folder.join("cifar-10-batches-py").display()
        ))),
    }
}

/// Which CIFAR's meta file `folder` holds, if any.
fn variant_in(folder: &Path) -> Result<Option<Variant>, DatasetError> {
    let has = |variant: Variant| {
        let path = folder.join(variant.meta());
        ontosweep_clip::files::present(&path)
            .map_err(|e| DatasetError::Unreadable(format!("{}: {e}", path.display())))
    };
    match (has(Variant::Cifar10)?, has(Variant::Cifar100)?) {
        (true, true) => Err(DatasetError::Unreadable(format!(
            "{} holds both `batches.meta` (CIFAR-10) and `meta` (CIFAR-100): keep each in its own folder, as torchvision does",
            folder.display()
        ))),
        (true, false) => Ok(Some(Variant::Cifar10)),
        (false, true) => Ok(Some(Variant::Cifar100)),
        (false, false) => Ok(None),
    }
}

fn require_present(path: &Path, variant: Variant) -> Result<(), DatasetError> {
    match ontosweep_clip::files::present(path) {
        Ok(true) => Ok(()),
        Ok(false) => Err(DatasetError::Unreadable(format!(
            "{} is missing: {} is incomplete; download it again",
            path.display(),
            variant.folder()
        ))),
        Err(e) => Err(DatasetError::Unreadable(format!("{}: {e}", path.display()))),
    }
}
