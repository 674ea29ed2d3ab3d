//! Model files and dataset archives fetched from a local HTTP server on 127.0.0.1.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use ontosweep_fetch::ArchiveLimits;
use ontosweep_sweep::ModelSpec;
use ontosweep_sweep::provision::{
    Endpoint, KnownArchive, LockedFile, ModelLock, check_model_files, download_model_from,
    fetch_archive, hash_file, lock_path,
};
use ontosweep_sweep::{Experiment, Progress, Silent, resolve};

type Files = Arc<Mutex<HashMap<String, Vec<u8>>>>;
type Log = Arc<Mutex<Vec<String>>>;

/// Serves `files` by URL path until the test process ends (at most 64 requests). Like the
/// reproduction of the planted-part bug, it answers every Range request with 416. With a
/// `commit`, answers under `/resolve/main/` carry `X-Repo-Commit`, as Hugging Face's do.
fn serve_with(files: Files, commit: Option<&'static str>) -> (String, Log) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let log: Log = Arc::default();
    let seen = log.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().take(64) {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut request = String::new();
            reader.read_line(&mut request).unwrap();
            let mut ranged = false;
            while {
                let mut line = String::new();
                reader.read_line(&mut line).unwrap();
                ranged |= line.to_ascii_lowercase().starts_with("range:");
                !line.trim().is_empty()
            } {}
            let path = request.split_whitespace().nth(1).unwrap_or("/").to_string();
            seen.lock().unwrap().push(path.clone());
            let body = files.lock().unwrap().get(&path).cloned();
            let commit = match commit {
                Some(c) if path.contains("/resolve/main/") => format!("X-Repo-Commit: {c}\r\n"),
                _ => String::new(),
            };
            let end = "Connection: close\r\n\r\n";
            let _ = match body {
                Some(body) if ranged => write!(
                    stream,
                    "HTTP/1.1 416 Range Not Satisfiable\r\nContent-Range: bytes */{}\r\nContent-Length: 0\r\n{end}",
                    body.len()
                ),
                Some(body) => write!(
                    stream,
                    "HTTP/1.1 200 OK\r\nContent-Length: {}\r\n{commit}{end}",
                    body.len()
                )
                .and_then(|_| stream.write_all(&body)),
                None => write!(
                    stream,
                    "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n{end}"
                ),
            };
        }
    });
    (base, log)
}

fn serve(files: Files) -> String {
    serve_with(files, None).0
}

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

fn tar_gz(path: &Path, entries: &[(&str, &[u8])]) {
    let file = std::fs::File::create(path).unwrap();
    let mut builder = tar::Builder::new(flate2::write::GzEncoder::new(
        file,
        flate2::Compression::fast(),
    ));
    for (name, data) in entries {
        let mut header = tar::Header::new_gnu();
        header.set_size(data.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        builder.append_data(&mut header, name, *data).unwrap();
    }
    builder.into_inner().unwrap().finish().unwrap();
}

#[test]
fn a_known_archive_becomes_the_dataset_folder() {
    let temp = tempfile::tempdir().unwrap();
    let archive = temp.path().join("photos.tgz");
    tar_gz(
        &archive,
        &[
            ("photos/daisy/a.jpg", b"a"),
            ("photos/dandelion/b.jpg", b"b"),
            ("photos/LICENSE.txt", b"cc"),
        ],
    );
    let bytes = std::fs::read(&archive).unwrap();
    let sha256 = ontosweep_fetch::sha256_file(&archive).unwrap();
    let files: Files = Arc::default();
    files
        .lock()
        .unwrap()
        .insert("/photos.tgz".into(), bytes.clone());
    let base = serve(files);
    let known = KnownArchive {
        name: "test-photos",
        url: Box::leak(format!("{base}/photos.tgz").into_boxed_str()),
        url_variable: "ONTOSWEEP_TEST_PHOTOS_URL",
        size: bytes.len() as u64,
        sha256: Box::leak(sha256.into_boxed_str()),
        top_folder: "photos",
        limits: ArchiveLimits::default(),
    };
    // A folder under the name the old code unpacked into (and removed): not ontosweep's.
    let data = temp.path().join("data");
    let mine = data.join(".test-photos.unpacked");
    std::fs::create_dir_all(&mine).unwrap();
    std::fs::write(mine.join("notes.txt"), b"mine").unwrap();
    let root = data.join("photos");
    fetch_archive(&known, &root, &Silent).unwrap();
    assert_eq!(std::fs::read(root.join("daisy/a.jpg")).unwrap(), b"a");
    assert!(root.join("dandelion/b.jpg").is_file());
    assert_eq!(std::fs::read(mine.join("notes.txt")).unwrap(), b"mine");

    // An archive with more entries than its bounds allow leaves no dataset folder behind.
    let other = temp.path().join("other/photos");
    let bounded = KnownArchive {
        limits: ArchiveLimits {
            max_entries: 2,
            max_bytes: 1 << 20,
        },
        ..known.clone()
    };
    let err = fetch_archive(&bounded, &other, &Silent).unwrap_err();
    assert!(err.contains("more than 2 entries"), "{err}");
    assert!(!other.exists());
    assert_eq!(
        std::fs::read_dir(other.parent().unwrap()).unwrap().count(),
        1,
        "only .downloads is left"
    );

    // A wrong checksum leaves no dataset folder behind.
    let other = temp.path().join("third/photos");
    let wrong = KnownArchive {
        sha256: "00",
        ..known
    };
    let err = fetch_archive(&wrong, &other, &Silent).unwrap_err();
    assert!(err.contains("sha256"), "{err}");
    assert!(!other.exists());
}
