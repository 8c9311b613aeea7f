//! `motiftool bench`: forward throughput of each usable engine, measured
//! in one run so the numbers compare.

use std::io::Write as _;
use std::path::PathBuf;

use anyhow::Result;
use clap::Args;
use motif_workflow::bench;

/// Arguments of `bench`.
#[derive(Debug, Args)]
#[command(
    after_help = "Example:\n  motiftool bench data/models/torch_legacy_ncw.onnx --n 10000 --len 101"
)]
pub struct BenchArgs {
    /// The ONNX model.
    pub model: PathBuf,
    /// Number of random sequences.
    #[arg(long, default_value_t = 10_000, value_parser = crate::at_least_one)]
    pub n: usize,
    /// Sequence length.
    #[arg(long, default_value_t = 101, value_parser = crate::at_least_one)]
    pub len: usize,
    /// Sequences per batch.
    #[arg(long, default_value_t = 1000, value_parser = crate::at_least_one)]
    pub batch_size: usize,
    /// Timed repetitions (the best is reported).
    #[arg(long, default_value_t = 3, value_parser = crate::at_least_one)]
    pub repeats: usize,
    /// Threads (default: all cores).
    #[arg(long)]
    pub threads: Option<usize>,
    /// Seed of the random sequences.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Print as JSON.
    #[arg(long)]
    pub json: bool,
}

/// Runs `bench`.
pub fn run(a: &BenchArgs) -> Result<()> {
    let config = bench::Config {
        model: a.model.clone(),
        n: a.n,
        len: a.len,
        batch_size: a.batch_size,
        repeats: a.repeats,
        threads: a.threads,
        seed: a.seed,
    };
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
        t.n, t.len, t.batch_size, t.threads, a.repeats
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
