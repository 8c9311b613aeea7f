//! Running any ONNX graph with named float inputs: what gradient and
//! train-step graphs need (several inputs, none of them one-hot DNA).

use std::path::Path;

use ndarray::{ArrayD, ArrayViewD};
use prost::Message;

use crate::error::{Error, Result};
use crate::{Device, EngineKind, SessionOptions, ort_backend, tract_backend};

/// A graph ready to run on named inputs.
pub trait GraphSession: Send + Sync {
    /// Runs with every graph input given by name; returns the requested
    /// outputs in order.
    ///
    /// # Errors
    /// If an input is missing, unknown, or the engine fails (naming it).
    fn run(&self, inputs: &[(&str, ArrayViewD<'_, f32>)]) -> Result<Vec<ArrayD<f32>>>;
    /// Runs with `given` plus every tensor of `state` that the graph takes
    /// as an input. Where the graph also produces a state tensor's output
    /// name, that output becomes the tensor's new value (a train step
    /// updating its parameters); a graph that only reads the state (an
    /// evaluation) leaves it as it is. Returns the graph's other outputs,
    /// in order. On ort the state stays in engine memory (IoBinding; on the
    /// GPU with `--device cuda`) from one run to the next.
    ///
    /// # Errors
    /// As [`GraphSession::run`].
    fn run_state(
        &self,
        given: &[(&str, ArrayViewD<'_, f32>)],
        state: &mut State,
    ) -> Result<Vec<ArrayD<f32>>>;
    /// Names of the returned tensors.
    fn output_names(&self) -> &[String];
    /// The engine.
    fn engine(&self) -> EngineKind;
    /// The device.
    fn device(&self) -> Device;
}

/// Tensors carried from one run of a graph to the next (a train step's
/// parameters and optimizer moments), each read from a graph input and
/// replaced by a graph output. They start on the host; the first ort run
/// moves them into engine memory, where they stay until [`State::read`]
/// copies one back. One state can be used by several graphs on the same
/// engine (train steps of different batch sizes, an evaluation graph).
pub struct State {
    /// (input name, output name) per tensor.
    pub(crate) names: Vec<(String, String)>,
    pub(crate) store: Store,
}

/// Where a [`State`]'s tensors are.
pub(crate) enum Store {
    /// Host arrays (new, or used with tract).
    Host(Vec<ArrayD<f32>>),
    /// ONNX Runtime tensors on the session's device.
    #[cfg_attr(not(feature = "ort"), allow(dead_code))]
    Ort(ort_backend::OrtState),
}

impl State {
    /// A state of `(input name, output name, initial value)` tensors.
    #[must_use]
    pub fn new(tensors: Vec<(String, String, ArrayD<f32>)>) -> Self {
        let (names, values) = tensors.into_iter().map(|(i, o, v)| ((i, o), v)).unzip();
        Self { names, store: Store::Host(values) }
    }

    /// The (input, output) names, in order.
    #[must_use]
    pub fn names(&self) -> &[(String, String)] {
        &self.names
    }

    /// Whether the tensors are held by the engine (after an ort run) rather
    /// than in host arrays.
    #[must_use]
    pub fn in_engine(&self) -> bool {
        matches!(self.store, Store::Ort(_))
    }

    /// A copy of tensor `k` on the host.
    ///
    /// # Errors
    /// If copying it from the device fails.
    ///
    /// # Panics
    /// If `k` is out of range.
    pub fn read(&self, k: usize) -> Result<ArrayD<f32>> {
        match &self.store {
            Store::Host(v) => Ok(v[k].clone()),
            Store::Ort(s) => s.read(k),
        }
    }
}

impl Store {
    /// Moves the `n` tensors to host arrays (what tract runs on).
    fn host_values(&mut self, n: usize) -> Result<&mut Vec<ArrayD<f32>>> {
        if let Self::Ort(s) = self {
            let v = (0..n).map(|k| s.read(k)).collect::<Result<Vec<_>>>()?;
            *self = Self::Host(v);
        }
        match self {
            Self::Host(v) => Ok(v),
            Self::Ort(_) => unreachable!("just moved to the host"),
        }
    }
}

/// [`GraphSession::run_state`] with host arrays: the state goes in as
/// ordinary inputs and the outputs that update it are moved back.
pub(crate) fn run_state_host(
    graph: &dyn GraphSession,
    inputs: &[String],
    given: &[(&str, ArrayViewD<'_, f32>)],
    state: &mut State,
) -> Result<Vec<ArrayD<f32>>> {
    let State { names, store } = state;
    let values = store.host_values(names.len())?;
    let outs = {
        let mut all: Vec<(&str, ArrayViewD<'_, f32>)> = given.to_vec();
        for ((i, _), v) in names.iter().zip(values.iter()) {
            if inputs.iter().any(|n| n == i) {
                all.push((i.as_str(), v.view()));
            }
        }
        graph.run(&all)?
    };
    let mut rest = Vec::new();
    for (name, out) in graph.output_names().iter().zip(outs) {
        match names.iter().position(|(_, o)| o == name) {
            Some(k) => values[k] = out,
            None => rest.push(out),
        }
    }
    Ok(rest)
}

/// Opens `bytes` (an ONNX model) as a [`GraphSession`]. `path` names the
/// graph in messages. Outputs are `opts.outputs`, or the graph's own.
///
/// # Errors
/// If the bytes are not ONNX, the engine is unavailable or cannot load it.
pub fn open_graph(
    path: &Path,
    bytes: &[u8],
    opts: &SessionOptions,
) -> Result<Box<dyn GraphSession>> {
    let proto = motif_onnx::pb::ModelProto::decode(bytes).map_err(|e| Error::Load {
        path: path.into(),
        engine: EngineKind::Tract,
        msg: format!("not an ONNX model: {e}"),
    })?;
    let graph = proto.graph.unwrap_or_default();
    let inits: std::collections::HashSet<&str> =
        graph.initializer.iter().map(motif_onnx::pb::TensorProto::name).collect();
    let inputs: Vec<String> = graph
        .input
        .iter()
        .map(|i| i.name().to_owned())
        .filter(|n| !inits.contains(n.as_str()))
        .collect();
    let outputs: Vec<String> = if opts.outputs.is_empty() {
        graph.output.iter().map(|o| o.name().to_owned()).collect()
    } else {
        opts.outputs.clone()
    };
    match crate::choose(opts)? {
        EngineKind::Tract => Ok(Box::new(tract_backend::TractGraph::new(path, bytes, outputs)?)),
        EngineKind::Ort => {
            Ok(Box::new(ort_backend::OrtGraph::new(path, bytes, inputs, outputs, opts)?))
        }
    }
}

/// Orders `given` by `names` (the graph's inputs), or says what is missing or unknown.
pub(crate) fn order_inputs<'a, 'v>(
    path: &Path,
    engine: EngineKind,
    names: &[String],
    given: &'a [(&str, ArrayViewD<'v, f32>)],
) -> Result<Vec<&'a ArrayViewD<'v, f32>>> {
    if let Some((n, _)) = given.iter().find(|(n, _)| !names.iter().any(|m| m == n)) {
        return Err(Error::Graph {
            path: path.into(),
            engine,
            msg: format!("the graph has no input `{n}` (inputs: {})", names.join(", ")),
        });
    }
    names
        .iter()
        .map(|name| {
            given.iter().find(|(n, _)| n == name).map(|(_, v)| v).ok_or_else(|| Error::Graph {
                path: path.into(),
                engine,
                msg: format!("input `{name}` not given"),
            })
        })
        .collect()
}
