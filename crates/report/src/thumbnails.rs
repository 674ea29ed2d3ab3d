//! Small JPEG thumbnails of the images the galleries show (never full images).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use image::{DynamicImage, ImageDecoder, ImageReader};
use ontosweep_results::SweepResults;
use rayon::prelude::*;

use crate::{ReportError, io_error};

/// Images shown per gallery; the page says how many more there are.
pub const GALLERY_LIMIT: usize = 40;
const THUMBNAIL_SIZE: u32 = 112;
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
    /// Per (model, ontology): misclassified image indices.
    pub misclassified: Vec<Vec<Vec<usize>>>,
    /// Per (model, ontology): images right here but wrong in the baseline, and the reverse.
    pub gained: Vec<Vec<Vec<usize>>>,
    pub lost: Vec<Vec<Vec<usize>>>,
}

pub fn galleries(results: &SweepResults) -> Galleries {
    let mut g = Galleries {
        misclassified: Vec::new(),
        gained: Vec::new(),
        lost: Vec::new(),
    };
    for model in &results.models {
        let baseline = results.baseline_of(model);
        let right = |preds: &[usize], i: usize| preds[i] == results.images[i].label;
        let (mut mis, mut gained, mut lost) = (Vec::new(), Vec::new(), Vec::new());
        for o in &model.ontologies {
            let n = results.images.len();
            mis.push((0..n).filter(|&i| !right(&o.predictions, i)).collect());
            match baseline.filter(|b| b.ontology != o.ontology) {
                Some(b) => {
                    gained.push(
                        (0..n)
                            .filter(|&i| right(&o.predictions, i) && !right(&b.predictions, i))
                            .collect(),
                    );
                    lost.push(
                        (0..n)
                            .filter(|&i| !right(&o.predictions, i) && right(&b.predictions, i))
                            .collect(),
                    );
                }
                None => {
                    gained.push(Vec::new());
                    lost.push(Vec::new());
                }
            }
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
        .flat_map(|list| list.iter().take(GALLERY_LIMIT).copied())
        .collect();
    let folder = dir.join("thumbs");
    std::fs::create_dir_all(&folder).map_err(io_error(&folder))?;
    let made: Vec<(usize, String)> = wanted
        .into_par_iter()
        .filter_map(|i| {
            let name = format!("thumbs/{i}.jpg");
            let image = decode(Path::new(&results.images[i].source), LIMITS)?;
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

/// Decodes one source image within `caps`; `None` skips it (no thumbnail).
fn decode(path: &Path, caps: DecodeLimits) -> Option<DynamicImage> {
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(caps.max_side);
    limits.max_image_height = Some(caps.max_side);
    limits.max_alloc = Some(caps.max_alloc);
    let mut reader = ImageReader::open(path).ok()?.with_guessed_format().ok()?;
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

    fn png(dir: &Path, width: u32, height: u32) -> PathBuf {
        let path = dir.join(format!("{width}x{height}.png"));
        image::GrayImage::new(width, height).save(&path).unwrap();
        path
    }

    #[test]
    fn images_within_the_limits_decode() {
        let dir = tempfile::tempdir().unwrap();
        let image = decode(&png(dir.path(), 20, 30), SMALL).unwrap();
        assert_eq!((image.width(), image.height()), (20, 30));
    }

    #[test]
    fn images_over_the_limits_are_skipped() {
        let dir = tempfile::tempdir().unwrap();
        assert!(decode(&png(dir.path(), 40, 30), SMALL).is_none(), "pixels");
        assert!(decode(&png(dir.path(), 1001, 1), SMALL).is_none(), "width");
        let bytes = DecodeLimits {
            max_alloc: 500,
            ..SMALL
        };
        assert!(decode(&png(dir.path(), 30, 30), bytes).is_none(), "bytes");
    }

    #[test]
    fn a_huge_header_is_refused_before_decoding() {
        // A whole, decodable file whose header asks for more pixels than allowed; no other
        // limit applies, so only the header check can refuse it.
        let dir = tempfile::tempdir().unwrap();
        let path = png(dir.path(), 2000, 1000);
        let caps = DecodeLimits {
            max_side: u32::MAX,
            max_pixels: 1_999_999,
            max_alloc: u64::MAX,
        };
        assert!(
            decode(&path, caps).is_none(),
            "refused by the pixel count alone"
        );
        let one_more = DecodeLimits {
            max_pixels: 2_000_000,
            ..caps
        };
        assert!(decode(&path, one_more).is_some(), "the file itself decodes");
    }
}
