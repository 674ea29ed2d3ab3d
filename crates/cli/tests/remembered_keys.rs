//! Content keys remembered per file identity: a sweep over unchanged, cached images reads
//! no image bytes, and a file rewritten in place (same size, old mtime) is read again.

use std::path::{Path, PathBuf};

mod common;

use common::{json, mini, succeeded};

/// Two classes of four mini photos each, copied to `dir`.
fn photos(dir: &Path) -> Vec<PathBuf> {
    let mut copied = Vec::new();
    for class in ["daisy", "dandelion"] {
        let mut files: Vec<PathBuf> = std::fs::read_dir(mini().join(class))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        files.sort();
        std::fs::create_dir_all(dir.join(class)).unwrap();
        for file in files.into_iter().take(4) {
            let to = dir.join(class).join(file.file_name().unwrap());
            std::fs::copy(&file, &to).unwrap();
            copied.push(to);
        }
    }
    copied
}

#[test]
fn unchanged_cached_images_are_not_read_again_and_a_rewritten_one_is() {
    let temp = tempfile::tempdir().unwrap();
    let files = photos(&temp.path().join("photos"));
    let total: u64 = files
        .iter()
        .map(|f| std::fs::metadata(f).unwrap().len())
        .sum();
    let file = common::experiment_file(
        temp.path(),
        "keys",
        &format!(
            "name: keys\ndataset:\n  root: photos\nmodels:\n  - path: {}\nontologies:\n  plain:\n    templates: [\"a photo of a {{}}.\"]\n",
            common::model("clip-tiny-random").display()
        ),
    );
    let cache = temp.path().join("cache");
    let run = |out: &str| {
        let out = temp.path().join(out);
        succeeded(common::sweep(&file, &out, &cache, &[]).output().unwrap());
        let run = json(&out.join("run.json"));
        let summary = std::fs::read_to_string(out.join("summary.csv")).unwrap();
        (run, summary)
    };
    let (first, summary) = run("one");
    assert_eq!(first["timings"]["image_bytes_read"], total);
    let memos: Vec<PathBuf> = std::fs::read_dir(cache.join("content-keys"))
        .unwrap()
        .flat_map(|d| std::fs::read_dir(d.unwrap().path()).unwrap())
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(memos.len(), 1, "{memos:?}");
    assert!(memos[0].ends_with("sweep.keys"));
    assert_eq!(
        std::fs::read_to_string(&memos[0]).unwrap().lines().count(),
        files.len()
    );

    let (second, again) = run("two");
    assert_eq!(
        second["timings"]["image_bytes_read"], 0,
        "every key remembered, every embedding cached"
    );
    assert_eq!(second["models"][0]["images_from_cache"], files.len());
    assert_eq!(summary, again);

    // The same size and mtime with other bytes (as `cp -p` leaves a file): its ctime moved,
    // so it is read and hashed again, and only it.
    let changed = &files[0];
    let other = std::fs::read(&files[1]).unwrap();
    let mtime = std::fs::metadata(changed).unwrap().modified().unwrap();
    let size = std::fs::metadata(changed).unwrap().len() as usize;
    let mut bytes = other.clone();
    bytes.resize(size, 0);
    std::fs::write(changed, &bytes).unwrap();
    std::fs::File::options()
        .write(true)
        .open(changed)
        .unwrap()
        .set_modified(mtime)
        .unwrap();
    let (third, _) = common::sweep(&file, &temp.path().join("three"), &cache, &[])
        .output()
        .map(|o| {
            let run = json(&temp.path().join("three/run.json"));
            (run, o)
        })
        .unwrap();
    assert_eq!(third["timings"]["image_bytes_read"], size as u64, "{third}");
}
