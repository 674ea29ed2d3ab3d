//! Where the checkout is, found each time xtask runs. Cargo does not rebuild xtask when a
//! built checkout is copied or moved, so a folder baked in at compile time would send the
//! copy's builds, reports and cache to the original.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// The checkout xtask runs in; exits with a message when there is none around it.
pub fn workspace_root() -> PathBuf {
    static ROOT: OnceLock<PathBuf> = OnceLock::new();
    ROOT.get_or_init(|| {
        let manifest_dir = std::env::var_os("CARGO_MANIFEST_DIR").map(PathBuf::from);
        let current = std::env::current_dir().ok();
        find(manifest_dir.as_deref(), current.as_deref()).unwrap_or_else(|| {
            eprintln!(
                "error: cannot tell which ontosweep checkout this is: run `cargo xtask ...` inside one (the folder with Cargo.toml and xtask/)"
            );
            std::process::exit(2)
        })
    })
    .clone()
}

/// `cargo run` (behind the `cargo xtask` alias) tells the running binary its package folder,
/// `<checkout>/xtask`; run any other way, the checkout around the current folder counts.
fn find(manifest_dir: Option<&Path>, current: Option<&Path>) -> Option<PathBuf> {
    let from_cargo = manifest_dir
        .and_then(Path::parent)
        .filter(|root| is_checkout(root));
    let around = || current?.ancestors().find(|dir| is_checkout(dir));
    from_cargo.or_else(around).map(Path::to_path_buf)
}

fn is_checkout(dir: &Path) -> bool {
    dir.join("Cargo.toml").is_file() && dir.join("xtask/Cargo.toml").is_file()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn checkout(at: &Path) {
        std::fs::create_dir_all(at.join("xtask/src")).unwrap();
        std::fs::write(at.join("Cargo.toml"), "[workspace]\n").unwrap();
        std::fs::write(at.join("xtask/Cargo.toml"), "[package]\n").unwrap();
    }

    #[test]
    fn cargo_s_package_folder_wins_then_the_folders_around() {
        let scratch = crate::scratch::Scratch::new();
        let dir = &scratch.0;
        let (one, two) = (dir.join("one"), dir.join("two"));
        checkout(&one);
        checkout(&two);
        let inside_two = two.join("xtask/src");
        assert_eq!(
            find(Some(&one.join("xtask")), Some(&inside_two)),
            Some(one.clone())
        );
        assert_eq!(find(None, Some(&inside_two)), Some(two.clone()));
        // A package folder that is no checkout's (moved away since) is not trusted.
        assert_eq!(
            find(Some(&dir.join("gone/xtask")), Some(&inside_two)),
            Some(two)
        );
        assert_eq!(find(None, Some(dir)), None);
    }
}
