//! [`Ctx`]: what a gradient rule writes its nodes through.

use std::collections::HashMap;

use crate::build::{Attr, node_proto};
use crate::pb::{NodeProto, TensorProto, tensor_proto::DataType};
use crate::tensor::{from_f32, from_i64};

use super::shapes::Shapes;

/// A gradient that is zero except at one position per row along `axis`
/// (what a max over that axis sends back): the dense tensor is
/// `ScatterElements(zeros(shape), idx, upd, axis)`, with `idx` and `upd`
/// shaped like `shape` but 1 along `axis`. Rules that recognise it work on
/// `idx` and `upd` (a gather, a product, a sum over rows) instead of passes
/// over the dense tensor, which is then never computed: nodes whose outputs
/// nothing reads are dropped once the backward pass is written.
#[derive(Debug, Clone)]
pub struct Sparse {
    /// Shape of the dense gradient.
    pub shape: Vec<usize>,
    /// The axis holding one nonzero per row.
    pub axis: usize,
    /// int64 positions along `axis`.
    pub idx: String,
    /// The values there.
    pub upd: String,
    /// Forward tensors already read at `idx` (tensor → its values there,
    /// shaped like `upd`): a max's input is its output there.
    pub known: Vec<(String, String)>,
}

/// The gradient graph under construction: rules add nodes and constants
/// through it and read the forward graph's shapes from it.
#[derive(Debug)]
pub struct Ctx<'s> {
    shapes: &'s Shapes,
    opset: i64,
    pub(crate) nodes: Vec<NodeProto>,
    pub(crate) consts: Vec<TensorProto>,
    sparse: HashMap<String, Sparse>,
    scalars: HashMap<u32, String>,
    next: usize,
    prefix: String,
    /// DeepLIFT's pair graph: each tensor computed from the input → the
    /// same tensor computed from the reference.
    pair: HashMap<String, String>,
}

impl<'s> Ctx<'s> {
    pub(crate) fn new(shapes: &'s Shapes, opset: i64, prefix: &str) -> Self {
        Self {
            shapes,
            opset,
            nodes: Vec::new(),
            consts: Vec::new(),
            sparse: HashMap::new(),
            scalars: HashMap::new(),
            next: 0,
            prefix: prefix.to_owned(),
            pair: HashMap::new(),
        }
    }

    /// A context for DeepLIFT's pair graph, where `pair` maps each tensor
    /// computed from the input to its twin computed from the reference.
    pub(crate) fn with_pair(mut self, pair: HashMap<String, String>) -> Self {
        self.pair = pair;
        self
    }

    /// In a pair graph, the reference's twin of tensor `name`; `None` for a
    /// tensor that does not depend on the input (shared by both members).
    #[must_use]
    pub fn reference(&self, name: &str) -> Option<&str> {
        self.pair.get(name).map(String::as_str)
    }

    /// In a pair graph, node `n` as computed from the reference: every
    /// input and output that depends on the input renamed to its twin.
    #[must_use]
    pub fn reference_node(&self, n: &NodeProto) -> NodeProto {
        let mut r = n.clone();
        for t in r.input.iter_mut().chain(r.output.iter_mut()) {
            if let Some(twin) = self.pair.get(t.as_str()) {
                t.clone_from(twin);
            }
        }
        r
    }

    /// The nodes and constants written so far.
    #[must_use]
    pub fn into_parts(self) -> (Vec<NodeProto>, Vec<TensorProto>) {
        (self.nodes, self.consts)
    }

    /// Shapes of the forward graph's tensors.
    #[must_use]
    pub fn shapes(&self) -> &'s Shapes {
        self.shapes
    }

    /// Shape of forward tensor `name`.
    #[must_use]
    pub fn shape(&self, name: &str) -> Vec<usize> {
        self.shapes.shape(name).to_vec()
    }

    /// The opset the graph is written in.
    #[must_use]
    pub fn opset(&self) -> i64 {
        self.opset
    }

    /// A fresh tensor name.
    pub fn fresh(&mut self, hint: &str) -> String {
        self.next += 1;
        format!("{}{}.{hint}", self.prefix, self.next)
    }

    /// Adds node `op` with one output and returns the output's name.
    pub fn op(&mut self, op: &str, inputs: &[&str], attrs: &[(&str, Attr)]) -> String {
        let out = self.fresh(&op.to_ascii_lowercase());
        self.nodes.push(node_proto(&out, op, inputs, &[&out], attrs));
        out
    }

    /// A float constant.
    pub fn const_f32(&mut self, dims: &[usize], values: &[f32]) -> String {
        let name = self.fresh("const");
        self.consts.push(from_f32(&name, dims, values));
        name
    }

    /// A float scalar constant (shared between uses).
    pub fn scalar(&mut self, v: f32) -> String {
        if let Some(n) = self.scalars.get(&v.to_bits()) {
            return n.clone();
        }
        let n = self.const_f32(&[], &[v]);
        self.scalars.insert(v.to_bits(), n.clone());
        n
    }

    /// A 1-D int64 constant.
    pub fn const_i64(&mut self, values: &[i64]) -> String {
        self.const_i64_shaped(&[values.len()], values)
    }

    /// An int64 constant of shape `dims`.
    pub fn const_i64_shaped(&mut self, dims: &[usize], values: &[i64]) -> String {
        let name = self.fresh("const");
        self.consts.push(from_i64(&name, dims, values));
        name
    }

    /// Sum of `x` over `axes` (none: `x` itself).
    pub fn reduce_sum(&mut self, x: &str, axes: &[usize], keepdims: bool) -> String {
        if axes.is_empty() {
            return x.to_owned();
        }
        let keep = ("keepdims", Attr::Int(i64::from(keepdims)));
        let axes: Vec<i64> = axes.iter().map(|&a| a as i64).collect();
        if self.opset >= 13 {
            let a = self.const_i64(&axes);
            self.op("ReduceSum", &[x, &a], &[keep])
        } else {
            self.op("ReduceSum", &[x], &[("axes", Attr::Ints(axes)), keep])
        }
    }

    /// `x` reshaped to `shape`.
    pub fn reshape(&mut self, x: &str, shape: &[usize]) -> String {
        let s: Vec<i64> = shape.iter().map(|&d| d as i64).collect();
        let s = self.const_i64(&s);
        self.op("Reshape", &[x, &s], &[])
    }

    /// `x` broadcast to `shape`.
    pub fn expand(&mut self, x: &str, shape: &[usize]) -> String {
        let s: Vec<i64> = shape.iter().map(|&d| d as i64).collect();
        let s = self.const_i64(&s);
        self.op("Expand", &[x, &s], &[])
    }

    /// `x` with axes permuted.
    pub fn transpose(&mut self, x: &str, perm: &[usize]) -> String {
        self.op(
            "Transpose",
            &[x],
            &[("perm", Attr::Ints(perm.iter().map(|&p| p as i64).collect()))],
        )
    }

    /// A bool or int tensor as float.
    pub fn to_float(&mut self, x: &str) -> String {
        self.op("Cast", &[x], &[("to", Attr::Int(DataType::Float as i64))])
    }

    /// `x[starts:ends:steps]` along `axes`.
    pub fn slice(
        &mut self,
        x: &str,
        axes: &[usize],
        starts: &[i64],
        ends: &[i64],
        steps: &[i64],
    ) -> String {
        let s = self.const_i64(starts);
        let e = self.const_i64(ends);
        let a: Vec<i64> = axes.iter().map(|&a| a as i64).collect();
        let a = self.const_i64(&a);
        let st = self.const_i64(steps);
        self.op("Slice", &[x, &s, &e, &a, &st], &[])
    }

    /// `x` padded with `value`: `begin[i]` before and `end[i]` after axis `i`.
    pub fn pad(&mut self, x: &str, begin: &[usize], end: &[usize], value: f32) -> String {
        if begin.iter().chain(end).all(|&p| p == 0) {
            return x.to_owned();
        }
        let pads: Vec<i64> = begin.iter().chain(end).map(|&p| p as i64).collect();
        let p = self.const_i64(&pads);
        let v = self.scalar(value);
        self.op("Pad", &[x, &p, &v], &[])
    }

    /// The dense tensor of a [`Sparse`] gradient (recorded, so that rules
    /// reading it can use [`Ctx::sparse`]).
    pub fn scatter(&mut self, sp: Sparse) -> String {
        // A one-hot mask along the axis (positions equal to the index)
        // times the values: three elementwise ops, which ONNX Runtime runs
        // several times faster than ScatterElements onto zeros.
        let k = sp.shape[sp.axis];
        let mut dims = vec![1; sp.shape.len()];
        dims[sp.axis] = k;
        let iota: Vec<i64> = (0..k as i64).collect();
        let iota = self.const_i64_shaped(&dims, &iota);
        let hit = self.op("Equal", &[&iota, &sp.idx], &[]);
        let mask = self.to_float(&hit);
        let dense = self.op("Mul", &[&mask, &sp.upd], &[]);
        self.sparse.insert(dense.clone(), sp);
        dense
    }

    /// The sparse form of gradient `name`, if it was made by [`Ctx::scatter`].
    #[must_use]
    pub fn sparse(&self, name: &str) -> Option<Sparse> {
        self.sparse.get(name).cloned()
    }

    /// An elementwise gradient `f(cx, dy, x)` (x read at the same
    /// positions as dy): applied to the nonzeros only when `dy` is sparse
    /// and shaped like `x`.
    pub fn pointwise(
        &mut self,
        dy: &str,
        x: &str,
        f: impl FnOnce(&mut Self, &str, &str) -> String,
    ) -> String {
        match self.sparse(dy) {
            Some(sp) if sp.shape == self.shape(x) => {
                let xg = if let Some((_, v)) = sp.known.iter().find(|(t, _)| t == x) {
                    v.clone()
                } else {
                    let axis = ("axis", Attr::Int(sp.axis as i64));
                    self.op("GatherElements", &[x, &sp.idx], &[axis])
                };
                let upd = f(self, &sp.upd, &xg);
                self.scatter(Sparse { upd, ..sp })
            }
            _ => f(self, dy, x),
        }
    }

    /// Drops nodes (and constants) that nothing reads on the way to `keep`
    /// (dense forms of sparse gradients that every reader took sparse).
    pub(crate) fn prune(&mut self, keep: &[String]) {
        let mut needed: std::collections::HashSet<String> = keep.iter().cloned().collect();
        let mut kept = vec![false; self.nodes.len()];
        for (i, n) in self.nodes.iter().enumerate().rev() {
            if n.output.iter().any(|o| needed.contains(o)) {
                kept[i] = true;
                needed.extend(n.input.iter().cloned());
            }
        }
        let mut k = kept.into_iter();
        self.nodes.retain(|_| k.next().unwrap_or(true));
        self.consts.retain(|c| needed.contains(c.name()));
    }

    /// Sums gradient `g` (shaped like a broadcast result `from`) down to an
    /// operand of shape `to`.
    pub fn sum_to(&mut self, g: &str, from: &[usize], to: &[usize]) -> String {
        if from == to {
            return g.to_owned();
        }
        let lead = from.len() - to.len();
        let mut axes: Vec<usize> = (0..lead).collect();
        for (i, &d) in to.iter().enumerate() {
            if d == 1 && from[lead + i] != 1 {
                axes.push(lead + i);
            }
        }
        let s = self.reduce_sum(g, &axes, true);
        self.reshape(&s, to)
    }
}
