//! `motiftool train`.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Result, bail};
use clap::{Args, ValueEnum};
use motif_core::rng::Rng;
use motif_onnx::Model;
use motif_onnx::build::Activation;
use motif_train::{Data, Progress, TrainConfig};
use ndarray::{Array2, Array3};
use prost::Message;

use crate::{EngineArgs, Split};
use motif_core::rundir::RunDir;

/// Architectures `--arch` builds.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Arch {
    /// Deepprune's DeepBind-style net: same-padded conv (--kernels ×
    /// --width), activation, global max pool, dense, sigmoid.
    Deepbind,
    /// Stacked 'valid' convs (--layers), each followed by ReLU and an
    /// optional max pool (BatchNorm before the ReLU with --bn), then global
    /// max pool, dense, sigmoid: NeuronMotif's demo architectures.
    Stack,
}

/// Activations of `--arch deepbind`.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ActivationOpt {
    /// max(0, x).
    Relu,
    /// Deepprune's: leaky ReLU (slope 0.5 below 0) clipped at 10.
    Deepprune,
}

/// Arguments of `train`.
#[derive(Debug, Args)]
pub struct TrainArgs {
    /// Labelled training sequences (FASTA `>id label`, DeepBind .seq, TSV;
    /// .gz fine). Repeat to combine files, e.g. positives and shuffled
    /// negatives: several files are shuffled together with --seed.
    #[arg(long = "train", required_unless_present = "peaks", value_name = "FILE")]
    pub train: Vec<PathBuf>,
    /// Validation sequences. Default: --valid-chroms, else the last
    /// --val-fraction of the training data, as Keras' validation_split.
    #[arg(long, value_name = "FILE", conflicts_with = "valid_chroms")]
    pub valid: Option<PathBuf>,
    /// Fraction held out for validation when --valid is not given.
    #[arg(long, default_value_t = 0.1)]
    pub val_fraction: f64,
    /// Labelled test sequences (repeatable): the trained model's ROC AUC is
    /// reported and logged.
    #[arg(long = "test", value_name = "FILE")]
    pub test: Vec<PathBuf>,
    #[command(flatten)]
    pub columns: crate::ColumnArgs,
    #[command(flatten)]
    pub peaks: crate::PeakArgs,
    /// Build and train a fresh model of this architecture.
    #[arg(long, value_enum, conflicts_with = "from")]
    pub arch: Option<Arch>,
    /// Continue training an ONNX model (any model whose ops have gradient
    /// rules).
    #[arg(long, value_name = "MODEL")]
    pub from: Option<PathBuf>,
    /// Kernels of --arch deepbind.
    #[arg(long, default_value_t = 16, value_parser = crate::at_least_one)]
    pub kernels: usize,
    /// Kernel width of --arch deepbind.
    #[arg(long, default_value_t = 24, value_parser = crate::at_least_one)]
    pub width: usize,
    /// Conv blocks of --arch stack, input side first: KERNELSxWIDTH[:POOL],
    /// comma-separated. `3x5:2,1x2` is NeuronMotif's demo1 (receptive
    /// fields 5 and 8 bp); `32x7:2,32x3:2,32x3:2,32x3:2,32x3` its demo2
    /// shape (82 bp at layer 4).
    #[arg(long, value_name = "BLOCKS", default_value = "32x7:2,32x3:2,32x3:2,32x3:2,32x3")]
    pub layers: String,
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
    /// Activation of --arch deepbind.
    #[arg(long, value_enum, default_value_t = ActivationOpt::Relu)]
    pub activation: ActivationOpt,
    /// Adam learning rate (other Adam settings: Keras defaults).
    #[arg(long, default_value_t = 0.001)]
    pub lr: f64,
    /// Seed of the initial weights and the minibatch order.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    #[command(flatten)]
    pub fit: FitArgs,
    /// Output folder: model.onnx (the trained model) and training.json
    /// (settings, per-epoch log, test AUC); while training, training.ckpt
    /// (the last finished epoch: rerun the same command to resume).
    #[arg(short, long, default_value = "motiftool-train")]
    pub out: PathBuf,
}

/// Options of every training run: `train`, and each training of `prune`.
#[derive(Debug, Args)]
pub struct FitArgs {
    /// Most epochs (early stopping usually ends sooner).
    #[arg(long, default_value_t = 1000, value_parser = crate::at_least_one)]
    pub epochs: usize,
    /// Minibatch size.
    #[arg(long, default_value_t = 256, value_parser = crate::at_least_one)]
    pub batch_size: usize,
    /// Stop after this many epochs without a lower validation loss; the
    /// best weights are kept.
    #[arg(long, default_value_t = 15)]
    pub patience: usize,
    /// L1 penalty on the dense weights (Keras `l1()` is 0.01).
    #[arg(long, default_value_t = 0.0)]
    pub l1: f32,
    /// L2 penalty on the dense weights (Keras `l2()` is 0.01).
    #[arg(long, default_value_t = 0.0)]
    pub l2: f32,
    #[command(flatten)]
    pub on: crate::EngineSelect,
    /// Hide the progress bar.
    #[arg(long)]
    pub quiet: bool,
}

impl FitArgs {
    /// The engine options, running `batch_size` sequences per call.
    pub fn engine_args(&self, batch_size: usize) -> EngineArgs {
        EngineArgs { on: self.on, batch_size: Some(batch_size) }
    }

    /// The training settings with learning rate `lr` and `seed`.
    pub fn config(&self, lr: f64, seed: u64) -> TrainConfig {
        TrainConfig {
            epochs: self.epochs,
            batch_size: self.batch_size,
            lr,
            patience: self.patience,
            l1: self.l1,
            l2: self.l2,
            seed,
            session: self.on.options(vec![]),
            mask: None,
            params: None,
            checkpoint: None,
        }
    }

    /// A progress bar, hidden with --quiet.
    pub fn bar(&self) -> indicatif::ProgressBar {
        if self.quiet { indicatif::ProgressBar::hidden() } else { indicatif::ProgressBar::new(0) }
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

/// The records of labelled sequence files, each with its path.
fn files(paths: &[PathBuf], columns: &crate::ColumnArgs) -> Result<Vec<crate::Source>> {
    paths
        .iter()
        .map(|p| -> Result<crate::Source> { Ok((p.clone(), Box::new(columns.open(p, None)?))) })
        .collect()
}

/// The labelled data of `split`: `paths` read with `columns`, then the
/// --peaks/--nonpeaks intervals on that split's chromosomes.
pub fn split_sources(
    paths: &[PathBuf],
    columns: &crate::ColumnArgs,
    peaks: &crate::PeakArgs,
    split: Split,
) -> Result<Vec<crate::Source>> {
    let mut sources = files(paths, columns)?;
    sources.extend(peaks.sources(split)?);
    Ok(sources)
}

/// Training data from `sources` (several are shuffled together with
/// `seed`), and their file names for messages.
pub fn load_training(sources: Vec<crate::Source>, seed: u64) -> Result<(Data, String)> {
    let names = source_names(&sources);
    let several = sources.len() > 1;
    let (mut data, _) = load_sources(sources)?;
    if several {
        let mut order: Vec<usize> = (0..data.len()).collect();
        Rng::new(seed).fork(u64::MAX).shuffle(&mut order);
        data = data.select(&order);
    }
    Ok((data, names))
}

/// Reads labelled sequences of one length.
pub fn load(paths: &[PathBuf], columns: &crate::ColumnArgs) -> Result<(Data, Vec<String>)> {
    load_sources(files(paths, columns)?)
}

/// Reads labelled sequences of one length from several sources.
pub fn load_sources(sources: Vec<crate::Source>) -> Result<(Data, Vec<String>)> {
    let mut seqs: Vec<Vec<u8>> = Vec::new();
    let mut labels: Vec<Vec<f32>> = Vec::new();
    let mut ids = Vec::new();
    let mut len = None;
    let mut outs = None;
    let names = source_names(&sources);
    for (p, records) in sources {
        for rec in records {
            let rec = rec?;
            let l = *len.get_or_insert(rec.seq.len());
            if rec.seq.len() != l {
                bail!(
                    "{}:{}: sequence `{}` has {} bp, earlier ones {l}",
                    p.display(),
                    rec.line,
                    rec.id,
                    rec.seq.len()
                );
            }
            if rec.labels.is_empty() {
                bail!("{}:{}: sequence `{}` has no label", p.display(), rec.line, rec.id);
            }
            let k = *outs.get_or_insert(rec.labels.len());
            if rec.labels.len() != k {
                bail!(
                    "{}:{}: sequence `{}` has {} labels, earlier ones {k}",
                    p.display(),
                    rec.line,
                    rec.id,
                    rec.labels.len()
                );
            }
            if let Some(bad) = rec.labels.iter().find(|&&v| v != 0.0 && v != 1.0) {
                bail!(
                    "{}:{}: sequence `{}` has label {bad}; training needs labels 0 or 1",
                    p.display(),
                    rec.line,
                    rec.id
                );
            }
            ids.push(rec.id);
            seqs.push(rec.seq);
            labels.push(rec.labels);
        }
    }
    let (Some(_), Some(outs)) = (len, outs) else {
        bail!("{}: no sequences", if names.is_empty() { "training data" } else { &names });
    };
    let x: Array3<f32> = motif_core::onehot::one_hot_batch(&seqs).map_err(|(i, pos, b)| {
        anyhow::anyhow!(
            "sequence `{}`: letter `{}` at {} is not A, C, G, T or N",
            ids[i],
            char::from(b),
            pos + 1
        )
    })?;
    let y = Array2::from_shape_fn((labels.len(), outs), |(i, j)| labels[i][j]);
    Ok((Data { x, y }, ids))
}

fn auc(pred: &Array2<f32>, y: &Array2<f32>) -> Result<Vec<f64>> {
    (0..y.ncols())
        .map(|j| {
            let s: Vec<f32> = pred.column(j).to_vec();
            let l: Vec<bool> = y.column(j).iter().map(|&v| v > 0.5).collect();
            Ok(motif_core::metrics::roc_auc(&s, &l)?)
        })
        .collect()
}

/// Runs `train`.
pub fn run(a: &TrainArgs) -> Result<()> {
    let t0 = Instant::now();
    let inputs: Vec<&Path> = train_inputs(a).into_iter().map(|(_, p)| p).collect();
    for f in ["model.onnx", "training.json"] {
        crate::output::refuse_overwrite(&a.out.join(f), &inputs)?;
    }
    let sources = split_sources(&a.train, &a.columns, &a.peaks, Split::Train)?;
    let (data, names) = load_training(sources, a.seed)?;
    let (train, val) = match &a.valid {
        Some(v) => (data, load(std::slice::from_ref(v), &a.columns)?.0),
        None if !a.peaks.valid_chroms.is_empty() => {
            (data, load_sources(a.peaks.sources(Split::Valid)?)?.0)
        }
        None => {
            if !(0.0..1.0).contains(&a.val_fraction) || a.val_fraction == 0.0 {
                bail!("--val-fraction must be in (0, 1), got {}", a.val_fraction);
            }
            data.split_last(a.val_fraction)
        }
    };
    if val.is_empty() {
        bail!("the validation set is empty (more data or a larger --val-fraction)");
    }
    let len = train.x.shape()[2];
    let outs = train.y.ncols();
    for j in 0..outs {
        let pos = train.y.column(j).iter().filter(|&&v| v == 1.0).count();
        if pos == 0 || pos == train.len() {
            bail!(
                "{names}: every training label{} is {}; training needs both classes",
                if outs > 1 { format!(" of output {j}") } else { String::new() },
                u8::from(pos > 0)
            );
        }
    }
    // The test set is read (and checked) before hours of training.
    let test_sources = split_sources(&a.test, &a.columns, &a.peaks, Split::Test)?;
    let test = if test_sources.is_empty() {
        None
    } else {
        let names = source_names(&test_sources);
        let (test, _) = load_sources(test_sources)?;
        if test.x.shape()[2] != len {
            bail!("{names}: test sequences have {} bp, training ones {len}", test.x.shape()[2]);
        }
        if test.y.ncols() != outs {
            bail!("{names}: test sequences have {} labels, training ones {outs}", test.y.ncols());
        }
        Some(test)
    };
    let (model, source) = match (&a.arch, &a.from) {
        (_, Some(p)) => (Model::load(p)?, p.display().to_string()),
        (Some(Arch::Deepbind), None) | (None, None) => {
            let act = match a.activation {
                ActivationOpt::Relu => Activation::Relu,
                ActivationOpt::Deepprune => Activation::Deepprune,
            };
            let proto = motif_train::glorot_deepbind(a.kernels, a.width, outs, act, None, a.seed);
            let name =
                format!("deepbind {}×{} ({:?})", a.kernels, a.width, a.activation).to_lowercase();
            (Model::from_bytes(&proto.encode_to_vec(), Path::new(&name))?, name)
        }
        (Some(Arch::Stack), None) => {
            let blocks = a
                .layers
                .split(',')
                .map(motif_train::Block::parse)
                .collect::<Result<Vec<_>, _>>()?;
            if a.no_dense && blocks.last().is_some_and(|b| b.kernels != outs) {
                bail!(
                    "--no-dense: the last block of --layers needs one kernel per output ({outs}), not {}",
                    blocks.last().map_or(0, |b| b.kernels)
                );
            }
            let proto = motif_train::glorot_stack(&blocks, a.bn, !a.no_dense, outs, a.seed);
            let name = format!("stack {}{}", a.layers, if a.bn { " with BatchNorm" } else { "" });
            let m = Model::from_bytes(&proto.encode_to_vec(), Path::new(&name))?;
            let rf = m.structure().convs.last().map_or(0, |c| c.receptive_field);
            if rf > len {
                bail!(
                    "--layers {}: the last layer's receptive field is {rf} bp, longer than the {len} bp sequences",
                    a.layers
                );
            }
            (m, name)
        }
    };
    let declared = model.structure().outputs.first().map(|o| o.dims.clone()).unwrap_or_default();
    if let Some(motif_onnx::Dim::Fixed(k)) = declared.get(1)
        && *k != outs
    {
        bail!("{}: the model has {k} outputs, the labels {outs}", model.path().display());
    }
    // After every epoch the run's state goes to training.ckpt in -o; the
    // same command resumes an interrupted run from it.
    let ckpt = a.out.join("training.ckpt");
    if ckpt.exists() {
        eprintln!("motiftool: resuming from {} (the last finished epoch)", ckpt.display());
    }
    let cfg = motif_train::TrainConfig { checkpoint: Some(ckpt), ..a.fit.config(a.lr, a.seed) };
    let bar = a.fit.bar();
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "epoch {prefix} {bar:30} {pos}/{len} batches  loss {msg}",
        )
        .expect("template"),
    );
    let mut last_val = String::new();
    let trained = motif_train::train(&model, &train, &val, &cfg, &mut |p| match p {
        Progress::Batch { epoch, done, total, loss } => {
            bar.set_length(total as u64);
            bar.set_prefix(epoch.to_string());
            bar.set_position(done as u64);
            bar.set_message(format!("{loss:.4}{last_val}"));
        }
        Progress::Epoch { epoch, val_loss } => {
            last_val = format!("  (epoch {epoch} val_loss {val_loss:.4})");
        }
    })?;
    bar.finish_and_clear();
    let best = &trained.log[trained.best_epoch - 1];
    eprintln!(
        "motiftool: {} epochs on {} ({}): best val_loss {:.4} at epoch {}{}; {:.0} training sequences/s",
        trained.log.len(),
        trained.engine,
        source,
        best.val_loss,
        trained.best_epoch,
        if trained.stopped_early { " (stopped early)" } else { "" },
        trained.log.iter().map(|l| l.train_seqs_per_s).sum::<f64>() / trained.log.len() as f64,
    );
    let final_model = if matches!(a.arch, Some(Arch::Stack)) && a.bn {
        motif_train::calibrate_batchnorm(&trained.model, &train.x, &cfg.session)?
    } else {
        trained.model.clone()
    };
    let bytes = final_model.encode_to_vec();
    let mut run = RunDir::create(&a.out, "train")?.started_at(t0);
    for (role, p) in train_inputs(a) {
        run.input(role, p)?;
    }
    let out_model = run.path("model.onnx");
    run.write("model.onnx", &bytes)?;
    let mut test_auc = None;
    if let Some(test) = test {
        let m = Model::from_bytes(&bytes, &out_model)?;
        let pred = motif_train::predict(&m, &test, &cfg)?;
        let aucs = auc(&pred, &test.y)?;
        let mean = aucs.iter().sum::<f64>() / aucs.len() as f64;
        eprintln!("motiftool: test ROC AUC {mean:.4} on {} sequences", test.len());
        test_auc =
            Some(serde_json::json!({"mean": mean, "per_output": aucs, "sequences": test.len(),
            "files": a.test.iter().map(|p| p.display().to_string()).collect::<Vec<_>>()}));
    }
    let summary = serde_json::json!({
        "model": source,
        "engine": trained.engine.to_string(),
        "train": a.train.iter().map(|p| p.display().to_string()).collect::<Vec<_>>(),
        "valid": a.valid.as_ref().map(|p| p.display().to_string()),
        "genome": genome_summary(&a.peaks),
        "sequences": {"train": train.len(), "valid": val.len(), "length": len, "outputs": outs},
        "settings": {"epochs": a.fit.epochs, "batch_size": a.fit.batch_size, "lr": a.lr, "patience": a.fit.patience,
            "l1": a.fit.l1, "l2": a.fit.l2, "seed": a.seed, "optimizer": "adam (beta1 0.9, beta2 0.999, epsilon 1e-7)",
            "loss": "binary cross-entropy"},
        "best_epoch": trained.best_epoch,
        "stopped_early": trained.stopped_early,
        "log": trained.log,
        "test_auc": test_auc,
        "seconds": t0.elapsed().as_secs_f64(),
        "motiftool": env!("CARGO_PKG_VERSION"),
    });
    run.write_json("training.json", &summary)?;
    run.set_engine(&trained.engine.to_string(), a.fit.on.device_name());
    run.set_seed(a.seed);
    run.set_config(&summary["settings"])?;
    run.finish(&summary)?;
    Ok(())
}

/// What `training.json` records of --peaks/--nonpeaks/--genome.
pub fn genome_summary(p: &crate::PeakArgs) -> serde_json::Value {
    let paths = |v: &[PathBuf]| v.iter().map(|p| p.display().to_string()).collect::<Vec<_>>();
    match &p.genome {
        None => serde_json::Value::Null,
        Some(g) => serde_json::json!({
            "fasta": g.display().to_string(), "peaks": paths(&p.peaks), "nonpeaks": paths(&p.nonpeaks),
            "width": p.peak_width, "valid_chroms": p.valid_chroms, "test_chroms": p.test_chroms,
        }),
    }
}

/// The files of `sources`, comma-separated.
pub fn source_names(sources: &[crate::Source]) -> String {
    sources.iter().map(|(p, _)| p.display().to_string()).collect::<Vec<_>>().join(", ")
}

/// The files `train` reads (an output equal to one is refused).
/// Each with its role in run.json.
fn train_inputs(a: &TrainArgs) -> Vec<(&'static str, &Path)> {
    let roles = a.train.iter().map(|p| ("train", p.as_path()));
    let roles = roles.chain(a.valid.iter().map(|p| ("valid", p.as_path())));
    let roles = roles.chain(a.test.iter().map(|p| ("test", p.as_path())));
    let roles = roles.chain(a.from.iter().map(|p| ("model", p.as_path())));
    roles.chain(a.peaks.inputs().into_iter().map(|p| ("genome", p))).collect()
}
