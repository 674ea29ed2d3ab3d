//! What a search chooses from: each template applied to each of a class's candidate names.

use ontosweep_experiment::SearchSpec;

/// Every prompt a search may use: each template applied to each of a class's names.
pub struct SearchSpace {
    pub spec: SearchSpec,
    /// Per class, in dataset order: its candidate names.
    pub names: Vec<Vec<String>>,
}

impl SearchSpace {
    pub fn new(spec: &SearchSpec, classes: &[String]) -> Self {
        Self {
            spec: spec.clone(),
            names: classes.iter().map(|c| spec.names_for(c)).collect(),
        }
    }

    pub fn prompt(&self, template: usize, class: usize, name: usize) -> String {
        self.spec.templates[template].replace("{}", &self.names[class][name])
    }

    /// Every candidate prompt: template-major, then class, then name (the order
    /// `search::greedy::Candidates` indexes).
    pub fn prompts(&self) -> impl Iterator<Item = String> + '_ {
        (0..self.spec.templates.len()).flat_map(move |t| {
            self.names
                .iter()
                .enumerate()
                .flat_map(move |(c, names)| (0..names.len()).map(move |n| self.prompt(t, c, n)))
        })
    }
}
