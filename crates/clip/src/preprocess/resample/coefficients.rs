//! Pillow's resampling weights (`precompute_coeffs` in `Resample.c`): computed in f64,
//! normalised, then rounded to 22-bit fixed point exactly as Pillow rounds them.

use crate::preprocess::Filter;

/// Half of one in fixed point: sums start here so that the shift rounds.
pub(super) const ROUNDING: i32 = 1 << (PRECISION_BITS - 1);

pub(super) fn clip8(sum: i32) -> u8 {
    (sum >> PRECISION_BITS).clamp(0, 255) as u8
}

/// Pillow's fixed-point precision for 8-bit images: 32 − 8 − 2.
pub(super) const PRECISION_BITS: u32 = 22;

/// Per output position: the first input it reads and its integer weights.
pub(super) struct Coefficients {
    ksize: usize,
    bounds: Vec<(usize, usize)>,
    weights: Vec<i32>,
}

impl Coefficients {
    pub(super) fn new(in_size: usize, out_size: usize, filter: Filter) -> Self {
        let (kernel, support): (fn(f64) -> f64, f64) = match filter {
            Filter::Bicubic => (bicubic, 2.0),
            Filter::Bilinear => (bilinear, 1.0),
        };
        let scale = in_size as f64 / out_size as f64;
        let filterscale = scale.max(1.0);
        let support = support * filterscale;
        let ksize = support.ceil() as usize * 2 + 1;
        let mut bounds = Vec::with_capacity(out_size);
        let mut weights = vec![0i32; out_size * ksize];
        let mut k = vec![0f64; ksize];
        for xx in 0..out_size {
            let center = (xx as f64 + 0.5) * scale;
            // C casts truncate toward zero.
            let xmin = ((center - support + 0.5) as i64).max(0) as usize;
            let xmax = ((center + support + 0.5) as i64).min(in_size as i64) as usize;
            let count = xmax.saturating_sub(xmin);
            let mut total = 0.0;
            for (x, w) in k.iter_mut().enumerate().take(count) {
                // Pillow multiplies by 1/filterscale, which can differ from dividing in the
                // last bit.
                *w = kernel(((x + xmin) as f64 - center + 0.5) * (1.0 / filterscale));
                total += *w;
            }
            for (x, w) in k.iter().enumerate().take(count) {
                let normalised = if total != 0.0 { w / total } else { *w };
                let fixed = normalised * f64::from(1u32 << PRECISION_BITS);
                weights[xx * ksize + x] = if normalised < 0.0 {
                    (fixed - 0.5) as i32
                } else {
                    (fixed + 0.5) as i32
                };
            }
            bounds.push((xmin, count));
        }
        Coefficients {
            ksize,
            bounds,
            weights,
        }
    }

    /// How many output positions there are.
    pub(super) fn len(&self) -> usize {
        self.bounds.len()
    }

    /// The first input position the output at `at` reads, and the weights from there on.
    pub(super) fn of(&self, at: usize) -> (usize, &[i32]) {
        let (first, count) = self.bounds[at];
        (
            first,
            &self.weights[at * self.ksize..at * self.ksize + count],
        )
    }
}

fn bicubic(x: f64) -> f64 {
    const A: f64 = -0.5;
    let x = x.abs();
    if x < 1.0 {
        ((A + 2.0) * x - (A + 3.0)) * x * x + 1.0
    } else if x < 2.0 {
        (((x - 5.0) * x + 8.0) * x - 4.0) * A
    } else {
        0.0
    }
}

fn bilinear(x: f64) -> f64 {
    let x = x.abs();
    if x < 1.0 { 1.0 - x } else { 0.0 }
}
