//! `.npy` files (NumPy's format, version 1.0): a float32 little-endian matrix that numpy
//! (`np.load`) and pandas read directly, streamed row by row.

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use ontosweep_results::Records;

use crate::error::{ReportError, io_error};

/// The header: magic, version 1.0, its length, and a dict padded with spaces to a multiple
/// of 64 bytes in all, ending in a newline.
fn header(rows: usize, columns: usize) -> Vec<u8> {
    let dict =
        format!("{{'descr': '<f4', 'fortran_order': False, 'shape': ({rows}, {columns}), }}");
    // magic (6) + version (2) + length (2) + dict + padding + '\n'
    let unpadded = 10 + dict.len() + 1;
    let padding = (64 - unpadded % 64) % 64;
    let length = u16::try_from(dict.len() + padding + 1).expect("a short header");
    let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
    bytes.extend(length.to_le_bytes());
    bytes.extend(dict.as_bytes());
    bytes.extend(std::iter::repeat_n(b' ', padding));
    bytes.push(b'\n');
    bytes
}

/// Writes `rows` (each `columns` long) to `dir/name`, read back a chunk at a time.
pub fn write(
    dir: &Path,
    name: &str,
    rows: &Records<Vec<f32>>,
    columns: usize,
) -> Result<PathBuf, ReportError> {
    let path = dir.join(name);
    let write = || -> std::io::Result<()> {
        let mut out = BufWriter::new(std::fs::File::create(&path)?);
        out.write_all(&header(rows.len(), columns))?;
        for row in rows.iter() {
            let row = row?;
            if row.len() != columns {
                return Err(std::io::Error::other(format!(
                    "a row of {} probabilities where there are {columns} classes",
                    row.len()
                )));
            }
            for value in row {
                out.write_all(&value.to_le_bytes())?;
            }
        }
        out.flush()
    };
    write().map_err(io_error(&path))?;
    Ok(PathBuf::from(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_is_aligned_and_describes_the_matrix() {
        for (rows, columns) in [(0, 0), (3, 5), (50_000, 1_000), (usize::MAX, usize::MAX)] {
            let h = header(rows, columns);
            assert_eq!(h.len() % 64, 0, "{rows}×{columns}: {} bytes", h.len());
            assert_eq!(&h[..8], b"\x93NUMPY\x01\x00");
            assert_eq!(usize::from(u16::from_le_bytes([h[8], h[9]])), h.len() - 10);
            let text = std::str::from_utf8(&h[10..]).unwrap();
            assert!(text.ends_with('\n'));
            assert!(
                text.contains(&format!("'shape': ({rows}, {columns})")),
                "{text}"
            );
            assert!(text.contains("'descr': '<f4'") && text.contains("'fortran_order': False"));
        }
    }

    #[test]
    fn values_follow_the_header_row_by_row() {
        let dir = tempfile::tempdir().unwrap();
        let rows = vec![vec![0.25f32, 0.75], vec![1.0, -2.5]];
        write(dir.path(), "p.npy", &Records::write_all(&rows).unwrap(), 2).unwrap();
        let bytes = std::fs::read(dir.path().join("p.npy")).unwrap();
        let data = &bytes[10 + usize::from(u16::from_le_bytes([bytes[8], bytes[9]]))..];
        let values: Vec<f32> = data
            .chunks(4)
            .map(|b| f32::from_le_bytes(b.try_into().unwrap()))
            .collect();
        assert_eq!(values, vec![0.25, 0.75, 1.0, -2.5]);
        let ragged = write(
            dir.path(),
            "r.npy",
            &Records::write_all(&[vec![1.0]]).unwrap(),
            2,
        );
        let ragged = ragged.unwrap_err();
        assert!(ragged.to_string().contains("r.npy"), "{ragged}");
    }
}
