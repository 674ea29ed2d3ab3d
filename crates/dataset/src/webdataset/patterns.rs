//! Shard lists as users write them: `{000000..000099}` ranges and `{a,b}` lists anywhere in a
//! path, `*` and `?` in a file name. The product of every brace group is bounded before
//! anything is expanded, and every name a brace expands to must be there.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::DatasetError;

/// Most shards one dataset may list.
pub const MAX_SHARDS: usize = 100_000;

/// One piece of a pattern: text, or a brace group's choices.
enum Piece {
    Text(String),
    Range { from: u64, to: u64, width: usize },
    List(Vec<String>),
}

impl Piece {
    fn len(&self) -> u64 {
        match self {
            Piece::Text(_) => 1,
            Piece::Range { from, to, .. } => (to - from).saturating_add(1),
            Piece::List(items) => items.len() as u64,
        }
    }

    fn choice(&self, i: u64) -> String {
        match self {
            Piece::Text(text) => text.clone(),
            Piece::Range { from, width, .. } => format!("{:0width$}", from + i, width = *width),
            Piece::List(items) => items[i as usize].clone(),
        }
    }
}

/// The pattern's pieces; `{x}` without `..` or `,` stays text, as in a shell.
fn pieces(pattern: &str) -> Result<Vec<Piece>, String> {
    let mut pieces = Vec::new();
    let mut rest = pattern;
    while let Some(open) = rest.find('{') {
        let Some(close) = rest[open..].find('}').map(|c| open + c) else {
            break;
        };
        let group = &rest[open + 1..close];
        if group.contains('{') {
            return Err(format!(
                "{pattern:?}: nested braces are not supported; write each level as its own range, e.g. `{{000000..000009}}`"
            ));
        }
        let piece = if let Some((from, to)) = group.split_once("..") {
            match (from.parse::<u64>(), to.parse::<u64>()) {
                (Ok(a), Ok(b)) if a <= b => Piece::Range {
                    from: a,
                    to: b,
                    width: from.len(),
                },
                _ => {
                    return Err(format!(
                        "{pattern:?}: `{{{group}}}` is not a range; write it ascending with digits, e.g. `{{000000..000099}}`"
                    ));
                }
            }
        } else if group.contains(',') {
            Piece::List(group.split(',').map(String::from).collect())
        } else {
            Piece::Text(format!("{{{group}}}"))
        };
        pieces.push(Piece::Text(rest[..open].to_string()));
        pieces.push(piece);
        rest = &rest[close + 1..];
    }
    pieces.push(Piece::Text(rest.to_string()));
    Ok(pieces)
}

/// Every name the braces of `pattern` stand for, in order; refused before expanding when
/// they would be more than [`MAX_SHARDS`].
pub fn expand_braces(pattern: &str) -> Result<Vec<String>, String> {
    let pieces = pieces(pattern)?;
    let total = pieces
        .iter()
        .try_fold(1u64, |n, p| n.checked_mul(p.len()))
        .filter(|&n| n <= MAX_SHARDS as u64)
        .ok_or_else(|| {
            format!(
                "{pattern:?} names more than {MAX_SHARDS} shards (the product of its brace groups); list fewer"
            )
        })?;
    let mut names = Vec::with_capacity(total as usize);
    for mut n in 0..total {
        // The last group varies fastest, as a shell expands.
        let mut parts: Vec<String> = Vec::with_capacity(pieces.len());
        for piece in pieces.iter().rev() {
            parts.push(piece.choice(n % piece.len()));
            n /= piece.len();
        }
        parts.reverse();
        names.push(parts.concat());
    }
    Ok(names)
}

/// The shards `patterns` name, sorted, each file once. A pattern whose braces name files
/// that are not there is refused with the missing ones listed; a wildcard must match.
/// Paths in messages are shown relative to `base` (the experiment's folder), as written there.
pub fn expand(patterns: &[PathBuf], base: &Path) -> Result<Vec<PathBuf>, DatasetError> {
    let mut shards = Vec::new();
    for pattern in patterns {
        let text = pattern.to_string_lossy().into_owned();
        let mut missing = Vec::new();
        for name in expand_braces(&text)? {
            let path = PathBuf::from(&name);
            let file_name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            if file_name.contains(['*', '?']) {
                let found = glob(&path, &file_name)?;
                if found.is_empty() {
                    return Err(DatasetError::Unreadable(format!(
                        "no tar shard matches {name:?}"
                    )));
                }
                shards.extend(found);
            } else if path.is_dir() {
                return Err(DatasetError::Malformed(folder_given(&path, base)));
            } else if std::fs::metadata(&path).is_ok_and(|m| m.is_file()) {
                shards.push(path);
            } else if path.exists() {
                return Err(DatasetError::Unreadable(format!(
                    "{name:?} is not a regular file; a shard is a plain uncompressed .tar"
                )));
            } else {
                missing.push(name);
            }
            if shards.len() > MAX_SHARDS {
                return Err(DatasetError::Malformed(format!(
                    "more than {MAX_SHARDS} shards listed"
                )));
            }
        }
        if !missing.is_empty() {
            return Err(DatasetError::Unreadable(listed_but_missing(
                &text, &missing,
            )));
        }
    }
    shards.sort();
    shards.dedup();
    refuse_one_file_twice(&shards).map_err(DatasetError::Duplicate)?;
    Ok(shards)
}

fn listed_but_missing(pattern: &str, missing: &[String]) -> String {
    let shown: Vec<String> = missing.iter().take(5).map(|m| format!("  {m}")).collect();
    let more = match missing.len() {
        n if n > 5 => format!("\n  … and {} more", n - 5),
        _ => String::new(),
    };
    format!(
        "{} shard(s) named by {pattern:?} are not there:\n{}{more}\nFix the range to the shards that exist (CLIP_benchmark's nshards.txt says how many), or copy the missing ones",
        missing.len(),
        shown.join("\n"),
    )
}

/// A folder given where shards were expected: name the line that would read them.
pub fn folder_given(folder: &Path, base: &Path) -> String {
    let relative = |p: &Path| p.strip_prefix(base).unwrap_or(p).display().to_string();
    let shown = relative(folder);
    match tar_folders(folder).as_slice() {
        [] => format!(
            "{shown} is a folder with no .tar shards in it or in its sub-folders; `webdataset` names the shard files, e.g. `webdataset: {shown}/shard-{{000000..000009}}.tar`"
        ),
        [only] => format!(
            "{shown} is a folder; name its shards: `webdataset: {}/*.tar`",
            relative(only)
        ),
        several => format!(
            "{shown} is a folder; name the split's shards, one of: {}",
            several
                .iter()
                .map(|f| format!("`webdataset: {}/*.tar`", relative(f)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// `folder` itself and its direct sub-folders that hold `.tar` files (CLIP_benchmark keeps
/// each split's shards in `<root>/<split>/`).
pub fn tar_folders(folder: &Path) -> Vec<PathBuf> {
    let holds_tars = |dir: &Path| {
        std::fs::read_dir(dir).is_ok_and(|entries| {
            entries
                .flatten()
                .take(10_000)
                .any(|e| e.file_name().to_string_lossy().ends_with(".tar"))
        })
    };
    let mut found = Vec::new();
    if holds_tars(folder) {
        found.push(folder.to_path_buf());
    }
    if let Ok(entries) = std::fs::read_dir(folder) {
        let mut subs: Vec<PathBuf> = entries
            .flatten()
            .take(10_000)
            .map(|e| e.path())
            .filter(|p| p.is_dir() && holds_tars(p))
            .collect();
        subs.sort();
        found.extend(subs);
    }
    found
}

/// Two names for one file (a link) would count its samples twice.
pub(crate) fn refuse_one_file_twice(shards: &[PathBuf]) -> Result<(), String> {
    use std::os::unix::fs::MetadataExt;
    let mut seen: BTreeMap<(u64, u64), &Path> = BTreeMap::new();
    for shard in shards {
        let meta = std::fs::metadata(shard).map_err(|e| format!("{}: {e}", shard.display()))?;
        if let Some(first) = seen.insert((meta.dev(), meta.ino()), shard) {
            return Err(format!(
                "{} and {} are the same shard file (a link or a copy by hard link): its samples would count twice; list it once",
                first.display(),
                shard.display()
            ));
        }
    }
    Ok(())
}

/// Files in `path`'s folder whose names match `pattern` (`*`, `?`); the folder part takes
/// no wildcards.
fn glob(path: &Path, pattern: &str) -> Result<Vec<PathBuf>, String> {
    let folder = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    if folder.to_string_lossy().contains(['*', '?']) {
        return Err(format!(
            "{}: `*` and `?` work in the file name only; name the folders, or use a brace range for them",
            path.display()
        ));
    }
    let entries = std::fs::read_dir(folder).map_err(|e| format!("{}: {e}", folder.display()))?;
    let mut out: Vec<PathBuf> = entries
        .flatten()
        .filter(|e| e.file_name().to_str().is_some_and(|n| wildcard(pattern, n)))
        .map(|e| e.path())
        .filter(|p| std::fs::metadata(p).is_ok_and(|m| m.is_file()))
        .collect();
    out.sort();
    Ok(out)
}

/// `*` (any run) and `?` (one character) against a whole name.
fn wildcard(pattern: &str, name: &str) -> bool {
    let (p, n): (Vec<char>, Vec<char>) = (pattern.chars().collect(), name.chars().collect());
    let (mut i, mut j, mut star, mut mark) = (0, 0, None, 0);
    while j < n.len() {
        if i < p.len() && (p[i] == '?' || p[i] == n[j]) {
            i += 1;
            j += 1;
        } else if i < p.len() && p[i] == '*' {
            star = Some(i);
            mark = j;
            i += 1;
        } else if let Some(s) = star {
            i = s + 1;
            mark += 1;
            j = mark;
        } else {
            return false;
        }
    }
    p[i..].iter().all(|&c| c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_match_whole_names() {
        assert!(wildcard("shard-*.tar", "shard-000001.tar"));
        assert!(!wildcard("shard-*.tar", "shard-000001.tar.gz"));
        assert!(wildcard("s?.tar", "s1.tar"));
        assert!(!wildcard("s?.tar", "s12.tar"));
    }

    #[test]
    fn braces_expand_ranges_and_lists_in_shell_order() {
        assert_eq!(
            expand_braces("a/{0..2}/s-{00..01}.tar").unwrap(),
            [
                "a/0/s-00.tar",
                "a/0/s-01.tar",
                "a/1/s-00.tar",
                "a/1/s-01.tar",
                "a/2/s-00.tar",
                "a/2/s-01.tar"
            ]
        );
        assert_eq!(
            expand_braces("{train,test}/x.tar").unwrap(),
            ["train/x.tar", "test/x.tar"]
        );
        assert_eq!(expand_braces("{x}.tar").unwrap(), ["{x}.tar"]);
        for bad in ["{9..0}.tar", "{a..b}.tar", "{{0..1}}.tar"] {
            assert!(expand_braces(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_product_of_ranges_is_bounded_before_expanding() {
        // 10^5 × 10^5 names: refused by arithmetic, not by running out of memory.
        let err = expand_braces("{0..99999}/shard-{000000..099999}.tar")
            .unwrap_err()
            .to_string();
        assert!(err.contains("more than 100000 shards"), "{err}");
        let huge = "{0..18446744073709551614}{0..18446744073709551614}";
        assert!(expand_braces(huge).is_err());
        assert_eq!(expand_braces("{0..99999}").unwrap().len(), 100_000);
    }

    #[test]
    fn every_shard_a_brace_names_must_be_there() {
        let dir = tempfile::tempdir().unwrap();
        for n in [0, 2] {
            std::fs::write(dir.path().join(format!("s-{n}.tar")), b"").unwrap();
        }
        let err = expand(&[dir.path().join("s-{0..3}.tar")], Path::new(""))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("2 shard(s)") && err.contains("s-1.tar") && err.contains("s-3.tar"),
            "{err}"
        );
        assert_eq!(
            expand(&[dir.path().join("s-*.tar")], Path::new(""))
                .unwrap()
                .len(),
            2
        );
        assert_eq!(
            expand(&[dir.path().join("s-{0,2}.tar")], Path::new(""))
                .unwrap()
                .len(),
            2
        );
    }

    #[test]
    fn a_folder_of_shards_gets_the_line_to_write() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("test")).unwrap();
        std::fs::write(dir.path().join("test/0.tar"), b"").unwrap();
        let err = expand(&[dir.path().join("cb")], dir.path())
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("no tar shard matches") || err.contains("not there"),
            "{err}"
        );
        std::fs::create_dir(dir.path().join("cb")).unwrap();
        std::fs::rename(dir.path().join("test"), dir.path().join("cb/test")).unwrap();
        let err = expand(&[dir.path().join("cb")], dir.path())
            .unwrap_err()
            .to_string();
        let want = "`webdataset: cb/test/*.tar`";
        assert!(err.contains(want), "{err}");
    }

    #[test]
    fn one_file_under_two_names_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.tar"), b"").unwrap();
        std::os::unix::fs::symlink(dir.path().join("a.tar"), dir.path().join("b.tar")).unwrap();
        let err = expand(&[dir.path().join("*.tar")], Path::new(""))
            .unwrap_err()
            .to_string();
        assert!(err.contains("same shard file"), "{err}");
    }
}
