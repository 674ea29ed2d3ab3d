//! Getting what an experiment names but the disk lacks: model files from Hugging Face and
//! known dataset archives, verified by size and sha256.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use ontosweep_clip::ModelSpec;
use ontosweep_fetch::{Expected, Fetcher, extract_tar_gz};
use serde::{Deserialize, Serialize};

use crate::progress::Progress;

/// Where Hugging Face files come from; `HF_ENDPOINT` points elsewhere (a mirror, a test server).
fn hf_endpoint() -> String {
    std::env::var("HF_ENDPOINT").unwrap_or_else(|_| "https://huggingface.co".into())
}

/// Sizes and sha256 of model files first downloaded without a pinned checksum: later
/// downloads must match them. Lives next to the model's yaml as `<id>.lock.json`.
#[derive(Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct ModelLock {
    pub files: BTreeMap<String, LockedFile>,
}

#[derive(Debug, Serialize, Deserialize, PartialEq, Clone)]
pub struct LockedFile {
    pub size: u64,
    pub sha256: String,
}

pub fn lock_path(yaml: &Path) -> PathBuf {
    yaml.with_extension("lock.json")
}

struct Adapter<'a>(&'a dyn Progress, String);

impl ontosweep_fetch::Progress for Adapter<'_> {
    fn begin(&self, _: &str, total: Option<u64>, already: u64) {
        self.0.start(&self.1, total.unwrap_or(0) as usize);
        self.0.advance(already as usize);
    }
    fn advance(&self, bytes: u64) {
        self.0.advance(bytes as usize);
    }
    fn retry(&self, url: &str, attempt: u32, reason: &str) {
        self.0.warn(&format!(
            "{url}: attempt {attempt} failed ({reason}); retrying"
        ));
    }
}

/// Downloads the files a model's yaml lists into `dir`.
pub fn download_model(
    spec: &ModelSpec,
    yaml: &Path,
    dir: &Path,
    progress: &dyn Progress,
) -> Result<(), String> {
    let source = spec
        .source
        .as_ref()
        .ok_or_else(|| format!("{}: no `source` to download from", yaml.display()))?;
    if spec.files.is_empty() {
        return Err(format!(
            "{}: `files` is empty, so there is nothing to download",
            yaml.display()
        ));
    }
    let lock_file = lock_path(yaml);
    let mut lock: ModelLock = match std::fs::read_to_string(&lock_file) {
        Ok(text) => serde_json::from_str(&text).map_err(|e| {
            format!(
                "{}: {e}; delete it to record the files afresh",
                lock_file.display()
            )
        })?,
        Err(_) => ModelLock::default(),
    };
    let revision = source.revision.as_deref().unwrap_or("main");
    let fetcher = Fetcher::default();
    for file in &spec.files {
        let locked = lock.files.get(&file.path);
        let expected = Expected {
            size: file.size.or(locked.map(|l| l.size)),
            sha256: file.sha256.clone().or(locked.map(|l| l.sha256.clone())),
        };
        let url = format!(
            "{}/{}/resolve/{revision}/{}",
            hf_endpoint(),
            source.hf_repo,
            file.path
        );
        let target = dir.join(&file.path);
        let adapter = Adapter(progress, format!("downloading {}", file.path));
        let digest = fetcher
            .fetch(&url, &target, &expected, &adapter)
            .map_err(|e| e.to_string())?;
        progress.finish();
        if file.sha256.is_none() && locked.is_none() {
            let size = std::fs::metadata(&target).map_err(|e| e.to_string())?.len();
            lock.files.insert(
                file.path.clone(),
                LockedFile {
                    size,
                    sha256: digest,
                },
            );
            let text = serde_json::to_string_pretty(&lock).expect("lock serialises") + "\n";
            write_atomically(&lock_file, text.as_bytes())
                .map_err(|e| format!("{}: {e}", lock_file.display()))?;
        }
    }
    Ok(())
}

fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let temp = path.with_extension("tmp");
    std::fs::write(&temp, bytes)?;
    std::fs::rename(&temp, path)
}

/// A dataset archive the experiment file can name in `dataset.download`.
#[derive(Debug, Clone)]
pub struct KnownArchive {
    pub name: &'static str,
    pub url: &'static str,
    /// Environment variable that replaces `url` (a mirror); the checks stay.
    pub url_variable: &'static str,
    pub size: u64,
    pub sha256: &'static str,
    /// The folder inside the archive that becomes the dataset root.
    pub top_folder: &'static str,
}

pub const KNOWN_ARCHIVES: &[KnownArchive] = &[KnownArchive {
    name: "tensorflow-flowers",
    url: "https://storage.googleapis.com/download.tensorflow.org/example_images/flower_photos.tgz",
    url_variable: "ONTOSWEEP_FLOWERS_URL",
    size: 228_813_984,
    sha256: "4c54ace7911aaffe13a365c34f650e71dd5bf1be0a58b464e5a7183e3e595d9c",
    top_folder: "flower_photos",
}];

/// Downloads `archive` (resumably, next to `root` in `.downloads/`) and unpacks its top
/// folder as `root`.
pub fn fetch_archive(
    archive: &KnownArchive,
    root: &Path,
    progress: &dyn Progress,
) -> Result<(), String> {
    let parent = root.parent().unwrap_or(Path::new("."));
    let file_name = archive.url.rsplit('/').next().unwrap_or("archive.tgz");
    let download = parent.join(".downloads").join(file_name);
    let url = std::env::var(archive.url_variable).unwrap_or_else(|_| archive.url.to_string());
    let expected = Expected {
        size: Some(archive.size),
        sha256: Some(archive.sha256.to_string()),
    };
    let adapter = Adapter(progress, format!("downloading {}", archive.name));
    Fetcher::default()
        .fetch(&url, &download, &expected, &adapter)
        .map_err(|e| e.to_string())?;
    progress.finish();
    let unpacked = parent.join(format!(".{}.unpacked", archive.name));
    extract_tar_gz(&download, &unpacked).map_err(|e| e.to_string())?;
    let top = unpacked.join(archive.top_folder);
    if !top.is_dir() {
        return Err(format!(
            "{}: the archive has no `{}` folder",
            download.display(),
            archive.top_folder
        ));
    }
    std::fs::rename(&top, root)
        .map_err(|e| format!("moving {} to {}: {e}", top.display(), root.display()))?;
    let _ = std::fs::remove_dir_all(&unpacked);
    Ok(())
}
