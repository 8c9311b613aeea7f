//! Receptive-field-aware in-silico mutagenesis (as fastISM): a single
//! substitution changes only a bounded span of each tensor before the first
//! op that mixes positions, so the convolutional trunk is recomputed on
//! those spans alone, node by node, and only the rest of the network (the
//! "suffix" after the trunk) runs on whole tensors.
//!
//! The trunk is every node reachable from the input through *local* ops:
//! stride-1 Conv (any dilation and padding), elementwise ops with constant
//! or equally long operands, BatchNormalization. For an edit at position
//! `l` a local tensor changes on `[l − a, l + b]`; each node runs (through
//! the engine, as a one-node graph without padding) on the windows its
//! output span needs, read from the unedited activations with the edited
//! spans spliced in and zeros outside the tensor (the padding). Tensors
//! read by a non-local op are rebuilt whole and fed to the suffix.

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::Arc;

use motif_engine::{GraphSession, SessionOptions, open_graph};
use motif_onnx::autodiff::Shapes;
use motif_onnx::build::value_info_any;
use motif_onnx::graph::{attr_ints, attr_str};
use motif_onnx::pb::{ModelProto, NodeProto};
use ndarray::{Array3, ArrayD, ArrayView2, Axis, Ix3, s};
use prost::Message;
use rayon::prelude::*;

use crate::{Error, Result};

/// Elementwise ops a trunk may hold (one output, same length as inputs).
const POINTWISE: &[&str] = &[
    "Relu",
    "LeakyRelu",
    "Elu",
    "Selu",
    "Sigmoid",
    "Tanh",
    "Softplus",
    "Gelu",
    "Identity",
    "Dropout",
    "Abs",
    "Neg",
    "Exp",
    "Clip",
    "BatchNormalization",
    "Add",
    "Sub",
    "Mul",
    "Div",
    "Max",
    "Min",
    "Sum",
];

/// How a trunk node maps spans.
#[derive(Debug, Clone)]
enum Op {
    /// A Conv: padding before, kernel, dilation.
    Conv { pad: i64, k: i64, d: i64 },
    /// Elementwise.
    Pointwise,
}

#[derive(Debug, Clone)]
struct TrunkNode {
    node: NodeProto,
    op: Op,
    /// Inputs that are trunk tensors (the others are constants).
    local: Vec<String>,
}

/// The trunk, the suffix and the unedited activations' shapes for one
/// sequence length.
pub(crate) struct FastIsm {
    input: String,
    nodes: Vec<TrunkNode>,
    /// Changed span `[l − a, l + b]` of each trunk tensor.
    span: HashMap<String, (i64, i64)>,
    /// Trunk tensors the suffix reads (the input among them if read).
    frontier: Vec<String>,
    /// Frontier tensors read only through a mean over positions: (tensor,
    /// the mean's output, whether it keeps the length axis). The means are
    /// updated from the edited spans instead of rebuilding the tensor.
    means: Vec<(String, String, bool)>,
    suffix: ModelProto,
    reference_model: ModelProto,
    full: ModelProto,
    opts: SessionOptions,
    sessions: std::sync::Mutex<SessionMap>,
}

/// Engine sessions by (node, calls' batch, pool thread).
type SessionMap = HashMap<(String, usize, Option<usize>), Arc<dyn GraphSession>>;

fn err(m: impl Into<String>) -> Error {
    Error::Invalid(m.into())
}

impl FastIsm {
    /// The trunk of `proto` (NCW input `input`, output `columns`) for
    /// sequences of `len`; `None` when no conv can be recomputed locally.
    ///
    /// # Errors
    /// If shapes cannot be inferred.
    pub(crate) fn new(
        proto: &ModelProto,
        input: &str,
        columns: &str,
        len: usize,
        opts: SessionOptions,
    ) -> Result<Option<Self>> {
        let g = proto.graph.as_ref().ok_or_else(|| err("no graph"))?;
        let shapes = Shapes::infer(g, &[(input, &[1, 4, len])])?;
        let consts: HashSet<&str> =
            g.initializer.iter().map(motif_onnx::pb::TensorProto::name).collect();
        let rank3_len = |t: &str| {
            let s = shapes.shape(t);
            (s.len() == 3).then(|| s[2])
        };
        let mut span: HashMap<String, (i64, i64)> = HashMap::from([(input.to_owned(), (0, 0))]);
        let mut nodes = Vec::new();
        for n in &g.node {
            let local: Vec<String> =
                n.input.iter().filter(|i| span.contains_key(i.as_str())).cloned().collect();
            if local.is_empty() || n.output.len() != 1 && n.op_type() != "Dropout" {
                continue;
            }
            // Constant operands broadcast over positions (a trailing axis of
            // 1, or BatchNorm's per-channel vectors).
            let per_channel = matches!(n.op_type(), "BatchNormalization" | "Conv");
            let others_const =
                n.input.iter().filter(|i| !i.is_empty() && !span.contains_key(i.as_str())).all(
                    |i| {
                        consts.contains(i.as_str())
                            && (per_channel || shapes.shape(i).last().is_none_or(|&d| d == 1))
                    },
                );
            let out = &n.output[0];
            let Some(out_len) = rank3_len(out) else { continue };
            let Some(op) = trunk_op(n, &local, others_const, &shapes, out_len) else { continue };
            let (a, b) = match op {
                Op::Conv { pad, k, d } => {
                    let (a, b) = span[&local[0]];
                    (a - pad + (k - 1) * d, b + pad)
                }
                Op::Pointwise => local.iter().fold((0, 0), |(a, b), t| {
                    let (x, y) = span[t];
                    (a.max(x), b.max(y))
                }),
            };
            span.insert(out.clone(), (a, b));
            nodes.push(TrunkNode { node: n.clone(), op, local });
        }
        if !nodes.iter().any(|n| matches!(n.op, Op::Conv { .. })) {
            return Ok(None);
        }
        let produced: HashSet<&str> = nodes.iter().map(|n| n.node.output[0].as_str()).collect();
        let mut frontier: Vec<String> = Vec::new();
        for n in &g.node {
            if n.output.first().is_some_and(|o| produced.contains(o.as_str())) {
                continue;
            }
            for i in &n.input {
                if span.contains_key(i.as_str()) && !frontier.contains(i) {
                    frontier.push(i.clone());
                }
            }
        }
        for o in &g.output {
            if span.contains_key(o.name()) && !frontier.contains(&o.name().to_owned()) {
                frontier.push(o.name().to_owned());
            }
        }
        let means = position_means(g, &frontier);
        let cut: Vec<String> = frontier
            .iter()
            .map(|f| means.iter().find(|m| &m.0 == f).map_or_else(|| f.clone(), |m| m.1.clone()))
            .collect();
        let suffix = cut_suffix(proto, &cut, &produced, columns, input)?;
        let mut reference_model = proto.clone();
        let rg = reference_model.graph.as_mut().expect("graph");
        let mut outs: Vec<&str> = produced.iter().copied().collect();
        outs.extend(means.iter().map(|m| m.1.as_str()));
        outs.sort_unstable();
        outs.dedup();
        rg.output = outs.iter().map(|t| value_info_any(t)).collect();
        Ok(Some(Self {
            input: input.to_owned(),
            nodes,
            span,
            frontier,
            means,
            suffix,
            reference_model,
            full: proto.clone(),
            // Chunks run in parallel (rayon's pool, `--threads`), each engine
            // call on one thread: the windows are small, and the gathering
            // around the calls is parallel too.
            opts: SessionOptions { no_spin: true, threads: Some(1), ..opts },
            sessions: std::sync::Mutex::new(HashMap::new()),
        }))
    }

    fn session(
        &self,
        key: &str,
        n: usize,
        model: impl FnOnce() -> ModelProto,
    ) -> Result<Arc<dyn GraphSession>> {
        // One session per pool thread: an engine session runs one call at a
        // time, and the chunks run in parallel.
        let k = (key.to_owned(), n, rayon::current_thread_index());
        if let Some(s) = self.sessions.lock().expect("lock").get(&k) {
            return Ok(Arc::clone(s));
        }
        let m = model();
        let s: Arc<dyn GraphSession> = Arc::from(open_graph(
            Path::new(&format!("fast ISM ({key})")),
            &m.encode_to_vec(),
            &self.opts,
        )?);
        self.sessions.lock().expect("lock").insert(k, Arc::clone(&s));
        Ok(s)
    }

    /// The unedited activations of every trunk tensor for `x` (4, len).
    fn reference(&self, x: ArrayView2<'_, f32>) -> Result<HashMap<String, Array3<f32>>> {
        let xin = x.insert_axis(Axis(0)).to_owned().into_dyn();
        let rs = self.session("reference", 1, || self.reference_model.clone())?;
        let outs = rs.run(&[(self.input.as_str(), xin.view())])?;
        let mut reference = HashMap::new();
        for (name, v) in rs.output_names().iter().zip(outs) {
            // A mean without its length axis: (1, C) → (1, C, 1).
            let v = if v.ndim() == 2 { v.insert_axis(Axis(2)) } else { v };
            let v = v.into_dimensionality::<Ix3>().map_err(|e| err(e.to_string()))?;
            reference.insert(name.clone(), v.as_standard_layout().into_owned());
        }
        let x3 = xin.into_dimensionality::<Ix3>().map_err(|e| err(e.to_string()))?;
        reference.insert(self.input.clone(), x3);
        Ok(reference)
    }

    /// The suffix's columns for each edit `(base, position)` of `x` (4,
    /// len), in calls of `batch` edits.
    pub(crate) fn columns(
        &self,
        x: ArrayView2<'_, f32>,
        edits: &[(usize, usize)],
        batch: usize,
    ) -> Result<Vec<ArrayD<f32>>> {
        let reference = self.reference(x)?;
        edits.par_chunks(batch.max(1)).map(|c| self.chunk(&reference, c)).collect()
    }

    fn chunk(
        &self,
        reference: &HashMap<String, Array3<f32>>,
        edits: &[(usize, usize)],
    ) -> Result<ArrayD<f32>> {
        let b = edits.len();
        // Edited spans: the input's is the new column.
        let mut changed: HashMap<&str, Array3<f32>> = HashMap::new();
        let mut col = Array3::<f32>::zeros((b, 4, 1));
        for (m, &(c, _)) in edits.iter().enumerate() {
            col[(m, c, 0)] = 1.0;
        }
        changed.insert(self.input.as_str(), col);
        let at: Vec<i64> = edits.iter().map(|&(_, l)| l as i64).collect();
        for tn in &self.nodes {
            let out = tn.node.output[0].as_str();
            let (a, bb) = self.span[out];
            let width = (a + bb + 1) as usize;
            let (lo, w) = match tn.op {
                Op::Conv { pad, k, d } => (-a - pad, width + ((k - 1) * d) as usize),
                Op::Pointwise => (-a, width),
            };
            // A conv's windows go side by side along the length (one image,
            // one large product, instead of a small product per window);
            // outputs straddling two windows are never read.
            let packed = matches!(tn.op, Op::Conv { .. });
            let feeds: Vec<(String, Array3<f32>)> = tn
                .local
                .iter()
                .map(|t| {
                    let (r, ch, sp) =
                        (&reference[t.as_str()], &changed[t.as_str()], self.span[t.as_str()]);
                    (t.clone(), gather(r, ch, sp, &at, lo, w, packed))
                })
                .collect();
            // The simplest elementwise ops directly, without an engine call
            // (the same float operations the engines do).
            if let Some(y) = simple(&tn.node, &feeds) {
                changed.insert(out, y);
                continue;
            }
            let key = tn.node.name().to_owned() + out;
            let s = self.session(&key, b, || one_node(&self.full, tn))?;
            let views: Vec<(&str, ndarray::ArrayViewD<f32>)> =
                feeds.iter().map(|(n, v)| (n.as_str(), v.view().into_dyn())).collect();
            let y = s.run(&views)?.into_iter().next().ok_or_else(|| err("no output"))?;
            let y = y.into_dimensionality::<Ix3>().map_err(|e| err(e.to_string()))?;
            let y =
                if packed { apart(y, b, w, width)? } else { y.as_standard_layout().into_owned() };
            changed.insert(out, y);
        }
        // Whole frontier tensors, the edited spans spliced in.
        let mut feeds = Vec::new();
        for f in &self.frontier {
            if let Some((_, mean, keep)) = self.means.iter().find(|m| &m.0 == f) {
                let r = &reference[f.as_str()];
                let base = &reference[mean.as_str()];
                let (a, _) = self.span[f.as_str()];
                let upd = updated_mean(r, base, &changed[f.as_str()], a, &at);
                let upd =
                    if *keep { upd.into_dyn() } else { upd.index_axis_move(Axis(2), 0).into_dyn() };
                feeds.push((mean.clone(), upd));
                continue;
            }
            let r = &reference[f.as_str()];
            let (c, l) = (r.dim().1, r.dim().2);
            let mut full = r.broadcast((b, c, l)).expect("broadcast").to_owned();
            let (a, _) = self.span[f.as_str()];
            let ch = &changed[f.as_str()];
            let cw = ch.dim().2 as i64;
            for (m, &pos) in at.iter().enumerate() {
                // The span clipped to the tensor: [from, to) of positions.
                let from = (pos - a).max(0);
                let to = (pos - a + cw).min(l as i64);
                if to <= from {
                    continue;
                }
                let k0 = (from - (pos - a)) as usize;
                let n = (to - from) as usize;
                full.slice_mut(s![m, .., from as usize..to as usize]).assign(&ch.slice(s![
                    m,
                    ..,
                    k0..k0 + n
                ]));
            }
            feeds.push((f.clone(), full.into_dyn()));
        }
        let s = self.session("suffix", b, || self.suffix.clone())?;
        let views: Vec<(&str, ndarray::ArrayViewD<f32>)> =
            feeds.iter().map(|(n, v)| (n.as_str(), v.view())).collect();
        s.run(&views)?.into_iter().next().ok_or_else(|| err("no output"))
    }
}

/// Frontier tensors whose every reader is a mean over the length axis
/// (ReduceMean over axis 2 or −1): (tensor, the mean, keepdims).
fn position_means(
    g: &motif_onnx::pb::GraphProto,
    frontier: &[String],
) -> Vec<(String, String, bool)> {
    let axes_of = |n: &NodeProto| -> Option<Vec<i64>> {
        attr_ints(n, "axes").or_else(|| {
            let name = n.input.get(1)?;
            let t = g.initializer.iter().find(|t| t.name() == name)?;
            motif_onnx::tensor::to_i64(t).ok()
        })
    };
    let mut out = Vec::new();
    for f in frontier {
        let readers: Vec<&NodeProto> =
            g.node.iter().filter(|n| n.input.iter().any(|i| i == f)).collect();
        let [n] = readers.as_slice() else { continue };
        let last = axes_of(n).is_some_and(|a| a == [2] || a == [-1]);
        if n.op_type() == "ReduceMean"
            && n.input[0] == *f
            && last
            && !g.output.iter().any(|o| o.name() == f)
        {
            out.push((
                f.clone(),
                n.output[0].clone(),
                motif_onnx::graph::attr_int(n, "keepdims") != Some(0),
            ));
        }
    }
    out
}

/// The means over positions of the edited tensors: the unedited mean
/// `base` (1, C, 1) plus each edited span's change over the length.
fn updated_mean(
    reference: &Array3<f32>,
    base: &Array3<f32>,
    changed: &Array3<f32>,
    a: i64,
    at: &[i64],
) -> Array3<f32> {
    let (c, l) = (reference.dim().1, reference.dim().2 as i64);
    let cw = changed.dim().2 as i64;
    let mut out = Array3::<f32>::zeros((at.len(), c, 1));
    for (m, &pos) in at.iter().enumerate() {
        let (from, to) = ((pos - a).max(0), (pos - a + cw).min(l));
        for ch in 0..c {
            let mut delta = 0f64;
            for p in from..to {
                let k = (p - (pos - a)) as usize;
                delta += f64::from(changed[(m, ch, k)]) - f64::from(reference[(0, ch, p as usize)]);
            }
            out[(m, ch, 0)] = (f64::from(base[(0, ch, 0)]) + delta / l as f64) as f32;
        }
    }
    out
}

/// How node `n` maps spans when it belongs to the trunk (`local`: its
/// inputs in the trunk; `others_const`: its other inputs are constants that
/// do not vary along the length), else `None`.
fn trunk_op(
    n: &NodeProto,
    local: &[String],
    others_const: bool,
    shapes: &Shapes,
    out_len: usize,
) -> Option<Op> {
    let rank3_len = |t: &str| {
        let s = shapes.shape(t);
        (s.len() == 3).then(|| s[2])
    };
    Some(match n.op_type() {
        "Conv" if local.len() == 1 && local[0] == n.input[0] && others_const => {
            let k = attr_ints(n, "kernel_shape").and_then(|v| v.first().copied());
            let stride = attr_ints(n, "strides").map_or(1, |v| v[0]);
            let d = attr_ints(n, "dilations").map_or(1, |v| v[0]);
            let k = k.or_else(|| shapes.shape(&n.input[1]).get(2).map(|&v| v as i64))?;
            if stride != 1 {
                return None;
            }
            let total = (k - 1) * d;
            let pad = match attr_str(n, "auto_pad").as_deref() {
                Some("SAME_UPPER") => total / 2,
                Some("SAME_LOWER") => total - total / 2,
                Some("VALID") => 0,
                _ => attr_ints(n, "pads").map_or(0, |p| p[0]),
            };
            Op::Conv { pad, k, d }
        }
        op if POINTWISE.contains(&op) && others_const => {
            if local.iter().any(|t| rank3_len(t) != Some(out_len)) {
                return None;
            }
            Op::Pointwise
        }
        _ => return None,
    })
}

/// Windows `[l + lo, l + lo + w)` of tensor `t` for each edit position `l`:
/// the edited span (`[l − a, l + b]`) from `changed`, elsewhere the
/// unedited `reference`, zeros outside the tensor. `(b, c, w)`, or with
/// `packed` the windows side by side as one `(1, c, b·w)` image.
fn gather(
    reference: &Array3<f32>,
    changed: &Array3<f32>,
    (a, _): (i64, i64),
    at: &[i64],
    lo: i64,
    w: usize,
    packed: bool,
) -> Array3<f32> {
    let (c, l) = (reference.dim().1, reference.dim().2 as i64);
    let cw = changed.dim().2 as i64;
    let mut out = if packed {
        Array3::<f32>::zeros((1, c, at.len() * w))
    } else {
        Array3::<f32>::zeros((at.len(), c, w))
    };
    for (m, &pos) in at.iter().enumerate() {
        let mut win = if packed {
            out.slice_mut(s![0, .., m * w..(m + 1) * w])
        } else {
            out.slice_mut(s![m, .., ..])
        };
        // Window [pos + lo, pos + lo + w) ∩ [0, l): from the reference.
        let (w0, w1) = (pos + lo, pos + lo + w as i64);
        let (r0, r1) = (w0.max(0), w1.min(l));
        if r1 > r0 {
            let (k0, k1) = ((r0 - w0) as usize, (r1 - w0) as usize);
            win.slice_mut(s![.., k0..k1]).assign(&reference.slice(s![
                0,
                ..,
                r0 as usize..r1 as usize
            ]));
        }
        // The edited span [pos − a, pos − a + cw) ∩ the window ∩ [0, l).
        let (e0, e1) = ((pos - a).max(r0), (pos - a + cw).min(r1));
        if e1 > e0 {
            let (k0, k1) = ((e0 - w0) as usize, (e1 - w0) as usize);
            let (c0, c1) = ((e0 - (pos - a)) as usize, (e1 - (pos - a)) as usize);
            win.slice_mut(s![.., k0..k1]).assign(&changed.slice(s![m, .., c0..c1]));
        }
    }
    out
}

/// Relu, Identity, Dropout (inference) and the sum of two trunk tensors of
/// one shape, computed here; `None` for any other node.
fn simple(n: &NodeProto, feeds: &[(String, Array3<f32>)]) -> Option<Array3<f32>> {
    let local = |i: usize| feeds.iter().find(|f| n.input.get(i) == Some(&f.0)).map(|f| &f.1);
    match (n.op_type(), n.input.len()) {
        ("Relu", 1) => Some(local(0)?.mapv(|v| v.max(0.0))),
        ("Identity" | "Dropout", _) => Some(local(0)?.clone()),
        ("Add", 2) => {
            let (a, b) = (local(0)?, local(1)?);
            (a.dim() == b.dim()).then(|| a + b)
        }
        _ => None,
    }
}

/// The `width` outputs of each of `b` windows of `w` inputs from a conv
/// run on them side by side (`y`: `(1, c, b·w − (k − 1)·d)`), as a
/// `(b, c, width)` array over `y`'s own buffer (strided, no copy).
fn apart(y: Array3<f32>, b: usize, w: usize, width: usize) -> Result<Array3<f32>> {
    use ndarray::ShapeBuilder;
    let (c, total) = (y.dim().1, y.dim().2);
    let y = if y.is_standard_layout() { y } else { y.as_standard_layout().into_owned() };
    let (v, offset) = y.into_raw_vec_and_offset();
    if offset.unwrap_or(0) != 0 {
        return Err(err("a conv output that does not start its buffer"));
    }
    Array3::from_shape_vec((b, c, width).strides((w, total, 1)), v).map_err(|e| err(e.to_string()))
}

/// A graph of the one trunk node, padding removed, its constants copied.
fn one_node(full: &ModelProto, tn: &TrunkNode) -> ModelProto {
    let mut m = full.clone();
    let g = m.graph.as_mut().expect("graph");
    let mut n = tn.node.clone();
    if matches!(tn.op, Op::Conv { .. }) {
        n.attribute.retain(|a| a.name() != "pads" && a.name() != "auto_pad");
    }
    let needed: HashSet<&str> = n.input.iter().map(String::as_str).collect();
    g.initializer.retain(|t| needed.contains(t.name()));
    g.input = tn.local.iter().map(|t| value_info_any(t)).collect();
    g.output = vec![value_info_any(&n.output[0])];
    if n.op_type() == "Dropout" {
        n.output.truncate(1);
    }
    g.node = vec![n];
    g.value_info.clear();
    m
}

/// The nodes computing `columns` from the frontier tensors (and constants).
fn cut_suffix(
    proto: &ModelProto,
    frontier: &[String],
    produced: &HashSet<&str>,
    columns: &str,
    input: &str,
) -> Result<ModelProto> {
    let mut m = proto.clone();
    let g = m.graph.as_mut().ok_or_else(|| err("no graph"))?;
    let stop: HashSet<&str> = frontier.iter().map(String::as_str).collect();
    let mut needed: HashSet<String> = HashSet::from([columns.to_owned()]);
    let mut keep = vec![false; g.node.len()];
    for (i, n) in g.node.iter().enumerate().rev() {
        if n.output.iter().any(|o| needed.contains(o))
            && !n.output.iter().any(|o| stop.contains(o.as_str()))
        {
            keep[i] = true;
            for t in &n.input {
                if !stop.contains(t.as_str()) {
                    needed.insert(t.clone());
                }
            }
        }
    }
    if needed.contains(input)
        || needed.iter().any(|t| produced.contains(t.as_str()) && !stop.contains(t.as_str()))
    {
        return Err(err("the suffix reads trunk tensors beyond the frontier"));
    }
    let nodes: Vec<NodeProto> =
        g.node.iter().zip(&keep).filter(|(_, k)| **k).map(|(n, _)| n.clone()).collect();
    g.node = nodes;
    g.input = frontier.iter().map(|t| value_info_any(t)).collect();
    g.output = vec![value_info_any(columns)];
    g.value_info.clear();
    Ok(m)
}
