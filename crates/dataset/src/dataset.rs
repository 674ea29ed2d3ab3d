//! A dataset as the sweep sees it: its candidate classes, where they were declared, each
//! image with its label and where its bytes are, and what was skipped.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use ontosweep_results::SkippedFile;

use crate::{DatasetError, ImageList};

pub const IMAGE_EXTENSIONS: &[&str] = &["jpg", "jpeg", "png", "webp", "gif", "bmp", "tif", "tiff"];

#[derive(Debug, Clone)]
pub struct Dataset {
    pub root: PathBuf,
    /// The task's candidate classes, all of them: every image is scored against each.
    pub classes: Vec<String>,
    /// Where `classes` were declared.
    pub class_source: ClassSource,
    /// Kept on disk; see [`ImageList`].
    pub images: ImageList,
    pub skipped: Vec<SkippedFile>,
    /// For a manifest: the file, and the lines that carry each label (so that a problem with
    /// a class can be shown where it was written).
    pub label_lines: Option<(PathBuf, BTreeMap<String, Vec<usize>>)>,
    /// Said before any work (e.g. a rare manifest label one letter from a common one).
    pub warnings: Vec<String>,
    /// Per class: the words its prompts use where they are not the class itself (a
    /// published name shared by two classes, `apple_pie` read as `apple pie`), unless the
    /// experiment names it otherwise.
    pub display: BTreeMap<String, String>,
}

/// Where a dataset's classes come from. A declared set is fixed before any label is read;
/// a set taken from the labels is whatever the data holds.
#[derive(Debug, Clone, PartialEq)]
pub enum ClassSource {
    /// The class sub-folders of the dataset folder.
    Folders,
    /// `dataset.classes` in the experiment.
    Listed,
    /// A class-names file, one per line (CLIP_benchmark's `classnames.txt`).
    NamesFile(PathBuf),
    /// Every label the manifest or shards hold: not declared.
    Labels,
}

impl ClassSource {
    pub fn is_declared(&self) -> bool {
        *self != ClassSource::Labels
    }
}

impl std::fmt::Display for ClassSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ClassSource::Folders => f.write_str("the dataset's class folders"),
            ClassSource::Listed => f.write_str("`dataset.classes`"),
            ClassSource::NamesFile(file) => write!(f, "{}", file.display()),
            ClassSource::Labels => f.write_str("the labels found in the data"),
        }
    }
}

/// Every candidate class must have an image: a class with none would be scored as if the
/// task were another. Names them all (up to a few).
pub fn refuse_empty_classes(
    classes: &[String],
    labels: impl IntoIterator<Item = usize>,
    source: &ClassSource,
) -> Result<(), DatasetError> {
    let mut has = vec![false; classes.len()];
    for label in labels {
        has[label] = true;
    }
    let empty: Vec<&String> = classes
        .iter()
        .zip(&has)
        .filter(|(_, has)| !**has)
        .map(|(c, _)| c)
        .collect();
    if empty.is_empty() {
        return Ok(());
    }
    let shown: Vec<String> = empty.iter().take(10).map(|c| format!("`{c}`")).collect();
    let more = match empty.len() {
        n if n > 10 => format!(" and {} more", n - 10),
        _ => String::new(),
    };
    Err(DatasetError::Classes(format!(
        "{} of the {} classes declared by {source} have no images: {}{more}. Every declared class is a choice for every image, so the task would not be the one declared; add their images, or leave them out with `dataset.classes`",
        empty.len(),
        classes.len(),
        shown.join(", "),
    )))
}

#[derive(Debug, Clone, PartialEq)]
pub struct DatasetImage {
    /// The file, or the tar shard holding it.
    pub path: PathBuf,
    /// Relative to the dataset root, with `/` separators (`shard.tar/key.jpg` in a shard).
    pub relative: String,
    pub label: usize,
    /// Where its bytes lie inside the tar shard `path`, for an image in a WebDataset shard.
    pub member: Option<TarMember>,
}

/// An image's bytes inside a larger file, read in place, never unpacked: a member of an
/// uncompressed tar, or one image's raw pixels in a CIFAR batch (then `pixels` is set). The
/// results name it the same way.
pub use ontosweep_results::ByteRange as TarMember;

/// Where one image's bytes are: a file, or a member of a tar shard.
#[derive(Debug, Clone, PartialEq)]
pub struct ImageSource {
    pub path: PathBuf,
    pub member: Option<TarMember>,
}

impl ImageSource {
    pub fn file(path: &Path) -> Self {
        Self {
            path: path.to_path_buf(),
            member: None,
        }
    }

    /// The image's bytes, within the per-image file limit.
    pub fn read(&self) -> Result<Vec<u8>, ontosweep_clip::Error> {
        use std::io::{Read, Seek, SeekFrom};
        let Some(member) = self.member else {
            return ontosweep_clip::preprocess::read_image_file(&self.path);
        };
        let error = |reason: String| ontosweep_clip::Error::Image {
            path: self.path.clone(),
            reason,
        };
        let limit = ontosweep_clip::preprocess::MAX_FILE_BYTES;
        if member.size > limit {
            return Err(error(format!(
                "the member has {} bytes, over the limit of {limit} for an image",
                member.size
            )));
        }
        let mut file = std::fs::File::open(&self.path).map_err(|e| error(e.to_string()))?;
        file.seek(SeekFrom::Start(member.offset))
            .map_err(|e| error(e.to_string()))?;
        let mut bytes = Vec::with_capacity(member.size as usize);
        file.take(member.size)
            .read_to_end(&mut bytes)
            .map_err(|e| error(e.to_string()))?;
        if bytes.len() as u64 != member.size {
            return Err(error(
                "the file ended inside this member (truncated shard or batch?)".into(),
            ));
        }
        match member.pixels {
            None => Ok(bytes),
            // Encoded losslessly so that hashing, decoding and the cache see an image file.
            Some(pixels) => pixels.to_bmp(&bytes).ok_or_else(|| {
                error(format!(
                    "{} bytes are not the R, G and B planes of a {}×{} image",
                    bytes.len(),
                    pixels.width,
                    pixels.height
                ))
            }),
        }
    }
}

impl DatasetImage {
    pub fn source(&self) -> ImageSource {
        ImageSource {
            path: self.path.clone(),
            member: self.member,
        }
    }
}

/// `dataset.classes` picks among the declared class names, never beyond them.
pub(crate) fn refuse_unknown_wanted(
    names: Option<(&[String], &Path)>,
    wanted: Option<&[String]>,
) -> Result<(), DatasetError> {
    if let (Some((all, file)), Some(wanted)) = (names, wanted)
        && let Some(unknown) = wanted.iter().find(|w| !all.contains(w))
    {
        return Err(DatasetError::Classes(format!(
            "`dataset.classes` lists `{unknown}`, which is not among the {} class names of {}",
            all.len(),
            file.display()
        )));
    }
    Ok(())
}

/// Each class name's label: a lookup per sample instead of a walk over every class (a
/// million samples × 1,000 classes would be a billion comparisons). A repeated name keeps
/// its first label, as a walk would.
pub(crate) struct ClassIndex<'a>(std::collections::HashMap<&'a str, usize>);

impl<'a> ClassIndex<'a> {
    pub(crate) fn new(classes: &'a [String]) -> Self {
        let mut index = std::collections::HashMap::with_capacity(classes.len());
        for (label, class) in classes.iter().enumerate() {
            index.entry(class.as_str()).or_insert(label);
        }
        ClassIndex(index)
    }

    pub(crate) fn label(&self, class: &str) -> Option<usize> {
        self.0.get(class).copied()
    }
}

#[cfg(test)]
mod class_index_tests {
    use super::ClassIndex;

    #[test]
    fn labels_are_the_first_place_of_each_name() {
        let classes = ["daisy", "rose", "daisy"].map(String::from);
        let index = ClassIndex::new(&classes);
        assert_eq!(index.label("daisy"), Some(0));
        assert_eq!(index.label("rose"), Some(1));
        assert_eq!(index.label("tulip"), None);
    }
}
