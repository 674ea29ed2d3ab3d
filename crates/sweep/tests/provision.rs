//! Model files and dataset archives fetched from a local HTTP server on 127.0.0.1.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use ontosweep_sweep::provision::{KnownArchive, ModelLock, fetch_archive, lock_path};
use ontosweep_sweep::{Experiment, Silent, resolve};

type Files = Arc<Mutex<HashMap<String, Vec<u8>>>>;

/// Serves `files` by URL path until the test process ends (at most 64 requests).
fn serve(files: Files) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming().take(64) {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut request = String::new();
            reader.read_line(&mut request).unwrap();
            while {
                let mut line = String::new();
                reader.read_line(&mut line).unwrap();
                !line.trim().is_empty()
            } {}
            let path = request.split_whitespace().nth(1).unwrap_or("/").to_string();
            let body = files.lock().unwrap().get(&path).cloned();
            let _ = match body {
                Some(body) => write!(
                    stream,
                    "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                )
                .and_then(|_| stream.write_all(&body)),
                None => write!(
                    stream,
                    "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                ),
            };
        }
    });
    base
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

#[test]
fn a_model_is_downloaded_locked_and_later_held_to_its_lock() {
    let files: Files = Arc::default();
    for file in MODEL_FILES {
        files.lock().unwrap().insert(
            format!("/test/tiny/resolve/main/{file}"),
            std::fs::read(tiny_model().join(file)).unwrap(),
        );
    }
    // SAFETY: the only test in this binary that reads HF_ENDPOINT sets it before any thread does.
    unsafe { std::env::set_var("HF_ENDPOINT", serve(files.clone())) };

    let temp = tempfile::tempdir().unwrap();
    let models = temp.path().join("models");
    std::fs::create_dir_all(&models).unwrap();
    let yaml = models.join("tiny.yaml");
    let listed: String = MODEL_FILES
        .iter()
        .map(|f| format!("  - path: {f}\n"))
        .collect();
    std::fs::write(
        &yaml,
        format!("id: tiny\nlocal: tiny\nsource:\n  hf_repo: test/tiny\nfiles:\n{listed}"),
    )
    .unwrap();
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
    let lock: ModelLock =
        serde_json::from_str(&std::fs::read_to_string(lock_path(&yaml)).unwrap()).unwrap();
    assert_eq!(lock.files.len(), 4);
    let config = &lock.files["preprocessor_config.json"];
    assert_eq!(
        config.size,
        std::fs::metadata(tiny_model().join("preprocessor_config.json"))
            .unwrap()
            .len()
    );

    // The server now serves something else: a fresh download must be refused.
    std::fs::remove_file(models.join("tiny/tokenizer.json")).unwrap();
    files.lock().unwrap().insert(
        "/test/tiny/resolve/main/tokenizer.json".into(),
        b"{\"tampered\": true}".to_vec(),
    );
    let err = resolve(&experiment, &models, None, &Silent).unwrap_err();
    assert!(
        err.contains("tokenizer.json") && err.contains("bytes, not"),
        "{err}"
    );
    assert!(!models.join("tiny/tokenizer.json").exists());
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
    };
    let root = temp.path().join("data/photos");
    fetch_archive(&known, &root, &Silent).unwrap();
    assert_eq!(std::fs::read(root.join("daisy/a.jpg")).unwrap(), b"a");
    assert!(root.join("dandelion/b.jpg").is_file());

    // A wrong checksum leaves no dataset folder behind.
    let other = temp.path().join("other/photos");
    let wrong = KnownArchive {
        sha256: "00",
        ..known
    };
    let err = fetch_archive(&wrong, &other, &Silent).unwrap_err();
    assert!(err.contains("sha256"), "{err}");
    assert!(!other.exists());
}
