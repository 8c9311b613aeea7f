//! `motiftool prune`: flags → [`motif_workflow::prune::Config`].

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;
use motif_core::rundir::RunDir;
use motif_workflow::prune::{self, Config};

use crate::progress::Progress;
use motif_workflow::cli::{config_file, overlay};

/// Arguments of `prune`.
#[derive(Debug, Args)]
pub struct PruneArgs {
    #[command(flatten)]
    pub settings: Config,
    /// Criterion config, `key=value` (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,
    #[command(flatten)]
    pub on: crate::EngineSelect,
    /// Hide the progress bar.
    #[arg(long)]
    pub quiet: bool,
    /// Output folder; a folder holding the same run resumes it.
    #[arg(short, long, default_value = "motiftool-prune")]
    pub out: PathBuf,
    /// Settings from a TOML file, keys as `motif_workflow::prune::Config`;
    /// flags given on the command line override it.
    #[arg(long, value_name = "TOML")]
    pub config: Option<PathBuf>,
}

/// Help after the options.
pub const PRUNE_HELP: &str = "Deepprune (Luo, Chi, Deng 2019): the kernels behind the dense layer are scored by the criterion
and those strictly above the median are kept (ties at the median are all dropped, as in the
original), cut out of the model, and the smaller model is fine-tuned with lr / 1.2^i and early
stopping. Each step writes step-i/{deepprune,inter,...}.onnx (smaller models that load anywhere)
and step-i/metrics.json; prune.json holds every finished step, the folder's journal records each
as it finishes, and running the same command again resumes after the last one. report.html draws AUC against kernel number, the surviving
kernels' dense weights across steps and the final kernels' logos with their matches.

Examples:
  motiftool simulate --preset deepprune4 -o sim4/
  motiftool train --arch deepbind --kernels 256 --activation deepprune --lr 0.01 --train sim4/train.fa -o full/
  motiftool prune full/model.onnx --train sim4/train.fa --test sim4/test.fa --target-kernels 4 --truth sim4/motifs.meme -o p4/
  motiftool prune full/model.onnx --train sim4/train.fa --test sim4/test.fa --criterion score -o p4s/
  motiftool prune --protocol --seeds 1,2,3,4,5 --train sim4/train.fa --test sim4/test.fa --truth sim4/motifs.meme -o proto4/";

impl PruneArgs {
    /// `--config`'s settings, then the flags typed (the engine's from
    /// their own group: `--batch-size` here is the minibatch).
    fn config(&self, matches: &clap::ArgMatches) -> Result<Config> {
        let base: Config = config_file(self.config.as_deref())?;
        let mut c = overlay(&base, &self.settings, matches)?;
        for s in &self.set {
            motif_core::plugin::apply_set(&mut c.criterion_config, s)?;
        }
        c.engine = self.on.over(base.engine);
        Ok(c)
    }
}

/// Runs `prune`.
pub fn run_cmd(a: &PruneArgs, matches: &clap::ArgMatches) -> Result<()> {
    let config = a.config(matches)?;
    let mut run = RunDir::create(&a.out, "prune")?;
    let mut progress = Progress::new(a.quiet);
    let outcome = prune::run(&config, &mut run, &mut |e| progress.event(e))?;
    progress.clear();
    let s = match outcome {
        prune::Outcome::Shard { seeds } => {
            let seeds: Vec<String> = seeds.iter().map(u64::to_string).collect();
            eprintln!(
                "motiftool: shard {}: seed(s) {} trained and pruned in {}; run without --shard to write the table and report",
                config.shard.map(|s| s.to_string()).unwrap_or_default(),
                if seeds.is_empty() { "none".to_owned() } else { seeds.join(", ") },
                a.out.display()
            );
            return Ok(());
        }
        prune::Outcome::Done(s) => s,
    };
    run.finish(&s)?;
    println!("variant\tkernels\tseeds\tmean_test_auc\tsd\tmin\tmax");
    for r in &s.summary {
        println!(
            "{}\t{}\t{}\t{:.4}\t{:.4}\t{:.4}\t{:.4}",
            r.variant, r.kernels, r.n, r.mean, r.sd, r.min, r.max
        );
    }
    eprintln!(
        "motiftool: {} → {} (report.html{}); steps {:.1} s, of which fine-tuning and training {:.1} s ({:.0} %)",
        config
            .model
            .as_deref()
            .map_or_else(|| "the protocol's model".into(), |p| p.display().to_string()),
        a.out.display(),
        if config.protocol { ", protocol.csv, protocol.json" } else { ", prune.json" },
        s.seconds.steps,
        s.seconds.training,
        100.0 * s.seconds.training / s.seconds.steps.max(1e-9)
    );
    Ok(())
}
