//! `motiftool train`: flags → [`motif_workflow::train::Config`].

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;
use motif_core::rundir::RunDir;
use motif_workflow::cli::{config_file, overlay};
use motif_workflow::train::{self, Config};

use crate::progress::Progress;

/// Arguments of `train`.
#[derive(Debug, Args)]
pub struct TrainArgs {
    #[command(flatten)]
    pub settings: Config,
    #[command(flatten)]
    pub on: crate::EngineSelect,
    /// Hide the progress bar.
    #[arg(long)]
    pub quiet: bool,
    /// Output folder: model.onnx (the trained model) and training.json
    /// (settings, per-epoch log, test AUC); while training, training.ckpt
    /// (the last finished epoch: rerun the same command to resume).
    #[arg(short, long, default_value = "motiftool-train")]
    pub out: PathBuf,
    /// Settings from a TOML file, keys as run.json's `config`; flags given
    /// on the command line override it.
    #[arg(long, value_name = "TOML")]
    pub config: Option<PathBuf>,
}

impl TrainArgs {
    /// `--config`'s settings, then the flags typed (the engine's from
    /// their own group: `--batch-size` here is the minibatch).
    fn config(&self, matches: &clap::ArgMatches) -> Result<Config> {
        let base: Config = config_file(self.config.as_deref())?;
        let mut c = overlay(&base, &self.settings, matches)?;
        c.engine = self.on.over(base.engine);
        Ok(c)
    }
}

/// Help after the options.
pub const TRAIN_HELP: &str = "Examples:
  motiftool simulate --preset deepprune4 -o sim4/
  motiftool train --arch deepbind --kernels 16 --train sim4/train.fa --test sim4/test.fa -o run4/
  motiftool shuffle GABPA_AC.seq.gz --label 0 -o neg.fa
  motiftool train --arch deepbind --train GABPA_AC.seq.gz --train neg.fa --test GABPA_B.seq.gz -o gabpa/
  motiftool train --from model.onnx --train more.fa --lr 1e-4 -o tuned/
  motiftool simulate --preset nm-shift -o shift/
  motiftool train --arch stack --layers 3x5:2,1x2 --no-dense --train shift/train.fa --test shift/test.fa -o demo1/

The loss is binary cross-entropy (on logits when the model ends in a Sigmoid), Adam with Keras'
defaults; every output is a label (multi-label FASTA headers `>id 0 1 0 …` give several).";

/// Runs `train`.
pub fn run(a: &TrainArgs, matches: &clap::ArgMatches) -> Result<()> {
    let config = a.config(matches)?;
    let mut run = RunDir::create(&a.out, "train")?;
    let mut progress = Progress::new(a.quiet);
    let s = train::run(&config, &mut run, &mut |e| progress.event(e))?;
    progress.clear();
    let best = &s.log[s.best_epoch - 1];
    eprintln!(
        "motiftool: {} epochs on {} ({}): best val_loss {:.4} at epoch {}{}; {:.0} training sequences/s",
        s.log.len(),
        s.engine,
        s.model,
        best.val_loss,
        s.best_epoch,
        if s.stopped_early { " (stopped early)" } else { "" },
        s.seqs_per_s(),
    );
    if let Some(t) = &s.test_auc {
        eprintln!("motiftool: test ROC AUC {:.4} on {} sequences", t.mean, t.sequences);
    }
    run.finish(&s)?;
    Ok(())
}
