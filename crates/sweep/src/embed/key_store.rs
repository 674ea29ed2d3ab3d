//! Every image's content key and file identity for the length of a run, on disk: a fixed
//! slot per dataset image in an unnamed temporary file, so that a million images cost no
//! memory here. Files that could not be read keep their reason in memory (few, and each is
//! listed as skipped anyway).

use std::collections::HashMap;
use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;
use std::sync::Mutex;

use super::content_key::ContentKey;
use super::images::KeyOrError;
use super::key_memo::Identity;

/// A slot: a flag byte and 32 key bytes, then a flag byte and 16 identity bytes.
const SLOT: usize = 1 + 32 + 1 + 16;

pub struct KeyStore {
    file: File,
    len: usize,
    unreadable: Mutex<HashMap<usize, String>>,
}

impl KeyStore {
    /// Room for `len` images, nothing known yet (the file reads as zeros: unknown).
    pub fn new(len: usize) -> io::Result<Self> {
        let file = tempfile::tempfile()?;
        file.set_len((len * SLOT) as u64)?;
        Ok(KeyStore {
            file,
            len,
            unreadable: Mutex::new(HashMap::new()),
        })
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    fn slots(&self, start: usize, end: usize) -> io::Result<Vec<u8>> {
        let end = end.min(self.len);
        let mut bytes = vec![0u8; end.saturating_sub(start) * SLOT];
        self.file.read_exact_at(&mut bytes, (start * SLOT) as u64)?;
        Ok(bytes)
    }

    /// What is known of images `start .. end`: a key, why the file could not be read, or
    /// nothing yet.
    pub fn keys(&self, start: usize, end: usize) -> io::Result<Vec<Option<KeyOrError>>> {
        let unreadable = self.unreadable.lock().expect("not poisoned");
        let slots = self.slots(start, end)?;
        Ok(slots
            .chunks_exact(SLOT)
            .enumerate()
            .map(|(k, slot)| match unreadable.get(&(start + k)) {
                Some(reason) => Some(Err(reason.clone())),
                None => key_in(slot).map(Ok),
            })
            .collect())
    }

    /// The keys of images `start .. end` (none where the file was not read), with one read.
    pub fn contents(&self, start: usize, end: usize) -> io::Result<Vec<Option<ContentKey>>> {
        Ok(self
            .slots(start, end)?
            .chunks_exact(SLOT)
            .map(key_in)
            .collect())
    }

    /// The (identity, key) pairs of images `start .. end` that have both.
    pub fn pairs(&self, start: usize, end: usize) -> io::Result<Vec<(Identity, ContentKey)>> {
        let slots = self.slots(start, end)?;
        Ok(slots
            .chunks_exact(SLOT)
            .filter_map(|slot| Some((identity_in(slot)?, key_in(slot)?)))
            .collect())
    }

    /// Image `i`'s key, or why its file could not be read.
    pub fn learn(&self, i: usize, key: KeyOrError) -> io::Result<()> {
        match key {
            Ok(key) => {
                let mut bytes = [0u8; 33];
                bytes[0] = 1;
                bytes[1..].copy_from_slice(key.as_bytes());
                self.file.write_all_at(&bytes, (i * SLOT) as u64)
            }
            Err(reason) => {
                let mut unreadable = self.unreadable.lock().expect("not poisoned");
                unreadable.insert(i, reason);
                Ok(())
            }
        }
    }

    /// The identity image `i`'s file had before it was read.
    pub fn identify(&self, i: usize, identity: &Identity) -> io::Result<()> {
        let mut bytes = [0u8; 17];
        bytes[0] = 1;
        bytes[1..].copy_from_slice(identity);
        self.file.write_all_at(&bytes, (i * SLOT + 33) as u64)
    }
}

fn key_in(slot: &[u8]) -> Option<ContentKey> {
    (slot[0] == 1).then(|| ContentKey::from_bytes(slot[1..33].try_into().expect("32 bytes")))
}

fn identity_in(slot: &[u8]) -> Option<Identity> {
    (slot[33] == 1).then(|| slot[34..50].try_into().expect("16 bytes"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_and_identities_read_back_where_learned() {
        let store = KeyStore::new(5).unwrap();
        let (a, b) = (ContentKey::of(b"a"), ContentKey::of(b"b"));
        store.learn(1, Ok(a)).unwrap();
        store.learn(3, Err("truncated".into())).unwrap();
        store.learn(4, Ok(b)).unwrap();
        store.identify(4, &[7; 16]).unwrap();
        store.identify(0, &[9; 16]).unwrap();
        let keys = store.keys(0, 5).unwrap();
        assert!(keys[0].is_none() && keys[2].is_none());
        assert_eq!(keys[1], Some(Ok(a)));
        assert_eq!(keys[3], Some(Err("truncated".to_string())));
        assert_eq!(store.contents(3, 5).unwrap(), [None, Some(b)]);
        // Only an image with both an identity and a key is remembered.
        assert_eq!(store.pairs(0, 5).unwrap(), [([7; 16], b)]);
        assert_eq!(store.keys(4, 9).unwrap().len(), 1);
    }
}
