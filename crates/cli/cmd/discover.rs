//! `motiftool discover`: flags → [`motif_workflow::discover::Config`].

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;
use motif_core::rundir::RunDir;
use motif_workflow::cli::settings_with_input;
use motif_workflow::discover;

use crate::progress::Progress;

/// Arguments of `discover`.
#[derive(Debug, Args)]
pub struct DiscoverArgs {
    /// Sequences for MODEL (FASTA, DeepBind .seq, TSV or CSV; .gz fine), all
    /// of one length; or --bed with --genome (and --width).
    #[arg(long)]
    pub seqs: Option<PathBuf>,
    #[command(flatten)]
    pub settings: discover::Config,
    #[command(flatten)]
    pub file: crate::ConfigFile,
    /// Hide the progress bar.
    #[arg(long)]
    pub quiet: bool,
    /// Output folder.
    #[arg(short, long, default_value = "motiftool-discover")]
    pub out: PathBuf,
}

/// Help after the options.
pub const DISCOVER_HELP: &str =
    "Finds the motifs a model's attributions hold, as TF-MoDISco-lite does (modisco-lite's
`motifs`, its defaults): seqlets where the summed contribution passes an FDR threshold against a
Laplace null, split by sign into positive and negative metaclusters; per metacluster two rounds of
gapped k-mer neighbours, aligned continuous-Jaccard affinities, density adaptation and Leiden
clustering into patterns (seqlets aligned, both strands, polished to 50 columns); subclustering,
merging of similar patterns, and the final support and information filter. Patterns are trimmed
(columns whose summed |CWM| reaches --trim-threshold of the largest) and matched against the
database with tomtom's exact p, E and q (Pearson, min overlap 5, as modisco's report does).

Input: --ohe/--shap ((N, 4, L) arrays, modisco's convention: one-hot and hypothetical
contributions, from any tool), --from DIR (a `motiftool attribute` folder; its regions.bed, written
for --bed input, places the seqlets on the genome), or MODEL with --seqs or --bed/--genome
(attributed first with --method into DIR/attribution/).

Writes into -o DIR: modisco_results.h5 (modisco-lite's schema: `modisco report`, `modisco meme`
read it), patterns.meme (trimmed PFMs), patterns.cwm.meme and patterns.hcwm.meme (trimmed CWM and
hypothetical CWM, raw values), matches.tsv (tomtom's text), seqlets.tsv and seqlets.fa (every
pattern's seqlets, window coordinates; with regions also genome coordinates and seqlets.bed,
0-based half-open), report.html (CWM and PFM logos on both strands, counts, matches, the threshold
diagnostics), summary.json and run.json.

Examples:
  motiftool discover --ohe attr/ohe.npz --shap attr/shap.npz -o motifs/
  motiftool discover --from attr/ -n 50000 -l 10 -o motifs/
  motiftool discover model.onnx --bed peaks.narrowPeak --genome hg38.fa --width 1000 -o motifs/";

/// Runs `discover`.
pub fn run(a: &DiscoverArgs, matches: &clap::ArgMatches) -> Result<()> {
    let (file, seqs) = (a.file.config.as_deref(), a.seqs.as_deref());
    let config = settings_with_input(file, a.settings.clone(), seqs, |c| &mut c.input, matches)?;
    let mut run = RunDir::create(&a.out, "discover")?;
    let mut progress = Progress::new(a.quiet);
    let s = discover::run(&config, &mut run, &mut |e| progress.event(e))?;
    progress.clear();
    run.finish(&s)?;
    let named = |sign: i8| s.patterns.iter().filter(|p| p.sign == sign).count();
    eprintln!(
        "{} positive and {} negative seqlets → {} positive and {} negative patterns → {}",
        s.seqlets.positive,
        s.seqlets.negative,
        named(1),
        named(-1),
        a.out.display()
    );
    for p in &s.patterns {
        let best = p.matches.first().map_or_else(
            || "no match".to_string(),
            |m| {
                format!(
                    "{}{} q={:.2e}",
                    m.target,
                    m.name.as_deref().map(|n| format!(" {n}")).unwrap_or_default(),
                    m.q_value
                )
            },
        );
        eprintln!("  {:<26} {:>6} seqlets  {:<24} {best}", p.name, p.seqlets, p.consensus);
    }
    Ok(())
}
