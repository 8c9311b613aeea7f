//! Which engine runs a workflow's model, and how: the config behind every
//! command's `--engine`, `--device`, `--threads` and `--batch-size`.

use serde::{Deserialize, Serialize};

/// The engine asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
#[serde(rename_all = "lowercase")]
pub enum EngineName {
    /// ort when its library loads, else tract.
    #[default]
    Auto,
    /// tract (pure Rust, CPU).
    Tract,
    /// ONNX Runtime.
    Ort,
}

/// Where the model runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
#[serde(rename_all = "lowercase")]
pub enum DeviceName {
    /// The CPU.
    #[default]
    Cpu,
    /// A CUDA GPU (the ort engine with onnxruntime-gpu; never falls back to
    /// the CPU silently).
    Cuda,
}

impl DeviceName {
    /// As run.json records it.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::Cpu => "cpu",
            Self::Cuda => "cuda",
        }
    }
}

/// Engine settings of a workflow (the `--engine`, `--device`, `--threads`
/// and `--batch-size` flags).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "cli", derive(clap::Args))]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct EngineConfig {
    /// Inference engine: `auto` = ort when its library loads, else tract.
    #[cfg_attr(feature = "cli", arg(long, value_enum, default_value_t = EngineName::Auto))]
    pub engine: EngineName,
    /// Device: `cuda` needs the ort engine with onnxruntime-gpu; never falls
    /// back to CPU silently.
    #[cfg_attr(feature = "cli", arg(long, value_enum, default_value_t = DeviceName::Cpu))]
    pub device: DeviceName,
    /// Threads (ort intra-op threads; tract runs batches in parallel).
    /// Default: all cores.
    #[cfg_attr(feature = "cli", arg(long))]
    pub threads: Option<usize>,
    /// Sequences per engine call.
    #[cfg_attr(feature = "cli", arg(long, default_value_t = EngineConfig::default().batch_size, value_parser = crate::cli::at_least_one))]
    pub batch_size: usize,
}

impl Default for EngineConfig {
    fn default() -> Self {
        Self { engine: EngineName::Auto, device: DeviceName::Cpu, threads: None, batch_size: 512 }
    }
}

impl EngineConfig {
    /// Session options computing `outputs` (empty: the graph's).
    #[must_use]
    pub fn options(&self, outputs: Vec<String>) -> motif_engine::SessionOptions {
        use motif_engine::{Device, EngineChoice, EngineKind};
        motif_engine::SessionOptions {
            engine: match self.engine {
                EngineName::Auto => EngineChoice::Auto,
                EngineName::Tract => EngineChoice::Exactly(EngineKind::Tract),
                EngineName::Ort => EngineChoice::Exactly(EngineKind::Ort),
            },
            device: match self.device {
                DeviceName::Cpu => Device::Cpu,
                DeviceName::Cuda => Device::Cuda,
            },
            outputs,
            threads: self.threads,
            no_spin: false,
        }
    }

    /// Sequences per engine call, at least 1.
    #[must_use]
    pub fn batch(&self) -> usize {
        self.batch_size.max(1)
    }
}
