//! Known dataset archives (`dataset.download`): fetched, verified by size and sha256, and
//! unpacked within their bounds into a folder that did not exist.

use std::path::Path;

use ontosweep_fetch::{ArchiveLimits, Expected, Fetcher, Redirects, extract_tar_gz};
use ontosweep_models::{Adapter, Progress};

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
    /// What it may unpack to: a little above what the real archive holds.
    pub limits: ArchiveLimits,
}

pub const KNOWN_ARCHIVES: &[KnownArchive] = &[KnownArchive {
    name: "tensorflow-flowers",
    url: "https://storage.googleapis.com/download.tensorflow.org/example_images/flower_photos.tgz",
    url_variable: "ONTOSWEEP_FLOWERS_URL",
    size: 228_813_984,
    sha256: "4c54ace7911aaffe13a365c34f650e71dd5bf1be0a58b464e5a7183e3e595d9c",
    top_folder: "flower_photos",
    // 3,670 photos and a licence in 6 folders, about 230 MB.
    limits: ArchiveLimits {
        max_entries: 10_000,
        max_bytes: 1 << 30,
    },
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
    // A mirror the user named may redirect anywhere (but never from https to http).
    let (url, redirects) = match std::env::var(archive.url_variable) {
        Ok(url) => (url, Redirects::AnyHost),
        Err(_) => (archive.url.to_string(), Redirects::SameHost),
    };
    let expected = Expected {
        size: Some(archive.size),
        sha256: Some(archive.sha256.to_string()),
    };
    let adapter = Adapter(progress, format!("downloading {}", archive.name));
    Fetcher::default()
        .redirects(redirects)
        .fetch(&url, &download, &expected, &adapter)
        .map_err(|e| e.to_string())?;
    progress.finish();
    // A folder of this process's own: extraction refuses one that is already there.
    let unpacked = parent.join(format!(".{}.unpacked-{}", archive.name, std::process::id()));
    extract_tar_gz(&download, &unpacked, &archive.limits).map_err(|e| e.to_string())?;
    let top = unpacked.join(archive.top_folder);
    let moved = if top.is_dir() {
        std::fs::rename(&top, root)
            .map_err(|e| format!("moving {} to {}: {e}", top.display(), root.display()))
    } else {
        Err(format!(
            "{}: the archive has no `{}` folder",
            download.display(),
            archive.top_folder
        ))
    };
    let _ = std::fs::remove_dir_all(&unpacked); // made by `extract_tar_gz` just above
    moved
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_experiment_file_knows_every_archive_by_name() {
        let names: Vec<&str> = KNOWN_ARCHIVES.iter().map(|a| a.name).collect();
        assert_eq!(names, ontosweep_experiment::KNOWN_DOWNLOADS);
    }
}
