//! The IoBinding path gives exactly the embeddings of the plain path, whatever the batch
//! sizes in a row (its output is reallocated only when the size changes).

mod common;

use common::{golden, runtime, tiny_model};
use ontosweep_clip::{ImageEncoder, IoNames, SessionOptions};

fn encoder(io_binding: bool) -> ImageEncoder {
    let options = SessionOptions {
        io_binding,
        ..SessionOptions::default()
    };
    ImageEncoder::new(runtime(), &tiny_model(), &IoNames::default(), options).unwrap()
}

#[test]
fn io_binding_embeddings_are_identical_to_the_plain_path() {
    let mut plain = encoder(false);
    let mut bound = encoder(true);
    let files: Vec<_> = std::fs::read_dir(golden("preprocess"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "jpg" || e == "png"))
        .collect();
    assert!(files.len() >= 6, "golden images: {files:?}");
    let tensors: Vec<Vec<f32>> = files
        .iter()
        .map(|f| plain.preprocessing().load(f).unwrap())
        .collect();
    // 4, 4, 1, 4: the same size twice, a change, and back.
    let mut batches = vec![tensors[0..4].concat(), tensors[2..6].concat()];
    batches.push(tensors[5].clone());
    batches.push(tensors[1..5].concat());
    for (i, batch) in batches.into_iter().enumerate() {
        let expected = plain.encode_batch(batch.clone()).unwrap();
        let got = bound.encode_batch(batch).unwrap();
        assert_eq!(got.len(), expected.len(), "batch {i}");
        assert!(
            got == expected,
            "batch {i}: IoBinding embeddings differ from the plain path"
        );
    }
}
