//! What a CIFAR pickle holds: a batch's labels and where its pixel rows lie (never the
//! pixels themselves), or the meta file's class names.

use std::io::BufReader;
use std::path::Path;

use super::pickle::{self, Id, Pickle, Value};
use crate::DatasetError;

/// Largest pickle read: CIFAR-100's train batch, the largest, has 155 MB.
pub const MAX_PICKLE_BYTES: u64 = 512 << 20;
/// One image's row in `data`: 32×32 pixels, the R plane, then G, then B.
pub const IMAGE_BYTES: u64 = 32 * 32 * 3;
/// The modules numpy's `_reconstruct` has lived in (numpy 2 renamed `core` to `_core`).
const RECONSTRUCT_MODULES: &[&str] = &["numpy.core.multiarray", "numpy._core.multiarray"];

/// A batch's labels, in file order, and where the first image's pixels start.
#[derive(Debug, PartialEq)]
pub struct Batch {
    pub labels: Vec<usize>,
    pub data_offset: u64,
}

/// The labels under `label_key` (each below `classes`) and the pixel rows of batch `path`.
pub fn read_batch(path: &Path, label_key: &str, classes: usize) -> Result<Batch, DatasetError> {
    let pickle = parse_file(path)?;
    batch_of(&pickle, label_key, classes).map_err(|e| e.in_context(path.display()))
}

/// The class names under `key` of meta file `path`, in index order.
pub fn read_names(path: &Path, key: &str) -> Result<Vec<String>, DatasetError> {
    let pickle = parse_file(path)?;
    names_of(&pickle, key).map_err(|e| e.in_context(path.display()))
}

/// Only a regular file, refused by its size before any byte is read.
fn parse_file(path: &Path) -> Result<Pickle, DatasetError> {
    let unreadable = |e: std::io::Error| {
        DatasetError::Unreadable(format!("cannot read {}: {e}", path.display()))
    };
    let file = ontosweep_clip::files::open_regular(path).map_err(unreadable)?;
    let len = file.metadata().map_err(unreadable)?.len();
    if len > MAX_PICKLE_BYTES {
        return Err(DatasetError::Malformed(format!(
            "{}: it has {len} bytes, over the limit of {} MiB for a CIFAR pickle (the largest real one has 155 MB); is this the right file?",
            path.display(),
            MAX_PICKLE_BYTES >> 20
        )));
    }
    parse(BufReader::new(file), len).map_err(|e| e.in_context(path.display()))
}

pub fn parse<R: std::io::Read + std::io::Seek>(
    source: R,
    len: u64,
) -> Result<Pickle, DatasetError> {
    pickle::parse(source, len).map_err(|e| {
        DatasetError::Malformed(format!("not a CIFAR pickle as torchvision reads it: {e}"))
    })
}

pub fn batch_of(p: &Pickle, label_key: &str, classes: usize) -> Result<Batch, DatasetError> {
    let labels = labels_of(p, label_key, classes)?;
    let data = item(p, "data")?;
    let (count, row, data_offset) = uint8_rows(p, data).map_err(DatasetError::Malformed)?;
    if row != IMAGE_BYTES {
        return Err(DatasetError::Malformed(format!(
            "`data` has rows of {row} bytes, not {IMAGE_BYTES} (32×32 pixels × 3 colours): not a CIFAR batch"
        )));
    }
    if count != labels.len() as u64 {
        return Err(DatasetError::Malformed(format!(
            "`data` holds {count} images but `{label_key}` has {} labels: the file is damaged; download it again",
            labels.len()
        )));
    }
    Ok(Batch {
        labels,
        data_offset,
    })
}

fn labels_of(p: &Pickle, key: &str, classes: usize) -> Result<Vec<usize>, DatasetError> {
    let Value::List(items) = p.get(item(p, key)?) else {
        return Err(DatasetError::Malformed(format!(
            "`{key}` is {}, not a list of class indices",
            p.describe(item(p, key)?)
        )));
    };
    let mut labels = Vec::with_capacity(items.len());
    for (index, &id) in items.iter().enumerate() {
        match p.get(id) {
            Value::Int(label) if (0..classes as i64).contains(label) => {
                labels.push(*label as usize);
            }
            Value::Int(label) => {
                return Err(DatasetError::Labels(format!(
                    "image {index} has label {label}, but the meta file names {classes} classes (0 to {}): the batch and the meta file do not belong together; download them again",
                    classes.saturating_sub(1)
                )));
            }
            _ => {
                return Err(DatasetError::Malformed(format!(
                    "`{key}`'s item {index} is {}, not a class index",
                    p.describe(id)
                )));
            }
        }
    }
    Ok(labels)
}

pub fn names_of(p: &Pickle, key: &str) -> Result<Vec<String>, DatasetError> {
    let list = item(p, key)?;
    let Value::List(items) = p.get(list) else {
        return Err(DatasetError::Malformed(format!(
            "`{key}` is {}, not a list of class names",
            p.describe(list)
        )));
    };
    let mut names: Vec<String> = Vec::with_capacity(items.len());
    for (index, &id) in items.iter().enumerate() {
        let name = match p.get(id) {
            Value::Str { bytes: Some(b), .. } => String::from_utf8(b.clone()).ok(),
            _ => None,
        }
        .ok_or_else(|| {
            DatasetError::Malformed(format!(
                "`{key}`'s item {index} is {}, not a class name",
                p.describe(id)
            ))
        })?;
        if names.contains(&name) {
            return Err(DatasetError::Duplicate(format!(
                "`{key}` names `{name}` twice: prompts are keyed by class name, so the two classes could not be told apart"
            )));
        }
        names.push(name);
    }
    if names.is_empty() {
        return Err(DatasetError::Empty(format!("`{key}` names no class")));
    }
    Ok(names)
}

/// The value under `key` of the pickle's dict.
fn item(p: &Pickle, key: &str) -> Result<Id, DatasetError> {
    if !matches!(p.get(p.root), Value::Dict(_)) {
        return Err(DatasetError::Malformed(format!(
            "it holds {}, not the dict of a CIFAR pickle",
            p.describe(p.root)
        )));
    }
    p.item(p.root, key).ok_or_else(|| {
        DatasetError::Malformed(format!(
            "it has no `{key}`: not the CIFAR file expected here (CIFAR-10's and CIFAR-100's differ)"
        ))
    })
}

/// Rows, bytes per row and the offset of the pixel bytes of the 2-D uint8 numpy array `id`,
/// pickled as `_reconstruct(ndarray, (0,), b'b')` with the state
/// `(version, shape, dtype, fortran_order, raw_bytes)`.
fn uint8_rows(p: &Pickle, id: Id) -> Result<(u64, u64, u64), String> {
    let not_array = || format!("`data` is {}, not a numpy array", p.describe(id));
    let Value::Reduced { func, state, .. } = p.get(id) else {
        return Err(not_array());
    };
    if !RECONSTRUCT_MODULES
        .iter()
        .any(|m| is_global(p, *func, m, "_reconstruct"))
    {
        return Err(not_array());
    }
    let state = state.ok_or("`data` is a numpy array without its state")?;
    let items = match p.get(state) {
        Value::Tuple(items) if items.len() == 5 => &items[1..],
        Value::Tuple(items) if items.len() == 4 => &items[..],
        _ => return Err(format!("`data`'s state is {}", p.describe(state))),
    };
    let (rows, row) = shape(p, items[0])?;
    require_uint8(p, items[1])?;
    match p.get(items[2]) {
        Value::Bool(false) | Value::Int(0) => {}
        _ => return Err("`data` is not stored row by row (C order)".into()),
    }
    let (offset, len) = raw_bytes(p, items[3])?;
    let needed = rows.checked_mul(row).ok_or("`data`'s shape is too large")?;
    if len != needed {
        return Err(format!(
            "`data` holds {len} bytes, but its shape ({rows}, {row}) needs {needed}: the file is damaged; download it again"
        ));
    }
    Ok((rows, row, offset))
}

fn shape(p: &Pickle, id: Id) -> Result<(u64, u64), String> {
    if let Value::Tuple(dims) = p.get(id)
        && let [rows, row] = dims.as_slice()
        && let (Value::Int(rows), Value::Int(row)) = (p.get(*rows), p.get(*row))
        && let (Ok(rows), Ok(row)) = (u64::try_from(*rows), u64::try_from(*row))
    {
        return Ok((rows, row));
    }
    Err(format!(
        "`data`'s shape is {}, not (images, {IMAGE_BYTES})",
        p.describe(id)
    ))
}

/// numpy pickles `uint8` as `dtype('u1', False, True)`.
fn require_uint8(p: &Pickle, id: Id) -> Result<(), String> {
    if let Value::Reduced { func, args, .. } = p.get(id)
        && is_global(p, *func, "numpy", "dtype")
        && let Value::Tuple(args) = p.get(*args)
        && let Some(Value::Str {
            bytes: Some(kind), ..
        }) = args.first().map(|&a| p.get(a))
    {
        if kind.as_slice() == b"u1" {
            return Ok(());
        }
        return Err(format!(
            "`data` has dtype `{}`, not uint8 (`u1`)",
            String::from_utf8_lossy(kind)
        ));
    }
    Err(format!("`data`'s dtype is {}", p.describe(id)))
}

/// Where the pixel bytes lie: they must be a byte string, stored as it is.
fn raw_bytes(p: &Pickle, id: Id) -> Result<(u64, u64), String> {
    match p.get(id) {
        Value::Str {
            offset,
            len,
            text: false,
            ..
        } => Ok((*offset, *len)),
        Value::Reduced { func, .. } if is_global(p, *func, "_codecs", "encode") => Err(
            "`data`'s pixels were pickled as text (Python 3's pickle protocol 2 turns bytes into a `_codecs.encode` call), so they do not lie in the file as bytes: use the files CIFAR's site serves (torchvision's download=True), or pickle with protocol 3 or later".into(),
        ),
        _ => Err(format!(
            "`data`'s pixels are {}, not a byte string",
            p.describe(id)
        )),
    }
}

fn is_global(p: &Pickle, id: Id, module: &str, name: &str) -> bool {
    matches!(p.get(id), Value::Global { module: m, name: n } if m == module && n == name)
}
