//! Input gradients (saliency) through the engines.

use std::collections::HashMap;
use std::path::Path;

use motif_engine::{GraphSession, SessionOptions, open_graph};
use motif_onnx::autodiff::gradient_model;
use motif_onnx::build::{Attr, node_proto};
use motif_onnx::pb::ModelProto;
use motif_onnx::tensor::from_i64;
use motif_onnx::{Layout, Model};
use ndarray::{Array3, ArrayD, IxDyn, s};
use prost::Message;

use crate::{Error, Result};

/// What the gradient is taken of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// Column `k` of the model's outputs as `predict` writes them: each
    /// output flattened per sequence, in graph order (a profile head's
    /// `profile:k`, then the next output's columns).
    Output(usize),
    /// Channel `channel` of conv layer `layer` (its post-activation map, or
    /// the conv output when no activation follows): the maximum over
    /// positions, i.e. the channel's most active neuron.
    Neuron {
        /// Conv layer index (`motiftool inspect`).
        layer: usize,
        /// Channel (kernel) index.
        channel: usize,
    },
}

const TARGET: &str = "saliency.target";

/// The model with the target tensor exposed, its name, and its number of
/// columns per sequence.
fn with_target(
    model: &Model,
    target: Target,
    input_shape: &[usize],
) -> Result<(ModelProto, String, usize)> {
    let s = model.structure();
    match target {
        Target::Output(k) => {
            if s.outputs.is_empty() {
                return Err(Error::Invalid("the model has no output".into()));
            }
            let mut proto = model.proto().clone();
            let g = proto.graph.as_mut().expect("graph");
            let shapes = motif_onnx::autodiff::Shapes::infer(g, &[(&s.input.name, input_shape)])?;
            let widths: Vec<usize> =
                s.outputs.iter().map(|o| shapes.shape(&o.name).iter().skip(1).product()).collect();
            let cols: usize = widths.iter().sum();
            if k >= cols {
                return Err(Error::Invalid(format!(
                    "--output {k}: the model has {cols} output column(s)"
                )));
            }
            // One output of shape (n, cols): the model's own when it is one,
            // else every output flattened and concatenated.
            if s.outputs.len() == 1 && shapes.shape(&s.outputs[0].name).len() == 2 {
                return Ok((proto, s.outputs[0].name.clone(), cols));
            }
            let mut flat = Vec::new();
            for (i, o) in s.outputs.iter().enumerate() {
                let name = format!("saliency.flat{i}");
                g.node.push(node_proto(
                    &name,
                    "Flatten",
                    &[o.name.as_str()],
                    &[name.as_str()],
                    &[("axis", Attr::Int(1))],
                ));
                flat.push(name);
            }
            let ins: Vec<&str> = flat.iter().map(String::as_str).collect();
            g.node.push(node_proto(TARGET, "Concat", &ins, &[TARGET], &[("axis", Attr::Int(1))]));
            Ok((proto, TARGET.to_owned(), cols))
        }
        Target::Neuron { layer, channel } => {
            let conv = s.convs.get(layer).ok_or_else(|| {
                Error::Invalid(format!(
                    "layer {layer}: the model has {} conv layer(s)",
                    s.convs.len()
                ))
            })?;
            if channel >= conv.out_channels {
                return Err(Error::Invalid(format!(
                    "channel {channel}: conv layer {layer} has {} channels",
                    conv.out_channels
                )));
            }
            let t = conv.activation_output.clone().unwrap_or_else(|| conv.conv_output.clone());
            let mut proto = model.proto().clone();
            let g = proto.graph.as_mut().expect("graph");
            // Channels are on axis 1 (ONNX Conv) unless the exporter moved
            // them last (NWC activations).
            let shapes = motif_onnx::autodiff::Shapes::infer(g, &[(&s.input.name, input_shape)])?;
            let shape = shapes.shape(&t).to_vec();
            let axis = if shape.get(1) == Some(&conv.out_channels) {
                1
            } else if shape.last() == Some(&conv.out_channels) {
                shape.len() - 1
            } else {
                return Err(Error::Invalid(format!(
                    "`{t}` {shape:?}: no axis of {} channels",
                    conv.out_channels
                )));
            };
            let c = channel as i64;
            g.initializer.push(from_i64("saliency.starts", &[1], &[c]));
            g.initializer.push(from_i64("saliency.ends", &[1], &[c + 1]));
            g.initializer.push(from_i64("saliency.axes", &[1], &[axis as i64]));
            let node = |name: &str, op: &str, ins: &[&str], attrs: &[(&str, Attr)]| {
                node_proto(name, op, ins, &[name], attrs)
            };
            let slice_in = [t.as_str(), "saliency.starts", "saliency.ends", "saliency.axes"];
            g.node.push(node("saliency.channel", "Slice", &slice_in, &[]));
            // Max over every position of the channel.
            g.node.push(node(
                "saliency.flat",
                "Flatten",
                &["saliency.channel"],
                &[("axis", Attr::Int(1))],
            ));
            let keep = ("keepdims", Attr::Int(0));
            if motif_onnx::autodiff::opset(model.proto()) >= 18 {
                g.initializer.push(from_i64("saliency.reduce", &[1], &[1]));
                g.node.push(node(
                    TARGET,
                    "ReduceMax",
                    &["saliency.flat", "saliency.reduce"],
                    &[keep],
                ));
            } else {
                let axes = ("axes", Attr::Ints(vec![1]));
                g.node.push(node(TARGET, "ReduceMax", &["saliency.flat"], &[axes, keep]));
            }
            Ok((proto, TARGET.to_owned(), 1))
        }
    }
}

/// d(target)/d(input) for every sequence of `x` ((N, 4, L), one-hot),
/// returned as (N, 4, L) whatever the model's layout. Runs in batches of
/// `batch` on the engine `opts` picks.
///
/// # Errors
/// If the target does not exist, an op on the path has no gradient rule,
/// or the engine fails.
pub fn input_gradients(
    model: &Model,
    x: &Array3<f32>,
    target: Target,
    opts: &SessionOptions,
    batch: usize,
) -> Result<Array3<f32>> {
    let input = &model.structure().input;
    let (n, _, len) = x.dim();
    let probe = match input.layout {
        Layout::Ncw => vec![1, 4, len],
        Layout::Nwc => vec![1, len, 4],
    };
    let (proto, tname, cols) = with_target(model, target, &probe)?;
    let mut out = Array3::zeros((n, 4, len));
    let mut sessions: HashMap<usize, Box<dyn GraphSession>> = HashMap::new();
    let b = batch.max(1);
    for start in (0..n).step_by(b) {
        let end = (start + b).min(n);
        let m = end - start;
        if let std::collections::hash_map::Entry::Vacant(slot) = sessions.entry(m) {
            let shape = match input.layout {
                Layout::Ncw => vec![m, 4, len],
                Layout::Nwc => vec![m, len, 4],
            };
            let g = gradient_model(&proto, &[(&input.name, &shape)], &tname, &[&input.name])?;
            let name = format!("{} (input gradient)", model.path().display());
            slot.insert(open_graph(Path::new(&name), &g.encode_to_vec(), opts)?);
        }
        let xb = x.slice(s![start..end, .., ..]);
        let xin: ArrayD<f32> = match input.layout {
            Layout::Ncw => xb.to_owned().into_dyn(),
            Layout::Nwc => xb.permuted_axes([0, 2, 1]).as_standard_layout().into_owned().into_dyn(),
        };
        let seed_shape: Vec<usize> = match target {
            Target::Output(_) => vec![m, cols],
            Target::Neuron { .. } => vec![m],
        };
        let mut seed = ArrayD::<f32>::zeros(IxDyn(&seed_shape));
        match target {
            Target::Output(k) => seed.slice_mut(s![.., k..k + 1]).fill(1.0),
            Target::Neuron { .. } => seed.fill(1.0),
        }
        let res =
            sessions[&m].run(&[(input.name.as_str(), xin.view()), ("grad_seed", seed.view())])?;
        let g =
            res.into_iter().nth(1).ok_or_else(|| Error::Invalid("no gradient returned".into()))?;
        let g =
            g.into_dimensionality::<ndarray::Ix3>().map_err(|e| Error::Invalid(e.to_string()))?;
        let g = match input.layout {
            Layout::Ncw => g,
            Layout::Nwc => g.permuted_axes([0, 2, 1]).to_owned(),
        };
        out.slice_mut(s![start..end, .., ..]).assign(&g);
    }
    Ok(out)
}
