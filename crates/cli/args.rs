//! The engine flags of the training commands (train, prune), without
//! `--batch-size` (there the minibatch), and the value parsers. Every other
//! flag comes from a workflow config (`motif_workflow::cli`).

use clap::Args;
use motif_workflow::engine::{DeviceName, EngineConfig, EngineName};

pub use motif_workflow::cli::{at_least_one, at_least_one_u32};

/// `--config FILE`, for the commands whose settings are all flags.
#[derive(Debug, Clone, Default, Args)]
pub struct ConfigFile {
    /// Settings from a TOML file, keys as the flags' (run.json's `config`);
    /// flags typed on the command line override it.
    #[arg(long, value_name = "TOML")]
    pub config: Option<std::path::PathBuf>,
}

/// `--engine`, `--device`, `--threads` for the training commands, whose
/// `--batch-size` is the minibatch (elsewhere the engine flags are
/// [`EngineConfig`]'s own). Unset flags keep the config's value.
#[derive(Debug, Clone, Copy, Default, Args)]
pub struct EngineSelect {
    /// Inference engine: `auto` = ort when its library loads, else tract
    /// [default: auto].
    #[arg(long, value_enum)]
    pub engine: Option<EngineName>,
    /// Device: `cuda` needs the ort engine with onnxruntime-gpu; never falls
    /// back to CPU silently [default: cpu].
    #[arg(long, value_enum)]
    pub device: Option<DeviceName>,
    /// Threads (ort intra-op threads; tract runs batches in parallel). Default: all cores.
    #[arg(long)]
    pub threads: Option<usize>,
}

impl EngineSelect {
    /// These flags laid over `base`.
    #[must_use]
    pub fn over(&self, base: EngineConfig) -> EngineConfig {
        EngineConfig {
            engine: self.engine.unwrap_or(base.engine),
            device: self.device.unwrap_or(base.device),
            threads: self.threads.or(base.threads),
            ..base
        }
    }
}
