//! Model files from Hugging Face, verified by size and sha256 against the yaml's pins or
//! the lock file; files already in a model folder are held to the same pins. Nothing is
//! recorded in a lock file that was not downloaded and hashed in full.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use ontosweep_fetch::write_atomically;
use ontosweep_fetch::{Expected, FetchError, Fetcher, Redirects, sha256_file};
use serde::{Deserialize, Serialize};

use crate::progress::{Adapter, Progress};
use crate::spec::{ModelFile, ModelSpec};

/// Where Hugging Face files come from.
#[derive(Debug, Clone, PartialEq)]
pub struct Endpoint {
    base: String,
    /// A server the user named: redirects from it may go to any host.
    mirror: bool,
}

/// Hugging Face serves large files from its CDN hosts (`cdn-lfs.huggingface.co`,
/// `cas-bridge.xethub.hf.co`, …): redirects may go to these domains and their subdomains.
const HF_DOMAINS: [&str; 2] = ["huggingface.co", "hf.co"];

impl Endpoint {
    /// Hugging Face, or the mirror `HF_ENDPOINT` names.
    pub fn from_env() -> Self {
        match std::env::var("HF_ENDPOINT") {
            Ok(base) => Self::mirror(base),
            Err(_) => Self {
                base: "https://huggingface.co".into(),
                mirror: false,
            },
        }
    }

    pub fn mirror(base: impl Into<String>) -> Self {
        Self {
            base: base.into().trim_end_matches('/').into(),
            mirror: true,
        }
    }

    fn redirects(&self) -> Redirects {
        if self.mirror {
            Redirects::AnyHost
        } else {
            Redirects::Domains(HF_DOMAINS.iter().map(|d| d.to_string()).collect())
        }
    }

    fn url(&self, repo: &str, revision: &str, path: &str) -> String {
        format!("{}/{repo}/resolve/{revision}/{path}", self.base)
    }
}

/// Sizes and sha256 of model files first downloaded without a pinned checksum: later
/// downloads, and files already in place, must match them. Lives next to the model's yaml
/// as `<id>.lock.json`.
#[derive(Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct ModelLock {
    pub files: BTreeMap<String, LockedFile>,
}

#[derive(Debug, Serialize, Deserialize, PartialEq, Clone)]
pub struct LockedFile {
    pub size: u64,
    pub sha256: String,
    /// The repository and the revision the yaml asked for (`main` when it named none).
    /// Entries written before these were recorded have neither, and apply to any source.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repository: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revision: Option<String>,
    /// The commit the server resolved `revision` to (its `X-Repo-Commit`), else `revision`;
    /// later downloads of this model ask for it, so all files come from one commit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolved_revision: Option<String>,
}

impl LockedFile {
    /// Whether this entry speaks for `repo` at `revision` (`None`: no source to compare).
    fn applies(&self, source: Option<(&str, &str)>) -> bool {
        let Some((repo, revision)) = source else {
            return true;
        };
        self.repository.as_deref().is_none_or(|r| r == repo)
            && self.revision.as_deref().is_none_or(|r| r == revision)
    }

    fn origin(&self) -> String {
        match (
            &self.repository,
            &self.resolved_revision.as_ref().or(self.revision.as_ref()),
        ) {
            (Some(repo), Some(revision)) => format!("{repo} at {revision}"),
            (Some(repo), None) => repo.clone(),
            _ => "an unrecorded repository".into(),
        }
    }
}

pub fn lock_path(yaml: &Path) -> PathBuf {
    yaml.with_extension("lock.json")
}

fn read_lock(lock_file: &Path) -> Result<ModelLock, String> {
    match ontosweep_clip::files::read_bounded_text(
        lock_file,
        ontosweep_clip::files::MAX_CONFIG_BYTES,
    ) {
        Ok(text) => serde_json::from_str(&text).map_err(|e| {
            format!(
                "{}: {e}; delete it to record the files afresh",
                lock_file.display()
            )
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(ModelLock::default()),
        Err(e) => Err(format!("{}: {e}", lock_file.display())),
    }
}

/// A revision as it may appear in a URL: no empty, `.` or `..` segment, nothing but
/// letters, digits and `._-/`. Values from a server or a lock file must pass this.
fn plain_revision(revision: &str) -> bool {
    revision
        .split('/')
        .all(|s| !s.is_empty() && s != "." && s != "..")
        && revision
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-/".contains(&b))
}
/// What one model's files are held to: the yaml's pins and the lock file's entries.
struct Pins<'a> {
    yaml: &'a Path,
    lock_file: &'a Path,
    lock: ModelLock,
    /// Repository and revision asked for; `None` for a model without a source.
    source: Option<(&'a str, &'a str)>,
}

impl<'a> Pins<'a> {
    fn load(spec: &'a ModelSpec, yaml: &'a Path, lock_file: &'a Path) -> Result<Self, String> {
        let source = spec.source.as_ref().map(|s| {
            let revision = s.revision.as_deref().unwrap_or("main");
            (s.hf_repo.as_str(), revision)
        });
        Ok(Self {
            yaml,
            lock_file,
            lock: read_lock(lock_file)?,
            source,
        })
    }

    /// The lock entry for `path` when it was recorded for this repository and revision;
    /// one recorded for another is reported and ignored.
    fn locked(&self, path: &str, progress: &dyn Progress) -> Option<LockedFile> {
        let entry = self.lock.files.get(path)?;
        if entry.applies(self.source) {
            return Some(entry.clone());
        }
        let (repo, revision) = self.source.unwrap_or_default();
        progress.warn(&format!(
            "{}: the entry for `{path}` was recorded for {}, not {repo} at {revision}, so it does not apply here",
            self.lock_file.display(),
            entry.origin()
        ));
        None
    }

    fn expected(file: &ModelFile, locked: Option<&LockedFile>) -> Expected {
        Expected {
            size: file.size.or(locked.map(|l| l.size)),
            sha256: file.sha256.clone().or(locked.map(|l| l.sha256.clone())),
        }
    }

    /// Who set what a file is compared with.
    fn recorded_by(&self, file: &ModelFile, locked: Option<&LockedFile>) -> String {
        let yaml = (file.size.is_some() || file.sha256.is_some())
            .then(|| format!("{} pins", self.yaml.display()));
        let lock = locked.map(|l| {
            let (lock, origin) = (self.lock_file.display(), l.origin());
            format!("{lock} recorded for {origin}")
        });
        [yaml, lock]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" and ")
    }

    /// What to delete or change to get past a mismatch, for each source of the pins.
    fn remedy(&self, file: &ModelFile, locked: Option<&LockedFile>, target: &Path) -> String {
        let path = &file.path;
        let present = target.exists();
        let lock = locked.map(|_| {
            format!(
                "remove the `\"{path}\"` entry from {} (or delete that lock file) and run again: it is recorded afresh",
                self.lock_file.display()
            )
        });
        let yaml = (file.size.is_some() || file.sha256.is_some()).then(|| {
            format!(
                "correct `size`/`sha256` of `{path}` in {}",
                self.yaml.display()
            )
        });
        let actions: Vec<String> = [lock, yaml].into_iter().flatten().collect();
        let trusting = if present {
            "If this file is the one you want"
        } else {
            "If the file really changed upstream and you trust the new one"
        };
        let mut fix = format!("{trusting}, {}.", actions.join(", and "));
        if present && self.source.is_some() {
            fix += &format!(
                " Otherwise delete {}: it is downloaded again.",
                target.display()
            );
        } else if present {
            fix += &format!(" Otherwise put the right file at {}.", target.display());
        }
        fix
    }

    /// A file already in the model folder must match what the yaml pins and the lock
    /// recorded; it is never replaced.
    fn check_present(
        &self,
        target: &Path,
        file: &ModelFile,
        progress: &dyn Progress,
        hash: FileHasher,
    ) -> Result<(), String> {
        let locked = self.locked(&file.path, progress);
        let expected = Self::expected(file, locked.as_ref());
        let size = std::fs::metadata(target)
            .map_err(|e| format!("{}: {e}", target.display()))?
            .len();
        let what = match (expected.size, &expected.sha256) {
            (Some(wanted), _) if wanted != size => format!("it has {size} bytes, not {wanted}"),
            (_, Some(wanted)) => {
                let digest = hash(target)?;
                if digest.eq_ignore_ascii_case(wanted) {
                    return Ok(());
                }
                format!("its sha256 is {digest}, not {wanted}")
            }
            _ => return Ok(()),
        };
        Err(format!(
            "{} differs from what {}: {what}. {}",
            target.display(),
            self.recorded_by(file, locked.as_ref()),
            self.remedy(file, locked.as_ref(), target)
        ))
    }

    /// A download refused for not matching: says against what, and what to delete.
    fn explain(&self, error: FetchError, file: &ModelFile, locked: Option<&LockedFile>) -> String {
        let FetchError::Mismatch { url, target, what } = &error else {
            return error.to_string();
        };
        if locked.is_none() && file.size.is_none() && file.sha256.is_none() {
            return error.to_string(); // nothing of the yaml's or the lock's was involved
        }
        format!(
            "{}: downloaded from {url}, but {what} (what {}); nothing was kept. {}",
            target.display(),
            self.recorded_by(file, locked),
            self.remedy(file, locked, target)
        )
    }
}

/// The sha256 of a file, possibly remembered (a warm sweep need not read large model files
/// again).
pub type FileHasher<'a> = &'a dyn Fn(&Path) -> Result<String, String>;

/// Reads and hashes the whole file.
pub fn hash_file(path: &Path) -> Result<String, String> {
    sha256_file(path).map_err(|e| e.to_string())
}

/// Checks the files `spec` lists that are already in `dir` (placed by hand, or downloaded
/// earlier) against the yaml's pins and the lock file, when there is one.
pub fn check_model_files(
    spec: &ModelSpec,
    yaml: &Path,
    dir: &Path,
    progress: &dyn Progress,
    hash: FileHasher,
) -> Result<(), String> {
    let lock_file = lock_path(yaml);
    let pins = Pins::load(spec, yaml, &lock_file)?;
    for file in &spec.files {
        let target = dir.join(&file.path);
        if std::fs::symlink_metadata(&target).is_ok() {
            pins.check_present(&target, file, progress, hash)?;
        }
    }
    Ok(())
}

/// Downloads the files a model's yaml lists into `dir` from Hugging Face, or the mirror
/// `HF_ENDPOINT` names.
pub fn download_model(
    spec: &ModelSpec,
    yaml: &Path,
    dir: &Path,
    progress: &dyn Progress,
) -> Result<(), String> {
    download_model_from(&Endpoint::from_env(), spec, yaml, dir, progress)
}

/// Downloads the files missing from `dir`; those already there are checked, never replaced.
pub fn download_model_from(
    endpoint: &Endpoint,
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
    let mut pins = Pins::load(spec, yaml, &lock_file)?;
    let wanted = source.revision.as_deref().unwrap_or("main");
    // The commit this model's lock was recorded at, else the first one a server names.
    let mut commit = pins
        .lock
        .files
        .values()
        .filter(|l| l.applies(pins.source))
        .find_map(|l| l.resolved_revision.clone())
        .filter(|r| plain_revision(r));
    let fetcher = Fetcher::default().redirects(endpoint.redirects());
    for file in &spec.files {
        let target = dir.join(&file.path);
        if std::fs::symlink_metadata(&target).is_ok() {
            pins.check_present(&target, file, progress, &hash_file)?;
            continue;
        }
        let locked = pins.locked(&file.path, progress);
        let revision = commit.clone().unwrap_or_else(|| wanted.to_string());
        let url = endpoint.url(&source.hf_repo, &revision, &file.path);
        let expected = Pins::expected(file, locked.as_ref());
        let adapter = Adapter(progress, format!("downloading {}", file.path));
        let fetched = fetcher
            .fetch(&url, &target, &expected, &adapter)
            .map_err(|e| pins.explain(e, file, locked.as_ref()))?;
        progress.finish();
        let resolved = fetched
            .header("x-repo-commit")
            .filter(|c| plain_revision(c))
            .map_or(revision, str::to_string);
        commit.get_or_insert_with(|| resolved.clone());
        // Pinned files need no entry; a legacy entry is upgraded with where it came from.
        if file.sha256.is_none() && locked.as_ref().is_none_or(|l| l.repository.is_none()) {
            let entry = LockedFile {
                size: fetched.size,
                sha256: fetched.sha256,
                repository: Some(source.hf_repo.clone()),
                revision: Some(wanted.to_string()),
                resolved_revision: Some(resolved),
            };
            pins.lock.files.insert(file.path.clone(), entry);
            let text = serde_json::to_string_pretty(&pins.lock).expect("lock serialises") + "\n";
            write_atomically(&lock_file, text.as_bytes())
                .map_err(|e| format!("{}: {e}", lock_file.display()))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lock_file_is_read_only_when_regular() {
        let dir = tempfile::tempdir().unwrap();
        let lock = dir.path().join("m.lock.json");
        assert!(read_lock(&lock).unwrap().files.is_empty(), "absent: empty");
        ontosweep_testkit::mkfifo(&lock);
        let err = ontosweep_testkit::within_a_minute(move || read_lock(&lock).map(|_| ()))
            .expect("reading a FIFO lock file blocked")
            .unwrap_err();
        assert!(
            err.contains("m.lock.json") && err.contains("named pipe"),
            "{err}"
        );
    }
}
