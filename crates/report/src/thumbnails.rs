//! Small JPEG thumbnails of the images the galleries show (never full images).

use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::io::{BufRead, BufReader, Cursor, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use image::{DynamicImage, ImageDecoder, ImageReader};
use ontosweep_results::{ByteRange, ImageRecord, SweepResults};
use rayon::prelude::*;

use crate::error::{ReportError, io_error};

/// Images shown per gallery; the page says how many more there are.
pub const GALLERY_LIMIT: usize = 40;
const THUMBNAIL_SIZE: u32 = 112;
/// The largest source read for a thumbnail (the sweep reads images up to this size too).
const MAX_SOURCE_BYTES: u64 = 1 << 30;
/// Decoding limits: a hostile or broken file must not take the report down with it.
const LIMITS: DecodeLimits = DecodeLimits {
    max_side: 65_535,
    max_pixels: 100_000_000,
    max_alloc: 1 << 30,
};

/// Image index → thumbnail path relative to the report.
pub struct Thumbnails(BTreeMap<usize, String>);

impl Thumbnails {
    pub fn get(&self, image: usize) -> Option<&str> {
        self.0.get(&image).map(String::as_str)
    }

    pub fn files(&self) -> impl Iterator<Item = PathBuf> + '_ {
        self.0.values().map(PathBuf::from)
    }
}

/// Gallery contents, shared with the HTML page so both agree on what is shown.
pub struct Galleries {
    /// Per (model, ontology): misclassified images.
    pub misclassified: Vec<Vec<Gallery>>,
    /// Per (model, ontology): images right here but wrong in the baseline, and the reverse.
    pub gained: Vec<Vec<Gallery>>,
    pub lost: Vec<Vec<Gallery>>,
}

/// How many images a gallery's rule picks, and the first [`GALLERY_LIMIT`] of them (the
/// page shows no more), by image index.
#[derive(Default)]
pub struct Gallery {
    pub count: usize,
    pub first: Vec<usize>,
}

impl Gallery {
    fn add(&mut self, image: usize) {
        self.count += 1;
        if self.first.len() < GALLERY_LIMIT {
            self.first.push(image);
        }
    }
}

pub fn galleries(results: &SweepResults) -> Galleries {
    let mut g = Galleries {
        misclassified: Vec::new(),
        gained: Vec::new(),
        lost: Vec::new(),
    };
    for model in &results.models {
        let baseline = results.baseline_of(model);
        let (mut mis, mut gained, mut lost) = (Vec::new(), Vec::new(), Vec::new());
        for o in &model.ontologies {
            let against = baseline
                .filter(|b| b.ontology != o.ontology)
                .map(|b| &b.correct);
            let (mut m, mut g_, mut l) =
                (Gallery::default(), Gallery::default(), Gallery::default());
            for (i, &here) in o.correct.iter().enumerate() {
                if !here {
                    m.add(i);
                }
                match against.map(|b| (here, b[i])) {
                    Some((true, false)) => g_.add(i),
                    Some((false, true)) => l.add(i),
                    _ => {}
                }
            }
            mis.push(m);
            gained.push(g_);
            lost.push(l);
        }
        g.misclassified.push(mis);
        g.gained.push(gained);
        g.lost.push(lost);
    }
    g
}

pub fn write_all(results: &SweepResults, dir: &Path) -> Result<Thumbnails, ReportError> {
    let g = galleries(results);
    let wanted: BTreeSet<usize> = [&g.misclassified, &g.gained, &g.lost]
        .into_iter()
        .flatten()
        .flatten()
        .flat_map(|gallery| gallery.first.iter().copied())
        .collect();
    let folder = dir.join("thumbs");
    std::fs::create_dir_all(&folder).map_err(io_error(&folder))?;
    let made: Vec<(usize, String)> = wanted
        .into_par_iter()
        .filter_map(|i| {
            let name = format!("thumbs/{i}.jpg");
            let image = decode_source(&results.images.get(i).ok()?, LIMITS)?;
            image
                .thumbnail(THUMBNAIL_SIZE, THUMBNAIL_SIZE)
                .into_rgb8()
                .save(dir.join(&name))
                .ok()?;
            Some((i, name))
        })
        .collect();
    Ok(Thumbnails(made.into_iter().collect()))
}

#[derive(Clone, Copy)]
struct DecodeLimits {
    max_side: u32,
    max_pixels: u64,
    max_alloc: u64,
}

/// An image decoded within `caps` from its own file, streamed, or from its member of a tar
/// shard, read in place. Only a regular file is opened (a FIFO in a dataset must not hold the
/// report up), and no source over [`MAX_SOURCE_BYTES`] is read.
fn decode_source(image: &ImageRecord, caps: DecodeLimits) -> Option<DynamicImage> {
    let path = Path::new(&image.source);
    let file_size = std::fs::metadata(path).ok().filter(|m| m.is_file())?.len();
    match image.member {
        None if file_size <= MAX_SOURCE_BYTES => {
            decode(BufReader::new(File::open(path).ok()?), caps)
        }
        None => None,
        Some(range) => decode(Cursor::new(read_member(path, range, file_size)?), caps),
    }
}

/// A member's bytes, only when they lie within the file and within the bound: a tar
/// member's as they are, a CIFAR image's planar pixels as a BMP file.
fn read_member(path: &Path, range: ByteRange, file_size: u64) -> Option<Vec<u8>> {
    let ByteRange {
        offset,
        size,
        pixels,
    } = range;
    if size > MAX_SOURCE_BYTES || offset.checked_add(size)? > file_size {
        return None;
    }
    let mut file = File::open(path).ok()?;
    file.seek(SeekFrom::Start(offset)).ok()?;
    let mut bytes = Vec::with_capacity(size as usize);
    file.take(size).read_to_end(&mut bytes).ok()?;
    if bytes.len() as u64 != size {
        return None;
    }
    match pixels {
        None => Some(bytes),
        Some(pixels) => pixels.to_bmp(&bytes),
    }
}

/// Decodes one source image within `caps`; `None` skips it (no thumbnail).
fn decode(source: impl BufRead + Seek, caps: DecodeLimits) -> Option<DynamicImage> {
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(caps.max_side);
    limits.max_image_height = Some(caps.max_side);
    limits.max_alloc = Some(caps.max_alloc);
    let mut reader = ImageReader::new(source).with_guessed_format().ok()?;
    reader.limits(limits);
    let decoder = reader.into_decoder().ok()?;
    let (width, height) = decoder.dimensions();
    // Checked before any pixel buffer exists.
    if u64::from(width) * u64::from(height) > caps.max_pixels
        || decoder.total_bytes() > caps.max_alloc
    {
        return None;
    }
    DynamicImage::from_decoder(decoder).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SMALL: DecodeLimits = DecodeLimits {
        max_side: 1000,
        max_pixels: 1000,
        max_alloc: 1 << 20,
    };

    fn png(width: u32, height: u32) -> Vec<u8> {
        let mut bytes = Cursor::new(Vec::new());
        image::GrayImage::new(width, height)
            .write_to(&mut bytes, image::ImageFormat::Png)
            .unwrap();
        bytes.into_inner()
    }

    #[test]
    fn images_within_the_limits_decode() {
        let image = decode(Cursor::new(png(20, 30)), SMALL).unwrap();
        assert_eq!((image.width(), image.height()), (20, 30));
    }

    #[test]
    fn images_over_the_limits_are_skipped() {
        assert!(decode(Cursor::new(png(40, 30)), SMALL).is_none(), "pixels");
        assert!(decode(Cursor::new(png(1001, 1)), SMALL).is_none(), "width");
        let bytes = DecodeLimits {
            max_alloc: 500,
            ..SMALL
        };
        assert!(decode(Cursor::new(png(30, 30)), bytes).is_none(), "bytes");
    }

    #[test]
    fn a_huge_header_is_refused_before_decoding() {
        // A whole, decodable file whose header asks for more pixels than allowed; no other
        // limit applies, so only the header check can refuse it.
        let path = png(2000, 1000);
        let caps = DecodeLimits {
            max_side: u32::MAX,
            max_pixels: 1_999_999,
            max_alloc: u64::MAX,
        };
        assert!(
            decode(Cursor::new(&path), caps).is_none(),
            "refused by the pixel count alone"
        );
        let one_more = DecodeLimits {
            max_pixels: 2_000_000,
            ..caps
        };
        assert!(
            decode(Cursor::new(&path), one_more).is_some(),
            "the file itself decodes"
        );
    }

    fn record(source: &Path, member: Option<(u64, u64)>) -> ImageRecord {
        ImageRecord {
            path: "shard.tar/key.png".into(),
            source: source.display().to_string(),
            label: 0,
            member: member.map(|(offset, size)| ByteRange {
                offset,
                size,
                pixels: None,
            }),
        }
    }

    #[test]
    fn a_member_is_read_in_place_and_only_within_its_file() {
        let dir = tempfile::tempdir().unwrap();
        let image = png(20, 30);
        let shard = dir.path().join("shard.tar");
        let mut bytes = vec![7u8; 512];
        bytes.extend(&image);
        bytes.extend([0u8; 100]);
        std::fs::write(&shard, &bytes).unwrap();
        let member = ByteRange {
            offset: 512,
            size: image.len() as u64,
            pixels: None,
        };
        let size = bytes.len() as u64;
        assert_eq!(read_member(&shard, member, size), Some(image.clone()));
        let past_the_end = ByteRange {
            offset: size - 10,
            size: 20,
            pixels: None,
        };
        assert_eq!(read_member(&shard, past_the_end, size), None);
        // Whole files and members both decode; a missing source is passed over.
        let whole = dir.path().join("key.png");
        std::fs::write(&whole, &image).unwrap();
        for source in [
            record(&whole, None),
            record(&shard, Some((512, image.len() as u64))),
        ] {
            let decoded = decode_source(&source, SMALL).unwrap();
            assert_eq!((decoded.width(), decoded.height()), (20, 30));
        }
        assert!(decode_source(&record(&dir.path().join("gone"), None), SMALL).is_none());
    }

    /// A CIFAR image's planar pixels are made into a thumbnail as its BMP would be.
    #[test]
    fn planar_pixels_decode_to_the_same_colours() {
        let dir = tempfile::tempdir().unwrap();
        let batch = dir.path().join("test_batch");
        // 2×2: red plane, green plane, blue plane after 10 bytes of something else.
        let planes = [10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 110, 120];
        let mut bytes = vec![0u8; 10];
        bytes.extend(planes);
        std::fs::write(&batch, &bytes).unwrap();
        let mut source = record(&batch, Some((10, 12)));
        let pixels = ontosweep_results::PlanarRgb {
            width: 2,
            height: 2,
        };
        source.member.as_mut().unwrap().pixels = Some(pixels);
        let decoded = decode_source(&source, SMALL).unwrap().into_rgb8();
        assert_eq!(decoded.get_pixel(1, 0).0, [20, 60, 100]);
        assert_eq!(decoded.get_pixel(0, 1).0, [30, 70, 110]);
        // Planes that do not fill the image are passed over.
        source.member.as_mut().unwrap().size = 11;
        assert!(decode_source(&source, SMALL).is_none());
    }

    /// A FIFO where an image was is passed over at once, not waited on.
    #[cfg(unix)]
    #[test]
    fn a_fifo_is_not_opened() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("fifo.png");
        let made = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(made.success());
        assert!(decode_source(&record(&fifo, None), SMALL).is_none());
    }
}
