//! Reading a file a user handed over: only a regular file, never more than a stated bound,
//! and never blocking. A named pipe (FIFO) would block `open` until a writer comes, a device
//! may never end, and a huge file would be read whole into memory.

use std::fs::{File, Metadata, OpenOptions};
use std::io::{self, Read};
use std::path::Path;

/// Largest small JSON configuration read (`config.json`, `tokenizer_config.json`,
/// `preprocessor_config.json`, `special_tokens_map.json`): real ones are a few KiB.
pub const MAX_CONFIG_BYTES: u64 = 1 << 20;

/// Largest `tokenizer.json` read: CLIP's is 2 MB, multilingual SigLIP's (Gemma's
/// vocabulary) about 34 MB. Loading one costs many times its size in memory.
pub const MAX_TOKENIZER_BYTES: u64 = 64 << 20;

/// `open` flag that makes opening a FIFO return at once instead of waiting for a writer;
/// it changes nothing for a regular file. Its value differs between platforms.
#[cfg(unix)]
const O_NONBLOCK: i32 = if cfg!(any(target_os = "linux", target_os = "android")) {
    if cfg!(any(target_arch = "mips", target_arch = "mips64")) {
        0x80
    } else if cfg!(any(target_arch = "sparc", target_arch = "sparc64")) {
        0x4000
    } else {
        0o4000
    }
} else if cfg!(any(target_os = "solaris", target_os = "illumos")) {
    0x80
} else {
    // macOS, iOS and the BSDs.
    0x4
};

/// Opens `path` for reading if it is a regular file (links followed): checked before
/// opening, opened so that a FIFO swapped in meanwhile cannot block, and checked again on
/// the open handle.
pub fn open_regular(path: &Path) -> io::Result<File> {
    require_regular(&std::fs::metadata(path)?)?;
    let file = open_without_blocking(path)?;
    require_regular(&file.metadata()?)?;
    Ok(file)
}

#[cfg(unix)]
fn open_without_blocking(path: &Path) -> io::Result<File> {
    use std::os::unix::fs::OpenOptionsExt;
    let mut options = OpenOptions::new();
    options.read(true);
    options.custom_flags(O_NONBLOCK);
    options.open(path)
}

#[cfg(not(unix))]
fn open_without_blocking(path: &Path) -> io::Result<File> {
    OpenOptions::new().read(true).open(path)
}

/// Whether `path` names something: `false` when nothing is there, an error when what is
/// there is not a regular file (links followed), so a FIFO is never taken for absent.
pub fn present(path: &Path) -> io::Result<bool> {
    match std::fs::symlink_metadata(path) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(e),
        Ok(_) => require_regular(&std::fs::metadata(path)?).map(|()| true),
    }
}

fn require_regular(metadata: &Metadata) -> io::Result<()> {
    if metadata.is_file() {
        return Ok(());
    }
    Err(io::Error::new(
        io::ErrorKind::InvalidInput,
        format!(
            "it is {}, not a regular file: only regular files are read (put the file itself there)",
            kind_of(metadata)
        ),
    ))
}

fn kind_of(metadata: &Metadata) -> &'static str {
    if metadata.is_dir() {
        return "a directory";
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        let kind = metadata.file_type();
        if kind.is_fifo() {
            return "a named pipe (FIFO)";
        }
        if kind.is_socket() {
            return "a socket";
        }
        if kind.is_char_device() || kind.is_block_device() {
            return "a device";
        }
    }
    "not a file"
}

/// The bytes of the regular file `path`, refused unread when its size is over `max`, and
/// never more than `max` read should it grow meanwhile.
pub fn read_bounded(path: &Path, max: u64) -> io::Result<Vec<u8>> {
    let file = open_regular(path)?;
    let size = file.metadata()?.len();
    if size > max {
        return Err(too_large(format!("it has {size} bytes"), max));
    }
    let mut bytes = Vec::with_capacity(size as usize);
    file.take(max + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > max {
        return Err(too_large("it grew while read".into(), max));
    }
    Ok(bytes)
}

/// As [`read_bounded`], for UTF-8 text.
pub fn read_bounded_text(path: &Path, max: u64) -> io::Result<String> {
    String::from_utf8(read_bounded(path, max)?).map_err(|e| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("it is not UTF-8 text ({e})"),
        )
    })
}

fn too_large(what: String, max: u64) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!(
            "{what}, over the limit of {} for such a file (real ones are far smaller)",
            in_units(max)
        ),
    )
}

/// `64 MiB`, `1 MiB`, `512 KiB`, else bytes.
fn in_units(bytes: u64) -> String {
    match bytes {
        b if b >= 1 << 20 && b % (1 << 20) == 0 => format!("{} MiB", b >> 20),
        b if b >= 1 << 10 && b % (1 << 10) == 0 => format!("{} KiB", b >> 10),
        b => format!("{b} bytes"),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    use std::sync::mpsc;
    use std::time::Duration;

    /// Runs `read` on a thread and gives its result, or `None` if it is still blocked after
    /// a wait no working read comes near: a guard so a regression fails instead of hanging.
    pub(crate) fn within_a_minute<T: Send + 'static>(
        read: impl FnOnce() -> T + Send + 'static,
    ) -> Option<T> {
        let (send, receive) = mpsc::channel();
        std::thread::spawn(move || {
            let _ = send.send(read());
        });
        receive.recv_timeout(Duration::from_secs(60)).ok()
    }

    pub(crate) fn mkfifo(path: &Path) {
        let status = std::process::Command::new("mkfifo")
            .arg(path)
            .status()
            .expect("mkfifo runs");
        assert!(status.success(), "mkfifo {}", path.display());
    }

    #[test]
    fn reads_a_regular_file_within_the_bound() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.json");
        std::fs::write(&path, "{}").unwrap();
        assert_eq!(read_bounded_text(&path, 2).unwrap(), "{}");
        let err = read_bounded(&path, 1).unwrap_err();
        assert!(
            err.to_string()
                .contains("it has 2 bytes, over the limit of 1 bytes"),
            "{err}"
        );
    }

    #[test]
    fn a_large_file_is_refused_by_its_size_before_reading() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("huge.json");
        // Sparse: 1 TiB declared, nothing written; only the size check can name it.
        std::fs::File::create(&path)
            .unwrap()
            .set_len(1 << 40)
            .unwrap();
        let err = read_bounded(&path, MAX_TOKENIZER_BYTES).unwrap_err();
        assert!(
            err.to_string()
                .contains("it has 1099511627776 bytes, over the limit of 64 MiB"),
            "{err}"
        );
    }

    #[cfg(unix)]
    #[test]
    fn a_fifo_is_refused_without_blocking() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tokenizer.json");
        mkfifo(&path);
        let result = within_a_minute(move || read_bounded(&path, MAX_CONFIG_BYTES))
            .expect("reading a FIFO blocked");
        let err = result.unwrap_err();
        assert!(err.to_string().contains("a named pipe (FIFO)"), "{err}");
    }

    /// A FIFO swapped in after the first check must not block the open itself.
    #[cfg(unix)]
    #[test]
    fn opening_a_fifo_returns_at_once() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.json");
        mkfifo(&path);
        let opened = within_a_minute(move || {
            let file = open_without_blocking(&path)?;
            require_regular(&file.metadata()?)
        })
        .expect("opening a FIFO blocked");
        assert!(opened.unwrap_err().to_string().contains("named pipe"));
    }

    #[test]
    fn directories_are_refused_and_units_read_well() {
        let dir = tempfile::tempdir().unwrap();
        let err = read_bounded(dir.path(), MAX_CONFIG_BYTES).unwrap_err();
        assert!(err.to_string().contains("a directory"), "{err}");
        assert_eq!(in_units(MAX_TOKENIZER_BYTES), "64 MiB");
        assert_eq!(in_units(MAX_CONFIG_BYTES), "1 MiB");
        assert_eq!(in_units(2048), "2 KiB");
        assert_eq!(in_units(1000), "1000 bytes");
    }
}
