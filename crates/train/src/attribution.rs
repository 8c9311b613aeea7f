//! A model's scalar target on an engine, as attributors see it
//! ([`motif_core::plugin::AttributionModel`]): predictions, input gradients
//! and DeepLIFT multipliers (the pair graph), each graph built once per
//! batch shape and cached.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

use motif_core::plugin::AttributionModel;
use motif_engine::{GraphSession, SessionOptions, open_graph};
use motif_onnx::autodiff::deeplift::{
    DeepLiftOptions, REFERENCE, RescaleBlock, SEED, deeplift_model,
};
use motif_onnx::autodiff::{Shapes, gradient_model};
use motif_onnx::build::{Attr, node_proto};
use motif_onnx::pb::ModelProto;
use motif_onnx::{Layout, Model};
use ndarray::{Array1, Array3, ArrayD, ArrayView3, Axis, Ix2, Ix3};
use prost::Message;

use crate::fast_ism::FastIsm;
use crate::{Error, Result};

/// The flattened output columns a target reads.
const COLUMNS: &str = "attribution.columns";

/// One output of the model as attributions see it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct OutputColumns {
    /// The tensor attributed (the logit when the model's output is a
    /// trailing Sigmoid or Softmax and logits are asked for).
    pub tensor: String,
    /// The model's output it stands for.
    pub output: String,
    /// Its columns per sequence (every axis after the batch, flattened).
    pub columns: usize,
    /// Whether `tensor` is the input of a trailing Sigmoid/Softmax.
    pub logit: bool,
}

/// The outputs of `model` for sequences of `len` (in order), each read at
/// its logit when `logits` and it ends in a Sigmoid or Softmax.
///
/// # Errors
/// If shapes cannot be inferred.
pub fn output_columns(model: &Model, len: usize, logits: bool) -> Result<Vec<OutputColumns>> {
    let s = model.structure();
    let g = model.proto().graph.as_ref().ok_or_else(|| Error::Invalid("no graph".into()))?;
    let shapes = Shapes::infer(g, &[(&s.input.name, &input_shape(s.input.layout, 1, len))])?;
    Ok(s.outputs
        .iter()
        .map(|o| {
            let head = g.node.iter().find(|n| {
                n.output.first() == Some(&o.name)
                    && matches!(n.op_type(), "Sigmoid" | "Softmax")
                    && n.input.first().is_some_and(|i| shapes.get(i).is_some())
            });
            let (tensor, logit) = match head {
                Some(n) if logits => (n.input[0].clone(), true),
                _ => (o.name.clone(), false),
            };
            let columns = shapes.shape(&tensor).iter().skip(1).product();
            OutputColumns { tensor, output: o.name.clone(), columns, logit }
        })
        .collect())
}

fn input_shape(layout: Layout, n: usize, len: usize) -> Vec<usize> {
    match layout {
        Layout::Ncw => vec![n, 4, len],
        Layout::Nwc => vec![n, len, 4],
    }
}

/// `model`'s target `f = Σ weights · columns`, where the columns are every
/// output in `outputs` flattened per sequence and concatenated in order.
pub struct TargetModel {
    model: Model,
    /// The model with one output: the columns, (n, Σ columns).
    proto: ModelProto,
    weights: Array1<f32>,
    opts: SessionOptions,
    batch: usize,
    deeplift: DeepLiftOptions,
    sessions: Mutex<Sessions>,
    /// The fast-ISM trunk per sequence length (`None`: not possible).
    fast: Mutex<HashMap<usize, Option<Arc<FastIsm>>>>,
}

/// Sessions by graph kind, batch size and length, with the references
/// per input row the graph takes (1 but for shared pair graphs).
type Sessions = HashMap<(Kind, usize, usize), (Arc<dyn GraphSession>, usize)>;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Kind {
    Forward,
    Gradient,
    /// The pair graph with this many references per input row (where the
    /// model allows sharing the input member; else one).
    Pair(usize),
}

/// Appends to `g` the profile score of the flattened logits `flat`
/// (`(n, positions · strands)`), bpnet-lite's `ProfileWrapper`: with
/// `z̄ = z − mean(z)`, `Σ z̄ ⊙ softmax(z̄)`, as a column `(n, 1)`; returns it
/// and the DeepLIFT block treating `z̄ ↦ z̄ ⊙ softmax(z̄)` as one
/// elementwise op (bpnet-lite's `_ProfileLogitScaling`).
fn profile_score(
    g: &mut motif_onnx::pb::GraphProto,
    opset: i64,
    flat: &str,
    k: usize,
) -> (String, RescaleBlock) {
    let name = |s: &str| format!("attribution.profile{k}.{s}");
    let (mean, centred, soft, weighted, col) =
        (name("mean"), name("centred"), name("softmax"), name("weighted"), name("score"));
    let keep = ("keepdims", Attr::Int(1));
    let axes = name("axes");
    g.initializer.push(motif_onnx::tensor::from_i64(&axes, &[1], &[1]));
    let reduce = |op: &str, from: i64, x: &str, y: &str| {
        if opset >= from {
            node_proto(y, op, &[x, axes.as_str()], &[y], std::slice::from_ref(&keep))
        } else {
            node_proto(y, op, &[x], &[y], &[("axes", Attr::Ints(vec![1])), keep.clone()])
        }
    };
    g.node.push(reduce("ReduceMean", 18, flat, &mean));
    g.node.push(node_proto(&centred, "Sub", &[flat, &mean], &[&centred], &[]));
    g.node.push(node_proto(&soft, "Softmax", &[&centred], &[&soft], &[("axis", Attr::Int(1))]));
    g.node.push(node_proto(&weighted, "Mul", &[&centred, &soft], &[&weighted], &[]));
    g.node.push(reduce("ReduceSum", 13, &weighted, &col));
    let block =
        RescaleBlock { input: centred, output: weighted.clone(), inner: vec![soft, weighted] };
    (col, block)
}

impl TargetModel {
    /// The target `Σ weights · columns` over `outputs` (from
    /// [`output_columns`]), `weights` having one entry per column, plus for
    /// each output index in `profiles` its profile score (bpnet-lite's
    /// `ProfileWrapper`: the mean-centred logits weighted by their softmax,
    /// summed).
    ///
    /// # Errors
    /// If the weights do not match the columns.
    pub fn new(
        model: &Model,
        outputs: &[OutputColumns],
        mut weights: Vec<f32>,
        profiles: &[usize],
        opts: SessionOptions,
        batch: usize,
        mut deeplift: DeepLiftOptions,
    ) -> Result<Self> {
        let cols: usize = outputs.iter().map(|o| o.columns).sum();
        if weights.len() != cols || profiles.iter().any(|&k| k >= outputs.len()) {
            return Err(Error::Invalid(format!(
                "the target has {} weights for {cols} output columns",
                weights.len()
            )));
        }
        let mut proto = model.proto().clone();
        let g = proto.graph.as_mut().ok_or_else(|| Error::Invalid("no graph".into()))?;
        let mut flat = Vec::new();
        for (i, o) in outputs.iter().enumerate() {
            let name = format!("attribution.flat{i}");
            g.node.push(node_proto(
                &name,
                "Flatten",
                &[o.tensor.as_str()],
                &[name.as_str()],
                &[("axis", Attr::Int(1))],
            ));
            flat.push(name);
        }
        let opset = motif_onnx::autodiff::opset(model.proto());
        for &k in profiles {
            let (col, block) = profile_score(g, opset, &flat[k], k);
            flat.push(col);
            deeplift.blocks.push(block);
            weights.push(1.0);
        }
        let ins: Vec<&str> = flat.iter().map(String::as_str).collect();
        g.node.push(node_proto(COLUMNS, "Concat", &ins, &[COLUMNS], &[("axis", Attr::Int(1))]));
        g.output.clear();
        g.output.push(motif_onnx::build::value_info_any(COLUMNS));
        Ok(Self {
            model: model.clone(),
            proto,
            weights: Array1::from(weights),
            opts,
            batch: batch.max(1),
            deeplift,
            sessions: Mutex::new(HashMap::new()),
            fast: Mutex::new(HashMap::new()),
        })
    }

    /// The engine and device the graphs run on (once one has run).
    #[must_use]
    pub fn engine(&self) -> Option<(String, String)> {
        let s = self.sessions.lock().expect("sessions lock");
        s.values().next().map(|(s, _)| (s.engine().to_string(), s.device().to_string()))
    }

    fn input_name(&self) -> &str {
        &self.model.structure().input.name
    }

    fn layout(&self) -> Layout {
        self.model.structure().input.layout
    }

    /// The session of `kind` for `n` sequences (pairs) of `len`, built on
    /// first use.
    fn session(&self, kind: Kind, n: usize, len: usize) -> Result<Arc<dyn GraphSession>> {
        Ok(self.session_k(kind, n, len)?.0)
    }

    /// [`Self::session`] and, for a pair graph, the references per input
    /// row it takes (1 where the model does not allow sharing).
    fn session_k(
        &self,
        kind: Kind,
        n: usize,
        len: usize,
    ) -> Result<(Arc<dyn GraphSession>, usize)> {
        let key = (kind, n, len);
        if let Some((s, k)) = self.sessions.lock().expect("sessions lock").get(&key) {
            return Ok((Arc::clone(s), *k));
        }
        let shape = input_shape(self.layout(), n, len);
        let input = self.input_name().to_owned();
        let pair = |k: usize| {
            let opts = DeepLiftOptions { references_per_input: k, ..self.deeplift.clone() };
            deeplift_model(&self.proto, &[(&input, &shape)], &input, COLUMNS, &opts)
        };
        let (graph, what, k) = match kind {
            Kind::Forward => (self.proto.clone(), "target", 1),
            Kind::Gradient => (
                gradient_model(&self.proto, &[(&input, &shape)], COLUMNS, &[&input])?,
                "gradient",
                1,
            ),
            // Where the input member cannot be shared, one row per pair
            // (an error of the plain graph is the one to report).
            Kind::Pair(k) => match pair(k) {
                Ok(g) => (g, "DeepLIFT pair graph", k),
                Err(_) if k > 1 => (pair(1)?, "DeepLIFT pair graph", 1),
                Err(e) => return Err(e.into()),
            },
        };
        let name = format!("{} ({what})", self.model.path().display());
        let s: Arc<dyn GraphSession> =
            Arc::from(open_graph(Path::new(&name), &graph.encode_to_vec(), &self.opts)?);
        self.sessions.lock().expect("sessions lock").insert(key, (Arc::clone(&s), k));
        Ok((s, k))
    }

    /// `x` (n, 4, len) in the model's layout.
    fn to_model(&self, x: ArrayView3<'_, f32>) -> ArrayD<f32> {
        match self.layout() {
            Layout::Ncw => x.to_owned().into_dyn(),
            Layout::Nwc => x.permuted_axes([0, 2, 1]).as_standard_layout().into_owned().into_dyn(),
        }
    }

    /// (n, 4, len) from the model's layout.
    fn in_ncw(&self, g: ArrayD<f32>) -> Result<Array3<f32>> {
        let g = g.into_dimensionality::<Ix3>().map_err(|e| Error::Invalid(e.to_string()))?;
        Ok(match self.layout() {
            Layout::Ncw => g,
            Layout::Nwc => g.permuted_axes([0, 2, 1]).as_standard_layout().into_owned(),
        })
    }

    fn seed(&self, n: usize) -> ArrayD<f32> {
        let w = self.weights.view().insert_axis(Axis(0));
        w.broadcast((n, self.weights.len())).expect("broadcast").to_owned().into_dyn()
    }

    fn weigh(&self, cols: ArrayD<f32>) -> Result<Array1<f32>> {
        let c = cols.into_dimensionality::<Ix2>().map_err(|e| Error::Invalid(e.to_string()))?;
        Ok(c.dot(&self.weights))
    }

    fn forward(&self, x: ArrayView3<'_, f32>) -> Result<Array1<f32>> {
        let (n, _, len) = x.dim();
        let s = self.session(Kind::Forward, n, len)?;
        let xin = self.to_model(x);
        let out = s.run(&[(self.input_name(), xin.view())])?;
        self.weigh(out.into_iter().next().ok_or_else(|| Error::Invalid("no output".into()))?)
    }

    fn grad(&self, x: ArrayView3<'_, f32>) -> Result<(Array1<f32>, Array3<f32>)> {
        let (n, _, len) = x.dim();
        let s = self.session(Kind::Gradient, n, len)?;
        let xin = self.to_model(x);
        let seed = self.seed(n);
        let mut out =
            s.run(&[(self.input_name(), xin.view()), ("grad_seed", seed.view())])?.into_iter();
        let (Some(y), Some(g)) = (out.next(), out.next()) else {
            return Err(Error::Invalid("the gradient graph returned too few outputs".into()));
        };
        Ok((self.weigh(y)?, self.in_ncw(g)?))
    }

    fn pair(
        &self,
        x: ArrayView3<'_, f32>,
        r: ArrayView3<'_, f32>,
    ) -> Result<(Array1<f32>, Array1<f32>, Array3<f32>)> {
        let (rows, _, len) = x.dim();
        let n = r.dim().0;
        if rows == 0 || !n.is_multiple_of(rows) {
            return Err(Error::Invalid(format!(
                "{n} references for {rows} sequences: not the same number for each"
            )));
        }
        let (s, k) = self.session_k(Kind::Pair(n / rows), n, len)?;
        // A graph that cannot share the input member takes it per pair
        // (reference-major, as the references).
        let xin = if k == n / rows {
            self.to_model(x)
        } else {
            let reps: Vec<ArrayView3<'_, f32>> = vec![x; n / rows];
            self.to_model(
                ndarray::concatenate(Axis(0), &reps)
                    .map_err(|e| Error::Invalid(e.to_string()))?
                    .view(),
            )
        };
        let rin = self.to_model(r);
        let seed = self.seed(n);
        let out = s.run(&[
            (self.input_name(), xin.view()),
            (REFERENCE, rin.view()),
            (SEED, seed.view()),
        ])?;
        let [fx, fr, m]: [ArrayD<f32>; 3] = out
            .try_into()
            .map_err(|_| Error::Invalid("the pair graph returned the wrong outputs".into()))?;
        let fx = self.weigh(fx)?.slice_move(ndarray::s![..rows]);
        Ok((fx, self.weigh(fr)?, self.in_ncw(m)?))
    }
}

fn core_err(e: Error) -> motif_core::Error {
    motif_core::Error::Invalid(e.to_string())
}

impl TargetModel {
    /// The fast-ISM trunk for sequences of `len`, built on first use.
    fn fast_ism(&self, len: usize) -> Result<Option<Arc<FastIsm>>> {
        if let Some(f) = self.fast.lock().expect("fast lock").get(&len) {
            return Ok(f.clone());
        }
        let f = match self.layout() {
            // On a GPU whole mutants in large batches: the trunk's window
            // gathering is CPU work between small device calls (measured
            // 20x slower than the CPU path on a BPNet-like model).
            _ if self.opts.device == motif_engine::Device::Cuda => None,
            Layout::Ncw => {
                FastIsm::new(&self.proto, self.input_name(), COLUMNS, len, self.opts.clone())?
                    .map(Arc::new)
            }
            Layout::Nwc => None,
        };
        self.fast.lock().expect("fast lock").insert(len, f.clone());
        Ok(f)
    }

    /// Whether substitutions of sequences of `len` take the fast path.
    ///
    /// # Errors
    /// If the model's shapes cannot be inferred.
    pub fn fast_ism_available(&self, len: usize) -> Result<bool> {
        Ok(self.fast_ism(len)?.is_some())
    }

    fn subs(
        &self,
        x: ndarray::ArrayView2<'_, f32>,
        edits: &[(usize, usize)],
    ) -> Result<Array1<f32>> {
        let Some(f) = self.fast_ism(x.ncols())? else {
            return motif_core::plugin::predict_substitutions(self, x, edits)
                .map_err(|e| Error::Invalid(e.to_string()));
        };
        let mut out = Vec::with_capacity(edits.len());
        for cols in f.columns(x, edits, FAST_BATCH)? {
            out.extend(self.weigh(cols)?);
        }
        Ok(Array1::from(out))
    }
}

/// Substitutions per fast-ISM call: small calls stay in cache (32 measured
/// fastest of 32 to 2,048 on a 2,114 bp BPNet-like model).
const FAST_BATCH: usize = 32;

impl AttributionModel for TargetModel {
    fn substitutions(
        &self,
        x: ndarray::ArrayView2<'_, f32>,
        edits: &[(usize, usize)],
    ) -> motif_core::Result<Array1<f32>> {
        self.subs(x, edits).map_err(core_err)
    }

    fn predict(&self, x: ArrayView3<'_, f32>) -> motif_core::Result<Array1<f32>> {
        self.forward(x).map_err(core_err)
    }

    fn gradient(&self, x: ArrayView3<'_, f32>) -> motif_core::Result<(Array1<f32>, Array3<f32>)> {
        self.grad(x).map_err(core_err)
    }

    fn multipliers(
        &self,
        x: ArrayView3<'_, f32>,
        r: ArrayView3<'_, f32>,
    ) -> motif_core::Result<(Array1<f32>, Array1<f32>, Array3<f32>)> {
        self.pair(x, r).map_err(core_err)
    }

    fn batch(&self) -> usize {
        self.batch
    }
}
