//! Static shape inference for concrete input shapes.
//!
//! Gradient rules need every tensor's shape (to undo broadcasting, to size
//! the slices of a `Concat`, to place a pooled gradient back in its window),
//! so the gradient graph is built for one set of input shapes. Integer
//! tensors on shape paths (`Shape → Gather → Concat → Reshape`, as PyTorch
//! writes them) are evaluated when their values are needed.

use std::collections::HashMap;

use crate::error::Result;
use crate::graph::{attr_int, attr_ints, attr_str, node_err};
use crate::pb::{GraphProto, NodeProto, TensorProto, tensor_proto::DataType};

/// Element class of a tensor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Elem {
    /// Floating point (differentiable).
    Float,
    /// Integer.
    Int,
    /// Boolean.
    Bool,
}

/// What is known of one tensor.
#[derive(Debug, Clone, PartialEq)]
pub struct Info {
    /// Its shape.
    pub shape: Vec<usize>,
    /// Its element class.
    pub elem: Elem,
    /// Its values, for integer tensors whose values are known.
    pub ints: Option<Vec<i64>>,
}

impl Info {
    pub(crate) fn float(shape: Vec<usize>) -> Self {
        Self { shape, elem: Elem::Float, ints: None }
    }
    pub(crate) fn of(shape: Vec<usize>, elem: Elem) -> Self {
        Self { shape, elem, ints: None }
    }
}

/// Shapes of every tensor of a graph, for given input shapes.
#[derive(Debug, Clone, Default)]
pub struct Shapes {
    map: HashMap<String, Info>,
}

pub(crate) fn elem_of(dt: i32) -> Elem {
    match DataType::try_from(dt) {
        Ok(DataType::Float | DataType::Double | DataType::Float16 | DataType::Bfloat16) => {
            Elem::Float
        }
        Ok(DataType::Bool) => Elem::Bool,
        _ => Elem::Int,
    }
}

pub(crate) fn tensor_info(t: &TensorProto) -> Result<Info> {
    let shape = crate::tensor::dims(t)?;
    let elem = elem_of(t.data_type());
    let ints = if elem == Elem::Int { crate::tensor::to_i64(t).ok() } else { None };
    Ok(Info { shape, elem, ints })
}

/// Broadcast of shapes (numpy rules).
pub(crate) fn broadcast(shapes: &[&[usize]]) -> Option<Vec<usize>> {
    let rank = shapes.iter().map(|s| s.len()).max().unwrap_or(0);
    let mut out = vec![1; rank];
    for s in shapes {
        let lead = rank - s.len();
        for (i, &d) in s.iter().enumerate() {
            let o = &mut out[lead + i];
            if *o == 1 {
                *o = d;
            } else if d != 1 && d != *o {
                return None;
            }
        }
    }
    Some(out)
}

/// Normalises a possibly negative axis.
pub(crate) fn axis(n: &NodeProto, a: i64, rank: usize) -> Result<usize> {
    let r = rank as i64;
    let v = if a < 0 { a + r } else { a };
    if v < 0 || v >= r {
        return Err(node_err(n, format!("axis {a} is out of range for rank {rank}")));
    }
    Ok(v as usize)
}

/// Padding, kernel and stride geometry of a Conv or pooling node over its
/// spatial axes.
#[derive(Debug, Clone)]
pub struct Window {
    /// Kernel size per spatial axis.
    pub kernel: Vec<usize>,
    /// Strides.
    pub strides: Vec<usize>,
    /// Dilations.
    pub dilations: Vec<usize>,
    /// Padding before each axis.
    pub pad_begin: Vec<usize>,
    /// Padding after each axis.
    pub pad_end: Vec<usize>,
    /// Output size per spatial axis.
    pub out: Vec<usize>,
}

impl Window {
    /// Geometry of `n` over input spatial dims `spatial` and kernel `kernel`.
    ///
    /// # Errors
    /// On inconsistent attributes or a window larger than the padded input.
    pub fn of(n: &NodeProto, spatial: &[usize], kernel: &[usize], ceil: bool) -> Result<Self> {
        let r = spatial.len();
        if kernel.len() != r {
            return Err(node_err(
                n,
                format!("kernel has {} spatial dims, the input {r}", kernel.len()),
            ));
        }
        let get = |name: &str| -> Result<Vec<usize>> {
            let v = attr_ints(n, name).unwrap_or_else(|| vec![1; r]);
            if v.len() != r || v.iter().any(|&x| x < 1) {
                return Err(node_err(n, format!("`{name}` = {v:?} does not fit {r} spatial dims")));
            }
            Ok(v.into_iter().map(|x| x as usize).collect())
        };
        let strides = get("strides")?;
        let dilations = get("dilations")?;
        // Spans from the file: a zero kernel or one overflowing with its
        // dilation is refused rather than wrapped.
        let spans: Vec<usize> = (0..r)
            .map(|i| {
                kernel[i]
                    .checked_sub(1)
                    .and_then(|k| k.checked_mul(dilations[i]))
                    .and_then(|k| k.checked_add(1))
                    .filter(|&s| s <= 1 << 40)
                    .ok_or_else(|| {
                        node_err(n, format!("kernel {kernel:?} with dilations {dilations:?}"))
                    })
            })
            .collect::<Result<_>>()?;
        let auto = attr_str(n, "auto_pad").unwrap_or_else(|| "NOTSET".into());
        let (mut pad_begin, mut pad_end) = (vec![0; r], vec![0; r]);
        match auto.as_str() {
            "NOTSET" | "" => {
                let p = attr_ints(n, "pads").unwrap_or_else(|| vec![0; 2 * r]);
                if p.len() != 2 * r || p.iter().any(|&x| x < 0) {
                    return Err(node_err(
                        n,
                        format!("`pads` = {p:?} does not fit {r} spatial dims"),
                    ));
                }
                for i in 0..r {
                    pad_begin[i] = p[i] as usize;
                    pad_end[i] = p[r + i] as usize;
                }
            }
            "VALID" => {}
            "SAME_UPPER" | "SAME_LOWER" => {
                for i in 0..r {
                    let out = spatial[i].div_ceil(strides[i]);
                    let span = spans[i];
                    let total = out
                        .saturating_sub(1)
                        .saturating_mul(strides[i])
                        .saturating_add(span)
                        .saturating_sub(spatial[i]);
                    let small = total / 2;
                    let (b, e) = if auto == "SAME_UPPER" {
                        (small, total - small)
                    } else {
                        (total - small, small)
                    };
                    pad_begin[i] = b;
                    pad_end[i] = e;
                }
            }
            other => return Err(node_err(n, format!("auto_pad `{other}` is not supported"))),
        }
        let mut out = Vec::with_capacity(r);
        for i in 0..r {
            let span = spans[i];
            let padded = spatial[i].saturating_add(pad_begin[i]).saturating_add(pad_end[i]);
            if padded < span {
                return Err(node_err(
                    n,
                    format!(
                        "window of {span} does not fit the padded input of {padded} (axis {})",
                        i + 2
                    ),
                ));
            }
            let o = if ceil {
                let mut o = (padded - span).div_ceil(strides[i]) + 1;
                if (o - 1) * strides[i] >= spatial[i] + pad_begin[i] {
                    o -= 1;
                }
                o
            } else {
                (padded - span) / strides[i] + 1
            };
            out.push(o);
        }
        Ok(Self { kernel: kernel.to_vec(), strides, dilations, pad_begin, pad_end, out })
    }
}

impl Shapes {
    /// Infers every tensor of `graph` for the given input shapes. Inputs not
    /// listed take the fixed dims their declaration gives.
    ///
    /// # Errors
    /// If an input's shape is unknown, or a node's op has no shape rule here
    /// or its operands disagree (the error names the node).
    pub fn infer(graph: &GraphProto, inputs: &[(&str, &[usize])]) -> Result<Self> {
        let mut s = Self::default();
        for t in &graph.initializer {
            s.map.insert(t.name().to_owned(), tensor_info(t)?);
        }
        for vi in &graph.input {
            if s.map.contains_key(vi.name()) {
                continue;
            }
            let given = inputs.iter().find(|(n, _)| *n == vi.name()).map(|(_, d)| d.to_vec());
            let (shape, elem) = declared(vi);
            let Some(shape) = given.or(shape) else {
                return Err(crate::Error::Node {
                    node: vi.name().to_owned(),
                    op: "input".into(),
                    msg: "its shape has symbolic dims; give a concrete shape".into(),
                });
            };
            if crate::tensor::numel(&shape).is_none() {
                return Err(crate::Error::Node {
                    node: vi.name().to_owned(),
                    op: "input".into(),
                    msg: format!("shape {shape:?}: too many elements"),
                });
            }
            s.map.insert(vi.name().to_owned(), Info::of(shape, elem));
        }
        for n in &graph.node {
            s.node(n)?;
            // Shapes come from the file: refuse any whose element count
            // would overflow the products taken of it.
            for o in &n.output {
                if let Some(i) = s.map.get(o.as_str())
                    && crate::tensor::numel(&i.shape).is_none()
                {
                    return Err(node_err(
                        n,
                        format!("output `{o}` of shape {:?}: too many elements", i.shape),
                    ));
                }
            }
        }
        Ok(s)
    }

    /// Everything known of tensor `name`.
    #[must_use]
    pub fn get(&self, name: &str) -> Option<&Info> {
        self.map.get(name)
    }

    /// Shape of tensor `name` (empty for an unknown tensor).
    #[must_use]
    pub fn shape(&self, name: &str) -> &[usize] {
        self.map.get(name).map_or(&[], |i| i.shape.as_slice())
    }

    /// Whether `name` is a float tensor.
    #[must_use]
    pub fn is_float(&self, name: &str) -> bool {
        self.map.get(name).is_some_and(|i| i.elem == Elem::Float)
    }

    /// Records a tensor (used by graph builders that append nodes whose
    /// shapes they know).
    pub fn set(&mut self, name: &str, info: Info) {
        self.map.insert(name.to_owned(), info);
    }

    pub(crate) fn input<'a>(&'a self, n: &NodeProto, k: usize) -> Result<&'a Info> {
        let name = n
            .input
            .get(k)
            .filter(|s| !s.is_empty())
            .ok_or_else(|| node_err(n, format!("input {k} is missing")))?;
        self.map
            .get(name.as_str())
            .ok_or_else(|| node_err(n, format!("input `{name}` is not produced before this node")))
    }

    pub(crate) fn opt_input<'a>(&'a self, n: &NodeProto, k: usize) -> Option<&'a Info> {
        n.input.get(k).filter(|s| !s.is_empty()).and_then(|s| self.map.get(s.as_str()))
    }

    /// Integer values of input `k`, which must be known.
    pub(crate) fn ints_of(&self, n: &NodeProto, k: usize) -> Result<Vec<i64>> {
        self.input(n, k)?.ints.clone().ok_or_else(|| {
            node_err(n, format!("input {k} must be a constant (or computed from shapes)"))
        })
    }

    /// Ints from attribute `attr` (older opsets) or input `k` (newer).
    pub(crate) fn ints_attr_or_input(
        &self,
        n: &NodeProto,
        attr: &str,
        k: usize,
    ) -> Result<Option<Vec<i64>>> {
        if let Some(v) = attr_ints(n, attr) {
            return Ok(Some(v));
        }
        if self.opt_input(n, k).is_none() {
            return Ok(None);
        }
        self.ints_of(n, k).map(Some)
    }

    /// Reduction axes of a Reduce* node (sorted, normalised); `None` means all.
    pub(crate) fn reduce_axes(&self, n: &NodeProto, rank: usize) -> Result<Vec<usize>> {
        let axes = self.ints_attr_or_input(n, "axes", 1)?.unwrap_or_default();
        if axes.is_empty() {
            if attr_int(n, "noop_with_empty_axes") == Some(1) {
                return Ok(Vec::new());
            }
            return Ok((0..rank).collect());
        }
        let mut v = axes.iter().map(|&a| axis(n, a, rank)).collect::<Result<Vec<_>>>()?;
        v.sort_unstable();
        v.dedup();
        Ok(v)
    }

    pub(crate) fn out(&mut self, n: &NodeProto, k: usize, info: Info) {
        if let Some(name) = n.output.get(k).filter(|s| !s.is_empty()) {
            self.map.insert(name.clone(), info);
        }
    }

    fn node(&mut self, n: &NodeProto) -> Result<()> {
        let op = n.op_type();
        match super::rules::shape_rule_for(op) {
            Some(rule) => rule(self, n),
            None => Err(node_err(
                n,
                format!("op `{op}` is not supported here (no shape rule for gradients)"),
            )),
        }
    }
}

fn declared(vi: &crate::pb::ValueInfoProto) -> (Option<Vec<usize>>, Elem) {
    use crate::pb::{tensor_shape_proto::dimension::Value, type_proto};
    let Some(type_proto::Value::TensorType(t)) = vi.r#type.as_ref().and_then(|t| t.value.as_ref())
    else {
        return (None, Elem::Float);
    };
    let elem = elem_of(t.elem_type());
    let shape = t.shape.as_ref().and_then(|s| {
        s.dim
            .iter()
            .map(|d| match d.value {
                Some(Value::DimValue(v)) if v >= 0 => Some(v as usize),
                _ => None,
            })
            .collect()
    });
    (shape, elem)
}

pub(crate) fn int_arith(
    op: &str,
    a: Option<&[i64]>,
    b: Option<&[i64]>,
    shape: &[usize],
) -> Option<Vec<i64>> {
    let (a, b) = (a?, b?);
    let n = crate::tensor::numel(shape)?;
    if shape.len() > 1 || !(a.len() == n || a.len() == 1) || !(b.len() == n || b.len() == 1) {
        return None;
    }
    let at = |v: &[i64], i: usize| if v.len() == 1 { v[0] } else { v[i] };
    (0..n)
        .map(|i| {
            let (x, y) = (at(a, i), at(b, i));
            match op {
                // Values a model could not have meant (overflow) stay unknown.
                "Add" => x.checked_add(y),
                "Sub" => x.checked_sub(y),
                "Mul" => x.checked_mul(y),
                "Div" => x.checked_div_euclid(y),
                "Max" => Some(x.max(y)),
                "Min" => Some(x.min(y)),
                _ => None,
            }
        })
        .collect()
}

/// Resolves a Reshape target (0 copies, −1 infers).
pub(crate) fn reshape_target(n: &NodeProto, from: &[usize], spec: &[i64]) -> Result<Vec<usize>> {
    let total: usize = from.iter().product();
    let mut shape = Vec::with_capacity(spec.len());
    let mut infer = None;
    for (i, &d) in spec.iter().enumerate() {
        match d {
            0 if attr_int(n, "allowzero") != Some(1) => {
                shape.push(
                    *from.get(i).ok_or_else(|| node_err(n, "0 refers past the input's rank"))?,
                );
            }
            -1 if infer.is_none() => {
                infer = Some(i);
                shape.push(1);
            }
            d if d >= 0 => shape.push(d as usize),
            d => return Err(node_err(n, format!("bad dim {d} in the target shape {spec:?}"))),
        }
    }
    let known = crate::tensor::numel(&shape)
        .ok_or_else(|| node_err(n, format!("target shape {spec:?}: too many elements")))?;
    if let Some(i) = infer {
        if known == 0 || !total.is_multiple_of(known) {
            return Err(node_err(n, format!("cannot reshape {from:?} to {spec:?}")));
        }
        shape[i] = total / known;
    } else if known != total {
        return Err(node_err(n, format!("cannot reshape {from:?} ({total} values) to {spec:?}")));
    }
    Ok(shape)
}

/// A Slice node's resolved starts, steps and axes (clamped as ONNX does).
#[derive(Debug, Clone)]
pub(crate) struct SliceSpec {
    pub axes: Vec<usize>,
    pub starts: Vec<i64>,
    pub ends: Vec<i64>,
    pub steps: Vec<i64>,
}

impl SliceSpec {
    pub(crate) fn of(s: &Shapes, n: &NodeProto, shape: &[usize]) -> Result<Self> {
        let rank = shape.len();
        let starts =
            s.ints_attr_or_input(n, "starts", 1)?.ok_or_else(|| node_err(n, "no `starts`"))?;
        let ends = s.ints_attr_or_input(n, "ends", 2)?.ok_or_else(|| node_err(n, "no `ends`"))?;
        let axes: Vec<usize> = match s.ints_attr_or_input(n, "axes", 3)? {
            Some(a) => a.iter().map(|&v| axis(n, v, rank)).collect::<Result<_>>()?,
            None => (0..starts.len()).collect(),
        };
        let steps = if attr_ints(n, "starts").is_some() {
            vec![1; axes.len()]
        } else {
            match s.opt_input(n, 4) {
                Some(_) => s.ints_of(n, 4)?,
                None => vec![1; axes.len()],
            }
        };
        if starts.len() != axes.len() || ends.len() != axes.len() || steps.len() != axes.len() {
            return Err(node_err(n, "starts, ends, axes and steps differ in length"));
        }
        let mut out =
            Self { axes: axes.clone(), starts: vec![], ends: vec![], steps: steps.clone() };
        for (j, &a) in axes.iter().enumerate() {
            let d = shape[a] as i64;
            let step = steps[j];
            if step == 0 {
                return Err(node_err(n, "step 0"));
            }
            let norm = |v: i64| if v < 0 { v.saturating_add(d) } else { v };
            let (st, en) = if step > 0 {
                (norm(starts[j]).clamp(0, d), norm(ends[j]).clamp(0, d))
            } else if d == 0 {
                // An empty axis read backwards: nothing to take.
                (0, 0)
            } else {
                (norm(starts[j]).clamp(0, d - 1), norm(ends[j]).clamp(-1, d - 1))
            };
            out.starts.push(st);
            out.ends.push(en);
        }
        Ok(out)
    }

    /// Elements kept along entry `j`.
    pub(crate) fn len(&self, j: usize) -> usize {
        // In i128: steps from the file may be near i64's limits.
        let (s, e, st) =
            (i128::from(self.starts[j]), i128::from(self.ends[j]), i128::from(self.steps[j]));
        if st > 0 {
            if e > s { ((e - s + st - 1) / st) as usize } else { 0 }
        } else if s > e {
            ((s - e + (-st) - 1) / (-st)) as usize
        } else {
            0
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::build::{Attr, GraphBuilder};
    use crate::structure::Dim;

    #[test]
    fn shapes_through_a_pytorch_style_flatten() {
        // x → Conv → Shape → Gather(0) → Unsqueeze → Concat(-1) → Reshape
        let mut g = GraphBuilder::new("t");
        g.input("x", &[Dim::Symbol("N".into()), Dim::Fixed(4), Dim::Symbol("L".into())]);
        g.initializer("w", &[3, 4, 5], &[0.0; 60]);
        g.initializer_i64("zero", &[], &[0]);
        g.initializer_i64("axes", &[1], &[0]);
        g.initializer_i64("minus1", &[1], &[-1]);
        g.node("Conv", &["x", "w"], &["c"], &[("pads", Attr::Ints(vec![2, 2]))]);
        g.node("Shape", &["c"], &["s"], &[]);
        g.node("Gather", &["s", "zero"], &["n"], &[]);
        g.node("Unsqueeze", &["n", "axes"], &["n1"], &[]);
        g.node("Concat", &["n1", "minus1"], &["spec"], &[("axis", Attr::Int(0))]);
        g.node("Reshape", &["c", "spec"], &["y"], &[]);
        let m = g.finish();
        let s = Shapes::infer(m.graph.as_ref().unwrap(), &[("x", &[7, 4, 20])]).unwrap();
        assert_eq!(s.shape("c"), &[7, 3, 20]);
        assert_eq!(s.get("spec").unwrap().ints.as_deref(), Some(&[7, -1][..]));
        assert_eq!(s.shape("y"), &[7, 60]);
        assert!(s.is_float("y") && !s.is_float("s"));
    }

    #[test]
    fn windows_with_auto_pad_and_ceil_mode() {
        let mut n = NodeProto::default();
        n.attribute.push(crate::build::attr_proto("auto_pad", &Attr::Str("SAME_UPPER".into())));
        n.attribute.push(crate::build::attr_proto("strides", &Attr::Ints(vec![2])));
        let w = Window::of(&n, &[10], &[4], false).unwrap();
        // out = ceil(10 / 2) = 5; total pad = (5 − 1)·2 + 4 − 10 = 2, split 1 + 1
        assert_eq!(w.out, vec![5]);
        assert_eq!((w.pad_begin[0], w.pad_end[0]), (1, 1));
        let mut p = NodeProto::default();
        p.attribute.push(crate::build::attr_proto("strides", &Attr::Ints(vec![3])));
        // 10 positions, window 2, stride 3: floor → 3 windows, ceil → 4.
        assert_eq!(Window::of(&p, &[10], &[2], false).unwrap().out, vec![3]);
        assert_eq!(Window::of(&p, &[10], &[2], true).unwrap().out, vec![4]);
    }

    #[test]
    fn bad_operands_name_the_node() {
        let mut g = GraphBuilder::new("t");
        g.input("a", &[Dim::Fixed(2), Dim::Fixed(3)]);
        g.input("b", &[Dim::Fixed(4)]);
        g.node("Add", &["a", "b"], &["y"], &[]);
        let m = g.finish();
        let e = Shapes::infer(m.graph.as_ref().unwrap(), &[]).unwrap_err().to_string();
        assert!(e.contains("Add_y") && e.contains("do not broadcast"), "{e}");
    }
}
