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
use std::path::{Path, PathBuf};

use ontosweep_dataset::ImageSource;
use ontosweep_fetch::write_atomically;
use rayon::prelude::*;
use sha2::{Digest, Sha256};

use super::cache::{CONTENT_KEYS, EmbeddingCache, file_identity};
use super::content_key::ContentKey;

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

    /// Each source's remembered key, when its identity is the one it was hashed under.
    pub fn recall(&self, identities: &[Option<Identity>]) -> Vec<Option<ContentKey>> {
        let known = self.read_all();
        identities
            .iter()
            .map(|id| id.as_ref().and_then(|id| known.get(id).copied()))
            .collect()
    }

    /// Writes `writer`'s memo: every (identity, key) this pass knows. A failure costs only
    /// the next sweep's reads, so it is not an error.
    pub fn remember(&self, writer: &str, pairs: &[(Identity, ContentKey)]) {
        if !self.writable || pairs.is_empty() {
            return;
        }
        let mut text = String::with_capacity(pairs.len() * 98);
        for (identity, key) in pairs {
            text.push_str(&hex::encode(identity));
            text.push(' ');
            text.push_str(&key.hex());
            text.push('\n');
        }
        let path = self.folder.join(format!("{writer}.keys"));
        let _ =
            fs::create_dir_all(&self.folder).and_then(|_| write_atomically(&path, text.as_bytes()));
    }

    fn read_all(&self) -> HashMap<Identity, ContentKey> {
        let mut known = HashMap::new();
        let Ok(entries) = fs::read_dir(&self.folder) else {
            return known;
        };
        let mut files: Vec<PathBuf> = entries
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "keys"))
            .take(MAX_MEMO_FILES)
            .collect();
        files.sort();
        for file in files {
            let small = fs::metadata(&file).is_ok_and(|m| m.is_file() && m.len() <= MAX_MEMO_BYTES);
            let Some(text) = small.then(|| fs::read_to_string(&file).ok()).flatten() else {
                continue;
            };
            // A damaged line is a miss, never a wrong key.
            for line in text.lines() {
                let Some((identity, key)) = line.split_once(' ') else {
                    continue;
                };
                let mut id = Identity::default();
                if hex::decode_to_slice(identity, &mut id).is_ok()
                    && let Some(key) = ContentKey::from_hex(key)
                {
                    known.insert(id, key);
                }
            }
        }
        known
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
