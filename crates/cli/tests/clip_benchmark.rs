//! Standard benchmarks as CLIP_benchmark users keep them: its WebDataset export read as it
//! lies (names, `{c}` templates, `nshards.txt`), ImageNet's `val/<wnid>/` folders and
//! Food-101's lists, and results in its JSON schema that its `build` merges.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Output;

mod common;

use common::{mini, rows, stderr, succeeded};

const CLASSES: [&str; 3] = ["daisy", "dandelion", "roses"];
const PER_CLASS: usize = 4;

/// The first photos of each class, re-encoded as lossless WebP (as CLIP_benchmark's export
/// writes them by default): (class index, bytes).
fn webp_photos() -> Vec<(usize, Vec<u8>)> {
    let mut out = Vec::new();
    for (index, class) in CLASSES.iter().enumerate() {
        let mut files: Vec<PathBuf> = std::fs::read_dir(mini().join(class))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "jpg"))
            .collect();
        files.sort();
        for file in files.into_iter().take(PER_CLASS) {
            let pixels = image::open(&file).unwrap().to_rgb8();
            let mut bytes = Vec::new();
            image::codecs::webp::WebPEncoder::new_lossless(&mut bytes)
                .encode(
                    pixels.as_raw(),
                    pixels.width(),
                    pixels.height(),
                    image::ExtendedColorType::Rgb8,
                )
                .unwrap();
            out.push((index, bytes));
        }
    }
    out
}

fn append(tar: &mut tar::Builder<std::fs::File>, name: &str, bytes: &[u8]) {
    let mut header = tar::Header::new_gnu();
    header.set_size(bytes.len() as u64);
    header.set_mode(0o644);
    header.set_cksum();
    tar.append_data(&mut header, name, bytes).unwrap();
}

/// CLIP_benchmark's export layout: `samples` split over `shards` tars of `<folder>/test/`.
fn export(folder: &Path, samples: &[(usize, Vec<u8>)], shards: usize, templates: &str) {
    let split = folder.join("test");
    std::fs::create_dir_all(&split).unwrap();
    let per_shard = samples.len().div_ceil(shards);
    for (shard, chunk) in samples.chunks(per_shard).enumerate() {
        let mut tar =
            tar::Builder::new(std::fs::File::create(split.join(format!("{shard}.tar"))).unwrap());
        for (i, (label, bytes)) in chunk.iter().enumerate() {
            let key = format!("s{:07}", shard * per_shard + i);
            append(&mut tar, &format!("{key}.webp"), bytes);
            append(
                &mut tar,
                &format!("{key}.cls"),
                label.to_string().as_bytes(),
            );
        }
        tar.finish().unwrap();
    }
    std::fs::write(split.join("nshards.txt"), format!("{shards}\n")).unwrap();
    std::fs::write(folder.join("classnames.txt"), CLASSES.join("\n") + "\n").unwrap();
    std::fs::write(
        folder.join("zeroshot_classification_templates.txt"),
        templates,
    )
    .unwrap();
}

fn experiment(dir: &Path, name: &str, dataset: &str, ontologies: &str) -> PathBuf {
    common::experiment_file(
        dir,
        name,
        &format!(
            "name: {name}\ndataset:\n{dataset}models:\n  - path: {}\nontologies:\n{ontologies}",
            common::model("clip-tiny-random").display()
        ),
    )
}

fn run(dir: &Path, file: &Path, out: &str) -> (Output, PathBuf) {
    let out = dir.join(out);
    let output = common::sweep(file, &out, &dir.join("cache"), &["--show-prompts"])
        .output()
        .unwrap();
    (output, out)
}

/// Every column of `predictions.csv` but the image's name, per image, in order: the
/// ontology, true and predicted class, and every class's score.
fn predictions(report: &Path) -> Vec<BTreeMap<String, String>> {
    rows(&report.join("predictions.csv"))
        .into_iter()
        .map(|mut r| {
            r.remove("path").expect("a path column");
            r
        })
        .collect()
}

/// A CLIP_benchmark result file, its `NaN` read as Python reads it (here: `null`).
fn result_file(path: &Path) -> (String, serde_json::Value) {
    let text = std::fs::read_to_string(path).unwrap();
    let value = serde_json::from_str(&text.replace("NaN", "null")).unwrap();
    (text, value)
}

#[test]
fn an_export_sweeps_as_published_and_predicts_as_the_same_images_in_folders() {
    let temp = tempfile::tempdir().unwrap();
    let samples = webp_photos();
    let templates = "a photo of a {c}.\na close-up photo of the {c}, a flower.\n";
    export(&temp.path().join("wds_flowers"), &samples, 2, templates);
    let cb = experiment(
        temp.path(),
        "cb",
        "  clip_benchmark: wds_flowers\n  split: test\n",
        "  published:\n    templates: dataset\n  plain:\n    templates: [\"{c}\"]\n",
    );
    let (output, cb_report) = run(temp.path(), &cb, "cb-report");
    let output = succeeded(output);
    let said = String::from_utf8_lossy(&output.stdout).into_owned() + &stderr(&output);
    assert!(
        said.contains("a close-up photo of the dandelion, a flower."),
        "{said}"
    );
    assert!(
        said.contains("12 samples found: 12 scored, 0 skipped"),
        "{said}"
    );

    // The same images as class folders, the same templates read from the file.
    for (i, (label, bytes)) in samples.iter().enumerate() {
        let folder = temp.path().join("folders").join(CLASSES[*label]);
        std::fs::create_dir_all(&folder).unwrap();
        std::fs::write(folder.join(format!("s{i:07}.webp")), bytes).unwrap();
    }
    let folders = experiment(
        temp.path(),
        "folders",
        "  root: folders\n",
        "  published:\n    templates: {file: wds_flowers/zeroshot_classification_templates.txt}\n  plain:\n    templates: [\"{}\"]\n",
    );
    let (output, folder_report) = run(temp.path(), &folders, "folder-report");
    succeeded(output);
    let from_export = predictions(&cb_report);
    assert_eq!(from_export.len(), 2 * samples.len());
    assert_eq!(from_export, predictions(&folder_report));

    // CLIP_benchmark's schema, field for field; acc1 is the accuracy of summary.csv.
    let summary = rows(&cb_report.join("summary.csv"));
    for ontology in ["published", "plain"] {
        let model = "clip-tiny-random";
        let (text, json) =
            result_file(&cb_report.join(format!("clip_benchmark/{model}_{ontology}.json")));
        let keys: Vec<&str> = json
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(keys.len(), 6, "{text}");
        for key in [
            "dataset",
            "model",
            "pretrained",
            "task",
            "metrics",
            "language",
        ] {
            assert!(json[key].is_string() || key == "metrics", "{key}: {text}");
        }
        assert_eq!(json["dataset"], "wds/flowers");
        assert_eq!(json["model"], model);
        assert_eq!(json["pretrained"], ontology);
        assert_eq!(json["task"], "zeroshot_classification");
        assert_eq!(json["language"], "en");
        let metrics: BTreeMap<&str, &serde_json::Value> = json["metrics"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.as_str(), v))
            .collect();
        assert_eq!(
            metrics.keys().copied().collect::<Vec<_>>(),
            ["acc1", "acc5", "mean_per_class_recall"]
        );
        assert!(
            text.contains("\"acc5\": NaN"),
            "fewer than 5 classes: {text}"
        );
        let row = summary
            .iter()
            .find(|r| r["ontology"] == ontology)
            .unwrap_or_else(|| panic!("{ontology} in summary.csv"));
        let accuracy: f64 = row["accuracy"].parse().unwrap();
        let acc1 = metrics["acc1"].as_f64().unwrap();
        assert!((acc1 - accuracy).abs() < 1e-6, "{acc1} vs {accuracy}");
        let recall = metrics["mean_per_class_recall"].as_f64().unwrap();
        let balanced: f64 = row["balanced_accuracy"].parse().unwrap();
        assert!((recall - balanced).abs() < 1e-6, "{recall} vs {balanced}");
    }
}

#[test]
fn what_an_export_holds_beyond_single_label_classes_is_refused_by_name() {
    let temp = tempfile::tempdir().unwrap();
    let samples = webp_photos();
    let folder = temp.path().join("wds_flowers");
    export(&folder, &samples, 1, "a photo of a {c}.\n");
    let file = experiment(
        temp.path(),
        "cb",
        "  clip_benchmark: wds_flowers\n",
        "  published:\n    templates: dataset\n",
    );
    let refused = |needles: &[&str]| {
        let (output, out) = run(temp.path(), &file, "report");
        let err = stderr(&output);
        assert!(!output.status.success(), "exited 0: {err}");
        for needle in needles {
            assert!(err.contains(needle), "{needle:?} not in: {err}");
        }
        assert!(!out.exists(), "a report was written");
    };
    std::fs::write(folder.join("dataset_type.txt"), "multilabel\n").unwrap();
    refused(&["dataset_type.txt", "multilabel", "single-label"]);
    std::fs::write(folder.join("dataset_type.txt"), "retrieval\n").unwrap();
    refused(&["retrieval", "captions"]);
    std::fs::remove_file(folder.join("dataset_type.txt")).unwrap();

    // nshards.txt says 2: the missing shard is named, not silently dropped.
    std::fs::write(folder.join("test/nshards.txt"), "2\n").unwrap();
    refused(&["says 2 shards", "1.tar"]);
    std::fs::remove_file(folder.join("test/nshards.txt")).unwrap();
    refused(&["nshards.txt is missing"]);
    std::fs::write(folder.join("test/nshards.txt"), "1\n").unwrap();

    // A sample labelled with a `.npy` vector and no class.
    let mut tar = tar::Builder::new(std::fs::File::create(folder.join("test/0.tar")).unwrap());
    append(&mut tar, "s0000000.webp", &samples[0].1);
    append(&mut tar, "s0000000.npy", b"\x93NUMPY");
    tar.finish().unwrap();
    refused(&["s0000000.webp", "`.npy` label vector", "single-label"]);

    // `templates: dataset` with no templates file: an error at its line.
    export(&folder, &samples, 1, "");
    std::fs::remove_file(folder.join("zeroshot_classification_templates.txt")).unwrap();
    refused(&["cb.yaml:8:", "zeroshot_classification_templates.txt"]);
    // A template with neither slot, in the file: the file's line is named.
    std::fs::write(
        folder.join("zeroshot_classification_templates.txt"),
        "a photo of a {c}.\na photo\n",
    )
    .unwrap();
    refused(&[
        "cb.yaml:8:",
        "zeroshot_classification_templates.txt:2:",
        "has no `{}` (or `{c}`)",
    ]);
}

/// An ImageNet `val/` folder: the given WordNet ids, each with a few of the mini photos.
fn imagenet(root: &Path, wnids: &[&str]) {
    for (index, wnid) in wnids.iter().enumerate() {
        let folder = root.join("val").join(wnid);
        std::fs::create_dir_all(&folder).unwrap();
        let class = CLASSES[index % CLASSES.len()];
        let mut files: Vec<PathBuf> = std::fs::read_dir(mini().join(class))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        files.sort();
        for (i, file) in files.iter().take(2).enumerate() {
            let name = format!("ILSVRC2012_val_{:08}.JPEG", index * 10 + i);
            std::fs::copy(file, folder.join(name)).unwrap();
        }
    }
}

#[test]
fn imagenet_val_folders_are_named_by_the_published_list_and_repeats_are_told_apart() {
    let temp = tempfile::tempdir().unwrap();
    // tench, goldfish, and the two classes the published list names `missile`.
    imagenet(
        &temp.path().join("imagenet"),
        &["n01440764", "n01443537", "n03773504", "n04008634"],
    );
    let classes = "[tench, goldfish, \"missile (n03773504)\", \"missile (n04008634)\"]";
    let ontologies = "  openai:\n    templates: clip-benchmark/imagenet1k\n";
    let file = experiment(
        temp.path(),
        "inet",
        &format!("  imagenet: imagenet\n  classes: {classes}\n"),
        ontologies,
    );
    // Two classes the model reads alike stop the run, both named…
    let (output, out) = run(temp.path(), &file, "report");
    let err = stderr(&output);
    assert!(!output.status.success() && !out.exists(), "{err}");
    assert!(
        err.contains("inet.yaml:8:")
            && err.contains("`missile (n03773504)` and `missile (n04008634)`"),
        "{err}"
    );
    // …unless the experiment asks to keep them, as the published figure was made.
    let file = experiment(
        temp.path(),
        "inet",
        &format!("  imagenet: imagenet\n  classes: {classes}\n"),
        &format!("{ontologies}checks:\n  identical_prompts: warn\n"),
    );
    let (output, out) = run(temp.path(), &file, "report");
    let output = succeeded(output);
    let said = String::from_utf8_lossy(&output.stdout).into_owned() + &stderr(&output);
    assert!(said.contains("`missile` 2 times"), "{said}");
    assert!(said.contains("a bad photo of a goldfish."), "{said}");
    let per_class: Vec<String> = rows(&out.join("per_class.csv"))
        .into_iter()
        .map(|r| r["class"].clone())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    assert_eq!(
        per_class,
        [
            "goldfish",
            "missile (n03773504)",
            "missile (n04008634)",
            "tench"
        ]
    );
    let (_, json) = result_file(&out.join("clip_benchmark/clip-tiny-random_openai.json"));
    assert_eq!(json["dataset"], "imagenet1k");
    let scored: usize = rows(&out.join("predictions.csv")).len();
    assert_eq!(scored, 8);

    // Every one of the 1,000 classes is a candidate unless chosen: most have no images here.
    let whole = experiment(
        temp.path(),
        "inet-all",
        "  imagenet: imagenet\n",
        "  openai:\n    templates: [\"a photo of a {c}.\"]\n",
    );
    let (output, out) = run(temp.path(), &whole, "report-all");
    let err = stderr(&output);
    assert!(!output.status.success() && !out.exists(), "{err}");
    assert!(err.contains("996 of the 1000 classes"), "{err}");

    // A folder that is no ImageNet class is named.
    std::fs::create_dir_all(temp.path().join("imagenet/val/n99999999")).unwrap();
    let (output, _) = run(temp.path(), &file, "report-stray");
    assert!(stderr(&output).contains("n99999999"), "{}", stderr(&output));
}

#[test]
fn food101_reads_its_split_list_and_prompts_read_underscores_as_spaces() {
    let temp = tempfile::tempdir().unwrap();
    let base = temp.path().join("food-101");
    std::fs::create_dir_all(base.join("meta")).unwrap();
    std::fs::write(base.join("meta/classes.txt"), "apple_pie\nbaby_back_ribs\n").unwrap();
    let mut test_list = String::new();
    for (index, class) in ["apple_pie", "baby_back_ribs"].iter().enumerate() {
        let folder = base.join("images").join(class);
        std::fs::create_dir_all(&folder).unwrap();
        let mut photos: Vec<PathBuf> = std::fs::read_dir(mini().join(CLASSES[index]))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        photos.sort();
        for (i, photo) in photos.iter().take(3).enumerate() {
            std::fs::copy(photo, folder.join(format!("{}.jpg", 100 + i))).unwrap();
            // The first two are the test split; the third belongs to training.
            if i < 2 {
                test_list.push_str(&format!("{class}/{}\n", 100 + i));
            }
        }
    }
    std::fs::write(base.join("meta/test.txt"), &test_list).unwrap();
    let file = experiment(
        temp.path(),
        "food",
        "  food101: .\n",
        "  published:\n    templates: clip-benchmark/food101\n",
    );
    let (output, out) = run(temp.path(), &file, "report");
    let output = succeeded(output);
    let said = String::from_utf8_lossy(&output.stdout).into_owned() + &stderr(&output);
    assert!(
        said.contains("a photo of baby back ribs, a type of food."),
        "{said}"
    );
    assert_eq!(rows(&out.join("predictions.csv")).len(), 4);
    let (_, json) = result_file(&out.join("clip_benchmark/clip-tiny-random_published.json"));
    assert_eq!(json["dataset"], "food101");

    // A listed image that is not there stops the run, naming the list's line.
    std::fs::write(base.join("meta/test.txt"), test_list + "apple_pie/999\n").unwrap();
    let (output, _) = run(temp.path(), &file, "report-missing");
    let err = stderr(&output);
    assert!(!output.status.success(), "{err}");
    assert!(
        err.contains("test.txt:5") && err.contains("apple_pie/999.jpg"),
        "{err}"
    );
}

#[test]
fn a_suite_puts_every_dataset_in_one_table_and_names_what_failed() {
    let temp = tempfile::tempdir().unwrap();
    let samples = webp_photos();
    export(
        &temp.path().join("wds_flowers"),
        &samples,
        1,
        "a photo of a {c}.\n",
    );
    let ontologies = "  plain:\n    templates: [\"{c}\"]\n  published:\n    templates: [\"a photo of a {c}.\"]\n";
    experiment(
        temp.path(),
        "cb",
        "  clip_benchmark: wds_flowers\n",
        ontologies,
    );
    experiment(
        temp.path(),
        "folders",
        &format!("  root: {}\n  classes: [daisy, tulips]\n", mini().display()),
        ontologies,
    );
    let suite = temp.path().join("suite.yaml");
    std::fs::write(&suite, "name: both\nexperiments: [cb.yaml, folders.yaml]\n").unwrap();
    let home = temp.path().join("home");
    let suite_run = |suite: &Path| {
        let cache = temp.path().join("cache");
        common::command(&[
            "suite",
            suite.to_str().unwrap(),
            "--cache-dir",
            cache.to_str().unwrap(),
        ])
        .env("ONTOSWEEP_HOME", &home)
        .output()
        .unwrap()
    };
    succeeded(suite_run(&suite));
    let table = home.join("reports/both");
    let summary = rows(&table.join("summary.csv"));
    let cells: Vec<(String, String, String)> = summary
        .iter()
        .map(|r| {
            (
                r["dataset"].clone(),
                r["ontology"].clone(),
                r["baseline"].clone(),
            )
        })
        .collect();
    let expected = [
        ("wds/flowers", "plain", "true"),
        ("wds/flowers", "published", "false"),
        ("folders", "plain", "true"),
        ("folders", "published", "false"),
    ];
    let expected: Vec<(String, String, String)> = expected
        .iter()
        .map(|(d, o, b)| (d.to_string(), o.to_string(), b.to_string()))
        .collect();
    assert_eq!(cells, expected);
    // Each row is the experiment's own figure.
    for (row, report) in summary.iter().zip(["cb", "cb", "folders", "folders"]) {
        let own = rows(&home.join("reports").join(report).join("summary.csv"));
        let own = own
            .iter()
            .find(|r| r["ontology"] == row["ontology"])
            .unwrap();
        let (a, b): (f64, f64) = (
            row["acc1"].parse().unwrap(),
            own["accuracy"].parse().unwrap(),
        );
        assert!((a - b).abs() < 1e-6, "{a} vs {b}");
    }
    let page = std::fs::read_to_string(table.join("index.html")).unwrap();
    assert!(
        page.contains("href=\"../cb/index.html\"") && page.contains("wds/flowers"),
        "{page}"
    );

    // An experiment that cannot run is named, the others are still in the table, and the
    // suite exits non-zero.
    experiment(temp.path(), "broken", "  root: nowhere\n", ontologies);
    std::fs::write(&suite, "name: both\nexperiments: [cb.yaml, broken.yaml]\n").unwrap();
    let output = suite_run(&suite);
    assert!(!output.status.success(), "{}", stderr(&output));
    let page = std::fs::read_to_string(table.join("index.html")).unwrap();
    assert!(
        page.contains("broken.yaml") && page.contains("wds/flowers"),
        "{page}"
    );
    assert_eq!(rows(&table.join("summary.csv")).len(), 2);
}

#[test]
fn cifar_batches_as_torchvision_leaves_them_sweep_end_to_end() {
    // Written by numpy and pickle (crates/dataset/tests/fixtures/cifar/README.md).
    let fixtures = common::root().join("crates/dataset/tests/fixtures/cifar");
    let temp = tempfile::tempdir().unwrap();
    let file = experiment(
        temp.path(),
        "cifar",
        &format!(
            "  cifar: {}\n  classes: [airplane, automobile, cat, frog, ship]\n",
            fixtures.join("cifar-10-batches-py").display()
        ),
        "  published:\n    templates: clip-benchmark/cifar10\n",
    );
    let (output, out) = run(temp.path(), &file, "report");
    let output = succeeded(output);
    let said = String::from_utf8_lossy(&output.stdout).into_owned() + &stderr(&output);
    assert!(said.contains("a blurry photo of a frog."), "{said}");
    assert!(
        said.contains("8 samples found: 8 scored, 0 skipped"),
        "{said}"
    );
    let predictions = rows(&out.join("predictions.csv"));
    let truth: Vec<&str> = predictions
        .iter()
        .map(|r| r["true_class"].as_str())
        .collect();
    assert_eq!(
        truth,
        [
            "cat",
            "ship",
            "ship",
            "airplane",
            "frog",
            "frog",
            "automobile",
            "cat"
        ]
    );
    assert_eq!(predictions[0]["path"], "test_batch/00000");
    let (text, json) = result_file(&out.join("clip_benchmark/clip-tiny-random_published.json"));
    assert_eq!(json["dataset"], "cifar10");
    assert!(!text.contains("NaN"), "5 classes have a top-5: {text}");

    // Every declared class is a candidate: CIFAR-10's ten, of which this batch lacks five.
    // (Here as torchvision's root, holding the batches folder.)
    common::copy_dir(
        &fixtures.join("cifar-10-batches-py"),
        &temp.path().join("data/cifar-10-batches-py"),
    );
    let whole = experiment(
        temp.path(),
        "cifar-all",
        "  cifar: data\n",
        "  published:\n    templates: clip-benchmark/cifar10\n",
    );
    let (output, _) = run(temp.path(), &whole, "report-all");
    let err = stderr(&output);
    assert!(!output.status.success(), "{err}");
    assert!(err.contains("5 of the 10 classes"), "{err}");
}
