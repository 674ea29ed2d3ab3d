//! WebDataset tar shards as a dataset (`shard-000000.tar` holding `key.jpg` beside
//! `key.cls` or `key.json`), as CLIP_benchmark reads them. Shards are indexed, never
//! unpacked: each image is read in place from its offset, hashed like a file on disk (so the
//! embedding cache keys are the same), and skipped with a reason as files are.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use ontosweep_results::SkippedFile;
use serde::Deserialize;

use crate::dataset::{Dataset, DatasetImage, IMAGE_EXTENSIONS, TarMember};

/// Most shards one dataset may list, and images in all.
const MAX_SHARDS: usize = 100_000;
const MAX_IMAGES: usize = 10_000_000;
/// A label member larger than this is not a label.
const MAX_LABEL_BYTES: u64 = 64 << 10;

/// Where the samples' labels name their class: `.cls` holds an index into `names`
/// (CLIP_benchmark's `classnames.txt`, else `dataset.classes`); `.json` holds `{"label": …}`,
/// a class name or such an index.
pub struct Labels<'a> {
    pub names: Option<&'a [String]>,
    /// `dataset.classes`: the classes to keep, in this order.
    pub wanted: Option<&'a [String]>,
}

/// The shards `patterns` name (a `*` or `?` in a file name, or a `{000000..000009}` range),
/// sorted; every pattern must match.
pub fn expand(patterns: &[PathBuf]) -> Result<Vec<PathBuf>, String> {
    let mut shards = Vec::new();
    for pattern in patterns {
        let text = pattern.to_string_lossy().into_owned();
        let found = expand_one(&text)?;
        if found.is_empty() {
            return Err(format!("no tar shard matches {text:?}"));
        }
        shards.extend(found);
        if shards.len() > MAX_SHARDS {
            return Err(format!("more than {MAX_SHARDS} shards listed"));
        }
    }
    shards.sort();
    shards.dedup();
    Ok(shards)
}

fn expand_one(pattern: &str) -> Result<Vec<PathBuf>, String> {
    if let Some((before, rest)) = pattern.split_once('{')
        && let Some((range, after)) = rest.split_once('}')
        && let Some((from, to)) = range.split_once("..")
    {
        let (a, b): (u64, u64) = match (from.parse(), to.parse()) {
            (Ok(a), Ok(b)) if a <= b && b - a < MAX_SHARDS as u64 => (a, b),
            _ => {
                return Err(format!(
                    "{pattern:?}: a range is `{{000000..000009}}`, ascending, at most {MAX_SHARDS} long"
                ));
            }
        };
        let mut out = Vec::new();
        for n in a..=b {
            out.extend(expand_one(&format!(
                "{before}{n:0width$}{after}",
                width = from.len()
            ))?);
        }
        return Ok(out);
    }
    let path = PathBuf::from(pattern);
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    if !name.contains(['*', '?']) {
        return Ok(if path.is_file() {
            vec![path]
        } else {
            Vec::new()
        });
    }
    let folder = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let entries = std::fs::read_dir(folder).map_err(|e| format!("{}: {e}", folder.display()))?;
    let mut out: Vec<PathBuf> = entries
        .flatten()
        .filter(|e| e.file_name().to_str().is_some_and(|n| wildcard(&name, n)))
        .map(|e| e.path())
        .filter(|p| p.is_file())
        .collect();
    out.sort();
    Ok(out)
}

/// `*` (any run) and `?` (one character) against a whole name.
fn wildcard(pattern: &str, name: &str) -> bool {
    let (p, n): (Vec<char>, Vec<char>) = (pattern.chars().collect(), name.chars().collect());
    let (mut i, mut j, mut star, mut mark) = (0, 0, None, 0);
    while j < n.len() {
        if i < p.len() && (p[i] == '?' || p[i] == n[j]) {
            i += 1;
            j += 1;
        } else if i < p.len() && p[i] == '*' {
            star = Some(i);
            mark = j;
            i += 1;
        } else if let Some(s) = star {
            i = s + 1;
            mark += 1;
            j = mark;
        } else {
            return false;
        }
    }
    p[i..].iter().all(|&c| c == '*')
}

/// One sample as the index finds it.
#[derive(Default)]
struct Sample {
    image: Option<(String, TarMember)>,
    label: Option<String>,
    problem: Option<String>,
}

#[derive(Deserialize)]
struct JsonLabel {
    label: serde_json::Value,
}

/// Indexes every shard into a dataset.
pub fn read_shards(shards: &[PathBuf], labels: &Labels) -> Result<Dataset, String> {
    let root = shards
        .first()
        .and_then(|s| s.parent())
        .map(Path::to_path_buf)
        .unwrap_or_default();
    let mut found: Vec<(PathBuf, String, TarMember, String)> = Vec::new();
    let mut skipped = Vec::new();
    for shard in shards {
        let shard_name = shard
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        for (key, sample) in index(shard)? {
            let relative = format!("{shard_name}/{key}");
            match (sample.image, sample.label, sample.problem) {
                (_, _, Some(problem)) => skipped.push(SkippedFile {
                    path: relative,
                    reason: problem,
                }),
                (None, _, None) => skipped.push(SkippedFile {
                    path: relative,
                    reason: format!("no image member ({})", IMAGE_EXTENSIONS.join(", ")),
                }),
                (Some((name, _)), None, None) => skipped.push(SkippedFile {
                    path: format!("{shard_name}/{name}"),
                    reason: "no label: the sample has neither `.cls` nor `.json` with `label`"
                        .into(),
                }),
                (Some((name, member)), Some(label), None) => match class_of(&label, labels)? {
                    Ok(class) => {
                        found.push((shard.clone(), format!("{shard_name}/{name}"), member, class))
                    }
                    Err(reason) => skipped.push(SkippedFile {
                        path: format!("{shard_name}/{name}"),
                        reason,
                    }),
                },
            }
            if found.len() > MAX_IMAGES {
                return Err(format!("more than {MAX_IMAGES} images in the shards"));
            }
        }
    }
    let classes: Vec<String> = match (labels.wanted, labels.names) {
        (Some(wanted), _) => wanted.to_vec(),
        (None, Some(names)) => names
            .iter()
            .filter(|n| found.iter().any(|f| &f.3 == *n))
            .cloned()
            .collect(),
        (None, None) => {
            let mut all: Vec<String> = found.iter().map(|f| f.3.clone()).collect();
            all.sort();
            all.dedup();
            all
        }
    };
    let mut images: Vec<DatasetImage> = found
        .into_iter()
        .filter_map(|(path, relative, member, class)| {
            let label = classes.iter().position(|c| *c == class)?;
            Some(DatasetImage {
                path,
                relative,
                label,
                member: Some(member),
            })
        })
        .collect();
    for (label, class) in classes.iter().enumerate() {
        if !images.iter().any(|i| i.label == label) {
            return Err(format!("class `{class}` has no images in the shards"));
        }
    }
    images.sort_by(|a, b| a.relative.cmp(&b.relative));
    skipped.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(Dataset {
        root,
        classes,
        images,
        skipped,
        label_lines: None,
        warnings: Vec::new(),
    })
}

/// The class a label names (an index into the names, or a class name), or why this sample
/// is skipped; the outer error stops the dataset (index labels without class names).
fn class_of(label: &str, labels: &Labels) -> Result<Result<String, String>, String> {
    let label = label.trim();
    if let Ok(index) = label.parse::<usize>() {
        let names = labels.names.or(labels.wanted).ok_or_else(|| {
            format!("the shards' labels are class indices (such as {index}): give the class names in index order, `dataset.classnames: classnames.txt` (one per line) or `dataset.classes`")
        })?;
        return Ok(names
            .get(index)
            .cloned()
            .ok_or_else(|| format!("label {index} is beyond the {} class names", names.len())));
    }
    if label.is_empty() {
        return Ok(Err("an empty label".into()));
    }
    Ok(Ok(label.to_string()))
}

/// The samples of one shard, by key, in key order.
fn index(shard: &Path) -> Result<BTreeMap<String, Sample>, String> {
    use std::io::Read;
    let in_shard = |e: &dyn std::fmt::Display| format!("{}: {e}", shard.display());
    let file = std::fs::File::open(shard).map_err(|e| in_shard(&e))?;
    let mut archive = tar::Archive::new(file);
    let mut samples: BTreeMap<String, Sample> = BTreeMap::new();
    let entries = archive.entries_with_seek().map_err(|e| in_shard(&e))?;
    for entry in entries {
        let mut entry = entry.map_err(|e| {
            in_shard(&format!(
                "not a readable tar ({e}); shards must be uncompressed .tar"
            ))
        })?;
        let name = match entry.path() {
            Ok(p) => p.to_string_lossy().replace('\\', "/"),
            Err(e) => return Err(in_shard(&e)),
        };
        let kind = entry.header().entry_type();
        if kind.is_dir() {
            continue;
        }
        let (folder, base) = name
            .rsplit_once('/')
            .map_or(("", name.as_str()), |(f, b)| (f, b));
        if base.starts_with('.') || base.is_empty() {
            continue;
        }
        let (stem, extension) = base.split_once('.').unwrap_or((base, ""));
        let key = if folder.is_empty() {
            stem.to_string()
        } else {
            format!("{folder}/{stem}")
        };
        let extension = extension.to_ascii_lowercase();
        let sample = samples.entry(key).or_default();
        if !kind.is_file() {
            sample
                .problem
                .get_or_insert(format!("{name}: not a regular file in the tar ({kind:?})"));
            continue;
        }
        let size = entry.size();
        if IMAGE_EXTENSIONS.contains(&extension.as_str()) {
            if sample.image.is_none() {
                let offset = entry.raw_file_position();
                sample.image = Some((name.clone(), TarMember { offset, size }));
            }
        } else if extension == "cls" || extension == "json" {
            if size > MAX_LABEL_BYTES {
                sample
                    .problem
                    .get_or_insert(format!("{name}: a label of {size} bytes"));
                continue;
            }
            let mut text = String::new();
            if entry.read_to_string(&mut text).is_err() {
                sample.problem.get_or_insert(format!("{name}: not text"));
                continue;
            }
            let label = if extension == "cls" {
                Some(text)
            } else {
                match serde_json::from_str::<JsonLabel>(&text) {
                    Ok(JsonLabel {
                        label: serde_json::Value::String(s),
                    }) => Some(s),
                    Ok(JsonLabel {
                        label: serde_json::Value::Number(n),
                    }) => Some(n.to_string()),
                    _ => {
                        sample
                            .problem
                            .get_or_insert(format!("{name}: no string or integer `label`"));
                        None
                    }
                }
            };
            // `.cls` wins over `.json`, whichever comes first.
            if let Some(label) = label
                && (extension == "cls" || sample.label.is_none())
            {
                sample.label = Some(label);
            }
        }
    }
    Ok(samples)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A shard with the given (name, bytes) members.
    fn shard(path: &Path, members: &[(&str, &[u8])]) {
        let mut builder = tar::Builder::new(std::fs::File::create(path).unwrap());
        for (name, bytes) in members {
            let mut header = tar::Header::new_gnu();
            header.set_size(bytes.len() as u64);
            header.set_mode(0o644);
            header.set_cksum();
            builder.append_data(&mut header, name, *bytes).unwrap();
        }
        builder.finish().unwrap();
    }

    #[test]
    fn samples_are_read_in_place_with_cls_or_json_labels() {
        let dir = tempfile::tempdir().unwrap();
        let names = vec!["daisy".to_string(), "dandelion".to_string()];
        shard(
            &dir.path().join("shard-000000.tar"),
            &[
                ("a.jpg", b"AAAA"),
                ("a.cls", b"1\n"),
                ("b.png", b"BB"),
                ("b.json", br#"{"label": "daisy"}"#),
                ("c.jpg", b"C"),
                ("d.txt", b"no image"),
            ],
        );
        shard(
            &dir.path().join("shard-000001.tar"),
            &[("e.jpg", b"EEE"), ("e.cls", b"7")],
        );
        let shards = expand(&[dir.path().join("shard-{000000..000001}.tar")]).unwrap();
        assert_eq!(shards, expand(&[dir.path().join("shard-*.tar")]).unwrap());
        let labels = Labels {
            names: Some(&names),
            wanted: None,
        };
        let dataset = read_shards(&shards, &labels).unwrap();
        assert_eq!(dataset.classes, names);
        let found: Vec<(&str, usize)> = dataset
            .images
            .iter()
            .map(|i| (i.relative.as_str(), i.label))
            .collect();
        assert_eq!(
            found,
            [("shard-000000.tar/a.jpg", 1), ("shard-000000.tar/b.png", 0)]
        );
        assert_eq!(dataset.images[0].source().read().unwrap(), b"AAAA");
        assert_eq!(dataset.images[1].source().read().unwrap(), b"BB");
        let reasons: Vec<String> = dataset
            .skipped
            .iter()
            .map(|s| format!("{}: {}", s.path, s.reason))
            .collect();
        assert!(
            reasons[0].starts_with("shard-000000.tar/c.jpg: no label"),
            "{reasons:?}"
        );
        assert!(
            reasons[1].starts_with("shard-000000.tar/d: no image member"),
            "{reasons:?}"
        );
        assert!(
            reasons[2].contains("beyond the 2 class names"),
            "{reasons:?}"
        );
        assert!(
            expand(&[dir.path().join("nothing-*.tar")])
                .unwrap_err()
                .contains("no tar shard matches")
        );
        let err = read_shards(
            &shards,
            &Labels {
                names: None,
                wanted: None,
            },
        )
        .unwrap_err();
        assert!(
            err.contains("`dataset.classnames: classnames.txt`"),
            "{err}"
        );
    }

    #[test]
    fn wildcards_match_whole_names() {
        assert!(wildcard("shard-*.tar", "shard-000001.tar"));
        assert!(!wildcard("shard-*.tar", "shard-000001.tar.gz"));
        assert!(wildcard("s?.tar", "s1.tar"));
        assert!(!wildcard("s?.tar", "s12.tar"));
    }
}
