//! `train`: a fresh DeepBind-style or stacked CNN, or any ONNX model
//! continued, trained through the engines (BCE, Adam, early stopping on the
//! validation loss), resumable after every epoch.

use std::path::{Path, PathBuf};
use std::time::Instant;

use motif_core::rundir::RunDir;
use motif_onnx::Model;
use motif_onnx::build::Activation;
use motif_train::{Data, EpochLog, Progress, TrainConfig};
use ndarray::Array2;
use prost::Message;
use serde::{Deserialize, Serialize};

use crate::engine::EngineConfig;
use crate::labelled::{
    GenomeSummary, LabelledData, Split, load_sources, load_training, source_names,
};
use crate::{Event, Result, invalid};

/// Architectures `train` builds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
#[serde(rename_all = "lowercase")]
pub enum Arch {
    /// Deepprune's DeepBind-style net: same-padded conv (--kernels ×
    /// --width), activation, global max pool, dense, sigmoid.
    #[default]
    Deepbind,
    /// Stacked 'valid' convs (--layers), each followed by ReLU and an
    /// optional max pool (BatchNorm before the ReLU with --bn), then global
    /// max pool, dense, sigmoid: NeuronMotif's demo architectures.
    Stack,
}

/// Activations of the DeepBind-style net.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
#[serde(rename_all = "lowercase")]
pub enum ActivationName {
    /// max(0, x).
    #[default]
    Relu,
    /// Deepprune's: leaky ReLU (slope 0.5 below 0) clipped at 10.
    Deepprune,
}

impl ActivationName {
    /// As the graph builder names it.
    #[must_use]
    pub fn build(self) -> Activation {
        match self {
            Self::Relu => Activation::Relu,
            Self::Deepprune => Activation::Deepprune,
        }
    }
}

/// Settings of every training run (train, and each training of prune;
/// the `--epochs`, `--batch-size`, `--patience`, `--l1` and `--l2` flags).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "cli", derive(clap::Args))]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct FitConfig {
    /// Most epochs (early stopping usually ends sooner).
    #[cfg_attr(feature = "cli", arg(long, default_value_t = FitConfig::default().epochs, value_parser = crate::cli::at_least_one))]
    pub epochs: usize,
    /// Minibatch size.
    #[cfg_attr(feature = "cli", arg(long, default_value_t = FitConfig::default().batch_size, value_parser = crate::cli::at_least_one))]
    pub batch_size: usize,
    /// Stop after this many epochs without a lower validation loss; the
    /// best weights are kept.
    #[cfg_attr(feature = "cli", arg(long, default_value_t = FitConfig::default().patience))]
    pub patience: usize,
    /// L1 penalty on the dense weights (Keras `l1()` is 0.01).
    #[cfg_attr(feature = "cli", arg(long, default_value_t = FitConfig::default().l1))]
    pub l1: f32,
    /// L2 penalty on the dense weights (Keras `l2()` is 0.01).
    #[cfg_attr(feature = "cli", arg(long, default_value_t = FitConfig::default().l2))]
    pub l2: f32,
}

impl Default for FitConfig {
    fn default() -> Self {
        Self { epochs: 1000, batch_size: 256, patience: 15, l1: 0.0, l2: 0.0 }
    }
}

impl FitConfig {
    /// The trainer's settings with learning rate `lr`, `seed` and `engine`.
    #[must_use]
    pub fn train_config(&self, lr: f64, seed: u64, engine: &EngineConfig) -> TrainConfig {
        TrainConfig {
            epochs: self.epochs,
            batch_size: self.batch_size,
            lr,
            patience: self.patience,
            l1: self.l1,
            l2: self.l2,
            seed,
            session: engine.options(vec![]),
            ..TrainConfig::default()
        }
    }
}

/// Settings of `train` (its flags but for the engine's, which the command
/// declares without `--batch-size`, there the minibatch).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "cli", derive(clap::Args))]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct Config {
    /// Training, validation and test data: files, table columns, genome
    /// intervals.
    #[cfg_attr(feature = "cli", command(flatten))]
    pub data: LabelledData,
    /// Fraction held out for validation when there is no validation file or
    /// chromosomes (the last part, as Keras' `validation_split`).
    #[cfg_attr(feature = "cli", arg(long, default_value_t = Config::default().val_fraction))]
    pub val_fraction: f64,
    /// Build and train a fresh model of this architecture.
    #[cfg_attr(feature = "cli", arg(long, value_enum, default_value_t = Arch::Deepbind, conflicts_with = "from"))]
    pub arch: Arch,
    /// Continue training an ONNX model (any model whose ops have gradient
    /// rules).
    #[cfg_attr(feature = "cli", arg(long, value_name = "MODEL"))]
    pub from: Option<PathBuf>,
    /// Kernels of --arch deepbind.
    #[cfg_attr(feature = "cli", arg(long, default_value_t = Config::default().kernels, value_parser = crate::cli::at_least_one))]
    pub kernels: usize,
    /// Kernel width of --arch deepbind.
    #[cfg_attr(feature = "cli", arg(long, default_value_t = Config::default().width, value_parser = crate::cli::at_least_one))]
    pub width: usize,
    /// Conv blocks of --arch stack, input side first: `KERNELSxWIDTH`[:POOL],
    /// comma-separated. `3x5:2,1x2` is NeuronMotif's demo1 (receptive
    /// fields 5 and 8 bp); the default its demo2 shape (82 bp at layer 4).
    #[cfg_attr(feature = "cli", arg(long, value_name = "BLOCKS", default_value_t = Config::default().layers))]
    pub layers: String,
    /// BatchNorm in every block of --arch stack (trained as a per-channel
    /// scale and shift; running statistics are set from the training data
    /// after training, leaving the function unchanged).
    #[cfg_attr(feature = "cli", arg(long))]
    pub bn: bool,
    /// No dense layer in --arch stack: the last block has one kernel per
    /// output and its (global max pooled) outputs are the logits, with no
    /// activation after it (NeuronMotif's demo1 ends this way).
    #[cfg_attr(feature = "cli", arg(long))]
    pub no_dense: bool,
    /// Activation of --arch deepbind.
    #[cfg_attr(feature = "cli", arg(long, value_enum, default_value_t = ActivationName::Relu))]
    pub activation: ActivationName,
    /// Adam learning rate (other Adam settings: Keras defaults).
    #[cfg_attr(feature = "cli", arg(long, default_value_t = Config::default().lr))]
    pub lr: f64,
    /// Seed of the initial weights and the minibatch order.
    #[cfg_attr(feature = "cli", arg(long, default_value_t = Config::default().seed))]
    pub seed: u64,
    /// Epochs, minibatch, patience, penalties.
    #[cfg_attr(feature = "cli", command(flatten))]
    pub fit: FitConfig,
    /// Engine settings (`batch-size` is unused: training runs minibatches).
    #[cfg_attr(feature = "cli", arg(skip))]
    pub engine: EngineConfig,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            data: LabelledData::default(),
            val_fraction: 0.1,
            arch: Arch::Deepbind,
            from: None,
            kernels: 16,
            width: 24,
            layers: "32x7:2,32x3:2,32x3:2,32x3:2,32x3".into(),
            bn: false,
            no_dense: false,
            activation: ActivationName::Relu,
            lr: 0.001,
            seed: 1,
            fit: FitConfig::default(),
            engine: EngineConfig::default(),
        }
    }
}

/// Sizes of the data sets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sizes {
    /// Training sequences.
    pub train: usize,
    /// Validation sequences.
    pub valid: usize,
    /// Sequence length.
    pub length: usize,
    /// Outputs (labels per sequence).
    pub outputs: usize,
}

/// The training settings as training.json records them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Settings {
    /// Most epochs.
    pub epochs: usize,
    /// Minibatch size.
    pub batch_size: usize,
    /// Learning rate.
    pub lr: f64,
    /// Early-stopping patience.
    pub patience: usize,
    /// L1 penalty.
    pub l1: f32,
    /// L2 penalty.
    pub l2: f32,
    /// Seed.
    pub seed: u64,
    /// The optimiser.
    pub optimizer: String,
    /// The loss.
    pub loss: String,
}

/// The trained model's test AUC.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TestAuc {
    /// Mean over outputs.
    pub mean: f64,
    /// Per output.
    pub per_output: Vec<f64>,
    /// Test sequences.
    pub sequences: usize,
    /// Test files.
    pub files: Vec<String>,
}

/// `train`'s result (training.json and summary.json).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// The starting model (a file, or the fresh architecture).
    pub model: String,
    /// Engine that trained.
    pub engine: String,
    /// Training files.
    pub train: Vec<String>,
    /// Validation file.
    pub valid: Option<String>,
    /// Genome input.
    pub genome: Option<GenomeSummary>,
    /// Data sizes.
    pub sequences: Sizes,
    /// Training settings.
    pub settings: Settings,
    /// Epoch of the kept weights (1-based).
    pub best_epoch: usize,
    /// Whether early stopping ended the run.
    pub stopped_early: bool,
    /// Per-epoch log.
    pub log: Vec<EpochLog>,
    /// Test AUC, with test data.
    pub test_auc: Option<TestAuc>,
    /// Seconds of the whole run.
    pub seconds: f64,
    /// motiftool's version.
    pub motiftool: String,
}

impl Summary {
    /// Mean training throughput over the epochs (sequences/s).
    #[must_use]
    pub fn seqs_per_s(&self) -> f64 {
        self.log.iter().map(|l| l.train_seqs_per_s).sum::<f64>() / self.log.len().max(1) as f64
    }
}

/// The starting model: a file, or a fresh net of `config`'s architecture
/// for `outs` outputs and `len` bp.
fn starting_model(config: &Config, outs: usize, len: usize) -> Result<(Model, String)> {
    if let Some(p) = &config.from {
        return Ok((Model::load(p)?, p.display().to_string()));
    }
    match config.arch {
        Arch::Deepbind => {
            let proto = motif_train::glorot_deepbind(
                config.kernels,
                config.width,
                outs,
                config.activation.build(),
                None,
                config.seed,
            );
            let name =
                format!("deepbind {}×{} ({:?})", config.kernels, config.width, config.activation)
                    .to_lowercase();
            Ok((Model::from_bytes(&proto.encode_to_vec(), Path::new(&name))?, name))
        }
        Arch::Stack => {
            let blocks = config
                .layers
                .split(',')
                .map(motif_train::Block::parse)
                .collect::<Result<Vec<_>, _>>()?;
            if config.no_dense && blocks.last().is_some_and(|b| b.kernels != outs) {
                return Err(invalid(format!(
                    "--no-dense: the last block of --layers needs one kernel per output ({outs}), not {}",
                    blocks.last().map_or(0, |b| b.kernels)
                )));
            }
            let proto =
                motif_train::glorot_stack(&blocks, config.bn, !config.no_dense, outs, config.seed);
            let name = format!(
                "stack {}{}",
                config.layers,
                if config.bn { " with BatchNorm" } else { "" }
            );
            let m = Model::from_bytes(&proto.encode_to_vec(), Path::new(&name))?;
            let rf = m.structure().convs.last().map_or(0, |c| c.receptive_field);
            if rf > len {
                return Err(invalid(format!(
                    "--layers {}: the last layer's receptive field is {rf} bp, longer than the {len} bp sequences",
                    config.layers
                )));
            }
            Ok((m, name))
        }
    }
}

/// Training and validation sets, as the config asks.
fn train_and_valid(config: &Config) -> Result<(Data, Data, String)> {
    let d = &config.data;
    let (data, names) = load_training(d.sources(Split::Train)?, config.seed)?;
    let (train, val) = if d.valid.is_some() || !d.valid_chroms.is_empty() {
        (data, load_sources(d.sources(Split::Valid)?)?.0)
    } else {
        if !(0.0..1.0).contains(&config.val_fraction) || config.val_fraction == 0.0 {
            return Err(invalid(format!(
                "--val-fraction must be in (0, 1), got {}",
                config.val_fraction
            )));
        }
        data.split_last(config.val_fraction)
    };
    if val.is_empty() {
        return Err(invalid("the validation set is empty (more data or a larger --val-fraction)"));
    }
    let outs = train.y.ncols();
    for j in 0..outs {
        let pos = train.y.column(j).iter().filter(|&&v| v == 1.0).count();
        if pos == 0 || pos == train.len() {
            return Err(invalid(format!(
                "{names}: every training label{} is {}; training needs both classes",
                if outs > 1 { format!(" of output {j}") } else { String::new() },
                u8::from(pos > 0)
            )));
        }
    }
    Ok((train, val, names))
}

/// The test set, checked against the training data's length and outputs.
///
/// # Errors
/// If it cannot be read or does not fit.
pub fn test_set(data: &LabelledData, len: usize, outs: usize) -> Result<Option<Data>> {
    let sources = data.sources(Split::Test)?;
    if sources.is_empty() {
        return Ok(None);
    }
    let names = source_names(&sources);
    let (test, _) = load_sources(sources)?;
    if test.x.shape()[2] != len {
        return Err(invalid(format!(
            "{names}: test sequences have {} bp, training ones {len}",
            test.x.shape()[2]
        )));
    }
    if test.y.ncols() != outs {
        return Err(invalid(format!(
            "{names}: test sequences have {} labels, training ones {outs}",
            test.y.ncols()
        )));
    }
    Ok(Some(test))
}

/// ROC AUC of each output.
///
/// # Errors
/// If an output's labels are all one class.
pub fn aucs(pred: &Array2<f32>, y: &Array2<f32>) -> Result<Vec<f64>> {
    (0..y.ncols())
        .map(|j| {
            let s: Vec<f32> = pred.column(j).to_vec();
            let l: Vec<bool> = y.column(j).iter().map(|&v| v > 0.5).collect();
            Ok(motif_core::metrics::roc_auc(&s, &l)?)
        })
        .collect()
}

/// Runs `train` into `run`: model.onnx and training.json, and training.ckpt
/// while training (the same run resumes from it). Emits a `training` stage
/// per epoch, advancing by minibatches.
///
/// # Errors
/// If the data cannot be read or do not fit the model, or training fails.
pub fn run(config: &Config, run: &mut RunDir, events: &mut dyn FnMut(Event)) -> Result<Summary> {
    let t0 = Instant::now();
    for (role, p) in config.data.inputs() {
        run.input(role, p)?;
    }
    if let Some(p) = &config.from {
        run.input("model", p)?;
    }
    for f in ["model.onnx", "training.json"] {
        run.check_writable(f)?;
    }
    let (train, val, _) = train_and_valid(config)?;
    let len = train.x.shape()[2];
    let outs = train.y.ncols();
    // The test set is read (and checked) before hours of training.
    let test = test_set(&config.data, len, outs)?;
    let (model, source) = starting_model(config, outs, len)?;
    let declared = model.structure().outputs.first().map(|o| o.dims.clone()).unwrap_or_default();
    if let Some(motif_onnx::Dim::Fixed(k)) = declared.get(1)
        && *k != outs
    {
        return Err(invalid(format!(
            "{}: the model has {k} outputs, the labels {outs}",
            model.path().display()
        )));
    }
    // After every epoch the run's state goes to training.ckpt; the same
    // command resumes an interrupted run from it.
    let ckpt = run.path("training.ckpt");
    if ckpt.exists() {
        events(Event::Note(format!("resuming from {} (the last finished epoch)", ckpt.display())));
    }
    let cfg = TrainConfig {
        checkpoint: Some(ckpt),
        ..config.fit.train_config(config.lr, config.seed, &config.engine)
    };
    let trained = train_with_events(&model, &train, &val, &cfg, events)?;
    let final_model = if config.from.is_none() && config.arch == Arch::Stack && config.bn {
        motif_train::calibrate_batchnorm(&trained.model, &train.x, &cfg.session)?
    } else {
        trained.model.clone()
    };
    let bytes = final_model.encode_to_vec();
    run.write("model.onnx", &bytes)?;
    let test_auc = match test {
        Some(test) => {
            let m = Model::from_bytes(&bytes, &run.path("model.onnx"))?;
            let pred = motif_train::predict(&m, &test, &cfg)?;
            let per_output = aucs(&pred, &test.y)?;
            Some(TestAuc {
                mean: per_output.iter().sum::<f64>() / per_output.len() as f64,
                per_output,
                sequences: test.len(),
                files: config.data.test.iter().map(|p| p.display().to_string()).collect(),
            })
        }
        None => None,
    };
    let d = &config.data;
    let summary = Summary {
        model: source,
        engine: trained.engine.to_string(),
        train: d.train.iter().map(|p| p.display().to_string()).collect(),
        valid: d.valid.as_ref().map(|p| p.display().to_string()),
        genome: d.genome_summary(),
        sequences: Sizes { train: train.len(), valid: val.len(), length: len, outputs: outs },
        settings: Settings {
            epochs: config.fit.epochs,
            batch_size: config.fit.batch_size,
            lr: config.lr,
            patience: config.fit.patience,
            l1: config.fit.l1,
            l2: config.fit.l2,
            seed: config.seed,
            optimizer: "adam (beta1 0.9, beta2 0.999, epsilon 1e-7)".into(),
            loss: "binary cross-entropy".into(),
        },
        best_epoch: trained.best_epoch,
        stopped_early: trained.stopped_early,
        log: trained.log,
        test_auc,
        seconds: t0.elapsed().as_secs_f64(),
        motiftool: env!("CARGO_PKG_VERSION").into(),
    };
    run.write_json("training.json", &summary)?;
    run.set_engine(&summary.engine, config.engine.device.name());
    run.set_seed(config.seed);
    run.set_config(config)?;
    Ok(summary)
}

/// [`motif_train::train`] with its progress as events: a `training` stage
/// per epoch advancing by minibatches, the loss as detail.
///
/// # Errors
/// As [`motif_train::train`].
pub fn train_with_events(
    model: &Model,
    train: &Data,
    val: &Data,
    cfg: &TrainConfig,
    events: &mut dyn FnMut(Event),
) -> Result<motif_train::Trained> {
    let (mut epoch_seen, mut last_done) = (0usize, 0usize);
    let mut last_val = String::new();
    Ok(motif_train::train(model, train, val, cfg, &mut |p| match p {
        Progress::Batch { epoch, done, total, loss } => {
            if epoch != epoch_seen {
                epoch_seen = epoch;
                last_done = 0;
                events(Event::Stage { name: "training", total: Some(total as u64) });
            }
            events(Event::Advance(done.saturating_sub(last_done) as u64));
            last_done = done;
            events(Event::Detail(format!("epoch {epoch} loss {loss:.4}{last_val}")));
        }
        Progress::Epoch { epoch, val_loss } => {
            last_val = format!("  (epoch {epoch} val_loss {val_loss:.4})");
        }
    })?)
}
