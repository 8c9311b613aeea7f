//! The error type of motif-core.

use std::path::PathBuf;

/// Everything that can go wrong while reading sequences or motifs, or while
/// looking up and configuring plugins.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The file could not be opened or read.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A line of a text file could not be understood.
    #[error("{}:{line}: {msg}", path.display())]
    Parse {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        msg: String,
    },
    /// The file is not what it was given as (binary data as FASTA, no records).
    #[error("{}: {msg}", path.display())]
    Format {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        msg: String,
    },
    /// A sequence holds a letter other than A, C, G, T or N.
    #[error("{}:{line}: sequence `{id}` has invalid letter `{letter}` at position {pos} (expected A, C, G, T or N)", path.display())]
    Alphabet {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// The record's id.
        id: String,
        /// The offending character.
        letter: char,
        /// 1-based position within the sequence.
        pos: usize,
    },
    /// No plugin is registered under that name.
    #[error("no {kind} plugin named `{name}` (see `motiftool plugins`)")]
    UnknownPlugin {
        /// Plugin kind.
        kind: &'static str,
        /// The name asked for.
        name: String,
    },
    /// A plugin configuration was rejected.
    #[error("config of plugin `{plugin}`: {msg}")]
    Config {
        /// The plugin.
        plugin: String,
        /// What serde said.
        msg: String,
    },
    /// A value is outside what a method accepts.
    #[error("{0}")]
    Invalid(String),
}

impl Error {
    /// An I/O error on `path`.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io { path: path.into(), source }
    }

    /// A parse error on `path` at 1-based `line`.
    pub fn parse(path: impl Into<PathBuf>, line: usize, msg: impl Into<String>) -> Self {
        Error::Parse { path: path.into(), line, msg: msg.into() }
    }
}

/// Result with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
