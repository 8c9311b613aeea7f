//! The part of a model Deepprune edits: the last conv layer, its global
//! pooling and the dense layer reading the pooled kernels.

use std::collections::HashSet;
use std::path::Path;

use motif_core::rng::Rng;
use motif_onnx::Model;
use motif_onnx::autodiff::train::default_params;
use motif_onnx::autodiff::{Init, param_role};
use motif_onnx::pb::ModelProto;
use motif_onnx::tensor::{from_f32, to_f32};
use ndarray::{Array2, Array3, ArrayD, Axis, IxDyn};
use prost::Message;

use crate::{Error, Result};

/// Where the kernels of a conv → global pooling → dense model live.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Head {
    /// The conv node (for messages).
    pub conv_node: String,
    /// Conv weight initializer, kernels on axis 0.
    pub conv_weight: String,
    /// Every other initializer with one value per kernel (conv bias,
    /// BatchNorm, folded scale and shift), with the axis of the kernels.
    pub per_kernel: Vec<(String, usize)>,
    /// The dense weight initializer.
    pub dense_weight: String,
    /// Axis of the kernels in the dense weight (1 for Gemm transB=1, else 0).
    pub dense_axis: usize,
    /// The globally pooled kernel outputs (one value per kernel and sequence).
    pub pooled: String,
    /// Number of kernels.
    pub kernels: usize,
    /// Outputs of the dense layer.
    pub outputs: usize,
}

fn structure_err(path: &Path, msg: String) -> Error {
    Error::Structure(format!(
        "{}: {msg}; Deepprune prunes the kernels of a conv layer whose globally pooled outputs \
         feed a dense layer (conv → [activation] → global max/avg pooling → dense)",
        path.display()
    ))
}

impl Head {
    /// Finds the last conv layer's kernels, their global pooling and the
    /// dense layer after it.
    ///
    /// # Errors
    /// [`Error::Structure`] naming what is missing.
    pub fn recognise(model: &Model) -> Result<Self> {
        let st = model.structure();
        let path = model.path();
        let Some(conv) = st.convs.last() else {
            return Err(structure_err(path, "no conv layer found".into()));
        };
        let Some(pooled) = conv.global_output.clone() else {
            let after: Vec<String> = conv.post.iter().map(ToString::to_string).collect();
            return Err(structure_err(
                path,
                format!(
                    "conv node `{}` (the last conv layer) is not followed by global pooling \
                     (after it: {})",
                    conv.node,
                    if after.is_empty() {
                        "nothing recognised".into()
                    } else {
                        after.join(" → ")
                    }
                ),
            ));
        };
        let Some(dense) = st.dense.first() else {
            return Err(structure_err(path, "no dense layer after the global pooling".into()));
        };
        if dense.in_features != conv.out_channels {
            return Err(structure_err(
                path,
                format!(
                    "dense node `{}` takes {} inputs, conv node `{}` has {} kernels",
                    dense.node, dense.in_features, conv.node, conv.out_channels
                ),
            ));
        }
        if conv.groups != 1 {
            return Err(structure_err(
                path,
                format!("conv node `{}` is grouped ({} groups)", conv.node, conv.groups),
            ));
        }
        let k = conv.out_channels;
        let g = model.proto().graph.as_ref().expect("loaded model has a graph");
        let inits: std::collections::HashMap<&str, Vec<usize>> = g
            .initializer
            .iter()
            .map(|t| (t.name(), t.dims.iter().map(|&d| d as usize).collect()))
            .collect();
        // Tensors downstream of the conv up to the pooled outputs (every
        // branch using the conv weight, e.g. a reverse-complement one).
        let mut live: HashSet<&str> = HashSet::new();
        let mut per_kernel: Vec<(String, usize)> = Vec::new();
        let mut seen: HashSet<&str> = HashSet::new();
        for n in &g.node {
            let is_conv =
                n.op_type() == "Conv" && n.input.get(1).is_some_and(|w| *w == conv.weight);
            if !is_conv && !n.input.iter().any(|i| live.contains(i.as_str())) {
                continue;
            }
            for (slot, i) in n.input.iter().enumerate() {
                if is_conv && slot < 2 {
                    continue;
                }
                let Some(dims) = inits.get(i.as_str()) else { continue };
                let numel: usize = dims.iter().product();
                let axes: Vec<usize> = (0..dims.len()).filter(|&a| dims[a] == k).collect();
                let head = *i == dense.weight;
                if numel == k && axes.len() == 1 && !head && seen.insert(i.as_str()) {
                    per_kernel.push((i.clone(), axes[0]));
                }
            }
            // stop at the global pooling (of every branch): what follows is the head
            let pooling = matches!(
                n.op_type(),
                "GlobalMaxPool" | "GlobalAveragePool" | "ReduceMax" | "ReduceMean"
            );
            if !pooling && !n.output.contains(&pooled) {
                live.extend(n.output.iter().map(String::as_str));
            }
        }
        let dense_axis = usize::from(dense.transposed);
        let dims = inits.get(dense.weight.as_str()).ok_or_else(|| {
            structure_err(path, format!("dense weight `{}` is not an initializer", dense.weight))
        })?;
        if dims.len() != 2 || dims[dense_axis] != k {
            return Err(structure_err(
                path,
                format!(
                    "dense weight `{}` has shape {dims:?}, not one row per kernel",
                    dense.weight
                ),
            ));
        }
        Ok(Self {
            conv_node: conv.node.clone(),
            conv_weight: conv.weight.clone(),
            per_kernel,
            dense_weight: dense.weight.clone(),
            dense_axis,
            pooled,
            kernels: k,
            outputs: dense.out_features,
        })
    }

    /// The conv kernels as (kernels, in-channels, width).
    ///
    /// # Errors
    /// If the weight cannot be read.
    pub fn kernel_array(&self, model: &Model) -> Result<Array3<f32>> {
        let w = model.weights(&self.conv_weight)?;
        let (k, c) = (w.shape()[0], w.shape()[1]);
        let width = w.len() / (k * c);
        w.into_shape_clone((k, c, width)).map_err(|e| Error::Invalid(e.to_string()))
    }

    /// The dense weights as (outputs, kernels).
    ///
    /// # Errors
    /// If the weight cannot be read.
    pub fn dense_array(&self, model: &Model) -> Result<Array2<f32>> {
        let w = model
            .weights(&self.dense_weight)?
            .into_dimensionality::<ndarray::Ix2>()
            .map_err(|e| Error::Invalid(e.to_string()))?;
        Ok(if self.dense_axis == 1 { w } else { w.reversed_axes().as_standard_layout().to_owned() })
    }

    /// `model` with only the kernels `keep` (indices, in order): conv
    /// weights and every per-kernel tensor, and the dense rows. The dense
    /// bias and everything else stay as they are. Intermediate shape
    /// annotations are dropped (engines infer them).
    ///
    /// # Errors
    /// If an index is out of range or the result is not a valid model.
    pub fn subset(&self, model: &ModelProto, keep: &[usize], path: &Path) -> Result<Model> {
        if let Some(&bad) = keep.iter().find(|&&i| i >= self.kernels) {
            return Err(Error::Invalid(format!("kernel {bad} of {}", self.kernels)));
        }
        if keep.is_empty() {
            return Err(Error::Invalid("no kernel to keep".into()));
        }
        let mut proto = model.clone();
        let g = proto.graph.as_mut().expect("graph");
        let targets: Vec<(&str, usize)> = std::iter::once((self.conv_weight.as_str(), 0))
            .chain(self.per_kernel.iter().map(|(n, a)| (n.as_str(), *a)))
            .chain(std::iter::once((self.dense_weight.as_str(), self.dense_axis)))
            .collect();
        for (name, axis) in targets {
            let t = g
                .initializer
                .iter_mut()
                .find(|t| t.name() == name)
                .ok_or_else(|| Error::Invalid(format!("no initializer `{name}`")))?;
            let v = to_f32(t)?;
            if v.shape().get(axis) != Some(&self.kernels) {
                return Err(Error::Invalid(format!(
                    "initializer `{name}` has shape {:?}, not {} kernels on axis {axis}",
                    v.shape(),
                    self.kernels
                )));
            }
            let v = v.select(Axis(axis), keep);
            let dims = v.shape().to_vec();
            let vals: Vec<f32> = v.iter().copied().collect();
            *t = from_f32(name, &dims, &vals);
        }
        g.value_info.clear();
        let m = Model::from_bytes(&proto.encode_to_vec(), path)?;
        let sub = Self::recognise(&m)?;
        if sub.kernels != keep.len() {
            return Err(Error::Invalid(format!(
                "{}: the pruned model has {} kernels, expected {}",
                path.display(),
                sub.kernels,
                keep.len()
            )));
        }
        Ok(m)
    }

    /// `model` with fresh weights, as Keras initialises a new model:
    /// Glorot-uniform conv and dense weights (fan-in and fan-out from the
    /// shapes), zero biases and shifts, BatchNorm scales and variances 1.
    /// Deterministic given `seed`.
    ///
    /// # Errors
    /// If a weight cannot be read.
    pub fn reinitialise(model: &Model, seed: u64, path: &Path) -> Result<Model> {
        let mut proto = model.proto().clone();
        let (params, _) = default_params(&proto);
        let g = proto.graph.as_mut().expect("graph");
        // as each op's parameter rule says: vector-like tensors that scale
        // (BatchNorm scale and variance, a folded Mul) start at 1; the other
        // vector-like ones at 0
        let mut ones: HashSet<String> = HashSet::new();
        let mut zeros: HashSet<String> = HashSet::new();
        let mut stats: HashSet<String> = HashSet::new();
        for n in &g.node {
            for (slot, i) in n.input.iter().enumerate() {
                let Some(role) = param_role(n.op_type(), slot) else { continue };
                if role.statistic {
                    stats.insert(i.clone());
                }
                match role.init {
                    Init::Ones => ones.insert(i.clone()),
                    Init::Zeros => zeros.insert(i.clone()),
                    Init::Default => false,
                };
            }
        }
        let transposed: HashSet<String> = g
            .initializer
            .iter()
            .filter(|t| is_transposed_gemm(g, t.name()))
            .map(|t| t.name().to_owned())
            .collect();
        let mut rng = Rng::new(seed);
        for t in &mut g.initializer {
            let name = t.name().to_owned();
            if !params.contains(&name) && !stats.contains(&name) {
                continue;
            }
            let v = to_f32(t)?;
            let shape = v.shape().to_vec();
            let vector = v.len() == shape.iter().copied().max().unwrap_or(0);
            let fresh: ArrayD<f32> = if vector && ones.contains(&name) {
                ArrayD::ones(IxDyn(&shape))
            } else if vector || zeros.contains(&name) {
                ArrayD::zeros(IxDyn(&shape))
            } else {
                let (fan_in, fan_out) = fans(&shape, transposed.contains(&name));
                let limit = (6.0 / (fan_in + fan_out) as f64).sqrt();
                ArrayD::from_shape_simple_fn(IxDyn(&shape), || {
                    ((rng.f64() * 2.0 - 1.0) * limit) as f32
                })
            };
            let vals: Vec<f32> = fresh.iter().copied().collect();
            *t = from_f32(&name, &shape, &vals);
        }
        Ok(Model::from_bytes(&proto.encode_to_vec(), path)?)
    }
}

fn is_transposed_gemm(g: &motif_onnx::pb::GraphProto, w: &str) -> bool {
    g.node.iter().any(|n| {
        n.op_type() == "Gemm"
            && n.input.get(1).is_some_and(|i| i == w)
            && n.attribute.iter().any(|a| a.name() == "transB" && a.i() == 1)
    })
}

/// Glorot fans: conv (out, in, k…) → (in·k, out·k); dense (in, out), or
/// (out, in) for Gemm transB=1.
fn fans(shape: &[usize], transposed: bool) -> (usize, usize) {
    if shape.len() == 2 {
        return if transposed { (shape[1], shape[0]) } else { (shape[0], shape[1]) };
    }
    let field: usize = shape[2..].iter().product();
    (shape[1] * field, shape[0] * field)
}

/// Name and shape of every float initializer (to tell whether two models
/// have the same architecture).
#[must_use]
pub fn param_shapes(model: &Model) -> Vec<(String, Vec<i64>)> {
    let g = model.proto().graph.as_ref().expect("graph");
    let mut v: Vec<(String, Vec<i64>)> =
        g.initializer.iter().map(|t| (t.name().to_owned(), t.dims.clone())).collect();
    v.sort();
    v
}
