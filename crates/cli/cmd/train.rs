//! `motiftool train`: flags → [`motif_workflow::train::Config`].

use std::path::PathBuf;

use anyhow::Result;
use clap::{Args, ValueEnum};
use motif_core::rundir::RunDir;
use motif_workflow::train::{self, Config};

use crate::args::FitArgs;
use crate::progress::Progress;
use motif_workflow::cli::overlay;
use motif_workflow::labelled::LabelledData;
use motif_workflow::train::ActivationName;

/// Architectures `--arch` builds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Arch {
    /// Deepprune's DeepBind-style net: same-padded conv (--kernels ×
    /// --width), activation, global max pool, dense, sigmoid.
    Deepbind,
    /// Stacked 'valid' convs (--layers), each followed by ReLU and an
    /// optional max pool (BatchNorm before the ReLU with --bn), then global
    /// max pool, dense, sigmoid: NeuronMotif's demo architectures.
    Stack,
}

/// Arguments of `train`.
#[derive(Debug, Args)]
pub struct TrainArgs {
    /// Training, validation and test data: files, table columns, genome
    /// intervals.
    #[command(flatten)]
    pub data: LabelledData,
    /// Fraction held out for validation when --valid is not given [default: 0.1].
    #[arg(long)]
    pub val_fraction: Option<f64>,
    /// Build and train a fresh model of this architecture.
    #[arg(long, value_enum, conflicts_with = "from")]
    pub arch: Option<Arch>,
    /// Continue training an ONNX model (any model whose ops have gradient
    /// rules).
    #[arg(long, value_name = "MODEL")]
    pub from: Option<PathBuf>,
    /// Kernels of --arch deepbind [default: 16].
    #[arg(long, value_parser = crate::at_least_one)]
    pub kernels: Option<usize>,
    /// Kernel width of --arch deepbind [default: 24].
    #[arg(long, value_parser = crate::at_least_one)]
    pub width: Option<usize>,
    /// Conv blocks of --arch stack, input side first: `KERNELSxWIDTH`[:POOL],
    /// comma-separated. `3x5:2,1x2` is NeuronMotif's demo1 (receptive
    /// fields 5 and 8 bp); `32x7:2,32x3:2,32x3:2,32x3:2,32x3` its demo2
    /// shape (82 bp at layer 4) [default: 32x7:2,32x3:2,32x3:2,32x3:2,32x3].
    #[arg(long, value_name = "BLOCKS")]
    pub layers: Option<String>,
    /// BatchNorm in every block of --arch stack (trained as a per-channel
    /// scale and shift; running statistics are set from the training data
    /// after training, leaving the function unchanged).
    #[arg(long)]
    pub bn: bool,
    /// No dense layer in --arch stack: the last block has one kernel per
    /// output and its (global max pooled) outputs are the logits, with no
    /// activation after it (NeuronMotif's demo1 ends this way).
    #[arg(long)]
    pub no_dense: bool,
    /// Activation of --arch deepbind [default: relu].
    #[arg(long, value_enum)]
    pub activation: Option<ActivationName>,
    /// Adam learning rate (other Adam settings: Keras defaults) [default: 0.001].
    #[arg(long)]
    pub lr: Option<f64>,
    /// Seed of the initial weights and the minibatch order [default: 1].
    #[arg(long)]
    pub seed: Option<u64>,
    #[command(flatten)]
    pub fit: FitArgs,
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
    /// `--config`'s settings, then the flags.
    fn config(&self, matches: &clap::ArgMatches) -> Result<Config> {
        let mut c: Config = match &self.config {
            Some(p) => motif_workflow::load_config(p)?,
            None => Config::default(),
        };
        c.data = overlay(&c.data, &self.data, matches)?;
        if let Some(v) = self.val_fraction {
            c.val_fraction = v;
        }
        if let Some(v) = self.arch {
            c.arch = match v {
                Arch::Deepbind => motif_workflow::train::Arch::Deepbind,
                Arch::Stack => motif_workflow::train::Arch::Stack,
            };
        }
        if self.from.is_some() {
            c.from.clone_from(&self.from);
        }
        if let Some(v) = self.kernels {
            c.kernels = v;
        }
        if let Some(v) = self.width {
            c.width = v;
        }
        if let Some(v) = &self.layers {
            c.layers.clone_from(v);
        }
        c.bn |= self.bn;
        c.no_dense |= self.no_dense;
        if let Some(v) = self.activation {
            c.activation = v;
        }
        if let Some(v) = self.lr {
            c.lr = v;
        }
        if let Some(v) = self.seed {
            c.seed = v;
        }
        c.fit = overlay(&c.fit, &self.fit.fit, matches)?;
        c.engine = self.fit.on.over(c.engine);
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
    let mut progress = Progress::new(a.fit.quiet);
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
