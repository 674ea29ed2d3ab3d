//! Hostile names (markup, quotes, control characters, names that clash once made file
//! names): the report must show them as text and give every pair its own files.

mod common;

use std::path::Path;

use common::{
    cells, edit_images, on_disk, ontology, outcome, predictions, results, select, svg_texts, texts,
};
use ontosweep_report::write_report;
use ontosweep_results::*;

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
    let classes = r.classes.clone();
    edit_images(&mut r, |i, record| {
        let file = sources.join(format!("{IMAGE_NAME}{i}.png"));
        image::RgbImage::from_pixel(8, 8, image::Rgb([40 * i as u8, 90, 200]))
            .save(&file)
            .unwrap();
        record.source = file.to_string_lossy().into_owned();
        record.path = format!("{}/{IMAGE_NAME}{i}.png", classes[record.label]);
    });
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
        dev_images: on_disk(vec![ImageRecord {
            path: format!("daisy/{IMAGE_NAME}dev.png"),
            source: "/nonexistent/dev.png".into(),
            label: 1,
            member: None,
        }]),
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
    let mut o = ontology(name, predictions(like), like.vs_baseline.clone());
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

#[test]
fn page_text_is_data_never_markup() {
    let report = hostile_report();
    let page = page(&report);
    only_the_class_tables_script(&page);
    no_event_handlers(&page);
    names_are_text(&page, &report.results);
    images_are_text(&page, &report.results);
    search_is_text(&page);
}

/// The one script is the class table's own: no source, no user text in it.
fn only_the_class_tables_script(page: &scraper::Html) {
    let scripts = select(page, "script");
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
        texts(page, "#class-table td")
            .iter()
            .any(|t| t == HOSTILE_CLASS),
        "the hostile class is text in the class table"
    );
}

fn no_event_handlers(page: &scraper::Html) {
    for element in select(page, "*") {
        let name = element.value().name();
        for (attribute, value) in element.value().attrs() {
            assert!(
                !attribute.to_ascii_lowercase().starts_with("on"),
                "<{name} {attribute}=\"{value}\">"
            );
        }
    }
}

/// The experiment, model and ontology names, as text where the page shows them.
fn names_are_text(page: &scraper::Html, results: &SweepResults) {
    let experiment = &results.experiment;
    assert_eq!(texts(page, "h1"), std::slice::from_ref(experiment));
    assert_eq!(
        texts(page, "title"),
        [format!("{} — ontosweep", results.experiment)]
    );
    assert_eq!(
        select(page, "#summary tr.baseline").len(),
        3,
        "one per model"
    );
    let headings = texts(page, "h3");
    for (_, ontologies) in hostile_names() {
        for o in ontologies {
            assert!(headings.iter().any(|h| h == o), "{o:?} not in {headings:?}");
        }
    }
}

/// Image file names in the galleries, class names in the captions, skipped files.
fn images_are_text(page: &scraper::Html, results: &SweepResults) {
    let figures = select(page, "figure");
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
    let captions = texts(page, "figcaption");
    assert!(
        captions.iter().any(|c| c.contains(HOSTILE_CLASS)),
        "{captions:?}"
    );
    let cells = texts(page, "td");
    for s in &results.skipped {
        assert!(
            cells.contains(&s.path) && cells.contains(&s.reason),
            "{cells:?}"
        );
    }
}

/// Prompts, the search's templates and names, the split's warning and the YAML snippet.
fn search_is_text(page: &scraper::Html) {
    let prompts = texts(page, "code");
    assert!(prompts.contains(&"<script>alert(1)</script> daisy".to_string()));
    for text in HOSTILE_TEMPLATES.into_iter().chain([HOSTILE_NAME]) {
        assert!(
            prompts.iter().any(|p| p == text),
            "{text} not in {prompts:?}"
        );
    }
    let warnings = texts(page, ".warning");
    assert!(!warnings.is_empty(), "the split's warning is not shown");
    assert!(
        warnings.iter().all(|w| w.contains(HOSTILE_WARNING)),
        "{warnings:?}"
    );
    let snippet = texts(page, "pre.snippet").concat();
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
