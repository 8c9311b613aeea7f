//! Reverse-mode automatic differentiation, ONNX → ONNX.
//!
//! [`append_backward`] adds to a graph the nodes computing the gradient of
//! one tensor (weighted by a seed tensor of the same shape) with respect to
//! chosen inputs or initializers. Each op's rule is a [`GradRule`]
//! registered with [`register_grad_rule!`](crate::register_grad_rule);
//! [`supported_ops`] lists them. The result is an ordinary ONNX graph that
//! any engine runs.
//!
//! Shapes are static: the graph is differentiated for one set of input
//! shapes ([`Shapes::infer`]), which every rule may read.
//!
//! # Example
//! ```no_run
//! # let model: motif_onnx::pb::ModelProto = Default::default();
//! use motif_onnx::autodiff::gradient_model;
//! // d(sum(seed · y))/dx and /d(conv.weight) for a batch of 8 × 101 bp.
//! let g = gradient_model(&model, &[("x", &[8, 4, 101])], "y", &["x", "conv.weight"])?;
//! // inputs: x, grad_seed (shaped like y); outputs: y, grad.x, grad.conv.weight
//! # Ok::<(), motif_onnx::Error>(())
//! ```

pub mod deeplift;
mod emit;
mod rules;
pub mod shapes;
pub mod train;

use std::collections::{HashMap, HashSet};

pub use emit::Ctx;
pub use rules::{
    GradRule, Init, ParamEntry, ParamRole, ParamRule, RuleEntry, ShapeEntry, ShapeRule, param_role,
    rule_for, shape_rule_for, supported_ops,
};
pub use shapes::{Elem, Info, Shapes};

use crate::error::{Error, Result};
use crate::graph::node_err;
use crate::pb::{GraphProto, ModelProto, NodeProto};

/// The oldest opset gradient graphs are written for.
pub const MIN_OPSET: i64 = 11;

/// The default-domain opset of `model`.
#[must_use]
pub fn opset(model: &ModelProto) -> i64 {
    model
        .opset_import
        .iter()
        .find(|o| o.domain.as_deref().unwrap_or("").is_empty() || o.domain() == "ai.onnx")
        .and_then(|o| o.version)
        .unwrap_or(1)
}

fn graph_err(msg: String) -> Error {
    Error::Node { node: "graph".into(), op: "autodiff".into(), msg }
}

/// Appends to `graph` the nodes computing d(Σ seed · target)/d(w) for each
/// `w` in `wrt` (inputs or initializers), and returns the gradient tensor
/// names in `wrt` order. `shapes` must cover the graph and `seed` (a tensor
/// shaped like `target`). Tensors `wrt` do not reach get zero gradients.
///
/// # Errors
/// If a `wrt` tensor is unknown or not float, the opset is older than
/// [`MIN_OPSET`], or a node between `wrt` and `target` has no rule or uses
/// a form its rule does not cover (the error names the node).
pub fn append_backward(
    graph: &mut GraphProto,
    opset: i64,
    shapes: &Shapes,
    target: &str,
    seed: &str,
    wrt: &[&str],
) -> Result<Vec<String>> {
    if opset < MIN_OPSET {
        return Err(graph_err(format!(
            "the model uses opset {opset}; gradients need opset {MIN_OPSET} or newer (re-export it)"
        )));
    }
    for w in wrt {
        match shapes.get(w) {
            None => return Err(graph_err(format!("no tensor named `{w}` to differentiate by"))),
            Some(i) if i.elem != Elem::Float => {
                return Err(graph_err(format!("`{w}` is not a float tensor")));
            }
            Some(_) => {}
        }
    }
    if shapes.get(target).is_none() {
        return Err(graph_err(format!("no tensor named `{target}` to differentiate")));
    }
    let mut cx = Ctx::new(shapes, opset, "grad");
    let out = backward_pass(graph, &mut cx, target, seed, wrt, &Gradient)?;
    graph.node.append(&mut cx.nodes);
    graph.initializer.append(&mut cx.consts);
    Ok(out)
}

/// How a backward pass treats each node on the path: which rule writes its
/// input gradients (the gradient rules, or DeepLIFT's multiplier rules).
pub(crate) trait Pass {
    /// Refuses a node the pass has no rule for (naming it).
    fn check(&self, n: &NodeProto) -> Result<()>;
    /// The node's input gradients given `dy`, as [`GradRule::backward`].
    fn apply(
        &self,
        cx: &mut Ctx,
        n: &NodeProto,
        dy: &str,
        needs: &[bool],
    ) -> Result<Vec<Option<String>>>;
}

/// The ordinary gradient: each op's [`GradRule`].
struct Gradient;
impl Pass for Gradient {
    fn check(&self, n: &NodeProto) -> Result<()> {
        if rule_for(n.op_type()).is_none() {
            return Err(node_err(
                n,
                format!(
                    "op `{}` has no gradient rule (rules exist for: {})",
                    n.op_type(),
                    supported_ops().join(", ")
                ),
            ));
        }
        Ok(())
    }
    fn apply(
        &self,
        cx: &mut Ctx,
        n: &NodeProto,
        dy: &str,
        needs: &[bool],
    ) -> Result<Vec<Option<String>>> {
        rule_for(n.op_type()).expect("checked").backward(cx, n, dy, needs)
    }
}

/// Writes into `cx` the backward pass of `graph` from `target` (seeded by
/// `seed`) to each of `wrt`, node by node through `pass`, and returns the
/// gradient tensor names in `wrt` order (unreached ones are zeros). Nodes
/// nothing reads are pruned.
pub(crate) fn backward_pass(
    graph: &GraphProto,
    cx: &mut Ctx,
    target: &str,
    seed: &str,
    wrt: &[&str],
    pass: &dyn Pass,
) -> Result<Vec<String>> {
    let shapes = cx.shapes();
    // Tensors that depend on a `wrt` (through float values only).
    let mut live: HashSet<&str> = wrt.iter().copied().collect();
    for n in &graph.node {
        if n.input.iter().any(|i| live.contains(i.as_str())) {
            for o in &n.output {
                if shapes.is_float(o) {
                    live.insert(o);
                }
            }
        }
    }
    // Tensors the target depends on.
    let mut needed: HashSet<&str> = HashSet::from([target]);
    for n in graph.node.iter().rev() {
        if n.output.iter().any(|o| needed.contains(o.as_str())) {
            needed.extend(n.input.iter().map(String::as_str));
        }
    }
    let path: Vec<&NodeProto> = graph
        .node
        .iter()
        .filter(|n| {
            // A node whose outputs are all integers (Shape, Size) reads a
            // live tensor's shape, not its values: no gradient flows.
            n.output.iter().any(|o| needed.contains(o.as_str()) && live.contains(o.as_str()))
                && n.input.iter().any(|i| live.contains(i.as_str()))
        })
        .collect();
    for n in &path {
        pass.check(n)?;
    }
    let mut grads: HashMap<String, Vec<String>> = HashMap::new();
    grads.insert(target.to_owned(), vec![seed.to_owned()]);
    for n in path.iter().rev() {
        let Some(parts) = n.output.first().and_then(|o| grads.remove(o)) else { continue };
        let dy = total(cx, parts);
        let needs: Vec<bool> = n.input.iter().map(|i| live.contains(i.as_str())).collect();
        let gs = pass.apply(cx, n, &dy, &needs)?;
        for (k, g) in gs.into_iter().enumerate() {
            if let (Some(g), true) = (g, needs.get(k).copied().unwrap_or(false)) {
                grads.entry(n.input[k].clone()).or_default().push(g);
            }
        }
    }
    let mut out = Vec::with_capacity(wrt.len());
    for w in wrt {
        let g = if let Some(parts) = grads.remove(*w) {
            total(cx, parts)
        } else {
            let s = cx.shape(w);
            let zeros = vec![0.0; s.iter().product()];
            cx.const_f32(&s, &zeros)
        };
        out.push(g);
    }
    cx.prune(&out);
    Ok(out)
}

/// An Identity node naming `src` as `dst`.
pub(crate) fn identity(src: &str, dst: &str) -> NodeProto {
    crate::build::node_proto(dst, "Identity", &[src], &[dst], &[])
}

/// The sum of gradient parts (one part: itself).
pub(crate) fn total(cx: &mut Ctx, mut parts: Vec<String>) -> String {
    if parts.len() == 1 {
        return parts.pop().expect("one part");
    }
    let refs: Vec<&str> = parts.iter().map(String::as_str).collect();
    cx.op("Sum", &refs, &[])
}

/// A gradient model: `model` with a `grad_seed` input shaped like `target`
/// and outputs `target` followed by `grad.<w>` for each `w` in `wrt`,
/// d(Σ `grad_seed` · target)/dw, for inputs of the given shapes.
///
/// # Errors
/// As [`append_backward`], and when shapes cannot be inferred.
pub fn gradient_model(
    model: &ModelProto,
    inputs: &[(&str, &[usize])],
    target: &str,
    wrt: &[&str],
) -> Result<ModelProto> {
    let mut model = model.clone();
    let opset = opset(&model);
    let graph = model.graph.as_mut().ok_or_else(|| graph_err("the model has no graph".into()))?;
    graph.value_info.clear();
    let mut shapes = Shapes::infer(graph, inputs)?;
    let tshape = shapes
        .get(target)
        .ok_or_else(|| graph_err(format!("no tensor named `{target}`")))?
        .shape
        .clone();
    let seed = "grad_seed";
    shapes.set(seed, Info { shape: tshape.clone(), elem: Elem::Float, ints: None });
    let names = append_backward(graph, opset, &shapes, target, seed, wrt)?;
    let fixed =
        |d: &[usize]| d.iter().map(|&v| crate::structure::Dim::Fixed(v)).collect::<Vec<_>>();
    graph.input.push(crate::build::value_info(seed, &fixed(&tshape)));
    graph.output.clear();
    graph.output.push(crate::build::value_info(target, &fixed(&tshape)));
    for (w, g) in wrt.iter().zip(&names) {
        let out = format!("grad.{w}");
        graph.node.push(identity(g, &out));
        graph.output.push(crate::build::value_info(&out, &fixed(shapes.shape(w))));
    }
    Ok(model)
}
