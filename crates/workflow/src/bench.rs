//! `bench`: forward throughput of each usable engine on one model, measured
//! in one run so the numbers compare (the best of a few timed repetitions,
//! after a warm-up).

use std::path::PathBuf;
use std::time::Instant;

use motif_engine::{EngineChoice, EngineKind, SessionOptions};
use ndarray::s;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::{Event, Result, invalid};

/// Settings of `bench` (the `bench` command's flags).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "cli", derive(clap::Args))]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct Config {
    /// The ONNX model.
    #[cfg_attr(feature = "cli", arg(default_value = "", hide_default_value = true, required_unless_present = "config", value_parser = crate::cli::path_or_empty()))]
    pub model: PathBuf,
    /// Number of random sequences.
    #[cfg_attr(feature = "cli", arg(long, default_value_t = Config::default().n, value_parser = crate::cli::at_least_one))]
    pub n: usize,
    /// Sequence length.
    #[cfg_attr(feature = "cli", arg(long, default_value_t = Config::default().len, value_parser = crate::cli::at_least_one))]
    pub len: usize,
    /// Sequences per batch.
    #[cfg_attr(feature = "cli", arg(long, default_value_t = Config::default().batch_size, value_parser = crate::cli::at_least_one))]
    pub batch_size: usize,
    /// Timed repetitions (the best is reported).
    #[cfg_attr(feature = "cli", arg(long, default_value_t = Config::default().repeats, value_parser = crate::cli::at_least_one))]
    pub repeats: usize,
    /// Threads (default: all cores).
    #[cfg_attr(feature = "cli", arg(long))]
    pub threads: Option<usize>,
    /// Seed of the random sequences.
    #[cfg_attr(feature = "cli", arg(long, default_value_t = Config::default().seed))]
    pub seed: u64,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            model: PathBuf::new(),
            n: 10_000,
            len: 101,
            batch_size: 1000,
            repeats: 3,
            threads: None,
            seed: 1,
        }
    }
}

/// One engine's throughput.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Rate {
    /// The engine.
    pub engine: EngineKind,
    /// Seconds of the best repetition.
    pub seconds: f64,
    /// Sequences per second in it.
    pub seqs_per_s: f64,
}

/// What `bench` measured (fields in the order its JSON has always had).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Throughput {
    /// Sequences per engine call.
    pub batch_size: usize,
    /// Sequence length.
    pub len: usize,
    /// The model, as given.
    pub model: String,
    /// Sequences per repetition.
    pub n: usize,
    /// One per usable engine.
    pub results: Vec<Rate>,
    /// Threads used.
    pub threads: usize,
}

impl Throughput {
    /// Each engine's rate over tract's, when tract ran.
    #[must_use]
    pub fn vs_tract(&self, r: &Rate) -> Option<f64> {
        let tract = self.results.iter().find(|x| x.engine == EngineKind::Tract)?;
        Some(r.seqs_per_s / tract.seqs_per_s)
    }
}

/// Runs `bench`; an engine that cannot run here is skipped with a note.
///
/// # Errors
/// A model that cannot load or take sequences of `len`, a zero count, or
/// an engine failure.
pub fn run(config: &Config, events: &mut dyn FnMut(Event)) -> Result<Throughput> {
    if config.n == 0 || config.len == 0 || config.batch_size == 0 || config.repeats == 0 {
        return Err(invalid("bench: n, len, batch size and repeats must be at least 1"));
    }
    let model = motif_onnx::Model::load(&config.model)?;
    model.check_length(config.len)?;
    let x = crate::input::random_onehot(config.n, config.len, config.seed);
    let batches: Vec<(usize, usize)> = (0..config.n)
        .step_by(config.batch_size)
        .map(|i| (i, (i + config.batch_size).min(config.n)))
        .collect();
    let mut results = Vec::new();
    for st in motif_engine::engines() {
        if !st.usable {
            events(Event::Note(format!("skipping {}: {}", st.engine, st.detail)));
            continue;
        }
        let opts = SessionOptions {
            engine: EngineChoice::Exactly(st.engine),
            threads: config.threads,
            ..Default::default()
        };
        let session = motif_engine::open(&model, &opts)?;
        let once = || -> Result<()> {
            let run = |&(i, j): &(usize, usize)| session.run(x.slice(s![i..j, .., ..])).map(|_| ());
            if session.parallel_batches() {
                batches.par_iter().try_for_each(run)?;
            } else {
                batches.iter().try_for_each(run)?;
            }
            Ok(())
        };
        events(Event::Stage { name: "timing", total: Some(config.repeats as u64 + 1) });
        events(Event::Detail(st.engine.to_string()));
        once()?; // warm-up: plans, allocations
        events(Event::Advance(1));
        let mut best = f64::INFINITY;
        for _ in 0..config.repeats {
            let t = Instant::now();
            once()?;
            best = best.min(t.elapsed().as_secs_f64());
            events(Event::Advance(1));
        }
        results.push(Rate { engine: st.engine, seconds: best, seqs_per_s: config.n as f64 / best });
    }
    Ok(Throughput {
        batch_size: config.batch_size,
        len: config.len,
        model: config.model.display().to_string(),
        n: config.n,
        results,
        threads: config.threads.unwrap_or_else(rayon::current_num_threads),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Tract always runs; its rate is the sequences over the best time.
    #[test]
    fn tract_is_timed_and_rates_are_sequences_per_second() {
        let model = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../data/models/torch_legacy_ncw.onnx");
        let c = Config { model, n: 64, len: 101, batch_size: 32, repeats: 2, ..Config::default() };
        let t = run(&c, &mut |_| {}).unwrap();
        let tract = t.results.iter().find(|r| r.engine == EngineKind::Tract).unwrap();
        assert!(tract.seconds > 0.0);
        assert!((tract.seqs_per_s * tract.seconds - 64.0).abs() < 1e-6);
        assert_eq!(t.vs_tract(tract), Some(1.0));
        let e = run(&Config { n: 0, ..c }, &mut |_| {}).unwrap_err().to_string();
        assert!(e.contains("at least 1"), "{e}");
    }
}
