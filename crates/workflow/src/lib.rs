//! motif-workflow: motiftool's user-level jobs as library code.
//!
//! Each workflow is a module with a strict serde `Config` (documented
//! defaults, loadable from TOML with [`load_config`]), a typed result that
//! serialises to the run's `summary.json`, and
//! `run(&Config, &mut RunDir, &mut dyn FnMut(Event)) -> Result<TypedResult>`
//! that reports progress as [`Event`]s. The `motiftool` binary only maps
//! flags onto a config, draws progress bars from the events, and prints.
//!
//! The workflows live in this one crate, above the domain crates and the
//! plugin registry, because each of them composes several of those (an
//! engine, an extractor, a matcher, the report) and they share the pieces
//! in between (sequence input, the motif database, a conv layer's motifs):
//! in the domain crates they would make plugins depend on each other.
//!
//! - [`bench`]: forward throughput of each usable engine.
//! - [`logo`]: information-content logos of a motif file.
//! - [`extract`]: a conv layer's filters → motifs (no matching).
//! - [`analyze`]: filters → motifs → database matches → logos → HTML
//!   report; [`analyze::render`] redraws the report from `summary.json`.
//! - [`matching`]: query motifs against a database (`match`), as MEME
//!   tomtom's TSV or JSON.
//! - [`predict`]: scores and `evaluate`'s AUCs, streamed in input order.
//! - [`saliency`]: input gradients and gradient × input per position.
//! - [`attribute`]: per-base attributions by any `attributor` plugin
//!   (DeepLIFT/DeepSHAP, ISM, saliency, integrated gradients), streamed to
//!   modisco's `ohe.npz`/`shap.npz`, with convergence checks and a report.
//! - [`simulate`]: benchmark data with known truth.
//! - [`shuffle`]: dinucleotide-shuffled copies of sequences.
//! - [`train`]: a fresh or given model trained through the engines.
//! - [`prune`]: Deepprune, its variants and protocol, and its report.
//! - [`report`]: a run's HTML redrawn from its typed results.
//! - [`decouple`]: NeuronMotif on one conv layer, resumable per neuron and
//!   shardable.
//!
//! # Example
//! ```no_run
//! use motif_workflow::{analyze, Event};
//! use motif_core::rundir::RunDir;
//! let config = analyze::Config::default(); // the bundled example model
//! let mut run = RunDir::create(std::path::Path::new("out"), "analyze")?;
//! let result = analyze::run(&config, &mut run, &mut |e: Event| eprintln!("{e:?}"))?;
//! println!("{} of {} filters match", result.matched(), result.filters.len());
//! # Ok::<(), motif_workflow::Error>(())
//! ```

pub mod analyze;
pub mod attribute;
mod attribute_h5;
pub mod attribute_merge;
mod attribute_track;
pub mod bench;
#[cfg(feature = "cli")]
pub mod cli;
pub mod database;
pub mod decouple;
pub mod discover;
mod discover_report;
pub mod engine;
pub mod extract;
pub mod hits;
pub mod input;
pub mod labelled;
pub mod logo;
pub mod matching;
pub mod merge;
pub mod predict;
pub mod prune;
mod regions;
pub mod report;
pub mod saliency;
pub mod shuffle;
pub mod simulate;
pub mod train;

use std::path::Path;

/// What can go wrong in a workflow.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// From formats, plugins, the run folder.
    #[error(transparent)]
    Core(#[from] motif_core::Error),
    /// From model import.
    #[error(transparent)]
    Onnx(#[from] motif_onnx::Error),
    /// From an engine.
    #[error(transparent)]
    Engine(#[from] motif_engine::Error),
    /// From a genome or BED file.
    #[error(transparent)]
    Genome(#[from] motif_genome::Error),
    /// From Deepprune.
    #[error(transparent)]
    Prune(#[from] motif_prune::Error),
    /// From simulation.
    #[error(transparent)]
    Sim(#[from] motif_sim::Error),
    /// Reading or writing a stream (a closed pipe included).
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// From training.
    #[error(transparent)]
    Train(#[from] motif_train::Error),
    /// From NeuronMotif's steps.
    #[error(transparent)]
    NeuronMotif(#[from] motif_neuronmotif::Error),
    /// A config file that cannot be read or parsed.
    #[error("{path}: {msg}")]
    Config {
        /// The file.
        path: String,
        /// What is wrong, with line and column when the parser gives them.
        msg: String,
    },
    /// Inputs that do not fit together (a layer out of range, sequences of
    /// another length than the model takes …).
    #[error("{0}")]
    Invalid(String),
}

/// Results of workflows.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Progress of a workflow, for the caller to show.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// A stage starts: its name and, when known, how many units it has.
    Stage {
        /// E.g. `inference`, `matching`.
        name: &'static str,
        /// Units of work (sequences, filters …), when known.
        total: Option<u64>,
    },
    /// `n` more units of the current stage are done.
    Advance(u64),
    /// What the current unit is doing (e.g. a GA iteration), for the bar.
    Detail(String),
    /// A line worth printing unless the user asked for quiet (what the run
    /// is about to do, a choice it made).
    Note(String),
    /// Something the user should know that does not stop the run.
    Warning(String),
}

/// Reads a workflow config from a TOML file: unknown keys are errors, missing
/// keys take the config's documented defaults.
///
/// # Errors
/// If the file cannot be read or is not a valid config (the message names
/// the file, and the line and key where the parser says).
pub fn load_config<C: serde::de::DeserializeOwned>(path: &Path) -> Result<C> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Error::Config { path: path.display().to_string(), msg: e.to_string() })?;
    toml::from_str(&text).map_err(|e| Error::Config {
        path: path.display().to_string(),
        msg: one_line(&e.to_string()),
    })
}

/// toml's messages span several lines (a snippet of the file); ours are one.
fn one_line(s: &str) -> String {
    s.lines().map(str::trim).filter(|l| !l.is_empty()).collect::<Vec<_>>().join(" ")
}

/// A report figure from the registry, with its style.
fn figure(name: &str, style: &serde_json::Value) -> Result<Box<dyn motif_core::plugin::Figure>> {
    Ok(motif_core::plugin::build::<dyn motif_core::plugin::Figure>(name, style)?)
}

fn invalid(msg: impl Into<String>) -> Error {
    Error::Invalid(msg.into())
}

/// Writes `text` to `dir/name` and returns the path (unit tests' inputs).
#[cfg(test)]
pub(crate) fn test_file(dir: &std::path::Path, name: &str, text: &str) -> std::path::PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}
