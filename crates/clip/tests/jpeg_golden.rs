//! JPEG pixels are Pillow's, byte for byte: every kind of JPEG in `tests/jpeg` (baseline and
//! progressive, 4:4:4 to 4:1:1, grey, Adobe CMYK and YCCK, restart markers, arithmetic coding, odd
//! sizes, an EXIF orientation that is not applied) decodes to exactly the pixels Pillow's
//! `Image.open(…).convert("RGB")` gave, stored beside each file as a PNG (`make.py` made
//! them; `VERSIONS.txt` says with what).

use std::path::{Path, PathBuf};

use ontosweep_clip::preprocess::decode_rgb8;

fn golden_files() -> Vec<PathBuf> {
    let folder = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/jpeg");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&folder)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "jpg"))
        .collect();
    files.sort();
    files
}

#[test]
fn every_golden_jpeg_decodes_to_pillows_pixels() {
    let files = golden_files();
    assert_eq!(files.len(), 20, "the golden set is not whole: {files:?}");
    let mut differing = Vec::new();
    for jpeg in &files {
        let ours = decode_rgb8(&std::fs::read(jpeg).unwrap(), jpeg).unwrap();
        let pillow = image::open(jpeg.with_extension("png")).unwrap().into_rgb8();
        assert_eq!(ours.dimensions(), pillow.dimensions(), "{}", jpeg.display());
        let wrong = ours
            .as_raw()
            .iter()
            .zip(pillow.as_raw())
            .filter(|(a, b)| a != b)
            .count();
        if wrong > 0 {
            differing.push(format!("{}: {wrong} values differ", jpeg.display()));
        }
    }
    assert!(differing.is_empty(), "{}", differing.join("\n"));
}
