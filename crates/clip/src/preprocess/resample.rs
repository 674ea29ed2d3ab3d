//! Pillow's `ImagingResample` (`Resample.c`) for 8-bit RGB: horizontal pass first, rounded to
//! 8 bits, then vertical; the same fixed-point weights, integer sums and clamping, so the
//! bytes are Pillow's. Every path (portable or AVX2) computes the same integers.

#[cfg(target_arch = "x86_64")]
mod avx2;
mod coefficients;

use image::RgbImage;

use super::settings::Filter;
use coefficients::{Coefficients, ROUNDING, clip8};

/// `rgb` resized to `width`×`height` as Pillow's `Image.resize` does it.
pub(super) fn resample(
    rgb: &RgbImage,
    width: u32,
    height: u32,
    filter: Filter,
) -> Result<RgbImage, String> {
    resample_with(Kernels::best(), rgb, width, height, filter)
}

fn resample_with(
    kernels: Kernels,
    rgb: &RgbImage,
    width: u32,
    height: u32,
    filter: Filter,
) -> Result<RgbImage, String> {
    let (in_width, in_height) = rgb.dimensions();
    let (in_width, in_height, width, height) = (
        in_width as usize,
        in_height as usize,
        width as usize,
        height as usize,
    );
    let mut pixels = std::borrow::Cow::Borrowed(rgb.as_raw().as_slice());
    if width != in_width {
        let c = Coefficients::new(in_width, width, filter);
        pixels = std::borrow::Cow::Owned(kernels.horizontal(&pixels, in_width, &c));
    }
    if height != in_height {
        let c = Coefficients::new(in_height, height, filter);
        pixels = std::borrow::Cow::Owned(kernels.vertical(&pixels, width, &c));
    }
    RgbImage::from_raw(width as u32, height as u32, pixels.into_owned())
        .ok_or_else(|| "resize produced a wrong buffer size".into())
}

/// Which implementation of the two passes runs.
#[derive(Clone, Copy, Debug)]
enum Kernels {
    Portable,
    #[cfg(target_arch = "x86_64")]
    Avx2,
}

impl Kernels {
    fn best() -> Self {
        #[cfg(target_arch = "x86_64")]
        if std::is_x86_feature_detected!("avx2") {
            return Kernels::Avx2;
        }
        Kernels::Portable
    }

    fn horizontal(self, src: &[u8], in_width: usize, c: &Coefficients) -> Vec<u8> {
        match self {
            Kernels::Portable => horizontal_pass(src, in_width, c),
            // SAFETY: `best` chose AVX2 only where the processor has it (tests check first).
            #[cfg(target_arch = "x86_64")]
            Kernels::Avx2 => unsafe { avx2::horizontal_pass(src, in_width, c) },
        }
    }

    fn vertical(self, src: &[u8], width: usize, c: &Coefficients) -> Vec<u8> {
        match self {
            Kernels::Portable => vertical_pass(src, width, c),
            // SAFETY: as above.
            #[cfg(target_arch = "x86_64")]
            Kernels::Avx2 => unsafe { avx2::vertical_pass(src, width, c) },
        }
    }
}

/// Rows in a band of the horizontal pass. A band is laid out column by column, so one tap
/// of eight rows is 24 neighbouring values: taps gathered pixel by pixel along a row do not
/// vectorise, and this does.
const BAND_ROWS: usize = 8;
const BAND_LANES: usize = BAND_ROWS * 3;
/// Bytes per column of a band: its values and room for one 4-byte copy's spare byte.
const BAND_STRIDE: usize = 32;

/// Copies up to eight rows into `band`, column by column. Pixels move as 4-byte words
/// (much cheaper than 3-byte copies); each word's spare byte lands where the next row's
/// pixel or the column's padding is written next, so only a row's last pixel is copied
/// short.
#[inline(always)]
fn fill_band(band: &mut [u8], rows: &[u8], in_row: usize) {
    let last = in_row / 3 - 1;
    for (r, row) in rows.chunks_exact(in_row).enumerate() {
        for (x, column) in band.chunks_exact_mut(BAND_STRIDE).enumerate().take(last) {
            column[r * 3..r * 3 + 4].copy_from_slice(&row[x * 3..x * 3 + 4]);
        }
        band[last * BAND_STRIDE + r * 3..][..3].copy_from_slice(&row[last * 3..]);
    }
}

/// Writes one output column of a band (24 clamped sums) back into its rows, as 4-byte words
/// where the spare byte lands on the next pixel, written next.
#[inline(always)]
fn store_band_column(band_out: &mut [u8], out_row: usize, x: usize, values: &[u8; BAND_STRIDE]) {
    let last = x * 3 + 3 == out_row;
    for (r, row) in band_out.chunks_exact_mut(out_row).enumerate() {
        if last {
            row[x * 3..x * 3 + 3].copy_from_slice(&values[r * 3..r * 3 + 3]);
        } else {
            row[x * 3..x * 3 + 4].copy_from_slice(&values[r * 3..r * 3 + 4]);
        }
    }
}

/// The horizontal pass: each band of rows copied column by column, then each output column
/// of the band summed by `column` (the taps' 32-byte columns and their weights → 24 clamped
/// values and 8 spare bytes) and written back into the rows.
#[inline(always)]
fn horizontal_bands(
    src: &[u8],
    in_width: usize,
    c: &Coefficients,
    mut column: impl FnMut(&[u8], &[i32]) -> [u8; BAND_STRIDE],
) -> Vec<u8> {
    let (in_row, out_row) = (in_width * 3, c.len() * 3);
    let mut out = vec![0u8; src.len() / in_row * out_row];
    let mut band = vec![0u8; in_width * BAND_STRIDE];
    for (band_src, band_out) in src
        .chunks(in_row * BAND_ROWS)
        .zip(out.chunks_mut(out_row * BAND_ROWS))
    {
        fill_band(&mut band, band_src, in_row);
        for x in 0..c.len() {
            let (first, weights) = c.of(x);
            let taps = &band[first * BAND_STRIDE..(first + weights.len()) * BAND_STRIDE];
            store_band_column(band_out, out_row, x, &column(taps, weights));
        }
    }
    out
}

fn horizontal_pass(src: &[u8], in_width: usize, c: &Coefficients) -> Vec<u8> {
    horizontal_bands(src, in_width, c, |taps, weights| {
        let mut sums = [ROUNDING; BAND_STRIDE];
        for (tap, &weight) in taps.chunks_exact(BAND_STRIDE).zip(weights) {
            for (sum, &value) in sums[..BAND_LANES].iter_mut().zip(tap) {
                *sum = sum.wrapping_add(i32::from(value).wrapping_mul(weight));
            }
        }
        sums.map(clip8)
    })
}

/// Values of one strip of the vertical pass: sums kept in registers across the taps.
const STRIP: usize = 32;

/// The vertical pass: each output row the weighted sum of whole input rows, `STRIP` values
/// at a time summed by `strip` (the rows it reads, their length, where the strip starts and
/// the weights → clamped values), the remainder value by value.
#[inline(always)]
fn vertical_strips(
    src: &[u8],
    width: usize,
    c: &Coefficients,
    mut strip: impl FnMut(&[u8], usize, usize, &[i32]) -> [u8; STRIP],
) -> Vec<u8> {
    let row_len = width * 3;
    let whole = row_len / STRIP * STRIP;
    let mut out = vec![0u8; c.len() * row_len];
    for (y, out_row) in out.chunks_exact_mut(row_len).enumerate() {
        let (first, weights) = c.of(y);
        let rows = &src[first * row_len..(first + weights.len()) * row_len];
        for (i, out_strip) in out_row[..whole].chunks_exact_mut(STRIP).enumerate() {
            out_strip.copy_from_slice(&strip(rows, row_len, i * STRIP, weights));
        }
        vertical_values(src, row_len, c, y, whole, &mut out_row[whole..]);
    }
    out
}

/// Fixed-size strips, which the compiler vectorises on any processor.
fn vertical_pass(src: &[u8], width: usize, c: &Coefficients) -> Vec<u8> {
    vertical_strips(src, width, c, |rows, row_len, start, weights| {
        let mut sums = [ROUNDING; STRIP];
        for (row, &weight) in rows.chunks_exact(row_len).zip(weights) {
            let values: &[u8; STRIP] = row[start..start + STRIP].try_into().unwrap();
            for (sum, &value) in sums.iter_mut().zip(values) {
                *sum = sum.wrapping_add(i32::from(value).wrapping_mul(weight));
            }
        }
        sums.map(clip8)
    })
}

/// Output row `y`'s values from `start` on, one at a time: the remainder after the strips.
#[inline(always)]
fn vertical_values(
    src: &[u8],
    row_len: usize,
    c: &Coefficients,
    y: usize,
    start: usize,
    out: &mut [u8],
) {
    let (first, weights) = c.of(y);
    let rows = &src[first * row_len..(first + weights.len()) * row_len];
    for (offset, value) in out.iter_mut().enumerate() {
        let mut sum = ROUNDING;
        for (row, &weight) in rows.chunks_exact(row_len).zip(weights) {
            sum = sum.wrapping_add(i32::from(row[start + offset]).wrapping_mul(weight));
        }
        *value = clip8(sum);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A deterministic image whose neighbouring values differ a lot, so every weight counts.
    fn noisy(width: u32, height: u32, seed: u32) -> RgbImage {
        let mut state = seed.wrapping_mul(2_654_435_761).wrapping_add(1);
        RgbImage::from_fn(width, height, |_, _| {
            let mut next = || {
                state ^= state << 13;
                state ^= state >> 17;
                state ^= state << 5;
                (state >> 24) as u8
            };
            image::Rgb([next(), next(), next()])
        })
    }

    #[test]
    #[cfg(target_arch = "x86_64")]
    fn avx2_gives_the_portable_bytes() {
        if !std::is_x86_feature_detected!("avx2") {
            eprintln!("skipped: this processor has no AVX2");
            return;
        }
        let sizes = [
            ((1, 1), (224, 224)),
            ((17, 9), (5, 30)),
            ((500, 375), (298, 224)),
            ((333, 500), (224, 336)),
            ((43, 1000), (11, 257)),
            ((2000, 37), (224, 3)),
            ((10, 10), (10, 7)),
            ((10, 10), (7, 10)),
        ];
        for (seed, ((w, h), (nw, nh))) in sizes.into_iter().enumerate() {
            let image = noisy(w, h, seed as u32);
            for filter in [Filter::Bicubic, Filter::Bilinear] {
                let portable = resample_with(Kernels::Portable, &image, nw, nh, filter).unwrap();
                let avx2 = resample_with(Kernels::Avx2, &image, nw, nh, filter).unwrap();
                assert!(
                    portable == avx2,
                    "{w}×{h} → {nw}×{nh} with {filter:?}: the AVX2 bytes differ"
                );
            }
        }
    }

    #[test]
    fn an_unchanged_size_is_a_copy_and_one_direction_leaves_the_other_alone() {
        let image = noisy(31, 7, 3);
        assert!(resample(&image, 31, 7, Filter::Bicubic).unwrap() == image);
        let wider = resample(&image, 40, 7, Filter::Bicubic).unwrap();
        assert_eq!(wider.dimensions(), (40, 7));
        // A constant image stays constant: the weights of every output sum to one.
        let grey = RgbImage::from_pixel(13, 11, image::Rgb([77, 0, 255]));
        let resized = resample(&grey, 5, 29, Filter::Bicubic).unwrap();
        assert!(resized.pixels().all(|p| p.0 == [77, 0, 255]));
    }
}
