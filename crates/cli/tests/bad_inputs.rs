//! Messy folders: every bad file is skipped with its reason and the sweep goes on.

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

fn png(path: &Path, width: u32, height: u32) {
    image::RgbImage::from_fn(width, height, |x, y| {
        image::Rgb([(x * 7) as u8, (y * 5) as u8, 128])
    })
    .save(path)
    .unwrap();
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// A valid PNG whose header declares `width × height` (with a correct checksum).
fn png_declaring(path: &Path, width: u32, height: u32) {
    png(path, 4, 4);
    let mut bytes = std::fs::read(path).unwrap();
    // Signature (8) + length (4) + "IHDR" (4), then width and height; CRC after 13 data bytes.
    bytes[16..20].copy_from_slice(&width.to_be_bytes());
    bytes[20..24].copy_from_slice(&height.to_be_bytes());
    let crc = crc32(&bytes[12..29]);
    bytes[29..33].copy_from_slice(&crc.to_be_bytes());
    std::fs::write(path, bytes).unwrap();
}

fn build_dataset(dir: &Path) {
    let good = dir.join("good");
    let other = dir.join("other");
    std::fs::create_dir_all(good.join("sub")).unwrap();
    std::fs::create_dir_all(&other).unwrap();
    png(&good.join("a.png"), 300, 200);
    png(&good.join("blüte 🌼.png"), 240, 320);
    png(&good.join("sub/nested.png"), 224, 224);
    png(&good.join("really_a_png.jpg"), 256, 256);
    png(&good.join(".hidden.png"), 64, 64);
    std::fs::write(good.join("notes.txt"), "not a picture").unwrap();
    let gray16 = image::ImageBuffer::<image::Luma<u16>, _>::from_fn(230, 230, |x, _| {
        image::Luma([(x * 280) as u16])
    });
    gray16.save(good.join("gray16.png")).unwrap();
    std::fs::copy(
        root().join("crates/clip/tests/golden/preprocess/cmyk.jpg"),
        good.join("cmyk.jpg"),
    )
    .unwrap();
    // An animated GIF: the first frame is used.
    {
        let file = std::fs::File::create(good.join("animated.gif")).unwrap();
        let mut encoder = image::codecs::gif::GifEncoder::new(file);
        let frames = (0..2).map(|i| {
            image::Frame::new(image::RgbaImage::from_pixel(
                240,
                240,
                image::Rgba([i * 200, 50, 50, 255]),
            ))
        });
        encoder.encode_frames(frames).unwrap();
    }
    std::os::unix::fs::symlink(&good, good.join("sub/loop")).unwrap();

    png(&other.join("fine.png"), 250, 250);
    let jpeg =
        std::fs::read(root().join("crates/clip/tests/golden/preprocess/flower_0.jpg")).unwrap();
    std::fs::write(other.join("truncated.jpg"), &jpeg[..jpeg.len() / 3]).unwrap();
    std::fs::write(other.join("empty.png"), b"").unwrap();
    std::fs::write(other.join("text.jpg"), b"hello, I am text").unwrap();
    png_declaring(&other.join("huge.png"), 200_000, 200_000);
    png(&other.join("corrupt.png"), 64, 64);
    let mut corrupt = std::fs::read(other.join("corrupt.png")).unwrap();
    let last = corrupt.len() - 20;
    corrupt[last] ^= 0xFF; // inside IDAT: its checksum no longer matches
    std::fs::write(other.join("corrupt.png"), corrupt).unwrap();
}

fn experiment(dir: &Path, data: &Path) -> PathBuf {
    let file = dir.join("messy.yaml");
    std::fs::write(
        &file,
        format!("name: messy\ndataset:\n  root: {}\nmodels: [clip-tiny-random]\nontologies:\n  plain:\n    templates: [\"a photo of {{}}\"]\n", data.display()),
    )
    .unwrap();
    file
}

fn sweep(file: &Path, out: &Path) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_ontosweep"))
        .args([
            "sweep",
            file.to_str().unwrap(),
            "--no-cache",
            "--out",
            out.to_str().unwrap(),
        ])
        .env("ONTOSWEEP_HOME", root())
        .output()
        .unwrap()
}

#[test]
fn bad_files_are_skipped_listed_and_counted() {
    let temp = tempfile::tempdir().unwrap();
    let data = temp.path().join("data");
    build_dataset(&data);
    let out = temp.path().join("report");
    let output = sweep(&experiment(temp.path(), &data), &out);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");

    let mut reader = csv::Reader::from_path(out.join("skipped.csv")).unwrap();
    let skipped: Vec<(String, String)> = reader
        .records()
        .map(|r| r.unwrap())
        .map(|r| (r[0].to_string(), r[1].to_string()))
        .collect();
    let reason = |file: &str| {
        skipped
            .iter()
            .find(|(p, _)| p.ends_with(file))
            .map(|(_, r)| r.clone())
            .unwrap_or_else(|| panic!("{file} not skipped: {skipped:?}"))
    };
    assert!(reason("notes.txt").contains("not an image file"));
    assert!(reason("huge.png").contains("over the limit"));
    assert!(reason("text.jpg").contains("not an image"));
    assert!(reason("loop").contains("already visited"));
    for broken in ["truncated.jpg", "empty.png", "corrupt.png"] {
        reason(broken);
    }
    assert!(
        !skipped.iter().any(|(p, _)| p.contains(".hidden")),
        "hidden files are ignored, not listed"
    );
    assert_eq!(skipped.len(), 7, "{skipped:?}");

    // good: a, blüte, nested, really_a_png, gray16, cmyk, animated (7); other: fine (1).
    let run: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("run.json")).unwrap()).unwrap();
    assert_eq!(run["images_scored"], 8, "{run}");
    assert_eq!(run["images_skipped"], 7);
    assert_eq!(run["images_found"], 15);
    assert!(
        stderr.contains("15 samples found: 8 scored, 7 skipped (listed with their reasons in skipped.csv); 2 candidate classes, declared by the dataset's class folders"),
        "{stderr}"
    );
    let predictions = std::fs::read_to_string(out.join("predictions.csv")).unwrap();
    assert!(
        predictions.contains("good/blüte 🌼.png") && predictions.contains("good/sub/nested.png")
    );
}

#[test]
fn a_class_with_no_readable_image_is_named() {
    let temp = tempfile::tempdir().unwrap();
    let data = temp.path().join("data");
    std::fs::create_dir_all(data.join("fine")).unwrap();
    std::fs::create_dir_all(data.join("broken")).unwrap();
    png(&data.join("fine/a.png"), 100, 100);
    std::fs::write(data.join("broken/a.jpg"), b"nope").unwrap();
    let output = sweep(&experiment(temp.path(), &data), &temp.path().join("report"));
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("class `broken` has no image that could be read")
            && stderr.contains("a.jpg"),
        "{stderr}"
    );
    assert!(
        !temp.path().join("report").exists(),
        "no report for a sweep that did not complete"
    );
}
