//! What the report tests share: hand-made results of two classes and four images (with a
//! prompt search to add), and reading back what the report wrote.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::Path;

use ontosweep_results::*;

pub fn metrics(correct: usize, n: usize) -> Metrics {
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
        confusion: cells(&[vec![1, 1], vec![0, 2]]),
    }
}

/// The non-zero cells of a whole matrix.
pub fn cells(matrix: &[Vec<usize>]) -> Vec<ConfusionCell> {
    let mut cells = Vec::new();
    for (true_class, row) in matrix.iter().enumerate() {
        for (predicted, &count) in row.iter().enumerate() {
            if count > 0 {
                cells.push(ConfusionCell {
                    true_class,
                    predicted,
                    count,
                });
            }
        }
    }
    cells
}

/// The predicted classes an ontology's scores hold.
pub fn predictions(o: &OntologyResults) -> Vec<usize> {
    let scores = o.scores.to_vec().unwrap();
    scores.iter().map(ImageScores::predicted).collect()
}

pub fn ontology(
    name: &str,
    predictions: Vec<usize>,
    vs_baseline: Option<Comparison>,
) -> OntologyResults {
    let right: Vec<bool> = predictions
        .iter()
        .zip([0, 0, 1, 1])
        .map(|(p, l)| *p == l)
        .collect();
    let correct = right.iter().filter(|&&r| r).count();
    OntologyResults {
        ontology: name.into(),
        prompts: BTreeMap::from([
            ("daisy".into(), vec![format!("{name} daisy")]),
            ("dandelion".into(), vec![format!("{name} dandelion")]),
        ]),
        scores: on_disk(
            predictions
                .iter()
                .zip([0, 0, 1, 1])
                .map(|(&p, truth)| ImageScores {
                    top: vec![(p, 0.75), (1 - p, 0.25)].into(),
                    true_probability: if p == truth { 0.75 } else { 0.25 },
                    true_rank: if p == truth { 1 } else { 2 },
                })
                .collect(),
        ),
        probabilities: on_disk(
            predictions
                .iter()
                .map(|&p| {
                    if p == 0 {
                        vec![0.75, 0.25]
                    } else {
                        vec![0.25, 0.75]
                    }
                })
                .collect(),
        ),
        correct: right,
        metrics: metrics(correct, 4),
        vs_baseline,
        search: None,
        control: None,
    }
}

/// Records kept as a sweep keeps them.
pub fn on_disk<T: ontosweep_records::Record>(records: Vec<T>) -> ontosweep_results::Records<T> {
    ontosweep_results::Records::write_all(&records).unwrap()
}

/// Changes every image record.
pub fn edit_images(r: &mut SweepResults, mut edit: impl FnMut(usize, &mut ImageRecord)) {
    let mut images = r.images.to_vec().unwrap();
    for (i, image) in images.iter_mut().enumerate() {
        edit(i, image);
    }
    r.images = on_disk(images);
}

pub fn results() -> SweepResults {
    let images = on_disk(
        (0..4)
            .map(|i| ImageRecord {
                path: format!("{}/{i}.jpg", if i < 2 { "daisy" } else { "dandelion" }),
                source: format!("/nonexistent/{i}.jpg"),
                label: usize::from(i >= 2),
                member: None,
            })
            .collect(),
    );
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
        benchmark_dataset: String::new(),
        experiment: "unit".into(),
        classes: vec!["daisy".into(), "dandelion".into()],
        baseline: "plain words".into(),
        images,
        skipped: vec![SkippedFile {
            path: "daisy/broken.jpg".into(),
            reason: "truncated JPEG".into(),
        }],
        split: None,
        models: vec![ModelResults {
            model: "tiny".into(),
            family: "clip".into(),
            logit_scale: 100.0,
            logit_bias: None,
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
        all_probabilities: false,
        findings: Vec::new(),
    }
}

pub fn step(
    step: usize,
    template: Option<&str>,
    rename: Option<(&str, &str)>,
    dev: f64,
) -> SearchStep {
    SearchStep {
        step,
        template: template.map(String::from),
        class: rename.map(|(c, _)| c.to_string()),
        name: rename.map(|(_, n)| n.to_string()),
        dev_objective: dev,
    }
}

/// A search that added `templates[0]`, named `classes[0]` `name`, then added `templates[1]`.
pub fn outcome(classes: &[String], templates: [&str; 2], name: &str) -> SearchOutcome {
    SearchOutcome {
        objective: "accuracy".into(),
        max_templates: 3,
        candidate_templates: 5,
        candidate_names: classes
            .iter()
            .map(|c| (c.clone(), vec![c.clone(), format!("{c} flower")]))
            .collect(),
        steps: vec![
            step(1, Some(templates[0]), None, 0.5),
            step(2, None, Some((&classes[0], name)), 0.75),
            step(3, Some(templates[1]), None, 0.875),
        ],
        templates: templates.map(String::from).to_vec(),
        names: BTreeMap::from([
            (classes[0].clone(), name.to_string()),
            (classes[1].clone(), classes[1].clone()),
        ]),
        stopped: "no move raised dev accuracy by more than 0.0001".into(),
        dev_images: 2,
        dev_objective: 0.875,
        test_objective: 0.75,
    }
}

/// The one file in `dir` named `<prefix>…<suffix>` (names with a hash in them).
pub fn only_file(dir: &Path, prefix: &str, suffix: &str) -> String {
    let matching: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.starts_with(prefix) && n.ends_with(suffix))
        .collect();
    assert_eq!(matching.len(), 1, "{prefix}…{suffix}: {matching:?}");
    matching.into_iter().next().unwrap()
}

pub fn svg_texts(path: &Path) -> Vec<String> {
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

pub fn read(dir: &Path, file: &str) -> String {
    std::fs::read_to_string(dir.join(file)).unwrap_or_else(|e| panic!("{file}: {e}"))
}

pub fn select<'a>(page: &'a scraper::Html, css: &str) -> Vec<scraper::ElementRef<'a>> {
    page.select(&scraper::Selector::parse(css).unwrap())
        .collect()
}

pub fn texts(page: &scraper::Html, css: &str) -> Vec<String> {
    select(page, css)
        .iter()
        .map(|e| e.text().collect::<String>())
        .collect()
}
