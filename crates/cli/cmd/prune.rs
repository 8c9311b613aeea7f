//! `motiftool prune`: flags → [`motif_workflow::prune::Config`].

use std::path::PathBuf;

use anyhow::Result;
use clap::{Args, ValueEnum};
use motif_core::rundir::RunDir;
use motif_prune::Variant;
use motif_workflow::prune::{self, Config};

use crate::args::FitArgs;
use crate::progress::Progress;
use motif_workflow::cli::overlay;
use motif_workflow::labelled::LabelledData;
use motif_workflow::train::ActivationName;

/// `--variant`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum VariantOpt {
    /// Prune, then fine-tune with `lr_init/1.2^i` (also records `inter`).
    Deepprune,
    /// Pruned models before each step's fine-tuning (Deepprune-inter; runs
    /// the Deepprune chain).
    Inter,
    /// Survivors reset to their initial weights (--init) and retrained with
    /// `lr_init` (runs the Deepprune chain for the masks).
    Lottery,
    /// A fresh model of each size trained with `lr_init/1.2^i`.
    Baseline,
}

/// Arguments of `prune`.
#[derive(Debug, Args)]
pub struct PruneArgs {
    /// The trained model (ONNX): conv → activation → global pooling → dense.
    /// With --protocol: the architecture to train from fresh weights
    /// (default: --kernels × --width DeepBind net).
    pub model: Option<PathBuf>,
    /// Training, validation and test data: files, table columns, genome
    /// intervals.
    #[command(flatten)]
    pub data: LabelledData,
    /// Pruning criterion plugin (`motiftool plugins --kind criterion`) [default: weight].
    #[arg(long)]
    pub criterion: Option<String>,
    /// Criterion config, `key=value` (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,
    /// Kernels left at the end (d): the model's 2^k·d kernels are halved k
    /// times [default: 4].
    #[arg(long)]
    pub target_kernels: Option<usize>,
    /// Halvings (k); default log2(kernels / d).
    #[arg(long)]
    pub steps: Option<usize>,
    /// What to run (repeatable or comma-separated). Default: deepprune (its
    /// chain also records inter); with --protocol, all four.
    #[arg(long = "variant", value_enum, value_delimiter = ',')]
    pub variants: Vec<VariantOpt>,
    /// The untrained initial weights of MODEL (the lottery variant).
    #[arg(long, value_name = "MODEL")]
    pub init: Option<PathBuf>,
    /// The paper's protocol: for each of --seeds, fresh weights, the full
    /// model trained with --lr, then every variant; one table
    /// (protocol.csv, protocol.json) with the spread over seeds.
    #[arg(long)]
    pub protocol: bool,
    /// Seeds of --protocol [default: 1,2,3,4,5].
    #[arg(long, value_delimiter = ',')]
    pub seeds: Vec<u64>,
    /// Kernels of the default --protocol architecture [default: 256].
    #[arg(long)]
    pub kernels: Option<usize>,
    /// Kernel width of the default --protocol architecture (the paper: 24
    /// on simulated data, 15 on ChIP-seq) [default: 24].
    #[arg(long)]
    pub width: Option<usize>,
    /// Activation of the default --protocol architecture [default: deepprune].
    #[arg(long, value_enum)]
    pub activation: Option<ActivationName>,
    /// `lr_init` (the paper: 0.01) [default: 0.01].
    #[arg(long)]
    pub lr: Option<f64>,
    /// The learning rate is divided by this at every step [default: 1.2].
    #[arg(long)]
    pub decay: Option<f64>,
    /// Fraction of the training file held out for validation (the last
    /// part) [default: 0.1].
    #[arg(long)]
    pub val_fraction: Option<f64>,
    /// Seed of minibatch orders and fresh weights (not --protocol) [default: 1].
    #[arg(long)]
    pub seed: Option<u64>,
    /// Motifs planted in simulated data (`simulate`'s motifs.meme): the
    /// final kernels are matched against these in the report.
    #[arg(long, value_name = "MEME")]
    pub truth: Option<PathBuf>,
    /// Database to match the final kernels against when there is no
    /// --truth. Default: the bundled JASPAR 2024 set.
    #[arg(long)]
    pub db: Option<PathBuf>,
    #[command(flatten)]
    pub fit: FitArgs,
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

fn variant(v: VariantOpt) -> Variant {
    match v {
        VariantOpt::Deepprune => Variant::Deepprune,
        VariantOpt::Inter => Variant::Inter,
        VariantOpt::Lottery => Variant::Lottery,
        VariantOpt::Baseline => Variant::Baseline,
    }
}

impl PruneArgs {
    /// `--config`'s settings, then the flags.
    fn config(&self, matches: &clap::ArgMatches) -> Result<Config> {
        let mut c: Config = match &self.config {
            Some(p) => motif_workflow::load_config(p)?,
            None => Config::default(),
        };
        if self.model.is_some() {
            c.model.clone_from(&self.model);
        }
        c.data = overlay(&c.data, &self.data, matches)?;
        if let Some(v) = &self.criterion {
            c.criterion.clone_from(v);
        }
        for s in &self.set {
            motif_core::plugin::apply_set(&mut c.criterion_config, s)?;
        }
        if let Some(v) = self.target_kernels {
            c.target_kernels = v;
        }
        if self.steps.is_some() {
            c.steps = self.steps;
        }
        if !self.variants.is_empty() {
            c.variants = self.variants.iter().map(|&v| variant(v)).collect();
        }
        if self.init.is_some() {
            c.init.clone_from(&self.init);
        }
        c.protocol |= self.protocol;
        if !self.seeds.is_empty() {
            c.seeds.clone_from(&self.seeds);
        }
        if let Some(v) = self.kernels {
            c.kernels = v;
        }
        if let Some(v) = self.width {
            c.width = v;
        }
        if let Some(v) = self.activation {
            c.activation = v;
        }
        for (flag, slot) in [
            (self.lr, &mut c.lr),
            (self.decay, &mut c.decay),
            (self.val_fraction, &mut c.val_fraction),
        ] {
            if let Some(v) = flag {
                *slot = v;
            }
        }
        if let Some(v) = self.seed {
            c.seed = v;
        }
        if self.truth.is_some() {
            c.truth.clone_from(&self.truth);
        }
        if self.db.is_some() {
            c.db.clone_from(&self.db);
        }
        c.fit = overlay(&c.fit, &self.fit.fit, matches)?;
        c.engine = self.fit.on.over(c.engine);
        Ok(c)
    }
}

/// Runs `prune`.
pub fn run_cmd(a: &PruneArgs, matches: &clap::ArgMatches) -> Result<()> {
    let config = a.config(matches)?;
    let mut run = RunDir::create(&a.out, "prune")?;
    let mut progress = Progress::new(a.fit.quiet);
    let s = prune::run(&config, &mut run, &mut |e| progress.event(e))?;
    progress.clear();
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
