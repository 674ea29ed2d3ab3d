//! The prompt search on cached embeddings, at the size of the full flowers set: 80 templates
//! × 3 names × 5 classes (1,200 candidate prompts) against 3,670 dev images of 512 values
//! (every photo in the dev split: the worst case). Embeddings are synthetic, with a class
//! signal so the search takes several steps.

use criterion::{Criterion, criterion_group, criterion_main};
use ontosweep_experiment::Objective;
use ontosweep_search::greedy::{Candidates, DevSet, Settings, search};

const DIM: usize = 512;
const CLASSES: usize = 5;
const NAMES: usize = 3;
const TEMPLATES: usize = 80;
const IMAGES: usize = 3_670;

/// A small deterministic generator (xorshift), so every run searches the same problem.
struct Noise(u64);

impl Noise {
    fn next(&mut self) -> f32 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 40) as f32 / (1u64 << 24) as f32 - 0.5
    }

    /// A unit vector along `axis` (with `signal`), plus noise.
    fn around(&mut self, axis: usize, signal: f32) -> Vec<f32> {
        let mut v: Vec<f32> = (0..DIM).map(|_| self.next()).collect();
        v[axis] += signal;
        let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        v.iter().map(|x| x / norm).collect()
    }
}

fn prompt_search(c: &mut Criterion) {
    let mut noise = Noise(0x9E37_79B9_7F4A_7C15);
    let mut prompts = Vec::new();
    for template in 0..TEMPLATES {
        for class in 0..CLASSES {
            for name in 0..NAMES {
                let signal = 1.0 + ((template * 7 + name * 3) % 11) as f32 / 4.0;
                prompts.push(noise.around(class, signal));
            }
        }
    }
    let labels: Vec<usize> = (0..IMAGES).map(|i| i % CLASSES).collect();
    let images: Vec<Vec<f32>> = labels.iter().map(|&l| noise.around(l, 1.5)).collect();
    let candidates = Candidates {
        templates: TEMPLATES,
        names_per_class: vec![NAMES; CLASSES],
        embeddings: prompts.iter().map(Vec::as_slice).collect(),
    };
    let dev = DevSet {
        images: images.iter().map(Vec::as_slice).collect(),
        labels,
    };
    let settings = Settings {
        max_templates: 8,
        objective: Objective::Accuracy,
        logit_scale: 100.0,
    };
    let steps = search(&candidates, &dev, settings).steps.len();
    let mut group = c.benchmark_group("prompt_search");
    group.sample_size(10);
    group.bench_function(
        format!("{TEMPLATES}x{NAMES}x{CLASSES}_prompts_{IMAGES}_images_{steps}_steps"),
        |b| b.iter(|| search(&candidates, &dev, settings)),
    );
    group.finish();
}

criterion_group!(benches, prompt_search);
criterion_main!(benches);
