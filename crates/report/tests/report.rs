//! The report from a small, hand-made results structure.

use std::collections::BTreeMap;
use std::path::Path;

use ontosweep_report::write_report;
use ontosweep_results::*;

fn metrics(correct: usize, n: usize) -> Metrics {
    Metrics {
        n,
        correct,
        accuracy: correct as f64 / n as f64,
        ci_low: 0.25,
        ci_high: 0.875,
        balanced_accuracy: 0.5,
        macro_f1: 0.4,
        ece: 0.125,
        top_k: vec![],
        per_class: vec![
            ClassMetrics {
                class: "daisy".into(),
                support: 2,
                precision: 1.0,
                recall: 0.5,
                f1: 2.0 / 3.0,
            },
            ClassMetrics {
                class: "dandelion".into(),
                support: 2,
                precision: 0.5,
                recall: 1.0,
                f1: 2.0 / 3.0,
            },
        ],
        confusion: vec![vec![1, 1], vec![0, 2]],
    }
}

fn ontology(
    name: &str,
    predictions: Vec<usize>,
    vs_baseline: Option<Comparison>,
) -> OntologyResults {
    let correct = predictions
        .iter()
        .zip([0, 0, 1, 1])
        .filter(|(p, l)| **p == *l)
        .count();
    OntologyResults {
        ontology: name.into(),
        prompts: BTreeMap::from([
            ("daisy".into(), vec![format!("{name} daisy")]),
            ("dandelion".into(), vec![format!("{name} dandelion")]),
        ]),
        probabilities: predictions
            .iter()
            .map(|&p| {
                if p == 0 {
                    vec![0.75, 0.25]
                } else {
                    vec![0.25, 0.75]
                }
            })
            .collect(),
        predictions,
        metrics: metrics(correct, 4),
        vs_baseline,
    }
}

fn results() -> SweepResults {
    let images = (0..4)
        .map(|i| ImageRecord {
            path: format!("{}/{i}.jpg", if i < 2 { "daisy" } else { "dandelion" }),
            source: format!("/nonexistent/{i}.jpg"),
            label: usize::from(i >= 2),
        })
        .collect();
    let comparison = Comparison {
        delta: 0.25,
        delta_ci_low: -0.25,
        delta_ci_high: 0.75,
        gained: 1,
        lost: 0,
        mcnemar_p: 1.0,
        mcnemar_p_holm: 1.0,
    };
    SweepResults {
        experiment: "unit".into(),
        classes: vec!["daisy".into(), "dandelion".into()],
        baseline: "plain words".into(),
        images,
        skipped: vec![SkippedFile {
            path: "daisy/broken.jpg".into(),
            reason: "truncated JPEG".into(),
        }],
        models: vec![ModelResults {
            model: "tiny".into(),
            logit_scale: 100.0,
            ontologies: vec![
                ontology("plain words", vec![0, 1, 1, 0], None),
                ontology(
                    "a picture of a very long and descriptive flower prompt wording",
                    vec![0, 1, 1, 1],
                    Some(comparison),
                ),
            ],
            vs_reference: None,
        }],
        run: RunMetadata {
            batch_size: 32,
            ..Default::default()
        },
    }
}

fn svg_texts(path: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(path).unwrap();
    let document = roxmltree::Document::parse(&text)
        .unwrap_or_else(|e| panic!("{} is not XML: {e}", path.display()));
    assert_eq!(document.root_element().tag_name().name(), "svg");
    document
        .descendants()
        .filter(|n| n.has_tag_name("text"))
        .filter_map(|n| n.text().map(|t| t.trim().to_string()))
        .collect()
}

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
    let confusion = svg_texts(&out.join("confusion_tiny_plain_words.svg"));
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
    let confusion = std::fs::read_to_string(out.join("confusion_tiny_plain_words.csv")).unwrap();
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
    std::fs::write(out.join("stale.csv"), "old").unwrap();
    write_report(&results(), &out).unwrap();
    assert!(!out.join("stale.csv").exists());
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
