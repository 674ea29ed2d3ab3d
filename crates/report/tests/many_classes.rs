//! The report of an ImageNet-sized results structure (made here, no model): sizes follow what
//! a person can read, not the class count; the five-class report is tested in `report.rs`.

use std::collections::BTreeMap;
use std::path::Path;

use ontosweep_report::write_report;
use ontosweep_results::*;

/// A deterministic spread of predictions: ontology `o` gets image `i` right unless the hash
/// says otherwise, and then mostly confuses a class with its neighbour.
fn scramble(i: usize, o: usize) -> u64 {
    let mut x = (i as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ (o as u64 + 7) << 32;
    x ^= x >> 29;
    x.wrapping_mul(0xBF58_476D_1CE4_E5B9) >> 17
}

fn ontology(name: &str, o: usize, labels: &[usize], classes: &[String]) -> OntologyResults {
    let k = classes.len();
    let predictions: Vec<usize> = labels
        .iter()
        .enumerate()
        .map(|(i, &label)| match scramble(i, o) % 10 {
            0..=5 => label,
            6..=8 => (label + 1) % k,
            _ => (scramble(i, o + 50) % k as u64) as usize,
        })
        .collect();
    let scores = predictions
        .iter()
        .zip(labels)
        .map(|(&p, &truth)| ImageScores {
            top: (0..TOP_K)
                .map(|j| ((p + j * 3) % k, 0.5 / (j + 1) as f32))
                .collect(),
            true_probability: if p == truth { 0.5 } else { 0.01 },
            true_rank: if p == truth { 1 } else { 7 },
        })
        .collect::<Vec<_>>();
    let scores = Records::write_all(&scores).unwrap();
    OntologyResults {
        ontology: name.into(),
        prompts: classes
            .iter()
            .map(|c| {
                let prompts = (0..80).map(|t| format!("template {t} of a {c}.")).collect();
                (c.clone(), prompts)
            })
            .collect::<BTreeMap<_, _>>(),
        metrics: metrics(classes, labels, &predictions),
        correct: predictions
            .iter()
            .zip(labels)
            .map(|(p, l)| p == l)
            .collect(),
        scores,
        probabilities: Default::default(),
        vs_baseline: None,
        search: None,
        control: None,
    }
}

fn metrics(classes: &[String], labels: &[usize], predictions: &[usize]) -> Metrics {
    let k = classes.len();
    let mut cells: BTreeMap<(usize, usize), usize> = BTreeMap::new();
    let (mut support, mut hits, mut predicted) = (vec![0; k], vec![0; k], vec![0; k]);
    for (&t, &p) in labels.iter().zip(predictions) {
        *cells.entry((t, p)).or_default() += 1;
        support[t] += 1;
        predicted[p] += 1;
        hits[t] += usize::from(t == p);
    }
    let correct: usize = hits.iter().sum();
    let share = |a: usize, b: usize| if b == 0 { 0.0 } else { a as f64 / b as f64 };
    Metrics {
        n: labels.len(),
        correct,
        accuracy: share(correct, labels.len()),
        ci_low: 0.5,
        ci_high: 0.7,
        balanced_accuracy: 0.6,
        macro_f1: 0.6,
        ece: 0.1,
        top_k: vec![0.6; k - 1],
        per_class: (0..k)
            .map(|c| ClassMetrics {
                class: classes[c].clone(),
                support: support[c],
                precision: share(hits[c], predicted[c]),
                recall: share(hits[c], support[c]),
                f1: 0.5,
            })
            .collect(),
        confusion: cells
            .into_iter()
            .map(|((true_class, predicted), count)| ConfusionCell {
                true_class,
                predicted,
                count,
            })
            .collect(),
    }
}

/// `classes` classes, `per_class` images each, three ontologies of one model.
fn results(classes: usize, per_class: usize) -> SweepResults {
    let classes: Vec<String> = (0..classes).map(|c| format!("class {c:04}")).collect();
    let labels: Vec<usize> = (0..classes.len() * per_class)
        .map(|i| i % classes.len())
        .collect();
    let images = labels
        .iter()
        .enumerate()
        .map(|(i, &label)| ImageRecord {
            path: format!("{}/{i}.jpg", classes[label]),
            source: String::new(),
            label,
            member: None,
        })
        .collect::<Vec<_>>();
    let images = Records::write_all(&images).unwrap();
    let ontologies = ["plain", "eighty-templates", "searched"]
        .iter()
        .enumerate()
        .map(|(o, name)| ontology(name, o, &labels, &classes))
        .collect();
    SweepResults {
        benchmark_dataset: String::new(),
        experiment: "many".into(),
        baseline: "plain".into(),
        images,
        skipped: vec![],
        split: None,
        models: vec![ModelResults {
            model: "tiny".into(),
            family: "clip".into(),
            logit_scale: 100.0,
            logit_bias: None,
            ontologies,
            vs_reference: None,
        }],
        run: RunMetadata::default(),
        all_probabilities: false,
        findings: Vec::new(),
        classes,
    }
}

fn sizes(dir: &Path) -> BTreeMap<String, u64> {
    let mut sizes = BTreeMap::new();
    for entry in walk(dir) {
        let name = entry
            .strip_prefix(dir)
            .unwrap()
            .to_string_lossy()
            .into_owned();
        sizes.insert(name, entry.metadata().unwrap().len());
    }
    sizes
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(walk(&path));
        } else {
            files.push(path);
        }
    }
    files
}

fn svg_height(path: &Path) -> f64 {
    let text = std::fs::read_to_string(path).unwrap();
    let document = roxmltree::Document::parse(&text).unwrap();
    document
        .root_element()
        .attribute("height")
        .unwrap()
        .trim_end_matches("px")
        .parse()
        .unwrap()
}

#[test]
fn a_thousand_classes_give_a_report_a_person_can_open() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("many");
    let r = results(1000, 4);
    write_report(&r, &out).unwrap();
    every_file_is_small(&out);
    confusion_is_long_form(&out, &r);

    // The most confused pairs: chart, and table in the page.
    let pairs = out.join("confused_pairs_tiny_plain.svg");
    assert!(svg_height(&pairs) < 1_500.0);
    let page = std::fs::read_to_string(out.join("index.html")).unwrap();
    let html = scraper::Html::parse_document(&page);
    let select = |css: &str| {
        html.select(&scraper::Selector::parse(css).unwrap())
            .map(|e| e.text().collect::<String>())
            .collect::<Vec<_>>()
    };
    let pair_rows = select("table.pairs tr");
    assert_eq!(pair_rows.len(), 3 * (1 + 20), "{pair_rows:?}");

    // predictions.csv: top classes, not a column per class.
    let mut predictions = csv::Reader::from_path(out.join("predictions.csv")).unwrap();
    let header = predictions.headers().unwrap().clone();
    assert!(header.len() < 30, "{header:?}");
    for column in [
        "true_probability",
        "true_rank",
        "top1_class",
        "top5_probability",
    ] {
        assert!(header.iter().any(|h| h == column), "{column}: {header:?}");
    }
    assert_eq!(predictions.records().count(), 3 * r.images.len());

    // Per-class charts stay readable; the whole table is in the page.
    for chart in ["per_class.svg", "per_class_moved.svg"] {
        let height = svg_height(&out.join(chart));
        assert!(height < 3_500.0, "{chart}: {height} px");
    }
    assert_eq!(select("#class-table tbody tr").len(), 1000);
    assert_eq!(select("script").len(), 1);
    assert!(!page.contains("src=\"http") && !page.contains("<script src"));

    // The heading counts the classes and names a few.
    let meta = select("p.meta").join(" ");
    assert!(
        meta.contains("1000 candidate classes") && meta.contains("class 0004"),
        "{meta}"
    );
    assert!(!meta.contains("class 0005"), "{meta}");
    // Prompts: ten classes per ontology, not 80,000 prompts.
    assert!(select("code").len() < 3 * 10 * 80 + 100);
}

/// No file too large to open, and no whole matrix drawn.
fn every_file_is_small(out: &Path) {
    let sizes = sizes(out);
    let total: u64 = sizes.values().sum();
    for (name, size) in &sizes {
        assert!(*size < 2_000_000, "{name}: {size} bytes");
    }
    assert!(total < 8_000_000, "{total} bytes in all: {sizes:?}");
    assert!(sizes["index.html"] < 1_000_000, "{}", sizes["index.html"]);
    assert!(
        !sizes
            .keys()
            .any(|n| n.starts_with("confusion_") && n.ends_with(".svg")),
        "no whole matrix drawn: {sizes:?}"
    );
}

/// Long-form confusion: the non-zero cells only, and they add up to the images.
fn confusion_is_long_form(out: &Path, r: &SweepResults) {
    let csv = out.join("confusion_tiny_plain.csv");
    let mut reader = csv::Reader::from_path(&csv).unwrap();
    assert_eq!(
        reader.headers().unwrap(),
        vec!["true", "predicted", "count"]
    );
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    let plain = &r.models[0].ontologies[0];
    assert_eq!(rows.len(), plain.metrics.confusion.len());
    let counted: usize = rows
        .iter()
        .map(|row| row[2].parse::<usize>().unwrap())
        .sum();
    assert_eq!(counted, r.images.len());
    assert!(rows.iter().all(|row| row[2] != *"0"));
}

#[test]
fn up_to_fifty_classes_keep_whole_matrices() {
    for (classes, whole) in [(50, true), (51, false)] {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("r");
        write_report(&results(classes, 2), &out).unwrap();
        let svg = out.join("confusion_tiny_plain.svg");
        assert_eq!(svg.is_file(), whole, "{classes} classes");
        assert_eq!(
            out.join("confused_pairs_tiny_plain.svg").is_file(),
            !whole,
            "{classes} classes"
        );
        let csv = std::fs::read_to_string(out.join("confusion_tiny_plain.csv")).unwrap();
        let first = csv.lines().next().unwrap();
        assert_eq!(first == "true,predicted,count", !whole, "{first}");
    }
}

#[test]
fn every_probability_is_written_as_npy_when_asked() {
    let mut r = results(30, 2);
    r.all_probabilities = true;
    for (o, ontology) in r.models[0].ontologies.iter_mut().enumerate() {
        let rows: Vec<Vec<f32>> = (0..r.images.len())
            .map(|i| (0..30).map(|c| (i * 100 + c + o) as f32).collect())
            .collect();
        ontology.probabilities = Records::write_all(&rows).unwrap();
    }
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("r");
    let files = write_report(&r, &out).unwrap();
    let npy = std::fs::read(out.join("probabilities_tiny_searched.npy")).unwrap();
    assert!(files.contains(&"probabilities_tiny_searched.npy".into()));
    let header_len = usize::from(u16::from_le_bytes([npy[8], npy[9]]));
    let header = std::str::from_utf8(&npy[10..10 + header_len]).unwrap();
    assert!(header.contains("'shape': (60, 30)"), "{header}");
    let data = &npy[10 + header_len..];
    assert_eq!(data.len(), 60 * 30 * 4);
    // Row 1 (the second image), column 2, of ontology 2: 1 × 100 + 2 + 2.
    let at = (30 + 2) * 4;
    assert_eq!(
        f32::from_le_bytes(data[at..at + 4].try_into().unwrap()),
        104.0
    );

    // Not asked: no arrays.
    r.all_probabilities = false;
    let plain = dir.path().join("plain");
    let files = write_report(&r, &plain).unwrap();
    assert!(
        !files
            .iter()
            .any(|f| f.extension().is_some_and(|e| e == "npy"))
    );
}
