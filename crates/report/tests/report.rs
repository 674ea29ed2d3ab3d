//! The report from a small, hand-made results structure.

mod common;

use std::path::Path;

use common::{only_file, results, svg_texts};
use ontosweep_report::write_report;
use ontosweep_results::*;

#[test]
fn charts_are_svg_and_name_what_they_plot() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("unit");
    write_report(&results(), &out).unwrap();
    let texts = svg_texts(&out.join("accuracy.svg"));
    assert!(
        texts.iter().any(|t| t == "plain words (baseline)"),
        "{texts:?}"
    );
    assert!(
        texts
            .iter()
            .any(|t| t == "a picture of a very long and descriptive flower prompt wording"),
        "{texts:?}"
    );
    assert!(texts.iter().any(|t| t == "50.0% [25.0–87.5]"), "{texts:?}");
    assert!(texts.iter().any(|t| t == "75.0% [25.0–87.5]"), "{texts:?}");
    assert!(texts.iter().any(|t| t == "chance 50.0%"), "{texts:?}");
    let per_class = svg_texts(&out.join("per_class.svg"));
    assert!(
        per_class.iter().any(|t| t == "class: dandelion")
            && per_class.iter().any(|t| t == "100.0%"),
        "{per_class:?}"
    );
    let confusion = svg_texts(&out.join(only_file(&out, "confusion_tiny_plain_words_", ".svg")));
    for value in ["1", "2", "0", "daisy", "dandelion"] {
        assert!(
            confusion.iter().any(|t| t == value),
            "{value} not in {confusion:?}"
        );
    }
}

#[test]
fn csv_files_round_trip_and_agree_with_the_results() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("unit");
    let r = results();
    write_report(&r, &out).unwrap();
    let mut summary = csv::Reader::from_path(out.join("summary.csv")).unwrap();
    let header: Vec<String> = summary
        .headers()
        .unwrap()
        .iter()
        .map(String::from)
        .collect();
    let rows: Vec<csv::StringRecord> = summary.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 2);
    let column = |name: &str| header.iter().position(|h| h == name).unwrap();
    for (row, o) in rows.iter().zip(&r.models[0].ontologies) {
        assert_eq!(&row[column("ontology")], o.ontology);
        assert_eq!(
            row[column("accuracy")].parse::<f64>().unwrap(),
            o.metrics.accuracy
        );
        assert_eq!(
            row[column("correct")].parse::<usize>().unwrap(),
            o.metrics.correct
        );
    }
    assert_eq!(
        &rows[0][column("delta_vs_baseline")],
        "",
        "the baseline has no difference to itself"
    );
    assert_eq!(
        rows[1][column("delta_vs_baseline")].parse::<f64>().unwrap(),
        0.25
    );
    assert_eq!(
        rows[1][column("mcnemar_p_holm")].parse::<f64>().unwrap(),
        1.0
    );

    let predictions = std::fs::read_to_string(out.join("predictions.csv")).unwrap();
    assert!(predictions.starts_with(
        "model,ontology,path,true_class,predicted_class,score:daisy,score:dandelion\n"
    ));
    assert_eq!(predictions.lines().count(), 1 + 2 * 4);
    let csv = only_file(&out, "confusion_tiny_plain_words_", ".csv");
    let confusion = std::fs::read_to_string(out.join(csv)).unwrap();
    assert_eq!(confusion.lines().nth(1), Some("daisy,1,1"));
    let skipped = std::fs::read_to_string(out.join("skipped.csv")).unwrap();
    assert_eq!(skipped, "path,reason\ndaisy/broken.jpg,truncated JPEG\n");
    let run: RunMetadata =
        serde_json::from_str(&std::fs::read_to_string(out.join("run.json")).unwrap()).unwrap();
    assert_eq!(run, r.run);
}

#[test]
fn a_rerun_replaces_the_report_whole() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("unit");
    write_report(&results(), &out).unwrap();
    write_report(&results(), &out).unwrap();
    // A file that ontosweep did not write stops the replacement, and stays.
    std::fs::write(out.join("stale.csv"), "old").unwrap();
    let err = write_report(&results(), &out).unwrap_err().to_string();
    assert!(err.contains("stale.csv"), "{err}");
    assert_eq!(
        std::fs::read_to_string(out.join("stale.csv")).unwrap(),
        "old"
    );
    std::fs::remove_file(out.join("stale.csv")).unwrap();
    write_report(&results(), &out).unwrap();
    assert!(out.join("index.html").is_file());
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(
        leftovers,
        vec![std::ffi::OsString::from("unit")],
        "no staging folder may remain"
    );
}

#[test]
fn shard_warnings_reach_the_page_as_text_and_run_json() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("unit");
    let mut results = results();
    let warning = "shard 2 of 3 never ran <b>loud</b>";
    results.run.shards = Some(shards::ShardCheck {
        key: "0123456789ab".into(),
        count: Some(3),
        done: vec![0, 1],
        missing: vec![2],
        images_covered: 80,
        images_total: 120,
        foreign: vec!["shard-0-of-1-ba9876543210.json".into()],
        warnings: vec![warning.into()],
        ..Default::default()
    });
    write_report(&results, &out).unwrap();
    let page =
        scraper::Html::parse_document(&std::fs::read_to_string(out.join("index.html")).unwrap());
    let shown: Vec<String> = page
        .select(&scraper::Selector::parse("p.warning").unwrap())
        .map(|e| e.text().collect())
        .collect();
    assert_eq!(shown, [warning]);
    let note: String = page
        .select(&scraper::Selector::parse("p.note").unwrap())
        .map(|e| e.text().collect::<String>())
        .collect();
    assert!(
        note.contains("Encoded in 3 shards: 2 ran, covering 80 of 120 images"),
        "{note}"
    );
    let run: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("run.json")).unwrap()).unwrap();
    assert_eq!(run["shards"]["missing"], serde_json::json!([2]));
    assert_eq!(
        run["shards"]["foreign"][0],
        "shard-0-of-1-ba9876543210.json"
    );
}

/// The results with the baseline's accuracy at 24.5% [17.2–33.7] and the other's at
/// 45.0% [30.0–49.0]: both value labels, drawn from their upper whisker, would run across
/// the chance line at 50%.
fn results_near_chance() -> SweepResults {
    let mut results = results();
    let values = [(0.245, 0.172, 0.337), (0.45, 0.30, 0.49)];
    for (o, (accuracy, low, high)) in results.models[0].ontologies.iter_mut().zip(values) {
        o.metrics.accuracy = accuracy;
        o.metrics.ci_low = low;
        o.metrics.ci_high = high;
    }
    results
}

/// `points="x1,y1 x2,y2 "` of a polyline, as numbers.
fn points(node: roxmltree::Node) -> Vec<(f64, f64)> {
    node.attribute("points")
        .unwrap_or_default()
        .split_whitespace()
        .filter_map(|p| p.split_once(','))
        .map(|(x, y)| (x.parse().unwrap(), y.parse().unwrap()))
        .collect()
}

#[test]
fn value_labels_start_clear_of_their_whiskers_and_the_chance_line() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("unit");
    write_report(&results_near_chance(), &out).unwrap();
    let text = std::fs::read_to_string(out.join("accuracy.svg")).unwrap();
    let svg = roxmltree::Document::parse(&text).unwrap();
    let lines = |stroke: &str| -> Vec<Vec<(f64, f64)>> {
        svg.descendants()
            .filter(|n| n.has_tag_name("polyline") && n.attribute("stroke") == Some(stroke))
            .map(points)
            .collect()
    };
    let chance = lines("#D62728")[0][0].0;
    let whiskers = lines("#000000");
    let labels: Vec<(f64, f64, String)> = svg
        .descendants()
        .filter(|n| n.has_tag_name("text"))
        .filter_map(|n| {
            let label = n.text()?.trim().to_string();
            label.contains('[').then(|| {
                let at = |a: &str| n.attribute(a).unwrap().parse::<f64>().unwrap();
                (at("x"), at("y"), label)
            })
        })
        .collect();
    assert_eq!(labels.len(), 2, "{labels:?}");
    for (x, y, label) in labels {
        let whisker_end = whiskers
            .iter()
            .filter(|w| w.iter().map(|p| p.1).fold(f64::MAX, f64::min) <= y)
            .filter(|w| w.iter().map(|p| p.1).fold(f64::MIN, f64::max) >= y)
            .flat_map(|w| w.iter().map(|p| p.0))
            .fold(f64::MIN, f64::max);
        assert!(
            x > whisker_end,
            "{label} at {x} starts inside its whiskers (to {whisker_end})"
        );
        // Starting past the line is the only way clear of it: each label reaches it otherwise.
        assert!(
            x > chance,
            "{label} at {x} runs across the chance line at {chance}"
        );
    }
    rendered_labels_clear_the_chance_line(&out, &text);
}

/// The same, measured on the chart as Chromium draws it (real text widths); skipped without
/// Chromium unless `CI` is set.
fn rendered_labels_clear_the_chance_line(out: &Path, svg: &str) {
    let Some(chromium) = ["chromium", "chromium-browser"].into_iter().find(|c| {
        std::process::Command::new(c)
            .arg("--version")
            .output()
            .is_ok()
    }) else {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must install chromium (see .ci/run)"
        );
        eprintln!("chromium not installed: the chart was not measured as drawn");
        return;
    };
    let page = out.join("measure.html");
    let script = r##"
const chance = document.querySelector('polyline[stroke="#D62728"]').points[0].x;
const whiskers = [...document.querySelectorAll('polyline[stroke="#000000"]')].map(p => p.getBBox());
const verdicts = [...document.querySelectorAll('text')]
  .filter(t => t.textContent.includes('['))
  .map(t => {
    const box = t.getBBox(), middle = box.y + box.height / 2;
    const own = whiskers.filter(w => w.y <= middle && middle <= w.y + w.height);
    const whisker = Math.max(...own.map(w => w.x + w.width));
    return { label: t.textContent.trim(), crosses_chance: box.x <= chance && chance <= box.x + box.width, on_whiskers: box.x < whisker };
  });
document.getElementById('verdict').textContent = JSON.stringify(verdicts);
"##;
    std::fs::write(
        &page,
        format!("<!doctype html><html><body>{svg}<pre id=\"verdict\"></pre><script>{script}</script></body></html>"),
    )
    .unwrap();
    let dom = std::process::Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--dump-dom",
        ])
        .arg(format!(
            "--user-data-dir={}",
            out.join("chromium-profile").display()
        ))
        .arg(format!("file://{}", page.display()))
        .output()
        .unwrap();
    let dom = String::from_utf8_lossy(&dom.stdout);
    let verdict = dom
        .split("<pre id=\"verdict\">")
        .nth(1)
        .and_then(|rest| rest.split("</pre>").next())
        .unwrap_or_else(|| panic!("no verdict in the page: {dom}"));
    let verdicts: Vec<serde_json::Value> = serde_json::from_str(&verdict.replace("&quot;", "\""))
        .unwrap_or_else(|e| panic!("{e}: {verdict}"));
    assert_eq!(verdicts.len(), 2, "{verdicts:?}");
    for v in verdicts {
        assert_eq!(v["crosses_chance"], false, "{v}");
        assert_eq!(v["on_whiskers"], false, "{v}");
    }
}
