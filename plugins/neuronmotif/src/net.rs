//! The windowed sub-network of one conv layer on an engine: neuron values
//! of every layer up to the target, and input gradients of one target
//! neuron, for sequences of exactly the receptive-field length.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Mutex;

use motif_engine::{EngineKind, GraphSession, SessionOptions, open_graph};
use motif_onnx::window::{ChainLayer, Windowed};
use motif_onnx::{Layout, Model};
use ndarray::{Array1, Array2, Array3, ArrayD, Axis, s};
use prost::Message;
use rayon::prelude::*;

use crate::{Error, Result};

/// Windows per engine call.
pub const CHUNK: usize = 1024;

pub use motif_core::plugin::Seqs;

/// The target layer's sub-network, opened on an engine.
pub struct Network {
    win: Windowed,
    opts: SessionOptions,
    name: String,
    values: Mutex<HashMap<usize, std::sync::Arc<dyn GraphSession>>>,
    grads: Mutex<HashMap<usize, std::sync::Arc<dyn GraphSession>>>,
    engine: EngineKind,
    kernel: ArrayD<f32>,
}

impl std::fmt::Debug for Network {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Network")
            .field("name", &self.name)
            .field("window", &self.win.window)
            .finish_non_exhaustive()
    }
}

impl Network {
    /// Opens conv layer `layer` of `model` (0-based) on the engine `opts` picks.
    ///
    /// # Errors
    /// If the layer is out of range, the path to it is outside the method
    /// (naming the node), or the engine cannot load it.
    pub fn open(model: &Model, layer: usize, opts: &SessionOptions) -> Result<Self> {
        let win = Windowed::new(model, layer)?;
        let name = format!("{} (layer {layer}, {} bp windows)", model.path().display(), win.window);
        // (out, in, width): 2-D convs (tf2onnx) carry a unit axis.
        let top = &win.layers[layer];
        let kernel = model
            .weights(&top.weight)?
            .into_shape_with_order(ndarray::IxDyn(&[top.channels, top.in_channels, top.width]))
            .map_err(|e| Error::Invalid(format!("kernel `{}`: {e}", top.weight)))?;
        let mut opts = opts.clone();
        opts.outputs.clear();
        let net = Self {
            win,
            opts,
            name,
            values: Mutex::new(HashMap::new()),
            grads: Mutex::new(HashMap::new()),
            engine: EngineKind::Tract,
            kernel,
        };
        // Open one session now: engine errors surface here, and we learn the engine.
        let s = net.value_session(1)?;
        Ok(Self { engine: s.engine(), ..net })
    }

    /// The layers 0..=L.
    #[must_use]
    pub fn layers(&self) -> &[ChainLayer] {
        &self.win.layers
    }

    /// The target layer.
    #[must_use]
    pub fn top(&self) -> &ChainLayer {
        self.win.layers.last().expect("at least one layer")
    }

    /// The window length (the target layer's receptive field).
    #[must_use]
    pub fn window(&self) -> usize {
        self.win.window
    }

    /// The engine running it.
    #[must_use]
    pub fn engine(&self) -> EngineKind {
        self.engine
    }

    /// The target layer's kernel weights, (out, in, width).
    #[must_use]
    pub fn kernel(&self) -> &ArrayD<f32> {
        &self.kernel
    }

    fn value_session(&self, n: usize) -> Result<std::sync::Arc<dyn GraphSession>> {
        let mut map = self.values.lock().expect("poisoned");
        if let Some(s) = map.get(&n) {
            return Ok(s.clone());
        }
        let bytes = self.win.proto.encode_to_vec();
        let s: std::sync::Arc<dyn GraphSession> =
            open_graph(Path::new(&self.name), &bytes, &self.opts)?.into();
        map.insert(n, s.clone());
        Ok(s)
    }

    fn grad_session(&self, n: usize) -> Result<std::sync::Arc<dyn GraphSession>> {
        let mut map = self.grads.lock().expect("poisoned");
        if let Some(s) = map.get(&n) {
            return Ok(s.clone());
        }
        let g = self.win.gradient_model(n)?;
        let name = format!("{} (input gradient)", self.name);
        let s: std::sync::Arc<dyn GraphSession> =
            open_graph(Path::new(&name), &g.encode_to_vec(), &self.opts)?.into();
        map.insert(n, s.clone());
        Ok(s)
    }

    fn input(&self, seqs: &Seqs, lo: usize, hi: usize, rows: usize) -> ArrayD<f32> {
        let len = self.win.window;
        let mut x = Array3::<f32>::zeros((rows, 4, len));
        for (r, i) in (lo..hi).enumerate() {
            for (j, &b) in seqs.get(i).iter().enumerate() {
                x[[r, usize::from(b), j]] = 1.0;
            }
        }
        match self.win.layout {
            Layout::Ncw => x.into_dyn(),
            Layout::Nwc => x.permuted_axes([0, 2, 1]).as_standard_layout().into_owned().into_dyn(),
        }
    }

    fn chunks(n: usize) -> Vec<(usize, usize)> {
        (0..n).step_by(CHUNK).map(|lo| (lo, (lo + CHUNK).min(n))).collect()
    }

    /// Rows per engine call for `n` sequences: one session size for every
    /// call (the last chunk is padded).
    fn rows(n: usize) -> usize {
        n.clamp(1, CHUNK)
    }

    fn parallel(&self) -> bool {
        self.engine == EngineKind::Tract
    }

    /// The values of `layers` (indices into [`Network::layers`]) for every
    /// sequence, each flattened to (n, positions · channels).
    ///
    /// # Errors
    /// If the engine fails or a sequence has the wrong length.
    pub fn values(&self, seqs: &Seqs, layers: &[usize]) -> Result<Vec<Array2<f32>>> {
        self.check_len(seqs)?;
        let n = seqs.n();
        let rows = Self::rows(n);
        let run = |&(lo, hi): &(usize, usize)| -> Result<Vec<Array2<f32>>> {
            let sess = self.value_session(rows)?;
            let x = self.input(seqs, lo, hi, rows);
            let out = sess.run(&[(self.win.input.as_str(), x.view())])?;
            layers
                .iter()
                .map(|&l| {
                    let t = &out[l];
                    let flat = t
                        .view()
                        .into_shape_with_order((rows, t.len() / rows))
                        .map_err(|e| Error::Invalid(e.to_string()))?;
                    Ok(flat.slice(s![..hi - lo, ..]).to_owned())
                })
                .collect()
        };
        let parts: Vec<Vec<Array2<f32>>> = if self.parallel() {
            Self::chunks(n).par_iter().map(run).collect::<Result<_>>()?
        } else {
            Self::chunks(n).iter().map(run).collect::<Result<_>>()?
        };
        let mut out = Vec::with_capacity(layers.len());
        for k in 0..layers.len() {
            let views: Vec<_> = parts.iter().map(|p| p[k].view()).collect();
            out.push(if views.is_empty() {
                Array2::zeros((0, 0))
            } else {
                ndarray::concatenate(Axis(0), &views).map_err(|e| Error::Invalid(e.to_string()))?
            });
        }
        Ok(out)
    }

    /// Target-layer neuron `k`'s value for every sequence.
    ///
    /// # Errors
    /// As [`Network::values`].
    pub fn neuron(&self, seqs: &Seqs, k: usize) -> Result<Array1<f32>> {
        let top = self.win.layers.len() - 1;
        let v = self.values(seqs, &[top])?.remove(0);
        Ok(v.column(k).to_owned())
    }

    /// Target-layer neuron `k`'s value and its gradient with respect to the
    /// one-hot input, (n, 4, window), for every sequence.
    ///
    /// # Errors
    /// As [`Network::values`], or when a node has no gradient rule.
    pub fn gradient(&self, seqs: &Seqs, k: usize) -> Result<(Array1<f32>, Array3<f32>)> {
        self.check_len(seqs)?;
        let n = seqs.n();
        let rows = Self::rows(n);
        let ch = self.top().channels;
        let run = |&(lo, hi): &(usize, usize)| -> Result<(Array1<f32>, Array3<f32>)> {
            let sess = self.grad_session(rows)?;
            let x = self.input(seqs, lo, hi, rows);
            let mut seed = Array2::<f32>::zeros((rows, ch));
            seed.column_mut(k).fill(1.0);
            let seed = seed.into_dyn();
            let out =
                sess.run(&[(self.win.input.as_str(), x.view()), ("grad_seed", seed.view())])?;
            let v = out[0]
                .view()
                .into_shape_with_order((rows, ch))
                .map_err(|e| Error::Invalid(e.to_string()))?
                .column(k)
                .slice(s![..hi - lo])
                .to_owned();
            let g = out[1]
                .clone()
                .into_dimensionality::<ndarray::Ix3>()
                .map_err(|e| Error::Invalid(e.to_string()))?;
            let g = match self.win.layout {
                Layout::Ncw => g,
                Layout::Nwc => g.permuted_axes([0, 2, 1]),
            };
            Ok((v, g.slice(s![..hi - lo, .., ..]).to_owned()))
        };
        let parts: Vec<(Array1<f32>, Array3<f32>)> = if self.parallel() {
            Self::chunks(n).par_iter().map(run).collect::<Result<_>>()?
        } else {
            Self::chunks(n).iter().map(run).collect::<Result<_>>()?
        };
        let vs: Vec<_> = parts.iter().map(|p| p.0.view()).collect();
        let gs: Vec<_> = parts.iter().map(|p| p.1.view()).collect();
        if vs.is_empty() {
            return Ok((Array1::zeros(0), Array3::zeros((0, 4, self.win.window))));
        }
        Ok((
            ndarray::concatenate(Axis(0), &vs).map_err(|e| Error::Invalid(e.to_string()))?,
            ndarray::concatenate(Axis(0), &gs).map_err(|e| Error::Invalid(e.to_string()))?,
        ))
    }

    fn check_len(&self, seqs: &Seqs) -> Result<()> {
        if seqs.len != self.win.window {
            return Err(Error::Invalid(format!(
                "sequences of {} bp given to a {} bp window",
                seqs.len, self.win.window
            )));
        }
        Ok(())
    }
}

impl motif_core::plugin::NeuronNetwork for Network {
    fn pools(&self) -> Vec<usize> {
        self.win.layers.iter().map(|l| l.pool).collect()
    }

    fn layer_values(&self, seqs: &Seqs, layer: usize) -> motif_core::Result<Array2<f32>> {
        Ok(self.values(seqs, &[layer]).map_err(Error::into_core)?.remove(0))
    }

    fn neuron_values(&self, seqs: &Seqs, k: usize) -> motif_core::Result<Array1<f32>> {
        self.neuron(seqs, k).map_err(Error::into_core)
    }
}
