//! Recognising the structure of a sequence CNN in an ONNX graph: the input
//! layout, the chain of conv layers with what follows each (BatchNorm,
//! activation, pooling), global pooling, the dense head, and each conv
//! neuron's receptive field and input stride.
//!
//! Recognition follows the input tensor through the graph, tracking which
//! axis holds sequence length and which holds channels across layout ops
//! (Transpose, Unsqueeze, Squeeze), so PyTorch (NCW), Keras/tf2onnx (NWC
//! with 2-D convs) and hand-built graphs are read alike. A conv whose
//! weights were already seen (DeepBind's reverse-complement branch) is the
//! same layer.

use std::collections::HashMap;

use serde::Serialize;

use crate::error::{Error, Result};
use crate::graph::{GraphIndex, attr_float, attr_int, attr_ints, attr_str, node_err, node_label};
use crate::pb::{
    ModelProto, NodeProto, ValueInfoProto, tensor_shape_proto::dimension::Value as DimValue,
};
use crate::tensor;

/// Memory layout of the one-hot input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Layout {
    /// (N, 4, L): PyTorch.
    Ncw,
    /// (N, L, 4): Keras / TensorFlow.
    Nwc,
}

impl std::fmt::Display for Layout {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Layout::Ncw => "NCW (N, 4, L)",
            Layout::Nwc => "NWC (N, L, 4)",
        })
    }
}

/// A dimension of a graph input or output.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum Dim {
    /// A fixed size.
    Fixed(usize),
    /// A named symbolic size.
    Symbol(String),
    /// Unknown.
    Unknown,
}

impl std::fmt::Display for Dim {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Dim::Fixed(n) => write!(f, "{n}"),
            Dim::Symbol(s) => f.write_str(s),
            Dim::Unknown => f.write_str("?"),
        }
    }
}

/// The model's sequence input.
#[derive(Debug, Clone, Serialize)]
pub struct InputInfo {
    /// Tensor name.
    pub name: String,
    /// Layout.
    pub layout: Layout,
    /// Dims as declared.
    pub dims: Vec<Dim>,
    /// Fixed sequence length, if the model declares one.
    pub length: Option<usize>,
}

/// A graph output.
#[derive(Debug, Clone, Serialize)]
pub struct OutputInfo {
    /// Tensor name.
    pub name: String,
    /// Dims as declared.
    pub dims: Vec<Dim>,
}

/// One op applied after a conv, in order.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "op", rename_all = "kebab-case")]
pub enum PostOp {
    /// BatchNormalization (inference).
    BatchNorm {
        /// Epsilon.
        epsilon: f32,
    },
    /// Elementwise op with a constant (a bias, or BatchNorm folded into Mul/Add).
    Affine {
        /// The ONNX op (Mul, Add, Sub, Div).
        onnx_op: String,
    },
    /// An activation.
    Activation {
        /// The ONNX op (Relu, LeakyRelu, Sigmoid, …).
        onnx_op: String,
    },
    /// Max pooling along the sequence.
    MaxPool {
        /// Window.
        size: usize,
        /// Stride.
        stride: usize,
    },
    /// Average pooling along the sequence.
    AvgPool {
        /// Window.
        size: usize,
        /// Stride.
        stride: usize,
    },
    /// Global max pooling over the sequence.
    GlobalMaxPool,
    /// Global average pooling over the sequence.
    GlobalAvgPool,
    /// Dropout (identity at inference).
    Dropout,
    /// Flatten / Reshape to features.
    Flatten,
    /// A residual connection: the layer's output plus an earlier tensor
    /// (the output of conv layer `skip_from`, or the input).
    Residual {
        /// The layer whose output the skip connection carries.
        skip_from: Option<usize>,
    },
}

impl std::fmt::Display for PostOp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PostOp::BatchNorm { .. } => f.write_str("BatchNorm"),
            PostOp::Affine { onnx_op } => write!(f, "{onnx_op}(const)"),
            PostOp::Activation { onnx_op } => f.write_str(onnx_op),
            PostOp::MaxPool { size, stride } => write!(f, "MaxPool(size {size}, stride {stride})"),
            PostOp::AvgPool { size, stride } => write!(f, "AvgPool(size {size}, stride {stride})"),
            PostOp::GlobalMaxPool => f.write_str("GlobalMaxPool"),
            PostOp::GlobalAvgPool => f.write_str("GlobalAvgPool"),
            PostOp::Dropout => f.write_str("Dropout"),
            PostOp::Flatten => f.write_str("Flatten"),
            PostOp::Residual { skip_from: Some(l) } => write!(f, "+ layer {l} (residual)"),
            PostOp::Residual { skip_from: None } => f.write_str("+ input (residual)"),
        }
    }
}

/// A conv layer over the sequence.
#[derive(Debug, Clone, Serialize)]
pub struct ConvLayer {
    /// 0-based index in the chain.
    pub index: usize,
    /// The (first) Conv node.
    pub node: String,
    /// Weight initializer name.
    pub weight: String,
    /// Bias initializer name.
    pub bias: Option<String>,
    /// Input channels.
    pub in_channels: usize,
    /// Output channels (kernels).
    pub out_channels: usize,
    /// Kernel width along the sequence.
    pub width: usize,
    /// Stride along the sequence.
    pub stride: usize,
    /// Dilation along the sequence.
    pub dilation: usize,
    /// Groups.
    pub groups: usize,
    /// Padding (left, right) along the sequence, including a Pad node before the conv.
    pub padding: [usize; 2],
    /// Constant value of a Pad node before the conv, if any.
    pub pad_value: Option<f32>,
    /// 1 for Conv1d, 2 for a Conv2d used as a 1-D conv (tf2onnx).
    pub spatial_dims: usize,
    /// What follows the conv, in order, up to the next conv or the dense head.
    pub post: Vec<PostOp>,
    /// The conv's output tensor (pre-activation map).
    pub conv_output: String,
    /// The activation's output tensor (post-activation map), if any.
    pub activation_output: Option<String>,
    /// Output of the local pooling after it, if any.
    pub pooled_output: Option<String>,
    /// Output of the global pooling after it (the pooled scores), if any.
    pub global_output: Option<String>,
    /// Axis of the sequence in the conv's output tensor.
    pub length_axis: usize,
    /// Receptive field of one output neuron, in bp.
    pub receptive_field: usize,
    /// Input stride between adjacent output neurons, in bp.
    pub input_stride: usize,
    /// How many Conv nodes use these weights (2 with a reverse-complement branch).
    pub uses: usize,
}

/// A dense (fully connected) layer.
#[derive(Debug, Clone, Serialize)]
pub struct DenseLayer {
    /// 0-based index in the head.
    pub index: usize,
    /// The Gemm/MatMul node.
    pub node: String,
    /// Weight initializer name.
    pub weight: String,
    /// Input features.
    pub in_features: usize,
    /// Output features.
    pub out_features: usize,
    /// Whether the weight is stored (out, in) (Gemm transB=1) rather than (in, out).
    pub transposed: bool,
    /// Activation after it, if any.
    pub activation: Option<String>,
    /// The layer's output tensor (after bias and activation).
    pub output: String,
}

/// The recognised structure of a sequence CNN.
#[derive(Debug, Clone, Serialize)]
pub struct Structure {
    /// The exporter that wrote the model.
    pub producer: String,
    /// Default-domain opset.
    pub opset: i64,
    /// The sequence input.
    pub input: InputInfo,
    /// Graph outputs.
    pub outputs: Vec<OutputInfo>,
    /// Conv layers along the sequence, in order.
    pub convs: Vec<ConvLayer>,
    /// Dense head, in order.
    pub dense: Vec<DenseLayer>,
    /// The model also scores the reverse complement (a Slice reversing both axes).
    pub reverse_complement: bool,
    /// Nodes that recognition did not follow, with why (the model still runs).
    pub notes: Vec<String>,
}

#[derive(Debug, Clone)]
struct AxisState {
    rank: usize,
    len_axis: usize,
    ch_axis: usize,
    conv: Option<usize>,
    primary: bool,
    pad: [usize; 2],
    pad_value: Option<f32>,
    channels: usize,
}

/// The declared dims of a graph input or output.
pub(crate) fn declared_dims(v: &ValueInfoProto) -> Vec<Dim> {
    dims_of(v)
}

fn dims_of(v: &ValueInfoProto) -> Vec<Dim> {
    let Some(tt) = v.r#type.as_ref().and_then(|t| match &t.value {
        Some(crate::pb::type_proto::Value::TensorType(tt)) => Some(tt),
        _ => None,
    }) else {
        return Vec::new();
    };
    tt.shape
        .as_ref()
        .map(|s| {
            s.dim
                .iter()
                .map(|d| match &d.value {
                    Some(DimValue::DimValue(n)) if *n >= 0 => Dim::Fixed(*n as usize),
                    Some(DimValue::DimParam(p)) if !p.is_empty() => Dim::Symbol(p.clone()),
                    _ => Dim::Unknown,
                })
                .collect()
        })
        .unwrap_or_default()
}

fn norm_axis(a: i64, rank: usize) -> usize {
    if a < 0 { (a + rank as i64).max(0) as usize } else { a as usize }
}

/// Elementwise activation ops.
pub(crate) const ACTIVATIONS: &[&str] = &[
    "Relu",
    "LeakyRelu",
    "PRelu",
    "Sigmoid",
    "HardSigmoid",
    "Tanh",
    "Elu",
    "Selu",
    "Celu",
    "Softplus",
    "Softsign",
    "Exp",
    "Gelu",
    "Clip",
    "HardSwish",
    "Mish",
];

/// Follows a Reshape that only moves or adds singleton axes (tf2onnx wraps
/// 1-D pooling this way): true with `st` updated, false when the sequence
/// and channel axes cannot be told apart afterwards (a flatten).
fn reshape_axes(st: &mut AxisState, shape: Option<&[i64]>) -> bool {
    let Some(shape) = shape else { return false };
    let (mut len, mut ch) = (None, None);
    let ch_first = st.ch_axis < st.len_axis;
    for (i, &v) in shape.iter().enumerate() {
        let what = match v {
            // the batch, copied (0) or inferred (-1)
            0 | -1 if i == 0 => 'B',
            0 if i == st.ch_axis => 'C',
            0 if i == st.len_axis => 'L',
            -1 => 'L',
            1 => '1',
            // A literal size (tf2onnx writes them for fixed lengths): the
            // channels or the length, in the order the tensor has them.
            v if v > 1
                && v as usize == st.channels
                && ch.is_none()
                && (ch_first || len.is_some()) =>
            {
                'C'
            }
            v if v > 1 && len.is_none() => 'L',
            v if v > 1 && v as usize == st.channels && ch.is_none() => 'C',
            _ => return false,
        };
        match what {
            'C' if ch.is_none() => ch = Some(i),
            'L' if len.is_none() => len = Some(i),
            'B' | '1' => {}
            _ => return false,
        }
    }
    let (Some(l), Some(c)) = (len, ch) else { return false };
    // Moving singleton axes keeps the data in place only if the channels
    // and positions keep their order.
    if (c < l) != ch_first {
        return false;
    }
    (st.rank, st.len_axis, st.ch_axis) = (shape.len(), l, c);
    true
}

impl Structure {
    /// Recognises the structure of `model` (`path` names it in errors).
    ///
    /// # Errors
    /// If the model has no single sequence input of shape (N, 4, L) or
    /// (N, L, 4), or a node that recognition needs is malformed.
    #[allow(
        clippy::too_many_lines,
        reason = "input, conv chain and head recognised in one walk down the graph"
    )]
    pub fn recognise(model: &ModelProto, path: &std::path::Path) -> Result<Self> {
        // Lengths past this overflow engines' buffers (tract computes
        // sizes in usize products of every axis).
        const MAX_LENGTH: usize = 1 << 26;
        let graph = model
            .graph
            .as_ref()
            .ok_or_else(|| Error::Model { path: path.into(), msg: "model has no graph".into() })?;
        let index = GraphIndex::new(graph);
        let inits: std::collections::HashSet<&str> =
            graph.initializer.iter().map(super::pb::TensorProto::name).collect();
        let inputs: Vec<&ValueInfoProto> =
            graph.input.iter().filter(|v| !inits.contains(v.name())).collect();
        let model_err = |msg: String| Error::Model { path: path.into(), msg };
        let [input] = inputs.as_slice() else {
            let names: Vec<&str> = inputs.iter().map(|v| v.name()).collect();
            return Err(model_err(format!(
                "expected one sequence input, found {} ({})",
                inputs.len(),
                names.join(", ")
            )));
        };
        let dims = dims_of(input);
        if let Some((i, d)) =
            dims.iter().enumerate().find(|(_, d)| matches!(d, Dim::Fixed(n) if *n > MAX_LENGTH))
        {
            return Err(model_err(format!(
                "input `{}` declares dimension {i} as {d}: more than the {MAX_LENGTH} motiftool handles",
                input.name()
            )));
        }
        let (layout, length) = match dims.as_slice() {
            [_, Dim::Fixed(4), l] => {
                (Layout::Ncw, if let Dim::Fixed(n) = l { Some(*n) } else { None })
            }
            [_, l, Dim::Fixed(4)] => {
                (Layout::Nwc, if let Dim::Fixed(n) = l { Some(*n) } else { None })
            }
            [_, a, b] => {
                return Err(model_err(format!(
                    "input `{}` has shape (N, {a}, {b}): expected 4 channels (A, C, G, T) as (N, 4, L) or (N, L, 4)",
                    input.name()
                )));
            }
            d => {
                let shown: Vec<String> = d.iter().map(ToString::to_string).collect();
                return Err(model_err(format!(
                    "input `{}` has rank {} ({}): expected (N, 4, L) or (N, L, 4)",
                    input.name(),
                    d.len(),
                    shown.join(", ")
                )));
            }
        };
        let opset = model
            .opset_import
            .iter()
            .find(|o| o.domain().is_empty() || o.domain() == "ai.onnx")
            .map_or(0, super::pb::OperatorSetIdProto::version);
        let mut s = Structure {
            producer: format!("{} {}", model.producer_name(), model.producer_version())
                .trim()
                .to_owned(),
            opset,
            input: InputInfo { name: input.name().to_owned(), layout, dims, length },
            outputs: graph
                .output
                .iter()
                .map(|o| OutputInfo { name: o.name().to_owned(), dims: dims_of(o) })
                .collect(),
            convs: Vec::new(),
            dense: Vec::new(),
            reverse_complement: false,
            notes: Vec::new(),
        };
        let (len_axis, ch_axis) = match layout {
            Layout::Ncw => (2, 1),
            Layout::Nwc => (1, 2),
        };
        let mut states: HashMap<String, AxisState> = HashMap::new();
        states.insert(
            input.name().to_owned(),
            AxisState {
                rank: 3,
                len_axis,
                ch_axis,
                conv: None,
                primary: true,
                pad: [0, 0],
                pad_value: None,
                channels: 4,
            },
        );
        let mut conv_by_weight: HashMap<String, usize> = HashMap::new();
        for node in &graph.node {
            let Some((k, st)) = node
                .input
                .iter()
                .enumerate()
                .find_map(|(k, i)| states.get(i.as_str()).map(|s| (k, s.clone())))
            else {
                continue;
            };
            let stateful_inputs =
                node.input.iter().filter(|i| states.contains_key(i.as_str())).count();
            // A residual connection x + f(x): the skip and the branch come
            // from different convs; the path goes on from the deeper one.
            if matches!(node.op_type(), "Add" | "Sum") && stateful_inputs == 2 {
                let both: Vec<&AxisState> =
                    node.input.iter().filter_map(|i| states.get(i.as_str())).collect();
                let (a, b) = (both[0], both[1]);
                if a.conv != b.conv
                    && a.rank == b.rank
                    && a.len_axis == b.len_axis
                    && a.channels == b.channels
                    && a.primary
                    && b.primary
                {
                    let deeper = if a.conv.unwrap_or(0) >= b.conv.unwrap_or(0) && a.conv.is_some() {
                        a.clone()
                    } else {
                        b.clone()
                    };
                    let skip = if deeper.conv == a.conv { b.conv } else { a.conv };
                    let out = node.output.first().map_or("", String::as_str);
                    s.post(&deeper, PostOp::Residual { skip_from: skip }, out);
                    for o in &node.output {
                        states.insert(o.clone(), deeper.clone());
                    }
                    continue;
                }
            }
            if let Some(next) = s.step(node, k, st, stateful_inputs, &index, &mut conv_by_weight)? {
                for o in &node.output {
                    states.insert(o.clone(), next.clone());
                }
            }
        }
        s.find_dense(&index)?;
        s.receptive_fields();
        Ok(s)
    }

    fn post(&mut self, st: &AxisState, op: PostOp, output: &str) {
        let (Some(c), true) = (st.conv, st.primary) else { return };
        let conv = &mut self.convs[c];
        match &op {
            PostOp::Activation { .. } if conv.activation_output.is_none() => {
                conv.activation_output = Some(output.to_owned());
            }
            PostOp::MaxPool { .. } | PostOp::AvgPool { .. } if conv.pooled_output.is_none() => {
                conv.pooled_output = Some(output.to_owned());
            }
            PostOp::GlobalMaxPool | PostOp::GlobalAvgPool => {
                conv.global_output = Some(output.to_owned());
            }
            _ => {}
        }
        conv.post.push(op);
    }

    fn note(&mut self, node: &NodeProto, why: &str) {
        self.notes.push(format!("node `{}` ({}): {why}", node_label(node), node.op_type()));
    }

    /// One node on a tracked path: returns the state of its outputs, or None
    /// when the path ends there.
    #[allow(
        clippy::too_many_lines,
        reason = "one walk over the conv chain and what follows each layer"
    )]
    fn step(
        &mut self,
        node: &NodeProto,
        k: usize,
        mut st: AxisState,
        stateful_inputs: usize,
        index: &GraphIndex<'_>,
        conv_by_weight: &mut HashMap<String, usize>,
    ) -> Result<Option<AxisState>> {
        let out = node.output.first().map_or("", String::as_str);
        let op = node.op_type();
        if stateful_inputs > 1 && !matches!(op, "Conv") {
            // branches merging (e.g. Max of forward and reverse scores)
            return Ok(None);
        }
        match op {
            "Identity" | "Cast" => {}
            "Dropout" => self.post(&st, PostOp::Dropout, out),
            "Transpose" => {
                let perm: Vec<usize> = attr_ints(node, "perm").map_or_else(
                    || (0..st.rank).rev().collect(),
                    |p| p.iter().map(|&v| v as usize).collect(),
                );
                let pos = |a: usize| perm.iter().position(|&p| p == a);
                match (pos(st.len_axis), pos(st.ch_axis)) {
                    (Some(l), Some(c)) => (st.len_axis, st.ch_axis) = (l, c),
                    _ => return Err(node_err(node, "perm does not cover the input's axes")),
                }
            }
            "Unsqueeze" => {
                let axes = index.ints_attr_or_input(node, "axes", 1)?.unwrap_or_default();
                let new_rank = st.rank + axes.len();
                let mut axes: Vec<usize> = axes.iter().map(|&a| norm_axis(a, new_rank)).collect();
                axes.sort_unstable();
                for a in axes {
                    if a <= st.len_axis {
                        st.len_axis += 1;
                    }
                    if a <= st.ch_axis {
                        st.ch_axis += 1;
                    }
                }
                st.rank = new_rank;
            }
            "Squeeze" => {
                let axes = index.ints_attr_or_input(node, "axes", 1)?;
                let mut axes: Vec<usize> = match axes {
                    Some(a) => a.iter().map(|&a| norm_axis(a, st.rank)).collect(),
                    // all size-1 dims: every axis but batch, length and channels
                    None => (1..st.rank).filter(|&a| a != st.len_axis && a != st.ch_axis).collect(),
                };
                if axes.contains(&st.len_axis) || axes.contains(&st.ch_axis) {
                    // the sequence axis is gone (length 1 after pooling): features
                    self.post(&st, PostOp::Flatten, out);
                    return Ok(None);
                }
                axes.sort_unstable_by(|a, b| b.cmp(a));
                st.rank -= axes.len();
                for a in axes {
                    if a < st.len_axis {
                        st.len_axis -= 1;
                    }
                    if a < st.ch_axis {
                        st.ch_axis -= 1;
                    }
                }
            }
            "Pad" => {
                let pads = index.ints_attr_or_input(node, "pads", 1)?.unwrap_or_default();
                let axes = index.ints_attr_or_input(node, "axes", 3)?;
                let axes: Vec<usize> = match axes {
                    Some(a) => a.iter().map(|&a| norm_axis(a, st.rank)).collect(),
                    None => (0..st.rank).collect(),
                };
                let n = axes.len();
                if pads.len() == 2 * n
                    && let Some(i) = axes.iter().position(|&a| a == st.len_axis)
                {
                    st.pad[0] += pads[i].max(0) as usize;
                    st.pad[1] += pads[i + n].max(0) as usize;
                }
                let mode = attr_str(node, "mode").unwrap_or_else(|| "constant".into());
                if mode != "constant" {
                    self.note(
                        node,
                        &format!("{mode} padding is treated as padding for receptive fields"),
                    );
                }
                st.pad_value = attr_float(node, "value").or_else(|| {
                    index
                        .const_tensor(node, 2)
                        .and_then(|t| tensor::to_f32(t).ok())
                        .and_then(|a| a.iter().next().copied())
                });
                if st.pad_value.is_none() {
                    st.pad_value = Some(0.0);
                }
            }
            "Slice" => {
                let steps = index.const_i64(node, 4);
                let axes = index.const_i64(node, 3);
                if let (Some(steps), Some(axes)) = (steps, axes) {
                    let rev: Vec<usize> = axes
                        .iter()
                        .zip(&steps)
                        .filter(|(_, s)| **s < 0)
                        .map(|(&a, _)| norm_axis(a, st.rank))
                        .collect();
                    if rev.contains(&st.len_axis) && rev.contains(&st.ch_axis) {
                        self.reverse_complement = true;
                    }
                }
            }
            "Conv" => {
                if k != 0 {
                    return Ok(None);
                }
                return self.conv(node, st, index, conv_by_weight).map(Some);
            }
            "BatchNormalization" => {
                self.post(
                    &st,
                    PostOp::BatchNorm { epsilon: attr_float(node, "epsilon").unwrap_or(1e-5) },
                    out,
                );
            }
            "Mul" | "Add" | "Sub" | "Div" => {
                if index.is_const(node, 1 - k.min(1)) {
                    self.post(&st, PostOp::Affine { onnx_op: op.to_owned() }, out);
                } else {
                    self.note(node, "elementwise op with a computed operand");
                }
            }
            a if ACTIVATIONS.contains(&a) => {
                self.post(&st, PostOp::Activation { onnx_op: a.to_owned() }, out);
            }
            "MaxPool" | "AveragePool" => {
                let i = st
                    .len_axis
                    .checked_sub(2)
                    .ok_or_else(|| node_err(node, "pooling over the batch or channel axis"))?;
                let ks = attr_ints(node, "kernel_shape")
                    .ok_or_else(|| node_err(node, "no kernel_shape"))?;
                let size = *ks.get(i).ok_or_else(|| {
                    node_err(node, "kernel_shape does not cover the sequence axis")
                })? as usize;
                let stride = attr_ints(node, "strides").and_then(|s| s.get(i).copied()).unwrap_or(1)
                    as usize;
                if !(1..=1 << 24).contains(&size) || !(1..=1 << 24).contains(&stride) {
                    return Err(node_err(
                        node,
                        format!("pool size {size} and stride {stride}: both must be at least 1"),
                    ));
                }
                let p = if op == "MaxPool" {
                    PostOp::MaxPool { size, stride }
                } else {
                    PostOp::AvgPool { size, stride }
                };
                self.post(&st, p, out);
            }
            "GlobalMaxPool" | "GlobalAveragePool" => {
                let p = if op == "GlobalMaxPool" {
                    PostOp::GlobalMaxPool
                } else {
                    PostOp::GlobalAvgPool
                };
                self.post(&st, p, out);
                return Ok(None);
            }
            "ReduceMax" | "ReduceMean" => {
                let axes = index.ints_attr_or_input(node, "axes", 1)?;
                let axes: Vec<usize> =
                    axes.unwrap_or_default().iter().map(|&a| norm_axis(a, st.rank)).collect();
                if axes.contains(&st.len_axis) {
                    let p = if op == "ReduceMax" {
                        PostOp::GlobalMaxPool
                    } else {
                        PostOp::GlobalAvgPool
                    };
                    self.post(&st, p, out);
                } else {
                    self.note(node, "reduction that keeps the sequence axis");
                }
                return Ok(None);
            }
            "Reshape" if reshape_axes(&mut st, index.const_i64(node, 1).as_deref()) => {}
            "Flatten" | "Reshape" => {
                self.post(&st, PostOp::Flatten, out);
                return Ok(None);
            }
            "Gemm" | "MatMul" => return Ok(None),
            _ => {
                self.note(
                    node,
                    "not recognised; the structure after it is unknown (the model still runs)",
                );
                return Ok(None);
            }
        }
        Ok(Some(st))
    }

    #[allow(
        clippy::too_many_lines,
        reason = "the dense head's shapes (Gemm, MatMul, flatten, activations) in one walk"
    )]
    fn conv(
        &mut self,
        node: &NodeProto,
        mut st: AxisState,
        index: &GraphIndex<'_>,
        conv_by_weight: &mut HashMap<String, usize>,
    ) -> Result<AxisState> {
        let wname = node.input.get(1).cloned().unwrap_or_default();
        let w = index
            .constants
            .get(wname.as_str())
            .ok_or_else(|| node_err(node, "weights are not a constant initializer"))?;
        let wd = tensor::dims(w)?;
        if st.ch_axis != 1 {
            return Err(node_err(
                node,
                format!("convolves a tensor whose channel axis is {} (expected 1)", st.ch_axis),
            ));
        }
        if wd.len() != st.rank || wd.len() < 3 {
            return Err(node_err(
                node,
                format!("weights of rank {} on an input of rank {}", wd.len(), st.rank),
            ));
        }
        let spatial = st
            .len_axis
            .checked_sub(2)
            .ok_or_else(|| node_err(node, "the sequence axis is not a spatial axis of the conv"))?;
        for (i, &d) in wd[2..].iter().enumerate() {
            if i != spatial && d != 1 {
                return Err(node_err(
                    node,
                    format!("kernel {:?} spans more than the sequence axis", &wd[2..]),
                ));
            }
        }
        let width = wd[2 + spatial];
        if wd[0] == 0 || width == 0 || wd[1] == 0 {
            return Err(node_err(
                node,
                format!("weights of shape {wd:?}: a conv needs at least one kernel of width ≥ 1"),
            ));
        }
        let at = |name: &str, default: i64| -> Result<usize> {
            let v = attr_ints(node, name).and_then(|v| v.get(spatial).copied()).unwrap_or(default);
            usize::try_from(v)
                .ok()
                .filter(|&v| v >= 1)
                .ok_or_else(|| node_err(node, format!("`{name}` = {v}: must be at least 1")))
        };
        let stride = at("strides", 1)?;
        let dilation = at("dilations", 1)?;
        if let Some(p) = attr_ints(node, "pads").filter(|p| p.iter().any(|&v| v < 0)) {
            return Err(node_err(node, format!("`pads` = {p:?}: negative padding")));
        }
        let nsp = st.rank - 2;
        let mut padding = match attr_str(node, "auto_pad").as_deref() {
            Some("SAME_UPPER" | "SAME_LOWER") => {
                let total = (width - 1) * dilation;
                if attr_str(node, "auto_pad").as_deref() == Some("SAME_UPPER") {
                    [total / 2, total - total / 2]
                } else {
                    [total - total / 2, total / 2]
                }
            }
            _ => attr_ints(node, "pads").map_or([0, 0], |p| {
                [
                    p.get(spatial).copied().unwrap_or(0) as usize,
                    p.get(spatial + nsp).copied().unwrap_or(0) as usize,
                ]
            }),
        };
        padding[0] += st.pad[0];
        padding[1] += st.pad[1];
        let groups = attr_int(node, "group").unwrap_or(1) as usize;
        let idx = if let Some(&i) = conv_by_weight.get(&wname) {
            self.convs[i].uses += 1;
            st.primary = false;
            i
        } else {
            let i = self.convs.len();
            if st.conv.is_some() && !st.primary {
                return Err(node_err(node, "new conv weights on a secondary branch"));
            }
            self.convs.push(ConvLayer {
                index: i,
                node: node_label(node),
                weight: wname.clone(),
                bias: node.input.get(2).filter(|b| !b.is_empty()).cloned(),
                in_channels: wd[1] * groups,
                out_channels: wd[0],
                width,
                stride,
                dilation,
                groups,
                padding,
                pad_value: st.pad_value,
                spatial_dims: nsp,
                post: Vec::new(),
                conv_output: node.output[0].clone(),
                activation_output: None,
                pooled_output: None,
                global_output: None,
                length_axis: st.len_axis,
                receptive_field: 0,
                input_stride: 0,
                uses: 1,
            });
            conv_by_weight.insert(wname, i);
            st.primary = true;
            i
        };
        st.conv = Some(idx);
        st.channels = self.convs[idx].out_channels;
        st.pad = [0, 0];
        st.pad_value = None;
        Ok(st)
    }

    fn find_dense(&mut self, index: &GraphIndex<'_>) -> Result<()> {
        let graph = index.graph;
        let mut seen = std::collections::HashSet::new();
        for node in &graph.node {
            let op = node.op_type();
            if op != "Gemm" && op != "MatMul" {
                continue;
            }
            let Some(w) = index.const_tensor(node, 1) else { continue };
            let wd = tensor::dims(w)?;
            if wd.len() != 2 || !seen.insert(w.name().to_owned()) {
                continue;
            }
            let transposed = op == "Gemm" && attr_int(node, "transB") == Some(1);
            let (in_features, out_features) =
                if transposed { (wd[1], wd[0]) } else { (wd[0], wd[1]) };
            let mut output = node.output[0].clone();
            // a bias Add (MatMul + Add), then an activation
            let single = |t: &str| -> Option<&NodeProto> {
                match index.consumers.get(t).map(Vec::as_slice) {
                    Some([i]) => Some(&graph.node[*i]),
                    _ => None,
                }
            };
            if op == "MatMul"
                && let Some(n) = single(&output).filter(|n| {
                    n.op_type() == "Add" && (index.is_const(n, 0) || index.is_const(n, 1))
                })
            {
                output.clone_from(&n.output[0]);
            }
            let mut activation = None;
            // A dense layer's activation: elementwise, or a (log-)softmax
            // over its outputs (a classification head).
            let head =
                |op: &str| ACTIVATIONS.contains(&op) || matches!(op, "Softmax" | "LogSoftmax");
            if let Some(n) = single(&output).filter(|n| head(n.op_type())) {
                activation = Some(n.op_type().to_owned());
                output.clone_from(&n.output[0]);
            }
            self.dense.push(DenseLayer {
                index: self.dense.len(),
                node: node_label(node),
                weight: w.name().to_owned(),
                in_features,
                out_features,
                transposed,
                activation,
                output,
            });
        }
        Ok(())
    }

    fn receptive_fields(&mut self) {
        let (mut rf, mut jump) = (1usize, 1usize);
        for c in &mut self.convs {
            rf = rf.saturating_add((c.width - 1).saturating_mul(c.dilation).saturating_mul(jump));
            jump = jump.saturating_mul(c.stride);
            c.receptive_field = rf;
            c.input_stride = jump;
            for p in &c.post {
                if let PostOp::MaxPool { size, stride } | PostOp::AvgPool { size, stride } = p {
                    rf = rf.saturating_add(size.saturating_sub(1).saturating_mul(jump));
                    jump = jump.saturating_mul(*stride);
                }
            }
        }
    }

    /// The tensor holding the globally pooled scores of the last conv layer, if any.
    #[must_use]
    pub fn pooled_scores(&self) -> Option<&str> {
        self.convs.last().and_then(|c| c.global_output.as_deref())
    }
}

mod summary;
#[cfg(test)]
mod tests;
