//! Model files and dataset archives fetched from a local HTTP server on 127.0.0.1.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use ontosweep_experiment::Experiment;
use ontosweep_models::{
    Endpoint, LockedFile, ModelLock, ModelSpec, Progress, Silent, check_model_files,
    download_model_from, hash_file, lock_path, resolve,
};
use ontosweep_testkit::{Files, serve, serve_with};

fn tiny_model() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../models/clip-tiny-random")
}

const MODEL_FILES: [&str; 4] = [
    "onnx/text_model.onnx",
    "onnx/vision_model.onnx",
    "tokenizer.json",
    "preprocessor_config.json",
];

/// The tiny model's files under `/<repo>/resolve/<revision>/`.
fn model_files(repo: &str, revisions: &[&str]) -> Files {
    let files: Files = Arc::default();
    for revision in revisions {
        for file in MODEL_FILES {
            files.lock().unwrap().insert(
                format!("/{repo}/resolve/{revision}/{file}"),
                std::fs::read(tiny_model().join(file)).unwrap(),
            );
        }
    }
    files
}

/// `models/tiny.yaml` in a scratch folder, with `source` lines; returns (models dir, yaml).
fn model_yaml(temp: &Path, source: &str) -> (PathBuf, PathBuf, ModelSpec) {
    let models = temp.join("models");
    std::fs::create_dir_all(&models).unwrap();
    let yaml = models.join("tiny.yaml");
    let listed: String = MODEL_FILES
        .iter()
        .map(|f| format!("  - path: {f}\n"))
        .collect();
    let text = format!("id: tiny\nlocal: tiny\nsource:\n{source}files:\n{listed}");
    std::fs::write(&yaml, &text).unwrap();
    let spec: ModelSpec = yaml_serde::from_str(&text).unwrap();
    (models, yaml, spec)
}

fn read_lock(yaml: &Path) -> ModelLock {
    serde_json::from_str(&std::fs::read_to_string(lock_path(yaml)).unwrap()).unwrap()
}

fn sha256_of(path: &Path) -> String {
    ontosweep_fetch::sha256_file(path).unwrap()
}

/// Keeps the warnings.
#[derive(Default)]
struct Warnings(Mutex<Vec<String>>);

impl Progress for Warnings {
    fn start(&self, _: &str, _: usize) {}
    fn advance(&self, _: usize) {}
    fn finish(&self) {}
    fn warn(&self, message: &str) {
        self.0.lock().unwrap().push(message.into());
    }
}

#[test]
fn a_model_is_downloaded_locked_and_later_held_to_its_lock() {
    let files = model_files("test/tiny", &["main"]);
    // SAFETY: the only test in this binary that reads HF_ENDPOINT sets it before any thread does.
    unsafe { std::env::set_var("HF_ENDPOINT", serve(files.clone())) };

    let temp = tempfile::tempdir().unwrap();
    let (models, yaml, _) = model_yaml(temp.path(), "  hf_repo: test/tiny\n");
    let experiment = Experiment::parse(
        &temp.path().join("exp.yaml"),
        "name: x\ndataset:\n  root: data\nmodels: [tiny]\nontologies:\n  plain:\n    templates: [\"{}\"]\n",
    )
    .unwrap();

    let resolved = resolve(&experiment, &models, None, &Silent).unwrap();
    assert_eq!(resolved[0].id, "tiny");
    for file in MODEL_FILES {
        assert_eq!(
            std::fs::read(models.join("tiny").join(file)).unwrap(),
            std::fs::read(tiny_model().join(file)).unwrap()
        );
    }
    let lock = read_lock(&yaml);
    assert_eq!(lock.files.len(), 4);
    let config = &lock.files["preprocessor_config.json"];
    assert_eq!(
        config.size,
        std::fs::metadata(tiny_model().join("preprocessor_config.json"))
            .unwrap()
            .len()
    );
    assert_eq!(config.repository.as_deref(), Some("test/tiny"));
    assert_eq!(config.revision.as_deref(), Some("main"));

    // The server now serves something else: a fresh download must be refused, naming the
    // lock file and what to delete.
    std::fs::remove_file(models.join("tiny/tokenizer.json")).unwrap();
    files.lock().unwrap().insert(
        "/test/tiny/resolve/main/tokenizer.json".into(),
        b"{\"tampered\": true}".to_vec(),
    );
    let err = resolve(&experiment, &models, None, &Silent).unwrap_err();
    let lock_file = lock_path(&yaml).display().to_string();
    assert!(
        err.contains("tokenizer.json") && err.contains("bytes, not") && err.contains(&lock_file),
        "{err}"
    );
    assert!(!models.join("tiny/tokenizer.json").exists());

    // A file placed by hand that differs from the lock is refused, and left as it is.
    let vision = models.join("tiny/onnx/vision_model.onnx");
    let mut bytes = std::fs::read(&vision).unwrap();
    bytes[100] ^= 0xff;
    std::fs::write(&vision, &bytes).unwrap();
    let err = resolve(&experiment, &models, None, &Silent).unwrap_err();
    assert!(
        err.contains("vision_model.onnx differs") && err.contains(&lock_file),
        "{err}"
    );
    assert_eq!(std::fs::read(&vision).unwrap(), bytes);
}

#[test]
fn a_planted_part_is_neither_used_nor_locked() {
    let files = model_files("test/tiny", &["main"]);
    let base = serve(files);
    let temp = tempfile::tempdir().unwrap();
    let (models, yaml, spec) = model_yaml(temp.path(), "  hf_repo: test/tiny\n");
    let dir = models.join("tiny");
    std::fs::create_dir_all(&dir).unwrap();
    let real = std::fs::read(tiny_model().join("preprocessor_config.json")).unwrap();
    let planted = String::from_utf8(real.clone())
        .unwrap()
        .replace("0.48145466", "0.99999999");
    assert_eq!(planted.len(), real.len(), "other mean, same length");
    std::fs::write(dir.join("preprocessor_config.json.part"), &planted).unwrap();

    download_model_from(&Endpoint::mirror(base), &spec, &yaml, &dir, &Silent).unwrap();
    let config = dir.join("preprocessor_config.json");
    assert_eq!(std::fs::read(&config).unwrap(), real);
    let lock = read_lock(&yaml);
    assert_eq!(
        lock.files["preprocessor_config.json"].sha256,
        sha256_of(&tiny_model().join("preprocessor_config.json"))
    );
}

#[test]
fn a_lock_mismatch_names_the_lock_file_and_clears_once_its_entry_is_removed() {
    let files = model_files("test/tiny", &["main"]);
    let base = serve(files.clone());
    let temp = tempfile::tempdir().unwrap();
    let (models, yaml, spec) = model_yaml(temp.path(), "  hf_repo: test/tiny\n");
    let dir = models.join("tiny");
    let endpoint = Endpoint::mirror(base);
    // A wrong file locked earlier, then deleted by the user.
    download_model_from(&endpoint, &spec, &yaml, &dir, &Silent).unwrap();
    let mut lock = read_lock(&yaml);
    lock.files.get_mut("tokenizer.json").unwrap().sha256 = "0".repeat(64);
    std::fs::write(lock_path(&yaml), serde_json::to_string(&lock).unwrap()).unwrap();
    std::fs::remove_file(dir.join("tokenizer.json")).unwrap();

    let err = download_model_from(&endpoint, &spec, &yaml, &dir, &Silent).unwrap_err();
    let lock_file = lock_path(&yaml).display().to_string();
    assert!(
        err.contains(&format!(
            "remove the `\"tokenizer.json\"` entry from {lock_file}"
        )) && err.contains("sha256")
            && !err.contains("next try starts afresh"),
        "{err}"
    );
    assert!(!dir.join("tokenizer.json").exists());
    // Doing what it says clears it; the other entries stay.
    lock.files.remove("tokenizer.json");
    std::fs::write(lock_path(&yaml), serde_json::to_string(&lock).unwrap()).unwrap();
    download_model_from(&endpoint, &spec, &yaml, &dir, &Silent).unwrap();
    let lock = read_lock(&yaml);
    assert_eq!(lock.files.len(), 4);
    assert_eq!(
        lock.files["tokenizer.json"].sha256,
        sha256_of(&tiny_model().join("tokenizer.json"))
    );
}

fn foreign_entry(repository: Option<&str>, revision: Option<&str>) -> LockedFile {
    LockedFile {
        size: 3,
        sha256: "0".repeat(64),
        repository: repository.map(String::from),
        revision: revision.map(String::from),
        resolved_revision: revision.map(String::from),
    }
}

#[test]
fn a_lock_entry_for_another_repository_or_revision_does_not_apply() {
    let files = model_files("test/tiny", &["main", "v2"]);
    let endpoint = Endpoint::mirror(serve(files));
    for (source, entry) in [
        (
            "  hf_repo: test/tiny\n",
            foreign_entry(Some("other/model"), Some("main")),
        ),
        (
            "  hf_repo: test/tiny\n  revision: v2\n",
            foreign_entry(Some("test/tiny"), Some("v1")),
        ),
    ] {
        let temp = tempfile::tempdir().unwrap();
        let (models, yaml, spec) = model_yaml(temp.path(), source);
        let mut lock = ModelLock::default();
        for file in MODEL_FILES {
            lock.files.insert(file.into(), entry.clone());
        }
        std::fs::write(lock_path(&yaml), serde_json::to_string(&lock).unwrap()).unwrap();
        let warnings = Warnings::default();
        download_model_from(&endpoint, &spec, &yaml, &models.join("tiny"), &warnings).unwrap();
        let warnings = warnings.0.into_inner().unwrap();
        assert_eq!(warnings.len(), 4, "{warnings:?}");
        assert!(warnings[0].contains("does not apply here"), "{warnings:?}");
        let lock = read_lock(&yaml);
        let text = &lock.files["tokenizer.json"];
        assert_eq!(text.repository.as_deref(), Some("test/tiny"));
        assert_eq!(text.sha256, sha256_of(&tiny_model().join("tokenizer.json")));
    }
}

#[test]
fn an_old_lock_without_repository_is_still_honoured_and_upgraded() {
    let files = model_files("test/tiny", &["main"]);
    let endpoint = Endpoint::mirror(serve(files));
    let temp = tempfile::tempdir().unwrap();
    let (models, yaml, spec) = model_yaml(temp.path(), "  hf_repo: test/tiny\n");
    let entries: Vec<String> = MODEL_FILES
        .iter()
        .map(|f| {
            let path = tiny_model().join(f);
            let size = std::fs::metadata(&path).unwrap().len();
            format!(
                "\"{f}\": {{\"size\": {size}, \"sha256\": \"{}\"}}",
                sha256_of(&path)
            )
        })
        .collect();
    let old = format!("{{\"files\": {{{}}}}}", entries.join(", "));
    std::fs::write(lock_path(&yaml), &old).unwrap();
    download_model_from(&endpoint, &spec, &yaml, &models.join("tiny"), &Silent).unwrap();
    let lock = read_lock(&yaml);
    assert!(
        lock.files
            .values()
            .all(|l| l.repository.as_deref() == Some("test/tiny"))
    );
    // An old entry that does not match still stops the download, naming the lock file.
    let temp = tempfile::tempdir().unwrap();
    let (models, yaml, spec) = model_yaml(temp.path(), "  hf_repo: test/tiny\n");
    std::fs::write(
        lock_path(&yaml),
        "{\"files\": {\"tokenizer.json\": {\"size\": 3, \"sha256\": \"00\"}}}",
    )
    .unwrap();
    let err =
        download_model_from(&endpoint, &spec, &yaml, &models.join("tiny"), &Silent).unwrap_err();
    assert!(
        err.contains(&lock_path(&yaml).display().to_string()),
        "{err}"
    );
}

#[test]
fn hand_placed_files_that_differ_from_the_lock_are_refused() {
    let files = model_files("test/tiny", &["main"]);
    let endpoint = Endpoint::mirror(serve(files));
    let temp = tempfile::tempdir().unwrap();
    let (models, yaml, spec) = model_yaml(temp.path(), "  hf_repo: test/tiny\n");
    let dir = models.join("tiny");
    download_model_from(&endpoint, &spec, &yaml, &dir, &Silent).unwrap();
    check_model_files(&spec, &yaml, &dir, &Silent, &hash_file).unwrap();
    // Same size, one byte changed: only the hash can tell.
    let config = dir.join("preprocessor_config.json");
    let mut bytes = std::fs::read(&config).unwrap();
    bytes[5] ^= 0x01;
    std::fs::write(&config, &bytes).unwrap();
    let err = check_model_files(&spec, &yaml, &dir, &Silent, &hash_file).unwrap_err();
    let lock_file = lock_path(&yaml).display().to_string();
    assert!(
        err.contains(&format!("{} differs", config.display()))
            && err.contains(&lock_file)
            && err.contains("sha256"),
        "{err}"
    );
    // Downloading the rest does not replace it either.
    std::fs::remove_file(dir.join("tokenizer.json")).unwrap();
    let err = download_model_from(&endpoint, &spec, &yaml, &dir, &Silent).unwrap_err();
    assert!(err.contains("preprocessor_config.json differs"), "{err}");
    assert_eq!(std::fs::read(&config).unwrap(), bytes);
}

#[test]
fn the_resolved_commit_is_recorded_and_every_file_comes_from_it() {
    let files = model_files("test/tiny", &["main", "c0ffee"]);
    let (base, log) = serve_with(files, Some("c0ffee"));
    let temp = tempfile::tempdir().unwrap();
    let (models, yaml, spec) = model_yaml(temp.path(), "  hf_repo: test/tiny\n");
    let dir = models.join("tiny");
    let endpoint = Endpoint::mirror(base);
    download_model_from(&endpoint, &spec, &yaml, &dir, &Silent).unwrap();
    let paths = log.lock().unwrap().clone();
    assert!(paths[0].contains("/resolve/main/"), "{paths:?}");
    assert!(
        paths[1..].iter().all(|p| p.contains("/resolve/c0ffee/")),
        "{paths:?}"
    );
    let lock = read_lock(&yaml);
    for entry in lock.files.values() {
        assert_eq!(entry.revision.as_deref(), Some("main"));
        assert_eq!(entry.resolved_revision.as_deref(), Some("c0ffee"));
    }
    // Later downloads ask for the locked commit, whatever `main` has become.
    std::fs::remove_file(dir.join("tokenizer.json")).unwrap();
    download_model_from(&endpoint, &spec, &yaml, &dir, &Silent).unwrap();
    let last = log.lock().unwrap().last().cloned().unwrap();
    assert_eq!(last, "/test/tiny/resolve/c0ffee/tokenizer.json");
}
