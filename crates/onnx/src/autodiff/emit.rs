//! [`Ctx`]: what a gradient rule writes its nodes through.

use std::collections::HashMap;

use crate::build::{Attr, node_proto};
use crate::pb::{NodeProto, TensorProto, tensor_proto::DataType};
use crate::tensor::{from_f32, from_i64};

use super::shapes::Shapes;

/// The gradient graph under construction: rules add nodes and constants
/// through it and read the forward graph's shapes from it.
#[derive(Debug)]
pub struct Ctx<'s> {
    shapes: &'s Shapes,
    opset: i64,
    pub(crate) nodes: Vec<NodeProto>,
    pub(crate) consts: Vec<TensorProto>,
    scalars: HashMap<u32, String>,
    next: usize,
    prefix: String,
}

impl<'s> Ctx<'s> {
    pub(crate) fn new(shapes: &'s Shapes, opset: i64, prefix: &str) -> Self {
        Self {
            shapes,
            opset,
            nodes: Vec::new(),
            consts: Vec::new(),
            scalars: HashMap::new(),
            next: 0,
            prefix: prefix.to_owned(),
        }
    }

    /// The nodes and constants written so far.
    #[must_use]
    pub fn into_parts(self) -> (Vec<NodeProto>, Vec<TensorProto>) {
        (self.nodes, self.consts)
    }

    /// Shapes of the forward graph's tensors.
    #[must_use]
    pub fn shapes(&self) -> &Shapes {
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
