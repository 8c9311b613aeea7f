//! `motiftool match`: MEME tomtom's `-text` output, computed in process
//! (the `match` workflow over the registered `tomtom` matcher).

use std::io::Write as _;
use std::path::PathBuf;

use anyhow::Result;
use clap::Args;
use motif_workflow::matching::{self, Background};

use crate::output::Sink;

/// The `--dist` names the tomtom matcher scores with.
const DISTANCES: [&str; 10] =
    ["pearson", "ed", "sandelin", "kullback", "allr", "blic1", "blic5", "llr1", "llr", "llr5"];

/// Arguments of `match`.
#[derive(Debug, Args)]
#[allow(clippy::struct_excessive_bools, reason = "tomtom's own switches, one flag each")]
pub struct MatchArgs {
    /// Query motifs (MEME, JASPAR, TRANSFAC or HOMER; gzip ok).
    pub query: PathBuf,
    /// Target database (any motif format). Default: the bundled JASPAR 2024
    /// CORE vertebrates non-redundant set (879 motifs; jaspar.elixir.no, CC BY 4.0).
    #[arg(long)]
    pub db: Option<PathBuf>,
    /// Column similarity: pearson, ed (tomtom's default), sandelin, kullback,
    /// allr, blic1, blic5, llr1 (or llr), llr5.
    #[arg(long, default_value = "ed", value_parser = DISTANCES)]
    pub dist: String,
    /// Minimum number of aligned columns.
    #[arg(long, default_value_t = 1)]
    pub min_overlap: usize,
    /// Only alignments with the shorter motif inside the longer.
    #[arg(long)]
    pub internal: bool,
    /// Report matches up to this q-value (E-value with --evalue).
    #[arg(long, default_value_t = 0.5)]
    pub thresh: f64,
    /// Threshold on E-values instead of q-values (then --thresh may exceed 1).
    #[arg(long)]
    pub evalue: bool,
    /// Do not score reverse complements of the targets.
    #[arg(long)]
    pub norc: bool,
    /// Score only aligned columns (the 2007 paper) instead of complete scores.
    #[arg(long)]
    pub incomplete_scores: bool,
    /// Pseudocount added to queries and targets, spread by the background.
    #[arg(long, default_value_t = 0.1)]
    pub motif_pseudo: f64,
    /// Background: a MEME background file (`A 0.3` lines), `uniform`, or
    /// `query` (the query file's letter frequencies, the default). Only
    /// allr, blic* and llr* use it, as in tomtom.
    #[arg(long)]
    pub bg: Option<String>,
    /// Write JSON (one object per reported match) instead of tomtom's TSV.
    #[arg(long)]
    pub json: bool,
    /// Output file (atomic); default stdout.
    #[arg(short, long)]
    pub out: Option<PathBuf>,
    /// Threads (default: all cores).
    #[arg(long)]
    pub threads: Option<usize>,
    /// Print progress and timing to stderr.
    #[arg(long)]
    pub verbose: bool,
}

impl MatchArgs {
    /// The workflow's config.
    fn config(&self) -> matching::Config {
        let command: Vec<String> = std::env::args()
            .enumerate()
            .map(|(i, s)| if i == 0 { "motiftool".to_owned() } else { s })
            .collect();
        matching::Config {
            query: self.query.clone(),
            db: self.db.clone(),
            matcher: serde_json::json!({
                "dist": self.dist,
                "min-overlap": self.min_overlap,
                "internal": self.internal,
                "incomplete-scores": self.incomplete_scores,
                "norc": self.norc,
                "motif-pseudo": self.motif_pseudo,
                "thresh": self.thresh,
                "evalue": self.evalue,
            }),
            background: self.bg.as_deref().map(Background::parse).unwrap_or_default(),
            json: self.json,
            command: command.join(" "),
        }
    }
}

/// Runs `match`.
pub fn run(a: &MatchArgs) -> Result<()> {
    let inputs = [a.query.as_path(), a.db.as_deref().unwrap_or(a.query.as_path())];
    let mut sink = Sink::open(a.out.as_deref(), &inputs)?;
    let mut bars = crate::progress::Progress::new(!(a.verbose && a.out.is_some()));
    let m = matching::run(&a.config(), &mut |e| bars.event(e))?;
    bars.clear();
    sink.write_all(m.text.as_bytes())?;
    sink.finish()?;
    if a.verbose {
        eprintln!(
            "motiftool: {} queries × {} targets ({}, {} strand(s)) in {:.3} s (reading {:.3} s)",
            m.queries,
            m.targets,
            a.dist,
            if a.norc { 1 } else { 2 },
            m.seconds,
            m.seconds_reading
        );
    }
    Ok(())
}
