use std::fs::{self, File};
use std::path::{Component, Path, PathBuf};

use crate::download::FetchError;

/// Extracts a `.tar.gz` into `dest`, refusing any entry whose path would leave `dest`
/// (absolute paths, `..`) and any link. Extraction happens in a staging folder that is
/// renamed into place, so `dest` never holds half an archive.
pub fn extract_tar_gz(archive: &Path, dest: &Path) -> Result<Vec<PathBuf>, FetchError> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| FetchError::Io { path, source }
    };
    let parent = dest.parent().unwrap_or(Path::new("."));
    fs::create_dir_all(parent).map_err(io(parent))?;
    let staging = parent.join(format!(
        ".{}.extracting",
        dest.file_name()
            .map_or("archive".into(), |n| n.to_string_lossy())
    ));
    let _ = fs::remove_dir_all(&staging);
    fs::create_dir_all(&staging).map_err(io(&staging))?;
    let result = (|| {
        let mut tar = tar::Archive::new(flate2::read::GzDecoder::new(
            File::open(archive).map_err(io(archive))?,
        ));
        let mut written = Vec::new();
        for entry in tar.entries().map_err(io(archive))? {
            let mut entry = entry.map_err(io(archive))?;
            let path = entry.path().map_err(io(archive))?.into_owned();
            let unsafe_path = path
                .components()
                .any(|c| !matches!(c, Component::Normal(_) | Component::CurDir));
            let kind = entry.header().entry_type();
            if unsafe_path || kind.is_symlink() || kind.is_hard_link() {
                return Err(FetchError::Io {
                    path: archive.to_path_buf(),
                    source: std::io::Error::other(format!(
                        "refusing to extract `{}`: it would escape {} or is a link",
                        path.display(),
                        dest.display()
                    )),
                });
            }
            if kind.is_dir() || kind.is_file() {
                entry.unpack_in(&staging).map_err(io(archive))?;
                if kind.is_file() {
                    written.push(path);
                }
            }
        }
        Ok(written)
    })();
    match result {
        Ok(written) => {
            if dest.exists() {
                fs::remove_dir_all(dest).map_err(io(dest))?;
            }
            fs::rename(&staging, dest).map_err(io(dest))?;
            Ok(written)
        }
        Err(e) => {
            let _ = fs::remove_dir_all(&staging);
            Err(e)
        }
    }
}
