//! Intervals: Wilson's for a proportion, and a paired bootstrap for a difference of two.
//! Deterministic by construction: the bootstrap draws from a fixed-seed generator per
//! resample, whatever the thread count.

use rayon::prelude::*;

/// z for a two-sided 95% interval.
const Z95: f64 = 1.959_963_984_540_054;

/// Wilson score 95% interval for `successes` out of `n`.
pub fn wilson_interval(successes: usize, n: usize) -> (f64, f64) {
    if n == 0 {
        return (0.0, 1.0);
    }
    let n_f = n as f64;
    let p = successes as f64 / n_f;
    let z2 = Z95 * Z95;
    let denominator = 1.0 + z2 / n_f;
    let centre = (p + z2 / (2.0 * n_f)) / denominator;
    let half = Z95 / denominator * (p * (1.0 - p) / n_f + z2 / (4.0 * n_f * n_f)).sqrt();
    ((centre - half).max(0.0), (centre + half).min(1.0))
}

/// Resamples used for bootstrap intervals, and their seed; both recorded in `run.json`.
pub const BOOTSTRAP_RESAMPLES: usize = 10_000;
pub const BOOTSTRAP_SEED: u64 = 0x0_5EED_C11F;

/// Paired bootstrap 95% percentile interval of mean(`right_a` − `right_b`): images are
/// resampled with replacement, keeping each image's pair together.
pub fn paired_bootstrap_interval(
    right_a: &[bool],
    right_b: &[bool],
    resamples: usize,
    seed: u64,
) -> (f64, f64) {
    assert_eq!(right_a.len(), right_b.len());
    let n = right_a.len();
    if n == 0 || resamples == 0 {
        return (0.0, 0.0);
    }
    let diffs: Vec<i32> = right_a
        .iter()
        .zip(right_b)
        .map(|(&a, &b)| i32::from(a) - i32::from(b))
        .collect();
    let mut deltas: Vec<f64> = (0..resamples)
        .into_par_iter()
        .map(|r| {
            let mut rng = SplitMix64::stream(seed, r as u64);
            let sum: i64 = (0..n).map(|_| i64::from(diffs[rng.below(n)])).sum();
            sum as f64 / n as f64
        })
        .collect();
    deltas.sort_by(f64::total_cmp);
    (percentile(&deltas, 0.025), percentile(&deltas, 0.975))
}

/// Linear-interpolated percentile of sorted values (numpy's default).
fn percentile(sorted: &[f64], q: f64) -> f64 {
    let position = q * (sorted.len() - 1) as f64;
    let (low, high) = (position.floor() as usize, position.ceil() as usize);
    sorted[low] + (sorted[high] - sorted[low]) * (position - low as f64)
}

/// A small, well-known generator (Steele et al.): enough for resampling, and
/// reproducible everywhere without a dependency.
struct SplitMix64(u64);

const GOLDEN_GAMMA: u64 = 0x9E37_79B9_7F4A_7C15;

/// SplitMix64's output function: a bijection that scatters nearby inputs far apart.
fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl SplitMix64 {
    /// Stream `index` of `seed`. The starting state is hashed from both: a state of
    /// `seed ^ index·γ` (γ being the step) made stream r the stream 0 shifted by r steps
    /// for seed 0, and nearly so for other small seeds.
    fn stream(seed: u64, index: u64) -> Self {
        Self(mix64(mix64(seed) ^ mix64(index.wrapping_add(GOLDEN_GAMMA))))
    }

    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(GOLDEN_GAMMA);
        mix64(self.0)
    }

    /// Uniform in `0..n` (Lemire's multiply-shift; bias below 2⁻⁵⁰ for our n).
    fn below(&mut self, n: usize) -> usize {
        ((u128::from(self.next_u64()) * n as u128) >> 64) as usize
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, tolerance: f64) -> bool {
        (a - b).abs() <= tolerance
    }

    #[test]
    fn wilson_for_8_of_10() {
        // Hand computation: centre 0.71674, half-width 0.22658.
        let (low, high) = wilson_interval(8, 10);
        assert!(close(low, 0.490_16, 1e-4), "{low}");
        assert!(close(high, 0.943_32, 1e-4), "{high}");
    }

    #[test]
    fn wilson_edges_stay_in_range() {
        let (low, high) = wilson_interval(0, 5);
        assert_eq!(low, 0.0);
        assert!(high > 0.4 && high < 0.5, "{high}"); // 0.4345
        let (low, high) = wilson_interval(5, 5);
        assert!(close(high, 1.0, 1e-12) && low > 0.5 && low < 0.6, "{low}");
    }

    #[test]
    fn resample_streams_are_not_shifted_copies_of_each_other() {
        for seed in [0, 1, 7, BOOTSTRAP_SEED] {
            let draws = |r: u64| -> Vec<u64> {
                let mut rng = SplitMix64::stream(seed, r);
                (0..64).map(|_| rng.next_u64()).collect()
            };
            let first = draws(0);
            for r in 1..50u64 {
                let other = draws(r);
                // No stream may share a run of outputs with stream 0 at any offset.
                let shared = other.iter().filter(|v| first.contains(v)).count();
                assert_eq!(shared, 0, "seed {seed}: stream {r} overlaps stream 0");
            }
        }
    }

    #[test]
    fn bootstrap_is_reproducible_and_brackets_the_difference() {
        let a: Vec<bool> = (0..200).map(|i| i % 4 != 0).collect(); // 75%
        let b: Vec<bool> = (0..200).map(|i| i % 2 == 0).collect(); // 50%
        let first = paired_bootstrap_interval(&a, &b, 2_000, 7);
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .unwrap();
        let single_thread = pool.install(|| paired_bootstrap_interval(&a, &b, 2_000, 7));
        assert_eq!(first, single_thread);
        assert!(first.0 < 0.25 && 0.25 < first.1, "{first:?}");
        assert!(first.0 > 0.1 && first.1 < 0.4, "{first:?}");
        assert_eq!(paired_bootstrap_interval(&a, &a, 100, 1), (0.0, 0.0));
    }
}
