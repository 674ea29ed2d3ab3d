//! A dataset's images, kept on disk: at a million samples their paths alone would be
//! hundreds of megabytes. Memory holds each image's label (4 bytes) and the offset of its
//! record; paths and members are read back when needed, a chunk at a time.

use std::ffi::OsStr;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;

use ontosweep_records::bytes::{Reader, put_bytes, put_str};
use ontosweep_records::{Record, RecordWriter, Records};

use crate::{DatasetError, DatasetImage, TarMember};

/// Where one image's bytes are and what it is called: everything but its label.
struct Location {
    path: PathBuf,
    relative: String,
    member: Option<TarMember>,
}

impl Record for Location {
    fn encode(&self, out: &mut Vec<u8>) {
        put_bytes(out, self.path.as_os_str().as_bytes());
        put_str(out, &self.relative);
        TarMember::put(out, self.member);
    }

    fn decode(bytes: &[u8]) -> Option<Self> {
        let mut r = Reader(bytes);
        let path = PathBuf::from(OsStr::from_bytes(r.bytes()?));
        let relative = r.str()?.to_string();
        let member = TarMember::take(&mut r)?;
        r.done().then_some(Location {
            path,
            relative,
            member,
        })
    }
}

/// The images of a dataset, in their fixed order (sorted by `relative`).
#[derive(Clone, Default)]
pub struct ImageList {
    locations: Records<Location>,
    labels: Vec<u32>,
}

impl std::fmt::Debug for ImageList {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ImageList({} images)", self.len())
    }
}

impl ImageList {
    /// A list of `images`, in their order.
    pub fn new(images: &[DatasetImage]) -> Result<Self, DatasetError> {
        let mut writer = ImageListWriter::default();
        for image in images {
            writer.push(image)?;
        }
        writer.finish()
    }

    pub fn len(&self) -> usize {
        self.labels.len()
    }

    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// Image `i`'s label.
    pub fn label(&self, i: usize) -> usize {
        self.labels[i] as usize
    }

    /// Every image's label, in order.
    pub fn labels(&self) -> impl ExactSizeIterator<Item = usize> + '_ {
        self.labels.iter().map(|&l| l as usize)
    }

    /// Gives every image the label `relabel` makes of its own.
    pub fn relabel(&mut self, relabel: impl Fn(usize) -> usize) {
        for label in &mut self.labels {
            *label = label_u32(relabel(*label as usize));
        }
    }

    /// Image `i`.
    pub fn get(&self, i: usize) -> io::Result<DatasetImage> {
        Ok(self.image(i, self.locations.get(i)?))
    }

    /// Images `start .. end`.
    pub fn range(&self, start: usize, end: usize) -> io::Result<Vec<DatasetImage>> {
        let locations = self.locations.range(start, end)?;
        Ok(locations
            .into_iter()
            .enumerate()
            .map(|(k, l)| self.image(start + k, l))
            .collect())
    }

    /// Every image, a chunk at a time, with the index of the chunk's first.
    pub fn chunks(&self) -> impl Iterator<Item = io::Result<(usize, Vec<DatasetImage>)>> + '_ {
        let step = ontosweep_records::CHUNK;
        (0..self.len())
            .step_by(step)
            .map(move |start| Ok((start, self.range(start, start + step)?)))
    }

    /// Every image in memory: for tests and small datasets.
    pub fn to_vec(&self) -> io::Result<Vec<DatasetImage>> {
        self.range(0, self.len())
    }

    fn image(&self, i: usize, location: Location) -> DatasetImage {
        DatasetImage {
            path: location.path,
            relative: location.relative,
            label: self.label(i),
            member: location.member,
        }
    }
}

/// Builds an [`ImageList`], one image at a time, in the list's order.
#[derive(Default)]
pub struct ImageListWriter {
    locations: RecordWriter<Location>,
    labels: Vec<u32>,
}

impl ImageListWriter {
    pub fn push(&mut self, image: &DatasetImage) -> Result<(), DatasetError> {
        let location = Location {
            path: image.path.clone(),
            relative: image.relative.clone(),
            member: image.member,
        };
        self.locations.push(&location).map_err(storage)?;
        self.labels.push(label_u32(image.label));
        Ok(())
    }

    pub fn len(&self) -> usize {
        self.labels.len()
    }

    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    pub fn finish(self) -> Result<ImageList, DatasetError> {
        Ok(ImageList {
            locations: self.locations.finish().map_err(storage)?,
            labels: self.labels,
        })
    }
}

fn label_u32(label: usize) -> u32 {
    // Labels index a list of class names held in memory: far below 2³².
    u32::try_from(label).expect("fewer than 2^32 classes")
}

/// The temporary file holding the list could not be written.
pub fn storage(e: io::Error) -> DatasetError {
    DatasetError::Unreadable(format!(
        "could not keep the list of images in a temporary file under {}: {e}; free some space or set TMPDIR to a folder with room",
        std::env::temp_dir().display()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ontosweep_results::PlanarRgb;

    #[test]
    fn images_read_back_with_their_labels_and_members() {
        let images = vec![
            DatasetImage {
                path: PathBuf::from(OsStr::from_bytes(b"/data/caf\xe9/a.jpg")),
                relative: "café/a.jpg".into(),
                label: 3,
                member: None,
            },
            DatasetImage {
                path: "/data/shard-000000.tar".into(),
                relative: "shard-000000.tar/x.png".into(),
                label: 0,
                member: Some(TarMember {
                    offset: 512,
                    size: 77,
                    pixels: None,
                }),
            },
            DatasetImage {
                path: "/data/data_batch_1".into(),
                relative: "data_batch_1/00007.png".into(),
                label: 9,
                member: Some(TarMember {
                    offset: 3072 * 7,
                    size: 3072,
                    pixels: Some(PlanarRgb {
                        width: 32,
                        height: 32,
                    }),
                }),
            },
        ];
        let mut list = ImageList::new(&images).unwrap();
        assert_eq!(list.to_vec().unwrap(), images);
        assert_eq!(list.get(2).unwrap(), images[2]);
        assert_eq!(list.labels().collect::<Vec<_>>(), [3, 0, 9]);
        list.relabel(|l| l + 1);
        assert_eq!(list.get(1).unwrap().label, 1);
        let chunks: Vec<_> = list.chunks().map(Result::unwrap).collect();
        assert_eq!(chunks.len(), 1);
        assert_eq!(chunks[0].0, 0);
    }
}
