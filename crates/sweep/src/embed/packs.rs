//! Packed cache entries: a shard writes its image embeddings as a few large files instead of
//! one file per image, so that a million images make a handful of files per shard and model,
//! not millions. Each pack holds whole entries, byte for byte as a single-file entry
//! (checksummed), then an index and a trailer; it is written to a temporary name and renamed
//! into place, so a killed shard leaves whole packs only. A damaged entry, or a pack whose
//! index does not check out, is a miss, never a wrong embedding.
//!
//! ```text
//! "OSPK" 1u32 | entry … entry | index: (key length u16, key, offset u64, length u32) …
//! | index offset u64 | entries u64 | sha256(index) | "OSPK"
//! ```
//! Packs live in `<cache>/<namespace>/packs/<writer>-<n>.pack`.

use std::fs;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use ontosweep_fetch::write_atomically;
use sha2::{Digest, Sha256};

const MAGIC: &[u8; 4] = b"OSPK";
const VERSION: u32 = 1;
const TRAILER: usize = 8 + 8 + 32 + 4;
/// A pack is written once its entries reach this many bytes…
const PACK_BYTES: usize = 64 << 20;
/// …or this long after its first entry, so that a killed shard loses little.
const PACK_AGE: Duration = Duration::from_secs(600);
/// An index larger than this is not read.
const MAX_INDEX_BYTES: u64 = 1 << 30;
/// Packs read per namespace.
const MAX_PACKS: usize = 100_000;

/// The folder of a namespace's packs.
pub fn folder(namespace_dir: &Path) -> PathBuf {
    namespace_dir.join("packs")
}

/// Where each key's entry lies, over every pack of one namespace. Memory holds 16 bytes
/// per entry (a hash of its key and where its index record is); the key itself is read
/// back from the pack's index and compared before the entry is trusted.
#[derive(Debug, Default)]
pub struct PackIndex {
    files: Vec<PathBuf>,
    /// Per pack: where its index starts.
    index_at: Vec<u64>,
    /// (key hash, pack << 32 | record offset within the pack's index), sorted: the first
    /// pack by name, then the first record, wins for a key held twice.
    entries: Vec<(u64, u64)>,
}

impl PackIndex {
    /// The index of every whole pack in `dir` (none when there is no such folder).
    pub fn read(dir: &Path) -> Self {
        let mut index = PackIndex::default();
        let Ok(listing) = fs::read_dir(dir) else {
            return index;
        };
        let mut packs: Vec<PathBuf> = listing
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "pack"))
            .take(MAX_PACKS)
            .collect();
        packs.sort();
        // Room for every entry at once: the index is the one thing here that grows with
        // the images, so it is never grown by doubling.
        let total: u64 = packs.iter().filter_map(|p| entry_count(p)).sum();
        index
            .entries
            .reserve_exact(usize::try_from(total).unwrap_or(0));
        for pack in packs {
            let file = index.files.len() as u64;
            if let Some((index_at, records)) = read_index(&pack) {
                index.files.push(pack);
                index.index_at.push(index_at);
                index.entries.extend(
                    records
                        .into_iter()
                        .map(|(hash, at)| (hash, file << 32 | at)),
                );
            }
        }
        index.entries.sort_unstable();
        index
    }

    /// The entry's bytes, as a single-file entry holds them; `None` when absent or unreadable.
    pub fn entry_bytes(&self, key: &str, max: u64) -> Option<Vec<u8>> {
        let hash = key_hash(key);
        let first = self.entries.partition_point(|&(h, _)| h < hash);
        let candidates = self.entries[first..].iter().take_while(|(h, _)| *h == hash);
        for &(_, place) in candidates {
            let pack = (place >> 32) as usize;
            let mut handle = fs::File::open(&self.files[pack]).ok()?;
            let index_at = self.index_at[pack];
            let (found, offset, length) =
                read_record(&mut handle, index_at + (place & 0xffff_ffff))?;
            if found != key.as_bytes() {
                continue; // another key with the same hash
            }
            if u64::from(length) > max || offset + u64::from(length) > index_at {
                return None;
            }
            handle.seek(SeekFrom::Start(offset)).ok()?;
            let mut bytes = vec![0; length as usize];
            handle.read_exact(&mut bytes).ok()?;
            return Some(bytes);
        }
        None
    }

    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.entries.len()
    }
}

/// The entry count a pack's trailer gives (checked again when its index is read).
fn entry_count(pack: &Path) -> Option<u64> {
    let mut file = fs::File::open(pack).ok()?;
    let length = file.metadata().ok().filter(|m| m.is_file())?.len();
    let at = length.checked_sub(TRAILER as u64)?;
    file.seek(SeekFrom::Start(at + 8)).ok()?;
    let mut count = [0u8; 8];
    file.read_exact(&mut count).ok()?;
    Some(u64::from_le_bytes(count).min(length / 14))
}

/// What an entry is looked up by in memory: a key's hash, the same in every run.
fn key_hash(key: &str) -> u64 {
    u64::from_le_bytes(
        Sha256::digest(key.as_bytes())[..8]
            .try_into()
            .expect("32 bytes"),
    )
}

/// One index record at `at`: the key, the entry's offset and its length.
fn read_record(file: &mut fs::File, at: u64) -> Option<(Vec<u8>, u64, u32)> {
    file.seek(SeekFrom::Start(at)).ok()?;
    let mut length = [0u8; 2];
    file.read_exact(&mut length).ok()?;
    let mut rest = vec![0u8; usize::from(u16::from_le_bytes(length)) + 12];
    file.read_exact(&mut rest).ok()?;
    let (key, place) = rest.split_at(rest.len() - 12);
    let offset = u64::from_le_bytes(place[..8].try_into().ok()?);
    let size = u32::from_le_bytes(place[8..].try_into().ok()?);
    Some((key.to_vec(), offset, size))
}

/// Where the pack's index starts, and each record's key hash and offset within the index;
/// `None` for a pack that is not whole.
fn read_index(pack: &Path) -> Option<(u64, Vec<(u64, u64)>)> {
    let mut file = fs::File::open(pack).ok()?;
    let length = file.metadata().ok().filter(|m| m.is_file())?.len();
    if length < (8 + TRAILER) as u64 {
        return None;
    }
    let mut head = [0u8; 8];
    file.read_exact(&mut head).ok()?;
    if &head[..4] != MAGIC || u32::from_le_bytes(head[4..8].try_into().ok()?) != VERSION {
        return None;
    }
    file.seek(SeekFrom::Start(length - TRAILER as u64)).ok()?;
    let mut trailer = [0u8; TRAILER];
    file.read_exact(&mut trailer).ok()?;
    if &trailer[TRAILER - 4..] != MAGIC {
        return None;
    }
    let index_at = u64::from_le_bytes(trailer[..8].try_into().ok()?);
    let count = u64::from_le_bytes(trailer[8..16].try_into().ok()?);
    let index_end = length - TRAILER as u64;
    if index_at < 8 || index_at > index_end || index_end - index_at > MAX_INDEX_BYTES {
        return None;
    }
    file.seek(SeekFrom::Start(index_at)).ok()?;
    let mut index = vec![0; (index_end - index_at) as usize];
    file.read_exact(&mut index).ok()?;
    if Sha256::digest(&index).as_slice() != &trailer[16..48] {
        return None;
    }
    let mut records = Vec::new();
    let mut at = 0usize;
    while at < index.len() {
        let record = at as u64;
        let key_length = u16::from_le_bytes(index.get(at..at + 2)?.try_into().ok()?) as usize;
        at += 2;
        let key = std::str::from_utf8(index.get(at..at + key_length)?).ok()?;
        at += key_length;
        let offset = u64::from_le_bytes(index.get(at..at + 8)?.try_into().ok()?);
        let size = u32::from_le_bytes(index.get(at + 8..at + 12)?.try_into().ok()?);
        at += 12;
        if offset < 8 || offset + u64::from(size) > index_at {
            return None;
        }
        records.push((key_hash(key), record));
    }
    (records.len() as u64 == count).then_some((index_at, records))
}

/// Entries gathered for one namespace and written as packs.
pub struct PackWriter {
    dir: PathBuf,
    writer: String,
    body: Vec<u8>,
    index: Vec<u8>,
    count: u64,
    first: Option<Instant>,
}

impl PackWriter {
    pub fn new(dir: PathBuf, writer: &str) -> Self {
        PackWriter {
            dir,
            writer: writer.to_string(),
            body: MAGIC.iter().copied().chain(VERSION.to_le_bytes()).collect(),
            index: Vec::new(),
            count: 0,
            first: None,
        }
    }

    /// Adds one entry (its single-file bytes); returns how many entries were written to
    /// disk by this call (a full or old pack is written at once).
    pub fn add(&mut self, key: &str, entry: &[u8]) -> std::io::Result<u64> {
        let offset = self.body.len() as u64;
        self.body.extend_from_slice(entry);
        self.index
            .extend_from_slice(&(key.len() as u16).to_le_bytes());
        self.index.extend_from_slice(key.as_bytes());
        self.index.extend_from_slice(&offset.to_le_bytes());
        self.index
            .extend_from_slice(&(entry.len() as u32).to_le_bytes());
        self.count += 1;
        let first = *self.first.get_or_insert_with(Instant::now);
        if self.body.len() >= PACK_BYTES || first.elapsed() >= PACK_AGE {
            return self.flush();
        }
        Ok(0)
    }

    /// Writes what is gathered as one pack; returns how many entries it held.
    pub fn flush(&mut self) -> std::io::Result<u64> {
        if self.count == 0 {
            return Ok(0);
        }
        let mut bytes = std::mem::take(&mut self.body);
        let index = std::mem::take(&mut self.index);
        let index_at = bytes.len() as u64;
        bytes.extend_from_slice(&index);
        bytes.extend_from_slice(&index_at.to_le_bytes());
        bytes.extend_from_slice(&self.count.to_le_bytes());
        bytes.extend_from_slice(&Sha256::digest(&index));
        bytes.extend_from_slice(MAGIC);
        fs::create_dir_all(&self.dir)?;
        let path = self.next_path();
        write_atomically(&path, &bytes)?;
        let written = self.count;
        let (dir, writer) = (std::mem::take(&mut self.dir), self.writer.clone());
        *self = PackWriter::new(dir, &writer);
        Ok(written)
    }

    /// `<writer>-<n>.pack` with the first free `n`: a shard run again adds packs, never
    /// overwrites one.
    fn next_path(&self) -> PathBuf {
        (0..)
            .map(|n| self.dir.join(format!("{}-{n:06}.pack", self.writer)))
            .find(|p| !p.exists())
            .expect("some number is free")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packs_hold_whole_entries_and_a_damaged_one_is_a_miss() {
        let dir = tempfile::tempdir().unwrap();
        let packs = dir.path().join("packs");
        let mut writer = PackWriter::new(packs.clone(), "shard-0-of-2");
        writer.add("aa", b"entry-a").unwrap();
        writer.add("bb", b"entry-bb").unwrap();
        assert_eq!(writer.flush().unwrap(), 2);
        writer.add("cc", b"entry-ccc").unwrap();
        assert_eq!(writer.flush().unwrap(), 1);
        let index = PackIndex::read(&packs);
        assert_eq!(index.len(), 3);
        assert_eq!(index.entry_bytes("bb", 100).unwrap(), b"entry-bb");
        assert_eq!(index.entry_bytes("cc", 100).unwrap(), b"entry-ccc");
        assert!(index.entry_bytes("bb", 3).is_none(), "over the bound");
        assert!(index.entry_bytes("dd", 100).is_none());
        // A key in two packs: the first pack by name wins, as a single index would have it.
        let mut other = PackWriter::new(packs.clone(), "shard-1-of-2");
        other.add("bb", b"other-bb").unwrap();
        other.add("ee", b"entry-e").unwrap();
        other.flush().unwrap();
        let index = PackIndex::read(&packs);
        assert_eq!(index.entry_bytes("bb", 100).unwrap(), b"entry-bb");
        assert_eq!(index.entry_bytes("ee", 100).unwrap(), b"entry-e");
        fs::remove_file(packs.join("shard-1-of-2-000000.pack")).unwrap();
        // A pack cut short (no trailer) is not read at all; the other still is.
        let first = packs.join("shard-0-of-2-000000.pack");
        let bytes = fs::read(&first).unwrap();
        fs::write(&first, &bytes[..bytes.len() - 10]).unwrap();
        let index = PackIndex::read(&packs);
        assert_eq!(index.len(), 1);
        // An index that does not check out: the pack is not read.
        let second = packs.join("shard-0-of-2-000001.pack");
        let mut bytes = fs::read(&second).unwrap();
        let at = bytes.len() - TRAILER - 3;
        bytes[at] ^= 1;
        fs::write(&second, &bytes).unwrap();
        assert_eq!(PackIndex::read(&packs).len(), 0);
    }
}
