//! The on-disk embedding cache: content-addressed files, each written to a temporary name
//! and renamed into place, each carrying a checksum of its values. A killed sweep leaves
//! only whole entries behind; two sweeps writing the same entry write the same bytes.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use sha2::{Digest, Sha256};

const MAGIC: &[u8; 4] = b"OSE1";

#[derive(Debug, Clone)]
pub struct EmbeddingCache {
    dir: PathBuf,
}

static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

/// A cache namespace: everything that makes embeddings comparable (model, preprocessing).
pub fn namespace(parts: &[&str]) -> String {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update(part.as_bytes());
        hasher.update([0]);
    }
    hex::encode(&hasher.finalize()[..16])
}

pub fn content_key(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

impl EmbeddingCache {
    pub fn open(dir: &Path) -> std::io::Result<Self> {
        fs::create_dir_all(dir)?;
        Ok(Self {
            dir: dir.to_path_buf(),
        })
    }

    fn entry(&self, namespace: &str, key: &str) -> PathBuf {
        self.dir
            .join(namespace)
            .join(&key[..2.min(key.len())])
            .join(format!("{key}.emb"))
    }

    /// The stored embedding, or `None` when absent or damaged (a damaged entry is a miss
    /// and gets rewritten).
    pub fn get(&self, namespace: &str, key: &str) -> Option<Vec<f32>> {
        let bytes = fs::read(self.entry(namespace, key)).ok()?;
        decode(&bytes)
    }

    /// sha256 of `files`, remembered by their paths, sizes and modification times so that
    /// large model files are read once, not on every sweep.
    pub fn fingerprint(&self, files: &[PathBuf]) -> Result<String, ontosweep_clip::Error> {
        let mut identity = Sha256::new();
        for file in files {
            let meta = fs::metadata(file).ok();
            let modified = meta
                .as_ref()
                .and_then(|m| m.modified().ok())
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok());
            identity.update(format!(
                "{}\0{:?}\0{:?}\0",
                file.display(),
                meta.map(|m| m.len()),
                modified
            ));
        }
        let memo = self
            .dir
            .join("fingerprints")
            .join(hex::encode(identity.finalize()));
        if let Ok(known) = fs::read_to_string(&memo)
            && known.len() == 64
        {
            return Ok(known);
        }
        let digest = ontosweep_clip::fingerprint(files)?;
        let _ = fs::create_dir_all(self.dir.join("fingerprints"))
            .and_then(|_| write_atomically(&memo, digest.as_bytes()));
        Ok(digest)
    }

    pub fn put(&self, namespace: &str, key: &str, embedding: &[f32]) -> std::io::Result<()> {
        let path = self.entry(namespace, key);
        fs::create_dir_all(path.parent().expect("entries live in a folder"))?;
        write_atomically(&path, &encode(embedding))
    }
}

/// Writes to a unique temporary name beside `path`, then renames: readers see the old
/// file or the whole new one, never a part.
fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let folder = path.parent().expect("a file lives in a folder");
    let name = path
        .file_name()
        .map_or_else(|| "entry".into(), |n| n.to_string_lossy().into_owned());
    let temp = folder.join(format!(
        ".{name}.{}.{}.tmp",
        std::process::id(),
        TEMP_COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    let mut file = fs::File::create(&temp)?;
    file.write_all(bytes)?;
    file.sync_data()?;
    drop(file);
    fs::rename(&temp, path).inspect_err(|_| {
        let _ = fs::remove_file(&temp);
    })
}

fn encode(embedding: &[f32]) -> Vec<u8> {
    let mut out = Vec::with_capacity(8 + embedding.len() * 4 + 32);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&(embedding.len() as u32).to_le_bytes());
    for value in embedding {
        out.extend_from_slice(&value.to_le_bytes());
    }
    let checksum = Sha256::digest(&out[8..]);
    out.extend_from_slice(&checksum);
    out
}

fn decode(bytes: &[u8]) -> Option<Vec<f32>> {
    if bytes.len() < 8 + 32 || &bytes[..4] != MAGIC {
        return None;
    }
    let dim = u32::from_le_bytes(bytes[4..8].try_into().ok()?) as usize;
    let data_end = 8 + dim * 4;
    if bytes.len() != data_end + 32
        || Sha256::digest(&bytes[8..data_end]).as_slice() != &bytes[data_end..]
    {
        return None;
    }
    Some(
        bytes[8..data_end]
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_rejects_damage() {
        let dir = tempfile::tempdir().unwrap();
        let cache = EmbeddingCache::open(dir.path()).unwrap();
        let ns = namespace(&["model", "pre"]);
        assert_eq!(cache.get(&ns, "abcd"), None);
        cache.put(&ns, "abcd", &[0.5, -1.0, 2.25]).unwrap();
        assert_eq!(cache.get(&ns, "abcd"), Some(vec![0.5, -1.0, 2.25]));

        let path = cache.entry(&ns, "abcd");
        let mut bytes = fs::read(&path).unwrap();
        bytes[9] ^= 1;
        fs::write(&path, &bytes).unwrap();
        assert_eq!(
            cache.get(&ns, "abcd"),
            None,
            "a flipped bit must not be served"
        );
        fs::write(&path, &bytes[..20]).unwrap();
        assert_eq!(
            cache.get(&ns, "abcd"),
            None,
            "a truncated entry must not be served"
        );
        cache.put(&ns, "abcd", &[1.0]).unwrap();
        assert_eq!(cache.get(&ns, "abcd"), Some(vec![1.0]));
    }

    #[test]
    fn fingerprints_are_remembered_until_the_file_changes() {
        let dir = tempfile::tempdir().unwrap();
        let cache = EmbeddingCache::open(&dir.path().join("cache")).unwrap();
        let model = dir.path().join("model.onnx");
        fs::write(&model, b"weights").unwrap();
        let files = vec![model.clone()];
        let first = cache.fingerprint(&files).unwrap();
        assert_eq!(first, ontosweep_clip::fingerprint(&files).unwrap());
        assert_eq!(
            fs::read_dir(dir.path().join("cache/fingerprints"))
                .unwrap()
                .count(),
            1
        );
        assert_eq!(cache.fingerprint(&files).unwrap(), first);
        fs::write(&model, b"other weights").unwrap();
        let second = cache.fingerprint(&files).unwrap();
        assert_ne!(second, first);
        assert_eq!(second, ontosweep_clip::fingerprint(&files).unwrap());
    }

    #[test]
    fn namespaces_separate_models() {
        assert_ne!(namespace(&["a", "bc"]), namespace(&["ab", "c"]));
    }
}
