//! A search run: the candidates' dev cosines tabled, the greedy search over them, and what
//! it chose for the report.

use std::collections::{BTreeMap, HashMap};

use ontosweep_clip::Embedding;
use ontosweep_results::{SearchOutcome, SearchStep};

use crate::greedy::{self, Candidates, DevSet, Move, Settings, Stop};
use crate::space::SearchSpace;

/// What a search chose: the prompts per class, and the outcome for the report (its dev and
/// test objectives still to be filled in by the scorer, which alone sees test labels).
pub struct Chosen {
    pub prompts: BTreeMap<String, Vec<String>>,
    pub outcome: SearchOutcome,
}

/// The most memory a search may hold while it searches: above it, the run stops before
/// searching and says what to shrink.
pub const MAX_SEARCH_BYTES: u64 = 8 << 30;

/// What a search over `space` holds while it searches, in bytes, on `dev_images` images
/// with embeddings of `dim` values: the dev embeddings (and their copy as a matrix), every
/// candidate prompt's cosine with every dev image, the running sums per (class, name) and
/// the scores per class, each per dev image; and the summed embedding per (class, name).
pub fn working_bytes(space: &SearchSpace, dev_images: usize, dim: usize) -> u64 {
    let slots: u64 = space.names.iter().map(|n| n.len() as u64).sum();
    let prompts = space.spec.templates.len() as u64 * slots;
    let classes = space.names.len() as u64;
    let (dev, dim) = (dev_images as u64, dim as u64);
    dev.saturating_mul(dim * 8 + prompts * 4 + slots * 8 + classes * 8)
        .saturating_add(slots * dim * 8)
}

/// Runs a search over `space` on the dev images; `prompts` holds every candidate's
/// embedding (the embed stage encoded them all).
pub fn choose(
    space: &SearchSpace,
    classes: &[String],
    dev: &DevSet,
    prompts: &HashMap<String, Embedding>,
    logit_scale: f32,
) -> Chosen {
    let texts: Vec<String> = space.prompts().collect();
    let candidates = Candidates {
        templates: space.spec.templates.len(),
        names_per_class: space.names.iter().map(Vec::len).collect(),
        embeddings: texts.iter().map(|p| prompts[p].as_slice()).collect(),
    };
    let settings = Settings {
        max_templates: space.spec.max_templates,
        objective: space.spec.objective,
        logit_scale,
    };
    let choice = greedy::search(&candidates, dev, settings);
    let chosen_prompts = classes
        .iter()
        .enumerate()
        .map(|(c, class)| {
            let list = choice
                .templates
                .iter()
                .map(|&t| space.prompt(t, c, choice.names[c]))
                .collect();
            (class.clone(), list)
        })
        .collect();
    let steps = report_steps(space, classes, &choice.steps);
    let objective = space.spec.objective.name();
    let stopped = why_it_stopped(choice.stopped, objective, space.spec.max_templates);
    Chosen {
        prompts: chosen_prompts,
        outcome: SearchOutcome {
            objective: objective.to_string(),
            max_templates: space.spec.max_templates,
            candidate_templates: space.spec.templates.len(),
            candidate_names: classes.iter().cloned().zip(space.names.clone()).collect(),
            steps,
            templates: choice
                .templates
                .iter()
                .map(|&t| space.spec.templates[t].clone())
                .collect(),
            names: classes
                .iter()
                .enumerate()
                .map(|(c, class)| (class.clone(), space.names[c][choice.names[c]].clone()))
                .collect(),
            stopped,
            dev_images: dev.images.len(),
            dev_objective: f64::NAN,
            test_objective: f64::NAN,
        },
    }
}

/// The search's steps as the report lists them: each template added or class renamed, with
/// the dev objective after it.
fn report_steps(
    space: &SearchSpace,
    classes: &[String],
    steps: &[greedy::Step],
) -> Vec<SearchStep> {
    steps
        .iter()
        .enumerate()
        .map(|(i, step)| {
            let (template, class, name) = match step.made {
                Move::AddTemplate(t) => (Some(space.spec.templates[t].clone()), None, None),
                Move::Rename { class, name } => (
                    None,
                    Some(classes[class].clone()),
                    Some(space.names[class][name].clone()),
                ),
            };
            SearchStep {
                step: i + 1,
                template,
                class,
                name,
                dev_objective: step.objective,
            }
        })
        .collect()
}

/// Why the search stopped, in words.
fn why_it_stopped(stopped: Stop, objective: &str, max_templates: usize) -> String {
    match stopped {
        Stop::NoImprovement => format!("no move improved the dev {objective}"),
        Stop::TemplateLimit => format!(
            "the ensemble reached max_templates ({}) and no name change improved the dev {objective}",
            max_templates
        ),
        Stop::AllTemplates => {
            format!("every template was in and no name change improved the dev {objective}")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ontosweep_experiment::{Objective, SearchSpec};

    #[test]
    fn working_memory_counts_every_table_per_dev_image() {
        let spec = SearchSpec {
            templates: vec!["a {}".into(), "the {}".into(), "{}!".into()],
            names: [(
                "daisy".to_string(),
                vec!["daisy".into(), "marguerite".into()],
            )]
            .into(),
            max_templates: 2,
            objective: Objective::Accuracy,
            display: Default::default(),
        };
        let space = SearchSpace::new(&spec, &["daisy".into(), "rose".into()]);
        // 3 names in all (2 + 1), 9 candidate prompts, 2 classes, 4 values per embedding.
        let per_image = 4 * 8 + 9 * 4 + 3 * 8 + 2 * 8;
        let fixed = 3 * 4 * 8;
        assert_eq!(working_bytes(&space, 0, 4), fixed);
        assert_eq!(working_bytes(&space, 1000, 4), 1000 * per_image + fixed);
        // ImageNet-sized, 1,000 classes × 80 templates: 340 KB per dev image, so 30,000 dev
        // images (3/5 of its validation set) are over the cap and 10,000 are not.
        let spec = SearchSpec {
            templates: (0..80).map(|t| format!("{t} {{}}")).collect(),
            names: Default::default(),
            ..spec
        };
        let classes: Vec<String> = (0..1000).map(|c| format!("c{c}")).collect();
        let space = SearchSpace::new(&spec, &classes);
        assert!(working_bytes(&space, 30_000, 512) > MAX_SEARCH_BYTES);
        assert!(working_bytes(&space, 10_000, 512) < MAX_SEARCH_BYTES);
    }
}
