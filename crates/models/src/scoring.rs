//! How a model's cosines become class probabilities.

/// How cosines become class probabilities: the model family's training objective.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Scoring {
    /// CLIP: softmax over `scale × cosine`; the probabilities sum to one.
    Softmax { scale: f32 },
    /// SigLIP: `sigmoid(scale × cosine + bias)` for each class on its own: each is the
    /// model's belief that the image matches that class, and they need not sum to one.
    Sigmoid { scale: f32, bias: f32 },
}

impl Scoring {
    pub fn scale(self) -> f32 {
        match self {
            Scoring::Softmax { scale } | Scoring::Sigmoid { scale, .. } => scale,
        }
    }

    pub fn bias(self) -> Option<f32> {
        match self {
            Scoring::Softmax { .. } => None,
            Scoring::Sigmoid { bias, .. } => Some(bias),
        }
    }
}
