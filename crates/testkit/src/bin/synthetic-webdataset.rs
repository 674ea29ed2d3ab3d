//! Writes a WebDataset of tiny, distinct PNG images for scale runs: `shard-NNNNNN.tar` files
//! (samples `NNNNNNNNN.png` + `.cls`) and `classnames.txt`. The same arguments always write
//! the same bytes; every image differs from every other (its index is in its pixels), so
//! each has its own cache entry. Only new files are written: a name already taken in OUT
//! stops it.
//!
//! ```text
//! synthetic-webdataset OUT --images 200000 [--classes 1000] [--shards 40]
//! ```

use std::io::{BufWriter, Cursor, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

const SIDE: u32 = 8;

struct Args {
    out: PathBuf,
    images: usize,
    classes: usize,
    shards: usize,
}

fn parse(mut args: impl Iterator<Item = String>) -> Result<Args, String> {
    let mut parsed = Args {
        out: PathBuf::new(),
        images: 0,
        classes: 1000,
        shards: 0,
    };
    while let Some(arg) = args.next() {
        let mut number = |name: &str| -> Result<usize, String> {
            let value = args.next().ok_or(format!("{name} needs a number"))?;
            value
                .parse()
                .map_err(|_| format!("{name}: `{value}` is not a whole number"))
        };
        match arg.as_str() {
            "--images" => parsed.images = number("--images")?,
            "--classes" => parsed.classes = number("--classes")?,
            "--shards" => parsed.shards = number("--shards")?,
            _ if arg.starts_with('-') => return Err(format!("unknown option `{arg}`")),
            _ => parsed.out = PathBuf::from(arg),
        }
    }
    if parsed.out.as_os_str().is_empty() || parsed.images == 0 || parsed.classes == 0 {
        return Err("usage: synthetic-webdataset OUT --images N [--classes C] [--shards S]".into());
    }
    if parsed.shards == 0 {
        parsed.shards = parsed.images.div_ceil(5000);
    }
    Ok(parsed)
}

/// Image `index` of class `label`: the class's colour, with the index's bits in the first
/// row so no two images share their bytes.
fn png(index: usize, label: usize) -> Vec<u8> {
    let base = [
        (label * 37 % 256) as u8,
        (label * 91 % 256) as u8,
        (label * 173 % 256) as u8,
    ];
    let image = image::RgbImage::from_fn(SIDE, SIDE, |x, y| {
        let pixel = y * SIDE + x;
        if pixel < 32 && (index >> pixel) & 1 == 1 {
            image::Rgb([255 - base[0], 255 - base[1], 255 - base[2]])
        } else {
            image::Rgb(base)
        }
    });
    let mut bytes = Vec::new();
    image
        .write_to(&mut Cursor::new(&mut bytes), image::ImageFormat::Png)
        .expect("a PNG encodes into memory");
    bytes
}

fn append(tar: &mut tar::Builder<impl std::io::Write>, name: &str, bytes: &[u8]) {
    let mut header = tar::Header::new_gnu();
    header.set_size(bytes.len() as u64);
    header.set_mode(0o644);
    header.set_mtime(0);
    header.set_cksum();
    tar.append_data(&mut header, name, bytes)
        .expect("the shard is writable");
}

fn write(args: &Args) -> std::io::Result<()> {
    std::fs::create_dir_all(&args.out)?;
    let names: String = (0..args.classes).map(|c| format!("class {c}\n")).collect();
    std::fs::File::create_new(args.out.join("classnames.txt"))?.write_all(names.as_bytes())?;
    let per_shard = args.images.div_ceil(args.shards);
    for shard in 0..args.shards {
        let path: &Path = &args.out.join(format!("shard-{shard:06}.tar"));
        let mut tar = tar::Builder::new(BufWriter::new(std::fs::File::create_new(path)?));
        let end = ((shard + 1) * per_shard).min(args.images);
        for index in shard * per_shard..end {
            // Labels interleave so every shard holds every class.
            let label = index % args.classes;
            append(&mut tar, &format!("{index:09}.png"), &png(index, label));
            append(
                &mut tar,
                &format!("{index:09}.cls"),
                label.to_string().as_bytes(),
            );
        }
        tar.into_inner()?;
    }
    Ok(())
}

fn main() -> ExitCode {
    let args = match parse(std::env::args().skip(1)) {
        Ok(args) => args,
        Err(message) => {
            eprintln!("error: {message}");
            return ExitCode::from(2);
        }
    };
    match write(&args) {
        Ok(()) => {
            println!(
                "wrote {} images of {} classes in {} shards to {} (dataset: webdataset: {}/shard-{{000000..{:06}}}.tar, classnames: {}/classnames.txt)",
                args.images,
                args.classes,
                args.shards,
                args.out.display(),
                args.out.display(),
                args.shards - 1,
                args.out.display()
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!(
                "error: writing {}: {e} (it writes only new files: name a new or empty folder)",
                args.out.display()
            );
            ExitCode::FAILURE
        }
    }
}
