//! The headline chart: its name inside a report ([`HEADLINE_CHART`]), and
//! `reports/<name>.svg`, a copy of it beside the report folders, so the reports folder shows
//! one chart per experiment. The copy starts with [`SIGNATURE`]; only a file that starts
//! with it is ever replaced.

use std::path::Path;

use crate::error::{ReportError, io_error};

/// The headline chart's file name inside a report.
pub const HEADLINE_CHART: &str = "accuracy.svg";

/// The first line of every headline copy: what wrote it, and that it will be replaced.
pub const SIGNATURE: &str =
    "<!-- written by ontosweep: the headline chart of a report, replaced on every sweep -->";

/// What became of the copy.
#[derive(Debug, PartialEq, Eq)]
pub enum HeadlineCopy {
    Written,
    /// `target` exists and ontosweep did not write it: left as it is.
    LeftAlone,
}

/// Copies the headline chart of the report in `report` to `target`, unless `target` is
/// something ontosweep did not write.
pub fn copy_headline_chart(report: &Path, target: &Path) -> Result<HeadlineCopy, ReportError> {
    if let Ok(meta) = std::fs::symlink_metadata(target)
        && !(meta.is_file() && starts_with_signature(target))
    {
        return Ok(HeadlineCopy::LeftAlone);
    }
    let chart = report.join(HEADLINE_CHART);
    let svg = std::fs::read_to_string(&chart).map_err(io_error(&chart))?;
    let temp = target.with_extension(format!("svg.{}.tmp", std::process::id()));
    // `create_new` never follows (or replaces) anything already at the temporary name.
    let mut file = std::fs::File::options()
        .write(true)
        .create_new(true)
        .open(&temp)
        .map_err(io_error(&temp))?;
    use std::io::Write;
    file.write_all(format!("{SIGNATURE}\n{svg}").as_bytes())
        .and_then(|_| std::fs::rename(&temp, target))
        .inspect_err(|_| {
            let _ = std::fs::remove_file(&temp);
        })
        .map_err(io_error(target))?;
    Ok(HeadlineCopy::Written)
}

fn starts_with_signature(path: &Path) -> bool {
    use std::io::Read;
    let mut start = vec![0u8; SIGNATURE.len()];
    std::fs::File::open(path)
        .and_then(|mut f| f.read_exact(&mut start))
        .is_ok_and(|_| start == SIGNATURE.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_only_its_own_copies() {
        let temp = tempfile::tempdir().unwrap();
        let report = temp.path().join("r");
        std::fs::create_dir(&report).unwrap();
        std::fs::write(report.join(HEADLINE_CHART), "<svg/>").unwrap();
        let target = temp.path().join("r.svg");
        assert_eq!(
            copy_headline_chart(&report, &target).unwrap(),
            HeadlineCopy::Written
        );
        std::fs::write(report.join(HEADLINE_CHART), "<svg>2</svg>").unwrap();
        copy_headline_chart(&report, &target).unwrap();
        assert!(
            std::fs::read_to_string(&target)
                .unwrap()
                .ends_with("<svg>2</svg>")
        );

        std::fs::write(&target, "my own drawing").unwrap();
        assert_eq!(
            copy_headline_chart(&report, &target).unwrap(),
            HeadlineCopy::LeftAlone
        );
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "my own drawing");
        let linked = temp.path().join("linked.svg");
        std::os::unix::fs::symlink(&target, &linked).unwrap();
        std::fs::write(&target, format!("{SIGNATURE}\nold")).unwrap();
        assert_eq!(
            copy_headline_chart(&report, &linked).unwrap(),
            HeadlineCopy::LeftAlone,
            "a link is never written through"
        );
    }
}
