//! `motiftool simulate` and `motiftool shuffle`.

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;
use motif_core::rundir::RunDir;
use motif_workflow::cli::{settings, settings_with_input};
use motif_workflow::{shuffle, simulate};

use crate::output::Sink;
use crate::progress::Progress;

/// Arguments of `simulate`: the workflow's settings as flags, the output
/// folder and a settings file.
#[derive(Debug, Args)]
pub struct SimulateArgs {
    #[command(flatten)]
    pub settings: simulate::Config,
    /// Output folder.
    #[arg(short, long)]
    pub out: PathBuf,
    /// Settings from a TOML file, keys as the flags (preset, motifs, n,
    /// len, both-strands, seed); flags typed on the command line override it.
    #[arg(long, value_name = "TOML")]
    pub config: Option<PathBuf>,
}

/// Help listing each preset's motifs.
pub fn simulate_help() -> String {
    let mut s = motif_sim::simulate::describe_presets();
    s.push_str(
        "\nWrites into -o DIR: train.fa, test.fa (and valid.fa for koo-eddy) with labels in the \
         headers (`>id label` or `>id l1 … l12`), truth.tsv (every planted instance: split, id, \
         motif, 1-based start and end, strand), motifs.meme (the motifs planted) and \
         simulate.json.\n\nExamples:\n  motiftool simulate --preset deepprune4 -o sim4/\n  \
         motiftool simulate --preset koo-eddy --n 25000 --seed 33 -o koo/\n",
    );
    s
}

/// Runs `simulate`; `matches` tell which flags were typed.
pub fn run_simulate(a: &SimulateArgs, matches: &clap::ArgMatches) -> Result<()> {
    let config = settings(a.config.as_deref(), &a.settings, matches)?;
    let mut run = RunDir::create(&a.out, "simulate")?;
    let mut progress = Progress::new(false);
    let s = simulate::run(&config, &mut run, &mut |e| progress.event(e))?;
    run.finish(&s)?;
    let splits: Vec<String> =
        s.splits.iter().map(|x| format!("{} {}", x.sequences, x.name)).collect();
    eprintln!(
        "motiftool: {} ({}): {} sequences of {} bp, {} motifs → {}",
        s.preset,
        splits.join(", "),
        s.splits.iter().map(|x| x.sequences).sum::<usize>(),
        s.len,
        s.motifs.len(),
        a.out.display()
    );
    Ok(())
}

/// Arguments of `shuffle`.
#[derive(Debug, Args)]
pub struct ShuffleArgs {
    /// Sequences (FASTA, DeepBind .seq, TSV or CSV; .gz fine); or --bed
    /// with --genome.
    #[arg(required_unless_present_any = ["bed", "config"])]
    pub seqs: Option<PathBuf>,
    #[command(flatten)]
    pub settings: shuffle::Config,
    #[command(flatten)]
    pub file: crate::ConfigFile,
    /// Output FASTA (written atomically); stdout when absent or `-`.
    #[arg(short, long)]
    pub out: Option<PathBuf>,
}

/// Runs `shuffle`.
pub fn run_shuffle(a: &ShuffleArgs, matches: &clap::ArgMatches) -> Result<()> {
    let (file, seqs) = (a.file.config.as_deref(), a.seqs.as_deref());
    let config = settings_with_input(file, a.settings.clone(), seqs, |c| &mut c.input, matches)?;
    let inputs: Vec<&std::path::Path> = config.input.files().into_iter().map(|(_, p)| p).collect();
    let mut out = Sink::open(a.out.as_deref(), &inputs)?;
    let mut progress = Progress::new(false);
    shuffle::run(&config, &mut out, &mut |e| progress.event(e))?;
    progress.clear();
    out.finish()
}
