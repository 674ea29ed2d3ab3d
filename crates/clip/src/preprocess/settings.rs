//! What decides the pixels a model sees: the resize, the filter, the alpha rule, the
//! rescale and the normalisation; CLIP's at 224 pixels by default.

/// Everything that decides the pixels a model sees; part of the embedding cache key.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Preprocessing {
    pub resize: Resize,
    pub filter: Filter,
    pub alpha: Alpha,
    /// Multiplies 8-bit values (`None`: `do_rescale` is off).
    pub rescale_factor: Option<f32>,
    /// Per-channel `(x − mean) / std` (`None`: `do_normalize` is off).
    pub normalize: Option<Normalize>,
}

/// How an image becomes the model's input size.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub enum Resize {
    /// CLIP: the shortest side to `edge` (the long side truncated), then a centre crop.
    ShortestEdge {
        edge: u32,
        crop_height: u32,
        crop_width: u32,
    },
    /// SigLIP: exactly this size, the aspect ratio not kept, no crop.
    Exact { height: u32, width: u32 },
}

/// The resampling filter, as Pillow computes it (its support widens when downscaling).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub enum Filter {
    /// Pillow's `BICUBIC` (3): Catmull-Rom.
    Bicubic,
    /// Pillow's `BILINEAR` (2): a triangle.
    Bilinear,
}

/// What becomes of transparent pixels on the way to RGB.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub enum Alpha {
    /// OpenAI's CLIP pipeline (Pillow's `convert("RGB")`): alpha is dropped.
    Drop,
    /// Hugging Face's image processors: composited onto white.
    OntoWhite,
}

#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Normalize {
    pub mean: [f32; 3],
    pub std: [f32; 3],
}

impl Default for Preprocessing {
    /// OpenAI CLIP at 224 pixels.
    fn default() -> Self {
        Self {
            resize: Resize::ShortestEdge {
                edge: 224,
                crop_height: 224,
                crop_width: 224,
            },
            filter: Filter::Bicubic,
            alpha: Alpha::Drop,
            rescale_factor: Some(1.0 / 255.0),
            normalize: Some(Normalize {
                mean: [0.481_454_66, 0.457_827_5, 0.408_210_73],
                std: [0.268_629_54, 0.261_302_6, 0.275_777_1],
            }),
        }
    }
}

impl Preprocessing {
    /// The model input's (height, width).
    pub fn input_size(&self) -> (u32, u32) {
        match self.resize {
            Resize::ShortestEdge {
                crop_height,
                crop_width,
                ..
            } => (crop_height, crop_width),
            Resize::Exact { height, width } => (height, width),
        }
    }

    /// Values in one preprocessed image tensor (3 × input height × input width).
    pub fn tensor_len(&self) -> usize {
        let (height, width) = self.input_size();
        3 * height as usize * width as usize
    }
}
