//! Built-in template sets a searched ontology can name instead of listing templates.

/// CLIP's 80 ImageNet templates (OpenAI, "Prompt Engineering for ImageNet").
const OPENAI_IMAGENET: [&str; 80] = [
    "a bad photo of a {}.",
    "a photo of many {}.",
    "a sculpture of a {}.",
    "a photo of the hard to see {}.",
    "a low resolution photo of the {}.",
    "a rendering of a {}.",
    "graffiti of a {}.",
    "a bad photo of the {}.",
    "a cropped photo of the {}.",
    "a tattoo of a {}.",
    "the embroidered {}.",
    "a photo of a hard to see {}.",
    "a bright photo of a {}.",
    "a photo of a clean {}.",
    "a photo of a dirty {}.",
    "a dark photo of the {}.",
    "a drawing of a {}.",
    "a photo of my {}.",
    "the plastic {}.",
    "a photo of the cool {}.",
    "a close-up photo of a {}.",
    "a black and white photo of the {}.",
    "a painting of the {}.",
    "a painting of a {}.",
    "a pixelated photo of the {}.",
    "a sculpture of the {}.",
    "a bright photo of the {}.",
    "a cropped photo of a {}.",
    "a plastic {}.",
    "a photo of the dirty {}.",
    "a jpeg corrupted photo of a {}.",
    "a blurry photo of the {}.",
    "a photo of the {}.",
    "a good photo of the {}.",
    "a rendering of the {}.",
    "a {} in a video game.",
    "a photo of one {}.",
    "a doodle of a {}.",
    "a close-up photo of the {}.",
    "a photo of a {}.",
    "the origami {}.",
    "the {} in a video game.",
    "a sketch of a {}.",
    "a doodle of the {}.",
    "a origami {}.",
    "a low resolution photo of a {}.",
    "the toy {}.",
    "a rendition of the {}.",
    "a photo of the clean {}.",
    "a photo of a large {}.",
    "a rendition of a {}.",
    "a photo of a nice {}.",
    "a photo of a weird {}.",
    "a blurry photo of a {}.",
    "a cartoon {}.",
    "art of a {}.",
    "a sketch of the {}.",
    "a embroidered {}.",
    "a pixelated photo of a {}.",
    "itap of the {}.",
    "a jpeg corrupted photo of the {}.",
    "a good photo of a {}.",
    "a plushie {}.",
    "a photo of the nice {}.",
    "a photo of the small {}.",
    "a photo of the weird {}.",
    "the cartoon {}.",
    "art of the {}.",
    "a drawing of the {}.",
    "a photo of the large {}.",
    "a black and white photo of a {}.",
    "the plushie {}.",
    "a dark photo of a {}.",
    "itap of a {}.",
    "graffiti of the {}.",
    "a toy {}.",
    "itap of my {}.",
    "a photo of a cool {}.",
    "a photo of a small {}.",
    "a tattoo of the {}.",
];

/// The 7 of them OpenAI's sequential forward selection kept on ImageNet.
const OPENAI_IMAGENET_7: [&str; 7] = [
    "itap of a {}.",
    "a bad photo of the {}.",
    "a origami {}.",
    "a photo of the large {}.",
    "a {} in a video game.",
    "art of the {}.",
    "a photo of the small {}.",
];

/// Every built-in set, by the name an experiment file uses.
pub const BUILT_IN: [(&str, &[&str]); 2] = [
    ("openai-imagenet", &OPENAI_IMAGENET),
    ("openai-imagenet-7", &OPENAI_IMAGENET_7),
];

/// The templates of a built-in set.
pub fn built_in(name: &str) -> Option<&'static [&'static str]> {
    BUILT_IN
        .iter()
        .find(|(known, _)| *known == name)
        .map(|(_, templates)| *templates)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    #[test]
    fn sets_are_distinct_templates_with_one_slot() {
        for (name, templates) in BUILT_IN {
            let distinct: BTreeSet<&str> = templates.iter().copied().collect();
            assert_eq!(distinct.len(), templates.len(), "{name}");
            for t in templates {
                assert_eq!(t.matches("{}").count(), 1, "{name}: {t}");
            }
        }
        assert_eq!(built_in("openai-imagenet").unwrap().len(), 80);
        let all: BTreeSet<&str> = OPENAI_IMAGENET.into_iter().collect();
        assert!(OPENAI_IMAGENET_7.iter().all(|t| all.contains(t)));
        assert!(built_in("imagenet").is_none());
    }
}
