//! The two CLIP towers as batched encoders over ONNX Runtime sessions. Input and output
//! names are read from the sessions, never assumed; embeddings come out L2-normalised.

use std::path::{Path, PathBuf};

use ontosweep_onnx::{Ep, Error, ImageBinding, Result, Runtime, SessionOptions, create_session};
use ort::session::Session;
use ort::value::{Tensor, TensorElementType, ValueType};

use crate::model::{IoNames, ModelDir};
use crate::preprocess::Preprocessing;
use crate::tokens::Tokens;

/// An L2-normalised embedding.
pub type Embedding = Vec<f32>;

/// Scales `v` to unit length (a zero vector stays zero).
pub fn l2_normalise(v: &mut [f32]) {
    let norm = v
        .iter()
        .map(|x| f64::from(*x) * f64::from(*x))
        .sum::<f64>()
        .sqrt();
    if norm > 0.0 {
        v.iter_mut()
            .for_each(|x| *x = (f64::from(*x) / norm) as f32);
    }
}

fn names(outlets: &[ort::value::Outlet]) -> String {
    let list: Vec<String> = outlets.iter().map(|o| format!("`{}`", o.name())).collect();
    if list.is_empty() {
        "nothing".into()
    } else {
        list.join(", ")
    }
}

fn element_type(session: &Session, input: &str) -> Option<TensorElementType> {
    session
        .inputs()
        .iter()
        .find(|o| o.name() == input)
        .and_then(|o| match o.dtype() {
            ValueType::Tensor { ty, .. } => Some(*ty),
            _ => None,
        })
}

/// Checks that the session has the input the encoder feeds, and finds the output it reads:
/// `io`'s name for it, or, where `io.single_embedding_output` allows, the one `[batch, dim]`
/// output when that name is absent. Names what the session has instead when neither works.
fn require_names(
    session: &Session,
    path: &Path,
    input: &str,
    output: &str,
    io: &IoNames,
) -> Result<String> {
    let wrong = |what, wanted: &str, outlets: &[ort::value::Outlet], hint| Error::WrongName {
        path: path.to_path_buf(),
        what,
        wanted: wanted.into(),
        offered: names(outlets),
        hint,
    };
    if !session.inputs().iter().any(|o| o.name() == input) {
        return Err(wrong(
            "input",
            input,
            session.inputs(),
            "Give the encoder the names this export uses (IoNames)",
        ));
    }
    let outputs = session.outputs();
    if outputs.iter().any(|o| o.name() == output) {
        return Ok(output.to_string());
    }
    if !io.single_embedding_output {
        return Err(wrong(
            "output",
            output,
            outputs,
            "Export the model with projection heads (CLIPTextModelWithProjection / CLIPVisionModelWithProjection), or give the encoder the names this export uses (IoNames)",
        ));
    }
    let matrices: Vec<&ort::value::Outlet> = outputs.iter().filter(|o| is_matrix(o)).collect();
    match matrices[..] {
        [only] => Ok(only.name().to_string()),
        _ => Err(wrong(
            "embedding output",
            output,
            outputs,
            "Name the tower's embedding output in IoNames (text_embeds / image_embeds)",
        )),
    }
}

/// Said when the output read is not the one asked for.
fn substitution_note(path: &Path, asked: &str, used: &str) -> Option<String> {
    (asked != used).then(|| {
        format!(
            "{}: no output named `{asked}`; its only [batch, dim] output, `{used}`, is read as the embedding",
            path.display()
        )
    })
}

/// A float output of two dimensions, `[batch, dim]`: what an embedding looks like.
fn is_matrix(outlet: &ort::value::Outlet) -> bool {
    matches!(
        outlet.dtype(),
        ValueType::Tensor { ty: TensorElementType::Float32, shape, .. } if shape.len() == 2
    )
}

/// Copies a `[batch, dim]` output into normalised rows.
fn rows(
    outputs: &ort::session::SessionOutputs<'_>,
    name: &str,
    path: &Path,
    batch: usize,
) -> Result<Vec<Embedding>> {
    let (shape, data) = outputs[name]
        .try_extract_tensor::<f32>()
        .map_err(|source| Error::Inference {
            path: path.to_path_buf(),
            cause: source,
        })?;
    if shape.len() != 2 || shape[0] as usize != batch || shape[1] <= 0 {
        return Err(Error::ModelFile {
            path: path.to_path_buf(),
            reason: format!("output `{name}` has shape {shape:?}; expected [{batch}, dim]"),
        });
    }
    Ok(data
        .chunks(shape[1] as usize)
        .map(|row| {
            let mut row = row.to_vec();
            l2_normalise(&mut row);
            row
        })
        .collect())
}

/// The text tower. Batches are padded only to their longest prompt: the pooled
/// end-of-text position does not see the padding after it (causal attention).
pub struct TextEncoder {
    session: Session,
    path: PathBuf,
    io: IoNames,
    /// The output name asked for (`io` holds the one read).
    asked_output: String,
    ids_type: TensorElementType,
    takes_attention_mask: bool,
    ep: Ep,
}

impl TextEncoder {
    /// Said when the output read is not the one asked for (which output stands in for it).
    pub fn output_note(&self) -> Option<String> {
        substitution_note(&self.path, &self.asked_output, &self.io.text_embeds)
    }

    pub fn new(
        runtime: &Runtime,
        model: &ModelDir,
        io: &IoNames,
        options: SessionOptions,
    ) -> Result<Self> {
        let path = model.text_model();
        let (session, ep) = create_session(runtime, &path, options)?;
        let output = require_names(&session, &path, &io.input_ids, &io.text_embeds, io)?;
        let ids_type = element_type(&session, &io.input_ids).unwrap_or(TensorElementType::Int64);
        if !matches!(
            ids_type,
            TensorElementType::Int64 | TensorElementType::Int32
        ) {
            return Err(Error::WrongType {
                path,
                what: "input",
                name: io.input_ids.clone(),
                found: format!("{ids_type:?}"),
                expected: "int64 or int32",
            });
        }
        let takes_attention_mask = session
            .inputs()
            .iter()
            .any(|o| o.name() == io.attention_mask);
        Ok(Self {
            session,
            path,
            io: IoNames {
                text_embeds: output,
                ..io.clone()
            },
            asked_output: io.text_embeds.clone(),
            ids_type,
            takes_attention_mask,
            ep,
        })
    }

    pub fn ep(&self) -> Ep {
        self.ep
    }

    /// Encodes prompts in batches of `batch_size`; one embedding per prompt, in order.
    pub fn encode(&mut self, prompts: &[Tokens], batch_size: usize) -> Result<Vec<Embedding>> {
        let mut out = Vec::with_capacity(prompts.len());
        for chunk in prompts.chunks(batch_size.max(1)) {
            out.extend(self.encode_batch(chunk)?);
        }
        Ok(out)
    }

    fn encode_batch(&mut self, prompts: &[Tokens]) -> Result<Vec<Embedding>> {
        let longest = prompts.iter().map(|t| t.ids.len()).max().unwrap_or(0);
        let shape = [prompts.len() as i64, longest as i64];
        let mut ids = vec![0i64; prompts.len() * longest];
        let mut mask = vec![0i64; prompts.len() * longest];
        for (row, tokens) in prompts.iter().enumerate() {
            ids[row * longest..][..tokens.ids.len()].copy_from_slice(&tokens.ids);
            mask[row * longest..][..tokens.ids.len()].fill(1);
        }
        let inference = |source| Error::Inference {
            path: self.path.clone(),
            cause: source,
        };
        let ids_value = match self.ids_type {
            TensorElementType::Int32 => {
                Tensor::from_array((shape, ids.iter().map(|&i| i as i32).collect::<Vec<_>>()))
                    .map(|t| t.upcast())
            }
            _ => Tensor::from_array((shape, ids)).map(|t| t.upcast()),
        }
        .map_err(inference)?;
        let mut inputs = vec![(
            self.io.input_ids.clone(),
            ort::session::SessionInputValue::from(ids_value),
        )];
        if self.takes_attention_mask {
            let mask_value = match element_type(&self.session, &self.io.attention_mask) {
                Some(TensorElementType::Int32) => {
                    Tensor::from_array((shape, mask.iter().map(|&i| i as i32).collect::<Vec<_>>()))
                        .map(|t| t.upcast())
                }
                _ => Tensor::from_array((shape, mask)).map(|t| t.upcast()),
            }
            .map_err(inference)?;
            inputs.push((self.io.attention_mask.clone(), mask_value.into()));
        }
        let outputs = self
            .session
            .run(inputs)
            .map_err(|source| Error::Inference {
                path: self.path.clone(),
                cause: source,
            })?;
        rows(&outputs, &self.io.text_embeds, &self.path, prompts.len())
    }
}

/// The vision tower over preprocessed CHW tensors.
pub struct ImageEncoder {
    session: Session,
    path: PathBuf,
    io: IoNames,
    /// The output name asked for (`io` holds the one read).
    asked_output: String,
    preprocessing: Preprocessing,
    ep: Ep,
    binding: Option<ImageBinding>,
}

impl ImageEncoder {
    /// Said when the output read is not the one asked for (which output stands in for it).
    pub fn output_note(&self) -> Option<String> {
        substitution_note(&self.path, &self.asked_output, &self.io.image_embeds)
    }

    pub fn new(
        runtime: &Runtime,
        model: &ModelDir,
        io: &IoNames,
        options: SessionOptions,
    ) -> Result<Self> {
        let path = model.vision_model();
        let preprocessing = Preprocessing::from_config_file(&model.preprocessor_config())?;
        let (session, ep) = create_session(runtime, &path, options)?;
        let output = require_names(&session, &path, &io.pixel_values, &io.image_embeds, io)?;
        match element_type(&session, &io.pixel_values) {
            Some(TensorElementType::Float32) => {}
            other => {
                return Err(Error::WrongType {
                    path,
                    what: "input",
                    name: io.pixel_values.clone(),
                    found: format!("{other:?}"),
                    expected: "float32",
                });
            }
        }
        let binding = if options.io_binding {
            Some(
                ImageBinding::new(&session, &output).map_err(|source| Error::Inference {
                    path: path.clone(),
                    cause: source,
                })?,
            )
        } else {
            None
        };
        Ok(Self {
            session,
            path,
            io: IoNames {
                image_embeds: output,
                ..io.clone()
            },
            asked_output: io.image_embeds.clone(),
            preprocessing,
            ep,
            binding,
        })
    }

    pub fn ep(&self) -> Ep {
        self.ep
    }

    pub fn preprocessing(&self) -> &Preprocessing {
        &self.preprocessing
    }

    /// Encodes a batch of tensors made by [`Preprocessing`], laid end to end.
    pub fn encode_batch(&mut self, pixels: Vec<f32>) -> Result<Vec<Embedding>> {
        let p = &self.preprocessing;
        let per_image = p.tensor_len();
        if pixels.is_empty() || !pixels.len().is_multiple_of(per_image) {
            return Err(Error::ModelFile {
                path: self.path.clone(),
                reason: format!(
                    "a batch of {} values is not a whole number of {per_image}-value images",
                    pixels.len()
                ),
            });
        }
        let batch = pixels.len() / per_image;
        let (height, width) = p.input_size();
        let shape = [batch as i64, 3, i64::from(height), i64::from(width)];
        let input = Tensor::from_array((shape, pixels)).map_err(|source| Error::Inference {
            path: self.path.clone(),
            cause: source,
        })?;
        let inference = |source| Error::Inference {
            path: self.path.clone(),
            cause: source,
        };
        let outputs = match &mut self.binding {
            Some(binding) => binding
                .run(&mut self.session, &self.io.pixel_values, &input, batch)
                .map_err(inference)?,
            None => self
                .session
                .run(ort::inputs![self.io.pixel_values.as_str() => input])
                .map_err(inference)?,
        };
        rows(&outputs, &self.io.image_embeds, &self.path, batch)
    }
}
