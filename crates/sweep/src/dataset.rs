//! Finding the images of a dataset: a folder per class, or a CSV manifest.
//!
//! Policy (documented in docs/experiments.md, "Dataset policy"): names starting with `.` are
//! ignored; files whose extension is not an image format's are listed as skipped; sub-folders
//! inside a class folder belong to that class; symbolic links are followed, each folder and
//! file at most once (loops end there; a second path to the same file is listed as skipped),
//! and a folder or file reached under two classes is an error naming both paths; everything
//! is sorted by path so every run sees the same order.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use ontosweep_results::SkippedFile;

pub const IMAGE_EXTENSIONS: &[&str] = &["jpg", "jpeg", "png", "webp", "gif", "bmp", "tif", "tiff"];

#[derive(Debug, Clone)]
pub struct Dataset {
    pub root: PathBuf,
    /// The task's candidate classes, all of them: every image is scored against each.
    pub classes: Vec<String>,
    /// Where `classes` were declared.
    pub class_source: ClassSource,
    pub images: Vec<DatasetImage>,
    pub skipped: Vec<SkippedFile>,
    /// For a manifest: the file, and the lines that carry each label (so that a problem with
    /// a class can be shown where it was written).
    pub label_lines: Option<(PathBuf, BTreeMap<String, Vec<usize>>)>,
    /// Said before any work (e.g. a rare manifest label one letter from a common one).
    pub warnings: Vec<String>,
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
    images: &[DatasetImage],
    source: &ClassSource,
) -> Result<(), String> {
    let mut has = vec![false; classes.len()];
    for image in images {
        has[image.label] = true;
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
    Err(format!(
        "{} of the {} classes declared by {source} have no images: {}{more}. Every declared class is a choice for every image, so the task would not be the one declared; add their images, or leave them out with `dataset.classes`",
        empty.len(),
        classes.len(),
        shown.join(", "),
    ))
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

/// An image's bytes inside an uncompressed tar: read in place, never unpacked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TarMember {
    pub offset: u64,
    pub size: u64,
}

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
                "the tar shard ended inside this member (truncated shard?)".into(),
            ));
        }
        Ok(bytes)
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

fn is_hidden(path: &Path) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.starts_with('.'))
}

/// Relative, without `..`: joined to the manifest's folder, it stays inside.
fn stays_inside(path: &Path) -> bool {
    path.components().next().is_some()
        && path.components().all(|c| {
            matches!(
                c,
                std::path::Component::Normal(_) | std::path::Component::CurDir
            )
        })
}

fn has_image_extension(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| IMAGE_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
}

fn relative(root: &Path, path: &Path) -> String {
    let rel = path.strip_prefix(root).unwrap_or(path);
    rel.components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

/// Scans `root/<class>/**`. `wanted` picks and orders classes; all folders otherwise.
pub fn scan_folder(root: &Path, wanted: Option<&[String]>) -> Result<Dataset, String> {
    if !root.is_dir() {
        return Err(format!(
            "dataset folder {} does not exist. Put one sub-folder per class there, pass --data-root DIR, or set `dataset.download` to a known archive",
            root.display()
        ));
    }
    let mut folders: Vec<String> = read_sorted(root)?
        .into_iter()
        .filter(|p| p.is_dir() && !is_hidden(p))
        .filter_map(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .collect();
    let classes: Vec<String> = match wanted {
        Some(wanted) => {
            let missing: Vec<&String> = wanted.iter().filter(|c| !folders.contains(c)).collect();
            if !missing.is_empty() {
                return Err(format!(
                    "dataset folder {} has no sub-folder for class {}; it has: {}",
                    root.display(),
                    missing
                        .iter()
                        .map(|c| format!("`{c}`"))
                        .collect::<Vec<_>>()
                        .join(", "),
                    folders.join(", ")
                ));
            }
            wanted.to_vec()
        }
        None => std::mem::take(&mut folders),
    };
    if classes.is_empty() {
        return Err(format!(
            "dataset folder {} has no class sub-folders",
            root.display()
        ));
    }
    let mut walk = Walk {
        root,
        label: 0,
        seen: Seen::default(),
        images: Vec::new(),
        skipped: Vec::new(),
    };
    for (label, class) in classes.iter().enumerate() {
        walk.label = label;
        let before = walk.images.len();
        walk.folder(&root.join(class), &classes)?;
        if walk.images.len() == before {
            return Err(format!(
                "class folder {} holds no image files ({}); add images or leave the class out with `dataset.classes`",
                root.join(class).display(),
                IMAGE_EXTENSIONS.join(", ")
            ));
        }
    }
    let Walk {
        mut images,
        mut skipped,
        ..
    } = walk;
    images.sort_by(|a: &DatasetImage, b| a.relative.cmp(&b.relative));
    skipped.sort_by(|a: &SkippedFile, b| a.path.cmp(&b.path));
    Ok(Dataset {
        root: root.to_path_buf(),
        class_source: if wanted.is_some() {
            ClassSource::Listed
        } else {
            ClassSource::Folders
        },
        classes,
        images,
        skipped,
        label_lines: None,
        warnings: Vec::new(),
    })
}

fn read_sorted(dir: &Path) -> Result<Vec<PathBuf>, String> {
    let entries =
        std::fs::read_dir(dir).map_err(|e| format!("cannot read folder {}: {e}", dir.display()))?;
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    Ok(paths)
}

/// Where each folder and file was first reached (its label and relative path): through
/// symbolic links one file can be reached twice, and under two classes it would be
/// scored with both labels.
#[derive(Default)]
struct Seen {
    folders: BTreeMap<FileId, (usize, String)>,
    files: BTreeMap<FileId, (usize, String)>,
}

/// Device and inode: the same for every path to one file, symbolic or hard links alike.
type FileId = (u64, u64);

/// The identity of what `path` leads to (links followed).
fn file_id(path: &Path) -> std::io::Result<FileId> {
    use std::os::unix::fs::MetadataExt;
    let meta = std::fs::metadata(path)?;
    Ok((meta.dev(), meta.ino()))
}

impl Seen {
    /// `Ok(None)` the first time, `Ok(Some(first path))` again under the same label, an
    /// error naming both paths under another label.
    fn visit(
        map: &mut BTreeMap<FileId, (usize, String)>,
        id: FileId,
        what: &str,
        label: usize,
        relative: &str,
        classes: &[String],
    ) -> Result<Option<String>, String> {
        match map.get(&id) {
            None => {
                map.insert(id, (label, relative.to_string()));
                Ok(None)
            }
            Some((first_label, first)) if *first_label == label => Ok(Some(first.clone())),
            Some((first_label, first)) => Err(format!(
                "{relative} (class `{}`) and {first} (class `{}`) are the same {what}, reached through a symbolic or hard link: its images would be scored under both labels. Remove the link or the copy in the wrong class",
                classes[label], classes[*first_label],
            )),
        }
    }
}

/// One scan of a dataset folder, class by class.
struct Walk<'a> {
    root: &'a Path,
    label: usize,
    seen: Seen,
    images: Vec<DatasetImage>,
    skipped: Vec<SkippedFile>,
}

impl Walk<'_> {
    fn skip(&mut self, path: &Path, reason: String) {
        self.skipped.push(SkippedFile {
            path: relative(self.root, path),
            reason,
        });
    }

    fn folder(&mut self, dir: &Path, classes: &[String]) -> Result<(), String> {
        let id =
            file_id(dir).map_err(|e| format!("cannot resolve folder {}: {e}", dir.display()))?;
        let here = relative(self.root, dir);
        if let Some(first) = Seen::visit(
            &mut self.seen.folders,
            id,
            "folder",
            self.label,
            &here,
            classes,
        )? {
            self.skip(
                dir,
                format!("folder already visited as {first} (symbolic link loop or repeat)"),
            );
            return Ok(());
        }
        for path in read_sorted(dir)? {
            if is_hidden(&path) {
                continue;
            }
            // `is_dir`/`is_file` follow symbolic links; a dangling link is neither.
            if path.is_dir() {
                self.folder(&path, classes)?;
            } else if !path.is_file() {
                self.skip(&path, "broken symbolic link or special file".into());
            } else if has_image_extension(&path) {
                self.file(path, classes)?;
            } else {
                self.skip(&path, "not an image file (by extension)".into());
            }
        }
        Ok(())
    }

    fn file(&mut self, path: PathBuf, classes: &[String]) -> Result<(), String> {
        let relative = relative(self.root, &path);
        let id = file_id(&path).map_err(|e| format!("cannot resolve {}: {e}", path.display()))?;
        match Seen::visit(
            &mut self.seen.files,
            id,
            "file",
            self.label,
            &relative,
            classes,
        )? {
            Some(first) => self.skip(&path, format!("the same file as {first}, counted once")),
            None => self.images.push(DatasetImage {
                relative,
                path,
                label: self.label,
                member: None,
            }),
        }
        Ok(())
    }
}

/// Largest manifest read: about a million rows.
pub const MAX_MANIFEST_BYTES: u64 = 64 << 20;

/// Labels that are rare and one or two edits from a common one (`dandelions` on 2 rows beside
/// `dandelion` on 22): each becomes a class of its own, so say so before any work.
fn rare_look_alikes(manifest: &Path, lines: &BTreeMap<String, Vec<usize>>) -> Vec<String> {
    let mut warnings = Vec::new();
    for (rare, at) in lines {
        let common = lines.iter().find(|(other, other_at)| {
            *other != rare && other_at.len() >= 10 * at.len() && edit_distance(rare, other) <= 2
        });
        if let Some((common, common_at)) = common {
            warnings.push(format!(
                "{}:{}: warning: label `{rare}` ({} row{}) is within two letters of `{common}` ({} rows) and is scored as a class of its own: a typo in the manifest?",
                manifest.display(),
                at[0],
                at.len(),
                if at.len() == 1 { "" } else { "s" },
                common_at.len()
            ));
        }
    }
    warnings
}

/// Reads a `path,label` CSV (with that header); paths are relative to the CSV's folder and
/// must stay inside it. `names` declares every class (a label outside it is an error);
/// `wanted` keeps a subset, and rows of other classes are listed as skipped.
pub fn read_manifest(
    manifest: &Path,
    names: Option<(&[String], &Path)>,
    wanted: Option<&[String]>,
) -> Result<Dataset, String> {
    let folder = manifest.parent().unwrap_or(Path::new("."));
    let rows = read_manifest_rows(manifest)?;
    if let (Some((all, file)), Some(wanted)) = (names, wanted)
        && let Some(unknown) = wanted.iter().find(|w| !all.contains(w))
    {
        return Err(format!(
            "`dataset.classes` lists `{unknown}`, which is not among the {} class names of {}",
            all.len(),
            file.display()
        ));
    }
    let (classes, class_source): (Vec<String>, ClassSource) = match (wanted, names) {
        (Some(w), _) => (w.to_vec(), ClassSource::Listed),
        (None, Some((all, file))) => (all.to_vec(), ClassSource::NamesFile(file.to_path_buf())),
        (None, None) => (
            rows.iter()
                .map(|row| row.label.clone())
                .collect::<BTreeSet<_>>()
                .into_iter()
                .collect(),
            ClassSource::Labels,
        ),
    };
    let mut label_lines: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for row in &rows {
        label_lines
            .entry(row.label.clone())
            .or_default()
            .push(row.line);
    }
    if let Some((all, file)) = names {
        refuse_undeclared_labels(manifest, &label_lines, all, file)?;
    }
    let mut listed = Listed {
        manifest,
        folder,
        classes: &classes,
        seen: BTreeMap::new(),
        images: Vec::new(),
        skipped: Vec::new(),
        missing: Vec::new(),
    };
    for row in rows {
        listed.row(row)?;
    }
    let Listed {
        mut images,
        mut skipped,
        missing,
        ..
    } = listed;
    if !missing.is_empty() {
        let shown: Vec<String> = missing
            .iter()
            .take(5)
            .map(|(line, path)| format!("  {}:{line}: {path}", manifest.display()))
            .collect();
        let more = if missing.len() > 5 {
            format!("\n  … and {} more", missing.len() - 5)
        } else {
            String::new()
        };
        return Err(format!(
            "{} manifest row(s) name a file that is not there (a typo in the manifest?); fix or remove them:\n{}{more}",
            missing.len(),
            shown.join("\n"),
        ));
    }
    refuse_empty_classes(&classes, &images, &class_source)
        .map_err(|e| format!("{}: {e}", manifest.display()))?;
    images.sort_by(|a, b| a.relative.cmp(&b.relative));
    skipped.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(Dataset {
        root: folder.to_path_buf(),
        classes,
        class_source,
        images,
        skipped,
        warnings: if wanted.is_none() && names.is_none() {
            rare_look_alikes(manifest, &label_lines)
        } else {
            Vec::new()
        },
        label_lines: Some((manifest.to_path_buf(), label_lines)),
    })
}

/// With the classes declared, a label outside them is a typo or a class missing there.
fn refuse_undeclared_labels(
    manifest: &Path,
    label_lines: &BTreeMap<String, Vec<usize>>,
    names: &[String],
    file: &Path,
) -> Result<(), String> {
    let unknown: Vec<String> = label_lines
        .iter()
        .filter(|(label, _)| !names.contains(label))
        .take(5)
        .map(|(label, lines)| {
            format!(
                "  {}:{}: label `{label}` ({} row(s))",
                manifest.display(),
                lines[0],
                lines.len()
            )
        })
        .collect();
    if unknown.is_empty() {
        return Ok(());
    }
    Err(format!(
        "manifest labels that are none of the class names in {}; fix the labels or add the names:\n{}",
        file.display(),
        unknown.join("\n")
    ))
}

/// One data row of a manifest, with its line number in the file (the header is line 1).
struct ManifestRow {
    path: String,
    label: String,
    line: usize,
}

/// The manifest's rows, read whole (bounded by [`MAX_MANIFEST_BYTES`]) before any file
/// they name is looked at; a path that would leave the manifest's folder is an error.
fn read_manifest_rows(manifest: &Path) -> Result<Vec<ManifestRow>, String> {
    let cannot =
        |e: &dyn std::fmt::Display| format!("cannot read manifest {}: {e}", manifest.display());
    // Never blocks: a FIFO in the manifest's place is refused before it is opened for reading.
    let file = ontosweep_clip::files::open_regular(manifest).map_err(|e| cannot(&e))?;
    let meta = file.metadata().map_err(|e| cannot(&e))?;
    if !meta.is_file() || meta.len() > MAX_MANIFEST_BYTES {
        return Err(cannot(&format!(
            "it must be a regular file of at most {MAX_MANIFEST_BYTES} bytes"
        )));
    }
    let mut reader = csv::Reader::from_reader(std::io::Read::take(file, MAX_MANIFEST_BYTES));
    let headers = reader
        .headers()
        .map_err(|e| format!("{}: {e}", manifest.display()))?
        .clone();
    let column = |name: &str| {
        headers.iter().position(|h| h == name).ok_or_else(|| {
            format!(
                "{}: the header needs a `{name}` column (path,label)",
                manifest.display()
            )
        })
    };
    let (path_column, label_column) = (column("path")?, column("label")?);
    let mut rows = Vec::new();
    for (index, record) in reader.records().enumerate() {
        let line = index + 2;
        let record = record.map_err(|e| format!("{}:{line}: {e}", manifest.display()))?;
        let path = &record[path_column];
        if !stays_inside(Path::new(path)) {
            return Err(format!(
                "{}:{line}: path {path:?} leaves the manifest's folder; paths are relative to the manifest, without `..` or a leading `/` (move the manifest to a folder above its images)",
                manifest.display(),
            ));
        }
        rows.push(ManifestRow {
            path: path.to_string(),
            label: record[label_column].to_string(),
            line,
        });
    }
    Ok(rows)
}

/// The manifest's rows turned into images, one row at a time.
struct Listed<'a> {
    manifest: &'a Path,
    folder: &'a Path,
    classes: &'a [String],
    /// Each file's first row, as for [`Seen`]: a file listed twice counts once, and under
    /// two labels it is an error.
    seen: BTreeMap<FileId, (usize, String)>,
    images: Vec<DatasetImage>,
    skipped: Vec<SkippedFile>,
    /// (line, path) of rows whose file does not exist.
    missing: Vec<(usize, String)>,
}

impl Listed<'_> {
    /// Adds `row`'s image, or lists it as skipped when its file is missing or already
    /// listed, or its class is left out by `dataset.classes` (labels are checked before).
    fn row(&mut self, row: ManifestRow) -> Result<(), String> {
        let ManifestRow { path, label, line } = row;
        let Some(index) = self.classes.iter().position(|c| *c == label) else {
            self.skipped.push(SkippedFile {
                path,
                reason: format!("line {line}: class `{label}` is not one of `dataset.classes`"),
            });
            return Ok(());
        };
        let full = self.folder.join(&path);
        let Some(id) = full.is_file().then(|| file_id(&full).ok()).flatten() else {
            self.missing.push((line, path));
            return Ok(());
        };
        let here = format!("{path} (line {line})");
        if let Some(first) = Seen::visit(&mut self.seen, id, "file", index, &here, self.classes)
            .map_err(|e| format!("{}: {e}", self.manifest.display()))?
        {
            self.skipped.push(SkippedFile {
                path,
                reason: format!("the same file as {first}, counted once"),
            });
            return Ok(());
        }
        self.images.push(DatasetImage {
            path: full,
            relative: path,
            label: index,
            member: None,
        });
        Ok(())
    }
}

/// Levenshtein distance over characters.
pub(crate) fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut previous = row[0];
        row[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let substitution = previous + usize::from(ca != cb);
            previous = row[j + 1];
            row[j + 1] = substitution.min(row[j] + 1).min(previous + 1);
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manifest_lists_images_and_labels() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("img")).unwrap();
        for name in ["a.jpg", "b.jpg", "c.jpg"] {
            std::fs::write(dir.path().join("img").join(name), b"x").unwrap();
        }
        let manifest = dir.path().join("labels.csv");
        std::fs::write(&manifest, "path,label\nimg/b.jpg,dandelion\nimg/a.jpg,daisy\nimg/gone.jpg,daisy\nimg/c.jpg,rose\n").unwrap();
        // A row naming a missing file is most likely a typo: refused, at its line.
        let err = read_manifest(&manifest, None, None).unwrap_err();
        assert!(
            err.contains("labels.csv:4: img/gone.jpg") && err.contains("not there"),
            "{err}"
        );
        std::fs::write(
            &manifest,
            "path,label\nimg/b.jpg,dandelion\nimg/a.jpg,daisy\nimg/c.jpg,rose\n",
        )
        .unwrap();
        let all = read_manifest(&manifest, None, None).unwrap();
        assert_eq!(all.classes, vec!["daisy", "dandelion", "rose"]);
        assert_eq!(
            all.images
                .iter()
                .map(|i| (i.relative.as_str(), i.label))
                .collect::<Vec<_>>(),
            vec![("img/a.jpg", 0), ("img/b.jpg", 1), ("img/c.jpg", 2)]
        );
        assert!(all.skipped.is_empty(), "{:?}", all.skipped);
        // A subset, in the given order: other labels are left out.
        let subset =
            read_manifest(&manifest, None, Some(&["dandelion".into(), "daisy".into()])).unwrap();
        assert_eq!(
            subset.images.iter().map(|i| i.label).collect::<Vec<_>>(),
            vec![1, 0]
        );
        // Rows of the classes left out are listed, not dropped: found = scored + skipped.
        assert_eq!(subset.skipped.len(), 1, "{:?}", subset.skipped);
        assert!(subset.skipped[0].reason.contains("`rose` is not one of"));
        let err = read_manifest(&manifest, None, Some(&["tulip".into()])).unwrap_err();
        assert!(err.contains("have no images: `tulip`"), "{err}");
    }

    #[test]
    fn a_folder_or_file_linked_into_two_classes_is_an_error() {
        use std::os::unix::fs::symlink;
        let dir = tempfile::tempdir().unwrap();
        for class in ["daisy", "dandelion"] {
            std::fs::create_dir_all(dir.path().join(class)).unwrap();
            std::fs::write(dir.path().join(class).join("own.png"), class).unwrap();
        }
        std::fs::create_dir_all(dir.path().join("daisy/more")).unwrap();
        std::fs::write(dir.path().join("daisy/more/x.png"), b"x").unwrap();
        symlink(
            dir.path().join("daisy/more"),
            dir.path().join("dandelion/more"),
        )
        .unwrap();
        let err = scan_folder(dir.path(), None).unwrap_err();
        assert!(
            err.contains("dandelion/more (class `dandelion`)")
                && err.contains("daisy/more (class `daisy`)")
                && err.contains("same folder"),
            "{err}"
        );
        std::fs::remove_file(dir.path().join("dandelion/more")).unwrap();
        symlink(
            dir.path().join("daisy/own.png"),
            dir.path().join("dandelion/stolen.png"),
        )
        .unwrap();
        let err = scan_folder(dir.path(), None).unwrap_err();
        assert!(
            err.contains("dandelion/stolen.png") && err.contains("daisy/own.png"),
            "{err}"
        );
        // A hard link is the same file too.
        std::fs::remove_file(dir.path().join("dandelion/stolen.png")).unwrap();
        std::fs::hard_link(
            dir.path().join("daisy/own.png"),
            dir.path().join("dandelion/stolen.png"),
        )
        .unwrap();
        let err = scan_folder(dir.path(), None).unwrap_err();
        assert!(
            err.contains("dandelion/stolen.png") && err.contains("same file"),
            "{err}"
        );
        // Within one class a second path to a file counts once and is listed.
        std::fs::remove_file(dir.path().join("dandelion/stolen.png")).unwrap();
        symlink(
            dir.path().join("daisy/own.png"),
            dir.path().join("daisy/again.png"),
        )
        .unwrap();
        let found = scan_folder(dir.path(), None).unwrap();
        assert_eq!(found.images.len(), 3, "{:?}", found.images);
        assert!(
            found
                .skipped
                .iter()
                .any(|s| s.path == "daisy/own.png"
                    && s.reason.contains("same file as daisy/again.png")),
            "{:?}",
            found.skipped
        );
    }

    #[test]
    fn a_fifo_manifest_is_refused_without_blocking() {
        use crate::test_fifo::{mkfifo, within_a_minute};
        let dir = tempfile::tempdir().unwrap();
        let manifest = dir.path().join("labels.csv");
        mkfifo(&manifest);
        let err = within_a_minute(move || read_manifest(&manifest, None, None))
            .expect("reading a FIFO manifest blocked")
            .unwrap_err();
        assert!(err.contains("labels.csv"), "{err}");
    }

    #[test]
    fn manifest_paths_stay_inside_its_folder() {
        let dir = tempfile::tempdir().unwrap();
        let manifest = dir.path().join("labels.csv");
        for bad in ["/etc/passwd", "../x.jpg", "img/../../x.jpg"] {
            std::fs::write(&manifest, format!("path,label\na.jpg,daisy\n{bad},rose\n")).unwrap();
            let err = read_manifest(&manifest, None, None).unwrap_err();
            assert!(
                err.contains("labels.csv:3:") && err.contains("leaves"),
                "{err}"
            );
        }
    }

    #[test]
    fn a_manifest_listing_one_file_under_two_labels_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.jpg"), b"x").unwrap();
        std::fs::write(dir.path().join("b.jpg"), b"y").unwrap();
        let manifest = dir.path().join("labels.csv");
        std::fs::write(
            &manifest,
            "path,label\na.jpg,daisy\nb.jpg,rose\n./a.jpg,rose\n",
        )
        .unwrap();
        let err = read_manifest(&manifest, None, None).unwrap_err();
        assert!(
            err.contains("./a.jpg (line 4)") && err.contains("a.jpg (line 2)"),
            "{err}"
        );
        std::fs::write(
            &manifest,
            "path,label\na.jpg,daisy\nb.jpg,rose\na.jpg,daisy\n",
        )
        .unwrap();
        let found = read_manifest(&manifest, None, None).unwrap();
        assert_eq!(found.images.len(), 2);
        assert_eq!(found.skipped.len(), 1);
    }

    #[test]
    fn folders_give_classes_in_order_and_a_missing_class_is_named() {
        let dir = tempfile::tempdir().unwrap();
        for class in ["b", "a", ".hidden"] {
            std::fs::create_dir_all(dir.path().join(class)).unwrap();
            std::fs::write(dir.path().join(class).join("x.png"), b"x").unwrap();
        }
        assert_eq!(
            scan_folder(dir.path(), None).unwrap().classes,
            vec!["a", "b"]
        );
        let err = scan_folder(dir.path(), Some(&["a".into(), "c".into()])).unwrap_err();
        assert!(
            err.contains("no sub-folder for class `c`") && err.contains("it has: a, b"),
            "{err}"
        );
    }
}
