//! The on-disk embedding cache: content-addressed files, each written to a temporary name
//! and renamed into place, each carrying a checksum of its values. A killed sweep leaves
//! only whole entries behind; two sweeps writing the same entry write the same bytes.

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use sha2::{Digest, Sha256};

use ontosweep_fetch::write_atomically;

use super::packs::{self, PackIndex, PackWriter};

/// Entries before provenance was kept: read, never written.
const MAGIC: &[u8; 4] = b"OSE1";
/// Entries that say what computed them (execution provider, ONNX Runtime version).
const MAGIC_V2: &[u8; 4] = b"OSE2";
/// The longest provenance kept.
const MAX_ORIGIN_BYTES: usize = 200;

#[derive(Debug, Clone)]
pub struct EmbeddingCache {
    dir: PathBuf,
    /// Opened only to look: writes nothing.
    read_only: bool,
    /// Each namespace's packs, indexed at their first use.
    packs: Arc<Mutex<HashMap<String, Arc<PackIndex>>>>,
}

/// A folder without the cache's tag that holds anything but cache entries is someone else's.
fn refuse_foreign(dir: &Path) -> std::io::Result<()> {
    let foreign: Vec<String> = fs::read_dir(dir)?
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| !is_cache_entry_name(n))
        .take(3)
        .collect();
    if foreign.is_empty() {
        return Ok(());
    }
    Err(std::io::Error::other(format!(
        "the folder holds files that are not an ontosweep cache ({}); use an empty or new folder",
        foreign.join(", ")
    )))
}

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

/// The folder of remembered content keys (`key_memo`).
pub(crate) const CONTENT_KEYS: &str = "content-keys";

/// Marks the cache folder as ontosweep's (and as a cache, for backup tools).
const CACHE_TAG: &str = "CACHEDIR.TAG";
const CACHE_TAG_TEXT: &str = "Signature: 8a477f597d28d172789f06886806bc55\n# This folder holds ontosweep's embedding cache; it can be deleted and is rebuilt on demand.\n";
/// The largest entry read: a header, 65,536 values and a checksum. A longer file (or a
/// link to a device) is not an entry.
const MAX_ENTRY_BYTES: u64 = 10 + MAX_ORIGIN_BYTES as u64 + 4 * 65_536 + 32;

impl EmbeddingCache {
    /// Opens (creating) the cache in `dir`. A folder that holds anything else is refused:
    /// the cache writes there, and must never mix its files with someone else's.
    pub fn open(dir: &Path) -> std::io::Result<Self> {
        fs::create_dir_all(dir)?;
        let tag = dir.join(CACHE_TAG);
        if !tag.is_file() {
            refuse_foreign(dir)?;
            write_atomically(&tag, CACHE_TAG_TEXT.as_bytes())?;
        }
        Ok(Self {
            dir: dir.to_path_buf(),
            read_only: false,
            packs: Arc::default(),
        })
    }

    /// The cache in `dir` as it is, to look at only (`sweep --dry-run`): `None` when there is
    /// none yet. Nothing is created or written, not even a remembered file hash.
    pub fn open_to_look(dir: &Path) -> std::io::Result<Option<Self>> {
        if !dir.is_dir() {
            return Ok(None);
        }
        if !dir.join(CACHE_TAG).is_file() {
            refuse_foreign(dir)?;
        }
        Ok(Some(Self {
            dir: dir.to_path_buf(),
            read_only: true,
            packs: Arc::default(),
        }))
    }

    /// Whether a whole entry for `key` is there.
    pub fn holds(&self, namespace: &str, key: &str) -> bool {
        self.get_with_origin(namespace, key).is_some()
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
        self.get_with_origin(namespace, key)
            .map(|(embedding, _)| embedding)
    }

    /// As [`EmbeddingCache::get`], with what computed the entry (`None` for older entries).
    pub fn get_with_origin(
        &self,
        namespace: &str,
        key: &str,
    ) -> Option<(Vec<f32>, Option<String>)> {
        self.file_entry(namespace, key).or_else(|| {
            let bytes = self
                .pack_index(namespace)
                .entry_bytes(key, MAX_ENTRY_BYTES)?;
            from_entry_bytes(&bytes)
        })
    }

    fn file_entry(&self, namespace: &str, key: &str) -> Option<(Vec<f32>, Option<String>)> {
        let path = self.entry(namespace, key);
        let meta = fs::symlink_metadata(&path).ok()?;
        if !meta.is_file() || meta.len() > MAX_ENTRY_BYTES {
            return None;
        }
        let mut bytes = Vec::with_capacity(meta.len() as usize);
        fs::File::open(&path)
            .ok()?
            .take(MAX_ENTRY_BYTES + 1)
            .read_to_end(&mut bytes)
            .ok()?;
        from_entry_bytes(&bytes)
    }

    /// The namespace's packs, indexed once per cache handle.
    fn pack_index(&self, namespace: &str) -> Arc<PackIndex> {
        let mut packs = self.packs.lock().unwrap_or_else(|e| e.into_inner());
        packs
            .entry(namespace.to_string())
            .or_insert_with(|| Arc::new(PackIndex::read(&packs::folder(&self.dir.join(namespace)))))
            .clone()
    }

    /// A writer of packs for the namespace (a shard's embeddings), named `writer`.
    pub fn pack_writer(&self, namespace: &str, writer: &str) -> Option<PackWriter> {
        (!self.read_only).then(|| PackWriter::new(packs::folder(&self.dir.join(namespace)), writer))
    }

    /// sha256 of `files`, remembered by their paths and identities (see `file_identity`) so that large model
    /// files are read once, not on every sweep.
    pub fn fingerprint(&self, files: &[PathBuf]) -> Result<String, ontosweep_clip::Error> {
        let mut identity = Sha256::new();
        for file in files {
            let known = file_identity(file).unwrap_or_else(|| "unreadable".into());
            identity.update(format!("{}\0{known}\0", file.display()));
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
        if self.read_only {
            return Ok(digest);
        }
        let _ = fs::create_dir_all(self.dir.join("fingerprints"))
            .and_then(|_| write_atomically(&memo, digest.as_bytes()));
        Ok(digest)
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Opened only to look (`sweep --dry-run`).
    pub fn is_read_only(&self) -> bool {
        self.read_only
    }

    pub fn put(&self, namespace: &str, key: &str, embedding: &[f32]) -> std::io::Result<()> {
        self.put_with_origin(namespace, key, embedding, "")
    }

    /// Stores an embedding with what computed it (e.g. `cpu, ONNX Runtime 1.31.1`), so a
    /// later run can say where its cached embeddings came from.
    pub fn put_with_origin(
        &self,
        namespace: &str,
        key: &str,
        embedding: &[f32],
        origin: &str,
    ) -> std::io::Result<()> {
        if self.read_only {
            return Err(std::io::Error::other("the cache was opened to look only"));
        }
        let path = self.entry(namespace, key);
        fs::create_dir_all(path.parent().expect("entries live in a folder"))?;
        write_atomically(&path, &to_entry_bytes(embedding, origin))?;
        Ok(())
    }
}

/// What changes whenever a file's content may have: size, modification time, and the inode
/// and its change time, which no user can set (`cp -p` or `touch -d` restore the mtime, not
/// the ctime).
pub(crate) fn file_identity(file: &Path) -> Option<String> {
    use std::os::unix::fs::MetadataExt;
    match fs::metadata(file) {
        Ok(m) => Some(format!(
            "{}:{}:{}:{}.{}:{}.{}",
            m.dev(),
            m.ino(),
            m.len(),
            m.mtime(),
            m.mtime_nsec(),
            m.ctime(),
            m.ctime_nsec()
        )),
        Err(_) => None,
    }
}

/// Namespaces are 32 hex digits; fingerprints have their own folder.
fn is_cache_entry_name(name: &str) -> bool {
    name == "fingerprints"
        || name == CONTENT_KEYS
        || name == CACHE_TAG
        || name.starts_with('.')
        || (name.len() == 32 && name.bytes().all(|b| b.is_ascii_hexdigit()))
}

pub(crate) fn to_entry_bytes(embedding: &[f32], origin: &str) -> Vec<u8> {
    let mut cut = origin.len().min(MAX_ORIGIN_BYTES);
    while !origin.is_char_boundary(cut) {
        cut -= 1;
    }
    let origin = &origin.as_bytes()[..cut];
    let mut out = Vec::with_capacity(10 + origin.len() + embedding.len() * 4 + 32);
    out.extend_from_slice(MAGIC_V2);
    out.extend_from_slice(&(embedding.len() as u32).to_le_bytes());
    out.extend_from_slice(&(origin.len() as u16).to_le_bytes());
    out.extend_from_slice(origin);
    for value in embedding {
        out.extend_from_slice(&value.to_le_bytes());
    }
    let checksum = Sha256::digest(&out[4..]);
    out.extend_from_slice(&checksum);
    out
}

fn from_entry_bytes(bytes: &[u8]) -> Option<(Vec<f32>, Option<String>)> {
    if bytes.len() < 8 + 32 {
        return None;
    }
    let dim = u32::from_le_bytes(bytes[4..8].try_into().ok()?) as usize;
    let (values_at, origin, checked_from) = match &bytes[..4] {
        m if m == MAGIC => (8, None, 8),
        m if m == MAGIC_V2 => {
            let length = u16::from_le_bytes(bytes.get(8..10)?.try_into().ok()?) as usize;
            if length > MAX_ORIGIN_BYTES {
                return None;
            }
            let origin = std::str::from_utf8(bytes.get(10..10 + length)?).ok()?;
            (10 + length, Some(origin.to_string()), 4)
        }
        _ => return None,
    };
    let data_end = values_at + dim.checked_mul(4)?;
    if bytes.len() != data_end + 32
        || Sha256::digest(&bytes[checked_from..data_end]).as_slice() != &bytes[data_end..]
    {
        return None;
    }
    let values = bytes[values_at..data_end]
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
        .collect();
    Some((values, origin.filter(|o| !o.is_empty())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_keep_what_computed_them_and_old_entries_still_read() {
        let dir = tempfile::tempdir().unwrap();
        let cache = EmbeddingCache::open(dir.path()).unwrap();
        let ns = namespace(&["m"]);
        cache
            .put_with_origin(&ns, "abcd", &[0.5, 1.0], "cpu, ONNX Runtime 1.31.1")
            .unwrap();
        assert_eq!(
            cache.get_with_origin(&ns, "abcd"),
            Some((vec![0.5, 1.0], Some("cpu, ONNX Runtime 1.31.1".into())))
        );
        // An entry written before provenance was kept: read, origin unknown.
        let mut old = MAGIC.to_vec();
        old.extend_from_slice(&1u32.to_le_bytes());
        old.extend_from_slice(&2.0f32.to_le_bytes());
        let checksum = Sha256::digest(&old[8..]);
        old.extend_from_slice(&checksum);
        fs::write(cache.entry(&ns, "ef01"), &old).unwrap_or_else(|_| {
            fs::create_dir_all(cache.entry(&ns, "ef01").parent().unwrap()).unwrap();
            fs::write(cache.entry(&ns, "ef01"), &old).unwrap();
        });
        assert_eq!(cache.get_with_origin(&ns, "ef01"), Some((vec![2.0], None)));
        // A provenance that lies about its length is no entry.
        let mut bad = to_entry_bytes(&[1.0], "cpu");
        bad[8] = 250;
        fs::write(cache.entry(&ns, "abcd"), &bad).unwrap();
        assert_eq!(cache.get(&ns, "abcd"), None);
    }

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
    fn a_same_size_copy_with_the_old_mtime_is_noticed() {
        use std::os::unix::fs::MetadataExt;
        let dir = tempfile::tempdir().unwrap();
        let cache = EmbeddingCache::open(&dir.path().join("cache")).unwrap();
        let model = dir.path().join("model.onnx");
        fs::write(&model, b"weights-a").unwrap();
        let files = vec![model.clone()];
        let first = cache.fingerprint(&files).unwrap();
        let before = fs::metadata(&model).unwrap();
        let mtime = before.modified().unwrap();
        let ctime = |m: &fs::Metadata| (m.ctime(), m.ctime_nsec());
        // The change time ticks as coarsely as the filesystem keeps it: rewrite until it has
        // moved, whatever its resolution (each rewrite leaves the same bytes and mtime).
        loop {
            fs::write(&model, b"weights-b").unwrap(); // same size, as `cp -p` leaves it
            fs::File::options()
                .write(true)
                .open(&model)
                .unwrap()
                .set_modified(mtime)
                .unwrap();
            if ctime(&fs::metadata(&model).unwrap()) != ctime(&before) {
                break;
            }
            std::thread::yield_now();
        }
        let after = fs::metadata(&model).unwrap();
        assert_eq!(after.modified().unwrap(), mtime);
        assert_eq!((after.len(), after.ino()), (before.len(), before.ino()));
        let second = cache.fingerprint(&files).unwrap();
        assert_ne!(second, first);
        assert_eq!(second, ontosweep_clip::fingerprint(&files).unwrap());
    }

    #[test]
    fn a_folder_of_other_files_is_not_taken_as_a_cache() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("thesis.tex"), "mine").unwrap();
        let err = EmbeddingCache::open(dir.path()).unwrap_err().to_string();
        assert!(err.contains("thesis.tex"), "{err}");
        assert_eq!(
            fs::read_dir(dir.path()).unwrap().count(),
            1,
            "nothing written"
        );
        // An existing cache from before the tag existed is still accepted, and tagged.
        let old = dir.path().join("old");
        fs::create_dir_all(old.join("fingerprints")).unwrap();
        fs::create_dir_all(old.join(namespace(&["m"]))).unwrap();
        EmbeddingCache::open(&old).unwrap();
        assert!(old.join(CACHE_TAG).is_file());
    }

    #[test]
    fn an_entry_that_is_a_link_or_oversized_is_a_miss() {
        let dir = tempfile::tempdir().unwrap();
        let cache = EmbeddingCache::open(dir.path()).unwrap();
        let ns = namespace(&["m"]);
        cache.put(&ns, "abcd", &[1.0]).unwrap();
        let path = cache.entry(&ns, "abcd");
        fs::remove_file(&path).unwrap();
        std::os::unix::fs::symlink("/dev/zero", &path).unwrap();
        assert_eq!(cache.get(&ns, "abcd"), None);
        fs::remove_file(&path).unwrap();
        fs::write(&path, vec![0u8; MAX_ENTRY_BYTES as usize + 1]).unwrap();
        assert_eq!(cache.get(&ns, "abcd"), None);
    }

    #[test]
    fn namespaces_separate_models() {
        assert_ne!(namespace(&["a", "bc"]), namespace(&["ab", "c"]));
    }
}
