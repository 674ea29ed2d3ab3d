//! WebDataset tar shards as a dataset (`shard-000000.tar` holding `key.jpg` beside
//! `key.cls` or `key.json`), as CLIP_benchmark reads them. Shards are indexed, never
//! unpacked: each image is read in place from its offset, hashed like a file on disk (so the
//! embedding cache keys are the same), and skipped with a reason as files are.

mod labels;
pub(crate) mod patterns;
mod tar_index;

use std::path::{Path, PathBuf};

use labels::{LabelNames, class_name};
use ontosweep_results::SkippedFile;

use crate::{
    ClassSource, Dataset, DatasetError, DatasetImage, IMAGE_EXTENSIONS, ImageList, ImageListWriter,
    TarMember,
};

pub use patterns::{MAX_SHARDS, expand, expand_braces, folder_given, tar_folders};

/// Most images in all shards.
const MAX_IMAGES: usize = 10_000_000;
/// Bad samples named in a message; the rest are counted.
const SHOWN: usize = 5;

/// Where the samples' labels name their class: `.cls` holds an index into `names`
/// (CLIP_benchmark's `classnames.txt`, else `dataset.classes`); `.json` holds `{"label": …}`,
/// a class name or such an index.
pub struct Labels<'a> {
    /// Every class, in index order, and the file they came from.
    pub names: Option<(&'a [String], &'a Path)>,
    /// `dataset.classes`: the classes to keep, in this order.
    pub wanted: Option<&'a [String]>,
}

/// A sample found with an image and its class.
struct Found {
    relative: String,
    member: TarMember,
    class: String,
}

/// Indexes every shard into a dataset. Every sample ends up scored or listed as skipped;
/// a label that names no class, a truncated shard or a repeated member stops it here.
///
/// The listing goes to disk as it is read, one shard at a time: shards are taken in the
/// order of their names followed by `/`, each shard's samples sorted, so the whole list
/// comes out sorted by name without ever being held.
pub fn read_shards(shards: &[PathBuf], labels: &Labels) -> Result<Dataset, DatasetError> {
    let root = common_folder(shards);
    let source = labels.names.map_or_else(
        || "`dataset.classes`".to_string(),
        |(_, file)| file.display().to_string(),
    );
    let names = label_names(labels, &source)?;
    let mut ordered: Vec<(String, &PathBuf)> = shards
        .iter()
        .map(|shard| {
            let name = shard.strip_prefix(&root).unwrap_or(shard);
            (name.to_string_lossy().into_owned(), shard)
        })
        .collect();
    ordered.sort_by_cached_key(|(name, _)| format!("{name}/"));
    let mut tally = Tally::default();
    for (shard_name, shard) in ordered {
        for (key, sample) in tar_index::index(shard)? {
            tally.take(&shard_name, &key, sample, &names, labels)?;
        }
        tally.list_shard(shard)?;
    }
    let Tally {
        listing,
        mut skipped,
        bad,
        classes: found_classes,
        out_of_order,
        ..
    } = tally;
    if !bad.is_empty() {
        return Err(DatasetError::Labels(bad_samples(&bad)));
    }
    let (classes, class_source) = candidate_classes(labels, &found_classes);
    let mut images = listing.finish()?;
    if images.is_empty() {
        return Err(DatasetError::Empty(format!(
            "no sample in the {} shard(s) has both an image and a label ({} skipped)",
            shards.len(),
            skipped.len()
        )));
    }
    let index = crate::dataset::ClassIndex::new(&classes);
    let labels_of_found: Vec<usize> = found_classes
        .iter()
        .map(|c| index.label(c).expect("every found class is a candidate"))
        .collect();
    images.relabel(|found| labels_of_found[found]);
    crate::refuse_empty_classes(&classes, images.labels(), &class_source)?;
    if out_of_order {
        images = sorted(&images)?;
    }
    skipped.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(Dataset {
        root,
        classes,
        class_source,
        images,
        skipped,
        label_lines: None,
        warnings: Vec::new(),
        display: std::collections::BTreeMap::new(),
    })
}

/// The list sorted in memory: only for shard names that do not sort as their samples'
/// names do (two shards whose names read the same once made text).
fn sorted(images: &ImageList) -> Result<ImageList, DatasetError> {
    let mut all = images.to_vec().map_err(crate::image_list::storage)?;
    all.sort_by(|a, b| a.relative.cmp(&b.relative));
    ImageList::new(&all)
}

/// What `.cls` indices and `.json` labels are read against; `dataset.classes` must be among
/// the class names when both are given.
fn label_names<'a>(labels: &Labels<'a>, source: &'a str) -> Result<LabelNames<'a>, DatasetError> {
    crate::dataset::refuse_unknown_wanted(labels.names, labels.wanted)?;
    Ok(LabelNames {
        by_index: labels.names.map(|(n, _)| n).or(labels.wanted),
        complete: labels.names.is_some(),
        source,
    })
}

/// Every sample so far: listed with its class, skipped with a reason, or bad (which stops
/// the run once every shard has been read, so that all are named at once).
#[derive(Default)]
struct Tally {
    /// The current shard's samples, listed once it is read.
    shard: Vec<Found>,
    listing: ImageListWriter,
    /// Each class found, in the order found: listed images carry its place here until the
    /// candidate classes are known.
    classes: Vec<String>,
    class_places: std::collections::HashMap<String, usize>,
    last: Option<String>,
    out_of_order: bool,
    skipped: Vec<SkippedFile>,
    bad: Vec<String>,
}

impl Tally {
    fn take(
        &mut self,
        shard_name: &str,
        key: &str,
        sample: tar_index::Sample,
        names: &LabelNames,
        labels: &Labels,
    ) -> Result<(), DatasetError> {
        let at = |member: &str| format!("{shard_name}/{member}");
        if let Some(problem) = sample.problem {
            self.bad.push(format!("{}: {problem}", at(key)));
            return Ok(());
        }
        let (name, member) = match sample.images.as_slice() {
            [] => {
                let reason = format!("no image member ({})", IMAGE_EXTENSIONS.join(", "));
                self.skip(at(key), reason);
                return Ok(());
            }
            [(name, member)] => (name, *member),
            several => {
                let names: Vec<&str> = several.iter().map(|(n, _)| n.as_str()).collect();
                self.bad.push(format!(
                    "{}: {} image members ({}): which one is the sample?",
                    at(key),
                    names.len(),
                    names.join(", ")
                ));
                return Ok(());
            }
        };
        let image = at(name);
        let class = match class_of_sample(&sample.labels, names).map_err(DatasetError::Labels)? {
            None if !sample.other_labels.is_empty() => {
                self.bad
                    .push(format!("{image}: {}", other_task(&sample.other_labels)));
                return Ok(());
            }
            None => {
                let reason = "no label: the sample has neither `.cls` nor `.json`".into();
                self.skip(image, reason);
                return Ok(());
            }
            Some(Err(reason)) => {
                self.bad.push(format!("{image}: {reason}"));
                return Ok(());
            }
            Some(Ok(class)) => class,
        };
        if labels.wanted.is_some_and(|w| !w.contains(&class)) {
            let reason = format!("class `{class}` is not one of `dataset.classes`");
            self.skip(image, reason);
            return Ok(());
        }
        self.shard.push(Found {
            relative: image,
            member,
            class,
        });
        if self.listing.len() + self.shard.len() > MAX_IMAGES {
            return Err(DatasetError::Malformed(format!(
                "more than {MAX_IMAGES} images in the shards"
            )));
        }
        Ok(())
    }

    /// Lists the shard just read, its samples sorted by name.
    fn list_shard(&mut self, shard: &Path) -> Result<(), DatasetError> {
        let mut found = std::mem::take(&mut self.shard);
        found.sort_by(|a, b| a.relative.cmp(&b.relative));
        for f in found {
            let next = self.classes.len();
            let place = *self
                .class_places
                .entry(f.class)
                .or_insert_with_key(|class| {
                    self.classes.push(class.clone());
                    next
                });
            if self.last.as_ref().is_some_and(|last| *last >= f.relative) {
                self.out_of_order = true;
            }
            let image = DatasetImage {
                path: shard.to_path_buf(),
                relative: f.relative,
                label: place,
                member: Some(f.member),
            };
            self.listing.push(&image)?;
            self.last = Some(image.relative);
        }
        Ok(())
    }

    fn skip(&mut self, path: String, reason: String) {
        self.skipped.push(SkippedFile { path, reason });
    }
}

/// The candidate classes and where they were declared: `dataset.classes`, the class-names
/// file, or (declared nowhere) the labels found.
fn candidate_classes(labels: &Labels, found: &[String]) -> (Vec<String>, ClassSource) {
    match (labels.wanted, labels.names) {
        (Some(wanted), _) => (wanted.to_vec(), ClassSource::Listed),
        (None, Some((all, file))) => (all.to_vec(), ClassSource::NamesFile(file.to_path_buf())),
        (None, None) => {
            let mut all = found.to_vec();
            all.sort();
            (all, ClassSource::Labels)
        }
    }
}

/// The class a sample's label members name (`None`: it has none); `.cls` and `.json` must
/// agree when both are there.
fn class_of_sample(
    labels: &[(String, tar_index::RawLabel)],
    names: &LabelNames,
) -> Result<Option<Result<String, String>>, String> {
    let mut class: Option<(String, &str)> = None;
    for (member, label) in labels {
        let name = match class_name(label, names)? {
            Ok(name) => name,
            Err(reason) => return Ok(Some(Err(format!("{member}: {reason}")))),
        };
        match &class {
            Some((first, first_member)) if *first != name => {
                return Ok(Some(Err(format!(
                    "{first_member} names `{first}` but {member} names `{name}`"
                ))));
            }
            Some(_) => {}
            None => class = Some((name, member)),
        }
    }
    Ok(class.map(|(name, _)| Ok(name)))
}

/// A sample labelled for another task than single-label classification.
fn other_task(members: &[String]) -> String {
    let multilabel = members
        .iter()
        .any(|m| m.to_ascii_lowercase().ends_with(".npy"));
    let what = if multilabel {
        "a `.npy` label vector (a multilabel dataset)"
    } else {
        "`.txt` captions (a retrieval dataset)"
    };
    format!(
        "{what} in {} and no `.cls` or `.json` class: ontosweep scores single-label zero-shot classification only",
        members.join(", ")
    )
}

fn bad_samples(bad: &[String]) -> String {
    let shown: Vec<String> = bad.iter().take(SHOWN).map(|b| format!("  {b}")).collect();
    let more = match bad.len() {
        n if n > SHOWN => format!("\n  … and {} more", n - SHOWN),
        _ => String::new(),
    };
    format!(
        "{} sample(s) in the shards cannot be scored as the task declares; nothing was encoded. Fix the labels (or the class names) and run again:\n{}{more}",
        bad.len(),
        shown.join("\n"),
    )
}

/// The deepest folder holding every shard: report names are shard paths below it, so two
/// shards with one file name in different folders never share a name.
fn common_folder(shards: &[PathBuf]) -> PathBuf {
    let mut common: Option<PathBuf> = None;
    for shard in shards {
        let folder = shard.parent().map(Path::to_path_buf).unwrap_or_default();
        common = Some(match common {
            None => folder,
            Some(c) => c
                .components()
                .zip(folder.components())
                .take_while(|(a, b)| a == b)
                .map(|(a, _)| a)
                .collect(),
        });
    }
    common.unwrap_or_default()
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

    /// The dataset lists exactly these samples (name and label), in this order.
    fn assert_listed(dataset: &Dataset, expected: &[(&str, usize)]) {
        let listed = dataset.images.to_vec().unwrap();
        let found: Vec<(&str, usize)> = listed
            .iter()
            .map(|i| (i.relative.as_str(), i.label))
            .collect();
        assert_eq!(found, expected);
    }

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    /// Reads one shard holding `members` with `classnames` (None: no names file).
    fn read_one(
        members: &[(&str, &[u8])],
        classnames: Option<&[&str]>,
        wanted: Option<&[&str]>,
    ) -> Result<Dataset, DatasetError> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("0.tar");
        shard(&path, members);
        let all = classnames.map(names);
        let wanted = wanted.map(names);
        let file = dir.path().join("classnames.txt");
        read_shards(
            &[path],
            &Labels {
                names: all.as_deref().map(|n| (n, file.as_path())),
                wanted: wanted.as_deref(),
            },
        )
    }

    #[test]
    fn samples_are_read_in_place_with_cls_or_json_labels() {
        let dir = tempfile::tempdir().unwrap();
        let all = names(&["daisy", "dandelion"]);
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
            &[
                ("e.jpg", b"EEE"),
                ("e.cls", b"0"),
                ("e.json", br#"{"label": 0}"#),
            ],
        );
        let base = Path::new("");
        let shards = expand(&[dir.path().join("shard-{000000..000001}.tar")], base).unwrap();
        assert_eq!(
            shards,
            expand(&[dir.path().join("shard-*.tar")], base).unwrap()
        );
        let file = dir.path().join("classnames.txt");
        let labels = Labels {
            names: Some((&all, &file)),
            wanted: None,
        };
        let dataset = read_shards(&shards, &labels).unwrap();
        assert_eq!(dataset.classes, all);
        assert_eq!(dataset.class_source, ClassSource::NamesFile(file.clone()));
        assert_listed(
            &dataset,
            &[
                ("shard-000000.tar/a.jpg", 1),
                ("shard-000000.tar/b.png", 0),
                ("shard-000001.tar/e.jpg", 0),
            ],
        );
        assert_eq!(
            dataset.images.get(0).unwrap().source().read().unwrap(),
            b"AAAA"
        );
        assert_eq!(
            dataset.images.get(1).unwrap().source().read().unwrap(),
            b"BB"
        );
        let reasons: Vec<String> = dataset
            .skipped
            .iter()
            .map(|s| format!("{}: {}", s.path, s.reason))
            .collect();
        assert_eq!(reasons.len(), 2, "{reasons:?}");
        assert!(reasons[0].starts_with("shard-000000.tar/c.jpg: no label"));
        assert!(reasons[1].starts_with("shard-000000.tar/d: no image member"));
        let err = read_shards(
            &shards,
            &Labels {
                names: None,
                wanted: None,
            },
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("`dataset.classnames: classnames.txt`"),
            "{err}"
        );
    }

    #[test]
    fn every_declared_class_is_a_candidate_even_without_images() {
        let daisy: &[(&str, &[u8])] = &[("a.jpg", b"A"), ("a.cls", b"0")];
        let err = read_one(daisy, Some(&["daisy", "dandelion"]), None)
            .unwrap_err()
            .to_string();
        assert!(err.contains("have no images: `dandelion`"), "{err}");
        let err = read_one(daisy, Some(&["daisy", "dandelion", "rose"]), None)
            .unwrap_err()
            .to_string();
        assert!(err.contains("2 of the 3 classes"), "{err}");
        // A subset chosen on purpose: the other class's samples are listed, not lost.
        let both: &[(&str, &[u8])] = &[
            ("a.jpg", b"A"),
            ("a.cls", b"0"),
            ("b.jpg", b"B"),
            ("b.cls", b"1"),
        ];
        let subset = read_one(both, Some(&["daisy", "dandelion"]), Some(&["dandelion"])).unwrap();
        assert_eq!(subset.classes, ["dandelion"]);
        assert_eq!(subset.images.len() + subset.skipped.len(), 2);
        assert!(
            subset.skipped[0]
                .reason
                .contains("not one of `dataset.classes`")
        );
        let err = read_one(both, Some(&["daisy", "dandelion"]), Some(&["tulip"]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("`tulip`"), "{err}");
    }

    #[test]
    fn a_label_that_names_no_class_stops_the_run_with_examples() {
        let two = Some(&["daisy", "dandelion"][..]);
        for (bad, why) in [
            (&b"Dandelion"[..], "nearest class name: `dandelion`"),
            (b"roses", "not a class index"),
            (b"-1", "not a class index"),
            (b"1.0", "not a class index"),
            (b"100000000000000000000000000", "past the end"),
            (b"2", "past the end"),
        ] {
            let members: &[(&str, &[u8])] = &[
                ("a.jpg", b"A"),
                ("a.cls", b"0"),
                ("b.jpg", b"B"),
                ("b.cls", bad),
            ];
            let err = read_one(members, two, None).unwrap_err().to_string();
            assert!(
                err.contains("1 sample(s)") && err.contains("0.tar/b.jpg") && err.contains(why),
                "{bad:?}: {err}"
            );
        }
        for bad in [
            &br#"{"label": -1}"#[..],
            br#"{"label": 1.5}"#,
            br#"{"label": "rose"}"#,
            b"{}",
        ] {
            let members: &[(&str, &[u8])] = &[
                ("a.jpg", b"A"),
                ("a.cls", b"0"),
                ("b.jpg", b"B"),
                ("b.json", bad),
            ];
            assert!(read_one(members, two, None).is_err());
        }
        let disagree: &[(&str, &[u8])] = &[
            ("a.jpg", b"A"),
            ("a.cls", b"0"),
            ("a.json", br#"{"label": "dandelion"}"#),
            ("b.jpg", b"B"),
            ("b.cls", b"1"),
        ];
        let err = read_one(disagree, two, None).unwrap_err().to_string();
        assert!(
            err.contains("names `daisy` but a.json names `dandelion`"),
            "{err}"
        );
    }

    #[test]
    fn repeated_members_and_cut_shards_are_refused() {
        let two = Some(&["daisy", "dandelion"][..]);
        let dup: &[(&str, &[u8])] = &[
            ("dup.jpg", b"1"),
            ("dup.cls", b"0"),
            ("dup.jpg", b"2"),
            ("dup.cls", b"1"),
        ];
        let err = read_one(dup, two, None).unwrap_err().to_string();
        assert!(err.contains("appears twice"), "{err}");
        let two_images: &[(&str, &[u8])] = &[("a.jpg", b"1"), ("a.png", b"2"), ("a.cls", b"0")];
        assert!(
            read_one(two_images, two, None)
                .unwrap_err()
                .to_string()
                .contains("2 image members")
        );
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("0.tar");
        let members: Vec<(String, Vec<u8>)> = (0..8)
            .flat_map(|i| {
                [
                    (format!("{i}.jpg"), vec![i as u8; 700]),
                    (format!("{i}.cls"), format!("{}", i % 2).into_bytes()),
                ]
            })
            .collect();
        let borrowed: Vec<(&str, &[u8])> = members
            .iter()
            .map(|(n, b)| (n.as_str(), b.as_slice()))
            .collect();
        shard(&path, &borrowed);
        let all = names(&["daisy", "dandelion"]);
        let labels = Labels {
            names: Some((&all, Path::new("classnames.txt"))),
            wanted: None,
        };
        assert_eq!(
            read_shards(std::slice::from_ref(&path), &labels)
                .unwrap()
                .images
                .len(),
            8
        );
        let whole = std::fs::read(&path).unwrap();
        // Cut inside a member's data, exactly at a member boundary, and to nothing.
        for cut in [512 + 300, 3_000, 2 * 2560, 0] {
            std::fs::write(&path, &whole[..cut]).unwrap();
            let err = read_shards(std::slice::from_ref(&path), &labels)
                .unwrap_err()
                .to_string();
            assert!(err.contains("truncated"), "cut at {cut}: {err}");
        }
    }

    /// The list is written shard by shard, yet sorted by name as a whole: `a.tar.x.tar/…`
    /// comes before `a.tar/…` although `a.tar` sorts first, and `k-b.jpg` before `k.jpg`
    /// although key `k` sorts before `k-b`. Labels taken from the data are the sorted
    /// class names, whichever shard named a class first.
    #[test]
    fn shards_are_listed_in_the_order_of_their_samples_names() {
        let dir = tempfile::tempdir().unwrap();
        let members: &[(&str, &[u8])] = &[
            ("k.jpg", b"1"),
            ("k.json", br#"{"label": "zinnia"}"#),
            ("k-b.jpg", b"2"),
            ("k-b.json", br#"{"label": "aster"}"#),
        ];
        shard(&dir.path().join("a.tar"), members);
        shard(&dir.path().join("a.tar.x.tar"), members);
        let shards = vec![dir.path().join("a.tar"), dir.path().join("a.tar.x.tar")];
        let labels = Labels {
            names: None,
            wanted: None,
        };
        let dataset = read_shards(&shards, &labels).unwrap();
        assert_eq!(dataset.classes, ["aster", "zinnia"]);
        assert_listed(
            &dataset,
            &[
                ("a.tar.x.tar/k-b.jpg", 0),
                ("a.tar.x.tar/k.jpg", 1),
                ("a.tar/k-b.jpg", 0),
                ("a.tar/k.jpg", 1),
            ],
        );
    }

    /// Shard names that read the same once made text (bytes that are not UTF-8) do not sort
    /// as their samples' names: the list is then sorted whole, and no sample is lost.
    #[test]
    fn shards_whose_names_read_alike_are_still_listed_whole_and_sorted() {
        use std::os::unix::ffi::OsStrExt;
        let dir = tempfile::tempdir().unwrap();
        let shards: Vec<PathBuf> = [&b"s\xff.tar"[..], &b"s\xfe.tar"[..]]
            .iter()
            .map(|name| dir.path().join(std::ffi::OsStr::from_bytes(name)))
            .collect();
        shard(
            &shards[0],
            &[
                ("b.jpg", b"1"),
                ("b.cls", b"0"),
                ("c.jpg", b"2"),
                ("c.cls", b"1"),
            ],
        );
        shard(&shards[1], &[("a.jpg", b"3"), ("a.cls", b"1")]);
        let all = names(&["daisy", "dandelion"]);
        let labels = Labels {
            names: Some((&all, Path::new("classnames.txt"))),
            wanted: None,
        };
        let dataset = read_shards(&shards, &labels).unwrap();
        assert_listed(
            &dataset,
            &[
                ("s\u{fffd}.tar/a.jpg", 1),
                ("s\u{fffd}.tar/b.jpg", 0),
                ("s\u{fffd}.tar/c.jpg", 1),
            ],
        );
        let listed = dataset.images.to_vec().unwrap();
        assert_eq!(listed[0].path, shards[1]);
    }

    #[test]
    fn samples_of_two_shards_with_one_file_name_keep_apart() {
        let dir = tempfile::tempdir().unwrap();
        for (folder, label) in [("a", b"0"), ("b", b"1")] {
            std::fs::create_dir(dir.path().join(folder)).unwrap();
            shard(
                &dir.path().join(folder).join("shard.tar"),
                &[("k.jpg", folder.as_bytes()), ("k.cls", label)],
            );
        }
        let shards = vec![
            dir.path().join("a/shard.tar"),
            dir.path().join("b/shard.tar"),
        ];
        let all = names(&["daisy", "dandelion"]);
        let labels = Labels {
            names: Some((&all, Path::new("classnames.txt"))),
            wanted: None,
        };
        let dataset = read_shards(&shards, &labels).unwrap();
        let listed = dataset.images.to_vec().unwrap();
        let found: Vec<&str> = listed.iter().map(|i| i.relative.as_str()).collect();
        assert_eq!(found, ["a/shard.tar/k.jpg", "b/shard.tar/k.jpg"]);
    }
}
