//! Decodes and preprocesses image files as a sweep does (CLIP's default 224×224), a fixed
//! number of times, and prints how many images and a checksum: a fixed amount of work to time
//! as a whole process. With `--crops DIR` it also writes each image's 8-bit 224×224 crop (the
//! model input before normalising) as `DIR/<path under its argument>.png`, for comparing
//! with another pipeline's.
//!
//!     cargo run --release -p ontosweep-clip --example preprocess -- [--repeat N] [--crops DIR] DIR_OR_FILE...

use std::path::{Path, PathBuf};

use ontosweep_clip::preprocess::Preprocessing;

fn main() {
    let mut repeat = 1usize;
    let mut crops: Option<PathBuf> = None;
    let mut roots = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--repeat" => {
                repeat = args
                    .next()
                    .and_then(|n| n.parse().ok())
                    .expect("--repeat takes a count")
            }
            "--crops" => crops = Some(args.next().expect("--crops takes a folder").into()),
            _ => roots.push(PathBuf::from(arg)),
        }
    }
    if let Some(folder) = &crops {
        // A new folder, so that no file already there is overwritten.
        std::fs::create_dir(folder).unwrap_or_else(|e| {
            panic!(
                "{}: {e} (name a folder that does not exist)",
                folder.display()
            )
        });
    }
    // (root, path) pairs: a crop is named by its path under the argument it was found in.
    let mut files = Vec::new();
    for root in &roots {
        collect(root, root, &mut files);
    }
    files.sort();
    let images: Vec<(PathBuf, PathBuf, Vec<u8>)> = files
        .into_iter()
        .map(|(root, path)| {
            let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            (root, path, bytes)
        })
        .collect();
    let preprocessing = Preprocessing::default();
    let mut checksum = 0f64;
    for round in 0..repeat {
        for (root, path, bytes) in &images {
            match preprocessing.tensor_from_bytes(bytes, path) {
                Ok(tensor) => checksum += tensor.iter().map(|&v| f64::from(v)).sum::<f64>(),
                Err(e) => eprintln!("{}: {e}", path.display()),
            }
            if let (Some(folder), 0) = (&crops, round) {
                write_crop(&preprocessing, bytes, root, path, folder);
            }
        }
    }
    println!("{} images × {repeat}: checksum {checksum:.3}", images.len());
}

fn write_crop(
    preprocessing: &Preprocessing,
    bytes: &[u8],
    root: &Path,
    path: &Path,
    folder: &Path,
) {
    let Ok(decoded) = preprocessing.decode(bytes, path) else {
        return; // already reported
    };
    let crop = preprocessing
        .crop(&decoded)
        .expect("a decodable image crops");
    let relative = path.strip_prefix(root).unwrap_or(path);
    let mut name = folder.join(relative).into_os_string();
    name.push(".png");
    let out = PathBuf::from(name);
    std::fs::create_dir_all(out.parent().expect("a file in a folder")).expect("make the folder");
    crop.save(&out)
        .unwrap_or_else(|e| panic!("{}: {e}", out.display()));
}

fn collect(root: &Path, path: &Path, files: &mut Vec<(PathBuf, PathBuf)>) {
    if path.is_dir() {
        let entries = std::fs::read_dir(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        for entry in entries.flatten() {
            collect(root, &entry.path(), files);
        }
    } else {
        files.push((root.to_path_buf(), path.to_path_buf()));
    }
}
