//! `motiftool decouple`: flags → [`motif_workflow::decouple::Config`].

use std::path::PathBuf;

use anyhow::{Result, bail};
use clap::Args;
use motif_core::rundir::RunDir;
use motif_workflow::decouple::{self, Config, Outcome};

use crate::EngineArgs;
use crate::progress::Progress;

/// Help after the options.
pub const DECOUPLE_HELP: &str = "Layers are numbered as `motiftool inspect` shows them (0 = first conv). Run them in
order: layer L seeds its genetic algorithm from layer L−1's motifs in the same -o folder.

Writes into -o DIR/layer-L/: neuron-K/{samples.bin, sampling.json, m1/crms.json, …, neuron.json,
crms.meme, segments.meme, dict.meme, neuron.html} for every neuron, then layer.json (settings, the
number of motifs m chosen and the r values behind it), allppm.json (every neuron's CRM PPMs, for
the next layer) and index.html. Re-running the same command resumes: finished neurons are read
back, not recomputed. --shard i/n takes every n-th neuron (from i, 1-based): shards sample and
demix their neurons in one shared folder; a final run without --shard chooses m over all of them
and finishes (with --motifs forced, shards finish their neurons themselves).

Examples:
  motiftool simulate --preset nm-shift -o shift/
  motiftool train --arch stack --layers 3x5:2,1x2 --no-dense --train shift/train.fa --test shift/test.fa -o demo1/
  motiftool decouple demo1/model.onnx --layer 1 --align shift/test.fa -o nm1/
  motiftool decouple model.onnx --layer 0 -o nm/ && motiftool decouple model.onnx --layer 1 -o nm/
  motiftool decouple model.onnx --layer 4 --shard 1/4 -o nm/   # … 2/4, 3/4, 4/4, then without --shard";

/// Arguments of `decouple`.
#[derive(Debug, Args)]
pub struct DecoupleArgs {
    /// The model (ONNX): a chain of stride-1 convs with non-overlapping max
    /// pools (or give `model` in --config).
    pub model: Option<PathBuf>,
    /// Conv layer to decouple (0 = first, as `motiftool inspect` numbers
    /// them; or give `layer` in --config).
    #[arg(long)]
    pub layer: Option<usize>,
    /// Neurons (channels) to decouple: `0,3,5-9`. Default: all.
    #[arg(long, value_name = "LIST")]
    pub neurons: Option<String>,
    /// Motifs per neuron m (each pool of size P splits clusters into P^m).
    /// Default: NeuronMotif's rule, m = 1, 2, … until the t-test over the
    /// layer's neurons accepts (r = conact/max act against 0.95).
    #[arg(long, value_parser = crate::at_least_one_u32)]
    pub motifs: Option<u32>,
    /// Largest m the rule tries [default: 4].
    #[arg(long, value_parser = crate::at_least_one_u32)]
    pub max_motifs: Option<u32>,
    /// This process's share of the neurons: i/n (1-based).
    #[arg(long, value_name = "i/n")]
    pub shard: Option<String>,
    /// Motif database for the CRMs' and segments' matches. Default: the
    /// bundled JASPAR 2024 CORE vertebrates set.
    #[arg(long)]
    pub db: Option<PathBuf>,
    /// Sequences (FASTA etc.) on which to also show plain activation
    /// alignment (Koo & Eddy) of each neuron, for comparison.
    #[arg(long, value_name = "FILE")]
    pub align: Option<PathBuf>,
    /// Start the genetic algorithm from uniform sequences instead of the
    /// previous layer's motifs.
    #[arg(long)]
    pub no_seed: bool,
    /// Most GA iterations [default: 200].
    #[arg(long, value_parser = crate::at_least_one)]
    pub max_iter: Option<usize>,
    /// GA population (default clamp(⌊RF/20⌋·1000, 2000, 5000)).
    #[arg(long, value_parser = crate::at_least_one)]
    pub population: Option<usize>,
    /// Most samples kept per neuron [default: 100000].
    #[arg(long, value_parser = crate::at_least_one)]
    pub pool: Option<usize>,
    /// Random seed [default: 1].
    #[arg(long)]
    pub seed: Option<u64>,
    #[command(flatten)]
    pub engine: EngineArgs,
    /// Settings from a TOML file, keys as in `decouple::Config` (run.json
    /// records them); flags given on the command line override it.
    #[arg(long, value_name = "TOML")]
    pub config: Option<PathBuf>,
    /// Hide progress.
    #[arg(long)]
    pub quiet: bool,
    /// Output folder.
    #[arg(short, long, default_value = "motiftool-decouple")]
    pub out: PathBuf,
}

impl DecoupleArgs {
    /// `--config`'s settings, then the flags.
    fn config(&self) -> Result<Config> {
        let mut c: Config = match &self.config {
            Some(p) => motif_workflow::load_config(p)?,
            None => Config::default(),
        };
        if let Some(m) = &self.model {
            c.model.clone_from(m);
        }
        if c.model.as_os_str().is_empty() {
            bail!("no model: give MODEL, or `model` in --config");
        }
        if let Some(v) = self.layer {
            c.layer = v;
        } else if self.config.is_none() {
            bail!("--layer is required (or `layer` in --config)");
        }
        let opt = |v: &Option<PathBuf>, c: &mut Option<PathBuf>| {
            if v.is_some() {
                c.clone_from(v);
            }
        };
        opt(&self.db, &mut c.db);
        opt(&self.align, &mut c.align);
        if self.neurons.is_some() {
            c.neurons.clone_from(&self.neurons);
        }
        if self.shard.is_some() {
            c.shard.clone_from(&self.shard);
        }
        if self.motifs.is_some() {
            c.motifs = self.motifs;
        }
        if let Some(v) = self.max_motifs {
            c.max_motifs = v;
        }
        if self.no_seed {
            c.seeded = false;
        }
        if let Some(v) = self.max_iter {
            c.max_iter = v;
        }
        if self.population.is_some() {
            c.population = self.population;
        }
        if let Some(v) = self.pool {
            c.pool = v;
        }
        if let Some(v) = self.seed {
            c.seed = v;
        }
        c.engine = self.engine.over(c.engine);
        Ok(c)
    }
}

/// Runs `decouple`.
pub fn run(a: &DecoupleArgs) -> Result<()> {
    let config = a.config()?;
    let dir = decouple::layer_dir(&a.out, config.layer);
    let mut run = RunDir::create(&dir, "decouple")?;
    let mut progress = Progress::new(a.quiet);
    let outcome = decouple::run(&config, &mut run, &mut |e| progress.event(e))?;
    progress.clear();
    match outcome {
        Outcome::Shard { neurons } => eprintln!(
            "motiftool: shard {}: {neurons} neurons sampled and demixed (m = 1) in {}; run without --shard to choose m and finish",
            config.shard.as_deref().unwrap_or(""),
            dir.display()
        ),
        Outcome::Layer(s) => {
            run.finish(&s)?;
            if !a.quiet {
                eprintln!(
                    "motiftool: layer {}: {}/{} neurons decoupled (m = {}) → {}",
                    s.layer,
                    s.finished,
                    s.neurons,
                    s.motifs_per_neuron,
                    dir.join("index.html").display()
                );
            }
        }
    }
    Ok(())
}
