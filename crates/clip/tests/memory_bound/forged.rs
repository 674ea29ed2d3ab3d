//! Image files built here for the bound to be tested on: small real ones in every format we
//! read, and ones whose header declares a size no CLIP input needs.

use std::io::Cursor;
use std::path::Path;

use image::{DynamicImage, GrayImage, ImageBuffer, ImageFormat, Rgb, RgbImage, Rgba};

pub fn encode(image: DynamicImage, format: ImageFormat) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    image.write_to(&mut out, format).unwrap();
    out.into_inner()
}

pub fn golden(name: &str) -> Vec<u8> {
    std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/golden/preprocess")
            .join(name),
    )
    .unwrap()
}

pub fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &byte in bytes {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = (crc >> 1) ^ (0xEDB8_8320 & (crc & 1).wrapping_neg());
        }
    }
    !crc
}

/// Sets the IHDR size of a PNG and fixes the chunk's CRC so the decoder believes it.
pub fn png_with_size(mut png: Vec<u8>, width: u32, height: u32) -> Vec<u8> {
    png[16..20].copy_from_slice(&width.to_be_bytes());
    png[20..24].copy_from_slice(&height.to_be_bytes());
    let crc = crc32(&png[12..29]);
    png[29..33].copy_from_slice(&crc.to_be_bytes());
    png
}

/// Offset of the first SOF0/SOF2 marker of a JPEG.
pub fn jpeg_sof(jpeg: &[u8]) -> usize {
    jpeg.windows(2)
        .position(|w| w[0] == 0xFF && matches!(w[1], 0xC0 | 0xC2))
        .unwrap()
}

fn jpeg_with_size(mut jpeg: Vec<u8>, width: u16, height: u16) -> Vec<u8> {
    let sof = jpeg_sof(&jpeg);
    jpeg[sof + 5..sof + 7].copy_from_slice(&height.to_be_bytes());
    jpeg[sof + 7..sof + 9].copy_from_slice(&width.to_be_bytes());
    jpeg
}

fn riff(chunks: &[(&[u8; 4], &[u8])]) -> Vec<u8> {
    let mut body = b"WEBP".to_vec();
    for (tag, data) in chunks {
        body.extend_from_slice(*tag);
        body.extend_from_slice(&(data.len() as u32).to_le_bytes());
        body.extend_from_slice(data);
        if data.len() % 2 == 1 {
            body.push(0);
        }
    }
    let mut file = b"RIFF".to_vec();
    file.extend_from_slice(&(body.len() as u32).to_le_bytes());
    file.extend(body);
    file
}

/// A VP8X header chunk for a still image of the given canvas.
fn vp8x(width: u32, height: u32) -> Vec<u8> {
    let mut data = vec![0u8; 4];
    data.extend_from_slice(&(width - 1).to_le_bytes()[..3]);
    data.extend_from_slice(&(height - 1).to_le_bytes()[..3]);
    data
}

/// The payload of the first chunk tagged `tag` in a RIFF file.
fn chunk<'a>(file: &'a [u8], tag: &[u8; 4]) -> &'a [u8] {
    let at = file.windows(4).position(|w| w == tag).unwrap();
    let size = u32::from_le_bytes(file[at + 4..at + 8].try_into().unwrap()) as usize;
    &file[at + 8..at + 8 + size]
}

/// Sets ImageWidth, ImageLength and RowsPerStrip of a little-endian TIFF's first IFD.
fn tiff_with_size(mut tiff: Vec<u8>, width: u32, height: u32) -> Vec<u8> {
    let ifd = u32::from_le_bytes(tiff[4..8].try_into().unwrap()) as usize;
    let entries = u16::from_le_bytes([tiff[ifd], tiff[ifd + 1]]) as usize;
    for i in 0..entries {
        let entry = ifd + 2 + 12 * i;
        let value = match u16::from_le_bytes([tiff[entry], tiff[entry + 1]]) {
            256 => width,
            257 | 278 => height, // one strip of all rows, as the encoder wrote
            _ => continue,
        };
        tiff[entry + 2..entry + 4].copy_from_slice(&4u16.to_le_bytes());
        tiff[entry + 4..entry + 8].copy_from_slice(&1u32.to_le_bytes());
        tiff[entry + 8..entry + 12].copy_from_slice(&value.to_le_bytes());
    }
    tiff
}

pub fn small_rgb(width: u32, height: u32) -> DynamicImage {
    DynamicImage::ImageRgb8(RgbImage::from_fn(width, height, |x, y| {
        Rgb([(x * 40) as u8, (y * 40) as u8, 128])
    }))
}

pub fn tiny_gif() -> Vec<u8> {
    let image = ImageBuffer::from_fn(24, 16, |x, y| {
        Rgba([(x * 10) as u8, (y * 15) as u8, 90, 255])
    });
    encode(DynamicImage::ImageRgba8(image), ImageFormat::Gif)
}

/// Every file here declares a size no CLIP input needs, in each format we read; each must be
/// refused, saying why, before its pixels are allocated.
pub fn hostile_cases() -> Vec<(&'static str, Vec<u8>, &'static str)> {
    let gray = |w, h| DynamicImage::ImageLuma8(GrayImage::new(w, h));
    let png_1x1 = encode(gray(1, 1), ImageFormat::Png);
    let rgba16 = DynamicImage::ImageRgba16(ImageBuffer::new(1, 1));
    let jpeg = encode(small_rgb(16, 16), ImageFormat::Jpeg);
    let mut progressive = jpeg_with_size(jpeg.clone(), 10_000, 10_000);
    let sof = jpeg_sof(&progressive);
    progressive[sof + 1] = 0xC2;
    let mut gif = tiny_gif();
    gif[6..10].copy_from_slice(&[0xFF; 4]);
    let mut bmp = encode(small_rgb(2, 2), ImageFormat::Bmp);
    bmp[18..22].copy_from_slice(&50_000i32.to_le_bytes());
    bmp[22..26].copy_from_slice(&50_000i32.to_le_bytes());
    let tiff = encode(small_rgb(2, 2), ImageFormat::Tiff);
    vec![
        (
            "png 1×100000",
            encode(gray(1, 100_000), ImageFormat::Png),
            "aspect ratio over 50:1",
        ),
        (
            "png 100000×1",
            encode(gray(100_000, 1), ImageFormat::Png),
            "aspect ratio over 50:1",
        ),
        (
            "png IHDR 1×20000000",
            png_with_size(png_1x1.clone(), 1, 20_000_000),
            "side over",
        ),
        (
            "png IHDR 20000000×1",
            png_with_size(png_1x1, 20_000_000, 1),
            "side over",
        ),
        (
            "png RGBA16 10000×10000",
            png_with_size(encode(rgba16, ImageFormat::Png), 10_000, 10_000),
            "to decode",
        ),
        (
            "jpeg SOF 30000×30000",
            jpeg_with_size(jpeg, 30_000, 30_000),
            "over the limit of",
        ),
        ("jpeg progressive 10000×10000", progressive, "to decode"),
        ("gif screen 65535×65535", gif, "over the limit of"),
        ("bmp 50000×50000", bmp, "over the limit of"),
        (
            "tiff 200000×200000",
            tiff_with_size(tiff.clone(), 200_000, 200_000),
            "over the limit",
        ),
        (
            "tiff 1000000×1000000",
            tiff_with_size(tiff, 1_000_000, 1_000_000),
            "side over",
        ),
    ]
    .into_iter()
    .chain(hostile_webp())
    .collect()
}

fn hostile_webp() -> [(&'static str, Vec<u8>, &'static str); 3] {
    let lossless = encode(small_rgb(4, 4), ImageFormat::WebP);
    let mut vp8l = lossless.clone();
    let header = 16_382u32 | (16_382 << 14); // 16383×16383, the most VP8L can say
    vp8l[21..25].copy_from_slice(&header.to_le_bytes());
    let vp8l_chunk = chunk(&lossless, b"VP8L");
    let huge_canvas = riff(&[(b"VP8X", &vp8x(60_000, 60_000)), (b"VP8L", vp8l_chunk)]);
    // A still canvas of modest size around a VP8 frame header claiming the maximum.
    let mut vp8_frame = chunk(&golden("flower.webp"), b"VP8 ").to_vec();
    vp8_frame[6..10].copy_from_slice(&[0xFF, 0x3F, 0xFF, 0x3F]);
    let lying_frame = riff(&[(b"VP8X", &vp8x(320, 263)), (b"VP8 ", &vp8_frame)]);
    [
        ("webp VP8L 16383×16383", vp8l, "over the limit of"),
        (
            "webp VP8X canvas 60000×60000",
            huge_canvas,
            "over the limit of",
        ),
        (
            "webp VP8X 320×263, VP8 16383×16383",
            lying_frame,
            "the VP8 frame declares 16383×16383",
        ),
    ]
}
