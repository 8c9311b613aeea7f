//! `motiftool hits`: flags → [`motif_workflow::hits::Config`].

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;
use motif_core::rundir::RunDir;
use motif_workflow::cli::settings_with_input;
use motif_workflow::hits;

use crate::progress::Progress;

/// Arguments of `hits`.
#[derive(Debug, Args)]
pub struct HitsArgs {
    /// Sequences to scan (FASTA, DeepBind .seq, TSV or CSV; .gz fine); or
    /// --bed with --genome, or --ohe / --from.
    #[arg(long)]
    pub seqs: Option<PathBuf>,
    #[command(flatten)]
    pub settings: hits::Config,
    #[command(flatten)]
    pub file: crate::ConfigFile,
    /// Hide the progress bar.
    #[arg(long)]
    pub quiet: bool,
    /// Output folder.
    #[arg(short, long, default_value = "motiftool-hits")]
    pub out: PathBuf,
}

/// Help after the options.
pub const HITS_HELP: &str = "Places motifs on sequences or peaks. --method log-odds (default) scores every window on both
strands with the motif's log-odds against the background (FIMO's pseudocount 0.1 spread by the
background) and keeps windows whose exact p-value (the background distribution of the score, by
dynamic programming) is at most --thresh; q-values are Benjamini-Hochberg over every window scanned.
--method cwm fits each region's attributions (hypothetical × one-hot) by the modisco patterns' CWMs
as Fi-NeMo does (non-negative sparse regression, penalty --lambda) and keeps the nonzero coefficients
whose window's cosine with the CWM reaches --lambda.

Motifs: --motifs FILE (any motif format) or --modisco RESULTS.h5 (motiftool discover's or
modisco-lite's; patterns trimmed by --trim-threshold). Sequences: --seqs, --bed/--genome, --ohe, or
--from DIR (an attribute folder; --method cwm needs its shap.npz).

Writes into -o DIR: hits.tsv (one row per hit: sequence, start, end (0-based, half-open), motif,
strand, and score, p-value and q-value, or the CWM fit's coefficient, similarity and importance;
genome coordinates too for --bed input or regions.bed), hits.bed, counts.tsv (hits per sequence
and motif), summary.json and run.json.

Examples:
  motiftool hits --seqs peaks.fa --motifs motifs/patterns.meme -o hits/
  motiftool hits --bed peaks.narrowPeak --genome hg38.fa --width 1000 --motifs JASPAR.meme -o hits/
  motiftool hits --method cwm --from attr/ --modisco motifs/modisco_results.h5 -o cwm_hits/";

/// Runs `hits`.
pub fn run(a: &HitsArgs, matches: &clap::ArgMatches) -> Result<()> {
    let (file, seqs) = (a.file.config.as_deref(), a.seqs.as_deref());
    let config = settings_with_input(file, a.settings.clone(), seqs, |c| &mut c.input, matches)?;
    let mut run = RunDir::create(&a.out, "hits")?;
    let mut progress = Progress::new(a.quiet);
    let s = hits::run(&config, &mut run, &mut |e| progress.event(e))?;
    progress.clear();
    run.finish(&s)?;
    eprintln!(
        "{} hits of {} motifs in {} sequences → {}",
        s.hits,
        s.motifs.len(),
        s.sequences,
        a.out.display()
    );
    Ok(())
}
