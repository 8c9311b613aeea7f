//! `motiftool decouple`: flags → [`motif_workflow::decouple::Config`].

use std::path::PathBuf;

use anyhow::{Result, bail};
use clap::Args;
use motif_core::rundir::RunDir;
use motif_workflow::cli::{config_file, overlay, typed};
use motif_workflow::decouple::{self, Config, Outcome};

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

/// Arguments of `decouple`: the workflow's settings as flags, a settings
/// file, the output folder.
#[derive(Debug, Args)]
pub struct DecoupleArgs {
    #[command(flatten)]
    pub settings: Config,
    /// Settings from a TOML file, keys as the flags (run.json records them);
    /// flags typed on the command line override it.
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
    /// `--config`'s settings, then the flags typed.
    fn config(&self, matches: &clap::ArgMatches) -> Result<Config> {
        if self.config.is_none() && !typed(matches, "layer") {
            bail!("--layer is required (or `layer` in --config)");
        }
        let base: Config = config_file(self.config.as_deref())?;
        Ok(overlay(&base, &self.settings, matches)?)
    }
}

/// Runs `decouple`.
pub fn run(a: &DecoupleArgs, matches: &clap::ArgMatches) -> Result<()> {
    let config = a.config(matches)?;
    let dir = decouple::layer_dir(&a.out, config.layer);
    let mut run = RunDir::create(&dir, "decouple")?;
    let mut progress = Progress::new(a.quiet);
    let outcome = decouple::run(&config, &mut run, &mut |e| progress.event(e))?;
    progress.clear();
    match outcome {
        Outcome::Shard { neurons } => eprintln!(
            "motiftool: shard {}: {neurons} neurons sampled and demixed (m = 1) in {}; run without --shard to choose m and finish",
            config.shard.map(|s| s.to_string()).unwrap_or_default(),
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
