//! Flag groups of the training commands (train, prune) that their workflow
//! configs do not declare yet: table columns and labelled genome intervals
//! (onto `LabelledData`), the engine flags without `--batch-size` (there the
//! minibatch), and the training group. Every other command's flags come
//! from its workflow's config (`motif_workflow::cli`).

use clap::Args;
use motif_workflow::engine::{DeviceName, EngineConfig, EngineName};
use motif_workflow::train::FitConfig;

pub use motif_workflow::cli::{at_least_one, at_least_one_u32};

/// Columns of a sequence table with a header row (TSV or CSV).
#[derive(Debug, Clone, Default, Args)]
pub struct ColumnArgs {
    /// Table column holding the sequences (default: the one named `seq` or
    /// `sequence`).
    #[arg(long, value_name = "NAME")]
    pub seq_col: Option<String>,
    /// Table column holding a 0/1 label; repeat for several tasks (default:
    /// the one named `label`, `y`, `target`, `bound` or `class`).
    #[arg(long = "label-col", value_name = "NAME")]
    pub label_cols: Vec<String>,
    /// Table column holding the sequence ids (default: `id` or `name`).
    #[arg(long, value_name = "NAME")]
    pub id_col: Option<String>,
}

/// Labelled training data cut from a genome: bound intervals (label 1) and
/// background intervals (label 0), split into sets by chromosome.
#[derive(Debug, Clone, Default, Args)]
pub struct PeakArgs {
    /// Bound intervals (BED or narrowPeak, gzip ok) cut from --genome with
    /// label 1; repeatable. Add background with --nonpeaks or --train.
    #[arg(long, value_name = "FILE", requires = "genome")]
    pub peaks: Vec<std::path::PathBuf>,
    /// Background intervals (e.g. GC-matched regions without a peak) cut
    /// from --genome with label 0; repeatable.
    #[arg(long, value_name = "FILE", requires = "genome")]
    pub nonpeaks: Vec<std::path::PathBuf>,
    /// Indexed genome FASTA for --peaks/--nonpeaks (`.fai` beside it;
    /// bgzipped: `.gzi` too).
    #[arg(long, value_name = "FASTA")]
    pub genome: Option<std::path::PathBuf>,
    /// Window width: centred on the narrowPeak summit, else on the
    /// interval's middle (default: each interval as it is; all must then
    /// have one length). `--width` of predict and analyze; here named apart
    /// from the kernel width.
    #[arg(long, value_name = "BP", requires = "genome", value_parser = at_least_one)]
    pub peak_width: Option<usize>,
    /// Chromosomes whose intervals form the validation set instead
    /// (comma-separated, e.g. chr8,chr9).
    #[arg(long, value_name = "CHROMS", value_delimiter = ',', requires = "genome")]
    pub valid_chroms: Vec<String>,
    /// Chromosomes whose intervals form the test set instead
    /// (comma-separated, e.g. chr1,chr2).
    #[arg(long, value_name = "CHROMS", value_delimiter = ',', requires = "genome")]
    pub test_chroms: Vec<String>,
}

impl PeakArgs {
    /// The labelled data of `train`/`valid`/`test` files read with
    /// `columns`, and these intervals, laid over `base` (a config file's):
    /// what is given here replaces the file's.
    #[must_use]
    pub fn over(
        &self,
        files: (&[std::path::PathBuf], Option<&std::path::PathBuf>, &[std::path::PathBuf]),
        columns: &ColumnArgs,
        mut base: motif_workflow::labelled::LabelledData,
    ) -> motif_workflow::labelled::LabelledData {
        let (train, valid, test) = files;
        if !train.is_empty() {
            base.train = train.to_vec();
        }
        if valid.is_some() {
            base.valid = valid.cloned();
        }
        if !test.is_empty() {
            base.test = test.to_vec();
        }
        if columns.seq_col.is_some() {
            base.seq_col.clone_from(&columns.seq_col);
        }
        if !columns.label_cols.is_empty() {
            base.label_cols.clone_from(&columns.label_cols);
        }
        if columns.id_col.is_some() {
            base.id_col.clone_from(&columns.id_col);
        }
        if self.genome.is_some() {
            base.genome.clone_from(&self.genome);
            base.peaks.clone_from(&self.peaks);
            base.nonpeaks.clone_from(&self.nonpeaks);
            base.peak_width = self.peak_width;
        }
        if !self.valid_chroms.is_empty() {
            base.valid_chroms.clone_from(&self.valid_chroms);
        }
        if !self.test_chroms.is_empty() {
            base.test_chroms.clone_from(&self.test_chroms);
        }
        base
    }
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

/// Options of every training run: `train`, and each training of `prune`.
#[derive(Debug, Args)]
pub struct FitArgs {
    /// `--epochs`, `--batch-size`, `--patience`, `--l1`, `--l2`.
    #[command(flatten)]
    pub fit: FitConfig,
    #[command(flatten)]
    pub on: crate::EngineSelect,
    /// Hide the progress bar.
    #[arg(long)]
    pub quiet: bool,
}
