//! A CSV manifest (`path,label` rows): paths relative to its folder, never outside it;
//! one label per file.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use ontosweep_results::SkippedFile;

use crate::policy::{FileId, Seen, file_id, stays_inside};
use crate::{ClassSource, Dataset, DatasetError, DatasetImage, refuse_empty_classes};

/// Largest manifest read: about a million rows.
pub const MAX_MANIFEST_BYTES: u64 = 64 << 20;

/// Labels that are rare and one or two edits from a common one (`dandelions` on 2 rows beside
/// `dandelion` on 22): each becomes a class of its own, so say so before any work.
fn rare_look_alikes(manifest: &Path, lines: &BTreeMap<String, Vec<usize>>) -> Vec<String> {
    let mut warnings = Vec::new();
    for (rare, at) in lines {
        let common = lines.iter().find(|(other, other_at)| {
            *other != rare
                && other_at.len() >= 10 * at.len()
                && ontosweep_clip::echo::edit_distance(rare, other) <= 2
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
) -> Result<Dataset, DatasetError> {
    let folder = manifest.parent().unwrap_or(Path::new("."));
    let rows = read_manifest_rows(manifest)?;
    crate::dataset::refuse_unknown_wanted(names, wanted)?;
    let (classes, class_source) = match (wanted, names) {
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
        index: crate::dataset::ClassIndex::new(&classes),
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
        return Err(DatasetError::Unreadable(missing_files(manifest, &missing)));
    }
    refuse_empty_classes(&classes, images.iter().map(|i| i.label), &class_source)
        .map_err(|e| e.in_context(manifest.display()))?;
    images.sort_by(|a, b| a.relative.cmp(&b.relative));
    skipped.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(Dataset {
        root: folder.to_path_buf(),
        classes,
        class_source,
        images: crate::ImageList::new(&images)?,
        skipped,
        warnings: if wanted.is_none() && names.is_none() {
            rare_look_alikes(manifest, &label_lines)
        } else {
            Vec::new()
        },
        label_lines: Some((manifest.to_path_buf(), label_lines)),
        display: BTreeMap::new(),
    })
}

/// Rows whose file is not there: the first five, with their lines, and a count.
fn missing_files(manifest: &Path, missing: &[(usize, String)]) -> String {
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
    format!(
        "{} manifest row(s) name a file that is not there (a typo in the manifest?); fix or remove them:\n{}{more}",
        missing.len(),
        shown.join("\n"),
    )
}

/// With the classes declared, a label outside them is a typo or a class missing there.
fn refuse_undeclared_labels(
    manifest: &Path,
    label_lines: &BTreeMap<String, Vec<usize>>,
    names: &[String],
    file: &Path,
) -> Result<(), DatasetError> {
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
    Err(DatasetError::Labels(format!(
        "manifest labels that are none of the class names in {}; fix the labels or add the names:\n{}",
        file.display(),
        unknown.join("\n")
    )))
}

/// One data row of a manifest, with its line number in the file (the header is line 1).
struct ManifestRow {
    path: String,
    label: String,
    line: usize,
}

/// The manifest's rows, read whole (bounded by [`MAX_MANIFEST_BYTES`]) before any file
/// they name is looked at; a path that would leave the manifest's folder is an error.
fn read_manifest_rows(manifest: &Path) -> Result<Vec<ManifestRow>, DatasetError> {
    let cannot = |e: &dyn std::fmt::Display| {
        DatasetError::Unreadable(format!("cannot read manifest {}: {e}", manifest.display()))
    };
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
            return Err(DatasetError::Malformed(format!(
                "{}:{line}: path {path:?} leaves the manifest's folder; paths are relative to the manifest, without `..` or a leading `/` (move the manifest to a folder above its images)",
                manifest.display(),
            )));
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
    index: crate::dataset::ClassIndex<'a>,
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
    fn row(&mut self, row: ManifestRow) -> Result<(), DatasetError> {
        let ManifestRow { path, label, line } = row;
        let Some(index) = self.index.label(&label) else {
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
            .map_err(|e| e.in_context(self.manifest.display()))?
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
