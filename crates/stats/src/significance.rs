//! Significance: the exact McNemar test for paired outcomes, and Holm's correction for
//! testing several wordings against one baseline.

/// Exact (binomial) two-sided McNemar p-value from the discordant pair counts.
pub fn mcnemar_exact(gained: usize, lost: usize) -> f64 {
    let n = gained + lost;
    if n == 0 {
        return 1.0;
    }
    let k = gained.min(lost);
    // P(X ≤ k) for X ~ Binomial(n, 1/2), summed in log space to stay finite for large n.
    let ln_half_n = n as f64 * 0.5f64.ln();
    let mut ln_choose = 0.0f64; // ln C(n, 0)
    let mut tail = 0.0f64;
    for i in 0..=k {
        if i > 0 {
            ln_choose += ((n - i + 1) as f64).ln() - (i as f64).ln();
        }
        tail += (ln_choose + ln_half_n).exp();
    }
    (2.0 * tail).min(1.0)
}

/// Holm–Bonferroni adjusted p-values, in the order given.
pub fn holm(p_values: &[f64]) -> Vec<f64> {
    let m = p_values.len();
    let mut order: Vec<usize> = (0..m).collect();
    order.sort_by(|&a, &b| p_values[a].total_cmp(&p_values[b]).then(a.cmp(&b)));
    let mut adjusted = vec![0.0; m];
    let mut running_max = 0.0f64;
    for (rank, &i) in order.iter().enumerate() {
        running_max = running_max.max(((m - rank) as f64 * p_values[i]).min(1.0));
        adjusted[i] = running_max;
    }
    adjusted
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, tolerance: f64) -> bool {
        (a - b).abs() <= tolerance
    }

    #[test]
    fn mcnemar_for_known_discordant_counts() {
        // 1 vs 9: 2 · (1 + 10) / 2¹⁰.
        assert!(close(mcnemar_exact(1, 9), 22.0 / 1024.0, 1e-12));
        assert!(close(mcnemar_exact(9, 1), 22.0 / 1024.0, 1e-12));
        // 0 vs 5: 2 / 32.
        assert!(close(mcnemar_exact(0, 5), 0.0625, 1e-12));
        assert_eq!(mcnemar_exact(0, 0), 1.0);
        assert_eq!(mcnemar_exact(5, 5), 1.0);
        // Large counts stay finite and tiny.
        let p = mcnemar_exact(100, 400);
        assert!(p > 0.0 && p < 1e-30, "{p}");
    }

    #[test]
    fn holm_adjusts_in_order_and_keeps_monotone() {
        let adjusted = holm(&[0.01, 0.04, 0.03]);
        // Sorted 0.01, 0.03, 0.04 → 0.03, 0.06, max(0.06, 0.04) = 0.06.
        assert!(close(adjusted[0], 0.03, 1e-12));
        assert!(close(adjusted[2], 0.06, 1e-12));
        assert!(close(adjusted[1], 0.06, 1e-12));
        assert_eq!(holm(&[0.9, 0.8]), vec![1.0, 1.0]);
    }
}
