//! Names that become paths, and the lists of names a message shows.

/// Longest experiment name, in bytes: it becomes a folder name, and staging names add to it.
pub const MAX_NAME_BYTES: usize = 100;

/// One safe path component: an experiment name names `reports/<name>/` and a model id
/// names `models/<id>.yaml`, and a name such as `..` must never point elsewhere.
pub fn check_plain_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("is empty".into());
    }
    if name == "." || name == ".." || name.starts_with('.') {
        return Err("starts with `.`".into());
    }
    if name.len() > MAX_NAME_BYTES {
        return Err(format!("is {} bytes long", name.len()));
    }
    match name
        .chars()
        .find(|&c| !(c.is_alphanumeric() || matches!(c, '.' | '_' | '-')))
    {
        Some(c) => Err(format!("contains {c:?}")),
        None => Ok(()),
    }
}

pub(crate) fn duplicates(items: &[String]) -> Vec<&str> {
    let mut seen = std::collections::BTreeSet::new();
    items
        .iter()
        .filter(|i| !seen.insert(i.as_str()))
        .map(String::as_str)
        .collect()
}

/// The classes a message shows: all of a few, else the nearest to `wanted` and a count, so
/// a 1,000-class dataset gives a line a person can read.
pub(crate) fn some_of(classes: &[String], wanted: &str) -> String {
    const SHOWN: usize = 8;
    if classes.len() <= SHOWN {
        return classes.join(", ");
    }
    let mut near: Vec<&String> = classes.iter().collect();
    near.sort_by_key(|c| ontosweep_clip::echo::edit_distance(wanted, c));
    let shown: Vec<&str> = near.iter().take(5).map(|c| c.as_str()).collect();
    format!("{} in all; nearest: {}", classes.len(), shown.join(", "))
}
