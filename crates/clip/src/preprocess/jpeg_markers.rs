//! Walking a JPEG's marker segments exactly as libjpeg reads them, so that what the checks
//! see before decoding is what the decoder will see: a stray byte, fill bytes or a stuffed
//! `FF 00` between segments are skipped (libjpeg's `next_marker` skips them with a warning,
//! which is silenced), and a variable-length segment declaring a length under 2 skips only
//! its length bytes (`skip_variable`).

/// The next marker at or after `at`, and where its segment starts (just after the marker).
pub(super) fn next_marker(bytes: &[u8], mut at: usize) -> Option<(u8, usize)> {
    loop {
        at += bytes.get(at..)?.iter().position(|&b| b == 0xFF)?;
        while bytes.get(at) == Some(&0xFF) {
            at += 1;
        }
        match *bytes.get(at)? {
            0x00 => at += 1, // stuffed data, not a marker
            marker => return Some((marker, at + 1)),
        }
    }
}

/// Whether a marker stands alone, with no length and no segment.
pub(super) fn stands_alone(marker: u8) -> bool {
    matches!(marker, 0x01 | 0xD0..=0xD9)
}

/// The segment's declared length (counting its two length bytes) and where it ends.
pub(super) fn segment(bytes: &[u8], start: usize) -> Option<(usize, usize)> {
    let length = bytes.get(start..start + 2)?;
    let length = usize::from(u16::from_be_bytes([length[0], length[1]]));
    Some((length, start + length.max(2)))
}

/// Where the next marker after a scan's entropy-coded data starts: in the data, 0xFF is
/// followed by 0x00 (stuffing), a restart marker or more 0xFF.
pub(super) fn end_of_entropy_data(bytes: &[u8], mut at: usize) -> usize {
    while let Some(offset) = bytes
        .get(at..)
        .and_then(|rest| rest.iter().position(|&b| b == 0xFF))
    {
        at += offset;
        match bytes.get(at + 1) {
            Some(0x00 | 0xD0..=0xD7 | 0xFF) => at += 1,
            _ => return at,
        }
    }
    bytes.len()
}
