//! Memory per image is bounded whatever its header says, and no input panics the caller.
//!
//! A counting allocator tracks live and peak bytes; each measured call is asserted against
//! its bound. The allocator refuses (returns null for) only what is over the bound plus
//! [`MARGIN`], so an over-allocation up to the margin fails an assertion that states it,
//! and a larger one aborts this test binary ("memory allocation of N bytes failed") before
//! it can take the machine. Hostile files are built here.

use std::alloc::{GlobalAlloc, Layout, System};
use std::io::Cursor;
use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering::SeqCst};

use image::codecs::png::{CompressionType, FilterType as PngFilter, PngEncoder};
use image::{
    DynamicImage, ExtendedColorType, GrayImage, ImageBuffer, ImageEncoder, ImageFormat, Rgb,
    RgbImage, Rgba,
};
use ontosweep_clip::Preprocessing;
use ontosweep_clip::preprocess::MAX_IMAGE_BYTES;

const MIB: u64 = 1 << 20;
/// Outside measured calls: room for this file's own test images, still far below 15 GB.
const HARD_CAP: u64 = MAX_IMAGE_BYTES + 512 * MIB;
/// A refused header costs no more than this.
const HOSTILE_CAP: u64 = 64 * MIB;
/// How far past its bound a measured call may go before the allocator refuses.
const MARGIN: u64 = 512 * MIB;

static LIVE: AtomicU64 = AtomicU64::new(0);
static PEAK: AtomicU64 = AtomicU64::new(0);
static LIVE_CAP: AtomicU64 = AtomicU64::new(HARD_CAP);
static SINGLE_CAP: AtomicU64 = AtomicU64::new(HARD_CAP);
/// The counters are process-wide: one measuring test at a time.
static SERIAL: Mutex<()> = Mutex::new(());

struct Capped;

#[global_allocator]
static ALLOCATOR: Capped = Capped;

impl Capped {
    /// Counts `grow` more live bytes for a block of `size`, or refuses.
    fn admit(size: usize, grow: usize) -> bool {
        if size as u64 > SINGLE_CAP.load(SeqCst) {
            return false;
        }
        let live = LIVE.fetch_add(grow as u64, SeqCst) + grow as u64;
        if live > LIVE_CAP.load(SeqCst) {
            LIVE.fetch_sub(grow as u64, SeqCst);
            return false;
        }
        PEAK.fetch_max(live, SeqCst);
        true
    }

    fn release(size: usize) {
        LIVE.fetch_sub(size as u64, SeqCst);
    }
}

unsafe impl GlobalAlloc for Capped {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if !Self::admit(layout.size(), layout.size()) {
            return std::ptr::null_mut();
        }
        let block = unsafe { System.alloc(layout) };
        if block.is_null() {
            Self::release(layout.size());
        }
        block
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if !Self::admit(layout.size(), layout.size()) {
            return std::ptr::null_mut();
        }
        let block = unsafe { System.alloc_zeroed(layout) };
        if block.is_null() {
            Self::release(layout.size());
        }
        block
    }

    unsafe fn dealloc(&self, block: *mut u8, layout: Layout) {
        unsafe { System.dealloc(block, layout) };
        Self::release(layout.size());
    }

    unsafe fn realloc(&self, block: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let grow = new_size.saturating_sub(layout.size());
        if !Self::admit(new_size, grow) {
            return std::ptr::null_mut();
        }
        let moved = unsafe { System.realloc(block, layout, new_size) };
        if moved.is_null() {
            Self::release(grow);
        } else {
            Self::release(layout.size().saturating_sub(new_size));
        }
        moved
    }
}

/// Runs `f` (which should stay within `bound` bytes above what is live now) with every
/// allocation refused past `bound` + [`MARGIN`]; returns its result and the peak of live
/// bytes above that baseline, for the caller to assert against `bound`.
fn measured<T>(bound: u64, f: impl FnOnce() -> T) -> (T, u64) {
    let base = LIVE.load(SeqCst);
    PEAK.store(base, SeqCst);
    SINGLE_CAP.store(bound + MARGIN, SeqCst);
    LIVE_CAP.store(base + bound + MARGIN, SeqCst);
    let out = f();
    LIVE_CAP.store(HARD_CAP, SeqCst);
    SINGLE_CAP.store(HARD_CAP, SeqCst);
    (out, PEAK.load(SeqCst) - base)
}

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn encode(image: DynamicImage, format: ImageFormat) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    image.write_to(&mut out, format).unwrap();
    out.into_inner()
}

fn golden(name: &str) -> Vec<u8> {
    std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/golden/preprocess")
            .join(name),
    )
    .unwrap()
}

fn crc32(bytes: &[u8]) -> u32 {
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
fn png_with_size(mut png: Vec<u8>, width: u32, height: u32) -> Vec<u8> {
    png[16..20].copy_from_slice(&width.to_be_bytes());
    png[20..24].copy_from_slice(&height.to_be_bytes());
    let crc = crc32(&png[12..29]);
    png[29..33].copy_from_slice(&crc.to_be_bytes());
    png
}

/// Offset of the first SOF0/SOF2 marker of a JPEG.
fn jpeg_sof(jpeg: &[u8]) -> usize {
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

fn small_rgb(width: u32, height: u32) -> DynamicImage {
    DynamicImage::ImageRgb8(RgbImage::from_fn(width, height, |x, y| {
        Rgb([(x * 40) as u8, (y * 40) as u8, 128])
    }))
}

fn tiny_gif() -> Vec<u8> {
    let image = ImageBuffer::from_fn(24, 16, |x, y| {
        Rgba([(x * 10) as u8, (y * 15) as u8, 90, 255])
    });
    encode(DynamicImage::ImageRgba8(image), ImageFormat::Gif)
}

/// Every file here declares a size no CLIP input needs, in each format we read; each must be
/// refused, saying why, before its pixels are allocated.
fn hostile_cases() -> Vec<(&'static str, Vec<u8>, &'static str)> {
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

#[test]
fn hostile_headers_are_refused_before_their_pixels_are_allocated() {
    let _serial = serial();
    let p = Preprocessing::default();
    let mut failures = Vec::new();
    for (name, bytes, expected) in hostile_cases() {
        let (result, peak) = measured(HOSTILE_CAP, || p.tensor_from_bytes(&bytes, Path::new(name)));
        let reason = match result {
            Ok(_) => "decoded".to_string(),
            Err(e) => e.to_string(),
        };
        println!("{name:38} {:>5} KiB peak  {reason}", peak.div_ceil(1024));
        if !reason.contains(expected) {
            failures.push(format!("{name}: expected `{expected}`, got: {reason}"));
        }
        if peak > HOSTILE_CAP {
            failures.push(format!(
                "{name}: {} KiB allocated, over the {} KiB a refusal may cost",
                peak.div_ceil(1024),
                HOSTILE_CAP / 1024
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn the_counter_sees_what_is_allocated() {
    // The bounds above mean something only if the peak is counted: 10 MiB must show.
    let _serial = serial();
    let (block, peak) = measured(HOSTILE_CAP, || vec![1u8; 10 * MIB as usize]);
    assert_eq!(block.len() as u64, 10 * MIB);
    assert!((10 * MIB..HOSTILE_CAP).contains(&peak), "peak {peak}");
}

/// A smooth gradient: compresses to little, decodes to 3 bytes a pixel. Built from 256
/// prepared rows so that this unoptimised test code stays quick.
fn gradient_png(width: u32, height: u32) -> Vec<u8> {
    let rows: Vec<Vec<u8>> = (0..=255u32)
        .map(|g| {
            (0..width)
                .flat_map(|x| {
                    [
                        (x * 255 / width) as u8,
                        g as u8,
                        (255 - x * 255 / width) as u8,
                    ]
                })
                .collect()
        })
        .collect();
    let mut pixels = Vec::with_capacity(3 * width as usize * height as usize);
    for y in 0..height {
        pixels.extend_from_slice(&rows[(y * 256 / height) as usize]);
    }
    let mut png = Vec::new();
    PngEncoder::new_with_quality(&mut png, CompressionType::Fast, PngFilter::Sub)
        .write_image(&pixels, width, height, ExtendedColorType::Rgb8)
        .unwrap();
    png
}

#[test]
fn large_photos_and_panoramas_are_preprocessed_within_the_bound() {
    let _serial = serial();
    let p = Preprocessing::default();
    for (name, width, height) in [
        ("6000×4000", 6000, 4000),
        ("panorama 10000×500", 10_000, 500),
    ] {
        let png = gradient_png(width, height);
        let (tensor, peak) = measured(MAX_IMAGE_BYTES, || {
            p.tensor_from_bytes(&png, Path::new(name))
        });
        let decoded = 3 * u64::from(width) * u64::from(height);
        println!(
            "{name}: peak {} MiB (decoded RGB {} MiB; bound {} MiB)",
            peak.div_ceil(MIB),
            decoded.div_ceil(MIB),
            MAX_IMAGE_BYTES / MIB
        );
        assert_eq!(tensor.unwrap().len(), p.tensor_len());
        assert!(
            peak <= MAX_IMAGE_BYTES,
            "{name}: peak {peak} bytes, over the bound of {MAX_IMAGE_BYTES}"
        );
    }
}

#[test]
fn every_format_still_decodes_within_the_bound() {
    let _serial = serial();
    let p = Preprocessing::default();
    let photo = small_rgb(640, 480);
    let rgba16 = DynamicImage::ImageRgba16(photo.to_rgba16());
    let files = [
        ("jpeg", encode(photo.clone(), ImageFormat::Jpeg)),
        ("png rgba16", encode(rgba16, ImageFormat::Png)),
        ("gif", encode(photo.clone(), ImageFormat::Gif)),
        ("webp", encode(photo.clone(), ImageFormat::WebP)),
        ("bmp", encode(photo.clone(), ImageFormat::Bmp)),
        ("tiff", encode(photo, ImageFormat::Tiff)),
    ];
    for (name, bytes) in files {
        let (tensor, peak) = measured(MAX_IMAGE_BYTES, || {
            p.tensor_from_bytes(&bytes, Path::new(name))
        });
        println!("{name}: peak {} KiB", peak.div_ceil(1024));
        assert_eq!(tensor.unwrap().len(), p.tensor_len(), "{name}");
        assert!(peak <= MAX_IMAGE_BYTES, "{name}: peak {peak} bytes");
    }
}

/// splitmix64: deterministic and tiny.
struct Rng(u64);

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

fn mutate(format: ImageFormat, seed: &[u8], rng: &mut Rng) -> Vec<u8> {
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

/// Per format: enough to hit every decoder's header and data paths, few enough to stay quick.
const MUTANTS: usize = 200;

#[test]
fn mutated_files_never_panic_nor_exceed_the_bound() {
    let _serial = serial();
    let p = Preprocessing::default();
    let seeds = [
        (ImageFormat::Jpeg, golden("flower_4.jpg")),
        (ImageFormat::Png, golden("tiny.png")),
        (ImageFormat::WebP, golden("flower.webp")),
        (ImageFormat::Gif, tiny_gif()),
    ];
    let mut rng = Rng(0x0DD5_EED5);
    let mut escaped = Vec::new();
    for (format, seed) in &seeds {
        let (mut decoded, mut refused, mut crashed, mut worst) = (0, 0, 0, 0);
        let started = std::time::Instant::now();
        for i in 0..MUTANTS {
            let bytes = mutate(*format, seed, &mut rng);
            let cap = MAX_IMAGE_BYTES + 2 * bytes.len() as u64;
            let (outcome, peak) = measured(cap, || {
                std::panic::catch_unwind(|| p.tensor_from_bytes(&bytes, Path::new("mutant")))
            });
            worst = worst.max(peak);
            if peak > cap {
                escaped.push(format!(
                    "{format:?} mutant {i}: peak {peak} bytes, over {cap}"
                ));
            }
            match outcome {
                Ok(Ok(_)) => decoded += 1,
                Ok(Err(e)) if e.to_string().contains("decoder crashed") => crashed += 1,
                Ok(Err(_)) => refused += 1,
                Err(_) => escaped.push(format!("{format:?} mutant {i}")),
            }
        }
        println!(
            "{format:?}: {decoded} decoded, {refused} refused, {crashed} decoder panics caught; \
             peak {} MiB, {:.1} s",
            worst.div_ceil(MIB),
            started.elapsed().as_secs_f64()
        );
    }
    assert!(
        escaped.is_empty(),
        "panicked or over the bound: {escaped:?}"
    );
}
