//! What a sample's label means: a `.cls` index into the class names, or a `.json` `label`
//! (a class name or such an index). Anything else is a bad label, never a silent skip.

use ontosweep_clip::echo::edit_distance;

use super::tar_index::RawLabel;

/// The class names a label may refer to.
pub struct LabelNames<'a> {
    /// Index order (`classnames.txt`, else `dataset.classes`): what `.cls` indices point into.
    pub by_index: Option<&'a [String]>,
    /// Whether `by_index` is every class (a class-names file), so a name outside it is no
    /// class; `dataset.classes` alone may be a subset, and other names are left out.
    pub complete: bool,
    /// The file `by_index` came from, for messages.
    pub source: &'a str,
}

/// The class name one label member names, or why it names none.
pub fn class_name(label: &RawLabel, names: &LabelNames) -> Result<Result<String, String>, String> {
    match label {
        RawLabel::Cls(text) => {
            let text = text.trim();
            if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
                return Ok(Err(format!(
                    "`.cls` holds {text:?}, not a class index (0, 1, 2, …){}",
                    nearest_hint(text, names.by_index)
                )));
            }
            index(text.parse::<usize>().ok(), text, names)
        }
        RawLabel::Json(serde_json::Value::Number(n)) => {
            let text = n.to_string();
            match n.as_u64() {
                Some(i) => index(usize::try_from(i).ok(), &text, names),
                None => Ok(Err(format!(
                    "`label` {text} is not a class index (0, 1, 2, …)"
                ))),
            }
        }
        RawLabel::Json(serde_json::Value::String(name)) => {
            let name = name.trim();
            if name.is_empty() {
                return Ok(Err("an empty `label`".into()));
            }
            match names.by_index.filter(|_| names.complete) {
                Some(all) if !all.iter().any(|n| n == name) => Ok(Err(format!(
                    "`label` {name:?} is none of the {} class names in {}{}",
                    all.len(),
                    names.source,
                    nearest_hint(name, Some(all))
                ))),
                _ => Ok(Ok(name.to_string())),
            }
        }
        RawLabel::Json(other) => Ok(Err(format!(
            "`label` {other} is neither a class name nor a class index"
        ))),
    }
}

/// The name at a class index; the outer error stops the dataset (indices without names).
fn index(
    index: Option<usize>,
    text: &str,
    names: &LabelNames,
) -> Result<Result<String, String>, String> {
    let all = names.by_index.ok_or_else(|| {
        format!("the shards' labels are class indices (such as {text}): give the class names in index order, `dataset.classnames: classnames.txt` (one per line) or `dataset.classes`")
    })?;
    Ok(index.and_then(|i| all.get(i)).cloned().ok_or_else(|| {
        format!(
            "class index {text} is past the end of {}, which has {} names (indices 0–{}): a line missing there?",
            names.source,
            all.len(),
            all.len().saturating_sub(1)
        )
    }))
}

/// `(nearest class name: `x`)` when one is close, case aside.
fn nearest_hint(text: &str, names: Option<&[String]>) -> String {
    let lower = text.to_lowercase();
    names
        .unwrap_or_default()
        .iter()
        .map(|n| (edit_distance(&lower, &n.to_lowercase()), n))
        .filter(|(d, _)| *d <= 2.max(lower.chars().count() / 4))
        .min()
        .map(|(_, n)| format!(" (nearest class name: `{n}`)"))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn only_whole_indices_and_known_names_are_labels() {
        let all = names(&["daisy", "dandelion"]);
        let with = LabelNames {
            by_index: Some(&all),
            complete: true,
            source: "classnames.txt",
        };
        let cls = |t: &str| class_name(&RawLabel::Cls(t.into()), &with).unwrap();
        let json = |v: serde_json::Value| class_name(&RawLabel::Json(v), &with).unwrap();
        assert_eq!(cls("1\n"), Ok("dandelion".into()));
        assert_eq!(json(serde_json::json!(0)), Ok("daisy".into()));
        assert_eq!(json(serde_json::json!("daisy")), Ok("daisy".into()));
        let bad = [
            cls("Dandelion"),
            cls("-1"),
            cls("1.0"),
            cls("100000000000000000000000000"),
            cls("2"),
            cls(""),
            json(serde_json::json!(-1)),
            json(serde_json::json!(1.5)),
            json(serde_json::json!("rose")),
            json(serde_json::json!(null)),
        ];
        for verdict in &bad {
            assert!(verdict.is_err(), "{verdict:?}");
        }
        assert!(bad[0].as_ref().unwrap_err().contains("`dandelion`"));
        assert!(bad[4].as_ref().unwrap_err().contains("2 names"));
        let without = LabelNames {
            by_index: None,
            complete: false,
            source: "",
        };
        assert!(class_name(&RawLabel::Cls("0".into()), &without).is_err());
        assert_eq!(
            class_name(&RawLabel::Json(serde_json::json!("zinnia")), &without).unwrap(),
            Ok("zinnia".into())
        );
    }
}
