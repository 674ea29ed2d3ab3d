//! Seeded mutations of real files (bits flipped, bytes replaced, the end cut, marker bytes
//! inserted, header sizes rewritten) that reach every decoder's header and data paths.

use image::ImageFormat;

use super::forged::{crc32, jpeg_sof, png_with_size};

/// splitmix64: deterministic and tiny.
pub struct Rng(pub u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Sizes a header may be set to: nothing, tiny, acceptable, and too large or too thin (300 ×
/// 16383 is over 50:1). Acceptable ones stay small: resizing is slow in unoptimised builds.
const SIZES: [u32; 8] = [0, 1, 300, 16_383, 65_535, 100_000, 1 << 24, u32::MAX];

/// For PNG, whose decoder stops at the end of the data, also sizes that pass every check and
/// allocate up to 300 MB before failing.
const PNG_SIZES: [u32; 3] = [3000, 10_000, 40_000];

/// Writes a random pair from [`SIZES`] (or [`PNG_SIZES`]) where the format keeps its size.
fn set_size(format: ImageFormat, bytes: &mut [u8], rng: &mut Rng) {
    let mut pick = || match format {
        ImageFormat::Png if rng.below(2) == 0 => PNG_SIZES[rng.below(PNG_SIZES.len())],
        _ => SIZES[rng.below(SIZES.len())],
    };
    let (w, h) = (pick(), pick());
    let be16 = |v: u32| (v.min(0xFFFF) as u16).to_be_bytes();
    let le16 = |v: u32| (v.min(0xFFFF) as u16).to_le_bytes();
    match format {
        ImageFormat::Png => {
            let patched = png_with_size(bytes.to_vec(), w, h);
            bytes.copy_from_slice(&patched);
        }
        ImageFormat::Jpeg => {
            let sof = jpeg_sof(bytes);
            bytes[sof + 5..sof + 7].copy_from_slice(&be16(h));
            bytes[sof + 7..sof + 9].copy_from_slice(&be16(w));
        }
        ImageFormat::WebP => {
            bytes[26..28].copy_from_slice(&((w.min(0x3FFF)) as u16).to_le_bytes());
            bytes[28..30].copy_from_slice(&((h.min(0x3FFF)) as u16).to_le_bytes());
        }
        ImageFormat::Gif => {
            let at = if rng.below(2) == 0 {
                6
            } else {
                1 + gif_descriptor(bytes) + 4
            };
            bytes[at..at + 2].copy_from_slice(&le16(w));
            bytes[at + 2..at + 4].copy_from_slice(&le16(h));
        }
        _ => unreachable!(),
    }
}

/// Offset of the first image descriptor (0x2C) after the header and palette of our own GIF.
fn gif_descriptor(gif: &[u8]) -> usize {
    let palette = if gif[10] & 0x80 != 0 {
        3 << ((gif[10] & 7) + 1)
    } else {
        0
    };
    let mut at = 13 + palette;
    while gif[at] == 0x21 {
        at += 2; // extension introducer and label, then sub-blocks
        while gif[at] != 0 {
            at += 1 + gif[at] as usize;
        }
        at += 1;
    }
    assert_eq!(gif[at], 0x2C);
    at
}

/// Rewrites every whole chunk's CRC, so that mutated PNG chunks reach the decoder's logic.
fn fix_png_crcs(png: &mut [u8]) {
    let mut at = 8;
    while at + 12 <= png.len() {
        let length = u32::from_be_bytes(png[at..at + 4].try_into().unwrap()) as usize;
        let Some(end) = (at + 8)
            .checked_add(length)
            .filter(|&end| end + 4 <= png.len())
        else {
            break;
        };
        let crc = crc32(&png[at + 4..end]);
        png[end..end + 4].copy_from_slice(&crc.to_be_bytes());
        at = end + 4;
    }
}

pub fn mutate(format: ImageFormat, seed: &[u8], rng: &mut Rng) -> Vec<u8> {
    let mut bytes = seed.to_vec();
    match rng.below(6) {
        0 => {
            for _ in 0..1 + rng.below(8) {
                let at = rng.below(bytes.len());
                bytes[at] ^= 1 << rng.below(8);
            }
        }
        1 => {
            for _ in 0..1 + rng.below(4) {
                let at = rng.below(bytes.len());
                bytes[at] = rng.next() as u8;
            }
        }
        2 => bytes.truncate(rng.below(bytes.len())),
        3 => {
            let at = rng.below(bytes.len());
            let count = 1 + rng.below(4);
            bytes.splice(at..at, std::iter::repeat_n(0xFF, count));
        }
        _ => set_size(format, &mut bytes, rng),
    }
    if format == ImageFormat::Png {
        fix_png_crcs(&mut bytes);
    }
    bytes
}
