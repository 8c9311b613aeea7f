//! `prune`: Deepprune (Luo, Chi, Deng 2019) with a criterion plugin, its
//! variants, the paper's protocol over seeds, the final kernels' motifs
//! matched under the filter [`FILTER_MATCHES`] policy, and the run's
//! report. Each step is journalled (prune.json) by motif-prune, so the same
//! run resumes after its last finished step.

mod report;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

use motif_core::motif::{MotifSet, write_meme};
use motif_core::plugin::{self, FILTER_MATCHES, MotifExtractor, PruningCriterion};
use motif_core::rundir::RunDir;
use motif_core::shard::Shard;
use motif_onnx::Model;
use motif_prune::{
    Inputs, Journal, PruneConfig, Record, SummaryRow, Variant, protocol, rows, summarise,
};
use motif_train::Data;
use prost::Message;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::engine::EngineConfig;
use crate::labelled::{LabelledData, Split, load_sources, load_training};
use crate::train::{ActivationName, FitConfig};
use crate::{Event, Result, invalid};

/// Sequences per engine call when evaluating models and aligning the final
/// kernels.
const EVAL_BATCH: usize = 1024;

/// Settings of `prune` (its flags but for `--variant`, `--set` and the
/// engine's, which the command declares: `--batch-size` is the minibatch).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "cli", derive(clap::Args))]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct Config {
    /// The trained model (ONNX): conv → activation → global pooling → dense.
    /// With --protocol: the architecture to train from fresh weights
    /// (default: a --kernels × --width DeepBind net).
    pub model: Option<PathBuf>,
    /// Training and test data (the last --val-fraction of the training data
    /// validates; no validation file or chromosomes).
    #[cfg_attr(feature = "cli", command(flatten))]
    pub data: LabelledData,
    /// Pruning criterion plugin (`motiftool plugins --kind criterion`).
    #[cfg_attr(feature = "cli", arg(long, default_value_t = Config::default().criterion))]
    pub criterion: String,
    /// Criterion settings over its defaults (on the command line `--set
    /// key=value`).
    #[cfg_attr(feature = "cli", arg(skip = json!({})))]
    pub criterion_config: serde_json::Value,
    /// Kernels left at the end (d): the model's 2^k·d kernels are halved k
    /// times.
    #[cfg_attr(feature = "cli", arg(long, default_value_t = Config::default().target_kernels))]
    pub target_kernels: usize,
    /// Halvings (k); default log2(kernels / d).
    #[cfg_attr(feature = "cli", arg(long))]
    pub steps: Option<usize>,
    /// What to run (repeatable or comma-separated). Default: deepprune (its
    /// chain also records inter); with --protocol, all four.
    #[cfg_attr(feature = "cli", arg(long = "variant", value_enum, value_delimiter = ','))]
    pub variants: Vec<Variant>,
    /// The untrained initial weights of MODEL (the lottery variant).
    #[cfg_attr(feature = "cli", arg(long, value_name = "MODEL"))]
    pub init: Option<PathBuf>,
    /// The paper's protocol: for each of --seeds, fresh weights, the full
    /// model trained with --lr, then every variant; one table
    /// (protocol.csv, protocol.json) with the spread over seeds.
    #[cfg_attr(feature = "cli", arg(long))]
    pub protocol: bool,
    /// Seeds of --protocol [default: 1,2,3,4,5].
    #[cfg_attr(feature = "cli", arg(long, value_delimiter = ','))]
    pub seeds: Vec<u64>,
    /// This process's share of --protocol's seeds, i/n: every n-th seed
    /// from the i-th (1-based), each into its `seed-S/` folder of the shared
    /// output. A final run without --shard reads every seed back and writes
    /// the table and report, as one run writes them.
    #[cfg_attr(feature = "cli", arg(long, value_name = "i/n"))]
    pub shard: Option<Shard>,
    /// Kernels of the default --protocol architecture.
    #[cfg_attr(feature = "cli", arg(long, default_value_t = Config::default().kernels))]
    pub kernels: usize,
    /// Kernel width of the default --protocol architecture (the paper: 24
    /// on simulated data, 15 on ChIP-seq).
    #[cfg_attr(feature = "cli", arg(long, default_value_t = Config::default().width))]
    pub width: usize,
    /// Activation of the default --protocol architecture.
    #[cfg_attr(feature = "cli", arg(long, value_enum, default_value_t = ActivationName::Deepprune))]
    pub activation: ActivationName,
    /// `lr_init` (the paper: 0.01).
    #[cfg_attr(feature = "cli", arg(long, default_value_t = Config::default().lr))]
    pub lr: f64,
    /// The learning rate is divided by this at every step.
    #[cfg_attr(feature = "cli", arg(long, default_value_t = Config::default().decay))]
    pub decay: f64,
    /// Fraction of the training file held out for validation (the last
    /// part).
    #[cfg_attr(feature = "cli", arg(long, default_value_t = Config::default().val_fraction))]
    pub val_fraction: f64,
    /// Seed of minibatch orders and fresh weights (not --protocol).
    #[cfg_attr(feature = "cli", arg(long, default_value_t = Config::default().seed))]
    pub seed: u64,
    /// Motifs planted in simulated data (`simulate`'s motifs.meme): the
    /// final kernels are matched against these in the report.
    #[cfg_attr(feature = "cli", arg(long, value_name = "MEME"))]
    pub truth: Option<PathBuf>,
    /// Database to match the final kernels against when there is no
    /// --truth. Default: the bundled JASPAR 2024 set.
    #[cfg_attr(feature = "cli", arg(long))]
    pub db: Option<PathBuf>,
    /// Epochs, minibatch, patience, penalties of every training.
    #[cfg_attr(feature = "cli", command(flatten))]
    pub fit: FitConfig,
    /// Engine settings.
    #[cfg_attr(feature = "cli", arg(skip))]
    pub engine: EngineConfig,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            model: None,
            data: LabelledData::default(),
            criterion: "weight".into(),
            criterion_config: json!({}),
            target_kernels: 4,
            steps: None,
            variants: Vec::new(),
            init: None,
            protocol: false,
            seeds: vec![1, 2, 3, 4, 5],
            shard: None,
            kernels: 256,
            width: 24,
            activation: ActivationName::Deepprune,
            lr: 0.01,
            decay: 1.2,
            val_fraction: 0.1,
            seed: 1,
            truth: None,
            db: None,
            fit: FitConfig::default(),
            engine: EngineConfig::default(),
        }
    }
}

/// One final kernel: its motif's consensus and best match.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FinalKernel {
    /// Its index in the unpruned model.
    pub kernel: usize,
    /// Its dense weights (one per output).
    pub dense: Vec<f32>,
    /// Consensus of its motif.
    pub consensus: String,
    /// Best match, `id name`.
    pub best: Option<String>,
    /// Its E-value.
    #[serde(rename = "E")]
    pub e_value: Option<f64>,
    /// Sites its motif was aligned from (0: it never fired).
    pub nsites: Option<f64>,
    /// Its motif's probabilities, one `[A, C, G, T]` per column.
    pub columns: Vec<[f64; 4]>,
}

/// One seed's final kernels.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FinalKernels {
    /// Seed.
    pub seed: u64,
    /// Kernels.
    pub kernels: Vec<FinalKernel>,
}

/// Planted motifs one seed's final kernels match.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeedMotifs {
    /// Seed.
    pub seed: u64,
    /// Distinct planted motifs matched.
    pub motifs: Vec<String>,
}

/// The paper's claim checked: Deepprune at d kernels against the d-kernel
/// baseline, and (with planted truth) whether its final kernels match it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Claim {
    /// d.
    pub kernels: usize,
    /// Deepprune's mean test AUC at d.
    pub deepprune_mean_auc: f64,
    /// Its standard deviation over seeds.
    pub deepprune_sd: f64,
    /// The baseline's mean test AUC at d.
    pub baseline_mean_auc: f64,
    /// Its standard deviation.
    pub baseline_sd: f64,
    /// Seeds.
    pub seeds: usize,
    /// Deepprune's mean beat the baseline's.
    pub auc_claim_held: bool,
    /// Final kernels over all seeds.
    pub final_kernels: usize,
    /// Of those, matching a planted motif under the policy (with truth).
    #[serde(rename = "final_kernels_matching_E_below_0.05")]
    pub matching: Option<usize>,
    /// Every final kernel matches a planted motif (with truth).
    pub motif_claim_held: Option<bool>,
    /// Distinct planted motifs matched per seed (with truth).
    pub planted_motifs_matched_per_seed: Option<Vec<SeedMotifs>>,
}

/// Seconds of a prune run.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Seconds {
    /// In the pruning steps.
    pub steps: f64,
    /// Of that, training and fine-tuning.
    pub training: f64,
    /// The whole command.
    pub command: f64,
}

/// What a prune run was, as its report states it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunFacts {
    /// The model pruned (or the protocol's architecture).
    pub model: String,
    /// The criterion.
    pub criterion: String,
    /// `lr_init`.
    pub lr: f64,
    /// Learning-rate divisor per step.
    pub decay: f64,
    /// Whether this was the protocol.
    pub protocol: bool,
    /// Seeds (the run's seed, or the protocol's).
    pub seeds: Vec<u64>,
    /// What the final kernels were matched against.
    pub database: String,
}

/// How a `prune` run ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// A shard trained and pruned its seeds; a run without a shard reads
    /// them back and finishes.
    Shard {
        /// The seeds this shard ran.
        seeds: Vec<u64>,
    },
    /// The whole run, with its table and report.
    Done(Box<Summary>),
}

/// `prune`'s result (summary.json).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// What ran.
    pub run: RunFacts,
    /// Mean test AUC per variant and kernel number over seeds.
    pub summary: Vec<SummaryRow>,
    /// The paper's claim, when Deepprune and the baseline both reached d.
    pub claim: Option<Claim>,
    /// Each seed's final kernels.
    pub final_kernels: Vec<FinalKernels>,
    /// Engine that ran.
    pub engine: Option<String>,
    /// Seconds.
    pub seconds: Seconds,
}

/// A final kernel as the report shows it.
struct KernelRow {
    columns: Vec<[f64; 4]>,
    original: usize,
    dense: Vec<f32>,
    consensus: String,
    logo: String,
    best_target: Option<String>,
    best_e: Option<f64>,
    nsites: Option<f64>,
}

/// One seed's final kernels as the report shows them.
struct Final {
    seed: u64,
    model: String,
    rows: Vec<KernelRow>,
}

/// The data, model and criterion, checked before any training.
struct Prepared {
    train: Data,
    test: Data,
    criterion: Box<dyn PruningCriterion>,
    criterion_config: serde_json::Value,
    truth: Option<(MotifSet, String)>,
}

fn prepare(config: &Config) -> Result<Prepared> {
    let criterion_config = plugin::effective_config(&config.criterion, &config.criterion_config)?;
    let criterion = plugin::build::<dyn PruningCriterion>(&config.criterion, &criterion_config)?;
    if !(config.lr > 0.0 && config.decay > 0.0) {
        return Err(invalid("--lr and --decay must be positive"));
    }
    let d = &config.data;
    if !d.valid_chroms.is_empty() {
        return Err(invalid(
            "--valid-chroms: prune validates on the last --val-fraction of the training data",
        ));
    }
    if d.valid.is_some() {
        return Err(invalid(
            "prune validates on the last --val-fraction of the training data, not a validation file",
        ));
    }
    if d.test.is_empty() && d.test_chroms.is_empty() {
        return Err(invalid(
            "no test set: give --test FILE or --test-chroms (or `test` in --config)",
        ));
    }
    let (train, _) = load_training(d.sources(Split::Train)?, config.seed)?;
    let (test, _) = load_sources(d.sources(Split::Test)?)?;
    let len = train.x.shape()[2];
    if test.x.shape()[2] != len {
        return Err(invalid(format!(
            "test sequences are {} bp, training sequences {len} bp",
            test.x.shape()[2]
        )));
    }
    if test.y.ncols() != train.y.ncols() {
        return Err(invalid(format!(
            "test files have {} labels per sequence, training files {}",
            test.y.ncols(),
            train.y.ncols()
        )));
    }
    let truth = match &config.truth {
        Some(p) => Some((motif_core::motif::read_motifs(p)?, p.display().to_string())),
        None => None,
    };
    Ok(Prepared { train, test, criterion, criterion_config, truth })
}

fn files(paths: &[PathBuf]) -> Result<serde_json::Value> {
    paths
        .iter()
        .map(|p| {
            Ok(json!({"path": p.display().to_string(), "sha256": motif_core::rundir::sha256_file(p)?}))
        })
        .collect::<Result<Vec<_>>>()
        .map(serde_json::Value::from)
}

fn file(p: &Path) -> Result<serde_json::Value> {
    Ok(json!({"path": p.display().to_string(), "sha256": motif_core::rundir::sha256_file(p)?}))
}

/// The settings motif-prune's journal is fingerprinted with (a rerun with
/// others is refused rather than mixed in).
fn journal_settings(
    config: &Config,
    p: &Prepared,
    variants: &[Variant],
) -> Result<serde_json::Value> {
    let f = &config.fit;
    let mut s = json!({
        "criterion": config.criterion, "criterion_config": p.criterion_config,
        "target_kernels": config.target_kernels, "steps": config.steps, "lr": config.lr, "decay": config.decay,
        "epochs": f.epochs, "batch_size": f.batch_size, "patience": f.patience,
        "val_fraction": config.val_fraction, "l1": f.l1, "l2": f.l2,
        "train": files(&config.data.train)?, "test": files(&config.data.test)?,
        "genome": config.data.genome_summary(),
    });
    // (a protocol's default, every variant, is left out of the settings)
    if !config.protocol || !config.variants.is_empty() {
        s["variants"] = json!(variants.iter().map(|v| v.name()).collect::<Vec<_>>());
    }
    Ok(s)
}

/// Runs `prune` into `run` (`out`: the run folder, where motif-prune writes
/// its steps and journal). Emits a stage per model trained or evaluated,
/// advancing by minibatches, and a note as each model finishes.
///
/// # Errors
/// If the data, model or settings are unusable (before any training), or
/// training, evaluation or writing fails.
#[allow(
    clippy::too_many_lines,
    reason = "the run's steps in order: variants, journals, table, final kernels, report"
)]
pub fn run(config: &Config, run: &mut RunDir, events: &mut dyn FnMut(Event)) -> Result<Outcome> {
    let t0 = Instant::now();
    if let (Some(s), false) = (config.shard, config.protocol) {
        return Err(invalid(format!(
            "--shard {s}: shards split --protocol's seeds; one prune run is one job"
        )));
    }
    let p = prepare(config)?;
    let out = run.dir().to_path_buf();
    let variants = if config.variants.is_empty() {
        if config.protocol {
            vec![Variant::Deepprune, Variant::Inter, Variant::Lottery, Variant::Baseline]
        } else {
            vec![Variant::Deepprune]
        }
    } else {
        config.variants.clone()
    };
    let cfg = PruneConfig {
        target: config.target_kernels,
        steps: config.steps,
        lr_init: config.lr,
        decay: config.decay,
        val_fraction: config.val_fraction,
        train: config.fit.train_config(config.lr, config.seed, &config.engine),
        variants: variants.clone(),
        eval_batch: EVAL_BATCH,
    };
    let mut settings = journal_settings(config, &p, &variants)?;
    let mut progress = progress_events(config.protocol, events);
    let (journals, seeds, source) = if config.protocol {
        let (template, source) = if let Some(m) = &config.model {
            settings["model"] = file(m)?;
            (Model::load(m)?, m.display().to_string())
        } else {
            let len = p.train.x.shape()[2];
            let proto = motif_train::glorot_deepbind(
                config.kernels,
                config.width,
                p.train.y.ncols(),
                config.activation.build(),
                Some(len),
                0,
            );
            let name =
                format!("deepbind {}×{} ({:?})", config.kernels, config.width, config.activation)
                    .to_lowercase();
            settings["model"] = json!(name);
            (Model::from_bytes(&proto.encode_to_vec(), Path::new(&name))?, name)
        };
        let seeds: Vec<u64> = match config.shard {
            Some(s) => s.select(config.seeds.iter().copied()).collect(),
            None => config.seeds.clone(),
        };
        let j = protocol(
            &template,
            &p.train,
            &p.test,
            &*p.criterion,
            &cfg,
            &seeds,
            &settings,
            &out,
            &mut progress,
        )?;
        if config.shard.is_some() {
            return Ok(Outcome::Shard { seeds });
        }
        (j, seeds, source)
    } else {
        let Some(m) = &config.model else {
            return Err(invalid(
                "give the trained MODEL to prune (or --protocol to train models from fresh weights)",
            ));
        };
        let model = Model::load(m)?;
        let init = config.init.as_deref().map(Model::load).transpose()?;
        settings["model"] = file(m)?;
        settings["seed"] = json!(config.seed);
        if let Some(i) = &config.init {
            settings["init"] = file(i)?;
        }
        let inp = Inputs {
            model: &model,
            init: init.as_ref(),
            train: &p.train,
            test: &p.test,
            criterion: &*p.criterion,
            trained: None,
        };
        let j = motif_prune::run(&inp, &cfg, settings.clone(), &out, &mut progress)?;
        (vec![j], vec![config.seed], m.display().to_string())
    };
    drop(progress);
    let table = rows(&journals, &seeds);
    let summary = summarise(&table);
    record_inputs(config, run)?;
    if let Some(j) = journals.first() {
        run.set_engine(&j.engine, config.engine.device.name());
    }
    if !config.protocol {
        run.set_seed(config.seed);
    }
    if config.protocol {
        let mut csv = String::from("seed,variant,step,kernels,test_auc,val_auc,epochs\n");
        for r in &table {
            let _ = writeln!(
                csv,
                "{},{},{},{},{:.6},{:.6},{}",
                r.seed, r.variant, r.step, r.kernels, r.test_auc, r.val_auc, r.epochs
            );
        }
        run.write("protocol.csv", csv.as_bytes())?;
        run.write_json(
            "protocol.json",
            &json!({"settings": settings, "seeds": seeds, "rows": table, "summary": summary}),
        )?;
    }
    // final kernels: motifs and matches
    let (db, db_name) = match &p.truth {
        Some((set, name)) => (set.clone(), format!("planted motifs ({name})")),
        None => crate::database::load(config.db.as_deref())?,
    };
    let mut finals = Vec::new();
    for (j, &seed) in journals.iter().zip(&seeds) {
        let dir = if config.protocol { out.join(format!("seed-{seed}")) } else { out.clone() };
        if let Some(r) = last_record(j) {
            finals.push(final_kernels(&dir, r, seed, &p.test, &db, &config.engine)?);
        }
    }
    let claim = claim(&summary, &finals, config.target_kernels, p.truth.is_some());
    let (steps_s, train_s): (f64, f64) =
        journals.iter().map(Journal::seconds).fold((0.0, 0.0), |a, b| (a.0 + b.0, a.1 + b.1));
    let facts = RunFacts {
        model: source,
        criterion: config.criterion.clone(),
        lr: config.lr,
        decay: config.decay,
        protocol: config.protocol,
        seeds,
        database: db_name,
    };
    let page = report::page(&report::Inputs {
        facts: &facts,
        journals: &journals,
        summary: &summary,
        finals: &finals,
        claim: claim.as_ref(),
        seconds: (steps_s, train_s),
    })?;
    run.set_config(config)?;
    run.plugin(
        "criterion",
        &config.criterion,
        plugin::find(&config.criterion)?.version,
        &p.criterion_config,
    )?;
    run.set_match_policy(&FILTER_MATCHES)?;
    run.time("steps", steps_s);
    run.time("training", train_s);
    run.write("report.html", page.as_bytes())?;
    Ok(Outcome::Done(Box::new(Summary {
        run: facts,
        summary,
        claim,
        final_kernels: finals
            .iter()
            .map(|f| FinalKernels {
                seed: f.seed,
                kernels: f
                    .rows
                    .iter()
                    .map(|k| FinalKernel {
                        kernel: k.original,
                        dense: k.dense.clone(),
                        consensus: k.consensus.clone(),
                        best: k.best_target.clone(),
                        e_value: k.best_e,
                        nsites: k.nsites,
                        columns: k.columns.clone(),
                    })
                    .collect(),
            })
            .collect(),
        engine: journals.first().map(|j| j.engine.clone()),
        seconds: Seconds { steps: steps_s, training: train_s, command: t0.elapsed().as_secs_f64() },
    })))
}

/// The journal and folder of each seed of a finished run in `dir`.
fn journals_in(dir: &Path, facts: &RunFacts) -> Result<Vec<Journal>> {
    facts
        .seeds
        .iter()
        .map(|s| {
            let d = if facts.protocol { dir.join(format!("seed-{s}")) } else { dir.to_path_buf() };
            let p = d.join("prune.json");
            let text = std::fs::read(&p).map_err(|e| motif_core::Error::io(&p, e))?;
            serde_json::from_slice(&text)
                .map_err(|e| invalid(format!("{}: not a prune journal: {e}", p.display())))
        })
        .collect()
}

/// Redraws a prune run's report.html from its summary.json, journals and
/// `final_kernels.meme`, nothing recomputed.
///
/// # Errors
/// If a file is missing or unreadable, or the report cannot be written.
pub fn redraw(dir: &Path) -> Result<()> {
    let p = dir.join("summary.json");
    let text = std::fs::read(&p).map_err(|e| motif_core::Error::io(&p, e))?;
    let s: Summary = serde_json::from_slice(&text)
        .map_err(|e| invalid(format!("{}: not a prune summary: {e}", p.display())))?;
    let journals = journals_in(dir, &s.run)?;
    let mut finals = Vec::new();
    for (j, fk) in journals.iter().zip(&s.final_kernels) {
        let Some(last) = last_record(j) else { continue };
        let mut rows = Vec::new();
        for k in &fk.kernels {
            rows.push(KernelRow {
                columns: k.columns.clone(),
                original: k.kernel,
                dense: k.dense.clone(),
                consensus: k.consensus.clone(),
                logo: kernel_logo(&format!("kernel{}", k.kernel), &k.columns)?,
                best_target: k.best.clone(),
                best_e: k.e_value,
                nsites: k.nsites,
            });
        }
        finals.push(Final { seed: fk.seed, model: last.model.clone(), rows });
    }
    let page = report::page(&report::Inputs {
        facts: &s.run,
        journals: &journals,
        summary: &s.summary,
        finals: &finals,
        claim: s.claim.as_ref(),
        seconds: (s.seconds.steps, s.seconds.training),
    })?;
    let out = dir.join("report.html");
    motif_core::fsio::write_atomic(&out, page.as_bytes())
        .map_err(|e| motif_core::Error::io(&out, e))?;
    Ok(())
}

/// The record whose kernels are the run's final ones: the last step's
/// Deepprune model, else its first.
fn last_record(j: &Journal) -> Option<&Record> {
    j.done.last().and_then(|s| {
        s.records.iter().find(|r| r.variant == Variant::Deepprune).or_else(|| s.records.first())
    })
}

/// A final kernel's logo (the `logo` figure).
fn kernel_logo(id: &str, columns: &[[f64; 4]]) -> Result<String> {
    let logo = crate::figure("logo", &json!({"col-width": 14.0, "height": 50.0}))?;
    Ok(logo.render(&json!({"id": id, "columns": columns}))?)
}

/// motif-prune's progress as workflow events.
fn progress_events(
    protocol: bool,
    events: &mut dyn FnMut(Event),
) -> impl FnMut(motif_prune::Event<'_>) + '_ {
    let mut stage = String::new();
    let mut last_done = 0usize;
    move |e| match e {
        motif_prune::Event::Stage { seed, step, steps, variant, kernels } => {
            stage = if protocol {
                format!("seed {seed} step {step}/{steps} {variant} ({kernels} kernels)")
            } else {
                format!("step {step}/{steps} {variant} ({kernels} kernels)")
            };
            last_done = 0;
            events(Event::Stage { name: "pruning", total: None });
            events(Event::Detail(stage.clone()));
        }
        motif_prune::Event::Train(motif_train::Progress::Batch { epoch, done, total, loss }) => {
            if done < last_done || last_done == 0 {
                events(Event::Stage { name: "pruning", total: Some(total as u64) });
                last_done = 0;
            }
            events(Event::Advance(done.saturating_sub(last_done) as u64));
            last_done = done;
            events(Event::Detail(format!("{stage} epoch {epoch} loss {loss:.4}")));
        }
        motif_prune::Event::Train(motif_train::Progress::Epoch { .. }) => {}
        motif_prune::Event::Done(r) => {
            events(Event::Note(format!(
                "{stage}: test AUC {:.4}, validation AUC {:.4}{}",
                r.test_auc,
                r.val_auc,
                if r.epochs > 0 {
                    format!(" ({} epochs, {:.1} s)", r.epochs, r.train_seconds)
                } else {
                    String::new()
                }
            )));
        }
    }
}

fn record_inputs(config: &Config, run: &mut RunDir) -> Result<()> {
    for (role, p) in [
        ("model", &config.model),
        ("init", &config.init),
        ("truth", &config.truth),
        ("database", &config.db),
    ] {
        if let Some(p) = p {
            run.input(role, p)?;
        }
    }
    for (role, p) in config.data.inputs() {
        run.input(role, p)?;
    }
    Ok(())
}

/// The final model's kernels as motifs (activation alignment on the test
/// sequences, trimmed), matched against `db` under [`FILTER_MATCHES`].
fn final_kernels(
    dir: &Path,
    r: &Record,
    seed: u64,
    test: &Data,
    db: &MotifSet,
    engine: &EngineConfig,
) -> Result<Final> {
    let model = Model::load(&dir.join(&r.model))?;
    let layer = model.structure().convs.len().saturating_sub(1);
    let cfg =
        plugin::effective_config("activation-alignment", &json!({"trim": {"enabled": true}}))?;
    let ex = plugin::build::<dyn MotifExtractor>("activation-alignment", &cfg)?;
    let engine = EngineConfig { batch_size: EVAL_BATCH, ..*engine };
    let got = crate::extract::motifs_of_layer(&model, layer, &test.x, &engine, &*ex, &mut |_| {})?;
    let mut motifs = got.motifs;
    for (m, &k) in motifs.motifs.iter_mut().zip(&r.kept) {
        m.id = format!("kernel{k}");
    }
    let p = dir.join("final_kernels.meme");
    motif_core::fsio::write_atomic(&p, write_meme(&motifs).as_bytes())
        .map_err(|e| motif_core::Error::io(&p, e))?;
    let active = crate::extract::active_set(&motifs);
    let results =
        FILTER_MATCHES.matcher()?.prepare(db, motifs.background)?.compare(&active.motifs)?;
    let mut rows = Vec::new();
    let mut it = results.into_iter();
    for (k, m) in motifs.motifs.iter().enumerate() {
        let res = if crate::extract::is_active(m) { it.next() } else { None };
        let best = res.as_ref().and_then(|q| q.hits.first().copied());
        let columns = m.columns();
        rows.push(KernelRow {
            logo: kernel_logo(&m.id, &columns)?,
            columns,
            original: r.kept[k],
            dense: r.dense[k].clone(),
            consensus: m.consensus(),
            best_target: best.as_ref().map(|h| {
                let t = &db.motifs[h.target];
                let name = t.name.clone().unwrap_or_default();
                if name.is_empty() { t.id.clone() } else { format!("{} {name}", t.id) }
            }),
            best_e: best.as_ref().map(|h| h.e_value),
            nsites: m.nsites,
        });
    }
    Ok(Final { seed, model: r.model.clone(), rows })
}

/// The paper's claim: Deepprune at d beats the d-kernel baseline on mean
/// test AUC, and (with planted motifs) its final kernels match them.
fn claim(summary: &[SummaryRow], finals: &[Final], d: usize, truth: bool) -> Option<Claim> {
    let at = |v: Variant| summary.iter().find(|s| s.variant == v && s.kernels == d);
    let (dp, base) = (at(Variant::Deepprune)?, at(Variant::Baseline)?);
    let kernels: usize = finals.iter().map(|f| f.rows.len()).sum();
    let called = |k: &&KernelRow| k.best_e.is_some_and(|e| FILTER_MATCHES.calls(e));
    let matched = finals.iter().flat_map(|f| &f.rows).filter(called).count();
    // distinct planted motifs matched by each seed's final kernels
    let recovered: Vec<SeedMotifs> = finals
        .iter()
        .map(|f| {
            let mut ids: Vec<String> =
                f.rows.iter().filter(called).filter_map(|k| k.best_target.clone()).collect();
            ids.sort_unstable();
            ids.dedup();
            SeedMotifs { seed: f.seed, motifs: ids }
        })
        .collect();
    Some(Claim {
        kernels: d,
        deepprune_mean_auc: dp.mean,
        deepprune_sd: dp.sd,
        baseline_mean_auc: base.mean,
        baseline_sd: base.sd,
        seeds: dp.n,
        auc_claim_held: dp.mean > base.mean,
        final_kernels: kernels,
        matching: truth.then_some(matched),
        motif_claim_held: truth.then_some(matched == kernels),
        planted_motifs_matched_per_seed: truth.then_some(recovered),
    })
}
