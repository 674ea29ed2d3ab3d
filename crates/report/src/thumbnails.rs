//! Small JPEG thumbnails of the images the galleries show (never full images).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use ontosweep_results::SweepResults;
use rayon::prelude::*;

use crate::{ReportError, io_error};

/// Images shown per gallery; the page says how many more there are.
pub const GALLERY_LIMIT: usize = 40;
const THUMBNAIL_SIZE: u32 = 112;

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
            let image = image::open(&results.images[i].source).ok()?;
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
