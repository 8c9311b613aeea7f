//! The error type of motif-engine.

use std::path::PathBuf;

use crate::EngineKind;

/// What can go wrong opening or running a session.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The model could not be prepared.
    #[error(transparent)]
    Onnx(#[from] motif_onnx::Error),
    /// The engine cannot be used in this build or on this machine.
    #[error("engine `{engine}` is unavailable: {reason}")]
    Unavailable {
        /// The engine.
        engine: EngineKind,
        /// Why.
        reason: String,
    },
    /// The device cannot be used.
    #[error("{msg}")]
    Device {
        /// What is wrong and what to do.
        msg: String,
    },
    /// The engine rejected the model.
    #[error("{}: {engine} cannot load the model: {msg}", path.display())]
    Load {
        /// The model file.
        path: PathBuf,
        /// The engine.
        engine: EngineKind,
        /// The engine's message (names the node or op).
        msg: String,
    },
    /// The input does not fit the model.
    #[error("{}: {msg}", path.display())]
    Input {
        /// The model file.
        path: PathBuf,
        /// What does not fit.
        msg: String,
    },
    /// The engine failed while running.
    #[error("{}: {engine} failed on a batch of shape {shape:?}: {msg}", path.display())]
    Run {
        /// The model file.
        path: PathBuf,
        /// The engine.
        engine: EngineKind,
        /// Input shape (n, 4, len).
        shape: [usize; 3],
        /// The engine's message.
        msg: String,
    },
    /// A graph run with named inputs failed.
    #[error("{}: {engine}: {msg}", path.display())]
    Graph {
        /// The graph (file or what it was built for).
        path: PathBuf,
        /// The engine.
        engine: EngineKind,
        /// What failed (names the input, output or node).
        msg: String,
    },
    /// Moving a run's carried state between host and engine failed.
    #[error("{engine}: carried state: {msg}")]
    State {
        /// The engine.
        engine: EngineKind,
        /// What failed (names the tensor).
        msg: String,
    },
}

/// Result with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
