//! `motiftool bench`: forward throughput of each usable engine, measured
//! in one run so the numbers compare.

use std::io::Write as _;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::Result;
use clap::Args;
use motif_engine::{EngineChoice, EngineKind, SessionOptions};
use ndarray::s;
use rayon::prelude::*;

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
    let model = super::load_model(&a.model)?;
    model.check_length(a.len)?;
    let x = motif_workflow::input::random_onehot(a.n, a.len, a.seed);
    let mut rows = Vec::new();
    for st in motif_engine::engines() {
        if !st.usable {
            eprintln!("motiftool: skipping {}: {}", st.engine, st.detail);
            continue;
        }
        let opts = SessionOptions {
            engine: EngineChoice::Exactly(st.engine),
            threads: a.threads,
            ..Default::default()
        };
        let session = motif_engine::open(&model, &opts)?;
        let batches: Vec<(usize, usize)> = (0..a.n)
            .step_by(a.batch_size.max(1))
            .map(|i| (i, (i + a.batch_size).min(a.n)))
            .collect();
        let once = || -> Result<()> {
            let run = |&(i, j): &(usize, usize)| session.run(x.slice(s![i..j, .., ..])).map(|_| ());
            if session.parallel_batches() {
                batches.par_iter().try_for_each(run)?;
            } else {
                batches.iter().try_for_each(run)?;
            }
            Ok(())
        };
        once()?; // warm-up: plans, allocations
        let mut best = f64::INFINITY;
        for _ in 0..a.repeats.max(1) {
            let t = Instant::now();
            once()?;
            best = best.min(t.elapsed().as_secs_f64());
        }
        rows.push((st.engine, a.n as f64 / best, best));
    }
    let mut out = std::io::stdout().lock();
    let threads = a.threads.unwrap_or_else(rayon::current_num_threads);
    if a.json {
        let v: Vec<_> = rows
            .iter()
            .map(|(e, r, t)| serde_json::json!({"engine": e, "seqs_per_s": r, "seconds": t}))
            .collect();
        writeln!(
            out,
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({
            "model": a.model.display().to_string(), "n": a.n, "len": a.len, "batch_size": a.batch_size,
            "threads": threads, "results": v}))?
        )?;
        return Ok(());
    }
    writeln!(
        out,
        "{} × {} bp, batch {}, {} threads, best of {}",
        a.n, a.len, a.batch_size, threads, a.repeats
    )?;
    let tract = rows.iter().find(|r| r.0 == EngineKind::Tract).map(|r| r.1);
    for (e, rate, t) in &rows {
        let ratio = tract.map(|tr| format!("  ({:.2}× tract)", rate / tr)).unwrap_or_default();
        writeln!(out, "{:<6} {:>12.0} seq/s  {:>8.3} s{ratio}", e.to_string(), rate, t)?;
    }
    Ok(())
}
