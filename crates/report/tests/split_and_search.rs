//! The held-out split and the prompt search in the report: their tables, the YAML snippet
//! of the chosen prompts, the chart and the page.

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use common::{
    edit_images, metrics, on_disk, ontology, outcome, predictions, read, results, select,
    svg_texts, texts,
};
use ontosweep_report::write_report;
use ontosweep_results::*;

const DEV_WARNING: &str = "only 2 dev images: a search on them <b>may fit noise</b>";

/// `results()` with two held-out dev images (one path equal to a test path, to pin the
/// order of ties) and a third ontology found by search.
fn searched_results() -> SweepResults {
    let mut r = results();
    r.split = Some(Split {
        dev_fraction: 1.0 / 3.0,
        seed: 7,
        dev_images: on_disk(vec![
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
        ]),
        warnings: vec![DEV_WARNING.into()],
    });
    let like = r.models[0].ontologies[1].clone();
    let mut o = ontology("searched", predictions(&like), like.vs_baseline);
    o.search = Some(outcome(
        &r.classes,
        ["a photo of a {}.", "a close-up photo of a {}, a flower."],
        "oxeye daisy",
    ));
    r.models[0].ontologies.push(o);
    r
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
    edit_images(&mut second, |_, image| image.label = 1 - image.label);
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
