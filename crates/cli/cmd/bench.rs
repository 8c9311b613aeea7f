//! `motiftool bench`: forward throughput of each usable engine, measured
//! in one run so the numbers compare.

use std::io::Write as _;

use anyhow::Result;
use clap::Args;
use motif_workflow::bench;
use motif_workflow::cli::settings;

/// Arguments of `bench`.
#[derive(Debug, Args)]
#[command(
    after_help = "Example:\n  motiftool bench data/models/torch_legacy_ncw.onnx --n 10000 --len 101"
)]
pub struct BenchArgs {
    #[command(flatten)]
    pub settings: bench::Config,
    #[command(flatten)]
    pub file: crate::ConfigFile,
    /// Print as JSON.
    #[arg(long)]
    pub json: bool,
}

/// Runs `bench`.
pub fn run(a: &BenchArgs, matches: &clap::ArgMatches) -> Result<()> {
    let config = settings(a.file.config.as_deref(), &a.settings, matches)?;
    let mut bars = crate::progress::Progress::new(false);
    let t = bench::run(&config, &mut |e| bars.event(e))?;
    bars.clear();
    let mut out = std::io::stdout().lock();
    if a.json {
        writeln!(out, "{}", serde_json::to_string_pretty(&t)?)?;
        return Ok(());
    }
    writeln!(
        out,
        "{} × {} bp, batch {}, {} threads, best of {}",
        t.n, t.len, t.batch_size, t.threads, config.repeats
    )?;
    for r in &t.results {
        let ratio = t.vs_tract(r).map(|x| format!("  ({x:.2}× tract)")).unwrap_or_default();
        writeln!(
            out,
            "{:<6} {:>12.0} seq/s  {:>8.3} s{ratio}",
            r.engine.to_string(),
            r.seqs_per_s,
            r.seconds
        )?;
    }
    Ok(())
}
