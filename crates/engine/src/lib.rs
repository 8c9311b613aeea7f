//! motif-engine: runs imported models on one-hot DNA.
//!
//! Two backends behind one [`Session`] trait: `tract` (pure Rust, always
//! compiled in, CPU) and `ort` (ONNX Runtime 1.31 loaded at run time from a
//! `libonnxruntime.so`, CPU or the CUDA execution provider; feature `ort`).
//! [`open`] builds a session for a [`motif_onnx::Model`] that returns the
//! graph outputs and any intermediate tensors asked for; [`engines`] says
//! which backends are usable here and why not. [`open_graph`] runs any
//! ONNX graph on named float inputs (gradient and train-step graphs).
//!
//! Inputs are always (n, 4, len) in A, C, G, T order; a session converts to
//! the model's own layout (NWC for Keras exports).
//!
//! # Example
//! ```no_run
//! use motif_engine::{EngineChoice, Device, SessionOptions};
//! let model = motif_onnx::Model::load(std::path::Path::new("model.onnx"))?;
//! let session = motif_engine::open(&model, &SessionOptions::default())?;
//! let x = motif_core::onehot::one_hot_batch(&[b"ACGTACGTACGTACGTACGTACGT"]).unwrap();
//! let outputs = session.run(x.view())?;
//! println!("{} on {}: {:?}", session.engine(), session.device(), outputs[0]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![deny(missing_docs)]

mod error;
mod graph;
mod locate;
#[cfg_attr(feature = "ort", path = "ort_backend.rs")]
#[cfg_attr(not(feature = "ort"), path = "ort_disabled.rs")]
mod ort_backend;
mod tract_backend;

use ndarray::{ArrayD, ArrayView3};
use serde::Serialize;

pub use error::{Error, Result};
pub use graph::{GraphSession, State, open_graph};
pub use locate::find_ort_library;

/// Which engine runs a model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum EngineKind {
    /// tract: pure Rust, CPU.
    Tract,
    /// ONNX Runtime through the `ort` crate.
    Ort,
}

impl std::fmt::Display for EngineKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            EngineKind::Tract => "tract",
            EngineKind::Ort => "ort",
        })
    }
}

/// The engine asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum EngineChoice {
    /// ort when its library loads, else tract.
    #[default]
    Auto,
    /// This engine or an error.
    Exactly(EngineKind),
}

/// Where a model runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Device {
    /// The CPU.
    #[default]
    Cpu,
    /// A CUDA GPU (ort's CUDA execution provider).
    Cuda,
}

impl std::fmt::Display for Device {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Device::Cpu => "cpu",
            Device::Cuda => "cuda",
        })
    }
}

/// How to open a session.
#[derive(Debug, Clone, Default)]
pub struct SessionOptions {
    /// Engine.
    pub engine: EngineChoice,
    /// Device.
    pub device: Device,
    /// Tensors to return: graph outputs when empty, else these names
    /// (graph outputs or intermediate tensors) in this order.
    pub outputs: Vec<String>,
    /// Threads for the engine (ort intra-op); `None` = all cores.
    pub threads: Option<usize>,
    /// Engine threads sleep between runs instead of spinning: for many small
    /// sessions run in turn (each ort session has its own thread pool, and
    /// spinning pools starve the next session's).
    pub no_spin: bool,
}

/// A model ready to run.
pub trait Session: Send + Sync {
    /// Runs on `x`, one-hot of shape (n, 4, len); returns the requested
    /// tensors in order.
    ///
    /// # Errors
    /// If the engine fails (wrong length for a fixed-length model, …).
    fn run(&self, x: ArrayView3<'_, f32>) -> Result<Vec<ArrayD<f32>>>;
    /// Names of the returned tensors.
    fn output_names(&self) -> &[String];
    /// The engine.
    fn engine(&self) -> EngineKind;
    /// The device.
    fn device(&self) -> Device;
    /// Whether concurrent `run` calls from several threads pay off (true
    /// for single-threaded engines such as tract).
    fn parallel_batches(&self) -> bool;
}

/// Opens a session for `model`.
///
/// # Errors
/// If the chosen engine is unavailable (naming why), the device is not
/// supported by it, or the engine cannot load the model (naming the node).
pub fn open(model: &motif_onnx::Model, opts: &SessionOptions) -> Result<Box<dyn Session>> {
    let outputs: Vec<String> = if opts.outputs.is_empty() {
        model.structure().outputs.iter().map(|o| o.name.clone()).collect()
    } else {
        opts.outputs.clone()
    };
    let extra: Vec<&str> = outputs.iter().map(String::as_str).collect();
    // Only the subgraph computing the requested tensors is run.
    let bytes = model.to_bytes_for_outputs(&extra)?;
    let input = model.structure().input.clone();
    match choose(opts)? {
        EngineKind::Tract => {
            Ok(Box::new(tract_backend::TractSession::new(model.path(), &bytes, &input, outputs)?))
        }
        EngineKind::Ort => {
            Ok(Box::new(ort_backend::OrtSession::new(model.path(), &bytes, &input, outputs, opts)?))
        }
    }
}

/// The engine `opts` asks for: ort under `auto` when its library loads,
/// else tract, which runs on the CPU only.
fn choose(opts: &SessionOptions) -> Result<EngineKind> {
    let kind = match opts.engine {
        EngineChoice::Exactly(k) => k,
        EngineChoice::Auto => match ort_backend::status() {
            Ok(_) => EngineKind::Ort,
            Err(reason) if opts.device == Device::Cuda => {
                return Err(Error::Unavailable { engine: EngineKind::Ort, reason });
            }
            Err(_) => EngineKind::Tract,
        },
    };
    if kind == EngineKind::Tract && opts.device == Device::Cuda {
        return Err(Error::Device {
            msg: "the tract engine runs on the CPU only; use `--engine ort --device cuda`".into(),
        });
    }
    Ok(kind)
}

/// Whether an engine can be used here, and why not.
#[derive(Debug, Clone, Serialize)]
pub struct EngineStatus {
    /// The engine.
    pub engine: EngineKind,
    /// Usable now.
    pub usable: bool,
    /// Devices it can run on here.
    pub devices: Vec<Device>,
    /// Version, library path, or why it is unusable.
    pub detail: String,
}

/// The status of every engine compiled into this build.
#[must_use]
pub fn engines() -> Vec<EngineStatus> {
    let mut v = vec![EngineStatus {
        engine: EngineKind::Tract,
        usable: true,
        devices: vec![Device::Cpu],
        detail: format!("tract-onnx {} (pure Rust, built in)", tract_backend::VERSION),
    }];
    v.push(match ort_backend::status() {
        Ok(detail) => EngineStatus {
            engine: EngineKind::Ort,
            usable: true,
            devices: ort_backend::devices(),
            detail,
        },
        Err(reason) => {
            EngineStatus { engine: EngineKind::Ort, usable: false, devices: vec![], detail: reason }
        }
    });
    v
}

/// Checks a batch against the model's declared input: 4 channels, and the
/// fixed length if the model has one.
fn check_input(
    path: &std::path::Path,
    fixed_len: Option<usize>,
    x: &ArrayView3<'_, f32>,
) -> Result<()> {
    let (_, c, l) = x.dim();
    if c != 4 {
        return Err(Error::Input {
            path: path.into(),
            msg: format!("input has {c} channels; expected 4 (A, C, G, T)"),
        });
    }
    if let Some(f) = fixed_len.filter(|&f| f != l) {
        return Err(Error::Input {
            path: path.into(),
            msg: format!("the model takes sequences of exactly {f} bp; got sequences of {l} bp"),
        });
    }
    Ok(())
}

/// Converts a (n, 4, len) one-hot batch to the model's layout, contiguous.
fn to_layout(x: ArrayView3<'_, f32>, layout: motif_onnx::Layout) -> ndarray::Array3<f32> {
    match layout {
        motif_onnx::Layout::Ncw => x.as_standard_layout().into_owned(),
        motif_onnx::Layout::Nwc => x.permuted_axes([0, 2, 1]).as_standard_layout().into_owned(),
    }
}
