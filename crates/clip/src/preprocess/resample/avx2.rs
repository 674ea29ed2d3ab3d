//! The two passes with AVX2: eight 32-bit sums per instruction, the same wrapping integer
//! arithmetic as the portable passes (`mullo` keeps the low 32 bits, as `wrapping_mul` does),
//! and Pillow's clamp done by saturating packs.

use std::arch::x86_64::*;

use super::coefficients::{Coefficients, PRECISION_BITS, ROUNDING};
use super::{BAND_STRIDE, STRIP, horizontal_bands, vertical_strips};

// One 256-bit store writes a strip, or a band column with its padding.
const _: () = assert!(STRIP == 32 && BAND_STRIDE == STRIP);

#[target_feature(enable = "avx2")]
pub(super) fn horizontal_pass(src: &[u8], in_width: usize, c: &Coefficients) -> Vec<u8> {
    // The closure inherits AVX2 from this function, so the kernel inlines into the loop.
    horizontal_bands(src, in_width, c, |taps, weights| band_column(taps, weights))
}

/// One output column of a band: three vectors of eight sums over the taps.
#[target_feature(enable = "avx2")]
#[inline]
fn band_column(taps: &[u8], weights: &[i32]) -> [u8; BAND_STRIDE] {
    let mut sums = [_mm256_set1_epi32(ROUNDING); 3];
    for (tap, &weight) in taps.chunks_exact(BAND_STRIDE).zip(weights) {
        let weight = _mm256_set1_epi32(weight);
        for (sum, eight) in sums.iter_mut().zip(tap.chunks_exact(8)) {
            *sum = _mm256_add_epi32(*sum, _mm256_mullo_epi32(widen(eight), weight));
        }
    }
    let [a, b, d] = sums;
    let mut values = [0u8; BAND_STRIDE];
    store(
        &mut values,
        clamp_to_bytes([a, b, d, _mm256_setzero_si256()]),
    );
    values
}

#[target_feature(enable = "avx2")]
pub(super) fn vertical_pass(src: &[u8], width: usize, c: &Coefficients) -> Vec<u8> {
    vertical_strips(src, width, c, |rows, row_len, start, weights| {
        strip(rows, row_len, start, weights)
    })
}

/// One strip of an output row: four vectors of eight sums over the input rows.
#[target_feature(enable = "avx2")]
#[inline]
fn strip(rows: &[u8], row_len: usize, start: usize, weights: &[i32]) -> [u8; STRIP] {
    let mut sums = [_mm256_set1_epi32(ROUNDING); 4];
    for (row, &weight) in rows.chunks_exact(row_len).zip(weights) {
        let weight = _mm256_set1_epi32(weight);
        for (sum, eight) in sums
            .iter_mut()
            .zip(row[start..start + STRIP].chunks_exact(8))
        {
            *sum = _mm256_add_epi32(*sum, _mm256_mullo_epi32(widen(eight), weight));
        }
    }
    let mut values = [0u8; STRIP];
    store(&mut values, clamp_to_bytes(sums));
    values
}

/// Eight bytes as eight 32-bit lanes.
#[target_feature(enable = "avx2")]
#[inline]
fn widen(eight: &[u8]) -> __m256i {
    let eight: &[u8; 8] = eight.try_into().expect("eight bytes");
    // SAFETY: reads exactly the eight bytes borrowed.
    _mm256_cvtepu8_epi32(unsafe { _mm_loadl_epi64(eight.as_ptr().cast()) })
}

/// 32 sums shifted out of fixed point and clamped to 0..=255, in order.
#[target_feature(enable = "avx2")]
#[inline]
fn clamp_to_bytes([a, b, c, d]: [__m256i; 4]) -> __m256i {
    const SHIFT: i32 = PRECISION_BITS as i32;
    let (a, b) = (_mm256_srai_epi32::<SHIFT>(a), _mm256_srai_epi32::<SHIFT>(b));
    let (c, d) = (_mm256_srai_epi32::<SHIFT>(c), _mm256_srai_epi32::<SHIFT>(d));
    // The packs saturate exactly as `clamp(0, 255)` (shifted sums are far inside i16) but
    // interleave 128-bit halves, which the permutation puts back in order.
    let bytes = _mm256_packus_epi16(_mm256_packs_epi32(a, b), _mm256_packs_epi32(c, d));
    _mm256_permutevar8x32_epi32(bytes, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7))
}

#[target_feature(enable = "avx2")]
#[inline]
fn store(out: &mut [u8], bytes: __m256i) {
    let out: &mut [u8; STRIP] = out.try_into().expect("a whole strip");
    // SAFETY: writes exactly the 32 bytes borrowed.
    unsafe { _mm256_storeu_si256(out.as_mut_ptr().cast(), bytes) }
}
