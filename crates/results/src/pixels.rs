//! Raw pixels stored plane by plane (CIFAR's batches: all red bytes, then green, then blue),
//! turned into an image file so that everything reading image bytes reads them unchanged.

use serde::{Deserialize, Serialize};

/// 8-bit R, G and B planes of `width`×`height` bytes each, rows top to bottom.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
pub struct PlanarRgb {
    pub width: u32,
    pub height: u32,
}

/// BMP's file header and BITMAPINFOHEADER.
const HEADERS: usize = 14 + 40;

impl PlanarRgb {
    /// The bytes the three planes take.
    pub fn plane_bytes(&self) -> Option<usize> {
        (self.width as usize)
            .checked_mul(self.height as usize)?
            .checked_mul(3)
    }

    /// `planes` as a 24-bit uncompressed BMP file: lossless, and decoded by every reader
    /// (the `image` crate among them). `None` when `planes` is not three planes of this size.
    pub fn to_bmp(&self, planes: &[u8]) -> Option<Vec<u8>> {
        let (width, height) = (self.width as usize, self.height as usize);
        if width == 0 || height == 0 || self.plane_bytes()? != planes.len() {
            return None;
        }
        // Each row is padded to a multiple of 4 bytes.
        let row = (3 * width).next_multiple_of(4);
        let file_size = u32::try_from(HEADERS + row.checked_mul(height)?).ok()?;
        let (w, h) = (i32::try_from(width).ok()?, i32::try_from(height).ok()?);
        let mut bmp = Vec::with_capacity(file_size as usize);
        bmp.extend_from_slice(b"BM");
        bmp.extend_from_slice(&file_size.to_le_bytes());
        bmp.extend_from_slice(&0u32.to_le_bytes());
        bmp.extend_from_slice(&(HEADERS as u32).to_le_bytes());
        bmp.extend_from_slice(&40u32.to_le_bytes());
        bmp.extend_from_slice(&w.to_le_bytes());
        // Positive height: rows stored bottom-up, as every reader expects.
        bmp.extend_from_slice(&h.to_le_bytes());
        bmp.extend_from_slice(&1u16.to_le_bytes()); // colour planes
        bmp.extend_from_slice(&24u16.to_le_bytes()); // bits per pixel
        bmp.extend_from_slice(&0u32.to_le_bytes()); // BI_RGB: no compression
        bmp.extend_from_slice(&(file_size - HEADERS as u32).to_le_bytes());
        bmp.extend_from_slice(&2835i32.to_le_bytes()); // 72 dpi, as pixels per metre
        bmp.extend_from_slice(&2835i32.to_le_bytes());
        bmp.extend_from_slice(&0u32.to_le_bytes()); // no palette
        bmp.extend_from_slice(&0u32.to_le_bytes());
        let plane = width * height;
        let (red, rest) = planes.split_at(plane);
        let (green, blue) = rest.split_at(plane);
        for y in (0..height).rev() {
            for x in y * width..(y + 1) * width {
                bmp.extend_from_slice(&[blue[x], green[x], red[x]]);
            }
            bmp.resize(bmp.len() + row - 3 * width, 0);
        }
        Some(bmp)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ByteRange;

    #[test]
    fn planes_become_a_bottom_up_bgr_bmp_with_padded_rows() {
        // 3×2: red plane 1..=6, green 11..=16, blue 21..=26.
        let planes: Vec<u8> = (1..=6).chain(11..=16).chain(21..=26).collect();
        let bmp = PlanarRgb {
            width: 3,
            height: 2,
        }
        .to_bmp(&planes)
        .unwrap();
        // Rows of 9 bytes padded to 12.
        assert_eq!(bmp.len(), 54 + 2 * 12);
        assert_eq!(&bmp[..2], b"BM");
        assert_eq!(u32::from_le_bytes(bmp[2..6].try_into().unwrap()), 78);
        // The bottom row (pixels 3, 4, 5) comes first, as B, G, R.
        assert_eq!(&bmp[54..66], &[24, 14, 4, 25, 15, 5, 26, 16, 6, 0, 0, 0]);
        assert_eq!(&bmp[66..78], &[21, 11, 1, 22, 12, 2, 23, 13, 3, 0, 0, 0]);
    }

    #[test]
    fn a_wrong_length_or_an_empty_image_is_none() {
        let square = PlanarRgb {
            width: 2,
            height: 2,
        };
        assert!(square.to_bmp(&[0; 11]).is_none());
        assert!(square.to_bmp(&[0; 13]).is_none());
        let empty = PlanarRgb {
            width: 0,
            height: 2,
        };
        assert!(empty.to_bmp(&[]).is_none());
    }

    #[test]
    fn a_byte_range_without_pixels_reads_and_writes_as_before() {
        let old = r#"{"offset":512,"size":100}"#;
        let range: ByteRange = serde_json::from_str(old).unwrap();
        assert_eq!(range.pixels, None);
        assert_eq!(serde_json::to_string(&range).unwrap(), old);
        let planar = ByteRange {
            pixels: Some(PlanarRgb {
                width: 32,
                height: 32,
            }),
            ..range
        };
        let text = serde_json::to_string(&planar).unwrap();
        assert_eq!(
            text,
            r#"{"offset":512,"size":100,"pixels":{"width":32,"height":32}}"#
        );
        assert_eq!(serde_json::from_str::<ByteRange>(&text).unwrap(), planar);
    }
}
