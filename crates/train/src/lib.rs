//! motif-train: training through the engines.
//!
//! [`train`] fits any model whose ops have gradient rules on one-hot
//! sequences with binary labels: a train-step graph
//! ([`motif_onnx::autodiff::train`]) per batch shape runs on tract or ort;
//! the loop shuffles with the seed, holds out a validation set, stops early
//! on validation loss and returns the best weights as an ordinary inference
//! model. [`glorot_deepbind`] makes the freshly initialised DeepBind-style
//! net of the Deepprune paper. [`saliency::input_gradients`] gives
//! d(output or neuron)/d(input) per sequence; [`attribution::TargetModel`]
//! runs a model's scalar target (columns, sums, profile scores) as the
//! attribution plugins see it: predictions, gradients and DeepLIFT's pair
//! graph.
#![deny(missing_docs)]

pub mod attribution;
mod fast_ism;
pub mod saliency;

use std::collections::HashMap;
use std::path::Path;
use std::time::Instant;

use motif_core::rng::Rng;
use motif_engine::{EngineKind, GraphSession, SessionOptions, State, open_graph};
use motif_onnx::autodiff::train::{
    Adam, TrainSpec, default_params, eval_model, names, train_step_model,
};
use motif_onnx::build::{Activation, DeepBindSpec, Padding, deepbind};
use motif_onnx::pb::ModelProto;
use motif_onnx::{Layout, Model};
use ndarray::{Array2, Array3, ArrayD, Axis, IxDyn};
use prost::Message;

/// What can go wrong training.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Building a graph failed (an op without a gradient rule, …).
    #[error(transparent)]
    Onnx(#[from] motif_onnx::Error),
    /// The engine failed.
    #[error(transparent)]
    Engine(#[from] motif_engine::Error),
    /// Inconsistent data or settings.
    #[error("{0}")]
    Invalid(String),
}

/// Result with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Sequences and labels.
#[derive(Debug, Clone)]
pub struct Data {
    /// One-hot sequences, (N, 4, L).
    pub x: Array3<f32>,
    /// Labels, (N, outputs).
    pub y: Array2<f32>,
}

impl Data {
    /// Number of sequences.
    #[must_use]
    pub fn len(&self) -> usize {
        self.x.len_of(Axis(0))
    }

    /// Whether there are none.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The rows `idx`, in that order.
    #[must_use]
    pub fn select(&self, idx: &[usize]) -> Self {
        Self { x: self.x.select(Axis(0), idx), y: self.y.select(Axis(0), idx) }
    }

    /// Keras' `validation_split`: the last `fraction` of the rows (as
    /// given, before any shuffling) is held out.
    #[must_use]
    pub fn split_last(&self, fraction: f64) -> (Self, Self) {
        let n = self.len();
        let held = ((n as f64) * fraction).floor() as usize;
        let cut = n - held;
        let a: Vec<usize> = (0..cut).collect();
        let b: Vec<usize> = (cut..n).collect();
        (self.select(&a), self.select(&b))
    }
}

/// Settings of a training run.
#[derive(Debug, Clone)]
pub struct TrainConfig {
    /// Most epochs.
    pub epochs: usize,
    /// Minibatch size.
    pub batch_size: usize,
    /// Adam learning rate.
    pub lr: f64,
    /// Epochs without a better validation loss before stopping.
    pub patience: usize,
    /// L1 strength on the dense weights.
    pub l1: f32,
    /// L2 strength on the dense weights.
    pub l2: f32,
    /// Seed of the minibatch order.
    pub seed: u64,
    /// Engine, device and threads.
    pub session: SessionOptions,
    /// A tensor whose channels are multiplied by `mask` (Deepprune's kernel
    /// mask), with its values.
    pub mask: Option<(String, Vec<f32>)>,
    /// Parameters to train; `None`: [`default_params`].
    pub params: Option<Vec<String>>,
    /// The run's resume journal ([`motif_core::rundir::Journal`]), holding
    /// its state after each finished epoch (parameters, Adam moments, step
    /// count, log, best weights): a run given the same model, data and
    /// settings resumes from it and ends as the uninterrupted run would. A
    /// journal of another run is refused. Removed when training ends.
    pub checkpoint: Option<std::path::PathBuf>,
}

impl Default for TrainConfig {
    fn default() -> Self {
        Self {
            epochs: 1000,
            batch_size: 256,
            lr: 1e-3,
            patience: 15,
            l1: 0.0,
            l2: 0.0,
            seed: 1,
            session: SessionOptions::default(),
            mask: None,
            params: None,
            checkpoint: None,
        }
    }
}

/// A run's state after a finished epoch, the `state` of its resume journal
/// (see [`TrainConfig::checkpoint`]).
#[derive(serde::Serialize, serde::Deserialize)]
struct Checkpoint {
    epoch: usize,
    steps: u64,
    log: Vec<EpochLog>,
    best_loss: f64,
    best_epoch: usize,
    /// Best parameters, then the current state (parameters and moments),
    /// each as (shape, values).
    best: Vec<(Vec<usize>, Vec<f32>)>,
    state: Vec<(Vec<usize>, Vec<f32>)>,
}

/// The run's resume journal at `path` (see [`TrainConfig::checkpoint`]),
/// its fingerprint `print`: what the run depends on.
fn open_checkpoint(path: &std::path::Path, print: u64) -> Result<motif_core::rundir::Journal> {
    motif_core::rundir::Journal::open(path, &print).map_err(|e| match e {
        motif_core::Error::Invalid(_) => Error::Invalid(format!(
            "{} is the checkpoint of another run (model, data or settings differ); delete it or use another folder",
            path.display()
        )),
        e => Error::Invalid(e.to_string()),
    })
}

/// FNV-1a over what a training run depends on.
fn fingerprint(model: &Model, train: &Data, val: &Data, cfg: &TrainConfig) -> u64 {
    let mut h = 0xcbf2_9ce4_8422_2325u64;
    let mut eat = |bytes: &[u8]| {
        for &b in bytes {
            h = (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3);
        }
    };
    eat(&model.proto().encode_to_vec());
    for d in [train, val] {
        for v in d.x.iter().chain(d.y.iter()) {
            eat(&v.to_bits().to_le_bytes());
        }
        eat(&(d.len() as u64).to_le_bytes());
    }
    eat(&(cfg.batch_size as u64).to_le_bytes());
    eat(&cfg.lr.to_bits().to_le_bytes());
    eat(&(cfg.patience as u64).to_le_bytes());
    eat(&cfg.l1.to_bits().to_le_bytes());
    eat(&cfg.l2.to_bits().to_le_bytes());
    eat(&cfg.seed.to_le_bytes());
    eat(format!("{:?}{:?}", cfg.mask, cfg.params).as_bytes());
    h
}

fn flat(a: &ArrayD<f32>) -> (Vec<usize>, Vec<f32>) {
    (a.shape().to_vec(), a.iter().copied().collect())
}

fn unflat((shape, v): (Vec<usize>, Vec<f32>)) -> Result<ArrayD<f32>> {
    ArrayD::from_shape_vec(IxDyn(&shape), v)
        .map_err(|e| Error::Invalid(format!("checkpoint tensor: {e}")))
}

/// One epoch of the log.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct EpochLog {
    /// 1-based epoch.
    pub epoch: usize,
    /// Mean training loss over the epoch's minibatches (as Keras reports).
    pub loss: f64,
    /// Validation loss after the epoch.
    pub val_loss: f64,
    /// Wall time of the epoch (training and validation), seconds.
    pub seconds: f64,
    /// Training sequences per second (forward, backward, update).
    pub train_seqs_per_s: f64,
}

/// What [`train`] returns.
#[derive(Debug, Clone)]
pub struct Trained {
    /// The model with the best weights (inference graph, loads anywhere).
    pub model: ModelProto,
    /// Per-epoch log.
    pub log: Vec<EpochLog>,
    /// Epoch of the best validation loss (1-based).
    pub best_epoch: usize,
    /// Whether early stopping ended the run.
    pub stopped_early: bool,
    /// The engine that ran.
    pub engine: EngineKind,
}

/// Progress reports.
#[derive(Debug, Clone, Copy)]
pub enum Progress {
    /// A minibatch finished.
    Batch {
        /// 1-based epoch.
        epoch: usize,
        /// Minibatches done in this epoch.
        done: usize,
        /// Minibatches per epoch.
        total: usize,
        /// Running mean loss.
        loss: f64,
    },
    /// An epoch finished.
    Epoch {
        /// 1-based epoch.
        epoch: usize,
        /// Its validation loss.
        val_loss: f64,
    },
}

struct Graphs {
    step: Box<dyn GraphSession>,
    eval: Box<dyn GraphSession>,
}

/// A model being trained: its sessions per batch shape and its parameters.
struct Run<'m> {
    model: &'m Model,
    cfg: &'m TrainConfig,
    params: Vec<String>,
    dense: Vec<String>,
    output: String,
    len: usize,
    graphs: HashMap<usize, Graphs>,
    /// Parameters, then their Adam first and second moments: carried from
    /// step to step inside the engine (ort: IoBinding, on the GPU with
    /// `--device cuda`).
    state: State,
    /// The mask input's values.
    mask: Option<ArrayD<f32>>,
    engine: Option<EngineKind>,
}

impl<'m> Run<'m> {
    /// A run on `model`'s weights (`cfg.params`, else [`default_params`])
    /// for sequences of `len` bp, with Adam moments at zero.
    fn new(model: &'m Model, cfg: &'m TrainConfig, len: usize) -> Result<Self> {
        let output = model
            .structure()
            .outputs
            .first()
            .ok_or_else(|| Error::Invalid("the model has no output".into()))?
            .name
            .clone();
        let (mut params, dense) = default_params(model.proto());
        if let Some(p) = &cfg.params {
            params.clone_from(p);
        }
        if params.is_empty() {
            return Err(Error::Invalid(format!(
                "{}: no trainable weights found",
                model.path().display()
            )));
        }
        let values: Vec<ArrayD<f32>> =
            params.iter().map(|p| model.weights(p)).collect::<Result<_, _>>()?;
        let mut tensors = Vec::with_capacity(3 * params.len());
        for (p, v) in params.iter().zip(&values) {
            tensors.push((p.clone(), names::next(p), v.clone()));
        }
        for moment in [names::m, names::v] {
            for (p, v) in params.iter().zip(&values) {
                let name = moment(p);
                tensors.push((name.clone(), names::next(&name), ArrayD::zeros(v.raw_dim())));
            }
        }
        let mask = cfg
            .mask
            .as_ref()
            .map(|(_, v)| ArrayD::from_shape_vec(IxDyn(&[v.len()]), v.clone()).expect("1-D"));
        Ok(Self {
            model,
            cfg,
            params,
            dense,
            output,
            len,
            graphs: HashMap::new(),
            state: State::new(tensors),
            mask,
            engine: None,
        })
    }

    fn spec(&self, n: usize) -> TrainSpec {
        let input = &self.model.structure().input;
        let shape = match input.layout {
            Layout::Ncw => vec![n, 4, self.len],
            Layout::Nwc => vec![n, self.len, 4],
        };
        TrainSpec {
            input: (input.name.clone(), shape),
            output: self.output.clone(),
            params: self.params.clone(),
            regularized: self.dense.clone(),
            l1: self.cfg.l1,
            l2: self.cfg.l2,
            mask: self.cfg.mask.as_ref().map(|(t, _)| t.clone()),
            adam: Adam::default(),
        }
    }

    fn graphs(&mut self, n: usize) -> Result<&Graphs> {
        if !self.graphs.contains_key(&n) {
            let spec = self.spec(n);
            let path = self.model.path();
            let step = train_step_model(self.model.proto(), &spec)?.encode_to_vec();
            let eval = eval_model(self.model.proto(), &spec)?.encode_to_vec();
            let name = |what: &str| {
                Path::new(&format!("{} ({what}, batch {n})", path.display())).to_path_buf()
            };
            let step = open_graph(&name("train step"), &step, &self.cfg.session)?;
            let eval = open_graph(&name("evaluation"), &eval, &self.cfg.session)?;
            self.engine = Some(step.engine());
            self.graphs.insert(n, Graphs { step, eval });
        }
        Ok(&self.graphs[&n])
    }

    /// A batch as the graphs take it: x in the model's layout, labels.
    fn arrays(&self, batch: Data) -> (ArrayD<f32>, ArrayD<f32>) {
        let x = match self.model.structure().input.layout {
            Layout::Ncw => batch.x.into_dyn(),
            Layout::Nwc => {
                batch.x.permuted_axes([0, 2, 1]).as_standard_layout().into_owned().into_dyn()
            }
        };
        (x, batch.y.into_dyn())
    }

    /// Named inputs shared by step and eval graphs (the parameters come
    /// from the state).
    fn common<'a>(
        model: &'a Model,
        mask: Option<&'a ArrayD<f32>>,
        x: &'a ArrayD<f32>,
        y: &'a ArrayD<f32>,
    ) -> Vec<(&'a str, ndarray::ArrayViewD<'a, f32>)> {
        let mut ins =
            vec![(model.structure().input.name.as_str(), x.view()), (names::LABELS, y.view())];
        if let Some(m) = mask {
            ins.push((names::MASK, m.view()));
        }
        ins
    }

    /// Host copies of every state tensor (parameters, then moments).
    fn state_values(&self) -> Result<Vec<ArrayD<f32>>> {
        (0..self.state.names().len()).map(|k| Ok(self.state.read(k)?)).collect()
    }

    /// Replaces the state (parameters, then moments) with `values`.
    fn restore(&mut self, values: Vec<ArrayD<f32>>) -> Result<()> {
        let names = self.state.names().to_vec();
        if values.len() != names.len() {
            return Err(Error::Invalid("checkpoint: wrong number of tensors".into()));
        }
        let tensors = names.into_iter().zip(values).map(|((i, o), v)| (i, o, v)).collect();
        self.state = State::new(tensors);
        Ok(())
    }

    /// Host copies of the current parameters.
    fn values(&self) -> Result<Vec<ArrayD<f32>>> {
        (0..self.params.len()).map(|k| Ok(self.state.read(k)?)).collect()
    }

    fn step(&mut self, batch: Data, lr_t: f32) -> Result<f64> {
        let n = batch.len();
        self.graphs(n)?;
        let (x, y) = self.arrays(batch);
        let lr = ArrayD::from_elem(IxDyn(&[]), lr_t);
        let outs = {
            let mut ins = Self::common(self.model, self.mask.as_ref(), &x, &y);
            ins.push((names::LR, lr.view()));
            self.graphs[&n].step.run_state(&ins, &mut self.state)?
        };
        let loss = f64::from(*outs[0].first().expect("scalar loss"));
        if !loss.is_finite() {
            return Err(Error::Invalid(format!(
                "the loss became {loss}; try a smaller learning rate"
            )));
        }
        Ok(loss)
    }

    fn evaluate(&mut self, data: &Data) -> Result<(f64, Array2<f32>)> {
        let n = data.len();
        let b = self.cfg.batch_size.min(n).max(1);
        let mut total = 0.0;
        let mut preds = Vec::with_capacity(n);
        let mut outs_per = 0;
        for start in (0..n).step_by(b) {
            let idx: Vec<usize> = (start..(start + b).min(n)).collect();
            self.graphs(idx.len())?;
            let (x, y) = self.arrays(data.select(&idx));
            let outs = {
                let ins = Self::common(self.model, self.mask.as_ref(), &x, &y);
                self.graphs[&idx.len()].eval.run_state(&ins, &mut self.state)?
            };
            total += f64::from(*outs[0].first().expect("scalar")) * idx.len() as f64;
            outs_per = outs[1].len() / idx.len();
            preds.extend(outs[1].iter().copied());
        }
        let preds = Array2::from_shape_vec((n, outs_per), preds)
            .map_err(|e| Error::Invalid(e.to_string()))?;
        Ok((total / n as f64, preds))
    }
}

/// Trains `model` on `train`, stopping early on `val`'s loss; see
/// [`TrainConfig`]. Deterministic given the seed (on one engine).
///
/// # Errors
/// On empty or inconsistent data, a model whose ops lack gradient rules,
/// an engine failure, or a loss that is not finite.
#[allow(
    clippy::too_many_lines,
    reason = "one training loop: epochs, minibatches, early stopping, checkpoints"
)]
pub fn train(
    model: &Model,
    train_set: &Data,
    val: &Data,
    cfg: &TrainConfig,
    progress: &mut dyn FnMut(Progress),
) -> Result<Trained> {
    if train_set.is_empty() || val.is_empty() {
        return Err(Error::Invalid("the training and validation sets must not be empty".into()));
    }
    let len = train_set.x.len_of(Axis(2));
    if val.x.len_of(Axis(2)) != len {
        return Err(Error::Invalid(format!(
            "validation sequences are {} bp, training ones {len}",
            val.x.len_of(Axis(2))
        )));
    }
    if let Some(l) = model.structure().input.length
        && l != len
    {
        return Err(Error::Invalid(format!(
            "{}: the model takes {l} bp, the sequences are {len}",
            model.path().display()
        )));
    }
    let mut run = Run::new(model, cfg, len)?;
    let adam = Adam::default();
    let rng = Rng::new(cfg.seed);
    let mut log = Vec::new();
    let mut best = (f64::INFINITY, 0usize, run.values()?);
    let mut t = 0u64;
    let mut stopped_early = false;
    let n = train_set.len();
    let b = cfg.batch_size.max(1);
    let batches = n.div_ceil(b);
    let print = fingerprint(model, train_set, val, cfg);
    let mut first = 1;
    // Read when it exists; created after the first finished epoch, so a run
    // that fails before leaves nothing behind.
    let mut journal = match cfg.checkpoint.as_deref() {
        Some(p) if p.exists() => Some(open_checkpoint(p, print)?),
        _ => None,
    };
    if let Some(c) = journal.as_ref().and_then(|j| j.get::<Checkpoint>("state")) {
        run.restore(c.state.into_iter().map(unflat).collect::<Result<_>>()?)?;
        best = (c.best_loss, c.best_epoch, c.best.into_iter().map(unflat).collect::<Result<_>>()?);
        (first, t, log) = (c.epoch + 1, c.steps, c.log);
        stopped_early = c.epoch - c.best_epoch >= cfg.patience;
    }
    for epoch in first..=cfg.epochs {
        if stopped_early {
            break;
        }
        let t0 = Instant::now();
        let mut order: Vec<usize> = (0..n).collect();
        rng.fork(epoch as u64).shuffle(&mut order);
        let mut sum = 0.0;
        for (k, chunk) in order.chunks(b).enumerate() {
            t += 1;
            let loss = run.step(train_set.select(chunk), adam.lr_t(cfg.lr, t))?;
            sum += loss;
            progress(Progress::Batch {
                epoch,
                done: k + 1,
                total: batches,
                loss: sum / (k + 1) as f64,
            });
        }
        let train_s = t0.elapsed().as_secs_f64();
        let (val_loss, _) = run.evaluate(val)?;
        log.push(EpochLog {
            epoch,
            loss: sum / batches as f64,
            val_loss,
            seconds: t0.elapsed().as_secs_f64(),
            train_seqs_per_s: n as f64 / train_s,
        });
        if val_loss < best.0 {
            best = (val_loss, epoch, run.values()?);
        } else if epoch - best.1 >= cfg.patience {
            stopped_early = true;
        }
        if let Some(path) = cfg.checkpoint.as_deref() {
            let j = match &mut journal {
                Some(j) => j,
                None => journal.insert(open_checkpoint(path, print)?),
            };
            let c = Checkpoint {
                epoch,
                steps: t,
                log: log.clone(),
                best_loss: best.0,
                best_epoch: best.1,
                best: best.2.iter().map(flat).collect(),
                state: run.state_values()?.iter().map(flat).collect(),
            };
            j.replace("state", &c).map_err(|e| Error::Invalid(e.to_string()))?;
        }
        // After the checkpoint: an interruption from here on loses nothing.
        progress(Progress::Epoch { epoch, val_loss });
    }
    if let Some(j) = journal {
        let _ = j.remove();
    }
    let mut proto = model.proto().clone();
    let g = proto.graph.as_mut().expect("graph");
    for (p, v) in run.params.iter().zip(&best.2) {
        let t = g.initializer.iter_mut().find(|t| t.name() == p).expect("initializer");
        let dims: Vec<usize> = v.shape().to_vec();
        let vals: Vec<f32> = v.iter().copied().collect();
        *t = motif_onnx::tensor::from_f32(p, &dims, &vals);
    }
    Ok(Trained {
        model: proto,
        log,
        best_epoch: best.1,
        stopped_early,
        engine: run.engine.unwrap_or(EngineKind::Tract),
    })
}

/// Predictions of `model` (its current weights) for `data`, through the
/// evaluation graph.
///
/// # Errors
/// As [`train`].
pub fn predict(model: &Model, data: &Data, cfg: &TrainConfig) -> Result<Array2<f32>> {
    let mut run = Run::new(model, cfg, data.x.len_of(Axis(2)))?;
    Ok(run.evaluate(data)?.1)
}

/// The DeepBind-style net of the Deepprune paper, freshly initialised as
/// Keras does: Glorot-uniform kernels (conv fan-in 4·w, fan-out k·w; dense
/// fan-in k, fan-out outputs), zero biases; 'same' padding; sigmoid output.
#[must_use]
pub fn glorot_deepbind(
    kernels: usize,
    width: usize,
    outputs: usize,
    activation: Activation,
    len: Option<usize>,
    seed: u64,
) -> ModelProto {
    let mut rng = Rng::new(seed);
    let mut uniform = |limit: f64| ((rng.f64() * 2.0 - 1.0) * limit) as f32;
    let conv_limit = (6.0 / ((4 * width + kernels * width) as f64)).sqrt();
    let dense_limit = (6.0 / ((kernels + outputs) as f64)).sqrt();
    let spec = DeepBindSpec {
        kernels: Array3::from_shape_fn((kernels, 4, width), |_| uniform(conv_limit)),
        conv_bias: vec![0.0; kernels],
        dense: Array2::from_shape_fn((outputs, kernels), |_| uniform(dense_limit)),
        dense_bias: vec![0.0; outputs],
        activation,
        padding: Padding::Same,
        length: len,
        sigmoid: true,
    };
    deepbind(&spec)
}

/// One conv block of [`glorot_stack`]: kernels, width, max pool after it (1 = none).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Block {
    /// Kernels.
    pub kernels: usize,
    /// Kernel width.
    pub width: usize,
    /// Max-pool size (= stride) after the block; 1 = none.
    pub pool: usize,
}

impl Block {
    /// Parses `KxW` or `KxW:P` (e.g. `64x7:2`).
    ///
    /// # Errors
    /// On anything else, or a zero.
    pub fn parse(s: &str) -> Result<Self> {
        let bad = || {
            Error::Invalid(format!(
                "layer `{s}`: expected KERNELSxWIDTH or KERNELSxWIDTH:POOL, e.g. 64x7:2"
            ))
        };
        let (kw, pool) = match s.split_once(':') {
            Some((kw, p)) => (kw, p.trim().parse::<usize>().map_err(|_| bad())?),
            None => (s, 1),
        };
        let (k, w) = kw.split_once('x').ok_or_else(bad)?;
        let kernels = k.trim().parse::<usize>().map_err(|_| bad())?;
        let width = w.trim().parse::<usize>().map_err(|_| bad())?;
        if kernels == 0 || width == 0 || pool == 0 {
            return Err(bad());
        }
        Ok(Self { kernels, width, pool })
    }
}

/// A stacked CNN ([`motif_onnx::build::stack`]) freshly initialised as
/// Keras does: Glorot-uniform kernels and dense weights, zero biases;
/// with `batchnorm`, each block has BatchNorm (scale 1, shift 0, running
/// mean 0, variance 1) instead of a conv bias; sigmoid output. With
/// `dense` false, the last block's kernels (one per output) are the logits.
#[must_use]
pub fn glorot_stack(
    blocks: &[Block],
    batchnorm: bool,
    dense: bool,
    outputs: usize,
    seed: u64,
) -> ModelProto {
    let mut rng = Rng::new(seed);
    let mut uniform = |limit: f64| ((rng.f64() * 2.0 - 1.0) * limit) as f32;
    let mut layers = Vec::with_capacity(blocks.len());
    let mut c = 4;
    for b in blocks {
        let limit = (6.0 / ((c * b.width + b.kernels * b.width) as f64)).sqrt();
        let kernels = Array3::from_shape_fn((b.kernels, c, b.width), |_| uniform(limit));
        let k = b.kernels;
        layers.push(motif_onnx::build::StackLayer {
            kernels,
            bias: (!batchnorm).then(|| vec![0.0; k]),
            batchnorm: batchnorm.then(|| [vec![1.0; k], vec![0.0; k], vec![0.0; k], vec![1.0; k]]),
            pool: b.pool,
        });
        c = k;
    }
    let dense_limit = (6.0 / ((c + outputs) as f64)).sqrt();
    let spec = motif_onnx::build::StackSpec {
        layers,
        dense: dense.then(|| {
            (Array2::from_shape_fn((outputs, c), |_| uniform(dense_limit)), vec![0.0; outputs])
        }),
        length: None,
        sigmoid: true,
    };
    motif_onnx::build::stack(&spec)
}

/// Sets every inference BatchNormalization's running mean and variance to
/// the statistics of its input over `x` (one-hot, (N, 4, L)), adjusting its
/// scale and shift so that the model computes exactly the same function.
/// Training treats BatchNorm as a per-channel affine map with fixed running
/// statistics; this gives the trained model the statistics a Keras or
/// PyTorch model carries, so its BatchNorm inputs are centred and scaled.
///
/// # Errors
/// If the model cannot run or a BatchNorm's parameters are not constants.
pub fn calibrate_batchnorm(
    proto: &ModelProto,
    x: &Array3<f32>,
    opts: &SessionOptions,
) -> Result<ModelProto> {
    let graph = proto.graph.as_ref().ok_or_else(|| Error::Invalid("no graph".into()))?;
    let bns: Vec<&motif_onnx::pb::NodeProto> =
        graph.node.iter().filter(|n| n.op_type() == "BatchNormalization").collect();
    if bns.is_empty() {
        return Ok(proto.clone());
    }
    let model = Model::from_bytes(&proto.encode_to_vec(), Path::new("calibration"))?;
    let mut o = opts.clone();
    o.outputs = bns.iter().map(|n| n.input[0].clone()).collect();
    let session = motif_engine::open(&model, &o)?;
    let n = x.shape()[0];
    let mut sums: Vec<(Vec<f64>, Vec<f64>, f64)> = Vec::new();
    for start in (0..n).step_by(1024) {
        let end = (start + 1024).min(n);
        let outs = session.run(x.slice(ndarray::s![start..end, .., ..]))?;
        for (k, t) in outs.iter().enumerate() {
            let c = t.shape()[1];
            if sums.len() <= k {
                sums.push((vec![0.0; c], vec![0.0; c], 0.0));
            }
            let t3 = t
                .view()
                .into_shape_with_order((t.shape()[0], c, t.len() / (t.shape()[0] * c)))
                .map_err(|e| Error::Invalid(e.to_string()))?;
            let (s1, s2, cnt) = &mut sums[k];
            for ch in 0..c {
                let col = t3.index_axis(Axis(1), ch);
                s1[ch] += col.iter().map(|&v| f64::from(v)).sum::<f64>();
                s2[ch] += col.iter().map(|&v| f64::from(v) * f64::from(v)).sum::<f64>();
            }
            *cnt += (t3.shape()[0] * t3.shape()[2]) as f64;
        }
    }
    let mut out = proto.clone();
    let g = out.graph.as_mut().expect("graph");
    for (bn, (s1, s2, cnt)) in bns.iter().zip(&sums) {
        let eps = f64::from(
            bn.attribute.iter().find(|a| a.name() == "epsilon").and_then(|a| a.f).unwrap_or(1e-5),
        );
        let get = |name: &str| -> Result<Vec<f64>> {
            let t = graph.initializer.iter().find(|t| t.name() == name).ok_or_else(|| {
                Error::Invalid(format!("BatchNorm parameter `{name}` is not an initializer"))
            })?;
            Ok(motif_onnx::tensor::to_f32(t)?.iter().map(|&v| f64::from(v)).collect())
        };
        let (scale, bias, mean, var) =
            (get(&bn.input[1])?, get(&bn.input[2])?, get(&bn.input[3])?, get(&bn.input[4])?);
        let c = scale.len();
        let (mut ns, mut nb, mut nm, mut nv) =
            (vec![0f32; c], vec![0f32; c], vec![0f32; c], vec![0f32; c]);
        for ch in 0..c {
            // y = a·x + b with a = scale/sd_old, b = bias − a·mean_old.
            let a = scale[ch] / (var[ch] + eps).sqrt();
            let b = bias[ch] - a * mean[ch];
            let mu = s1[ch] / cnt;
            let v = (s2[ch] / cnt - mu * mu).max(0.0);
            let sd = (v + eps).sqrt();
            nm[ch] = mu as f32;
            nv[ch] = v as f32;
            ns[ch] = (a * sd) as f32;
            nb[ch] = (b + a * mu) as f32;
        }
        for (k, vals) in [(1, ns), (2, nb), (3, nm), (4, nv)] {
            let name = bn.input[k].clone();
            let t = g.initializer.iter_mut().find(|t| t.name() == name).expect("found above");
            let dims: Vec<usize> = t.dims.iter().map(|&d| d as usize).collect();
            *t = motif_onnx::tensor::from_f32(&name, &dims, &vals);
        }
    }
    Ok(out)
}
