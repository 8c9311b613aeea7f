//! The error type of motif-onnx.

use std::path::PathBuf;

/// What can go wrong importing or editing an ONNX model.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The file could not be read.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The bytes are not an ONNX model.
    #[error("{}: not a valid ONNX model (truncated or corrupt file?): {msg}", path.display())]
    Decode {
        /// The file.
        path: PathBuf,
        /// What the decoder said.
        msg: String,
    },
    /// An initializer's external data could not be read.
    #[error("{}: initializer `{tensor}`: external data: {msg}", path.display())]
    ExternalData {
        /// The model file.
        path: PathBuf,
        /// The initializer.
        tensor: String,
        /// What is wrong.
        msg: String,
    },
    /// The graph is valid ONNX but not something motiftool can use.
    #[error("{}: {msg}", path.display())]
    Model {
        /// The model file.
        path: PathBuf,
        /// What is wrong.
        msg: String,
    },
    /// A node could not be interpreted.
    #[error("node `{node}` ({op}): {msg}")]
    Node {
        /// Node name (or its first output when unnamed).
        node: String,
        /// Op type.
        op: String,
        /// What is wrong.
        msg: String,
    },
    /// A tensor could not be read as numbers.
    #[error("tensor `{name}`: {msg}")]
    Tensor {
        /// Tensor name.
        name: String,
        /// What is wrong.
        msg: String,
    },
}

/// Result with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
