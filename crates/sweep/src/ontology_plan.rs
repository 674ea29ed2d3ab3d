//! One ontology as the plan holds it: its prompts per class, or the space a search
//! chooses them from.

use std::collections::BTreeMap;

use ontosweep_search::SearchSpace;

/// One ontology's prompts, or the space a search chooses them from.
pub enum OntologyPlan {
    /// Class name → its prompts.
    Written(BTreeMap<String, Vec<String>>),
    Search(SearchSpace),
}

impl OntologyPlan {
    /// Every prompt it may encode, in class order (or candidate order).
    pub(crate) fn prompts<'s>(
        &'s self,
        classes: &'s [String],
    ) -> Box<dyn Iterator<Item = String> + 's> {
        match self {
            OntologyPlan::Written(by_class) => {
                Box::new(classes.iter().flat_map(|c| by_class[c].iter().cloned()))
            }
            OntologyPlan::Search(space) => Box::new(space.prompts()),
        }
    }
}
