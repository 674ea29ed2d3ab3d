//! Memory per image is bounded whatever its header says, and no input panics the caller.
//!
//! A counting allocator tracks live and peak bytes; each measured call is asserted against
//! its bound. The allocator refuses (returns null for) only what is over the bound plus
//! [`MARGIN`], so an over-allocation up to the margin fails an assertion that states it,
//! and a larger one aborts this test binary ("memory allocation of N bytes failed") before
//! it can take the machine. Hostile files are built in `forged.rs` and `mutants.rs`.

mod forged;
mod mutants;

use std::alloc::{GlobalAlloc, Layout, System};
use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering::SeqCst};

use forged::{encode, golden, hostile_cases, small_rgb, tiny_gif};
use image::codecs::png::{CompressionType, FilterType as PngFilter, PngEncoder};
use image::{DynamicImage, ExtendedColorType, ImageEncoder, ImageFormat};
use mutants::{Rng, mutate};
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
