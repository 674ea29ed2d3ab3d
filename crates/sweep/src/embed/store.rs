//! One model's image embeddings for the length of a run, kept on disk rather than in memory:
//! an unnamed temporary file (the system removes it however the run ends) with a fixed-size
//! slot per dataset image. The embed stage writes each embedding once as it arrives; the
//! score stage reads them back a chunk at a time, so memory does not grow with the images.
//! The bytes are the embedding's own f32 values: what is read is exactly what was written.

use std::fs::File;
use std::os::unix::fs::FileExt;

use ontosweep_clip::Embedding;

pub struct ImageEmbeddings {
    /// Created at the first embedding.
    file: Option<File>,
    /// Values per embedding: the first embedding's length.
    dim: Option<usize>,
    /// Per dataset image: whether its slot holds an embedding.
    present: Vec<bool>,
    /// Two lengths seen, if embeddings disagreed (a model that should not be scored).
    ragged: Option<(usize, usize)>,
}

impl ImageEmbeddings {
    /// Room for `images` embeddings, none held yet.
    pub fn new(images: usize) -> Self {
        ImageEmbeddings {
            file: None,
            dim: None,
            present: vec![false; images],
            ragged: None,
        }
    }

    /// Keeps image `index`'s embedding.
    pub fn put(&mut self, index: usize, embedding: &[f32]) -> std::io::Result<()> {
        let dim = *self.dim.get_or_insert(embedding.len());
        if embedding.len() != dim {
            self.ragged.get_or_insert((dim, embedding.len()));
            return Ok(());
        }
        if self.file.is_none() {
            self.file = Some(tempfile::tempfile()?);
        }
        let bytes: Vec<u8> = embedding.iter().flat_map(|v| v.to_le_bytes()).collect();
        let file = self.file.as_ref().expect("created above");
        file.write_all_at(&bytes, slot(index, dim))?;
        self.present[index] = true;
        Ok(())
    }

    /// Forgets image `index` (it failed for another model).
    pub fn remove(&mut self, index: usize) {
        self.present[index] = false;
    }

    /// The length of every embedding held, once one is.
    pub fn dim(&self) -> Option<usize> {
        self.dim
    }

    /// Two different lengths, if the model gave embeddings of both.
    pub fn ragged(&self) -> Option<(usize, usize)> {
        self.ragged
    }

    /// The embeddings of `indices`, in their order; every one must be held.
    pub fn read(&self, indices: &[usize]) -> std::io::Result<Vec<Embedding>> {
        let (Some(file), Some(dim)) = (&self.file, self.dim) else {
            return match indices.first() {
                None => Ok(Vec::new()),
                Some(i) => Err(not_held(*i)),
            };
        };
        let mut bytes = vec![0u8; dim * 4];
        indices
            .iter()
            .map(|&i| {
                if !self.present[i] {
                    return Err(not_held(i));
                }
                file.read_exact_at(&mut bytes, slot(i, dim))?;
                Ok(bytes
                    .chunks_exact(4)
                    .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                    .collect())
            })
            .collect()
    }
}

fn slot(index: usize, dim: usize) -> u64 {
    (index * dim * 4) as u64
}

fn not_held(index: usize) -> std::io::Error {
    std::io::Error::other(format!(
        "image {index} has no embedding held; this is a bug in ontosweep, please report it"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embeddings_read_back_exactly_and_only_where_held() {
        let mut store = ImageEmbeddings::new(4);
        store.put(2, &[0.25, -1.5, f32::MIN_POSITIVE]).unwrap();
        store.put(0, &[1.0, 2.0, 3.0]).unwrap();
        assert_eq!(
            store.read(&[2, 0]).unwrap(),
            vec![vec![0.25, -1.5, f32::MIN_POSITIVE], vec![1.0, 2.0, 3.0]]
        );
        assert!(store.read(&[1]).is_err());
        store.remove(0);
        assert!(store.read(&[0]).is_err());
        store.put(3, &[1.0]).unwrap();
        assert_eq!(store.ragged(), Some((3, 1)));
        assert!(store.read(&[3]).is_err());
    }
}
