//! The Deepprune loop, its variants, checkpoints and the paper's protocol.

use std::path::Path;
use std::time::Instant;

use motif_core::plugin::{CriterionInput, PruningCriterion};
use motif_onnx::Model;
use motif_train::{Data, TrainConfig};
use prost::Message;
use serde::{Deserialize, Serialize};

use crate::eval::{Scored, auc, check_labels, evaluate};
use crate::{Error, Head, Result, keep_mask, median};

/// What a step produces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
#[serde(rename_all = "lowercase")]
pub enum Variant {
    /// The unpruned model (step 0; the paper's mode `init`).
    #[cfg_attr(feature = "cli", value(skip))]
    Full,
    /// Pruned, then fine-tuned with `lr_init` / 1.2^i (mode `prune`).
    Deepprune,
    /// Pruned, before that step's fine-tuning (mode `inter`).
    Inter,
    /// The survivors reset to their initial weights and trained with
    /// `lr_init` (mode `prune-reinit`, the lottery ticket).
    Lottery,
    /// A fresh model of the same size trained with `lr_init` / 1.2^i (mode
    /// `init-decay`).
    Baseline,
}

impl Variant {
    /// The name users write.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::Full => "full",
            Self::Deepprune => "deepprune",
            Self::Inter => "inter",
            Self::Lottery => "lottery",
            Self::Baseline => "baseline",
        }
    }

    fn code(self) -> u64 {
        self as u64
    }
}

impl std::fmt::Display for Variant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Settings of a pruning run.
#[derive(Debug, Clone)]
pub struct PruneConfig {
    /// Kernels left at the end (d).
    pub target: usize,
    /// Halvings (k); `None`: log2(kernels / d), which must be whole.
    pub steps: Option<usize>,
    /// Learning rate of the first training (`lr_init`).
    pub lr_init: f64,
    /// Divisor of the learning rate per step (1.2).
    pub decay: f64,
    /// The last fraction of the training file held out for validation
    /// (Keras' `validation_split`).
    pub val_fraction: f64,
    /// Training settings (epochs, batch, patience, seed, engine); `lr` is
    /// set per step.
    pub train: TrainConfig,
    /// What to run besides the Deepprune chain's own models (`Deepprune`
    /// and `Inter` come from the same chain; `Lottery` needs it too).
    pub variants: Vec<Variant>,
    /// Sequences per engine call when evaluating.
    pub eval_batch: usize,
}

/// The data and plugins of a run.
pub struct Inputs<'a> {
    /// The trained model to prune (2^k·d kernels).
    pub model: &'a Model,
    /// Its initial, untrained weights (the lottery variant).
    pub init: Option<&'a Model>,
    /// The whole training file; its last `val_fraction` is the validation
    /// set, and the data criteria see all of it.
    pub train: &'a Data,
    /// Test sequences.
    pub test: &'a Data,
    /// The criterion.
    pub criterion: &'a dyn PruningCriterion,
    /// How `model` was trained, when known (the protocol trains it).
    pub trained: Option<Trained>,
}

/// How the unpruned model was trained.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
pub struct Trained {
    /// Learning rate.
    pub lr: f64,
    /// Epochs trained.
    pub epochs: usize,
    /// Epoch of the best validation loss.
    pub best_epoch: usize,
    /// Wall time, seconds.
    pub seconds: f64,
}

/// One trained or pruned model.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Record {
    /// Which.
    pub variant: Variant,
    /// 0 = unpruned; i = after the i-th halving.
    pub step: usize,
    /// Kernels.
    pub kernels: usize,
    /// The kernels' indices in the unpruned model, in order (the baseline's
    /// are fresh kernels, numbered 0..).
    pub kept: Vec<usize>,
    /// Dense weights of the kernels, (kernels, outputs).
    pub dense: Vec<Vec<f32>>,
    /// Learning rate it was trained with (none: not trained in this step).
    pub lr: Option<f64>,
    /// Test ROC AUC (mean over outputs).
    pub test_auc: f64,
    /// Validation ROC AUC.
    pub val_auc: f64,
    /// Epochs trained (0: none).
    pub epochs: usize,
    /// Epoch of the best validation loss (0: none).
    pub best_epoch: usize,
    /// Training wall time, seconds.
    pub train_seconds: f64,
    /// The ONNX file, relative to the run folder.
    pub model: String,
}

/// One halving step.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct StepRecord {
    /// 1-based.
    pub step: usize,
    /// Criterion scores of the chain's kernels before the step (in the
    /// order of the previous step's `kept`).
    pub scores: Vec<f32>,
    /// The median threshold.
    pub threshold: f64,
    /// The models of the step.
    pub records: Vec<Record>,
    /// Wall time of the step, seconds.
    pub seconds: f64,
    /// Of which training, seconds.
    pub train_seconds: f64,
}

/// `prune.json`: the settings, every finished step, and timings, rewritten
/// after each step (the run resumes from its `prune.journal`, which holds
/// the same records).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Journal {
    /// What the run was asked (compared on resume).
    pub settings: serde_json::Value,
    /// Kernels of the unpruned model.
    pub kernels: usize,
    /// Kernels at the end.
    pub target: usize,
    /// Halvings.
    pub steps: usize,
    /// The unpruned model.
    pub start: Record,
    /// Finished steps.
    pub done: Vec<StepRecord>,
    /// Engine that ran.
    pub engine: String,
    /// Whether every step finished.
    pub finished: bool,
}

impl Journal {
    /// Every record, step 0 first.
    pub fn records(&self) -> impl Iterator<Item = &Record> {
        std::iter::once(&self.start).chain(self.done.iter().flat_map(|s| s.records.iter()))
    }

    /// Wall time of the steps and the share spent training, seconds.
    #[must_use]
    pub fn seconds(&self) -> (f64, f64) {
        let total = self.done.iter().map(|s| s.seconds).sum();
        let train = self.done.iter().map(|s| s.train_seconds).sum();
        (total, train)
    }
}

/// Progress of a run.
#[derive(Debug, Clone, Copy)]
pub enum Event<'a> {
    /// Work on a model begins.
    Stage {
        /// Seed (protocol) or the run's seed.
        seed: u64,
        /// Step.
        step: usize,
        /// Of how many.
        steps: usize,
        /// Which model.
        variant: Variant,
        /// Its kernels.
        kernels: usize,
    },
    /// Training progress of that model.
    Train(motif_train::Progress),
    /// A model is finished.
    Done(&'a Record),
}

/// Halvings for `kernels` → `target` (`steps` when given must agree).
///
/// # Errors
/// If `target` is 0 or above `kernels`, or `kernels` is not target·2^k.
pub fn plan_steps(kernels: usize, target: usize, steps: Option<usize>) -> Result<usize> {
    if target == 0 {
        return Err(Error::Invalid("--target-kernels must be at least 1".into()));
    }
    if target > kernels {
        return Err(Error::Invalid(format!(
            "--target-kernels {target} is larger than the model's {kernels} kernels"
        )));
    }
    let k = (0..=usize::BITS as usize)
        .find(|&k| target.checked_shl(k as u32).is_none_or(|v| v >= kernels))
        .unwrap_or(0);
    if target << k != kernels {
        return Err(Error::Invalid(format!(
            "Deepprune halves 2^k·d kernels down to d: {kernels} kernels is not {target}·2^k \
             (try --target-kernels {})",
            kernels >> kernels.trailing_zeros().min(k as u32)
        )));
    }
    if let Some(s) = steps
        && s != k
    {
        return Err(Error::Invalid(format!(
            "{kernels} kernels halved {s} times leave {}, not --target-kernels {target} ({k} steps)",
            kernels >> s.min(63)
        )));
    }
    Ok(k)
}

/// Writes `bytes` to `path` through a temporary file and a rename, so a
/// reader never sees a half-written file.
///
/// # Errors
/// [`Error::Io`].
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    motif_core::fsio::write_atomic(path, bytes)
        .map_err(|e| Error::Io { path: path.to_path_buf(), source: e })
}

fn mix(seed: u64, step: usize, v: Variant) -> u64 {
    seed ^ ((step as u64) << 40) ^ (v.code() << 32)
}

struct Ctx<'a, 'p> {
    inp: &'a Inputs<'a>,
    cfg: &'a PruneConfig,
    head0: Head,
    fit: Data,
    val: Data,
    out: &'a Path,
    seed: u64,
    steps: usize,
    engine: String,
    progress: &'p mut dyn FnMut(Event<'_>),
}

impl Ctx<'_, '_> {
    fn scored(&self, model: &Model, head: &Head, data: &Data) -> Result<Scored> {
        evaluate(model, head, data, &self.cfg.train.session, self.cfg.eval_batch)
    }

    /// Evaluates `model`, writes it, and makes its record.
    fn record(
        &mut self,
        model: &Model,
        variant: Variant,
        step: usize,
        kept: Vec<usize>,
        trained: Option<(&motif_train::Trained, f64, f64)>,
    ) -> Result<Record> {
        let head = Head::recognise(model)?;
        let test = self.scored(model, &head, self.inp.test)?;
        let val = self.scored(model, &head, &self.val)?;
        let rel = if step == 0 {
            "step-0/full.onnx".to_string()
        } else {
            format!("step-{step}/{variant}.onnx")
        };
        write_atomic(&self.out.join(&rel), &model.proto().encode_to_vec())?;
        let dense = head.dense_array(model)?;
        let (lr, epochs, best_epoch, train_seconds) = match trained {
            Some((t, lr, s)) => (Some(lr), t.log.len(), t.best_epoch, s),
            None => (None, 0, 0, 0.0),
        };
        if let Some((t, _, _)) = trained {
            self.engine = t.engine.to_string();
        }
        let r = Record {
            variant,
            step,
            kernels: head.kernels,
            kept,
            dense: dense.columns().into_iter().map(|c| c.to_vec()).collect(),
            lr,
            test_auc: auc(&test.pred, &self.inp.test.y)?,
            val_auc: auc(&val.pred, &self.val.y)?,
            epochs,
            best_epoch,
            train_seconds,
            model: rel,
        };
        (self.progress)(Event::Done(&r));
        Ok(r)
    }

    fn train(&mut self, model: &Model, lr: f64, seed: u64) -> Result<(motif_train::Trained, f64)> {
        let mut tc = self.cfg.train.clone();
        tc.lr = lr;
        tc.seed = seed;
        tc.mask = None;
        tc.params = None;
        let t0 = Instant::now();
        let progress = &mut *self.progress;
        let t = motif_train::train(model, &self.fit, &self.val, &tc, &mut |p| {
            progress(Event::Train(p));
        })?;
        Ok((t, t0.elapsed().as_secs_f64()))
    }

    fn stage(&mut self, step: usize, variant: Variant, kernels: usize) {
        let (seed, steps) = (self.seed, self.steps);
        (self.progress)(Event::Stage { seed, step, steps, variant, kernels });
    }

    fn load(&self, rel: &str) -> Result<Model> {
        Ok(Model::load(&self.out.join(rel))?)
    }
}

/// Runs Deepprune on `inp.model`, writing into `out`:
///
/// * `step-0/full.onnx`, then per step i `step-i/{deepprune,inter,lottery,baseline}.onnx`
///   (those asked for; the chain always writes `deepprune` and `inter`) and
///   `step-i/metrics.json`;
/// * `prune.json` ([`Journal`]) after every step.
///
/// Every finished step is also recorded in the folder's resume journal
/// (`prune.journal`, [`motif_core::rundir::Journal`]): a folder whose
/// journal has the same `settings` resumes after its last finished step;
/// different settings are an error that names them.
///
/// # Errors
/// Bad labels or settings (before any training), a model that is not
/// conv → global pooling → dense, engine, training or I/O failures.
#[allow(clippy::too_many_lines, reason = "Deepprune's step loop as the paper's protocol states it")]
pub fn run(
    inp: &Inputs<'_>,
    cfg: &PruneConfig,
    settings: serde_json::Value,
    out: &Path,
    progress: &mut dyn FnMut(Event<'_>),
) -> Result<Journal> {
    let head0 = Head::recognise(inp.model)?;
    let steps = plan_steps(head0.kernels, cfg.target, cfg.steps)?;
    check_labels(inp.train, "training set")?;
    check_labels(inp.test, "test set")?;
    if !(cfg.val_fraction > 0.0 && cfg.val_fraction < 1.0) {
        return Err(Error::Invalid(format!(
            "the validation fraction must be in (0, 1), got {}",
            cfg.val_fraction
        )));
    }
    let (fit, val) = inp.train.split_last(cfg.val_fraction);
    check_labels(&val, "validation set (the last part of the training file)")?;
    let lottery = cfg.variants.contains(&Variant::Lottery);
    let chain =
        cfg.variants.iter().any(|v| matches!(v, Variant::Deepprune | Variant::Inter)) || lottery;
    let baseline = cfg.variants.contains(&Variant::Baseline);
    if lottery {
        let Some(init) = inp.init else {
            return Err(Error::Invalid(
                "the lottery variant resets the survivors to their initial weights: give the \
                 untrained model (--init MODEL)"
                    .into(),
            ));
        };
        let h = Head::recognise(init)?;
        let same = h.kernels == head0.kernels
            && crate::head::param_shapes(init) == crate::head::param_shapes(inp.model);
        if !same {
            return Err(Error::Invalid(format!(
                "{}: the initial model's weights do not have the shapes of {}'s",
                init.path().display(),
                inp.model.path().display()
            )));
        }
    }
    let journal_path = out.join("prune.json");
    // Opened now when it exists (a run with other settings is refused
    // before any work); created once the unpruned model is measured, so a
    // run that fails before leaves nothing behind.
    let journal_file = out.join("prune.journal");
    let open_journal = || {
        motif_core::rundir::Journal::open(&journal_file, &settings)
            .map_err(|e| Error::Resume(e.to_string()))
    };
    let mut steps_done = if journal_file.exists() { Some(open_journal()?) } else { None };
    let previous =
        steps_done.as_ref().and_then(|j| resumed(j, &settings, (head0.kernels, cfg.target), steps));
    let mut ctx = Ctx {
        inp,
        cfg,
        head0,
        fit,
        val,
        out,
        seed: cfg.train.seed,
        steps,
        engine: String::new(),
        progress,
    };
    let mut journal = if let Some(j) = previous {
        j
    } else {
        ctx.stage(0, Variant::Full, ctx.head0.kernels);
        let all: Vec<usize> = (0..ctx.head0.kernels).collect();
        let mut start = ctx.record(inp.model, Variant::Full, 0, all, None)?;
        if let Some(t) = inp.trained {
            (start.lr, start.epochs, start.best_epoch, start.train_seconds) =
                (Some(t.lr), t.epochs, t.best_epoch, t.seconds);
        }
        let j = match steps_done.take() {
            Some(j) => j,
            None => open_journal()?,
        };
        steps_done.insert(j).record("start", &start)?;
        Journal {
            settings,
            kernels: ctx.head0.kernels,
            target: cfg.target,
            steps,
            start,
            done: Vec::new(),
            engine: String::new(),
            finished: false,
        }
    };
    // The chain's current model and its kernels' original indices: the
    // model just fine-tuned, or, when resuming, the last one on disk.
    let mut chain_at: Option<(Model, Vec<usize>)> =
        journal.done.is_empty().then(|| (inp.model.clone(), journal.start.kept.clone()));
    for step in journal.done.len() + 1..=steps {
        let t0 = Instant::now();
        let mut train_s = 0.0;
        let lr_i = cfg.lr_init / cfg.decay.powi(step as i32);
        let mut records = Vec::new();
        let (mut scores, mut threshold) = (Vec::new(), f64::NAN);
        let mut size = ctx.head0.kernels >> step;
        if chain {
            let (current, kept_before) = if let Some(c) = chain_at.take() {
                c
            } else {
                let last = journal.done.last().map_or(Some(&journal.start), |s| {
                    s.records.iter().find(|r| r.variant == Variant::Deepprune)
                });
                let last = last.ok_or_else(|| {
                    Error::Resume(format!(
                        "{}: step {} has no deepprune model to continue from",
                        journal_path.display(),
                        step - 1
                    ))
                })?;
                (ctx.load(&last.model)?, last.kept.clone())
            };
            let head = Head::recognise(&current)?;
            let pooled = if inp.criterion.needs_data() {
                Some(ctx.scored(&current, &head, inp.train)?.pooled)
            } else {
                None
            };
            let kernels = head.kernel_array(&current)?;
            let dense = head.dense_array(&current)?;
            let labels = inp.train.y.column(0);
            let s = inp.criterion.score(&CriterionInput {
                kernels: kernels.view(),
                dense: dense.view(),
                pooled: pooled.as_ref().map(|p| p.view()),
                labels: pooled.as_ref().map(|_| labels),
            })?;
            if s.len() != head.kernels {
                return Err(Error::Invalid(format!(
                    "the criterion gave {} scores for {} kernels",
                    s.len(),
                    head.kernels
                )));
            }
            scores = s.to_vec();
            let s64: Vec<f64> = scores.iter().map(|&v| f64::from(v)).collect();
            threshold = median(&s64);
            let local: Vec<usize> =
                keep_mask(&s64).iter().enumerate().filter(|(_, k)| **k).map(|(i, _)| i).collect();
            if local.is_empty() {
                return Err(Error::Invalid(format!(
                    "step {step}: no kernel scores strictly above the median {threshold} of the \
                     {} scores (they tie or are NaN), so none survives",
                    scores.len()
                )));
            }
            let kept: Vec<usize> = local.iter().map(|&j| kept_before[j]).collect();
            size = kept.len();
            let path = out.join(format!("step-{step}/inter.onnx"));
            let inter = head.subset(current.proto(), &local, &path)?;
            ctx.stage(step, Variant::Inter, size);
            records.push(ctx.record(&inter, Variant::Inter, step, kept.clone(), None)?);
            ctx.stage(step, Variant::Deepprune, size);
            let (t, secs) = ctx.train(&inter, lr_i, mix(ctx.seed, step, Variant::Deepprune))?;
            train_s += secs;
            let tuned_path = out.join(format!("step-{step}/deepprune.onnx"));
            let tuned = Model::from_bytes(&t.model.encode_to_vec(), &tuned_path)?;
            records.push(ctx.record(
                &tuned,
                Variant::Deepprune,
                step,
                kept.clone(),
                Some((&t, lr_i, secs)),
            )?);
            chain_at = Some((tuned, kept.clone()));
            if lottery {
                let init = inp.init.expect("checked");
                let path = out.join(format!("step-{step}/lottery.onnx"));
                let w0 = ctx.head0.subset(init.proto(), &kept, &path)?;
                ctx.stage(step, Variant::Lottery, size);
                let lr = cfg.lr_init;
                let (t, secs) = ctx.train(&w0, lr, mix(ctx.seed, step, Variant::Lottery))?;
                train_s += secs;
                let m = Model::from_bytes(&t.model.encode_to_vec(), &path)?;
                records.push(ctx.record(&m, Variant::Lottery, step, kept, Some((&t, lr, secs)))?);
            }
        }
        if baseline {
            let path = out.join(format!("step-{step}/baseline.onnx"));
            let first: Vec<usize> = (0..size).collect();
            let small = ctx.head0.subset(inp.model.proto(), &first, &path)?;
            let fresh = Head::reinitialise(&small, mix(ctx.seed, step, Variant::Baseline), &path)?;
            ctx.stage(step, Variant::Baseline, size);
            let (t, secs) = ctx.train(&fresh, lr_i, mix(ctx.seed, step, Variant::Baseline) ^ 1)?;
            train_s += secs;
            let m = Model::from_bytes(&t.model.encode_to_vec(), &path)?;
            records.push(ctx.record(&m, Variant::Baseline, step, first, Some((&t, lr_i, secs)))?);
        }
        let rec = StepRecord {
            step,
            scores,
            threshold,
            records,
            seconds: t0.elapsed().as_secs_f64(),
            train_seconds: train_s,
        };
        write_atomic(
            &out.join(format!("step-{step}/metrics.json")),
            &serde_json::to_vec_pretty(&rec).expect("serialises"),
        )?;
        if !ctx.engine.is_empty() {
            journal.engine.clone_from(&ctx.engine);
        }
        let j = steps_done.as_mut().expect("opened with the start record");
        if !journal.engine.is_empty() {
            j.record("engine", &journal.engine)?;
        }
        j.record(&format!("step-{step}"), &rec)?;
        journal.done.push(rec);
        journal.finished = step == steps;
        write_atomic(&journal_path, &serde_json::to_vec_pretty(&journal).expect("serialises"))?;
    }
    if !journal.finished {
        journal.finished = true;
        write_atomic(&journal_path, &serde_json::to_vec_pretty(&journal).expect("serialises"))?;
    }
    Ok(journal)
}

/// The run a journal holds, when it has a start: its finished steps in
/// order, as `prune.json` holds them.
fn resumed(
    j: &motif_core::rundir::Journal,
    settings: &serde_json::Value,
    (kernels, target): (usize, usize),
    steps: usize,
) -> Option<Journal> {
    let start: Record = j.get("start")?;
    let done: Vec<StepRecord> =
        (1..=steps).map_while(|i| j.get::<StepRecord>(&format!("step-{i}"))).collect();
    Some(Journal {
        settings: settings.clone(),
        kernels,
        target,
        steps,
        engine: j.get("engine").unwrap_or_default(),
        finished: done.len() == steps,
        start,
        done,
    })
}

/// One row of the protocol table.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ProtocolRow {
    /// Seed.
    pub seed: u64,
    /// Variant.
    pub variant: Variant,
    /// Step.
    pub step: usize,
    /// Kernels.
    pub kernels: usize,
    /// Test ROC AUC.
    pub test_auc: f64,
    /// Validation ROC AUC.
    pub val_auc: f64,
    /// Epochs trained.
    pub epochs: usize,
}

/// Mean and spread of one variant at one kernel number over seeds.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SummaryRow {
    /// Variant.
    pub variant: Variant,
    /// Kernels.
    pub kernels: usize,
    /// Seeds.
    pub n: usize,
    /// Mean test AUC.
    pub mean: f64,
    /// Sample standard deviation (0 for one seed).
    pub sd: f64,
    /// Lowest.
    pub min: f64,
    /// Highest.
    pub max: f64,
}

/// Per (variant, kernels): mean, sd, min and max of the test AUC over the
/// rows, ordered by variant then kernels (descending).
#[must_use]
pub fn summarise(rows: &[ProtocolRow]) -> Vec<SummaryRow> {
    let mut keys: Vec<(Variant, usize)> = rows.iter().map(|r| (r.variant, r.kernels)).collect();
    keys.sort_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)));
    keys.dedup();
    keys.into_iter()
        .map(|(variant, kernels)| {
            let v: Vec<f64> = rows
                .iter()
                .filter(|r| r.variant == variant && r.kernels == kernels)
                .map(|r| r.test_auc)
                .collect();
            let n = v.len();
            let mean = v.iter().sum::<f64>() / n as f64;
            let sd = if n > 1 {
                (v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64).sqrt()
            } else {
                0.0
            };
            SummaryRow {
                variant,
                kernels,
                n,
                mean,
                sd,
                min: v.iter().copied().fold(f64::INFINITY, f64::min),
                max: v.iter().copied().fold(f64::NEG_INFINITY, f64::max),
            }
        })
        .collect()
}

/// The paper's protocol: for each seed, fresh weights for `template`
/// (Keras' Glorot initialisation), trained with `lr_init` into the full
/// model, then [`run`] with `cfg.variants` in `out/seed-S/`. Returns the
/// journals, one per seed. Resumable per seed (the trained full model is
/// kept as `seed-S/full.onnx`).
///
/// # Errors
/// As [`run`].
#[allow(clippy::too_many_arguments, reason = "the protocol's inputs, each distinct")]
pub fn protocol(
    template: &Model,
    train: &Data,
    test: &Data,
    criterion: &dyn PruningCriterion,
    cfg: &PruneConfig,
    seeds: &[u64],
    settings: &serde_json::Value,
    out: &Path,
    progress: &mut dyn FnMut(Event<'_>),
) -> Result<Vec<Journal>> {
    let head = Head::recognise(template)?;
    plan_steps(head.kernels, cfg.target, cfg.steps)?;
    check_labels(train, "training set")?;
    check_labels(test, "test set")?;
    let mut journals = Vec::new();
    for &seed in seeds {
        let dir = out.join(format!("seed-{seed}"));
        let init_path = dir.join("init.onnx");
        let init = Head::reinitialise(template, seed, &init_path)?;
        write_atomic(&init_path, &init.proto().encode_to_vec())?;
        let full_path = dir.join("full.onnx");
        let info_path = dir.join("full.json");
        let mut trained: Option<Trained> =
            std::fs::read(&info_path).ok().and_then(|b| serde_json::from_slice(&b).ok());
        let full = if full_path.exists() {
            let m = Model::load(&full_path)?;
            if crate::head::param_shapes(&m) != crate::head::param_shapes(&init) {
                return Err(Error::Resume(format!(
                    "{}: not a model of this run; use another output folder",
                    full_path.display()
                )));
            }
            m
        } else {
            progress(Event::Stage {
                seed,
                step: 0,
                steps: 0,
                variant: Variant::Full,
                kernels: head.kernels,
            });
            let (fit, val) = train.split_last(cfg.val_fraction);
            let mut tc = cfg.train.clone();
            tc.lr = cfg.lr_init;
            tc.seed = mix(seed, 0, Variant::Full);
            let t0 = Instant::now();
            let t = motif_train::train(&init, &fit, &val, &tc, &mut |p| progress(Event::Train(p)))?;
            let info = Trained {
                lr: cfg.lr_init,
                epochs: t.log.len(),
                best_epoch: t.best_epoch,
                seconds: t0.elapsed().as_secs_f64(),
            };
            write_atomic(&info_path, &serde_json::to_vec_pretty(&info).expect("serialises"))?;
            trained = Some(info);
            let bytes = t.model.encode_to_vec();
            write_atomic(&full_path, &bytes)?;
            Model::from_bytes(&bytes, &full_path)?
        };
        let mut c = cfg.clone();
        c.train.seed = seed;
        let mut s = settings.clone();
        if let Some(o) = s.as_object_mut() {
            o.insert("seed".into(), seed.into());
        }
        let inp = Inputs { model: &full, init: Some(&init), train, test, criterion, trained };
        journals.push(run(&inp, &c, s, &dir, progress)?);
    }
    Ok(journals)
}

/// Protocol table rows of `journals` (one per seed, `seeds` in order).
#[must_use]
pub fn rows(journals: &[Journal], seeds: &[u64]) -> Vec<ProtocolRow> {
    let mut out = Vec::new();
    for (j, &seed) in journals.iter().zip(seeds) {
        for r in j.records() {
            out.push(ProtocolRow {
                seed,
                variant: r.variant,
                step: r.step,
                kernels: r.kernels,
                test_auc: r.test_auc,
                val_auc: r.val_auc,
                epochs: r.epochs,
            });
        }
    }
    out
}
