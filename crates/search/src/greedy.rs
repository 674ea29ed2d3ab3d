//! Greedy forward selection of a prompt ensemble, on the dev split only. The ensemble is a
//! list of templates shared by every class plus one name per class (the words the templates
//! are applied to). Each step makes the one move that most improves the dev objective: add
//! a template, or give a class another of its candidate names. It stops when no move
//! improves it; templates stop being added at the size limit.
//!
//! Ties between moves go to the higher mean log-probability of the true class on the dev
//! images, then to the earlier move (templates in file order, then classes and names in
//! order). Every score is computed from a table of prompt × image cosines made once, so a
//! step costs (moves × classes × dev images), not a pass over the embeddings.

use ndarray::{Array2, ArrayView2};
use ontosweep_experiment::Objective;
use rayon::prelude::*;

/// Two objectives closer than this are equal (balanced accuracy is a mean of fractions).
const SAME: f64 = 1e-12;

/// Prompts encoded in fixed-size blocks, so the table is the same whatever the thread count.
const BLOCK: usize = 64;

/// Every candidate prompt's embedding, template-major: template, then class, then name.
pub struct Candidates<'a> {
    pub templates: usize,
    /// How many names each class may take.
    pub names_per_class: Vec<usize>,
    /// Unit length, in [`Candidates::index`] order.
    pub embeddings: Vec<&'a [f32]>,
}

impl Candidates<'_> {
    fn per_template(&self) -> usize {
        self.names_per_class.iter().sum()
    }

    /// Where the prompt of `template` applied to `class`'s `name` is.
    pub fn index(&self, template: usize, class: usize, name: usize) -> usize {
        let before: usize = self.names_per_class[..class].iter().sum();
        template * self.per_template() + before + name
    }
}

/// The images the search may learn from, with their labels: nothing else reaches it.
pub struct DevSet<'a> {
    pub images: Vec<&'a [f32]>,
    pub labels: Vec<usize>,
}

#[derive(Debug, Clone, Copy)]
pub struct Settings {
    pub max_templates: usize,
    pub objective: Objective,
    /// Only for the tie-break's log-probabilities.
    pub logit_scale: f32,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Move {
    AddTemplate(usize),
    Rename { class: usize, name: usize },
}

#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    pub made: Move,
    /// The dev objective after the move.
    pub objective: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    /// No move improves the dev objective.
    NoImprovement,
    /// The ensemble is full and no name change improves the objective.
    TemplateLimit,
    /// Every template is in and no name change improves the objective.
    AllTemplates,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Choice {
    pub steps: Vec<Step>,
    /// In the order added.
    pub templates: Vec<usize>,
    /// Per class, the index of its chosen name.
    pub names: Vec<usize>,
    pub stopped: Stop,
}

/// An objective and its tie-break.
#[derive(Debug, Clone, Copy)]
struct Eval {
    objective: f64,
    log_likelihood: f64,
}

impl Eval {
    fn beats(&self, other: &Eval) -> bool {
        self.objective > other.objective + SAME
            || (self.objective >= other.objective - SAME
                && self.log_likelihood > other.log_likelihood)
    }
}

/// Runs the search. `dev` must have at least one image and `candidates` one template.
pub fn search(candidates: &Candidates, dev: &DevSet, settings: Settings) -> Choice {
    let mut state = State::new(candidates, dev, settings);
    let mut current: Option<Eval> = None;
    let mut steps = Vec::new();
    let stopped = loop {
        let moves = state.moves();
        let no_more_templates = if state.templates.len() >= settings.max_templates {
            Stop::TemplateLimit
        } else if state.templates.len() == candidates.templates {
            Stop::AllTemplates
        } else {
            Stop::NoImprovement
        };
        let evaluated: Vec<Eval> = moves.par_iter().map(|m| state.evaluate(m)).collect();
        let mut best: Option<(usize, Eval)> = None;
        for (index, eval) in evaluated.into_iter().enumerate() {
            if best.is_none_or(|(_, b)| eval.beats(&b)) {
                best = Some((index, eval));
            }
        }
        let Some((index, eval)) = best else {
            break no_more_templates;
        };
        if let Some(now) = current
            && eval.objective <= now.objective + SAME
        {
            break no_more_templates;
        }
        let made = moves[index].clone();
        state.apply(&made);
        steps.push(Step {
            made,
            objective: eval.objective,
        });
        current = Some(eval);
    };
    Choice {
        steps,
        templates: state.templates,
        names: state.names,
        stopped,
    }
}

/// The search's working state: the choice so far, and per class and name the running sums
/// that make a move's scores cheap.
struct State<'a> {
    candidates: &'a Candidates<'a>,
    labels: &'a [usize],
    settings: Settings,
    classes: usize,
    images: usize,
    /// cosines[p * images + i]: candidate prompt p against dev image i.
    cosines: Vec<f32>,
    templates: Vec<usize>,
    names: Vec<usize>,
    /// Per class and name (flattened as candidates are within a template): the sum of the
    /// chosen templates' cosines per image, the sum of their embeddings, and its squared norm.
    sums: Vec<Vec<f64>>,
    vectors: Vec<Vec<f64>>,
    norms2: Vec<f64>,
    /// Per class: the current scores (cosine with the class embedding) per image.
    scores: Vec<Vec<f64>>,
    support: Vec<usize>,
}

impl<'a> State<'a> {
    fn new(candidates: &'a Candidates<'a>, dev: &'a DevSet<'a>, settings: Settings) -> Self {
        let classes = candidates.names_per_class.len();
        let images = dev.images.len();
        let slots = candidates.per_template();
        let dim = candidates.embeddings.first().map_or(0, |e| e.len());
        let mut support = vec![0; classes];
        for &label in &dev.labels {
            support[label] += 1;
        }
        Self {
            candidates,
            labels: &dev.labels,
            settings,
            classes,
            images,
            cosines: cosine_table(&candidates.embeddings, &dev.images),
            templates: Vec::new(),
            names: vec![0; classes],
            sums: vec![vec![0.0; images]; slots],
            vectors: vec![vec![0.0; dim]; slots],
            norms2: vec![0.0; slots],
            scores: vec![vec![0.0; images]; classes],
            support,
        }
    }

    fn slot(&self, class: usize, name: usize) -> usize {
        self.candidates.index(0, class, name)
    }

    fn moves(&self) -> Vec<Move> {
        let mut moves = Vec::new();
        if self.templates.len() < self.settings.max_templates {
            moves.extend(
                (0..self.candidates.templates)
                    .filter(|t| !self.templates.contains(t))
                    .map(Move::AddTemplate),
            );
        }
        if !self.templates.is_empty() {
            for class in 0..self.classes {
                for name in 0..self.candidates.names_per_class[class] {
                    if name != self.names[class] {
                        moves.push(Move::Rename { class, name });
                    }
                }
            }
        }
        moves
    }

    fn cosines_of(&self, prompt: usize) -> &[f32] {
        &self.cosines[prompt * self.images..(prompt + 1) * self.images]
    }

    /// Per class, its scores with `template` added to the ensemble.
    fn with_template(&self, class: usize, template: usize) -> Vec<f64> {
        let slot = self.slot(class, self.names[class]);
        let prompt = self.candidates.index(template, class, self.names[class]);
        let embedding = self.candidates.embeddings[prompt];
        let along: f64 = self.vectors[slot]
            .iter()
            .zip(embedding)
            .map(|(u, &e)| u * f64::from(e))
            .sum();
        let own: f64 = embedding.iter().map(|&e| f64::from(e) * f64::from(e)).sum();
        let norm = (self.norms2[slot] + 2.0 * along + own).max(0.0).sqrt();
        self.sums[slot]
            .iter()
            .zip(self.cosines_of(prompt))
            .map(|(&s, &c)| divide(s + f64::from(c), norm))
            .collect()
    }

    fn named(&self, class: usize, name: usize) -> Vec<f64> {
        let slot = self.slot(class, name);
        let norm = self.norms2[slot].max(0.0).sqrt();
        self.sums[slot].iter().map(|&s| divide(s, norm)).collect()
    }

    fn evaluate(&self, candidate: &Move) -> Eval {
        match *candidate {
            Move::AddTemplate(template) => {
                let scores: Vec<Vec<f64>> = (0..self.classes)
                    .map(|c| self.with_template(c, template))
                    .collect();
                self.judge(|c| &scores[c])
            }
            Move::Rename { class, name } => {
                let renamed = self.named(class, name);
                self.judge(|c| {
                    if c == class {
                        &renamed
                    } else {
                        &self.scores[c]
                    }
                })
            }
        }
    }

    /// The objective and mean true-class log-probability of per-class scores.
    fn judge<'s>(&'s self, scores: impl Fn(usize) -> &'s [f64]) -> Eval
    where
        'a: 's,
    {
        let columns: Vec<&[f64]> = (0..self.classes).map(scores).collect();
        let scale = f64::from(self.settings.logit_scale);
        let mut hits = vec![0usize; self.classes];
        let mut log_likelihood = 0.0;
        for (i, &label) in self.labels.iter().enumerate() {
            let mut best = 0;
            for c in 1..self.classes {
                if columns[c][i] > columns[best][i] {
                    best = c;
                }
            }
            if best == label {
                hits[label] += 1;
            }
            let top = columns[best][i];
            let total: f64 = columns.iter().map(|s| (scale * (s[i] - top)).exp()).sum();
            log_likelihood += scale * (columns[label][i] - top) - total.ln();
        }
        let objective = match self.settings.objective {
            Objective::Accuracy => hits.iter().sum::<usize>() as f64 / self.images as f64,
            Objective::BalancedAccuracy => {
                let recalls: Vec<f64> = hits
                    .iter()
                    .zip(&self.support)
                    .filter(|&(_, &s)| s > 0)
                    .map(|(&h, &s)| h as f64 / s as f64)
                    .collect();
                recalls.iter().sum::<f64>() / recalls.len() as f64
            }
        };
        Eval {
            objective,
            log_likelihood: log_likelihood / self.images as f64,
        }
    }

    fn apply(&mut self, made: &Move) {
        match *made {
            Move::AddTemplate(template) => {
                self.templates.push(template);
                for class in 0..self.classes {
                    for name in 0..self.candidates.names_per_class[class] {
                        self.add(template, class, name);
                    }
                }
            }
            Move::Rename { class, name } => self.names[class] = name,
        }
        for class in 0..self.classes {
            self.scores[class] = self.named(class, self.names[class]);
        }
    }

    /// Adds a template's prompt to one class-and-name's running sums.
    fn add(&mut self, template: usize, class: usize, name: usize) {
        let slot = self.slot(class, name);
        let prompt = self.candidates.index(template, class, name);
        let embedding = self.candidates.embeddings[prompt];
        for (u, &e) in self.vectors[slot].iter_mut().zip(embedding) {
            *u += f64::from(e);
        }
        self.norms2[slot] = self.vectors[slot].iter().map(|u| u * u).sum();
        let cosines = &self.cosines[prompt * self.images..(prompt + 1) * self.images];
        for (s, &c) in self.sums[slot].iter_mut().zip(cosines) {
            *s += f64::from(c);
        }
    }
}

/// A zero-length class embedding scores nothing rather than NaN.
fn divide(value: f64, norm: f64) -> f64 {
    if norm > 0.0 { value / norm } else { 0.0 }
}

/// Every prompt against every image, row per prompt: one matrix product per block of
/// prompts, blocks in parallel.
fn cosine_table(prompts: &[&[f32]], images: &[&[f32]]) -> Vec<f32> {
    let dim = prompts.first().map_or(0, |p| p.len());
    let mut image_matrix = Array2::<f32>::zeros((images.len(), dim));
    for (mut row, image) in image_matrix.rows_mut().into_iter().zip(images) {
        row.assign(
            &ArrayView2::from_shape((1, dim), image)
                .expect("one row")
                .row(0),
        );
    }
    let mut table = vec![0.0f32; prompts.len() * images.len()];
    if images.is_empty() {
        return table;
    }
    table
        .par_chunks_mut(BLOCK * images.len())
        .zip(prompts.par_chunks(BLOCK))
        .for_each(|(out, block)| {
            let mut prompt_matrix = Array2::<f32>::zeros((block.len(), dim));
            for (mut row, prompt) in prompt_matrix.rows_mut().into_iter().zip(block) {
                row.assign(
                    &ArrayView2::from_shape((1, dim), prompt)
                        .expect("one row")
                        .row(0),
                );
            }
            let product = prompt_matrix.dot(&image_matrix.t());
            for (target, value) in out.iter_mut().zip(product.iter()) {
                *target = *value;
            }
        });
    table
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unit(v: &[f32]) -> Vec<f32> {
        let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        v.iter().map(|x| x / n).collect()
    }

    /// Two classes along axes 0 and 1; axis 2 is noise every prompt carries some of.
    /// Template 1 points each class at its axis; templates 0 and 2 blur them.
    fn planted() -> (Vec<Vec<f32>>, Vec<Vec<f32>>, Vec<usize>) {
        let mut prompts = Vec::new();
        for t in 0..3 {
            for c in 0..2 {
                let mut v = vec![0.0f32; 3];
                v[c] = 1.0;
                v[1 - c] = if t == 1 { 0.0 } else { 0.9 };
                v[2] = 0.5;
                prompts.push(unit(&v));
            }
        }
        let mut images = Vec::new();
        let mut labels = Vec::new();
        for i in 0..40 {
            let c = i % 2;
            let mut v = vec![0.0f32; 3];
            v[c] = 1.0;
            v[1 - c] = 0.3 + (i as f32) * 0.01;
            v[2] = if i % 3 == 0 { 0.8 } else { -0.4 };
            images.push(unit(&v));
            labels.push(c);
        }
        (prompts, images, labels)
    }

    fn run(
        prompts: &[Vec<f32>],
        names: Vec<usize>,
        images: &[Vec<f32>],
        labels: &[usize],
        max: usize,
    ) -> Choice {
        let templates = prompts.len() / names.iter().sum::<usize>();
        let candidates = Candidates {
            templates,
            names_per_class: names,
            embeddings: prompts.iter().map(Vec::as_slice).collect(),
        };
        let dev = DevSet {
            images: images.iter().map(Vec::as_slice).collect(),
            labels: labels.to_vec(),
        };
        search(
            &candidates,
            &dev,
            Settings {
                max_templates: max,
                objective: Objective::Accuracy,
                logit_scale: 100.0,
            },
        )
    }

    #[test]
    fn recovers_the_planted_template_first() {
        let (prompts, images, labels) = planted();
        let choice = run(&prompts, vec![1, 1], &images, &labels, 3);
        assert_eq!(choice.steps[0].made, Move::AddTemplate(1));
        assert_eq!(choice.templates[0], 1);
        assert!(
            (choice.steps[0].objective - 1.0).abs() < 1e-12,
            "{choice:?}"
        );
        // Nothing beats a perfect score: the search stops there.
        assert_eq!(choice.steps.len(), 1);
        assert_eq!(choice.stopped, Stop::NoImprovement);
    }

    #[test]
    fn a_better_name_is_chosen_by_a_rename_move() {
        // One template; class 1 has two names: its first points the wrong way.
        let wrong = unit(&[1.0, 0.2, 0.0]);
        let right = unit(&[0.0, 1.0, 0.0]);
        let prompts = vec![unit(&[1.0, 0.0, 0.0]), wrong, right];
        let (_, images, labels) = planted();
        let choice = run(&prompts, vec![1, 2], &images, &labels, 4);
        assert_eq!(choice.steps[0].made, Move::AddTemplate(0));
        assert_eq!(choice.steps[1].made, Move::Rename { class: 1, name: 1 });
        assert_eq!(choice.names, vec![0, 1]);
        assert!(choice.steps[1].objective > choice.steps[0].objective);
        assert_eq!(choice.stopped, Stop::AllTemplates);
    }

    #[test]
    fn dev_labels_steer_the_choice() {
        let (prompts, images, labels) = planted();
        // Swapping every dev label makes the blurred templates the better ones.
        let swapped: Vec<usize> = labels.iter().map(|l| 1 - l).collect();
        let choice = run(&prompts, vec![1, 1], &images, &swapped, 3);
        assert_ne!(choice.templates[0], 1, "{choice:?}");
    }

    #[test]
    fn the_template_limit_holds_and_ties_go_to_the_earlier_move() {
        // Identical templates: every move ties, so the first is taken, then nothing improves.
        let p = unit(&[1.0, 0.0, 0.0]);
        let q = unit(&[0.0, 1.0, 0.0]);
        let prompts = vec![p.clone(), q.clone(), p.clone(), q.clone(), p, q];
        let (_, images, labels) = planted();
        let choice = run(&prompts, vec![1, 1], &images, &labels, 1);
        assert_eq!(choice.templates, vec![0]);
        assert_eq!(choice.stopped, Stop::TemplateLimit);
    }

    #[test]
    fn the_table_is_the_same_whatever_the_thread_count() {
        let prompts: Vec<Vec<f32>> = (0..150)
            .map(|i| {
                unit(&[
                    (i as f32).sin(),
                    (i as f32 * 0.7).cos(),
                    0.3,
                    (i % 7) as f32,
                ])
            })
            .collect();
        let images: Vec<Vec<f32>> = (0..33)
            .map(|i| unit(&[1.0, (i as f32).cos(), (i as f32 * 1.3).sin(), 0.1]))
            .collect();
        let p: Vec<&[f32]> = prompts.iter().map(Vec::as_slice).collect();
        let x: Vec<&[f32]> = images.iter().map(Vec::as_slice).collect();
        let one = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .unwrap();
        let four = rayon::ThreadPoolBuilder::new()
            .num_threads(4)
            .build()
            .unwrap();
        let a = one.install(|| cosine_table(&p, &x));
        let b = four.install(|| cosine_table(&p, &x));
        assert_eq!(a, b);
        let direct: f32 = prompts[140]
            .iter()
            .zip(&images[20])
            .map(|(a, b)| a * b)
            .sum();
        assert!((a[140 * 33 + 20] - direct).abs() < 1e-6);
    }
}
