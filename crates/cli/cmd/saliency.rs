//! `motiftool saliency`.

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;
use motif_workflow::cli::settings_with_input;
use motif_workflow::saliency;

use crate::output::Sink;
use crate::progress::Progress;

/// Arguments of `saliency`.
#[derive(Debug, Args)]
pub struct SaliencyArgs {
    /// Sequences (FASTA, DeepBind .seq, TSV or CSV; .gz fine); or --bed
    /// with --genome.
    #[arg(long, required_unless_present_any = ["bed", "config"])]
    pub seqs: Option<PathBuf>,
    #[command(flatten)]
    pub settings: saliency::Config,
    #[command(flatten)]
    pub file: crate::ConfigFile,
    /// Gradient of output column K (default 0), counted as `predict` writes
    /// them: every output flattened per sequence, in order (BPNet: the
    /// profile's positions, then the counts).
    #[arg(long, value_name = "K", conflicts_with = "neuron")]
    pub output: Option<usize>,
    /// Gradient of a conv neuron: LAYER:CHANNEL (see `motiftool inspect`);
    /// the channel's most active position in each sequence.
    #[arg(long, value_name = "LAYER:CHANNEL")]
    pub neuron: Option<String>,
    /// Output TSV (written atomically); stdout when absent or `-`.
    #[arg(short, long)]
    pub out: Option<PathBuf>,
}

/// Help after the options.
pub const SALIENCY_HELP: &str =
    "Writes one row per sequence position: id, pos (1-based), base, the gradient for A, C, G
and T, and gradient × input (the gradient at the observed base; N spreads 0.25 over all four).

Examples:
  motiftool saliency model.onnx --seqs test.fa -o saliency.tsv
  motiftool saliency model.onnx --seqs test.fa --neuron 0:3 -o neuron3.tsv";

/// Runs `saliency`.
pub fn run(a: &SaliencyArgs, matches: &clap::ArgMatches) -> Result<()> {
    let (file, seqs) = (a.file.config.as_deref(), a.seqs.as_deref());
    let mut config =
        settings_with_input(file, a.settings.clone(), seqs, |c| &mut c.input, matches)?;
    if let Some(s) = &a.neuron {
        config.of = saliency::parse_neuron(s)?;
    } else if let Some(k) = a.output {
        config.of = saliency::Of::Output(k);
    }
    let mut inputs = vec![config.model.as_path()];
    inputs.extend(config.input.files().into_iter().map(|(_, p)| p));
    let mut out = Sink::open(a.out.as_deref(), &inputs)?;
    let mut progress = Progress::new(false);
    saliency::run(&config, &mut out, &mut |e| progress.event(e))?;
    progress.clear();
    out.finish()?;
    Ok(())
}
