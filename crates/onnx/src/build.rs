//! Building ONNX graphs: a small [`GraphBuilder`] and [`deepbind`], the
//! DeepBind-style network (conv → activation → global max pool → dense) that
//! tests, simulations and `motiftool train` start from.
//!
//! The graphs use opset 17 and the PyTorch layout (N, 4, L), so every
//! runtime and motiftool's own importer read them like an exported model.

use ndarray::{Array2, Array3};
use prost::Message;

use crate::pb::{
    AttributeProto, GraphProto, ModelProto, NodeProto, OperatorSetIdProto, TensorShapeProto,
    TypeProto, ValueInfoProto, attribute_proto::AttributeType, tensor_proto::DataType,
    tensor_shape_proto::Dimension, tensor_shape_proto::dimension::Value as DimValue, type_proto,
};
use crate::structure::Dim;
use crate::tensor::from_f32;

/// The opset the builder writes.
pub const OPSET: i64 = 17;

/// An ONNX attribute value for [`GraphBuilder::node`].
#[derive(Debug, Clone, PartialEq)]
pub enum Attr {
    /// One integer.
    Int(i64),
    /// Integers.
    Ints(Vec<i64>),
    /// One float.
    Float(f32),
    /// A string.
    Str(String),
}

/// The protobuf form of attribute `name` = `a`.
#[must_use]
pub fn attr_proto(name: &str, a: &Attr) -> AttributeProto {
    let mut p = AttributeProto { name: Some(name.to_owned()), ..Default::default() };
    match a {
        Attr::Int(i) => {
            p.i = Some(*i);
            p.r#type = Some(AttributeType::Int as i32);
        }
        Attr::Ints(v) => {
            p.ints.clone_from(v);
            p.r#type = Some(AttributeType::Ints as i32);
        }
        Attr::Float(f) => {
            p.f = Some(*f);
            p.r#type = Some(AttributeType::Float as i32);
        }
        Attr::Str(v) => {
            p.s = Some(v.as_bytes().to_vec());
            p.r#type = Some(AttributeType::String as i32);
        }
    }
    p
}

/// A node `name` running `op` on `inputs` into `outputs`.
#[must_use]
pub fn node_proto(
    name: &str,
    op: &str,
    inputs: &[&str],
    outputs: &[&str],
    attrs: &[(&str, Attr)],
) -> NodeProto {
    NodeProto {
        name: Some(name.to_owned()),
        op_type: Some(op.to_owned()),
        input: inputs.iter().map(|s| (*s).to_owned()).collect(),
        output: outputs.iter().map(|s| (*s).to_owned()).collect(),
        attribute: attrs.iter().map(|(n, a)| attr_proto(n, a)).collect(),
        ..Default::default()
    }
}

/// Builds a single-graph ONNX model node by node.
#[derive(Debug, Clone)]
pub struct GraphBuilder {
    graph: GraphProto,
}

/// A float tensor's value info without a shape (the engine infers it).
#[must_use]
pub fn value_info_any(name: &str) -> ValueInfoProto {
    let mut vi = value_info(name, &[]);
    if let Some(type_proto::Value::TensorType(t)) =
        vi.r#type.as_mut().and_then(|t| t.value.as_mut())
    {
        t.shape = None;
    }
    vi
}

pub(crate) fn value_info(name: &str, dims: &[Dim]) -> ValueInfoProto {
    let dim = dims
        .iter()
        .map(|d| Dimension {
            denotation: None,
            value: match d {
                Dim::Fixed(n) => Some(DimValue::DimValue(*n as i64)),
                Dim::Symbol(s) => Some(DimValue::DimParam(s.clone())),
                Dim::Unknown => None,
            },
        })
        .collect();
    ValueInfoProto {
        name: Some(name.to_owned()),
        r#type: Some(TypeProto {
            value: Some(type_proto::Value::TensorType(type_proto::Tensor {
                elem_type: Some(DataType::Float as i32),
                shape: Some(TensorShapeProto { dim }),
            })),
            denotation: None,
        }),
        ..Default::default()
    }
}

impl GraphBuilder {
    /// An empty graph called `name`.
    #[must_use]
    pub fn new(name: &str) -> Self {
        Self { graph: GraphProto { name: Some(name.to_owned()), ..Default::default() } }
    }

    /// Declares a float graph input.
    pub fn input(&mut self, name: &str, dims: &[Dim]) -> &mut Self {
        self.graph.input.push(value_info(name, dims));
        self
    }

    /// Declares a float graph output.
    pub fn output(&mut self, name: &str, dims: &[Dim]) -> &mut Self {
        self.graph.output.push(value_info(name, dims));
        self
    }

    /// Declares a float graph output whose shape the engine infers.
    pub fn output_any(&mut self, name: &str) -> &mut Self {
        self.graph.output.push(value_info_any(name));
        self
    }

    /// Adds a float initializer (a weight).
    pub fn initializer(&mut self, name: &str, dims: &[usize], values: &[f32]) -> &mut Self {
        debug_assert_eq!(dims.iter().product::<usize>(), values.len(), "{name}");
        self.graph.initializer.push(from_f32(name, dims, values));
        self
    }

    /// Adds an int64 initializer (axes, pads, shapes).
    pub fn initializer_i64(&mut self, name: &str, dims: &[usize], values: &[i64]) -> &mut Self {
        debug_assert_eq!(dims.iter().product::<usize>(), values.len(), "{name}");
        self.graph.initializer.push(crate::tensor::from_i64(name, dims, values));
        self
    }

    /// Adds a node; it is named after its first output.
    pub fn node(
        &mut self,
        op: &str,
        inputs: &[&str],
        outputs: &[&str],
        attrs: &[(&str, Attr)],
    ) -> &mut Self {
        let name = outputs.first().map(|o| format!("{op}_{o}")).unwrap_or_default();
        self.graph.node.push(node_proto(&name, op, inputs, outputs, attrs));
        self
    }

    /// The finished model (IR version 8, opset [`OPSET`]).
    #[must_use]
    pub fn finish(self) -> ModelProto {
        ModelProto {
            ir_version: Some(8),
            opset_import: vec![OperatorSetIdProto {
                domain: Some(String::new()),
                version: Some(OPSET),
            }],
            producer_name: Some("motiftool".into()),
            producer_version: Some(env!("CARGO_PKG_VERSION").into()),
            graph: Some(self.graph),
            ..Default::default()
        }
    }

    /// The finished model, serialised.
    #[must_use]
    pub fn to_bytes(self) -> Vec<u8> {
        self.finish().encode_to_vec()
    }
}

/// The activation after the conv in [`deepbind`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Activation {
    /// max(0, x).
    #[default]
    Relu,
    /// Deepprune's: leaky ReLU with slope 0.5 below zero, clipped at 10.
    Deepprune,
}

/// Padding of the conv in [`deepbind`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Padding {
    /// No padding: L − w + 1 positions.
    #[default]
    Valid,
    /// L positions; ⌊(w−1)/2⌋ zeros before and the rest after (Keras `same`).
    Same,
}

/// Weights and options of a DeepBind-style network: conv (k kernels of
/// width w over 4 channels) → activation → global max pool over the
/// sequence → dense (k → outputs) → optional sigmoid.
#[derive(Debug, Clone)]
pub struct DeepBindSpec {
    /// Conv kernels, (k, 4, w), channels in A, C, G, T order.
    pub kernels: Array3<f32>,
    /// Conv bias, k values.
    pub conv_bias: Vec<f32>,
    /// Dense weights, (outputs, k).
    pub dense: Array2<f32>,
    /// Dense bias, one per output.
    pub dense_bias: Vec<f32>,
    /// The activation.
    pub activation: Activation,
    /// Conv padding.
    pub padding: Padding,
    /// Fixed input length, or `None` for a symbolic `L`.
    pub length: Option<usize>,
    /// Whether the output is passed through a sigmoid (probabilities) or left as logits.
    pub sigmoid: bool,
}

/// Builds the network `spec` describes. Tensor names: input `x`, conv
/// weights `conv.weight`/`conv.bias`, dense `dense.weight` (outputs, k,
/// used with `transB`) and `dense.bias`, output `y`.
///
/// # Panics
/// If the shapes in `spec` disagree.
#[must_use]
pub fn deepbind(spec: &DeepBindSpec) -> ModelProto {
    let (k, c, w) = spec.kernels.dim();
    assert_eq!(c, 4, "kernels must have 4 channels");
    assert_eq!(spec.conv_bias.len(), k, "one conv bias per kernel");
    let (outs, k2) = spec.dense.dim();
    assert_eq!(k2, k, "dense weights must be (outputs, kernels)");
    assert_eq!(spec.dense_bias.len(), outs, "one dense bias per output");
    let len = spec.length.map_or(Dim::Symbol("L".into()), Dim::Fixed);
    let mut g = GraphBuilder::new("deepbind");
    g.input("x", &[Dim::Symbol("N".into()), Dim::Fixed(4), len]);
    g.output("y", &[Dim::Symbol("N".into()), Dim::Fixed(outs)]);
    let std_layout = |a: &Array3<f32>| a.as_standard_layout().iter().copied().collect::<Vec<_>>();
    g.initializer("conv.weight", &[k, 4, w], &std_layout(&spec.kernels));
    g.initializer("conv.bias", &[k], &spec.conv_bias);
    let dense: Vec<f32> = spec.dense.as_standard_layout().iter().copied().collect();
    g.initializer("dense.weight", &[outs, k], &dense);
    g.initializer("dense.bias", &[outs], &spec.dense_bias);
    let pads = match spec.padding {
        Padding::Valid => vec![0, 0],
        Padding::Same => vec![((w - 1) / 2) as i64, (w / 2) as i64],
    };
    g.node(
        "Conv",
        &["x", "conv.weight", "conv.bias"],
        &["conv"],
        &[("kernel_shape", Attr::Ints(vec![w as i64])), ("pads", Attr::Ints(pads))],
    );
    match spec.activation {
        Activation::Relu => {
            g.node("Relu", &["conv"], &["act"], &[]);
        }
        Activation::Deepprune => {
            g.initializer("act.lo", &[], &[f32::MIN]);
            g.initializer("act.hi", &[], &[10.0]);
            g.node("LeakyRelu", &["conv"], &["leaky"], &[("alpha", Attr::Float(0.5))]);
            g.node("Clip", &["leaky", "act.lo", "act.hi"], &["act"], &[]);
        }
    }
    g.node("GlobalMaxPool", &["act"], &["pooled"], &[]);
    g.node("Flatten", &["pooled"], &["flat"], &[("axis", Attr::Int(1))]);
    let head = if spec.sigmoid { "logits" } else { "y" };
    g.node("Gemm", &["flat", "dense.weight", "dense.bias"], &[head], &[("transB", Attr::Int(1))]);
    if spec.sigmoid {
        g.node("Sigmoid", &["logits"], &["y"], &[]);
    }
    g.finish()
}

/// One conv block of [`stack`]: conv → [BatchNorm] → ReLU → [max pool].
#[derive(Debug, Clone)]
pub struct StackLayer {
    /// Kernels, (out, in, width).
    pub kernels: Array3<f32>,
    /// Conv bias (none when the block has BatchNorm).
    pub bias: Option<Vec<f32>>,
    /// BatchNorm (scale, bias, running mean, running variance), one value per kernel each.
    pub batchnorm: Option<[Vec<f32>; 4]>,
    /// Non-overlapping max pool size after the activation (1 = none).
    pub pool: usize,
}

/// A stacked CNN: [`StackLayer`]s of 'valid' convs, then global max pool →
/// dense (→ sigmoid), in the (N, 4, L) layout. NeuronMotif's demo
/// architectures are of this kind.
#[derive(Debug, Clone)]
pub struct StackSpec {
    /// The conv blocks, input side first.
    pub layers: Vec<StackLayer>,
    /// Dense weights, (outputs, last layer's kernels), and bias. Without a
    /// dense layer the last block's conv outputs are the logits: no
    /// activation after it, global max pool, then the output (NeuronMotif's demo1).
    pub dense: Option<(Array2<f32>, Vec<f32>)>,
    /// Fixed input length, or `None` for a symbolic `L`.
    pub length: Option<usize>,
    /// Sigmoid on the output.
    pub sigmoid: bool,
}

/// Builds the network `spec` describes. Tensor names: input `x`;
/// `conv{i}.weight`, `conv{i}.bias`, `bn{i}.{scale,bias,mean,var}` for
/// block i (from 1); `dense.weight` (outputs, k, used with `transB`),
/// `dense.bias`; output `y`.
///
/// # Panics
/// If the shapes in `spec` disagree.
#[must_use]
pub fn stack(spec: &StackSpec) -> ModelProto {
    let len = spec.length.map_or(Dim::Symbol("L".into()), Dim::Fixed);
    let last_k = spec.layers.last().map_or(4, |l| l.kernels.dim().0);
    let outs = spec.dense.as_ref().map_or(last_k, |d| d.0.dim().0);
    let mut g = GraphBuilder::new("stack");
    g.input("x", &[Dim::Symbol("N".into()), Dim::Fixed(4), len]);
    g.output("y", &[Dim::Symbol("N".into()), Dim::Fixed(outs)]);
    let mut prev = "x".to_owned();
    let mut channels = 4;
    for (i, l) in spec.layers.iter().enumerate() {
        let b = i + 1;
        let (k, c, w) = l.kernels.dim();
        assert_eq!(c, channels, "block {b}: kernels must take {channels} channels");
        let wname = format!("conv{b}.weight");
        let values: Vec<f32> = l.kernels.as_standard_layout().iter().copied().collect();
        g.initializer(&wname, &[k, c, w], &values);
        let mut ins = vec![prev.clone(), wname];
        if let Some(bias) = &l.bias {
            assert_eq!(bias.len(), k, "block {b}: one bias per kernel");
            let bname = format!("conv{b}.bias");
            g.initializer(&bname, &[k], bias);
            ins.push(bname);
        }
        let conv = format!("conv{b}");
        let refs: Vec<&str> = ins.iter().map(String::as_str).collect();
        g.node("Conv", &refs, &[&conv], &[("kernel_shape", Attr::Ints(vec![w as i64]))]);
        let mut cur = conv;
        if let Some(bn) = &l.batchnorm {
            let names: Vec<String> =
                ["scale", "bias", "mean", "var"].iter().map(|p| format!("bn{b}.{p}")).collect();
            for (n, v) in names.iter().zip(bn) {
                assert_eq!(v.len(), k, "block {b}: one BatchNorm value per kernel");
                g.initializer(n, &[k], v);
            }
            let out = format!("bn{b}");
            g.node(
                "BatchNormalization",
                &[&cur, &names[0], &names[1], &names[2], &names[3]],
                &[&out],
                &[("epsilon", Attr::Float(1e-3))],
            );
            cur = out;
        }
        if spec.dense.is_some() || b < spec.layers.len() {
            let act = format!("relu{b}");
            g.node("Relu", &[&cur], &[&act], &[]);
            cur = act;
        }
        if l.pool > 1 {
            let out = format!("pool{b}");
            let p = l.pool as i64;
            g.node(
                "MaxPool",
                &[&cur],
                &[&out],
                &[("kernel_shape", Attr::Ints(vec![p])), ("strides", Attr::Ints(vec![p]))],
            );
            cur = out;
        }
        prev = cur;
        channels = k;
    }
    g.node("GlobalMaxPool", &[&prev], &["pooled"], &[]);
    let head = if spec.sigmoid { "logits" } else { "y" };
    if let Some((dense, bias)) = &spec.dense {
        assert_eq!(dense.dim().1, channels, "dense weights must be (outputs, last kernels)");
        let w: Vec<f32> = dense.as_standard_layout().iter().copied().collect();
        g.initializer("dense.weight", &[outs, channels], &w);
        g.initializer("dense.bias", &[outs], bias);
        g.node("Flatten", &["pooled"], &["flat"], &[("axis", Attr::Int(1))]);
        g.node(
            "Gemm",
            &["flat", "dense.weight", "dense.bias"],
            &[head],
            &[("transB", Attr::Int(1))],
        );
    } else {
        g.node("Flatten", &["pooled"], &[head], &[("axis", Attr::Int(1))]);
    }
    if spec.sigmoid {
        g.node("Sigmoid", &["logits"], &["y"], &[]);
    }
    g.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Model;

    fn spec(activation: Activation, padding: Padding) -> DeepBindSpec {
        DeepBindSpec {
            kernels: Array3::from_shape_fn((3, 4, 5), |(k, c, i)| (k + c + i) as f32 * 0.1),
            conv_bias: vec![0.0, -0.1, 0.2],
            dense: Array2::from_shape_fn((1, 3), |(_, k)| k as f32 - 1.0),
            dense_bias: vec![0.5],
            activation,
            padding,
            length: Some(20),
            sigmoid: true,
        }
    }

    #[test]
    fn built_model_is_recognised() {
        for (act, pad) in
            [(Activation::Relu, Padding::Valid), (Activation::Deepprune, Padding::Same)]
        {
            let bytes = deepbind(&spec(act, pad)).encode_to_vec();
            let m = Model::from_bytes(&bytes, std::path::Path::new("built.onnx")).unwrap();
            let s = m.structure();
            assert_eq!(s.convs.len(), 1);
            assert_eq!(s.convs[0].out_channels, 3);
            assert_eq!(s.convs[0].width, 5);
            assert_eq!(s.input.length, Some(20));
            assert_eq!(s.dense.len(), 1);
            assert_eq!(s.dense[0].weight, "dense.weight");
            assert_eq!(s.dense[0].in_features, 3);
            let w = m.weights("conv.weight").unwrap();
            assert_eq!(w.shape(), &[3, 4, 5]);
            assert!((w[[2, 3, 4]] - 0.9).abs() < 1e-6);
        }
    }

    #[test]
    fn stack_is_recognised_with_pools_and_batchnorm() {
        let layer = |k: usize, c: usize, w: usize, pool: usize, bn: bool| StackLayer {
            kernels: Array3::from_elem((k, c, w), 0.1),
            bias: (!bn).then(|| vec![0.0; k]),
            batchnorm: bn.then(|| [vec![1.0; k], vec![0.0; k], vec![0.0; k], vec![1.0; k]]),
            pool,
        };
        let spec = StackSpec {
            layers: vec![layer(3, 4, 5, 2, true), layer(2, 3, 2, 1, false)],
            dense: Some((Array2::from_elem((1, 2), 0.5), vec![0.0])),
            length: None,
            sigmoid: true,
        };
        let bytes = stack(&spec).encode_to_vec();
        let m = Model::from_bytes(&bytes, std::path::Path::new("stack.onnx")).unwrap();
        let s = m.structure();
        assert_eq!(s.convs.len(), 2);
        // NeuronMotif demo1's geometry: RF 5 and 8.
        assert_eq!(s.convs[0].receptive_field, 5);
        assert_eq!(s.convs[1].receptive_field, 8);
        assert_eq!(s.convs[1].input_stride, 2);
        assert!(matches!(s.convs[0].post[0], crate::PostOp::BatchNorm { .. }));
        assert_eq!(s.dense.len(), 1);
    }
}
