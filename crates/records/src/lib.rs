//! Per-image records kept on disk for the length of a run: a dataset's listing, each
//! (model, ontology)'s scores. At a million images these would be gigabytes in memory; here
//! they live in an unnamed temporary file (the system removes it however the run ends) and
//! memory holds one offset per [`BLOCK`] records, or nothing for records of a fixed size.
//!
//! A table is written once, in order, by a [`RecordWriter`], then read by any number of
//! readers: [`Records`] is a cheap, shareable handle. What is read is exactly what was
//! written; a record that does not decode is a bug, reported as an I/O error.

use std::fs::File;
use std::io;
use std::marker::PhantomData;
use std::os::unix::fs::FileExt;
use std::sync::Arc;

/// A value that can be kept as bytes.
pub trait Record: Sized {
    /// Bytes per record when every record has the same size: then no offsets are held.
    const SIZE: Option<usize> = None;

    fn encode(&self, out: &mut Vec<u8>);

    /// The record from exactly the bytes `encode` wrote; `None` if they are not one.
    fn decode(bytes: &[u8]) -> Option<Self>;
}

/// A row of values (an image's probability for every class): its f32s, little-endian.
impl Record for Vec<f32> {
    fn encode(&self, out: &mut Vec<u8>) {
        for value in self {
            out.extend_from_slice(&value.to_le_bytes());
        }
    }

    fn decode(bytes: &[u8]) -> Option<Self> {
        bytes.len().is_multiple_of(4).then(|| {
            bytes
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes(b.try_into().expect("4 bytes")))
                .collect()
        })
    }
}

/// Bytes gathered before one write to the file.
const BUFFER: usize = 1 << 20;

/// Records read back per read from the file by [`Records::chunks`].
pub const CHUNK: usize = 4096;

/// Records of varying size between two offsets held in memory; each is stored after its
/// length, so a read starts at its block and steps over the records before it.
pub const BLOCK: usize = 64;

/// Appends records, in order, to a new table.
pub struct RecordWriter<T> {
    file: Option<File>,
    written: u64,
    buffer: Vec<u8>,
    /// Where every [`BLOCK`]th record starts, for records of varying size.
    blocks: Vec<u64>,
    len: usize,
    _record: PhantomData<T>,
}

impl<T: Record> Default for RecordWriter<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: Record> RecordWriter<T> {
    /// No file is made until the buffer first fills: a small table never touches the disk
    /// before [`RecordWriter::finish`].
    pub fn new() -> Self {
        RecordWriter {
            file: None,
            written: 0,
            buffer: Vec::new(),
            blocks: Vec::new(),
            len: 0,
            _record: PhantomData,
        }
    }

    pub fn push(&mut self, record: &T) -> io::Result<()> {
        let before = self.buffer.len();
        if T::SIZE.is_none() {
            if self.len.is_multiple_of(BLOCK) {
                self.blocks.push(self.written + before as u64);
            }
            self.buffer.extend_from_slice(&[0; 4]);
        }
        record.encode(&mut self.buffer);
        let size = self.buffer.len() - before;
        match T::SIZE {
            Some(fixed) if fixed != size => {
                self.buffer.truncate(before);
                return Err(bug(&format!(
                    "a record of {size} bytes where every record has {fixed}"
                )));
            }
            Some(_) => {}
            None => {
                let Ok(length) = u32::try_from(size - 4) else {
                    self.buffer.truncate(before);
                    return Err(bug("a record over 4 GiB"));
                };
                self.buffer[before..before + 4].copy_from_slice(&length.to_le_bytes());
            }
        }
        self.len += 1;
        if self.buffer.len() >= BUFFER {
            self.flush()?;
        }
        Ok(())
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    fn flush(&mut self) -> io::Result<()> {
        if self.buffer.is_empty() {
            return Ok(());
        }
        if self.file.is_none() {
            self.file = Some(tempfile::tempfile()?);
        }
        let file = self.file.as_ref().expect("created above");
        file.write_all_at(&self.buffer, self.written)?;
        self.written += self.buffer.len() as u64;
        self.buffer.clear();
        Ok(())
    }

    /// The table, readable from here on.
    pub fn finish(mut self) -> io::Result<Records<T>> {
        self.flush()?;
        self.blocks.shrink_to_fit();
        Ok(Records {
            table: Arc::new(Table {
                file: self.file,
                blocks: self.blocks,
                bytes: self.written,
                len: self.len,
            }),
            _record: PhantomData,
        })
    }
}

struct Table {
    file: Option<File>,
    /// Where every [`BLOCK`]th record starts, for records of varying size.
    blocks: Vec<u64>,
    bytes: u64,
    len: usize,
}

/// A finished table: cloning shares the file.
pub struct Records<T> {
    table: Arc<Table>,
    _record: PhantomData<T>,
}

impl<T> Clone for Records<T> {
    fn clone(&self) -> Self {
        Records {
            table: Arc::clone(&self.table),
            _record: PhantomData,
        }
    }
}

impl<T: Record> Default for Records<T> {
    fn default() -> Self {
        RecordWriter::new()
            .finish()
            .expect("an empty table needs no file")
    }
}

impl<T: Record> Records<T> {
    /// A table of `records`, in their order.
    pub fn write_all<'a>(records: impl IntoIterator<Item = &'a T>) -> io::Result<Self>
    where
        T: 'a,
    {
        let mut writer = RecordWriter::new();
        for record in records {
            writer.push(record)?;
        }
        writer.finish()
    }

    pub fn len(&self) -> usize {
        self.table.len
    }

    pub fn is_empty(&self) -> bool {
        self.table.len == 0
    }

    /// Records `start .. end`, with one read.
    pub fn range(&self, start: usize, end: usize) -> io::Result<Vec<T>> {
        let end = end.min(self.len());
        if start >= end {
            return Ok(Vec::new());
        }
        let file = self.table.file.as_ref().ok_or_else(|| bug("no file"))?;
        let Some(size) = T::SIZE else {
            return self.varying(file, start, end);
        };
        let mut bytes = vec![0u8; (end - start) * size];
        file.read_exact_at(&mut bytes, (start * size) as u64)?;
        bytes
            .chunks_exact(size)
            .map(|record| T::decode(record).ok_or_else(|| bug("a record that does not decode")))
            .collect()
    }

    /// Records of varying size: from the block holding `start` to the block after `end`.
    fn varying(&self, file: &File, start: usize, end: usize) -> io::Result<Vec<T>> {
        let blocks = &self.table.blocks;
        let from = blocks[start / BLOCK];
        let to = blocks
            .get((end - 1) / BLOCK + 1)
            .copied()
            .unwrap_or(self.table.bytes);
        let mut bytes = vec![0u8; (to - from) as usize];
        file.read_exact_at(&mut bytes, from)?;
        let mut at = 0usize;
        let mut records = Vec::with_capacity(end - start);
        for i in (start / BLOCK) * BLOCK..end {
            let length = bytes
                .get(at..at + 4)
                .map(|b| u32::from_le_bytes(b.try_into().expect("4 bytes")) as usize)
                .ok_or_else(|| bug("a record past the end"))?;
            let record = bytes
                .get(at + 4..at + 4 + length)
                .ok_or_else(|| bug("a record past the end"))?;
            if i >= start {
                records
                    .push(T::decode(record).ok_or_else(|| bug("a record that does not decode"))?);
            }
            at += 4 + length;
        }
        Ok(records)
    }

    /// Record `i`.
    pub fn get(&self, i: usize) -> io::Result<T> {
        if i >= self.len() {
            return Err(bug(&format!(
                "record {i} asked of a table of {}",
                self.len()
            )));
        }
        Ok(self.range(i, i + 1)?.remove(0))
    }

    /// Every record, [`CHUNK`] at a time, in order.
    pub fn chunks(&self) -> impl Iterator<Item = io::Result<Vec<T>>> + '_ {
        (0..self.len())
            .step_by(CHUNK)
            .map(move |start| self.range(start, start + CHUNK))
    }

    /// Every record, one at a time, in order (read [`CHUNK`] at a time).
    pub fn iter(&self) -> impl Iterator<Item = io::Result<T>> + '_ {
        self.chunks().flat_map(|chunk| match chunk {
            Ok(records) => records.into_iter().map(Ok).collect::<Vec<_>>(),
            Err(e) => vec![Err(e)],
        })
    }

    /// Every record in memory: for tests and small tables.
    pub fn to_vec(&self) -> io::Result<Vec<T>> {
        self.range(0, self.len())
    }
}

impl<T: Record + PartialEq> PartialEq for Records<T> {
    /// Same records in the same order (read back; for tests).
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len()
            && self
                .iter()
                .zip(other.iter())
                .all(|(a, b)| matches!((a, b), (Ok(a), Ok(b)) if a == b))
    }
}

/// Written as the list of its records (read back in order).
impl<T: Record + serde::Serialize> serde::Serialize for Records<T> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::{Error, SerializeSeq};
        let mut seq = serializer.serialize_seq(Some(self.len()))?;
        for record in self.iter() {
            seq.serialize_element(&record.map_err(S::Error::custom)?)?;
        }
        seq.end()
    }
}

impl<'de, T: Record + serde::Deserialize<'de>> serde::Deserialize<'de> for Records<T> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let records = Vec::<T>::deserialize(deserializer)?;
        Records::write_all(&records).map_err(D::Error::custom)
    }
}

impl<T> std::fmt::Debug for Records<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Records({} on disk)", self.table.len)
    }
}

fn bug(what: &str) -> io::Error {
    io::Error::other(format!(
        "{what} in a temporary table; this is a bug in ontosweep, please report it"
    ))
}

/// Helpers for writing and reading the parts of a record.
pub mod bytes {
    pub fn put_str(out: &mut Vec<u8>, s: &str) {
        put_u64(out, s.len() as u64);
        out.extend_from_slice(s.as_bytes());
    }

    pub fn put_bytes(out: &mut Vec<u8>, b: &[u8]) {
        put_u64(out, b.len() as u64);
        out.extend_from_slice(b);
    }

    pub fn put_u64(out: &mut Vec<u8>, v: u64) {
        out.extend_from_slice(&v.to_le_bytes());
    }

    pub fn put_u32(out: &mut Vec<u8>, v: u32) {
        out.extend_from_slice(&v.to_le_bytes());
    }

    /// Reads the parts back, front to back.
    pub struct Reader<'a>(pub &'a [u8]);

    impl<'a> Reader<'a> {
        pub fn take(&mut self, n: usize) -> Option<&'a [u8]> {
            if self.0.len() < n {
                return None;
            }
            let (head, rest) = self.0.split_at(n);
            self.0 = rest;
            Some(head)
        }

        pub fn u64(&mut self) -> Option<u64> {
            Some(u64::from_le_bytes(self.take(8)?.try_into().ok()?))
        }

        pub fn u32(&mut self) -> Option<u32> {
            Some(u32::from_le_bytes(self.take(4)?.try_into().ok()?))
        }

        pub fn u8(&mut self) -> Option<u8> {
            Some(self.take(1)?[0])
        }

        pub fn f32(&mut self) -> Option<f32> {
            Some(f32::from_le_bytes(self.take(4)?.try_into().ok()?))
        }

        pub fn bytes(&mut self) -> Option<&'a [u8]> {
            let n = usize::try_from(self.u64()?).ok()?;
            self.take(n)
        }

        pub fn str(&mut self) -> Option<&'a str> {
            std::str::from_utf8(self.bytes()?).ok()
        }

        /// Whether every byte was read: a record is exactly its bytes.
        pub fn done(&self) -> bool {
            self.0.is_empty()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::bytes::{Reader, put_str, put_u32};
    use super::*;

    #[derive(Debug, Clone, PartialEq)]
    struct Named(String, u32);

    impl Record for Named {
        fn encode(&self, out: &mut Vec<u8>) {
            put_str(out, &self.0);
            put_u32(out, self.1);
        }
        fn decode(bytes: &[u8]) -> Option<Self> {
            let mut r = Reader(bytes);
            let named = Named(r.str()?.to_string(), r.u32()?);
            r.done().then_some(named)
        }
    }

    #[derive(Debug, PartialEq)]
    struct Fixed(u32);

    impl Record for Fixed {
        const SIZE: Option<usize> = Some(4);
        fn encode(&self, out: &mut Vec<u8>) {
            put_u32(out, self.0);
        }
        fn decode(bytes: &[u8]) -> Option<Self> {
            Some(Fixed(Reader(bytes).u32()?))
        }
    }

    #[test]
    fn records_read_back_as_written_across_buffers_and_chunks() {
        // Long enough to flush the buffer several times and span several chunks.
        let records: Vec<Named> = (0..3 * CHUNK + 5)
            .map(|i| {
                Named(
                    format!("shard-{i:06}.tar/é{}", "x".repeat(i % 700)),
                    i as u32,
                )
            })
            .collect();
        let table = Records::write_all(&records).unwrap();
        assert_eq!(table.len(), records.len());
        assert_eq!(table.to_vec().unwrap(), records);
        assert_eq!(table.get(CHUNK + 1).unwrap(), records[CHUNK + 1]);
        // Ranges that start and end inside blocks, and across them.
        for (start, end) in [(63, 130), (64, 128), (1, 2), (BLOCK * 5 + 7, BLOCK * 9)] {
            assert_eq!(table.range(start, end).unwrap(), records[start..end]);
        }
        let chunks: Vec<Vec<Named>> = table.chunks().map(Result::unwrap).collect();
        assert_eq!(chunks.len(), 4);
        assert_eq!(chunks.concat(), records);
        assert!(table.get(records.len()).is_err());
    }

    #[test]
    fn fixed_size_records_hold_no_offsets_and_refuse_another_size() {
        let table = Records::write_all(&[Fixed(1), Fixed(u32::MAX)]).unwrap();
        assert!(table.table.blocks.is_empty());
        assert_eq!(table.to_vec().unwrap(), [Fixed(1), Fixed(u32::MAX)]);

        struct Liar;
        impl Record for Liar {
            const SIZE: Option<usize> = Some(3);
            fn encode(&self, out: &mut Vec<u8>) {
                out.push(0);
            }
            fn decode(_: &[u8]) -> Option<Self> {
                Some(Liar)
            }
        }
        assert!(RecordWriter::new().push(&Liar).is_err());
    }

    #[test]
    fn an_empty_table_reads_as_empty() {
        let table: Records<Fixed> = Records::default();
        assert!(table.is_empty());
        assert_eq!(table.range(0, 10).unwrap(), []);
        assert_eq!(table.chunks().count(), 0);
    }
}
