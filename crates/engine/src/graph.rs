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
    /// Names of the returned tensors.
    fn output_names(&self) -> &[String];
    /// The engine.
    fn engine(&self) -> EngineKind;
    /// The device.
    fn device(&self) -> Device;
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
        graph.initializer.iter().map(|t| t.name()).collect();
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
