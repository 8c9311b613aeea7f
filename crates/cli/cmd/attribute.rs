//! `motiftool attribute`: flags → [`motif_workflow::attribute::Config`].

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;
use motif_core::rundir::RunDir;
use motif_workflow::attribute;
use motif_workflow::cli::settings_with_input;

use crate::progress::Progress;

/// Arguments of `attribute`.
#[derive(Debug, Args)]
pub struct AttributeArgs {
    /// Sequences (FASTA, DeepBind .seq, TSV or CSV; .gz fine), all of one
    /// length; or --bed with --genome (and --width).
    #[arg(long, required_unless_present_any = ["bed", "config"])]
    pub seqs: Option<PathBuf>,
    #[command(flatten)]
    pub settings: attribute::Config,
    /// Method settings, `key=value` (repeatable; see `motiftool plugins
    /// --kind attributor`).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,
    #[command(flatten)]
    pub file: crate::ConfigFile,
    /// Hide the progress bar.
    #[arg(long)]
    pub quiet: bool,
    /// Output folder.
    #[arg(short, long, default_value = "motiftool-attribute")]
    pub out: PathBuf,
}

/// Help after the options.
pub const ATTRIBUTE_HELP: &str = "Scores every base of every sequence by its contribution to the target, with an attributor
plugin: deeplift-shap (DeepLIFT's Rescale rule averaged over 20 dinucleotide shuffles of each
sequence; every op needs a DeepLIFT rule, or the run stops naming the node), ism (every single
substitution), saliency (mean-corrected gradient; projected: gradient × input) or
integrated-gradients. An output ending in a sigmoid or softmax is explained at its logit.

Writes into -o DIR: ohe.npz and shap.npz ((N, 4, L) float32 arrays `arr_0`: the one-hot input with
N as zeros, and the hypothetical contributions, as TF-MoDISco reads them:
`modisco motifs -s ohe.npz -a shap.npz`), scores.tsv (per sequence: the target, the sum of its
projected contributions and, for deeplift-shap, the convergence deltas |Δf − Σ contributions|),
report.html (contribution tracks of the highest-scoring sequences) and run.json; with --projected
also projected.npz, with --h5 contributions.h5 (ChromBPNet's raw/shap/projected_shap layout), and
for --bed input contributions.bw (each base's projected contribution on the genome, overlapping
windows split at the midpoint of their summits).

Examples:
  motiftool attribute model.onnx --seqs peaks.fa -o attr/
  motiftool attribute model.onnx --seqs peaks.fa --method ism -o ism/
  motiftool attribute model.onnx --bed peaks.narrowPeak --genome hg38.fa --width 1000 --target y:sum -o attr/
  motiftool attribute bpnet.onnx --seqs peaks.fa --target counts:0 --set n-shuffles=10 -o counts/";

/// Runs `attribute`.
pub fn run(a: &AttributeArgs, matches: &clap::ArgMatches) -> Result<()> {
    let (file, seqs) = (a.file.config.as_deref(), a.seqs.as_deref());
    let mut config =
        settings_with_input(file, a.settings.clone(), seqs, |c| &mut c.input, matches)?;
    for s in &a.set {
        motif_core::plugin::apply_set(&mut config.method_config, s)?;
    }
    let mut run = RunDir::create(&a.out, "attribute")?;
    let mut progress = Progress::new(a.quiet);
    let s = attribute::run(&config, &mut run, &mut |e| progress.event(e))?;
    progress.clear();
    run.finish(&s)?;
    eprintln!(
        "attributed {} sequences of {} bp with {} → {}",
        s.sequences,
        s.length,
        s.method,
        a.out.display()
    );
    Ok(())
}
