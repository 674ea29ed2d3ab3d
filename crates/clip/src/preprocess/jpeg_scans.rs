//! How much work a JPEG's scans ask of the decoder. A progressive file passes over every
//! block once per scan, and a scan can be a dozen bytes (one run of empty blocks), so a
//! small file can ask for hours: the scans are counted from the markers, and the work they
//! ask for bounded, before anything is decoded.

use super::jpeg_markers::{end_of_entropy_data, next_marker, segment, stands_alone};
use super::limits::{MAX_JPEG_SCAN_PIXELS, MAX_JPEG_SCANS};

/// Why decoding this file's scans would take too long, if so.
pub(super) fn check_scans(bytes: &[u8], width: u32, height: u32) -> Result<(), String> {
    let scans = scan_count(bytes);
    let work = scans as u64 * u64::from(width) * u64::from(height);
    if scans > MAX_JPEG_SCANS || work > MAX_JPEG_SCAN_PIXELS {
        return Err(format!(
            "{scans} scans over {width}×{height} pixels: decoding would pass over {work} \
             pixels, over the limits of {MAX_JPEG_SCANS} scans and {MAX_JPEG_SCAN_PIXELS} \
             pixels (a progressive photo has about 10 scans; re-encode the file, e.g. as baseline)"
        ));
    }
    Ok(())
}

/// Start-of-scan markers, found by walking the segments as libjpeg does and skipping each
/// scan's entropy-coded data. A thumbnail inside an APP segment is skipped with its segment.
fn scan_count(bytes: &[u8]) -> usize {
    let mut scans = 0;
    let mut at = 2; // after the start-of-image marker
    while let Some((marker, start)) = next_marker(bytes, at) {
        if marker == 0xD9 {
            break; // end of image
        }
        if stands_alone(marker) {
            at = start;
            continue;
        }
        let Some((_, end)) = segment(bytes, start) else {
            break;
        };
        at = end;
        if marker == 0xDA {
            scans += 1;
            at = end_of_entropy_data(bytes, at);
        }
    }
    scans
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn golden(name: &str) -> Vec<u8> {
        std::fs::read(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/jpeg")
                .join(name),
        )
        .unwrap()
    }

    /// The file with its last scan repeated `extra` more times: a valid-looking file that
    /// asks the decoder for many passes.
    fn with_repeated_last_scan(bytes: &[u8], extra: usize) -> Vec<u8> {
        let last_scan = (0..bytes.len() - 1)
            .rev()
            .find(|&i| bytes[i] == 0xFF && bytes[i + 1] == 0xDA)
            .unwrap();
        let end = bytes.len() - 2; // before the end-of-image marker
        let mut out = bytes[..end].to_vec();
        for _ in 0..extra {
            out.extend_from_slice(&bytes[last_scan..end]);
        }
        out.extend_from_slice(&bytes[end..]);
        out
    }

    #[test]
    fn scans_are_counted_from_the_markers() {
        assert_eq!(scan_count(&golden("pillow_444_baseline.jpg")), 1);
        // libjpeg's default progression for three components.
        assert_eq!(scan_count(&golden("pillow_420_progressive.jpg")), 10);
        assert_eq!(scan_count(&golden("pillow_grey_progressive.jpg")), 6);
        // Restart markers inside the data are not scans.
        assert_eq!(scan_count(&golden("cjpeg_restart.jpg")), 1);
        // An EXIF segment is skipped whole.
        assert_eq!(scan_count(&golden("pillow_exif_orientation.jpg")), 1);
        let many = with_repeated_last_scan(&golden("pillow_420_progressive.jpg"), 5);
        assert_eq!(scan_count(&many), 15);
    }

    /// Bytes libjpeg skips between segments (a stray byte, a stuffed `FF 00`, a length under
    /// 2) cannot hide scans from the count: libjpeg would decode every one of them.
    #[test]
    fn bytes_libjpeg_skips_hide_no_scans() {
        let many = with_repeated_last_scan(&golden("pillow_420_progressive.jpg"), 5);
        let app0_end = 4 + usize::from(u16::from_be_bytes([many[4], many[5]]));
        for junk in [
            &[0x00][..],
            &[0xFF, 0x00, 0x40, 0x00],
            &[0xFF, 0xE1, 0x00, 0x00],
        ] {
            let mut hidden = many[..app0_end].to_vec();
            hidden.extend_from_slice(junk);
            hidden.extend_from_slice(&many[app0_end..]);
            assert_eq!(scan_count(&hidden), 15, "after {junk:02x?}");
        }
    }

    #[test]
    fn many_scans_or_many_passes_over_many_pixels_are_refused() {
        let progressive = golden("pillow_420_progressive.jpg");
        assert_eq!(check_scans(&progressive, 61, 37), Ok(()));
        let too_many = with_repeated_last_scan(&progressive, MAX_JPEG_SCANS);
        let err = check_scans(&too_many, 61, 37).unwrap_err();
        assert!(
            err.contains(&format!("{} scans", MAX_JPEG_SCANS + 10)),
            "{err}"
        );
        // 10 scans over 100 megapixels pass; 200 scans over them do not.
        assert_eq!(check_scans(&progressive, 10_000, 10_000), Ok(()));
        let passes = with_repeated_last_scan(&progressive, 190);
        let err = check_scans(&passes, 10_000, 10_000).unwrap_err();
        assert!(err.contains("200 scans over 10000×10000"), "{err}");
    }

    #[test]
    fn decoding_refuses_too_many_scans_before_any_pixel() {
        let path = Path::new("many-scans.jpg");
        let progressive = golden("pillow_420_progressive.jpg");
        assert!(crate::preprocess::decode_rgb8(&progressive, path).is_ok());
        let too_many = with_repeated_last_scan(&progressive, MAX_JPEG_SCANS);
        let err = crate::preprocess::decode_rgb8(&too_many, path).unwrap_err();
        assert!(err.to_string().contains("1010 scans over 61×37"), "{err}");
    }
}
