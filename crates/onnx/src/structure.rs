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
use crate::graph::{GraphIndex, attr_int, node_label};
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

/// What recognition tracks about a tensor on the conv chain.
#[derive(Debug, Clone)]
pub(crate) struct AxisState {
    /// Rank of the tensor.
    pub(crate) rank: usize,
    /// Its sequence (length) axis.
    pub(crate) len_axis: usize,
    /// Its channel axis.
    pub(crate) ch_axis: usize,
    /// The conv layer it comes from.
    pub(crate) conv: Option<usize>,
    /// Whether it is on the conv's primary path (not a shared-weight branch).
    pub(crate) primary: bool,
    /// Padding added since the last conv, on the sequence axis.
    pub(crate) pad: [usize; 2],
    /// The value that padding holds.
    pub(crate) pad_value: Option<f32>,
    /// Channels.
    pub(crate) channels: usize,
}

/// One node's step down the conv chain, as a structure hook sees it: the
/// structure so far and the graph.
pub(crate) struct Walk<'a, 'g> {
    /// The structure recognised so far.
    pub(crate) s: &'a mut Structure,
    /// The graph.
    pub(crate) index: &'a GraphIndex<'g>,
    /// Which input of the node holds the tracked tensor.
    pub(crate) k: usize,
    /// Conv layers by weight name (a weight seen again is a shared-weight branch).
    pub(crate) conv_by_weight: &'a mut HashMap<String, usize>,
}

impl Walk<'_, '_> {
    /// Records `op` after the conv that `st` comes from; `node`'s first
    /// output holds its result.
    pub(crate) fn post(&mut self, st: &AxisState, op: PostOp, node: &NodeProto) {
        self.s.post(st, op, node.output.first().map_or("", String::as_str));
    }

    /// A note on `node` (recognition did not follow it, and why).
    pub(crate) fn note(&mut self, node: &NodeProto, why: &str) {
        self.s.note(node, why);
    }
}

/// What one op means to structure recognition: the state of the node's
/// outputs, or `None` where the tracked path ends (a head, a flatten, an
/// op recognition does not follow).
pub(crate) type StructureHook =
    fn(&mut Walk<'_, '_>, &NodeProto, AxisState) -> Result<Option<AxisState>>;

/// A registered structure hook and the op types it covers.
pub(crate) struct StructureEntry {
    /// ONNX op types (default domain).
    pub(crate) ops: &'static [&'static str],
    /// The hook.
    pub(crate) hook: StructureHook,
}

inventory::collect!(StructureEntry);

/// Registers a [`StructureHook`] for op types, beside the family's shape
/// and gradient rules (`crate::autodiff::rules`).
macro_rules! register_structure_hook {
    ($ops:expr, $hook:expr) => {
        inventory::submit! {
            $crate::structure::StructureEntry { ops: $ops, hook: $hook }
        }
    };
}
pub(crate) use register_structure_hook;

/// The structure hook for `op`, if one is registered.
pub(crate) fn structure_hook_for(op: &str) -> Option<StructureHook> {
    inventory::iter::<StructureEntry>.into_iter().find(|e| e.ops.contains(&op)).map(|e| e.hook)
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

/// Axis `a` (negative from the end) of a rank-`rank` tensor.
pub(crate) fn norm_axis(a: i64, rank: usize) -> usize {
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
pub(crate) fn reshape_axes(st: &mut AxisState, shape: Option<&[i64]>) -> bool {
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

    /// One node on a tracked path: its op's structure hook gives the state
    /// of its outputs, or None when the path ends there.
    fn step(
        &mut self,
        node: &NodeProto,
        k: usize,
        st: AxisState,
        stateful_inputs: usize,
        index: &GraphIndex<'_>,
        conv_by_weight: &mut HashMap<String, usize>,
    ) -> Result<Option<AxisState>> {
        let op = node.op_type();
        if stateful_inputs > 1 && !matches!(op, "Conv") {
            // branches merging (e.g. Max of forward and reverse scores)
            return Ok(None);
        }
        let Some(hook) = structure_hook_for(op) else {
            self.note(
                node,
                "not recognised; the structure after it is unknown (the model still runs)",
            );
            return Ok(None);
        };
        hook(&mut Walk { s: self, index, k, conv_by_weight }, node, st)
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
