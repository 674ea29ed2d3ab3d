//! Content keys remembered per file identity, so that a sweep over unchanged files reads no
//! image bytes: every pass writes the keys it learned (a shard its own file), and the next
//! sweep takes a key from here when the file's identity (path, device, inode, size, mtime,
//! ctime; for a member of a shard or batch, also its place) is the one it was hashed under.
//! A changed file has another identity and is read and hashed again, as model files are.
//!
//! Layout: `<cache>/content-keys/<dataset>/<writer>.keys`, one line per image,
//! `<identity sha256, 32 hex> <content key, 64 hex>`; `<dataset>` hashes the dataset root and
//! `<writer>` is `sweep` or `shard-I-of-N`, so that concurrent shards never write one file.

use std::collections::HashMap;
use std::fs;
use std::io::{self, BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};

use ontosweep_dataset::ImageSource;
use rayon::prelude::*;
use sha2::{Digest, Sha256};

use super::cache::{CONTENT_KEYS, EmbeddingCache, file_identity};
use super::content_key::ContentKey;
use super::key_store::KeyStore;

/// A file's identity, hashed: 16 bytes, written as 32 hex digits.
pub type Identity = [u8; 16];

/// A memo file larger than this is not read (10 million images fit).
const MAX_MEMO_BYTES: u64 = 1 << 30;
/// Memo files read per dataset (shards write one each).
const MAX_MEMO_FILES: usize = 10_000;

/// The memos of one dataset in one cache.
pub struct KeyMemo {
    folder: PathBuf,
    writable: bool,
}

impl KeyMemo {
    pub fn new(cache: &EmbeddingCache, dataset_root: &Path) -> Self {
        let root = dataset_root
            .canonicalize()
            .unwrap_or_else(|_| dataset_root.to_path_buf());
        let name = hex::encode(&Sha256::digest(root.as_os_str().as_encoded_bytes())[..16]);
        KeyMemo {
            folder: cache.dir().join(CONTENT_KEYS).join(name),
            writable: !cache.is_read_only(),
        }
    }

    /// Each image's remembered key, when its identity is the one it was hashed under:
    /// `identities` are (image, identity) for one window of images, and each key found
    /// goes into `keys`. The memo files are read line by line, so memory holds the window.
    pub fn recall(&self, identities: &[(usize, Identity)], keys: &KeyStore) -> io::Result<()> {
        let wanted: HashMap<Identity, usize> = identities.iter().map(|&(i, id)| (id, i)).collect();
        for file in self.files() {
            let small = fs::metadata(&file).is_ok_and(|m| m.is_file() && m.len() <= MAX_MEMO_BYTES);
            let Some(reader) = small.then(|| fs::File::open(&file).ok()).flatten() else {
                continue;
            };
            // A damaged line is a miss, never a wrong key.
            for line in BufReader::new(reader).lines() {
                let Ok(line) = line else {
                    break;
                };
                let Some((identity, key)) = line.split_once(' ') else {
                    continue;
                };
                let mut id = Identity::default();
                if hex::decode_to_slice(identity, &mut id).is_ok()
                    && let Some(&image) = wanted.get(&id)
                    && let Some(key) = ContentKey::from_hex(key)
                {
                    keys.learn(image, Ok(key))?;
                }
            }
        }
        Ok(())
    }

    /// Starts `writer`'s memo; `None` when the cache is read-only or the folder cannot be
    /// made (a failure costs only the next sweep's reads, so it is not an error).
    pub fn writer(&self, writer: &str) -> Option<MemoWriter> {
        if !self.writable {
            return None;
        }
        fs::create_dir_all(&self.folder).ok()?;
        let file = tempfile::NamedTempFile::new_in(&self.folder).ok()?;
        Some(MemoWriter {
            out: BufWriter::new(file),
            path: self.folder.join(format!("{writer}.keys")),
            written: 0,
        })
    }

    /// The memo files, sorted by name.
    fn files(&self) -> Vec<PathBuf> {
        let Ok(entries) = fs::read_dir(&self.folder) else {
            return Vec::new();
        };
        let mut files: Vec<PathBuf> = entries
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "keys"))
            .take(MAX_MEMO_FILES)
            .collect();
        files.sort();
        files
    }
}

/// One writer's memo as it is written: in place of the old one once finished, never half.
pub struct MemoWriter {
    out: BufWriter<tempfile::NamedTempFile>,
    path: PathBuf,
    written: usize,
}

impl MemoWriter {
    /// Remembers (identity, key) pairs; false when the file could not take them.
    pub fn add(&mut self, pairs: &[(Identity, ContentKey)]) -> bool {
        for (identity, key) in pairs {
            let line = format!("{} {}\n", hex::encode(identity), key.hex());
            if self.out.write_all(line.as_bytes()).is_err() {
                return false;
            }
        }
        self.written += pairs.len();
        true
    }

    /// Puts the memo in place, if it holds anything.
    pub fn finish(self) {
        if self.written == 0 {
            return;
        }
        if let Ok(file) = self.out.into_inner() {
            let _ = file.persist(&self.path);
        }
    }
}

/// Each source's identity, in parallel (one `stat` each); `None` where it cannot be read.
pub fn identities(sources: &[ImageSource]) -> Vec<Option<Identity>> {
    sources.par_iter().map(identity).collect()
}

fn identity(source: &ImageSource) -> Option<Identity> {
    let file = file_identity(&source.path)?;
    let member = source.member.map_or(String::new(), |m| {
        format!(
            "{}:{}:{:?}",
            m.offset,
            m.size,
            m.pixels.map(|p| (p.width, p.height))
        )
    });
    let text = format!("{}\0{file}\0{member}", source.path.display());
    let digest = Sha256::digest(text.as_bytes());
    Some(digest[..16].try_into().expect("a sha256 has 32 bytes"))
}
