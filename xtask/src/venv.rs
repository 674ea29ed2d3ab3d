//! Python venvs under `target/` for the tools xtask runs: built in a staging folder beside
//! the venv, stamped with the requirements they were built from, and renamed into place
//! only once pip succeeded. A venv without its stamp (a run killed half-way, another
//! requirement list) is never used; it is rebuilt and replaced whole. Nothing outside the
//! venv's own folder is touched.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::python::run;
use crate::staging::Staging;

const STAMP: &str = "requirements.txt";

/// The Python of the venv at `venv`, built from `requirements` (a requirements file's text)
/// with `pip install <pip_flags> --requirement` unless it already carries that stamp.
/// `what` names the tools for messages; `pip_failed` says why pip may have failed.
pub fn stamped(
    venv: &Path,
    requirements: &str,
    pip_flags: &[&str],
    what: &str,
    pip_failed: &str,
) -> Result<PathBuf, String> {
    let python = venv.join("bin/python");
    if fs::read_to_string(venv.join(STAMP)).is_ok_and(|stamp| stamp == requirements)
        && python.exists()
    {
        return Ok(python);
    }
    eprintln!("installing {what} into {}", venv.display());
    let staging = Staging::new(venv)?;
    let system = std::env::var("PYTHON").unwrap_or_else(|_| "python3".into());
    run(
        Command::new(&system)
            .args(["-m", "venv"])
            .arg(&staging.path),
        &format!("could not create a Python venv with `{system} -m venv`"),
    )?;
    let file = staging.path.join("requirements-to-install.txt");
    fs::write(&file, requirements).map_err(|e| format!("cannot write {}: {e}", file.display()))?;
    run(
        Command::new(staging.path.join("bin/python"))
            .args([
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
            ])
            .arg("--no-input")
            .args(pip_flags)
            .arg("--requirement")
            .arg(&file),
        pip_failed,
    )?;
    // The stamp last: a venv without it is never used.
    fs::write(staging.path.join(STAMP), requirements)
        .map_err(|e| format!("cannot write the stamp in {}: {e}", staging.path.display()))?;
    if venv.exists() {
        fs::remove_dir_all(venv)
            .map_err(|e| format!("cannot remove the old {}: {e}", venv.display()))?;
    }
    fs::rename(&staging.path, venv).map_err(|e| {
        format!(
            "cannot move {} to {}: {e}",
            staging.path.display(),
            venv.display()
        )
    })?;
    Ok(python)
}
