//! DeepLIFT as a graph rewrite: the *pair graph* of a model.
//!
//! [`deeplift_model`] turns a model into one graph with two members per
//! pair, the input `x` and a reference `r` of the same shape: both are run
//! forward (the reference through a renamed copy of every node that depends
//! on the input), and one backward pass carries DeepLIFT's multipliers
//! from the target to the input. Each op's multiplier rule is a
//! [`Multiplier`] registered beside its gradient rule in its family's file
//! ([`register_multiplier_rule!`](crate::register_multiplier_rule)):
//!
//! - [`Multiplier::Linear`]: affine ops (Conv, Gemm with constant weights,
//!   BatchNorm, Pad, Slice, Reshape, Add, AveragePool, …): the Jacobian,
//!   i.e. the gradient rule unchanged; biases cancel in Δ.
//! - [`Multiplier::Rescale`]: elementwise `y = φ(z)`: `g·Δy/Δz`, or the
//!   ordinary derivative at `x` where `|Δz| < τ` (τ = 1e-6, tangermeme's).
//! - [`Multiplier::CrossExtreme`]: MaxPool, GlobalMaxPool, ReduceMax,
//!   variadic Max (the strand merge) and their min forms: each window's
//!   whole Δ goes to the extreme element of whichever member has the more
//!   extreme pooled value, scatter-added over overlapping windows, divided
//!   by Δz (the ordinary gradient at `x` where Δz = 0).
//! - [`Multiplier::Midpoint`]: Mul, MatMul, Gemm with two varying operands:
//!   the gradient at the midpoint of the pair (the Shapley split of a
//!   bilinear op); with one varying operand it is linear.
//!
//! An op on the path without a rule is an error naming the node, never a
//! silent linearisation; [`DeepLiftOptions::linearize`] opts listed op
//! types into their plain gradient. Completeness holds per pair:
//! Σ (x − r)·m = f(x) − f(r), up to float rounding.

use std::collections::HashMap;

use crate::error::{Error, Result};
use crate::graph::node_err;
use crate::pb::{ModelProto, NodeProto};

use super::rules::input;
use super::{Ctx, Elem, Info, Pass, Shapes, backward_pass, identity, opset, rule_for, total};

/// How DeepLIFT propagates multipliers through an op.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Multiplier {
    /// Affine in every input that varies: the gradient rule.
    Linear,
    /// Affine in the listed inputs (a Div's numerator); refused when
    /// another input varies.
    LinearIn(&'static [usize]),
    /// Elementwise `y = φ(z)` of input 0 (other inputs constant): the
    /// Rescale rule.
    Rescale,
    /// A max (`max: true`) or min over windows, axes or operands: the
    /// cross-max rule.
    CrossExtreme {
        /// Max rather than min.
        max: bool,
    },
    /// Bilinear in two operands: the gradient at the pair's midpoint.
    Midpoint,
    /// A softmax over non-batch axes: tangermeme 1.6's exact decomposition
    /// `a = exp(z − c)`, `s = Σ a`, `v = 1/s`, `y = a·v` with log-space
    /// secants.
    Softmax,
}

/// A registered multiplier rule: the op types it covers.
pub struct MultiplierEntry {
    /// ONNX op types (default domain).
    pub ops: &'static [&'static str],
    /// The rule.
    pub rule: Multiplier,
}

inventory::collect!(MultiplierEntry);

/// Registers DeepLIFT's [`Multiplier`] for op types, beside the family's
/// gradient rules.
#[macro_export]
macro_rules! register_multiplier_rule {
    ([$($op:literal),+ $(,)?], $rule:expr) => {
        $crate::inventory::submit! {
            $crate::autodiff::deeplift::MultiplierEntry { ops: &[$($op),+], rule: $rule }
        }
    };
}

/// The multiplier rule of `op`, if one is registered.
#[must_use]
pub fn multiplier_for(op: &str) -> Option<Multiplier> {
    inventory::iter::<MultiplierEntry>.into_iter().find(|e| e.ops.contains(&op)).map(|e| e.rule)
}

/// Every op type with a multiplier rule, sorted.
#[must_use]
pub fn multiplier_ops() -> Vec<&'static str> {
    let mut v: Vec<_> = inventory::iter::<MultiplierEntry>
        .into_iter()
        .flat_map(|e| e.ops.iter().copied())
        .collect();
    v.sort_unstable();
    v.dedup();
    v
}

/// Settings of the pair graph.
#[derive(Debug, Clone, PartialEq)]
pub struct DeepLiftOptions {
    /// Rescale's fallback: where `|Δz| < tau` the ordinary derivative at
    /// `x` is used (tangermeme: 1e-6; Captum: 1e-10).
    pub tau: f32,
    /// Op types without a rule whose plain gradient is used instead (an
    /// explicit opt-in, to be recorded with the results).
    pub linearize: Vec<String>,
    /// Sub-graphs treated as one elementwise op under the Rescale rule.
    pub blocks: Vec<RescaleBlock>,
    /// References per input row `K`: the input member runs forward once
    /// per row of `input` (`n / K` rows) and is repeated for its `K` pairs
    /// (the reference batch is reference-major: pair `k·(n/K) + i` is row
    /// `i` with its reference `k`), which saves a third of the work of
    /// DeepSHAP's many references per sequence. 1: one input row per pair.
    pub references_per_input: usize,
}

impl Default for DeepLiftOptions {
    fn default() -> Self {
        Self { tau: 1e-6, linearize: Vec::new(), blocks: Vec::new(), references_per_input: 1 }
    }
}

/// A sub-graph from `input` to `output` (same shape) that DeepLIFT treats
/// as one elementwise map `y = φ(z)`: multiplier `g·Δy/Δz`, or where
/// `|Δz| < τ` the sub-graph's true vector-Jacobian product. bpnet-lite's
/// profile head is one: `z ↦ z ⊙ softmax(z)`, whose softmax couples
/// positions (`_ProfileLogitScaling`, registered there as a Rescale op).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RescaleBlock {
    /// The block's input tensor.
    pub input: String,
    /// The block's output tensor (produced by the block's last node).
    pub output: String,
    /// The tensors computed inside the block (its output included): their
    /// nodes need no rule of their own.
    pub inner: Vec<String>,
}

/// Name of the pair graph's reference input.
pub const REFERENCE: &str = "deeplift.reference";
/// Name of the pair graph's seed input (shaped like the target).
pub const SEED: &str = "grad_seed";
/// Name of the pair graph's multiplier output (shaped like the input).
pub const MULTIPLIERS: &str = "deeplift.multipliers";

fn twin(t: &str) -> String {
    format!("{t}~ref")
}

/// The pair graph of `model`: inputs `input` and [`REFERENCE`] (both of
/// shape `inputs`' entry for `input`, the pairs' batch), the model's other
/// inputs (shared by both members) and [`SEED`] shaped like `target`;
/// outputs `target` of the input, `target` of the reference (its name with
/// `~ref`), and [`MULTIPLIERS`], d*(Σ seed·target)/d`input` under
/// DeepLIFT's rules. With [`DeepLiftOptions::references_per_input`] `K >
/// 1`, `input` and its `target` have `1/K` of the pairs' rows.
///
/// # Errors
/// If shapes cannot be inferred, `input` or `target` is unknown, the opset
/// is too old, or a node between them has no multiplier rule (naming it);
/// with `K > 1`, also if the batch is not a multiple of `K` or the backward
/// pass reads an input-dependent tensor without the batch as its first
/// axis (build with `K = 1` and repeat the rows instead).
pub fn deeplift_model(
    model: &ModelProto,
    inputs: &[(&str, &[usize])],
    input_name: &str,
    target: &str,
    options: &DeepLiftOptions,
) -> Result<ModelProto> {
    let mut model = model.clone();
    let opset = opset(&model);
    if opset < super::MIN_OPSET {
        return Err(graph_err(format!(
            "the model uses opset {opset}; DeepLIFT needs opset {} or newer (re-export it)",
            super::MIN_OPSET
        )));
    }
    let graph = model.graph.as_mut().ok_or_else(|| graph_err("the model has no graph".into()))?;
    graph.value_info.clear();
    let Some(&(_, xshape)) = inputs.iter().find(|(n, _)| *n == input_name) else {
        return Err(graph_err(format!("no shape given for input `{input_name}`")));
    };
    // Every tensor computed from the input, and its reference twin.
    let mut pair: HashMap<String, String> =
        HashMap::from([(input_name.to_owned(), REFERENCE.to_owned())]);
    let mut copies = Vec::new();
    for (k, n) in graph.node.iter().enumerate() {
        if n.input.iter().any(|i| pair.contains_key(i)) {
            for o in &n.output {
                pair.insert(o.clone(), twin(o));
            }
            let mut c = n.clone();
            // Unique even where the exporter left node names empty.
            c.name = Some(format!("{}~ref{k}", n.name()));
            for t in c.input.iter_mut().chain(c.output.iter_mut()) {
                if let Some(r) = pair.get(t.as_str()) {
                    t.clone_from(r);
                }
            }
            copies.push(c);
        }
    }
    let Some(target_ref) = pair.get(target).cloned() else {
        return Err(graph_err(format!(
            "`{target}` does not depend on the input `{input_name}` (or does not exist)"
        )));
    };
    // Every tensor computed from the input (float or not).
    let branch: Vec<String> = pair.keys().cloned().collect();
    graph.node.extend(copies);
    let fixed =
        |d: &[usize]| d.iter().map(|&v| crate::structure::Dim::Fixed(v)).collect::<Vec<_>>();
    graph.input.push(crate::build::value_info(REFERENCE, &fixed(xshape)));
    let mut all: Vec<(&str, &[usize])> = inputs.to_vec();
    all.push((REFERENCE, xshape));
    let mut shapes = Shapes::infer(graph, &all)?;
    pair.retain(|t, _| shapes.is_float(t));
    let tshape = shapes.shape(target).to_vec();
    shapes.set(SEED, Info { shape: tshape.clone(), elem: Elem::Float, ints: None });
    let mut cx = Ctx::new(&shapes, opset, "dl").with_pair(pair);
    let out = {
        let graph: &crate::pb::GraphProto = graph;
        let pass = DeepLift { options, nodes: &graph.node };
        backward_pass(graph, &mut cx, target, SEED, &[input_name], &pass)?
    };
    let (mut nodes, mut consts) = cx.into_parts();
    let k = options.references_per_input.max(1);
    let mut xshape_out = tshape.clone();
    if k > 1 {
        share_input(&mut nodes, &mut consts, &branch, &shapes, xshape[0], k)?;
        xshape_out[0] = tshape[0] / k;
    }
    graph.node.append(&mut nodes);
    graph.initializer.append(&mut consts);
    graph.input.push(crate::build::value_info(SEED, &fixed(&tshape)));
    graph.output.clear();
    graph.output.push(crate::build::value_info(target, &fixed(&xshape_out)));
    graph.output.push(crate::build::value_info(&target_ref, &fixed(&tshape)));
    graph.node.push(identity(&out[0], MULTIPLIERS));
    graph.output.push(crate::build::value_info(MULTIPLIERS, &fixed(xshape)));
    Ok(model)
}

/// Points the backward nodes at the input member's tensors repeated `k`
/// times along the batch (`Tile`, reference-major), so the input member's
/// forward nodes run on `batch / k` rows.
fn share_input(
    nodes: &mut Vec<NodeProto>,
    consts: &mut Vec<crate::pb::TensorProto>,
    branch: &[String],
    shapes: &Shapes,
    batch: usize,
    k: usize,
) -> Result<()> {
    if !batch.is_multiple_of(k) {
        return Err(graph_err(format!("{batch} pairs are not {k} references per input row")));
    }
    let branch: std::collections::HashSet<&str> = branch.iter().map(String::as_str).collect();
    let mut tiled: Vec<String> = Vec::new();
    for n in nodes.iter_mut() {
        for t in &mut n.input {
            if !branch.contains(t.as_str()) {
                continue;
            }
            let s = shapes.shape(t);
            if !shapes.is_float(t) || s.first() != Some(&batch) {
                return Err(graph_err(format!(
                    "the backward pass reads `{t}` (shape {s:?}), which does not have the pairs' \
                     batch as its first axis: the input cannot be shared between references"
                )));
            }
            if !tiled.contains(t) {
                tiled.push(t.clone());
            }
            *t = format!("{t}~tiled");
        }
    }
    let mut front = Vec::with_capacity(tiled.len());
    for t in &tiled {
        let mut reps = vec![1i64; shapes.shape(t).len()];
        reps[0] = k as i64;
        let name = format!("{t}~tiles");
        consts.push(crate::tensor::from_i64(&name, &[reps.len()], &reps));
        let out = format!("{t}~tiled");
        front.push(crate::build::node_proto(&out, "Tile", &[t.as_str(), &name], &[&out], &[]));
    }
    front.append(nodes);
    *nodes = front;
    Ok(())
}

fn graph_err(msg: String) -> Error {
    Error::Node { node: "graph".into(), op: "deeplift".into(), msg }
}

/// The backward pass under DeepLIFT's multiplier rules.
struct DeepLift<'o> {
    options: &'o DeepLiftOptions,
    /// The nodes of the graph (for blocks' inner nodes).
    nodes: &'o [NodeProto],
}

impl DeepLift<'_> {
    /// The block `n` belongs to (computes one of its tensors).
    fn block_of(&self, n: &NodeProto) -> Option<&RescaleBlock> {
        self.options.blocks.iter().find(|b| n.output.iter().any(|o| b.inner.contains(o)))
    }

    fn rule(&self, op: &str) -> Option<Multiplier> {
        if self.options.linearize.iter().any(|l| l == op) {
            return Some(Multiplier::Linear);
        }
        multiplier_for(op)
    }
}

impl Pass for DeepLift<'_> {
    fn check(&self, n: &NodeProto) -> Result<()> {
        if self.block_of(n).is_some() {
            return Ok(());
        }
        if self.rule(n.op_type()).is_none() || rule_for(n.op_type()).is_none() {
            return Err(node_err(
                n,
                format!(
                    "op `{}` has no DeepLIFT rule, and treating it as linear would give wrong \
                     contributions (rules exist for: {}); to use its plain gradient anyway, \
                     linearize it explicitly",
                    n.op_type(),
                    multiplier_ops().join(", ")
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
        if let Some(b) = self.block_of(n) {
            return block(cx, n, b, (dy, needs), self.options.tau, self.nodes);
        }
        let grad = rule_for(n.op_type()).expect("checked");
        match self.rule(n.op_type()).expect("checked") {
            Multiplier::Linear => grad.backward(cx, n, dy, needs),
            Multiplier::LinearIn(ks) => {
                if let Some(k) = (0..needs.len()).find(|&k| needs[k] && !ks.contains(&k)) {
                    return Err(node_err(
                        n,
                        format!(
                            "input {k} (`{}`) depends on the sequence, and `{}` is only linear in \
                             input(s) {ks:?}: no DeepLIFT rule covers that",
                            input(n, k),
                            n.op_type()
                        ),
                    ));
                }
                grad.backward(cx, n, dy, needs)
            }
            Multiplier::Rescale => rescale(cx, n, dy, needs, self.options.tau),
            Multiplier::CrossExtreme { max } => cross_extreme(cx, n, dy, needs, max),
            Multiplier::Softmax => softmax(cx, n, dy, needs, self.options.tau),
            Multiplier::Midpoint => {
                let gx = grad.backward(cx, n, dy, needs)?;
                if needs.iter().filter(|&&v| v).count() < 2 {
                    return Ok(gx);
                }
                let rn = cx.reference_node(n);
                let gr = grad.backward(cx, &rn, dy, needs)?;
                let half = cx.scalar(0.5);
                Ok(gx
                    .into_iter()
                    .zip(gr)
                    .map(|(a, b)| match (a, b) {
                        (Some(a), Some(b)) => {
                            let s = cx.op("Add", &[&a, &b], &[]);
                            Some(cx.op("Mul", &[&s, &half], &[]))
                        }
                        (a, _) => a,
                    })
                    .collect())
            }
        }
    }
}

/// A [`RescaleBlock`] at its last node `n`: the multiplier of the block's
/// input, `dy·Δy/Δz` or the sub-graph's VJP where `|Δz| < tau`; the inner
/// nodes get nothing (their tensors' gradients are never asked for).
fn block(
    cx: &mut Ctx,
    n: &NodeProto,
    b: &RescaleBlock,
    (dy, needs): (&str, &[bool]),
    tau: f32,
    nodes: &[NodeProto],
) -> Result<Vec<Option<String>>> {
    if n.output.first() != Some(&b.output) {
        // An inner node reached from outside the block.
        return Err(node_err(
            n,
            format!("a tensor inside the block ending at `{}` is read elsewhere", b.output),
        ));
    }
    let vjp = block_vjp(cx, n, b, dy, nodes)?;
    let dz = delta(cx, n, &b.input)?;
    let dout = delta(cx, n, &b.output)?;
    let m = secant_or(cx, &dz, &dout, dy, &vjp, tau);
    let mut out = vec![None; needs.len()];
    let Some(k) = n.input.iter().position(|i| *i == b.input) else {
        return Err(node_err(n, format!("the block's last node does not read `{}`", b.input)));
    };
    out[k] = Some(m);
    Ok(out)
}

/// The ordinary gradient of the block's output (weighted by `dy`) with
/// respect to its input, through the inner nodes' gradient rules.
fn block_vjp(
    cx: &mut Ctx,
    last: &NodeProto,
    b: &RescaleBlock,
    dy: &str,
    all: &[NodeProto],
) -> Result<String> {
    let nodes: Vec<&NodeProto> =
        all.iter().filter(|n| n.output.iter().any(|o| b.inner.contains(o))).collect();
    let mut grads: HashMap<String, Vec<String>> =
        HashMap::from([(b.output.clone(), vec![dy.to_owned()])]);
    for n in nodes.iter().rev() {
        let Some(parts) = n.output.first().and_then(|o| grads.remove(o)) else { continue };
        let g = total(cx, parts);
        let needs: Vec<bool> =
            n.input.iter().map(|i| *i == b.input || b.inner.contains(i)).collect();
        let rule = rule_for(n.op_type()).ok_or_else(|| {
            node_err(n, format!("op `{}` inside the block has no gradient rule", n.op_type()))
        })?;
        for (k, gk) in rule.backward(cx, n, &g, &needs)?.into_iter().enumerate() {
            if let (Some(gk), true) = (gk, needs[k]) {
                grads.entry(n.input[k].clone()).or_default().push(gk);
            }
        }
    }
    let parts = grads.remove(&b.input).unwrap_or_default();
    if parts.is_empty() {
        return Err(node_err(last, format!("the block does not reach `{}`", b.input)));
    }
    Ok(total(cx, parts))
}

/// Δ of tensor `t` over the pair (x member minus reference member).
fn delta(cx: &mut Ctx, n: &NodeProto, t: &str) -> Result<String> {
    let r = cx
        .reference(t)
        .ok_or_else(|| node_err(n, format!("internal: `{t}` has no reference twin")))?
        .to_owned();
    Ok(cx.op("Sub", &[t, &r], &[]))
}

/// Rescale: `dy·Δy/Δz`, or the gradient rule's `dy·φ'(z_x)` where
/// `|Δz| < tau`.
fn rescale(
    cx: &mut Ctx,
    n: &NodeProto,
    dy: &str,
    needs: &[bool],
    tau: f32,
) -> Result<Vec<Option<String>>> {
    if let Some(k) = (1..needs.len()).find(|&k| needs[k]) {
        return Err(node_err(
            n,
            format!(
                "input {k} (`{}`) of the elementwise `{}` depends on the sequence: the Rescale \
                 rule needs it constant",
                input(n, k),
                n.op_type()
            ),
        ));
    }
    let mut out = rule_for(n.op_type()).expect("checked").backward(cx, n, dy, needs)?;
    let Some(plain) = out.first().cloned().flatten() else { return Ok(out) };
    let dz = delta(cx, n, input(n, 0))?;
    let dout = delta(cx, n, &n.output[0])?;
    out[0] = Some(secant_or(cx, &dz, &dout, dy, &plain, tau));
    Ok(out)
}

/// Rescale's multiplier: `dy·dout/dz` where `|dz| ≥ tau`, else `plain`
/// (the ordinary gradient). Written as a blend by a 0/1 mask rather than
/// `Where`, which ONNX Runtime runs at about twice the cost of a product:
/// with `s = [|dz| < tau]` and `m = dy·dout/(dz + s)`, `m + s·(plain − m)`
/// is `m` exactly where `s = 0` and `plain` to within rounding where `s = 1`.
fn secant_or(cx: &mut Ctx, dz: &str, dout: &str, dy: &str, plain: &str, tau: f32) -> String {
    let num = cx.op("Mul", &[dy, dout], &[]);
    ratio_or(cx, &num, dz, plain, tau)
}

/// `num/den`, or `fallback` where `|den| < tau`.
fn ratio_or(cx: &mut Ctx, num: &str, den: &str, fallback: &str, tau: f32) -> String {
    let abs = cx.op("Abs", &[den], &[]);
    let tau = cx.scalar(tau);
    let small = cx.op("Less", &[&abs, &tau], &[]);
    masked_ratio(cx, num, den, fallback, &small)
}

/// `num/den` where the boolean `mask` is false, `fallback` where it is
/// true, blended by the 0/1 float `s` of the mask rather than `Where`
/// (which ONNX Runtime runs at about twice the cost of a product): `q =
/// num/(den + s)`, then `q + s·(fallback − q)`.
fn masked_ratio(cx: &mut Ctx, num: &str, den: &str, fallback: &str, mask: &str) -> String {
    let s = cx.to_float(mask);
    let safe = cx.op("Add", &[den, &s], &[]);
    let q = cx.op("Div", &[num, &safe], &[]);
    let gap = cx.op("Sub", &[fallback, &q], &[]);
    let gap = cx.op("Mul", &[&gap, &s], &[]);
    cx.op("Add", &[&q, &gap], &[])
}

/// Softmax over axes `d` (never the batch): with `c = max(max_d z_x, max_d
/// z_r)`, `a = e^{z−c}`, `s = Σ_d a`, `v = 1/s`, `y = a·v` per member,
/// `R = Δy/Δlog y` (→ `y_r`), `Q = Δlog v/Δv` (→ `1/v_r`), `M = Δa/Δz`
/// (→ `a_r`) where the denominator is below `tau`, and `Δlog y = Δz +
/// Δlog v`, the multiplier is `g·R − M·v_x·v_r·Σ_d g·R·Q`; it conserves
/// exactly (`−v_x·v_r·Δs = Δv`). tangermeme 1.6's rule.
fn softmax(
    cx: &mut Ctx,
    n: &NodeProto,
    g: &str,
    needs: &[bool],
    tau: f32,
) -> Result<Vec<Option<String>>> {
    let axes = super::rules::softmax_axes(cx, n)?;
    if axes.contains(&0) {
        return Err(node_err(
            n,
            String::from(
                "a softmax over the batch axis mixes sequences: no DeepLIFT rule covers that",
            ),
        ));
    }
    let z = input(n, 0).to_owned();
    let zr = cx
        .reference(&z)
        .ok_or_else(|| node_err(n, format!("internal: `{z}` has no reference twin")))?
        .to_owned();
    let axes_i: Vec<i64> = axes.iter().map(|&a| a as i64).collect();
    let keep = ("keepdims", crate::build::Attr::Int(1));
    let reduce_max = |cx: &mut Ctx, t: &str| {
        if cx.opset() >= 18 {
            let a = cx.const_i64(&axes_i);
            cx.op("ReduceMax", &[t, &a], std::slice::from_ref(&keep))
        } else {
            cx.op(
                "ReduceMax",
                &[t],
                &[("axes", crate::build::Attr::Ints(axes_i.clone())), keep.clone()],
            )
        }
    };
    let (mx, mr) = (reduce_max(cx, &z), reduce_max(cx, &zr));
    let c = cx.op("Max", &[&mx, &mr], &[]);
    let tiny = cx.scalar(f32::MIN_POSITIVE);
    let one = cx.scalar(1.0);
    let member = |cx: &mut Ctx, t: &str| {
        let shifted = cx.op("Sub", &[t, &c], &[]);
        let a = cx.op("Exp", &[&shifted], &[]);
        let s = cx.reduce_sum(&a, &axes, true);
        let s = cx.op("Max", &[&s, &tiny], &[]);
        let v = cx.op("Div", &[&one, &s], &[]);
        let y = cx.op("Mul", &[&a, &v], &[]);
        (a, s, v, y)
    };
    let (a, _, v, y) = member(cx, &z);
    let (ar, sr, vr, yr) = member(cx, &zr);
    let dz = cx.op("Sub", &[&z, &zr], &[]);
    let da = cx.op("Sub", &[&a, &ar], &[]);
    let m = ratio_or(cx, &da, &dz, &ar, tau);
    let dy = cx.op("Sub", &[&y, &yr], &[]);
    let dv = cx.op("Sub", &[&v, &vr], &[]);
    let lv = cx.op("Log", &[&v], &[]);
    let lvr = cx.op("Log", &[&vr], &[]);
    let dlogv = cx.op("Sub", &[&lv, &lvr], &[]);
    let dlogy = cx.op("Add", &[&dz, &dlogv], &[]);
    let r = ratio_or(cx, &dy, &dlogy, &yr, tau);
    let q = ratio_or(cx, &dlogv, &dv, &sr, tau);
    let gr = cx.op("Mul", &[g, &r], &[]);
    let grq = cx.op("Mul", &[&gr, &q], &[]);
    let sum = cx.reduce_sum(&grq, &axes, true);
    let vv = cx.op("Mul", &[&v, &vr], &[]);
    let k = cx.op("Mul", &[&sum, &vv], &[]);
    let mk = cx.op("Mul", &[&m, &k], &[]);
    let mut out = vec![None; needs.len()];
    out[0] = Some(cx.op("Sub", &[&gr, &mk], &[]));
    Ok(out)
}

/// Cross-max: with pooled values `p_x`, `p_r` and `p* = max(p_x, p_r)`,
/// the gradient rule routes `dy·(p* − p_r)` to the extreme elements of the
/// input member and `dy·(p_x − p*)` to those of the reference member
/// (scatter-adding over windows); dividing by Δz gives the multiplier. An
/// element with Δz = 0 (which receives no share) takes the ordinary
/// gradient at `x`.
fn cross_extreme(
    cx: &mut Ctx,
    n: &NodeProto,
    dy: &str,
    needs: &[bool],
    max: bool,
) -> Result<Vec<Option<String>>> {
    let grad = rule_for(n.op_type()).expect("checked");
    let p = n.output[0].clone();
    let pr = cx
        .reference(&p)
        .ok_or_else(|| node_err(n, String::from("internal: the output has no reference twin")))?
        .to_owned();
    let star = cx.op(if max { "Max" } else { "Min" }, &[&p, &pr], &[]);
    let to_x = cx.op("Sub", &[&star, &pr], &[]);
    let to_x = cx.op("Mul", &[dy, &to_x], &[]);
    let to_r = cx.op("Sub", &[&p, &star], &[]);
    let to_r = cx.op("Mul", &[dy, &to_r], &[]);
    let from_x = grad.backward(cx, n, &to_x, needs)?;
    let rn = cx.reference_node(n);
    let from_r = grad.backward(cx, &rn, &to_r, needs)?;
    let plain = grad.backward(cx, n, dy, needs)?;
    let mut out = vec![None; needs.len()];
    for k in (0..needs.len()).filter(|&k| needs[k]) {
        let (Some(a), Some(b), Some(g)) = (&from_x[k], &from_r[k], &plain[k]) else { continue };
        let num = cx.op("Add", &[a, b], &[]);
        let dz = delta(cx, n, input(n, k))?;
        let zero = cx.scalar(0.0);
        let flat = cx.op("Equal", &[&dz, &zero], &[]);
        out[k] = Some(masked_ratio(cx, &num, &dz, g, &flat));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    /// Every op with a gradient rule either has a multiplier rule or is
    /// one DeepLIFT refuses on purpose, and no op has two.
    #[test]
    fn multiplier_rules_cover_the_gradient_ops() {
        let mut seen = HashSet::new();
        for e in inventory::iter::<MultiplierEntry> {
            for op in e.ops {
                assert!(seen.insert(*op), "`{op}` has two multiplier rules");
                assert!(rule_for(op).is_some(), "`{op}`: a multiplier rule but no gradient rule");
            }
        }
        // Internal log-softmaxes need their own rule (attribute the logits).
        let refused = ["LogSoftmax"];
        for op in super::super::supported_ops() {
            assert!(
                seen.contains(op) || refused.contains(&op),
                "`{op}` has a gradient rule but no multiplier rule"
            );
        }
        assert_eq!(multiplier_for("Relu"), Some(Multiplier::Rescale));
        assert_eq!(multiplier_for("MaxPool"), Some(Multiplier::CrossExtreme { max: true }));
        assert_eq!(multiplier_for("Conv"), Some(Multiplier::LinearIn(&[0])));
    }
}
