//! Train-step and evaluation graphs.
//!
//! [`train_step_model`] turns an inference model into one Adam step:
//!
//! - inputs: the model input, `labels` (shaped like the output), `mask`
//!   (optional, one value per channel of a masked tensor), `lr_t` (Adam's
//!   bias-corrected step size, computed by the caller), then for each
//!   trained parameter `p`: `p`, `adam.m.p`, `adam.v.p`;
//! - outputs: `loss`, then `p.next`, `adam.m.p.next`, `adam.v.p.next` for
//!   each parameter.
//!
//! The loss is binary cross-entropy averaged over every output, on logits
//! when the output comes out of a Sigmoid (its input is used, which is
//! exact and stable), else on probabilities clipped to [1e−7, 1 − 1e−7] as
//! Keras does; plus `l1·Σ|w| + l2·Σw²` over the regularised weights. The
//! Adam update follows Keras: m ← β₁m + (1−β₁)g, v ← β₂v + (1−β₂)g²,
//! p ← p − `lr_t·m/(√v` + ε) with `lr_t` = lr·√(1−β₂ᵗ)/(1−β₁ᵗ).
//!
//! [`eval_model`] is the same graph without the update: `loss` and the
//! model output for given parameters.

use crate::build::{node_proto, value_info};
use crate::error::{Error, Result};
use crate::graph::{attr_float, node_label};
use crate::pb::{GraphProto, ModelProto, NodeProto};
use crate::structure::Dim;

use super::emit::Ctx;
use super::shapes::{Elem, Info, Shapes};
use super::{append_backward, identity, opset};

/// Adam's constants (Keras defaults).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Adam {
    /// β₁.
    pub beta1: f32,
    /// β₂.
    pub beta2: f32,
    /// ε.
    pub epsilon: f32,
}

impl Default for Adam {
    fn default() -> Self {
        Self { beta1: 0.9, beta2: 0.999, epsilon: 1e-7 }
    }
}

impl Adam {
    /// Bias-corrected step size at step `t` (1-based) for learning rate `lr`.
    #[must_use]
    pub fn lr_t(&self, lr: f64, t: u64) -> f32 {
        let t = t as i32;
        (lr * (1.0 - f64::from(self.beta2).powi(t)).sqrt() / (1.0 - f64::from(self.beta1).powi(t)))
            as f32
    }
}

/// What to build.
#[derive(Debug, Clone)]
pub struct TrainSpec {
    /// The model input and its concrete (batch) shape.
    pub input: (String, Vec<usize>),
    /// The output trained against the labels.
    pub output: String,
    /// Parameters (initializers) to train.
    pub params: Vec<String>,
    /// Parameters whose L1/L2 penalties count.
    pub regularized: Vec<String>,
    /// L1 strength.
    pub l1: f32,
    /// L2 strength.
    pub l2: f32,
    /// A tensor whose channels (axis 1) are multiplied by a `mask` input.
    pub mask: Option<String>,
    /// Adam's constants.
    pub adam: Adam,
}

/// Names the graphs use.
pub mod names {
    /// Labels input.
    pub const LABELS: &str = "labels";
    /// Mask input.
    pub const MASK: &str = "mask";
    /// Bias-corrected learning rate input.
    pub const LR: &str = "lr_t";
    /// Loss output.
    pub const LOSS: &str = "loss";
    /// Adam first moment of parameter `p`.
    #[must_use]
    pub fn m(p: &str) -> String {
        format!("adam.m.{p}")
    }
    /// Adam second moment of parameter `p`.
    #[must_use]
    pub fn v(p: &str) -> String {
        format!("adam.v.{p}")
    }
    /// Updated value of `t`.
    #[must_use]
    pub fn next(t: &str) -> String {
        format!("{t}.next")
    }
}

fn err(msg: String) -> Error {
    Error::Node { node: "graph".into(), op: "train".into(), msg }
}

/// The parameters worth training in `model`: float initializers of rank ≥ 1
/// that an op reads as a trained parameter ([`super::param_role`]: Conv,
/// ConvTranspose, Gemm, MatMul, BatchNormalization's scale and bias, not
/// its running statistics, and elementwise Add/Sub/Mul, Keras' folded
/// BatchNorm). The second list holds the dense weights (Gemm/MatMul
/// operands), which L1/L2 penalise, as Keras' `kernel_regularizer` on the
/// Dense layer does in Deepprune.
#[must_use]
pub fn default_params(model: &ModelProto) -> (Vec<String>, Vec<String>) {
    let Some(g) = model.graph.as_ref() else { return (vec![], vec![]) };
    let mut params = Vec::new();
    let mut dense = Vec::new();
    for t in &g.initializer {
        let float = matches!(
            crate::pb::tensor_proto::DataType::try_from(t.data_type()),
            Ok(crate::pb::tensor_proto::DataType::Float)
        );
        if !float || t.dims.is_empty() {
            continue;
        }
        let name = t.name();
        let mut trained = false;
        let mut is_dense = false;
        for n in &g.node {
            for (k, i) in n.input.iter().enumerate() {
                if i != name {
                    continue;
                }
                if let Some(role) = super::param_role(n.op_type(), k) {
                    trained |= role.trained;
                    is_dense |= role.dense;
                }
            }
        }
        if trained {
            params.push(name.to_owned());
            if is_dense {
                dense.push(name.to_owned());
            }
        }
    }
    (params, dense)
}

/// Replaces inference BatchNormalization nodes by elementary ops, so that
/// their scale and bias can be graph inputs on every engine.
fn lower_batchnorm(g: &mut GraphProto, shapes: &Shapes, cx: &mut Ctx) -> Result<()> {
    let mut out = Vec::with_capacity(g.node.len());
    for n in std::mem::take(&mut g.node) {
        if n.op_type() != "BatchNormalization" {
            out.push(n);
            continue;
        }
        let xs = shapes.shape(&n.input[0]).to_vec();
        if xs.len() < 2 {
            return Err(crate::graph::node_err(&n, "input rank below 2"));
        }
        let mut c = vec![1; xs.len()];
        c[1] = xs[1];
        let eps = cx.scalar(attr_float(&n, "epsilon").unwrap_or(1e-5));
        let before = cx.nodes.len();
        let ve = cx.op("Add", &[&n.input[4], &eps], &[]);
        let sd = cx.op("Sqrt", &[&ve], &[]);
        let a = cx.op("Div", &[&n.input[1], &sd], &[]);
        let ar = cx.reshape(&a, &c);
        let mr = cx.reshape(&n.input[3], &c);
        let br = cx.reshape(&n.input[2], &c);
        let centred = cx.op("Sub", &[&n.input[0], &mr], &[]);
        let scaled = cx.op("Mul", &[&centred, &ar], &[]);
        let mut last = node_proto(&node_label(&n), "Add", &[&scaled, &br], &[&n.output[0]], &[]);
        last.doc_string = Some("BatchNormalization (inference) as elementary ops".into());
        out.extend(cx.nodes.drain(before..));
        out.push(last);
    }
    g.node = out;
    Ok(())
}

/// Multiplies the channels (axis 1) of tensor `t` by input `mask` for every
/// consumer of `t`.
fn insert_mask(g: &mut GraphProto, shapes: &Shapes, t: &str, cx: &mut Ctx) -> Result<usize> {
    let s = shapes.get(t).ok_or_else(|| err(format!("no tensor `{t}` to mask")))?.shape.clone();
    if s.len() < 2 {
        return Err(err(format!("`{t}` has rank {}; a mask needs channels on axis 1", s.len())));
    }
    let mut shape = vec![1; s.len()];
    shape[1] = s[1];
    let masked = format!("{t}.masked");
    for n in &mut g.node {
        for i in &mut n.input {
            if i == t {
                i.clone_from(&masked);
            }
        }
    }
    for o in &mut g.output {
        if o.name() == t {
            return Err(err(format!("`{t}` is a graph output; mask the tensor before it")));
        }
    }
    let pos = g.node.iter().position(|n| n.output.iter().any(|o| o == t)).map_or(0, |p| p + 1);
    let before = cx.nodes.len();
    let r = cx.reshape(names::MASK, &shape);
    let mul = node_proto(&masked, "Mul", &[t, &r], &[&masked], &[]);
    let mut new: Vec<NodeProto> = cx.nodes.drain(before..).collect();
    new.push(mul);
    for (k, n) in new.into_iter().enumerate() {
        g.node.insert(pos + k, n);
    }
    Ok(s[1])
}

struct Built {
    model: ModelProto,
    shapes: Shapes,
    opset: i64,
    /// Logits (or probabilities) tensor and whether they are logits.
    head: (String, bool),
    count: usize,
    out_shape: Vec<usize>,
}

/// Shared front: parameters as inputs, BatchNorm lowered, mask inserted.
fn build(model: &ModelProto, spec: &TrainSpec) -> Result<Built> {
    let mut model = model.clone();
    let op = opset(&model);
    let g = model.graph.as_mut().ok_or_else(|| err("the model has no graph".into()))?;
    g.value_info.clear();
    for p in &spec.params {
        let k = g
            .initializer
            .iter()
            .position(|t| t.name() == p)
            .ok_or_else(|| err(format!("no initializer `{p}` to train")))?;
        let t = g.initializer.remove(k);
        let dims: Vec<Dim> = t.dims.iter().map(|&d| Dim::Fixed(d as usize)).collect();
        g.input.push(value_info(p, &dims));
    }
    let (xname, xshape) = &spec.input;
    let mut given: Vec<(&str, &[usize])> = vec![(xname.as_str(), xshape.as_slice())];
    let first = Shapes::infer(g, &given)?;
    let mut cx = Ctx::new(&first, op, "train");
    lower_batchnorm(g, &first, &mut cx)?;
    let mask_len = spec.mask.as_deref().map(|t| insert_mask(g, &first, t, &mut cx)).transpose()?;
    let (_, mut consts) = cx.into_parts();
    g.initializer.append(&mut consts);
    let mask_shape = [mask_len.unwrap_or(0)];
    if let Some(k) = mask_len {
        g.input.push(value_info(names::MASK, &[Dim::Fixed(k)]));
        given.push((names::MASK, &mask_shape));
    }
    let shapes = Shapes::infer(g, &given)?;
    let out_info = shapes
        .get(&spec.output)
        .ok_or_else(|| err(format!("no output `{}`", spec.output)))?
        .clone();
    if out_info.elem != Elem::Float {
        return Err(err(format!("output `{}` is not float", spec.output)));
    }
    let producer = g.node.iter().find(|n| n.output.first().is_some_and(|o| *o == spec.output));
    let head = match producer {
        Some(n) if n.op_type() == "Sigmoid" => (n.input[0].clone(), true),
        _ => (spec.output.clone(), false),
    };
    let count = out_info.shape.iter().product::<usize>().max(1);
    Ok(Built { model, shapes, opset: op, head, count, out_shape: out_info.shape })
}

/// Adds the loss nodes; returns (loss tensor, d loss / d head).
fn loss_nodes(b: &Built, spec: &TrainSpec, cx: &mut Ctx) -> (String, String) {
    let y = names::LABELS;
    let inv_n = cx.scalar(1.0 / b.count as f32);
    let (head, logits) = (b.head.0.as_str(), b.head.1);
    let one = cx.scalar(1.0);
    let (per, dhead) = if logits {
        // max(z, 0) − z·y + log(1 + e^−|z|)
        let r = cx.op("Relu", &[head], &[]);
        let zy = cx.op("Mul", &[head, y], &[]);
        let a = cx.op("Abs", &[head], &[]);
        let na = cx.op("Neg", &[&a], &[]);
        let e = cx.op("Exp", &[&na], &[]);
        let e1 = cx.op("Add", &[&e, &one], &[]);
        let l = cx.op("Log", &[&e1], &[]);
        let t = cx.op("Sub", &[&r, &zy], &[]);
        let per = cx.op("Add", &[&t, &l], &[]);
        // (σ(z) − y)/n
        let p = cx.op("Sigmoid", &[head], &[]);
        let d = cx.op("Sub", &[&p, y], &[]);
        (per, cx.op("Mul", &[&d, &inv_n], &[]))
    } else {
        let lo = cx.scalar(1e-7);
        let hi = cx.scalar(1.0 - 1e-7);
        let p = cx.op("Clip", &[head, &lo, &hi], &[]);
        let lp = cx.op("Log", &[&p], &[]);
        let q = cx.op("Sub", &[&one, &p], &[]);
        let lq = cx.op("Log", &[&q], &[]);
        let ny = cx.op("Sub", &[&one, y], &[]);
        let a = cx.op("Mul", &[y, &lp], &[]);
        let c = cx.op("Mul", &[&ny, &lq], &[]);
        let s = cx.op("Add", &[&a, &c], &[]);
        let per = cx.op("Neg", &[&s], &[]);
        // (p − y)/(p(1 − p))/n, zero where the clip holds p.
        let d = cx.op("Sub", &[&p, y], &[]);
        let pq = cx.op("Mul", &[&p, &q], &[]);
        let r = cx.op("Div", &[&d, &pq], &[]);
        let r = cx.op("Mul", &[&r, &inv_n], &[]);
        let inside = cx.op("Equal", &[&p, head], &[]);
        let zero = cx.scalar(0.0);
        (per, cx.op("Where", &[&inside, &r, &zero], &[]))
    };
    let axes: Vec<usize> = (0..b.out_shape.len()).collect();
    let total = cx.reduce_sum(&per, &axes, false);
    let mut loss = cx.op("Mul", &[&total, &inv_n], &[]);
    for p in &spec.regularized {
        let rank = b.shapes.shape(p).len();
        if spec.l1 > 0.0 {
            let a = cx.op("Abs", &[p], &[]);
            let r = all_sum(cx, &a, rank);
            let k = cx.scalar(spec.l1);
            let t = cx.op("Mul", &[&r, &k], &[]);
            loss = cx.op("Add", &[&loss, &t], &[]);
        }
        if spec.l2 > 0.0 {
            let sq = cx.op("Mul", &[p, p], &[]);
            let r = all_sum(cx, &sq, rank);
            let k = cx.scalar(spec.l2);
            let t = cx.op("Mul", &[&r, &k], &[]);
            loss = cx.op("Add", &[&loss, &t], &[]);
        }
    }
    let id = identity(&loss, names::LOSS);
    cx.nodes.push(id);
    (names::LOSS.to_owned(), dhead)
}

fn all_sum(cx: &mut Ctx, t: &str, rank: usize) -> String {
    let axes: Vec<usize> = (0..rank).collect();
    cx.reduce_sum(t, &axes, false)
}

fn finish_io(g: &mut GraphProto, b_out: &[usize], x: &(String, Vec<usize>), lr: bool) {
    for i in &mut g.input {
        if i.name() == x.0 {
            *i = value_info(&x.0, &fixed(&x.1));
        }
    }
    g.input.push(value_info(names::LABELS, &fixed(b_out)));
    if lr {
        g.input.push(value_info(names::LR, &[]));
    }
}

/// The train-step model for `spec` (see the module docs).
///
/// # Errors
/// If a parameter or the output is unknown, a node on the path has no
/// gradient rule, or shapes cannot be inferred.
pub fn train_step_model(model: &ModelProto, spec: &TrainSpec) -> Result<ModelProto> {
    let mut b = build(model, spec)?;
    let mut cx = Ctx::new(&b.shapes, b.opset, "loss");
    let (loss, dhead) = loss_nodes(&b, spec, &mut cx);
    let (mut nodes, mut consts) = cx.into_parts();
    let mut shapes = b.shapes.clone();
    let hs = shapes.shape(&b.head.0).to_vec();
    shapes.set(&dhead, Info { shape: hs, elem: Elem::Float, ints: None });
    let g = b.model.graph.as_mut().expect("graph");
    g.node.append(&mut nodes);
    g.initializer.append(&mut consts);
    let wrt: Vec<&str> = spec.params.iter().map(String::as_str).collect();
    let grads = append_backward(g, b.opset, &shapes, &b.head.0, &dhead, &wrt)?;
    let mut cx = Ctx::new(&shapes, b.opset, "adam");
    let a = spec.adam;
    let (b1, b2) = (cx.scalar(a.beta1), cx.scalar(a.beta2));
    let (c1, c2) = (cx.scalar(1.0 - a.beta1), cx.scalar(1.0 - a.beta2));
    let eps = cx.scalar(a.epsilon);
    let mut outputs = vec![(loss, vec![])];
    let mut new_inputs = Vec::new();
    for (p, gname) in spec.params.iter().zip(grads) {
        let pshape = shapes.shape(p).to_vec();
        let mut gsum = gname;
        if spec.regularized.contains(p) {
            if spec.l1 > 0.0 {
                let sg = cx.op("Sign", &[p], &[]);
                let k = cx.scalar(spec.l1);
                let t = cx.op("Mul", &[&sg, &k], &[]);
                gsum = cx.op("Add", &[&gsum, &t], &[]);
            }
            if spec.l2 > 0.0 {
                let k = cx.scalar(2.0 * spec.l2);
                let t = cx.op("Mul", &[p, &k], &[]);
                gsum = cx.op("Add", &[&gsum, &t], &[]);
            }
        }
        let (m, v) = (names::m(p), names::v(p));
        let m1 = cx.op("Mul", &[&m, &b1], &[]);
        let m2 = cx.op("Mul", &[&gsum, &c1], &[]);
        let mn = cx.op("Add", &[&m1, &m2], &[]);
        let g2 = cx.op("Mul", &[&gsum, &gsum], &[]);
        let v1 = cx.op("Mul", &[&v, &b2], &[]);
        let v2 = cx.op("Mul", &[&g2, &c2], &[]);
        let vn = cx.op("Add", &[&v1, &v2], &[]);
        let sq = cx.op("Sqrt", &[&vn], &[]);
        let den = cx.op("Add", &[&sq, &eps], &[]);
        let step = cx.op("Div", &[&mn, &den], &[]);
        let step = cx.op("Mul", &[&step, names::LR], &[]);
        let pn = cx.op("Sub", &[p, &step], &[]);
        for (src, dst) in [(pn, names::next(p)), (mn, names::next(&m)), (vn, names::next(&v))] {
            cx.nodes.push(identity(&src, &dst));
            outputs.push((dst, pshape.clone()));
        }
        new_inputs.push((m, pshape.clone()));
        new_inputs.push((v, pshape));
    }
    let (mut nodes, mut consts) = cx.into_parts();
    g.node.append(&mut nodes);
    g.initializer.append(&mut consts);
    finish_io(g, &b.out_shape, &spec.input, true);
    for (n, s) in new_inputs {
        g.input.push(value_info(&n, &fixed(&s)));
    }
    g.output.clear();
    for (n, s) in outputs {
        g.output.push(value_info(&n, &fixed(&s)));
    }
    Ok(b.model)
}

fn fixed(d: &[usize]) -> Vec<Dim> {
    d.iter().map(|&v| Dim::Fixed(v)).collect()
}

/// The evaluation model: the train step's inputs without `lr_t` and the
/// Adam moments; outputs `loss` and the model output.
///
/// # Errors
/// As [`train_step_model`].
pub fn eval_model(model: &ModelProto, spec: &TrainSpec) -> Result<ModelProto> {
    let mut b = build(model, spec)?;
    let mut cx = Ctx::new(&b.shapes, b.opset, "loss");
    let _ = loss_nodes(&b, spec, &mut cx);
    let (mut nodes, mut consts) = cx.into_parts();
    let g = b.model.graph.as_mut().expect("graph");
    g.node.append(&mut nodes);
    g.initializer.append(&mut consts);
    finish_io(g, &b.out_shape, &spec.input, false);
    g.output.clear();
    g.output.push(value_info(names::LOSS, &[]));
    g.output.push(value_info(&spec.output, &fixed(&b.out_shape)));
    Ok(b.model)
}
