//! p-values written for people.

/// A p-value for people: three decimals, or scientific notation when tiny.
pub fn format_p(p: f64) -> String {
    if p < 0.001 {
        format!("{p:.1e}")
    } else {
        format!("{p:.3}")
    }
}
