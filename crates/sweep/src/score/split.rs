//! Which usable images the scores cover, and which a search may learn from.

use ontosweep_search::split::{Side, is_dev, small_split_warnings};

use ontosweep_records::CHUNK;

use crate::embed::{ContentKey, Embedded, storage_error};
use crate::error::SweepError;
use crate::plan::{OntologyPlan, Plan};

pub struct Divided {
    /// Scored by every ontology, in dataset order: every usable image without a split.
    pub test: Vec<usize>,
    /// The dev images in the order a search sees them: by content, so that no name, folder
    /// or file order reaches it.
    pub dev_order: Vec<usize>,
    pub warnings: Vec<String>,
}

pub fn divide(plan: &Plan, embedded: &Embedded, usable: Vec<usize>) -> Result<Divided, SweepError> {
    let Some(spec) = plan.experiment.split else {
        return Ok(Divided {
            test: usable,
            dev_order: Vec::new(),
            warnings: Vec::new(),
        });
    };
    let storage = |e| SweepError::Clip(storage_error(e));
    let mut dev: Vec<(Option<ContentKey>, usize)> = Vec::new();
    let mut test = Vec::new();
    // `usable` is ascending: the keys are read a window at a time, not one by one.
    for window in usable.chunk_by(|a, b| b / CHUNK == a / CHUNK) {
        let start = window[0] / CHUNK * CHUNK;
        let keys = embedded
            .content_keys
            .contents(start, start + CHUNK)
            .map_err(storage)?;
        for &i in window {
            let key = keys[i - start];
            let hex = key.map(|k| k.hex()).unwrap_or_default();
            match is_dev(spec, &hex) {
                true => dev.push((key, i)),
                false => test.push(i),
            }
        }
    }
    // Keys order as their hex does; an image without one first, as the empty text did.
    dev.sort();
    let dev_order: Vec<usize> = dev.into_iter().map(|(_, i)| i).collect();
    let images = usable.len();
    let fail = |side: &str| {
        SweepError::Samples(
            plan.experiment
                .diagnostic(
                    &["split"],
                    format!("the split left no {side} images ({images} images, dev_fraction {}); use more images or move `split.dev_fraction` away from {}", spec.dev_fraction, if side == "test" { "1" } else { "0" }),
                )
                .to_string(),
        )
    };
    if test.is_empty() {
        return Err(fail("test"));
    }
    let searched = plan
        .ontologies
        .iter()
        .any(|o| matches!(o, OntologyPlan::Search(_)));
    if searched && dev_order.is_empty() {
        return Err(fail("dev"));
    }
    let label = |&i: &usize| plan.dataset.images.label(i);
    let classes = &plan.dataset.classes;
    let mut warnings = Vec::new();
    if searched {
        let dev: Vec<usize> = dev_order.iter().map(label).collect();
        warnings.extend(small_split_warnings(Side::Dev, classes, &dev));
    }
    let tested: Vec<usize> = test.iter().map(label).collect();
    warnings.extend(small_split_warnings(Side::Test, classes, &tested));
    Ok(Divided {
        test,
        dev_order,
        warnings,
    })
}
