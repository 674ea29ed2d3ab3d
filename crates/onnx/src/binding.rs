//! IoBinding for the image encoder: the output tensor is allocated once per batch size and
//! reused, and each batch's input is bound once. It changes where bytes live, never the
//! arithmetic: embeddings are identical to the plain `Session::run` path (tested).

use ort::session::{IoBinding, Session, SessionOutputs};
use ort::value::{Tensor, ValueType};

/// A binding for one input and one output of a session.
pub struct ImageBinding {
    binding: IoBinding,
    output: String,
    /// The output's embedding width when the model states it; a model with a dynamic width
    /// lets ONNX Runtime allocate (still into the session's own memory).
    width: Option<usize>,
    /// The batch size the bound output was allocated for.
    allocated_for: Option<usize>,
}

impl ImageBinding {
    pub fn new(session: &Session, output: &str) -> ort::Result<Self> {
        let width = session
            .outputs()
            .iter()
            .find(|o| o.name() == output)
            .and_then(|o| match o.dtype() {
                ValueType::Tensor { shape, .. } if shape.len() == 2 && shape[1] > 0 => {
                    Some(shape[1] as usize)
                }
                _ => None,
            });
        Ok(Self {
            binding: session.create_binding()?,
            output: output.to_string(),
            width,
            allocated_for: None,
        })
    }

    /// Runs one batch: binds `input` under `input_name` and (re)allocates the output only
    /// when the batch size changed.
    pub fn run<'b>(
        &'b mut self,
        session: &'b mut Session,
        input_name: &str,
        input: &Tensor<f32>,
        batch: usize,
    ) -> ort::Result<SessionOutputs<'b>> {
        self.binding.bind_input(input_name, input)?;
        if self.allocated_for != Some(batch) {
            match self.width {
                Some(width) => {
                    let output = Tensor::<f32>::new(session.allocator(), [batch, width])?;
                    self.binding.bind_output(self.output.as_str(), output)?;
                }
                None => {
                    let memory = session.allocator().memory_info().clone();
                    self.binding
                        .bind_output_to_device(self.output.as_str(), &memory)?;
                }
            }
            self.allocated_for = Some(batch);
        }
        session.run_binding(&self.binding)
    }
}
