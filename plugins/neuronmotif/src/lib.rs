//! motif-neuronmotif: NeuronMotif (Wei et al., PNAS 2023) for any imported
//! sequence CNN: decouple a deeper conv neuron into the motifs it combines
//! and the syntax between them.
//!
//! For conv layer L the pipeline is:
//! 1. [`net::Network`]: the layer's sub-network on receptive-field windows
//!    (padding removed), giving every layer's neuron values (post-BatchNorm,
//!    pre-activation) and the input gradient of one neuron, on an engine.
//! 2. [`sample::sample`]: sequences with v > 0: all of them when the
//!    receptive field is under 11 bp, else a genetic algorithm with
//!    gradient-step mutation, elites, circularly shifted elites and
//!    crossover, seeded from layer L−1's motifs.
//! 3. [`demix::demix`]: activation-weighted k-means on the feature maps of
//!    layers L−1 … 0, pool^m clusters per layer (one per max-pool shift),
//!    recursively; a PPM per cluster by activation-bin weighting; m chosen
//!    per layer by [`demix::accept`] (the t-test rule) or forced.
//! 4. [`segment`]: informative segments of each cluster's PPM;
//!    [`dict::dictionary`]: the neuron's motif dictionary, grown with the
//!    matcher plugin (`-norc`); [`tree::syntax`]: motif order and gaps as a
//!    binary tree.
//!
//! The method description is `specs/neuronmotif.md` of the design notes;
//! where this crate departs from the original code, the item says so.
//!
//! ```no_run
//! use motif_neuronmotif::{net::Network, sample, demix};
//! let model = motif_onnx::Model::load(std::path::Path::new("model.onnx"))?;
//! let net = Network::open(&model, 1, &Default::default())?;
//! let mut rng = motif_core::rng::Rng::new(1);
//! let s = sample::sample(&net, 0, None, &Default::default(), &mut rng, &mut |_, _, _| {})?;
//! let crms = demix::demix(&net, 0, &s.seqs, &s.v, &Default::default(), &mut rng)?;
//! println!("{} clusters", crms.len());
//! # Ok::<(), motif_neuronmotif::Error>(())
//! ```
#![deny(missing_docs)]

pub mod decoupler;
pub mod demix;
pub mod dict;
pub mod kmeans;
pub mod net;
pub mod ppm;
pub mod sample;
pub mod segment;
pub mod stats;
pub mod store;
pub mod tree;

/// What can go wrong.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The model or its structure.
    #[error(transparent)]
    Model(#[from] motif_onnx::Error),
    /// The engine.
    #[error(transparent)]
    Engine(#[from] motif_engine::Error),
    /// A plugin (the matcher).
    #[error(transparent)]
    Plugin(#[from] motif_core::Error),
    /// A file.
    #[error("{}: {msg}", path.display())]
    File {
        /// The file.
        path: std::path::PathBuf,
        /// What is wrong.
        msg: String,
    },
    /// Anything else.
    #[error("{0}")]
    Invalid(String),
}

impl Error {
    /// As a plugin error of motif-core (a core error stays itself; any other
    /// keeps its message).
    #[must_use]
    pub fn into_core(self) -> motif_core::Error {
        match self {
            Self::Plugin(e) => e,
            e => motif_core::Error::Invalid(e.to_string()),
        }
    }
}

/// Result with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

pub use motif_core::plugin::Crm;
