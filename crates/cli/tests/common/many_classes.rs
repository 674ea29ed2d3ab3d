//! An ImageNet-shaped dataset made from the committed photos: any number of class folders,
//! each with small, distinct PNGs, and an experiment over it. Used by the many-class test
//! and its benchmark.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Side of each generated image: small, so that 20,000 of them stay a few tens of MB.
const SIDE: u32 = 32;

/// Class folder names: numbered like ImageNet's synsets, with a flower word and, every
/// seventh class, a space and a comma, as ImageNet's names have.
pub fn class_name(c: usize) -> String {
    let flower = ["daisy", "dandelion", "roses", "sunflowers", "tulips"][c % 5];
    if c % 7 == 3 {
        format!("n{c:05} {flower}, common")
    } else {
        format!("n{c:05}-{flower}")
    }
}

/// The committed photos, decoded once and shrunk to `SIDE` pixels.
fn photos() -> Vec<image::RgbImage> {
    let mut files: Vec<PathBuf> = ["daisy", "dandelion", "roses", "sunflowers", "tulips"]
        .iter()
        .flat_map(|class| std::fs::read_dir(super::mini().join(class)).unwrap())
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "jpg"))
        .collect();
    files.sort();
    files
        .iter()
        .map(|f| {
            image::open(f)
                .unwrap()
                .resize_exact(SIDE, SIDE, image::imageops::FilterType::Triangle)
                .into_rgb8()
        })
        .collect()
}

/// `classes` folders under `dest`, `per_class` PNGs each; returns the dataset root. Every
/// file differs (its index is written into a corner), so none is a copy of another.
pub fn dataset(dest: &Path, classes: usize, per_class: usize) -> PathBuf {
    let root = dest.join("data");
    let photos = photos();
    for c in 0..classes {
        let folder = root.join(class_name(c));
        std::fs::create_dir_all(&folder).unwrap();
        for j in 0..per_class {
            let index = c * per_class + j;
            let mut image = photos[index % photos.len()].clone();
            let [a, b, d, _] = (index as u32).to_le_bytes();
            image.put_pixel(0, 0, image::Rgb([a, b, d]));
            image.save(folder.join(format!("{j}.png"))).unwrap();
        }
    }
    root
}

/// An experiment over `root` with the tiny CLIP: the class name alone (the baseline), a
/// few templates, and a search over templates on a dev split.
pub fn experiment(dest: &Path, root: &Path, templates: usize) -> PathBuf {
    let list: Vec<String> = (0..templates)
        .map(|t| format!("\"a photo number {t} of a {{}}.\""))
        .collect();
    let yaml = format!(
        "name: many-classes\n\
         dataset:\n  root: {root:?}\n\
         models:\n  - clip-tiny-random\n\
         baseline: plain\n\
         split: {{dev_fraction: 0.5, seed: 0}}\n\
         ontologies:\n\
         \x20 plain:\n    templates: [\"{{}}\"]\n\
         \x20 templates:\n    templates: [{}]\n\
         \x20 searched:\n    search:\n      templates: [\"a photo of a {{}}.\", \"a picture of a {{}}.\", \"{{}}\"]\n      max_templates: 2\n",
        list.join(", ")
    );
    let file = dest.join("many-classes.yaml");
    std::fs::write(&file, yaml).unwrap();
    file
}

/// Opens `page` in headless Chromium and returns its screenshot's path, or `None` when
/// Chromium is not installed (an error on CI, which installs it).
pub fn screenshot(page: &Path, temp: &Path) -> Option<(PathBuf, Output)> {
    let chromium = ["chromium", "chromium-browser"]
        .into_iter()
        .find(|c| Command::new(c).arg("--version").output().is_ok());
    let Some(chromium) = chromium else {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must install Debian's chromium (see .ci/run)"
        );
        eprintln!("chromium not installed: the page was not opened (apt-get install chromium)");
        return None;
    };
    let shot = temp.join("shot.png");
    let output = Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            "--window-size=1280,1400",
        ])
        .arg(format!(
            "--user-data-dir={}",
            temp.join("chromium-profile").display()
        ))
        .arg(format!("--screenshot={}", shot.display()))
        .arg(format!("file://{}", page.display()))
        .output()
        .unwrap();
    Some((shot, output))
}
