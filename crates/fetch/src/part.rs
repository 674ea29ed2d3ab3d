//! The `<target>.part` file a download grows in, and `<target>.part.meta` beside it, which
//! remembers the address and validator (ETag or Last-Modified) the held bytes came with, so
//! a resume can send `If-Range`. Neither is ever opened through a symbolic link.

use std::fs::{self, File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::error::{FetchError, io};

pub(crate) struct Part {
    pub path: PathBuf,
    meta: PathBuf,
    url: String,
    /// Strong validator of the response the held bytes came from.
    pub validator: Option<String>,
    /// The held bytes came from an earlier run (so only a known sha256 can vouch for them).
    pub inherited: bool,
}

impl Part {
    /// Takes over `<target>.part` for a download of `url`. Held bytes are kept only when a
    /// known sha256 will check the result and they came from the same address; a link or
    /// other non-file there is removed (the link only, never what it points at).
    pub fn prepare(target: &Path, url: &str, sha256_known: bool) -> Result<Part, FetchError> {
        let mut part = Part {
            path: suffixed(target, ".part"),
            meta: suffixed(target, ".part.meta"),
            url: url.into(),
            validator: None,
            inherited: false,
        };
        remove_if_link(&part.meta)?;
        let held = match fs::symlink_metadata(&part.path) {
            Ok(m) if m.file_type().is_symlink() => {
                remove(&part.path)?;
                0
            }
            Ok(m) if !m.is_file() => {
                return Err(io(&part.path)(std::io::Error::other(
                    "is not a regular file, so it cannot hold a partial download; remove it",
                )));
            }
            Ok(m) => m.len(),
            Err(_) => 0,
        };
        let (meta_url, validator) = part.read_meta();
        if held > 0 && sha256_known && meta_url.as_deref().is_none_or(|u| u == url) {
            part.validator = validator;
            part.inherited = true;
        } else {
            part.restart()?;
        }
        Ok(part)
    }

    /// Opens the part for writing, from the start (`append` false) or at its end.
    pub fn open(&self, append: bool) -> Result<File, FetchError> {
        let mut options = OpenOptions::new();
        options.create(true).write(true);
        if append {
            options.append(true);
        } else {
            options.truncate(true);
        }
        no_follow(&mut options)
            .open(&self.path)
            .map_err(io(&self.path))
    }

    /// Bytes held; 0 when there is no part.
    pub fn len(&self) -> u64 {
        fs::symlink_metadata(&self.path).map_or(0, |m| if m.is_file() { m.len() } else { 0 })
    }

    /// Forgets the held bytes and their validator.
    pub fn restart(&mut self) -> Result<(), FetchError> {
        self.validator = None;
        self.inherited = false;
        remove(&self.path)?;
        remove(&self.meta)
    }

    /// Records where the bytes about to be written from zero come from.
    pub fn remember(&mut self, validator: Option<String>) -> Result<(), FetchError> {
        self.validator = validator;
        self.inherited = false;
        let Some(validator) = &self.validator else {
            return remove(&self.meta);
        };
        let text = format!("url {}\nvalidator {validator}\n", self.url);
        let mut options = OpenOptions::new();
        options.create(true).write(true).truncate(true);
        let mut file = no_follow(&mut options)
            .open(&self.meta)
            .map_err(io(&self.meta))?;
        file.write_all(text.as_bytes()).map_err(io(&self.meta))
    }

    /// The sha256 of the held bytes, read without following a link.
    pub fn sha256(&self) -> Result<String, FetchError> {
        let mut options = OpenOptions::new();
        options.read(true);
        let mut file = no_follow(&mut options)
            .open(&self.path)
            .map_err(io(&self.path))?;
        let mut hasher = Sha256::new();
        std::io::copy(&mut file, &mut hasher).map_err(io(&self.path))?;
        Ok(hex::encode(hasher.finalize()))
    }

    /// Moves the finished part to `target` and forgets its validator.
    pub fn complete(&mut self, target: &Path) -> Result<(), FetchError> {
        fs::rename(&self.path, target).map_err(io(target))?;
        remove(&self.meta)
    }

    /// Removes the part and its validator (best effort: used on the way to an error).
    pub fn discard(&mut self) {
        let _ = self.restart();
    }

    fn read_meta(&self) -> (Option<String>, Option<String>) {
        let mut options = OpenOptions::new();
        options.read(true);
        let mut text = String::new();
        let read = no_follow(&mut options)
            .open(&self.meta)
            .and_then(|f| f.take(4096).read_to_string(&mut text));
        if read.is_err() {
            return (None, None);
        }
        let field = |name: &str| {
            text.lines()
                .find_map(|l| l.strip_prefix(name)?.strip_prefix(' '))
                .map(str::to_string)
        };
        let printable = |v: &String| v.bytes().all(|b| (0x20..0x7f).contains(&b));
        (field("url"), field("validator").filter(printable))
    }
}

fn suffixed(target: &Path, suffix: &str) -> PathBuf {
    let mut name = target.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

fn remove(path: &Path) -> Result<(), FetchError> {
    match fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(io(path)(e)),
        _ => Ok(()),
    }
}

fn remove_if_link(path: &Path) -> Result<(), FetchError> {
    match fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_symlink() => remove(path),
        _ => Ok(()),
    }
}

/// Opening fails (ELOOP) when the last component is a symbolic link, so no write can land
/// in a file it points at, even one planted after the checks above.
fn no_follow(options: &mut OpenOptions) -> &mut OpenOptions {
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NOFOLLOW);
    }
    options
}
