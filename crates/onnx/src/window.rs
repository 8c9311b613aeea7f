//! A conv neuron's sub-network on receptive-field windows (NeuronMotif).
//!
//! [`Windowed::new`] cuts a model down to what computes conv layer `L`'s
//! *neuron values* (its output after BatchNorm or a folded affine, before
//! the activation: NeuronMotif's `v`) and the same values of every conv
//! layer below, removes all padding (conv `pads`, `auto_pad`, Pad nodes),
//! and fixes the input length to layer `L`'s receptive field, so that each
//! window of that length gives exactly one neuron per channel of layer `L`.
//!
//! The method assumes a chain of stride-1, undilated convs with
//! non-overlapping max pools between them (NeuronMotif's `getRF`). Anything
//! else on the path (a strided or dilated conv, an average or overlapping
//! pool, a residual branch merging two computed tensors, an op it does not
//! know) is refused with an error naming the node.

use std::collections::HashSet;

use crate::autodiff::Shapes;
use crate::build::{Attr, node_proto, value_info};
use crate::error::{Error, Result};
use crate::graph::{GraphIndex, attr_str, node_err, node_label};
use crate::model::Model;
use crate::pb::{ModelProto, NodeProto};
use crate::structure::{Dim, Layout};

/// One conv layer of the chain below (and including) the target layer.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ChainLayer {
    /// The Conv node.
    pub node: String,
    /// Kernel width.
    pub width: usize,
    /// Input channels.
    pub in_channels: usize,
    /// Output channels (neurons per position).
    pub channels: usize,
    /// Size (= stride) of the max pool after this layer; 1 without one.
    pub pool: usize,
    /// Input stride (bp) between adjacent neurons of this layer (`J`).
    pub jump: usize,
    /// Receptive field (bp) of one neuron of this layer.
    pub receptive_field: usize,
    /// The tensor holding the layer's neuron values (post-BN, pre-activation).
    pub value: String,
    /// The conv weight initializer.
    pub weight: String,
}

/// The windowed sub-network of a model for one conv layer.
#[derive(Debug, Clone)]
pub struct Windowed {
    /// Conv layers 0..=L.
    pub layers: Vec<ChainLayer>,
    /// The window length: layer L's receptive field.
    pub window: usize,
    /// The input tensor name.
    pub input: String,
    /// The input layout.
    pub layout: Layout,
    /// The sub-network: input (N, 4, window) or (N, window, 4); outputs the
    /// value tensors of layers 0..=L, in order.
    pub proto: ModelProto,
}

fn is_affine(index: &GraphIndex<'_>, n: &NodeProto) -> bool {
    matches!(n.op_type(), "Add" | "Mul" | "Sub" | "Div")
        && n.input.len() == 2
        && (index.is_const(n, 0) || index.is_const(n, 1))
}

/// The neuron-value tensor of the conv whose output is `conv_output`: the
/// output of the BatchNorm / constant affine ops (and no-ops) that follow
/// it directly, before any activation or pooling.
fn value_tensor(index: &GraphIndex<'_>, conv_output: &str) -> String {
    let graph = index.graph;
    let mut t = conv_output.to_owned();
    let mut last_value = t.clone();
    while let Some([i]) = index.consumers.get(t.as_str()).map(Vec::as_slice) {
        let n = &graph.node[*i];
        let op = n.op_type();
        let keep = op == "BatchNormalization" || is_affine(index, n);
        if !(keep || matches!(op, "Identity" | "Dropout" | "Cast")) {
            break;
        }
        t.clone_from(&n.output[0]);
        if keep || last_value == *n.input.first().map_or("", String::as_str) {
            last_value.clone_from(&t);
        }
    }
    last_value
}

/// The walk down the path to the target layer, as a window hook sees it.
pub(crate) struct WindowWalk<'a, 'g> {
    /// The model's structure.
    pub(crate) s: &'a crate::Structure,
    /// The graph.
    pub(crate) index: &'a GraphIndex<'g>,
    /// The max-pool size after each conv layer so far (1: none).
    pub(crate) pools: Vec<usize>,
    /// Conv layers met so far.
    pub(crate) conv_seen: usize,
    /// The conv layer the path comes from.
    pub(crate) current: Option<usize>,
    /// Constants the rewritten nodes read (reshape targets for windows).
    pub(crate) window_consts: Vec<crate::pb::TensorProto>,
}

/// What one op becomes on receptive-field windows: the hook checks the
/// node is within the method (an error naming it otherwise) and rewrites
/// its copy (padding removed, lengths inferred). An op with no hook is
/// refused.
pub(crate) type WindowHook = fn(&mut WindowWalk<'_, '_>, &NodeProto, &mut NodeProto) -> Result<()>;

/// A registered window hook and the op types it covers.
pub(crate) struct WindowEntry {
    /// ONNX op types (default domain).
    pub(crate) ops: &'static [&'static str],
    /// The hook.
    pub(crate) hook: WindowHook,
}

inventory::collect!(WindowEntry);

/// Registers a [`WindowHook`] for op types, beside the family's other
/// rules (`crate::autodiff::rules`).
macro_rules! register_window_hook {
    ($ops:expr, $hook:expr) => {
        inventory::submit! {
            $crate::window::WindowEntry { ops: $ops, hook: $hook }
        }
    };
}
pub(crate) use register_window_hook;

/// The window hook for `op`, if one is registered.
pub(crate) fn window_hook_for(op: &str) -> Option<WindowHook> {
    inventory::iter::<WindowEntry>.into_iter().find(|e| e.ops.contains(&op)).map(|e| e.hook)
}

/// Ops that stay as they are on windows.
#[allow(clippy::unnecessary_wraps, reason = "every hook has the WindowHook signature")]
pub(crate) fn unchanged(
    _: &mut WindowWalk<'_, '_>,
    _: &NodeProto,
    _: &mut NodeProto,
) -> Result<()> {
    Ok(())
}

/// The error for a node outside what NeuronMotif covers.
pub(crate) fn unsupported(n: &NodeProto, what: &str) -> Error {
    node_err(
        n,
        format!(
            "{what}: NeuronMotif covers chains of stride-1 convs with non-overlapping max pools (no residual branches)"
        ),
    )
}

/// Why convs exist past the recognised chain: the first node merging two
/// computed tensors before an unrecognised conv (a residual connection).
fn beyond_chain(index: &GraphIndex<'_>, model: &Model) -> Option<Error> {
    let known: HashSet<&str> = model.structure().convs.iter().map(|c| c.weight.as_str()).collect();
    let graph = index.graph;
    let first_unknown = graph.node.iter().position(|n| {
        n.op_type() == "Conv" && n.input.get(1).is_some_and(|w| !known.contains(w.as_str()))
    })?;
    let computed = |name: &str| !name.is_empty() && !index.constants.contains_key(name);
    let merge = graph.node[..first_unknown]
        .iter()
        .find(|n| n.input.iter().filter(|x| computed(x)).count() > 1)?;
    Some(unsupported(
        merge,
        &format!(
            "merges computed tensors before conv `{}` (a residual or multi-branch connection)",
            node_label(&graph.node[first_unknown])
        ),
    ))
}

impl Windowed {
    /// The sub-network of `model` for conv layer `layer` (0-based, as
    /// `motiftool inspect` numbers them).
    ///
    /// # Errors
    /// If `layer` is out of range or the path to it holds something the
    /// method does not cover (the error names the node).
    #[allow(clippy::too_many_lines, reason = "the windowed sub-network built in one walk")]
    pub fn new(model: &Model, layer: usize) -> Result<Self> {
        let s = model.structure();
        let path = model.path();
        let model_err = |msg: String| Error::Model { path: path.into(), msg };
        let graph = model.normalised().graph.as_ref().expect("loaded model has a graph");
        let index = GraphIndex::new(graph);
        let Some(target) = s.convs.get(layer) else {
            if let Some(e) = beyond_chain(&index, model) {
                return Err(e);
            }
            return Err(model_err(format!(
                "layer {layer}: the model has {} conv layer(s) (0..={}); see `motiftool inspect`",
                s.convs.len(),
                s.convs.len().saturating_sub(1)
            )));
        };
        let values: Vec<String> =
            s.convs[..=layer].iter().map(|c| value_tensor(&index, &c.conv_output)).collect();

        // The backward slice from the value tensors.
        let mut needed: HashSet<&str> = values.iter().map(String::as_str).collect();
        let mut keep = vec![false; graph.node.len()];
        for (i, n) in graph.node.iter().enumerate().rev() {
            if n.output.iter().any(|o| needed.contains(o.as_str())) {
                keep[i] = true;
                needed.extend(n.input.iter().map(String::as_str));
            }
        }
        if !needed.contains(s.input.name.as_str()) {
            return Err(model_err(format!(
                "conv layer {layer} (`{}`) does not depend on the input `{}`",
                target.node, s.input.name
            )));
        }
        let computed = |name: &str| !name.is_empty() && !index.constants.contains_key(name);

        let mut nodes: Vec<NodeProto> = Vec::new();
        let mut walk = WindowWalk {
            s,
            index: &index,
            pools: vec![1usize; layer + 1],
            conv_seen: 0,
            current: None,
            window_consts: Vec::new(),
        };
        for (i, n) in graph.node.iter().enumerate() {
            if !keep[i] || n.op_type() == "Constant" {
                if keep[i] {
                    nodes.push(n.clone());
                }
                continue;
            }
            let op = n.op_type();
            let live: Vec<&String> = n.input.iter().filter(|x| computed(x)).collect();
            if live.len() > 1 {
                return Err(unsupported(
                    n,
                    &format!(
                        "merges {} computed tensors ({}), a residual or multi-branch connection",
                        live.len(),
                        live.iter().map(|s| format!("`{s}`")).collect::<Vec<_>>().join(", ")
                    ),
                ));
            }
            let Some(hook) = window_hook_for(op) else {
                return Err(unsupported(n, &format!("op `{op}` on the path to layer {layer}")));
            };
            let mut m = n.clone();
            hook(&mut walk, n, &mut m)?;
            if attr_str(n, "auto_pad").is_some_and(|p| p != "NOTSET" && p != "VALID")
                && !matches!(op, "Conv" | "MaxPool")
            {
                return Err(unsupported(n, "auto padding"));
            }
            nodes.push(m);
        }
        let WindowWalk { pools, conv_seen, window_consts, .. } = walk;
        if conv_seen != layer + 1 {
            return Err(model_err(format!(
                "the path to conv layer {layer} holds {conv_seen} convs, expected {}",
                layer + 1
            )));
        }

        // Layer geometry (getRF): stride-1 valid convs, pools of size = stride.
        let mut layers = Vec::with_capacity(layer + 1);
        let (mut rf, mut jump) = (1usize, 1usize);
        for (c, conv) in s.convs[..=layer].iter().enumerate() {
            rf += (conv.width - 1) * jump;
            layers.push(ChainLayer {
                node: conv.node.clone(),
                width: conv.width,
                in_channels: conv.in_channels,
                channels: conv.out_channels,
                pool: pools[c],
                jump,
                receptive_field: rf,
                value: values[c].clone(),
                weight: conv.weight.clone(),
            });
            rf += (pools[c] - 1) * jump;
            jump *= pools[c];
        }
        let window = layers[layer].receptive_field;

        let mut proto = model.normalised().clone();
        let g = proto.graph.as_mut().expect("graph");
        g.node = nodes;
        g.initializer.extend(window_consts);
        let used: HashSet<String> = g.node.iter().flat_map(|n| n.input.iter().cloned()).collect();
        g.initializer.retain(|t| used.contains(t.name()));
        g.value_info.clear();
        let dims = match s.input.layout {
            Layout::Ncw => vec![Dim::Symbol("N".into()), Dim::Fixed(4), Dim::Fixed(window)],
            Layout::Nwc => vec![Dim::Symbol("N".into()), Dim::Fixed(window), Dim::Fixed(4)],
        };
        g.input.retain(|i| used.contains(i.name()) && i.name() != s.input.name);
        g.input.insert(0, value_info(&s.input.name, &dims));
        g.output.clear();
        for v in &values {
            let mut vi = value_info(v, &[]);
            if let Some(crate::pb::type_proto::Value::TensorType(t)) =
                vi.r#type.as_mut().and_then(|t| t.value.as_mut())
            {
                t.shape = None;
            }
            g.output.push(vi);
        }
        let w = Self { layers, window, input: s.input.name.clone(), layout: s.input.layout, proto };
        // One neuron per channel of layer L on a window.
        let shape = w.probe(1)?;
        let last = shape.last().expect("layers");
        let top = &w.layers[layer];
        if last.iter().product::<usize>() != top.channels {
            return Err(model_err(format!(
                "conv layer {layer} (`{}`) gives shape {last:?} on a {window} bp window; expected one position of {} channels",
                top.node, top.channels
            )));
        }
        Ok(w)
    }

    /// The input shape for `n` windows.
    #[must_use]
    pub fn input_shape(&self, n: usize) -> Vec<usize> {
        match self.layout {
            Layout::Ncw => vec![n, 4, self.window],
            Layout::Nwc => vec![n, self.window, 4],
        }
    }

    /// Shapes of the value tensors of every layer for `n` windows.
    ///
    /// # Errors
    /// If shapes cannot be inferred.
    pub fn probe(&self, n: usize) -> Result<Vec<Vec<usize>>> {
        let g = self.proto.graph.as_ref().expect("graph");
        let shapes = Shapes::infer(g, &[(&self.input, &self.input_shape(n))])?;
        Ok(self.layers.iter().map(|l| shapes.shape(&l.value).to_vec()).collect())
    }

    /// The sub-network for `n` windows with outputs `target` (layer L's
    /// values flattened to (n, channels)) and `grad.<input>`, the gradient
    /// of Σ `grad_seed` · target with respect to the one-hot input (seed
    /// shaped (n, channels); a one-hot seed row picks the neuron).
    ///
    /// # Errors
    /// If an op on the path has no gradient rule (naming it).
    pub fn gradient_model(&self, n: usize) -> Result<ModelProto> {
        let mut proto = self.proto.clone();
        let g = proto.graph.as_mut().expect("graph");
        let top = &self.layers.last().expect("layers").value;
        g.node.push(node_proto(
            "neuronmotif.target",
            "Flatten",
            &[top.as_str()],
            &["neuronmotif.target"],
            &[("axis", Attr::Int(1))],
        ));
        crate::autodiff::gradient_model(
            &proto,
            &[(&self.input, &self.input_shape(n))],
            "neuronmotif.target",
            &[&self.input],
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::build::GraphBuilder;
    use crate::graph::attr_ints;
    use prost::Message;

    /// conv(w) → [Pad] → relu → maxpool(p, stride s) → conv → relu.
    fn chain(pool: (i64, i64), residual: bool, avg: bool) -> Model {
        let mut g = GraphBuilder::new("chain");
        g.input("x", &[Dim::Symbol("N".into()), Dim::Fixed(4), Dim::Fixed(40)]);
        g.initializer("w1", &[3, 4, 5], &[0.1; 60]);
        g.initializer("b1", &[3], &[0.0; 3]);
        g.initializer("w2", &[2, 3, 3], &[0.1; 18]);
        g.node(
            "Conv",
            &["x", "w1", "b1"],
            &["c1"],
            &[("kernel_shape", Attr::Ints(vec![5])), ("pads", Attr::Ints(vec![2, 2]))],
        );
        g.node("Relu", &["c1"], &["r1"], &[]);
        let pool_op = if avg { "AveragePool" } else { "MaxPool" };
        g.node(
            pool_op,
            &["r1"],
            &["p1"],
            &[("kernel_shape", Attr::Ints(vec![pool.0])), ("strides", Attr::Ints(vec![pool.1]))],
        );
        let into2 = if residual {
            g.node("Relu", &["p1"], &["q1"], &[]);
            g.node("Add", &["p1", "q1"], &["sum"], &[]);
            "sum"
        } else {
            "p1"
        };
        g.node("Conv", &[into2, "w2"], &["c2"], &[("kernel_shape", Attr::Ints(vec![3]))]);
        g.node("Relu", &["c2"], &["y"], &[]);
        g.output_any("y");
        Model::from_bytes(&g.to_bytes(), std::path::Path::new("chain.onnx")).unwrap()
    }

    #[test]
    fn geometry_follows_get_rf() {
        let w = Windowed::new(&chain((2, 2), false, false), 1).unwrap();
        // getRF([5,3],[2]): (1 + 2)·2 + 4 = 10.
        assert_eq!(w.window, 10);
        assert_eq!(w.layers[0].receptive_field, 5);
        assert_eq!(w.layers[0].pool, 2);
        assert_eq!(w.layers[1].jump, 2);
        assert_eq!(w.layers[1].value, "c2");
        let shapes = w.probe(7).unwrap();
        assert_eq!(shapes[0], vec![7, 3, 6]);
        assert_eq!(shapes[1], vec![7, 2, 1]);
        // Padding is gone from the conv.
        let g = w.proto.graph.as_ref().unwrap();
        assert!(g.node.iter().all(|n| attr_ints(n, "pads").is_none()));
        let _ = w.proto.encode_to_vec();
        let gm = w.gradient_model(4).unwrap();
        assert!(gm.graph.unwrap().output.iter().any(|o| o.name() == "grad.x"));
    }

    #[test]
    fn uncovered_structures_name_the_node() {
        let e = Windowed::new(&chain((3, 2), false, false), 1).unwrap_err().to_string();
        assert!(e.contains("overlapping pool") && e.contains("MaxPool"), "{e}");
        let e = Windowed::new(&chain((2, 2), false, true), 1).unwrap_err().to_string();
        assert!(e.contains("average pooling") && e.contains("p1"), "{e}");
        let e = Windowed::new(&chain((2, 2), false, false), 5).unwrap_err().to_string();
        assert!(e.contains("2 conv layer"), "{e}");
        let e = Windowed::new(&chain((2, 2), true, false), 1).unwrap_err().to_string();
        assert!(e.contains("residual") && e.contains("`Add_sum`") && e.contains("Add"), "{e}");
    }
}
