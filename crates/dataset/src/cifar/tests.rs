//! CIFAR batches written here byte for byte as Python 2's cPickle and numpy laid out the
//! originals (protocol 2), and two real ones numpy wrote (`tests/fixtures/cifar`).

use std::io::Cursor;

use super::*;
use crate::ImageSource;

/// A protocol-2 pickle as cPickle writes one: every string and container memoized.
struct Writer {
    out: Vec<u8>,
    memo: u32,
}

impl Writer {
    fn new() -> Self {
        Self {
            out: vec![0x80, 2],
            memo: 0,
        }
    }

    fn op(&mut self, code: u8) {
        self.out.push(code);
    }

    fn put(&mut self) {
        match u8::try_from(self.memo) {
            Ok(index) => self.out.extend([b'q', index]),
            Err(_) => {
                self.op(b'r');
                self.out.extend(self.memo.to_le_bytes());
            }
        }
        self.memo += 1;
    }

    /// A Python 2 `str`; gives where its bytes start.
    fn str(&mut self, bytes: &[u8]) -> u64 {
        match u8::try_from(bytes.len()) {
            Ok(len) => self.out.extend([b'U', len]),
            Err(_) => {
                self.op(b'T');
                self.out.extend((bytes.len() as i32).to_le_bytes());
            }
        }
        let offset = self.out.len() as u64;
        self.out.extend(bytes);
        self.put();
        offset
    }

    fn int(&mut self, value: i64) {
        match value {
            0..=255 => self.out.extend([b'K', value as u8]),
            256..=65535 => {
                self.op(b'M');
                self.out.extend((value as u16).to_le_bytes());
            }
            _ => {
                self.op(b'J');
                self.out.extend((value as i32).to_le_bytes());
            }
        }
    }

    fn global(&mut self, module: &str, name: &str) {
        self.op(b'c');
        self.out.extend(format!("{module}\n{name}\n").bytes());
        self.put();
    }

    /// cPickle appends in batches of 1000.
    fn ints(&mut self, values: &[i64]) {
        self.op(b']');
        self.put();
        for chunk in values.chunks(1000) {
            self.op(b'(');
            chunk.iter().for_each(|&v| self.int(v));
            self.op(b'e');
        }
    }

    fn strs(&mut self, values: &[&str]) {
        self.op(b']');
        self.put();
        self.op(b'(');
        values.iter().for_each(|v| {
            self.str(v.as_bytes());
        });
        self.op(b'e');
    }

    /// A uint8 array of `rows` × `row` with `data` as its bytes, as numpy 1.x reduces one;
    /// gives where `data` starts.
    fn array(&mut self, rows: i64, row: i64, data: &[u8]) -> u64 {
        self.global("numpy.core.multiarray", "_reconstruct");
        self.global("numpy", "ndarray");
        self.int(0);
        self.op(0x85);
        self.put();
        self.str(b"b");
        self.op(0x87);
        self.put();
        self.op(b'R');
        self.put();
        self.op(b'(');
        self.int(1);
        self.int(rows);
        self.int(row);
        self.op(0x86);
        self.put();
        self.dtype();
        self.op(0x89); // not Fortran order
        let offset = self.str(data);
        self.op(b't');
        self.put();
        self.op(b'b');
        offset
    }

    fn dtype(&mut self) {
        self.global("numpy", "dtype");
        self.str(b"u1");
        self.int(0);
        self.int(1);
        self.op(0x87);
        self.put();
        self.op(b'R');
        self.put();
        self.op(b'(');
        self.int(3);
        self.str(b"|");
        self.out.extend(b"NNN");
        self.op(b'J');
        self.out.extend((-1i32).to_le_bytes());
        self.op(b'J');
        self.out.extend((-1i32).to_le_bytes());
        self.int(0);
        self.op(b't');
        self.put();
        self.op(b'b');
    }

    fn begin_dict(&mut self) {
        self.op(b'}');
        self.put();
        self.op(b'(');
    }

    fn end_dict(mut self) -> Vec<u8> {
        self.out.extend(b"u.");
        self.out
    }
}

/// Image `i`'s byte `j`: every pixel of every plane differs from its neighbours'.
fn pixel(i: usize, j: usize) -> u8 {
    ((i * 31 + j * 7) % 251) as u8
}

fn pixels(count: usize) -> Vec<u8> {
    (0..count)
        .flat_map(|i| (0..3072).map(move |j| pixel(i, j)))
        .collect()
}

/// A batch dict laid out as CIFAR's; gives the file and where its pixels start.
fn batch_pickle(keys: &[(&str, &[i64])], rows: i64, data: &[u8]) -> (Vec<u8>, u64) {
    let mut w = Writer::new();
    w.begin_dict();
    w.str(b"batch_label");
    w.str(b"testing batch 1 of 1");
    for (key, labels) in keys {
        w.str(key.as_bytes());
        w.ints(labels);
    }
    w.str(b"data");
    let offset = w.array(rows, 3072, data);
    w.str(b"filenames");
    let names: Vec<String> = (0..rows).map(|i| format!("img_{i}.png")).collect();
    w.strs(&names.iter().map(String::as_str).collect::<Vec<_>>());
    (w.end_dict(), offset)
}

fn meta_pickle(lists: &[(&str, &[&str])]) -> Vec<u8> {
    let mut w = Writer::new();
    w.begin_dict();
    w.str(b"num_cases_per_batch");
    w.int(10000);
    for (key, names) in lists {
        w.str(key.as_bytes());
        w.strs(names);
    }
    w.end_dict()
}

const NAMES: &[&str] = &["cat", "dog", "ship"];

fn labels(count: usize) -> Vec<i64> {
    (0..count as i64).map(|i| i % 3).collect()
}

/// `cifar-10-batches-py` under `root` with a test batch of `count` images (labels 0,1,2,…)
/// and, when `train`, five training batches; gives the folder and the test pixels' offset.
fn cifar10(root: &Path, count: usize, train: bool) -> (PathBuf, u64) {
    let folder = root.join("cifar-10-batches-py");
    std::fs::create_dir_all(&folder).unwrap();
    let meta = meta_pickle(&[("label_names", NAMES)]);
    std::fs::write(folder.join("batches.meta"), meta).unwrap();
    let labels = labels(count);
    let (batch, offset) = batch_pickle(&[("labels", &labels)], count as i64, &pixels(count));
    std::fs::write(folder.join("test_batch"), &batch).unwrap();
    for i in (1..=5).filter(|_| train) {
        std::fs::write(folder.join(format!("data_batch_{i}")), &batch).unwrap();
    }
    (folder, offset)
}

fn names(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

fn error(result: Result<Dataset, DatasetError>) -> String {
    result.unwrap_err().to_string()
}

/// The RGB pixels a member's bytes decode to, through the BMP `ImageSource::read` makes.
fn decoded(image: &DatasetImage) -> image::RgbImage {
    let bytes = image.source().read().unwrap();
    image::load_from_memory(&bytes).unwrap().into_rgb8()
}

fn assert_planar_pixels(image: &DatasetImage, index: usize, pixel: impl Fn(usize, usize) -> u8) {
    let rgb = decoded(image);
    assert_eq!(rgb.dimensions(), (32, 32));
    for (x, y, value) in rgb.enumerate_pixels() {
        let at = (y * 32 + x) as usize;
        let planes = [0, 1024, 2048].map(|plane| pixel(index, plane + at));
        assert_eq!(value.0, planes, "image {index} at ({x}, {y})");
    }
}

#[test]
fn a_cifar10_test_batch_is_read_in_place() {
    let dir = tempfile::tempdir().unwrap();
    let (folder, offset) = cifar10(dir.path(), 12, false);
    for given in [dir.path(), folder.as_path()] {
        let found = read_cifar(given, CifarSplit::Test, None).unwrap();
        assert_eq!(found.root, folder);
        assert_eq!(found.classes, NAMES);
        let meta = folder.join("batches.meta");
        assert_eq!(found.class_source, ClassSource::NamesFile(meta));
        assert_eq!(found.images.len(), 12);
        assert!(found.skipped.is_empty());
        for (i, image) in found.images.to_vec().unwrap().iter().enumerate() {
            assert_eq!(image.relative, format!("test_batch/{i:05}"));
            assert_eq!(image.path, folder.join("test_batch"));
            assert_eq!(image.label, i % 3);
            let member = image.member.unwrap();
            assert_eq!(
                (member.offset, member.size),
                (offset + i as u64 * 3072, 3072)
            );
            assert_eq!(
                member.pixels,
                Some(PlanarRgb {
                    width: 32,
                    height: 32
                })
            );
        }
    }
}

#[test]
fn a_planar_member_reads_as_a_bmp_of_exactly_its_pixels() {
    let dir = tempfile::tempdir().unwrap();
    cifar10(dir.path(), 12, false);
    let found = read_cifar(dir.path(), CifarSplit::Test, None).unwrap();
    for (i, image) in found.images.to_vec().unwrap().iter().enumerate() {
        assert_planar_pixels(image, i, pixel);
    }
    // A member whose bytes are not three planes is an error, not a wrong image.
    let mut member = found.images.get(0).unwrap().member.unwrap();
    member.size -= 1;
    let source = ImageSource {
        path: found.images.get(0).unwrap().path.clone(),
        member: Some(member),
    };
    let err = source.read().unwrap_err().to_string();
    assert!(
        err.contains("not the R, G and B planes of a 32×32 image"),
        "{err}"
    );
}

#[test]
fn the_train_split_reads_the_five_batches_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let (folder, _) = cifar10(dir.path(), 3, true);
    let found = read_cifar(&folder, CifarSplit::Train, None).unwrap();
    let listed = found.images.to_vec().unwrap();
    let relative: Vec<&str> = listed.iter().map(|i| i.relative.as_str()).collect();
    assert_eq!(relative.len(), 15);
    assert_eq!(
        relative[..4],
        [
            "data_batch_1/00000",
            "data_batch_1/00001",
            "data_batch_1/00002",
            "data_batch_2/00000"
        ]
    );
    assert_eq!(relative[14], "data_batch_5/00002");
    std::fs::remove_file(folder.join("data_batch_3")).unwrap();
    let err = error(read_cifar(&folder, CifarSplit::Train, None));
    assert!(err.contains("data_batch_3 is missing"), "{err}");
}

#[test]
fn wanted_classes_are_kept_in_their_order_and_the_rest_skipped() {
    let dir = tempfile::tempdir().unwrap();
    cifar10(dir.path(), 6, false);
    let wanted = names(&["ship", "cat"]);
    let found = read_cifar(dir.path(), CifarSplit::Test, Some(&wanted)).unwrap();
    assert_eq!(found.classes, wanted);
    assert_eq!(found.class_source, ClassSource::Listed);
    let listed = found.images.to_vec().unwrap();
    let kept: Vec<(&str, usize)> = listed
        .iter()
        .map(|i| (i.relative.as_str(), i.label))
        .collect();
    assert_eq!(
        kept,
        [
            ("test_batch/00000", 1),
            ("test_batch/00002", 0),
            ("test_batch/00003", 1),
            ("test_batch/00005", 0)
        ]
    );
    assert_eq!(found.skipped.len(), 2);
    assert_eq!(found.skipped[0].path, "test_batch/00001");
    assert_eq!(
        found.skipped[0].reason,
        "class `dog` is not one of `dataset.classes`"
    );
    let unknown = names(&["cat", "horse"]);
    let err = error(read_cifar(dir.path(), CifarSplit::Test, Some(&unknown)));
    assert!(
        err.contains("`horse`") && err.contains("batches.meta"),
        "{err}"
    );
}

#[test]
fn cifar100_uses_the_fine_labels() {
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("cifar-100-python");
    std::fs::create_dir(&folder).unwrap();
    let meta = meta_pickle(&[
        ("fine_label_names", NAMES),
        ("coarse_label_names", &["pets", "things"]),
    ]);
    std::fs::write(folder.join("meta"), meta).unwrap();
    let fine = [2, 0, 1, 1];
    let coarse = [1, 0, 0, 0];
    let keys: [(&str, &[i64]); 2] = [("fine_labels", &fine), ("coarse_labels", &coarse)];
    let (batch, _) = batch_pickle(&keys, 4, &pixels(4));
    std::fs::write(folder.join("test"), batch).unwrap();
    let found = read_cifar(dir.path(), CifarSplit::Test, None).unwrap();
    assert_eq!(found.classes, NAMES);
    assert_eq!(
        found.class_source,
        ClassSource::NamesFile(folder.join("meta"))
    );
    let listed = found.images.to_vec().unwrap();
    let labels: Vec<usize> = listed.iter().map(|i| i.label).collect();
    assert_eq!(labels, [2, 0, 1, 1]);
    assert_eq!(found.images.get(3).unwrap().relative, "test/00003");
    let err = error(read_cifar(dir.path(), CifarSplit::Train, None));
    assert!(err.contains("cifar-100-python/train is missing"), "{err}");
}

#[test]
fn the_folder_must_hold_one_cifar_and_say_which() {
    let dir = tempfile::tempdir().unwrap();
    let err = error(read_cifar(dir.path(), CifarSplit::Test, None));
    assert!(
        err.contains("holds no CIFAR batches") && err.contains("`cifar-100-python` (meta"),
        "{err}"
    );
    cifar10(dir.path(), 3, false);
    std::fs::create_dir(dir.path().join("cifar-100-python")).unwrap();
    let err = error(read_cifar(dir.path(), CifarSplit::Test, None));
    assert!(
        err.contains("both `cifar-10-batches-py` and `cifar-100-python`"),
        "{err}"
    );
    let err = error(read_cifar(&dir.path().join("gone"), CifarSplit::Test, None));
    assert!(err.contains("is not a folder"), "{err}");
}

/// Writes `batch` as the test batch beside a valid meta file and gives the reader's error.
fn test_batch_error(batch: &[u8]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let (folder, _) = cifar10(dir.path(), 3, false);
    std::fs::write(folder.join("test_batch"), batch).unwrap();
    let err = error(read_cifar(&folder, CifarSplit::Test, None));
    assert!(err.contains("test_batch"), "the file is named: {err}");
    err
}

#[test]
fn damaged_batches_are_errors_that_name_the_file() {
    let three = labels(3);
    let short = pixels(3)[1..].to_vec();
    let (batch, _) = batch_pickle(&[("labels", &three)], 3, &short);
    let err = test_batch_error(&batch);
    assert!(
        err.contains("holds 9215 bytes, but its shape (3, 3072) needs 9216"),
        "{err}"
    );
    let (batch, _) = batch_pickle(&[("labels", &[0, 1, 3])], 3, &pixels(3));
    let err = test_batch_error(&batch);
    assert!(
        err.contains("image 2 has label 3, but the meta file names 3 classes"),
        "{err}"
    );
    let (batch, _) = batch_pickle(&[("labels", &[0, 1])], 3, &pixels(3));
    let err = test_batch_error(&batch);
    assert!(
        err.contains("holds 3 images but `labels` has 2 labels"),
        "{err}"
    );
    let (batch, _) = batch_pickle(&[("fine_labels", &three)], 3, &pixels(3));
    let err = test_batch_error(&batch);
    assert!(err.contains("has no `labels`"), "{err}");
    let (batch, _) = batch_pickle(&[("labels", &three)], 3, &pixels(3));
    let err = test_batch_error(&batch[..batch.len() - 40]);
    assert!(err.contains("truncated"), "{err}");
}

#[test]
fn a_class_without_images_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    cifar10(dir.path(), 2, false);
    let err = error(read_cifar(dir.path(), CifarSplit::Test, None));
    assert!(err.contains("`ship`") && err.contains("no images"), "{err}");
}

#[test]
fn a_fifo_or_an_oversized_file_is_refused_without_reading() {
    use ontosweep_testkit::{mkfifo, within_a_minute};
    let dir = tempfile::tempdir().unwrap();
    let (folder, _) = cifar10(dir.path(), 3, false);
    let batch = folder.join("test_batch");
    std::fs::remove_file(&batch).unwrap();
    mkfifo(&batch);
    let given = folder.clone();
    let err = within_a_minute(move || error(read_cifar(&given, CifarSplit::Test, None)))
        .expect("reading a FIFO blocked");
    assert!(err.contains("test_batch") && err.contains("FIFO"), "{err}");
    std::fs::remove_file(&batch).unwrap();
    // Sparse: the size alone refuses it.
    std::fs::File::create(&batch)
        .unwrap()
        .set_len(MAX_PICKLE_BYTES + 1)
        .unwrap();
    let err = error(read_cifar(&folder, CifarSplit::Test, None));
    assert!(
        err.contains("test_batch: it has 536870913 bytes, over the limit of 512 MiB"),
        "{err}"
    );
    let meta = folder.join("batches.meta");
    std::fs::remove_file(&meta).unwrap();
    mkfifo(&meta);
    let err = within_a_minute(move || error(read_cifar(&folder, CifarSplit::Test, None)))
        .expect("looking at a FIFO blocked");
    assert!(
        err.contains("batches.meta") && err.contains("FIFO"),
        "{err}"
    );
}

/// Parses and reads `bytes` as a CIFAR-10 batch of three classes, in memory.
fn read_bytes(bytes: &[u8]) -> Result<batch::Batch, DatasetError> {
    let pickle = batch::parse(Cursor::new(bytes), bytes.len() as u64)?;
    batch::batch_of(&pickle, "labels", 3)
}

#[test]
fn truncated_or_flipped_bytes_give_errors_never_panics() {
    let (valid, offset) = batch_pickle(&[("labels", &[0, 1])], 2, &pixels(2));
    assert_eq!(read_bytes(&valid).unwrap().data_offset, offset);
    for len in 0..valid.len() - 1 {
        assert!(read_bytes(&valid[..len]).is_err(), "cut to {len} bytes");
    }
    // Flips anywhere: the pixels' bytes may change and still read; nothing may panic.
    let mut state = 0x2545_F491_4F6C_DD1Du64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let structure: Vec<usize> = (0..valid.len())
        .filter(|&i| (i as u64) < offset || i as u64 >= offset + 2 * 3072)
        .collect();
    for _ in 0..3000 {
        let mut bytes = valid.clone();
        for _ in 0..1 + next() % 3 {
            let at = structure[(next() % structure.len() as u64) as usize];
            bytes[at] ^= 1 << (next() % 8);
        }
        if let Ok(batch) = read_bytes(&bytes) {
            assert!(batch.labels.len() <= 2 && batch.labels.iter().all(|&l| l < 3));
        }
    }
}

#[test]
fn unknown_opcodes_are_named_with_their_byte() {
    let err = read_bytes(b"\x80\x02}q\x00(F1.0\n")
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("opcode FLOAT (0x46) at byte 6 is not one CIFAR batches use"),
        "{err}"
    );
    let err = read_bytes(b"\x80\x02\xff").unwrap_err().to_string();
    assert!(
        err.contains("byte 0xff (no pickle opcode) at byte 2"),
        "{err}"
    );
    let err = read_bytes(b"\x80\x02h\x05.").unwrap_err().to_string();
    assert!(err.contains("memo entry 5 was never stored"), "{err}");
}

#[test]
fn growth_beyond_the_bounds_is_refused() {
    let mut marks = b"\x80\x02".to_vec();
    marks.extend([b'('; 65]);
    let err = read_bytes(&marks).unwrap_err().to_string();
    assert!(err.contains("more than 64 nested MARKs"), "{err}");
    let mut nones = b"\x80\x02".to_vec();
    nones.extend(std::iter::repeat_n(b'N', 1_000_001));
    let err = read_bytes(&nones).unwrap_err().to_string();
    assert!(
        err.contains("more than 1000000 values on the stack"),
        "{err}"
    );
    let mut puts = b"\x80\x02N".to_vec();
    for i in 0..=1_000_000u32 {
        puts.push(b'r');
        puts.extend(i.to_le_bytes());
    }
    let err = read_bytes(&puts).unwrap_err().to_string();
    assert!(err.contains("more than 1000000 values remembered"), "{err}");
}

#[test]
fn pixels_pickled_as_text_are_refused_with_the_reason() {
    // What Python 3's pickle writes for bytes at protocol 2: `_codecs.encode(text, 'latin1')`.
    let mut w = Writer::new();
    w.begin_dict();
    w.str(b"labels");
    w.ints(&[0]);
    w.str(b"data");
    w.global("numpy.core.multiarray", "_reconstruct");
    w.global("numpy", "ndarray");
    w.int(0);
    w.op(0x85);
    w.str(b"b");
    w.op(0x87);
    w.op(b'R');
    w.op(b'(');
    w.int(1);
    w.int(1);
    w.int(3072);
    w.op(0x86);
    w.dtype();
    w.op(0x89);
    w.global("_codecs", "encode");
    w.str(b"text");
    w.str(b"latin1");
    w.op(0x86);
    w.op(b'R');
    w.op(b't');
    w.op(b'b');
    let err = read_bytes(&w.end_dict()).unwrap_err().to_string();
    assert!(
        err.contains("pickled as text") && err.contains("protocol 3"),
        "{err}"
    );
}

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/cifar")
}

/// The fixture script's pixels: image `i`'s byte `j`.
fn numpy_pixel(i: usize, j: usize) -> u8 {
    ((7 * i + 3 * j) % 256) as u8
}

#[test]
fn a_real_cifar10_batch_as_cpickle_and_numpy_wrote_it() {
    let folder = fixtures().join("cifar-10-batches-py");
    let err = error(read_cifar(&folder, CifarSplit::Test, None));
    assert!(err.contains("`bird`") && err.contains("no images"), "{err}");
    let wanted = names(&["cat", "ship", "airplane", "frog", "automobile"]);
    let found = read_cifar(&folder, CifarSplit::Test, Some(&wanted)).unwrap();
    let listed = found.images.to_vec().unwrap();
    let labels: Vec<usize> = listed.iter().map(|i| i.label).collect();
    // cat, ship, ship, airplane, frog, frog, automobile, cat
    assert_eq!(labels, [0, 1, 1, 2, 3, 3, 4, 0]);
    for (i, image) in found.images.to_vec().unwrap().iter().enumerate() {
        assert_planar_pixels(image, i, numpy_pixel);
    }
}

#[test]
fn a_real_cifar100_batch_as_python3_pickles_it() {
    let found = read_cifar(&fixtures().join("cifar-100-python"), CifarSplit::Test, None).unwrap();
    assert_eq!(found.classes, ["apple", "bee", "castle"]);
    let listed = found.images.to_vec().unwrap();
    let labels: Vec<usize> = listed.iter().map(|i| i.label).collect();
    assert_eq!(labels, [2, 0, 1, 2]);
    for (i, image) in found.images.to_vec().unwrap().iter().enumerate() {
        assert_planar_pixels(image, i, numpy_pixel);
    }
    // Both beside each other: which one is meant cannot be guessed.
    let err = error(read_cifar(&fixtures(), CifarSplit::Test, None));
    assert!(err.contains("holds both"), "{err}");
}
