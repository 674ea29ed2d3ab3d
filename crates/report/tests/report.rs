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
        confusion: cells(&[vec![1, 1], vec![0, 2]]),
    }
}

/// The non-zero cells of a whole matrix.
fn cells(matrix: &[Vec<usize>]) -> Vec<ConfusionCell> {
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
        scores: predictions
            .iter()
            .zip([0, 0, 1, 1])
            .map(|(&p, truth)| ImageScores {
                top: vec![(p, 0.75), (1 - p, 0.25)],
                true_probability: if p == truth { 0.75 } else { 0.25 },
                true_rank: if p == truth { 1 } else { 2 },
            })
            .collect(),
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
        search: None,
    }
}

fn results() -> SweepResults {
    let images = (0..4)
        .map(|i| ImageRecord {
            path: format!("{}/{i}.jpg", if i < 2 { "daisy" } else { "dandelion" }),
            source: format!("/nonexistent/{i}.jpg"),
            label: usize::from(i >= 2),
            member: None,
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
    }
}

/// The one file in `dir` named `<prefix>…<suffix>` (names with a hash in them).
fn only_file(dir: &Path, prefix: &str, suffix: &str) -> String {
    let matching: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.starts_with(prefix) && n.ends_with(suffix))
        .collect();
    assert_eq!(matching.len(), 1, "{prefix}…{suffix}: {matching:?}");
    matching.into_iter().next().unwrap()
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

// Hostile names: the report must show them as text and give every pair its own files.

const HOSTILE_CLASS: &str = "dande<script>lion</script> & \"co\"";
const IMAGE_NAME: &str = "x\" onmouseover=\"alert(1)<img src=x onerror=alert(2)>";

/// (model, ontologies) of the hostile report; the baseline is `plain words`.
fn hostile_names() -> Vec<(&'static str, Vec<&'static str>)> {
    vec![
        (
            "tiny",
            vec![
                "plain words",
                "plain_words",
                "\" onmouseover=\"x",
                "<script>alert(1)</script>",
                "日本",
                "中文",
                "Plain",
                "plain",
                "a & b \"quoted\" 'single' \u{7}bell",
                "v1.2",
            ],
        ),
        ("a_b", vec!["plain words", "c"]),
        ("a", vec!["plain words", "b_c"]),
    ]
}

/// The hand-made results with hostile names, real images under hostile file names in
/// `sources`, and a distinct confusion matrix per pair.
fn hostile_results(sources: &Path) -> SweepResults {
    let mut r = results();
    r.experiment = "unit <script>alert(0)</script> & \"q\"".into();
    r.classes[1] = HOSTILE_CLASS.into();
    for (i, image) in r.images.iter_mut().enumerate() {
        let file = sources.join(format!("{IMAGE_NAME}{i}.png"));
        image::RgbImage::from_pixel(8, 8, image::Rgb([40 * i as u8, 90, 200]))
            .save(&file)
            .unwrap();
        image.source = file.to_string_lossy().into_owned();
        image.path = format!("{}/{IMAGE_NAME}{i}.png", r.classes[image.label]);
    }
    r.skipped[0] = SkippedFile {
        path: "daisy/<script>alert(3)</script>\".jpg".into(),
        reason: "bad & \"broken\" <b>".into(),
    };
    let template = r.models[0].clone();
    let mut k = 0;
    r.models = hostile_names()
        .into_iter()
        .map(|(model, ontologies)| ModelResults {
            model: model.into(),
            ontologies: ontologies
                .into_iter()
                .map(|name| {
                    k += 1;
                    hostile_ontology(name, k, &template.ontologies[1])
                })
                .collect(),
            ..template.clone()
        })
        .collect();
    r.split = Some(Split {
        dev_fraction: 0.25,
        seed: 1,
        dev_images: vec![ImageRecord {
            path: format!("daisy/{IMAGE_NAME}dev.png"),
            source: "/nonexistent/dev.png".into(),
            label: 1,
            member: None,
        }],
        warnings: vec![HOSTILE_WARNING.into()],
    });
    let searched = &mut r.models[0].ontologies[3];
    assert_eq!(searched.ontology, "<script>alert(1)</script>");
    searched.search = Some(outcome(&r.classes, HOSTILE_TEMPLATES, HOSTILE_NAME));
    r
}

const HOSTILE_WARNING: &str = "<script>alert(4)</script> & \"too few\"";
const HOSTILE_TEMPLATES: [&str; 2] = ["<script>alert(5)</script> {}", "{} \" onmouseover=\"x"];
const HOSTILE_NAME: &str = "<img src=x onerror=alert(6)>";

fn hostile_ontology(name: &str, k: usize, like: &OntologyResults) -> OntologyResults {
    let mut o = ontology(name, like.predictions.clone(), like.vs_baseline.clone());
    o.metrics.per_class[1].class = HOSTILE_CLASS.into();
    let prompts = o.prompts.remove("dandelion").unwrap();
    o.prompts.insert(HOSTILE_CLASS.into(), prompts);
    o.metrics.confusion = cells(&[vec![k, 100 + k], vec![200 + k, 300 + k]]);
    if name == "plain words" {
        o.vs_baseline = None;
    }
    o
}

/// What plotters is given for a name: XML-forbidden characters become U+FFFD.
fn svg_form(text: &str) -> String {
    text.replace('\u{7}', "\u{FFFD}")
}

fn confusion_title(model: &str, ontology: &str) -> String {
    svg_form(&format!(
        "{model} · {ontology}: confusion (rows: true class)"
    ))
}

struct HostileReport {
    _dir: tempfile::TempDir,
    out: std::path::PathBuf,
    results: SweepResults,
    files: Vec<std::path::PathBuf>,
}

fn hostile_report() -> HostileReport {
    let dir = tempfile::tempdir().unwrap();
    let sources = dir.path().join("sources");
    std::fs::create_dir(&sources).unwrap();
    let results = hostile_results(&sources);
    let out = dir.path().join("unit");
    let files = write_report(&results, &out).unwrap();
    HostileReport {
        _dir: dir,
        out,
        results,
        files,
    }
}

fn page(report: &HostileReport) -> scraper::Html {
    let text = std::fs::read_to_string(report.out.join("index.html")).unwrap();
    scraper::Html::parse_document(&text)
}

fn select<'a>(page: &'a scraper::Html, css: &str) -> Vec<scraper::ElementRef<'a>> {
    page.select(&scraper::Selector::parse(css).unwrap())
        .collect()
}

fn texts(page: &scraper::Html, css: &str) -> Vec<String> {
    select(page, css)
        .iter()
        .map(|e| e.text().collect::<String>())
        .collect()
}

#[test]
fn page_text_is_data_never_markup() {
    let report = hostile_report();
    let page = page(&report);
    // The one script is the class table's own: no source, no user text in it.
    let scripts = select(&page, "script");
    assert_eq!(scripts.len(), 1, "one <script> element");
    let script = scripts[0].text().collect::<String>();
    assert!(scripts[0].value().attr("src").is_none());
    assert!(
        script.contains("class-table")
            && !script.contains("alert")
            && !script.contains(HOSTILE_CLASS),
        "{script}"
    );
    assert!(
        texts(&page, "#class-table td")
            .iter()
            .any(|t| t == HOSTILE_CLASS),
        "the hostile class is text in the class table"
    );
    for element in select(&page, "*") {
        let name = element.value().name();
        for (attribute, value) in element.value().attrs() {
            assert!(
                !attribute.to_ascii_lowercase().starts_with("on"),
                "<{name} {attribute}=\"{value}\">"
            );
        }
    }
    let experiment = &report.results.experiment;
    assert_eq!(texts(&page, "h1"), std::slice::from_ref(experiment));
    assert_eq!(
        texts(&page, "title"),
        [format!("{} — ontosweep", report.results.experiment)]
    );
    assert_eq!(
        select(&page, "#summary tr.baseline").len(),
        3,
        "one per model"
    );
    let headings = texts(&page, "h3");
    for (_, ontologies) in hostile_names() {
        for o in ontologies {
            assert!(headings.iter().any(|h| h == o), "{o:?} not in {headings:?}");
        }
    }
    let figures = select(&page, "figure");
    assert!(!figures.is_empty());
    for figure in &figures {
        let title = figure.value().attr("title").unwrap();
        assert!(title.contains(IMAGE_NAME), "{title:?}");
        let img = figure
            .select(&scraper::Selector::parse("img").unwrap())
            .next();
        let img = img.expect("a thumbnail for every shown image");
        assert_eq!(img.value().attr("alt"), Some(title));
    }
    let captions = texts(&page, "figcaption");
    assert!(
        captions.iter().any(|c| c.contains(HOSTILE_CLASS)),
        "{captions:?}"
    );
    let cells = texts(&page, "td");
    for s in &report.results.skipped {
        assert!(
            cells.contains(&s.path) && cells.contains(&s.reason),
            "{cells:?}"
        );
    }
    let prompts = texts(&page, "code");
    assert!(prompts.contains(&"<script>alert(1)</script> daisy".to_string()));
    for text in HOSTILE_TEMPLATES.into_iter().chain([HOSTILE_NAME]) {
        assert!(
            prompts.iter().any(|p| p == text),
            "{text} not in {prompts:?}"
        );
    }
    let warnings = texts(&page, ".warning");
    assert!(!warnings.is_empty(), "the split's warning is not shown");
    assert!(
        warnings.iter().all(|w| w.contains(HOSTILE_WARNING)),
        "{warnings:?}"
    );
    let snippet = texts(&page, "pre.snippet").concat();
    assert!(
        snippet.contains("alert(5)") && snippet.contains("onerror=alert(6)"),
        "{snippet}"
    );
}

/// Percent-decodes a relative link and checks it names a file inside `root`.
fn resolve(root: &Path, link: &str) -> std::path::PathBuf {
    assert!(
        !link.contains(':') && !link.starts_with('/') && !link.contains('?') && !link.contains('#'),
        "{link} is not a plain relative link"
    );
    let decoded = percent_encoding::percent_decode_str(link)
        .decode_utf8()
        .unwrap();
    assert!(
        decoded
            .split('/')
            .all(|s| !s.is_empty() && s != "." && s != ".."),
        "{decoded}"
    );
    let path = root.join(decoded.as_ref());
    assert!(path.is_file(), "{link} → {} is missing", path.display());
    path
}

#[test]
fn page_links_resolve_to_report_files() {
    let report = hostile_report();
    let page = page(&report);
    let links: Vec<&str> = select(&page, "[src], [href]")
        .iter()
        .flat_map(|e| [e.value().attr("src"), e.value().attr("href")])
        .flatten()
        .collect();
    assert!(links.len() > 10, "{links:?}");
    for link in links {
        resolve(&report.out, link);
    }
    // Each ontology's section shows its own confusion matrix.
    let (mut model, mut ontology) = (String::new(), String::new());
    let mut shown = Vec::new();
    for e in select(&page, "h2, h3, img[alt=\"confusion matrix\"]") {
        let text: String = e.text().collect();
        match e.value().name() {
            "h2" => model = text.strip_prefix("Images · ").unwrap_or_default().into(),
            "h3" => ontology = text,
            _ => {
                let svg = resolve(&report.out, e.value().attr("src").unwrap());
                let title = confusion_title(&model, &ontology);
                assert!(
                    svg_texts(&svg).contains(&title),
                    "{} is not {title}",
                    svg.display()
                );
                shown.push((model.clone(), ontology.clone()));
            }
        }
    }
    let pairs: Vec<(String, String)> = hostile_names()
        .into_iter()
        .flat_map(|(m, os)| os.into_iter().map(move |o| (m.to_string(), o.to_string())))
        .collect();
    assert_eq!(shown, pairs);
}

#[test]
fn every_pair_has_its_own_confusion_files() {
    let report = hostile_report();
    let names: Vec<String> = std::fs::read_dir(&report.out)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    let lower: std::collections::BTreeSet<String> =
        names.iter().map(|n| n.to_lowercase()).collect();
    assert_eq!(
        lower.len(),
        names.len(),
        "clash on a case-insensitive disk: {names:?}"
    );
    for file in &report.files {
        let name = file.to_str().unwrap();
        assert!(name.len() < 128 && name.is_ascii(), "{name}");
    }
    assert!(
        names.contains(&"confusion_tiny_v1.2.csv".to_string()),
        "{names:?}"
    );
    let svgs: Vec<&String> = names
        .iter()
        .filter(|n| n.starts_with("confusion_") && n.ends_with(".svg"))
        .collect();
    for model in &report.results.models {
        for o in &model.ontologies {
            let title = confusion_title(&model.model, &o.ontology);
            let owners: Vec<&&String> = svgs
                .iter()
                .filter(|n| svg_texts(&report.out.join(n)).contains(&title))
                .collect();
            assert_eq!(owners.len(), 1, "{title}: {owners:?}");
            let csv = owners[0].replace(".svg", ".csv");
            let mut reader = csv::Reader::from_path(report.out.join(&csv)).unwrap();
            let rows: Vec<Vec<String>> = reader
                .records()
                .map(|r| r.unwrap().iter().skip(1).map(String::from).collect())
                .collect();
            let expected: Vec<Vec<String>> = o
                .metrics
                .confusion_matrix(2)
                .iter()
                .map(|row| row.iter().map(ToString::to_string).collect())
                .collect();
            assert_eq!(rows, expected, "{csv} for {title}");
        }
    }
}

#[test]
fn chart_text_is_escaped_and_still_parses() {
    let report = hostile_report();
    for file in &report.files {
        let name = file.to_str().unwrap();
        if !name.ends_with(".svg") {
            continue;
        }
        let text = std::fs::read_to_string(report.out.join(file)).unwrap();
        let document =
            roxmltree::Document::parse(&text).unwrap_or_else(|e| panic!("{name} is not XML: {e}"));
        for node in document.descendants().filter(|n| n.is_element()) {
            assert_ne!(node.tag_name().name(), "script", "{name}");
            for a in node.attributes() {
                assert!(!a.name().starts_with("on"), "{name}: {}", a.name());
            }
        }
    }
    let accuracy = svg_texts(&report.out.join("accuracy.svg"));
    for (_, ontologies) in hostile_names() {
        for o in ontologies {
            let label = svg_form(o);
            assert!(
                accuracy
                    .iter()
                    .any(|t| t.trim_end_matches(" (baseline)") == label),
                "{label:?} not in {accuracy:?}"
            );
        }
    }
    let per_class = svg_texts(&report.out.join("per_class.svg"));
    assert!(
        per_class.contains(&format!("class: {HOSTILE_CLASS}")),
        "{per_class:?}"
    );
    let search = report
        .files
        .iter()
        .find(|f| f.to_str().unwrap().starts_with("search_") && f.extension().unwrap() == "svg")
        .expect("a search chart");
    let search = svg_texts(&report.out.join(search));
    let first = format!("1. + \"{}\" (50.0%)", HOSTILE_TEMPLATES[0]);
    assert!(search.contains(&first), "{first} not in {search:?}");
    let rename = format!("2. daisy → {HOSTILE_NAME} (75.0%)");
    assert!(search.contains(&rename), "{rename} not in {search:?}");
}

// The held-out split and the prompt search.

const DEV_WARNING: &str = "only 2 dev images: a search on them <b>may fit noise</b>";

fn step(step: usize, template: Option<&str>, rename: Option<(&str, &str)>, dev: f64) -> SearchStep {
    SearchStep {
        step,
        template: template.map(String::from),
        class: rename.map(|(c, _)| c.to_string()),
        name: rename.map(|(_, n)| n.to_string()),
        dev_objective: dev,
    }
}

/// A search that added `templates[0]`, named `classes[0]` `name`, then added `templates[1]`.
fn outcome(classes: &[String], templates: [&str; 2], name: &str) -> SearchOutcome {
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

/// `results()` with two held-out dev images (one path equal to a test path, to pin the
/// order of ties) and a third ontology found by search.
fn searched_results() -> SweepResults {
    let mut r = results();
    r.split = Some(Split {
        dev_fraction: 1.0 / 3.0,
        seed: 7,
        dev_images: vec![
            ImageRecord {
                path: "daisy/0.jpg".into(),
                source: "/nonexistent/dev0.jpg".into(),
                label: 0,
                member: None,
            },
            ImageRecord {
                path: "dandelion/d.jpg".into(),
                source: "/nonexistent/dev1.jpg".into(),
                label: 1,
                member: None,
            },
        ],
        warnings: vec![DEV_WARNING.into()],
    });
    let like = r.models[0].ontologies[1].clone();
    let mut o = ontology("searched", like.predictions, like.vs_baseline);
    o.search = Some(outcome(
        &r.classes,
        ["a photo of a {}.", "a close-up photo of a {}, a flower."],
        "oxeye daisy",
    ));
    r.models[0].ontologies.push(o);
    r
}

fn read(dir: &Path, file: &str) -> String {
    std::fs::read_to_string(dir.join(file)).unwrap_or_else(|e| panic!("{file}: {e}"))
}

#[test]
fn split_and_search_tables_list_every_image_and_step() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("unit");
    let files = write_report(&searched_results(), &out).unwrap();
    assert_eq!(
        read(&out, "split.csv"),
        "path,class,split\n\
         daisy/0.jpg,daisy,dev\n\
         daisy/0.jpg,daisy,test\n\
         daisy/1.jpg,daisy,test\n\
         dandelion/2.jpg,dandelion,test\n\
         dandelion/3.jpg,dandelion,test\n\
         dandelion/d.jpg,dandelion,dev\n"
    );
    assert_eq!(
        read(&out, "search.csv"),
        "model,ontology,step,template,class,name,dev_objective\n\
         tiny,searched,1,a photo of a {}.,,,0.500000\n\
         tiny,searched,2,,daisy,oxeye daisy,0.750000\n\
         tiny,searched,3,\"a close-up photo of a {}, a flower.\",,,0.875000\n"
    );
    let run: serde_json::Value = serde_json::from_str(&read(&out, "run.json")).unwrap();
    assert_eq!(
        run["split"]["dev_images_per_class"],
        serde_json::json!({"daisy": 1, "dandelion": 1}),
        "{run}"
    );
    let marker: serde_json::Value =
        serde_json::from_str(&read(&out, ontosweep_report::MARKER)).unwrap();
    for file in [
        "split.csv",
        "search.csv",
        "search_tiny_searched.svg",
        "search_tiny_searched.yaml",
    ] {
        assert!(files.contains(&file.into()), "{file} not in {files:?}");
        assert!(
            marker["files"][file].is_string(),
            "{file} not in the marker"
        );
    }
    // Only the searched ontology gets search files.
    let search_files = files
        .iter()
        .filter(|f| f.to_str().unwrap().starts_with("search_"))
        .count();
    assert_eq!(search_files, 2, "{files:?}");
}

#[test]
fn search_files_do_not_depend_on_the_test_split() {
    let dir = tempfile::tempdir().unwrap();
    let first = searched_results();
    let mut second = searched_results();
    // Test labels permuted, and so everything scored on them.
    for image in &mut second.images {
        image.label = 1 - image.label;
    }
    for o in &mut second.models[0].ontologies {
        o.metrics = metrics(1, 4);
        if let Some(s) = &mut o.search {
            s.test_objective = 0.25;
        }
    }
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    write_report(&first, &a).unwrap();
    write_report(&second, &b).unwrap();
    assert_eq!(
        std::fs::read(a.join("search.csv")).unwrap(),
        std::fs::read(b.join("search.csv")).unwrap()
    );
    let document = |dir: &Path| {
        let text = read(dir, "search_tiny_searched.yaml");
        text.lines()
            .filter(|l| !l.starts_with('#'))
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert_eq!(document(&a), document(&b));
    assert_ne!(read(&a, "split.csv"), read(&b, "split.csv"));
}

#[derive(serde::Deserialize, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
struct ExperimentPart {
    ontologies: BTreeMap<String, SnippetOntology>,
}

#[derive(serde::Deserialize, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
struct SnippetOntology {
    templates: Vec<String>,
    names: BTreeMap<String, String>,
}

/// Checks a snippet's comment header and parses the document under it.
fn parse_snippet(text: &str) -> ExperimentPart {
    let header: Vec<&str> = text
        .split('\n')
        .take_while(|l| l.starts_with('#'))
        .collect();
    assert_eq!(header.len(), 4, "{text}");
    for line in &header {
        assert!(
            !line.contains(['\r', '\u{85}', '\u{2028}', '\u{2029}', '\u{7}']),
            "{line:?}"
        );
    }
    assert!(text.split('\n').nth(4) == Some("ontologies:"), "{text}");
    yaml_serde::from_str(text).unwrap_or_else(|e| panic!("{e}\n{text}"))
}

#[test]
fn the_yaml_snippet_gives_back_the_chosen_prompts() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("unit");
    write_report(&searched_results(), &out).unwrap();
    let text = read(&out, "search_tiny_searched.yaml");
    assert!(text.contains("tiny") && text.contains("seed 7"), "{text}");
    let part = parse_snippet(&text);
    let expected = SnippetOntology {
        templates: vec![
            "a photo of a {}.".into(),
            "a close-up photo of a {}, a flower.".into(),
        ],
        names: BTreeMap::from([
            ("daisy".into(), "oxeye daisy".into()),
            ("dandelion".into(), "dandelion".into()),
        ]),
    };
    assert_eq!(
        part.ontologies,
        BTreeMap::from([("searched-tiny".to_string(), expected)])
    );
}

/// Text YAML gives meaning to, or cannot hold unquoted.
const YAML_HOSTILE: &[&str] = &[
    "a: b",
    "# not a comment",
    "- dash",
    "{}",
    "[x, y]",
    "'single' \"double\"",
    "line\nbreak",
    "two\n\nbreaks\n",
    "\n",
    "trailing space ",
    " leading",
    "null",
    "~",
    "yes",
    "No",
    "0x1F",
    "1e3",
    "0123",
    "!tag",
    "!!str x",
    "&anchor",
    "*alias",
    "? key",
    "%YAML 1.2",
    "@at",
    "`tick",
    "|",
    ">-",
    "\ttab",
    "nel\u{85}x",
    "ls\u{2028}ps\u{2029}",
    "bell\u{7}",
    "cr\rlf\r\n",
    "",
    "日本 {}",
    "\u{feff}bom",
    "---",
    "...",
    "x\n---\ny",
    "<<",
    "a {} b #c",
    "\\ backslash \\n",
];

#[test]
fn the_yaml_snippet_survives_hostile_names() {
    let dir = tempfile::tempdir().unwrap();
    let n = YAML_HOSTILE.len();
    for i in 0..n {
        let h = |k: usize| YAML_HOSTILE[(i + k) % n];
        let mut r = searched_results();
        r.classes = vec![h(0).into(), h(1).into()];
        let model = format!("m\nodel: x # {}", h(4));
        let ontology = format!("o: {{}}\n- {}", h(5));
        r.models[0].model = model.clone();
        let o = &mut r.models[0].ontologies[2];
        o.ontology = ontology.clone();
        let search = outcome(&r.classes, [h(2), h(3)], h(6));
        o.search = Some(search.clone());
        let out = dir.path().join(format!("r{i}"));
        let files = write_report(&r, &out).unwrap();
        let yaml = files
            .iter()
            .map(|f| f.to_str().unwrap())
            .find(|f| f.starts_with("search_") && f.ends_with(".yaml"))
            .expect("a snippet");
        let part = parse_snippet(&read(&out, yaml));
        let expected = SnippetOntology {
            templates: vec![h(2).into(), h(3).into()],
            names: BTreeMap::from([(h(0).into(), h(6).into()), (h(1).into(), h(1).into())]),
        };
        assert_eq!(
            part.ontologies,
            BTreeMap::from([(format!("{ontology}-{model}"), expected)]),
            "case {i}"
        );
        // The CSV gives the moves back as they were.
        let mut reader = csv::Reader::from_path(out.join("search.csv")).unwrap();
        let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
        assert_eq!(rows.len(), 3);
        assert_eq!(
            (&rows[0][0], &rows[0][1], &rows[0][3]),
            (&*model, &*ontology, h(2))
        );
        assert_eq!((&rows[1][4], &rows[1][5]), (h(0), h(6)));
    }
}

#[test]
fn the_page_shows_the_search_and_the_split() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("unit");
    write_report(&searched_results(), &out).unwrap();
    let page = scraper::Html::parse_document(&read(&out, "index.html"));
    let note = texts(&page, "#split-note").concat();
    assert!(
        note.contains("test split (4 images)") && note.contains("dev split (2 images)"),
        "{note}"
    );
    let warnings = texts(&page, ".warning");
    assert!(
        !warnings.is_empty() && warnings.iter().all(|w| w.contains(DEV_WARNING)),
        "{warnings:?}"
    );
    assert_eq!(texts(&page, "#prompt-search"), ["Prompt search"]);
    let cells = texts(&page, "td");
    for expected in ["87.5%", "75.0%", "+12.5 pp", "oxeye daisy"] {
        assert!(
            cells.iter().any(|c| c == expected),
            "{expected} not in {cells:?}"
        );
    }
    let steps = texts(&page, "table.steps tr");
    assert_eq!(steps.len(), 1 + 3, "{steps:?}");
    assert!(steps[2].contains("daisy → oxeye daisy"), "{steps:?}");
    assert_eq!(
        texts(&page, "pre.snippet"),
        [read(&out, "search_tiny_searched.yaml")]
    );
    let links: Vec<&str> = select(&page, "a[href], img[src]")
        .iter()
        .flat_map(|e| [e.value().attr("href"), e.value().attr("src")])
        .flatten()
        .collect();
    for file in [
        "split.csv",
        "search.csv",
        "search_tiny_searched.svg",
        "search_tiny_searched.yaml",
    ] {
        assert!(links.contains(&file), "{file} not linked: {links:?}");
    }
    let chart = svg_texts(&out.join("search_tiny_searched.svg"));
    for expected in [
        "test 75.0% (dev 87.5%)",
        "1. + \"a photo of a {}.\" (50.0%)",
        "2. daisy → oxeye daisy (75.0%)",
    ] {
        assert!(
            chart.iter().any(|t| t == expected),
            "{expected} not in {chart:?}"
        );
    }
}

#[test]
fn without_a_split_or_search_nothing_about_them_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("unit");
    let files = write_report(&results(), &out).unwrap();
    for file in &files {
        let name = file.to_str().unwrap();
        assert!(
            !name.starts_with("search") && name != "split.csv",
            "{name} written"
        );
    }
    let page = scraper::Html::parse_document(&read(&out, "index.html"));
    assert!(select(&page, "#prompt-search, #split-note, .warning").is_empty());
    // A split without a search: the split is still shown and written.
    let mut r = searched_results();
    r.models[0].ontologies.pop();
    let out = dir.path().join("split-only");
    let files = write_report(&r, &out).unwrap();
    assert!(files.contains(&"split.csv".into()), "{files:?}");
    assert!(!files.contains(&"search.csv".into()), "{files:?}");
    let page = scraper::Html::parse_document(&read(&out, "index.html"));
    assert_eq!(select(&page, "#split-note").len(), 1);
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
