//! `motiftool prune`: Deepprune with criterion plugins, its variants, the
//! paper's protocol, and the run's report.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Result, bail};
use clap::{Args, ValueEnum};
use motif_core::motif::{MotifSet, write_meme};
use motif_core::plugin::FILTER_MATCHES;
use motif_core::plugin::{MotifExtractor, PruningCriterion};
use motif_onnx::Model;
use motif_prune::{
    Event, Inputs, Journal, PruneConfig, Record, SummaryRow, Variant, protocol, rows, run,
    summarise,
};
use motif_report::{
    ChartOptions, LogoOptions, Page, Series, format_number, line_chart, logo_svg, palette,
    render_page,
};
use motif_train::{Data, Progress};
use prost::Message;
use serde_json::json;

use motif_core::rundir::RunDir;

use super::logo::write_file;
use super::train::{ActivationOpt, FitArgs, load_sources, load_training, split_sources};
use crate::{EngineArgs, Split};

/// `--variant`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum VariantOpt {
    /// Prune, then fine-tune with lr_init/1.2^i (also records `inter`).
    Deepprune,
    /// Pruned models before each step's fine-tuning (Deepprune-inter; runs
    /// the Deepprune chain).
    Inter,
    /// Survivors reset to their initial weights (--init) and retrained with
    /// lr_init (runs the Deepprune chain for the masks).
    Lottery,
    /// A fresh model of each size trained with lr_init/1.2^i.
    Baseline,
}

/// Arguments of `prune`.
#[derive(Debug, Args)]
pub struct PruneArgs {
    /// The trained model (ONNX): conv → activation → global pooling → dense.
    /// With --protocol: the architecture to train from fresh weights
    /// (default: --kernels × --width DeepBind net).
    pub model: Option<PathBuf>,
    /// Labelled training sequences (FASTA `>id label`, DeepBind .seq, TSV;
    /// .gz fine); several files are shuffled together with --seed. The last
    /// --val-fraction is the validation set; the data criteria see all of it.
    #[arg(long = "train", required_unless_present = "peaks", value_name = "FILE")]
    pub train: Vec<PathBuf>,
    /// Labelled test sequences (repeatable); or --test-chroms.
    #[arg(long = "test", required_unless_present = "test_chroms", value_name = "FILE")]
    pub test: Vec<PathBuf>,
    #[command(flatten)]
    pub columns: crate::ColumnArgs,
    #[command(flatten)]
    pub peaks: crate::PeakArgs,
    /// Pruning criterion plugin (`motiftool plugins --kind criterion`).
    #[arg(long, default_value = "weight")]
    pub criterion: String,
    /// Criterion config, `key=value` (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,
    /// Kernels left at the end (d): the model's 2^k·d kernels are halved k times.
    #[arg(long, default_value_t = 4)]
    pub target_kernels: usize,
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
    /// Seeds of --protocol.
    #[arg(long, value_delimiter = ',', default_value = "1,2,3,4,5")]
    pub seeds: Vec<u64>,
    /// Kernels of the default --protocol architecture.
    #[arg(long, default_value_t = 256)]
    pub kernels: usize,
    /// Kernel width of the default --protocol architecture (the paper: 24
    /// on simulated data, 15 on ChIP-seq).
    #[arg(long, default_value_t = 24)]
    pub width: usize,
    /// Activation of the default --protocol architecture.
    #[arg(long, value_enum, default_value_t = ActivationOpt::Deepprune)]
    pub activation: ActivationOpt,
    /// lr_init (the paper: 0.01).
    #[arg(long, default_value_t = 0.01)]
    pub lr: f64,
    /// The learning rate is divided by this at every step.
    #[arg(long, default_value_t = 1.2)]
    pub decay: f64,
    /// Fraction of the training file held out for validation (the last part).
    #[arg(long, default_value_t = 0.1)]
    pub val_fraction: f64,
    /// Seed of minibatch orders and fresh weights (not --protocol).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
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
}

/// Help after the options.
pub const PRUNE_HELP: &str = "Deepprune (Luo, Chi, Deng 2019): the kernels behind the dense layer are scored by the criterion
and those strictly above the median are kept (ties at the median are all dropped, as in the
original), cut out of the model, and the smaller model is fine-tuned with lr / 1.2^i and early
stopping. Each step writes step-i/{deepprune,inter,...}.onnx (smaller models that load anywhere)
and step-i/metrics.json; prune.json records every finished step, and running the same command
again resumes after the last one. report.html draws AUC against kernel number, the surviving
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

fn files(paths: &[PathBuf]) -> Result<serde_json::Value> {
    paths
        .iter()
        .map(|p| {
            Ok(json!({"path": p.display().to_string(), "sha256": motif_core::rundir::sha256_file(p)?}))
        })
        .collect::<Result<Vec<_>>>()
        .map(serde_json::Value::from)
}

/// Runs `prune`.
#[allow(clippy::too_many_lines)]
pub fn run_cmd(a: &PruneArgs) -> Result<()> {
    let t0 = Instant::now();
    // everything is checked before any training
    let info = motif_core::plugin::find(&a.criterion)?;
    let mut ccfg = info.default_config.clone();
    for s in &a.set {
        motif_core::plugin::apply_set(&mut ccfg, s)?;
    }
    let criterion = motif_core::plugin::build::<dyn PruningCriterion>(&a.criterion, &ccfg)?;
    if !(a.lr > 0.0 && a.decay > 0.0) {
        bail!("--lr and --decay must be positive");
    }
    if !a.peaks.valid_chroms.is_empty() {
        bail!("--valid-chroms: prune validates on the last --val-fraction of the training data");
    }
    let sources = split_sources(&a.train, &a.columns, &a.peaks, Split::Train)?;
    let (train, _) = load_training(sources, a.seed)?;
    let sources = split_sources(&a.test, &a.columns, &a.peaks, Split::Test)?;
    let (test, _) = load_sources(sources)?;
    let len = train.x.shape()[2];
    if test.x.shape()[2] != len {
        bail!("test sequences are {} bp, training sequences {len} bp", test.x.shape()[2]);
    }
    if test.y.ncols() != train.y.ncols() {
        bail!(
            "test files have {} labels per sequence, training files {}",
            test.y.ncols(),
            train.y.ncols()
        );
    }
    let truth = match &a.truth {
        Some(p) => Some((motif_core::motif::read_motifs(p)?, p.display().to_string())),
        None => None,
    };
    let cfg = PruneConfig {
        target: a.target_kernels,
        steps: a.steps,
        lr_init: a.lr,
        decay: a.decay,
        val_fraction: a.val_fraction,
        train: a.fit.config(a.lr, a.seed),
        variants: if a.variants.is_empty() {
            if a.protocol {
                vec![Variant::Deepprune, Variant::Inter, Variant::Lottery, Variant::Baseline]
            } else {
                vec![Variant::Deepprune]
            }
        } else {
            a.variants.iter().map(|&v| variant(v)).collect()
        },
        eval_batch: 1024,
    };
    let mut settings = json!({
        "criterion": a.criterion, "criterion_config": ccfg,
        "target_kernels": a.target_kernels, "steps": a.steps, "lr": a.lr, "decay": a.decay,
        "epochs": a.fit.epochs, "batch_size": a.fit.batch_size, "patience": a.fit.patience,
        "val_fraction": a.val_fraction, "l1": a.fit.l1, "l2": a.fit.l2,
        "train": files(&a.train)?, "test": files(&a.test)?,
        "genome": super::train::genome_summary(&a.peaks),
    });
    let bar = a.fit.bar();
    bar.set_style(
        indicatif::ProgressStyle::with_template("{prefix} {bar:24} {pos}/{len} batches  {msg}")
            .expect("template"),
    );
    let mut stage = String::new();
    let mut progress = |e: Event<'_>| match e {
        Event::Stage { seed, step, steps, variant, kernels } => {
            stage = if a.protocol {
                format!("seed {seed} step {step}/{steps} {variant} ({kernels} kernels)")
            } else {
                format!("step {step}/{steps} {variant} ({kernels} kernels)")
            };
            bar.set_prefix(stage.clone());
            bar.set_position(0);
        }
        Event::Train(Progress::Batch { epoch, done, total, loss }) => {
            bar.set_length(total as u64);
            bar.set_position(done as u64);
            bar.set_message(format!("epoch {epoch} loss {loss:.4}"));
        }
        Event::Train(Progress::Epoch { .. }) => {}
        Event::Done(r) => {
            bar.suspend(|| {
                eprintln!(
                    "motiftool: {stage}: test AUC {:.4}, validation AUC {:.4}{}",
                    r.test_auc,
                    r.val_auc,
                    if r.epochs > 0 {
                        format!(" ({} epochs, {:.1} s)", r.epochs, r.train_seconds)
                    } else {
                        String::new()
                    }
                );
            });
        }
    };
    // (a protocol's default, every variant, is left out of the settings)
    if !a.protocol || !a.variants.is_empty() {
        settings["variants"] = json!(cfg.variants.iter().map(|v| v.name()).collect::<Vec<_>>());
    }
    let (journals, seeds, source) = if a.protocol {
        let (template, source) = match &a.model {
            Some(p) => {
                settings["model"] = json!({"path": p.display().to_string(), "sha256": motif_core::rundir::sha256_file(p)?});
                (Model::load(p)?, p.display().to_string())
            }
            None => {
                let act = match a.activation {
                    ActivationOpt::Relu => motif_onnx::build::Activation::Relu,
                    ActivationOpt::Deepprune => motif_onnx::build::Activation::Deepprune,
                };
                let p = motif_train::glorot_deepbind(
                    a.kernels,
                    a.width,
                    train.y.ncols(),
                    act,
                    Some(len),
                    0,
                );
                let name = format!("deepbind {}×{} ({:?})", a.kernels, a.width, a.activation)
                    .to_lowercase();
                settings["model"] = json!(name);
                (Model::from_bytes(&p.encode_to_vec(), Path::new(&name))?, name)
            }
        };
        let j = protocol(
            &template,
            &train,
            &test,
            &*criterion,
            &cfg,
            &a.seeds,
            &settings,
            &a.out,
            &mut progress,
        )?;
        (j, a.seeds.clone(), source)
    } else {
        let Some(p) = &a.model else {
            bail!(
                "give the trained MODEL to prune (or --protocol to train models from fresh weights)"
            );
        };
        let model = Model::load(p)?;
        let init = a.init.as_deref().map(Model::load).transpose()?;
        settings["model"] =
            json!({"path": p.display().to_string(), "sha256": motif_core::rundir::sha256_file(p)?});
        settings["seed"] = json!(a.seed);
        if let Some(i) = &a.init {
            settings["init"] = json!({"path": i.display().to_string(), "sha256": motif_core::rundir::sha256_file(i)?});
        }
        let inp = Inputs {
            model: &model,
            init: init.as_ref(),
            train: &train,
            test: &test,
            criterion: &*criterion,
            trained: None,
        };
        let j = run(&inp, &cfg, settings.clone(), &a.out, &mut progress)?;
        (vec![j], vec![a.seed], p.display().to_string())
    };
    bar.finish_and_clear();
    let table = rows(&journals, &seeds);
    let summary = summarise(&table);
    let mut run = RunDir::create(&a.out, "prune")?.started_at(t0);
    for (role, p) in
        [("model", &a.model), ("init", &a.init), ("truth", &a.truth), ("database", &a.db)]
    {
        if let Some(p) = p {
            run.input(role, p)?;
        }
    }
    for (role, files) in [("train", &a.train), ("test", &a.test)] {
        for p in files {
            run.input(role, p)?;
        }
    }
    for p in a.peaks.inputs() {
        run.input("genome", p)?;
    }
    if let Some(j) = journals.first() {
        run.set_engine(&j.engine, a.fit.on.device_name());
    }
    if !a.protocol {
        run.set_seed(a.seed);
    }
    if a.protocol {
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
    let (db, db_name) = match &truth {
        Some((set, name)) => (set.clone(), format!("planted motifs ({name})")),
        None => {
            let (set, name) = super::matching::database(a.db.as_deref())?;
            (set, name)
        }
    };
    let engine_args = a.fit.engine_args(1024);
    let mut finals = Vec::new();
    for (j, &seed) in journals.iter().zip(&seeds) {
        let dir = if a.protocol { a.out.join(format!("seed-{seed}")) } else { a.out.clone() };
        let last = j.done.last().and_then(|s| {
            s.records.iter().find(|r| r.variant == Variant::Deepprune).or_else(|| s.records.first())
        });
        if let Some(r) = last {
            finals.push(final_kernels(&dir, r, seed, &test, &db, &engine_args)?);
        }
    }
    let claim = claim(&summary, &finals, a.target_kernels, truth.is_some());
    let t_total = t0.elapsed().as_secs_f64();
    let (steps_s, train_s): (f64, f64) =
        journals.iter().map(Journal::seconds).fold((0.0, 0.0), |a, b| (a.0 + b.0, a.1 + b.1));
    let report = report(
        a,
        &source,
        &journals,
        &seeds,
        &summary,
        &finals,
        &db_name,
        claim.as_ref(),
        (steps_s, train_s),
    );
    run.set_config(&settings)?;
    run.plugin("criterion", &a.criterion, info.version, &ccfg)?;
    run.set_match_policy(&FILTER_MATCHES)?;
    run.time("steps", steps_s);
    run.time("training", train_s);
    run.write("report.html", report.as_bytes())?;
    run.finish(&json!({
            "summary": summary, "claim": claim,
            "final_kernels": finals.iter().map(|f| json!({"seed": f.seed, "kernels": f.rows.iter().map(|k| json!({
                "kernel": k.original, "dense": k.dense, "consensus": k.consensus, "best": k.best_target, "E": k.best_e})).collect::<Vec<_>>()})).collect::<Vec<_>>(),
            "engine": journals.first().map(|j| j.engine.clone()),
            "seconds": {"steps": steps_s, "training": train_s, "command": t_total},
        }))?;
    print_summary(&summary);
    eprintln!(
        "motiftool: {} → {} (report.html{}); steps {steps_s:.1} s, of which fine-tuning and training {train_s:.1} s ({:.0} %)",
        source,
        a.out.display(),
        if a.protocol { ", protocol.csv, protocol.json" } else { ", prune.json" },
        100.0 * train_s / steps_s.max(1e-9)
    );
    Ok(())
}

fn print_summary(summary: &[SummaryRow]) {
    println!("variant\tkernels\tseeds\tmean_test_auc\tsd\tmin\tmax");
    for s in summary {
        println!(
            "{}\t{}\t{}\t{:.4}\t{:.4}\t{:.4}\t{:.4}",
            s.variant, s.kernels, s.n, s.mean, s.sd, s.min, s.max
        );
    }
}

struct KernelRow {
    original: usize,
    dense: Vec<f32>,
    consensus: String,
    logo: String,
    best_target: Option<String>,
    best_e: Option<f64>,
    nsites: Option<f64>,
}

struct Final {
    seed: u64,
    model: String,
    rows: Vec<KernelRow>,
}

/// The final model's kernels as motifs (activation alignment on the test
/// sequences, trimmed), matched against `db` with tomtom statistics.
fn final_kernels(
    dir: &Path,
    r: &Record,
    seed: u64,
    test: &Data,
    db: &MotifSet,
    engine: &EngineArgs,
) -> Result<Final> {
    let path = dir.join(&r.model);
    let model = Model::load(&path)?;
    let layer = model.structure().convs.len() - 1;
    let mut cfg = motif_core::plugin::find("activation-alignment")?.default_config.clone();
    cfg["trim"]["enabled"] = json!(true);
    let ex = motif_core::plugin::build::<dyn MotifExtractor>("activation-alignment", &cfg)?;
    let got = motif_workflow::extract::motifs_of_layer(
        &model,
        layer,
        &test.x,
        &engine.config(),
        &*ex,
        &mut |_| {},
    )?;
    let mut motifs = got.motifs;
    for (m, &k) in motifs.motifs.iter_mut().zip(&r.kept) {
        m.id = format!("kernel{k}");
    }
    write_file(&dir.join("final_kernels.meme"), write_meme(&motifs).as_bytes())?;
    let active = motif_workflow::extract::active_set(&motifs);
    let results =
        FILTER_MATCHES.matcher()?.prepare(db, motifs.background)?.compare(&active.motifs)?;
    let mut rows = Vec::new();
    let mut it = results.into_iter();
    for (k, m) in motifs.motifs.iter().enumerate() {
        let res = if m.nsites == Some(0.0) { None } else { it.next() };
        let best = res.as_ref().and_then(|q| q.hits.first().copied());
        rows.push(KernelRow {
            original: r.kept[k],
            dense: r.dense[k].clone(),
            consensus: m.consensus(),
            logo: logo_svg(m, &LogoOptions { col_width: 14.0, height: 50.0, ..Default::default() }),
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
fn claim(
    summary: &[SummaryRow],
    finals: &[Final],
    d: usize,
    truth: bool,
) -> Option<serde_json::Value> {
    let at = |v: Variant| summary.iter().find(|s| s.variant == v && s.kernels == d);
    let (dp, base) = (at(Variant::Deepprune)?, at(Variant::Baseline)?);
    let kernels: usize = finals.iter().map(|f| f.rows.len()).sum();
    let matched: usize = finals
        .iter()
        .flat_map(|f| &f.rows)
        .filter(|k| k.best_e.is_some_and(|e| FILTER_MATCHES.calls(e)))
        .count();
    let auc_held = dp.mean > base.mean;
    // distinct planted motifs matched (E < 0.05) by each seed's final kernels
    let recovered: Vec<serde_json::Value> = finals
        .iter()
        .map(|f| {
            let mut ids: Vec<&str> = f
                .rows
                .iter()
                .filter(|k| k.best_e.is_some_and(|e| FILTER_MATCHES.calls(e)))
                .filter_map(|k| k.best_target.as_deref())
                .collect();
            ids.sort_unstable();
            ids.dedup();
            json!({"seed": f.seed, "motifs": ids})
        })
        .collect();
    Some(json!({
        "kernels": d,
        "deepprune_mean_auc": dp.mean, "deepprune_sd": dp.sd,
        "baseline_mean_auc": base.mean, "baseline_sd": base.sd,
        "seeds": dp.n,
        "auc_claim_held": auc_held,
        "final_kernels": kernels,
        "final_kernels_matching_E_below_0.05": if truth { Some(matched) } else { None },
        "motif_claim_held": if truth { Some(matched == kernels) } else { None },
        "planted_motifs_matched_per_seed": if truth { Some(recovered) } else { None },
    }))
}

#[allow(clippy::too_many_arguments)]
fn report(
    a: &PruneArgs,
    source: &str,
    journals: &[Journal],
    seeds: &[u64],
    summary: &[SummaryRow],
    finals: &[Final],
    db_name: &str,
    claim: Option<&serde_json::Value>,
    (steps_s, train_s): (f64, f64),
) -> String {
    let first = &journals[0];
    let mut facts = vec![
        ("model".to_string(), source.to_string()),
        ("criterion".into(), a.criterion.clone()),
        (
            "kernels".into(),
            format!("{} → {} in {} halvings", first.kernels, first.target, first.steps),
        ),
        ("learning rate".into(), format!("lr_init {} divided by {} per step", a.lr, a.decay)),
        ("seeds".into(), seeds.iter().map(u64::to_string).collect::<Vec<_>>().join(", ")),
        ("engine".into(), first.engine.clone()),
        (
            "time".into(),
            format!(
                "{steps_s:.1} s in the pruning steps, {train_s:.1} s of it training ({:.0} %)",
                100.0 * train_s / steps_s.max(1e-9)
            ),
        ),
    ];
    if let Some(c) = claim {
        facts.push((
            "claim".into(),
            format!(
                "Deepprune at {} kernels: mean test AUC {:.4} vs baseline {:.4} → {}{}",
                c["kernels"],
                c["deepprune_mean_auc"].as_f64().unwrap_or(f64::NAN),
                c["baseline_mean_auc"].as_f64().unwrap_or(f64::NAN),
                if c["auc_claim_held"].as_bool() == Some(true) { "held" } else { "did not hold" },
                c["final_kernels_matching_E_below_0.05"].as_u64().map_or(String::new(), |m| {
                    let per_seed = c["planted_motifs_matched_per_seed"]
                        .as_array()
                        .map(|v| {
                            v.iter()
                                .map(|s| s["motifs"].as_array().map_or(0, Vec::len).to_string())
                                .collect::<Vec<_>>()
                                .join(", ")
                        })
                        .unwrap_or_default();
                    format!(
                        "; final kernels matching a planted motif (E < 0.05): {m} of {}; \
                             distinct planted motifs matched, per seed: {per_seed}",
                        c["final_kernels"]
                    )
                })
            ),
        ));
    }
    let mut sections = Vec::new();
    // AUC vs kernels
    let mut variants: Vec<Variant> = summary.iter().map(|s| s.variant).collect();
    variants.dedup();
    let full = summary.iter().find(|s| s.variant == Variant::Full);
    let series: Vec<Series> = variants
        .iter()
        .filter(|v| **v != Variant::Full)
        .enumerate()
        .map(|(i, &v)| {
            let mut rows: Vec<&SummaryRow> = summary.iter().filter(|s| s.variant == v).collect();
            if let Some(f) = full.filter(|_| v != Variant::Baseline) {
                rows.insert(0, f);
            }
            Series {
                label: v.name().into(),
                colour: palette(i).into(),
                points: rows.iter().map(|s| (s.kernels as f64, s.mean)).collect(),
                band: if seeds.len() > 1 {
                    rows.iter().map(|s| (s.kernels as f64, s.min, s.max)).collect()
                } else {
                    Vec::new()
                },
                dashed: v == Variant::Inter,
            }
        })
        .collect();
    let chart = line_chart(
        &series,
        &ChartOptions {
            title: "Test AUC against kernel number".into(),
            x_label: "kernels (log2 scale)".into(),
            y_label: if seeds.len() > 1 {
                "test ROC AUC (mean; band: min–max over seeds)".into()
            } else {
                "test ROC AUC".into()
            },
            log2_x: true,
            reverse_x: true,
            ..Default::default()
        },
    );
    let mut tab = String::from(
        "<table><thead><tr><th>variant</th><th>kernels</th><th>seeds</th><th>mean test AUC</th><th>sd</th><th>min</th><th>max</th></tr></thead><tbody>",
    );
    for s in summary {
        let _ = write!(
            tab,
            "<tr><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{:.4}</td><td class=\"n\">{:.4}</td><td class=\"n\">{:.4}</td><td class=\"n\">{:.4}</td></tr>",
            s.variant, s.kernels, s.n, s.mean, s.sd, s.min, s.max
        );
    }
    tab.push_str("</tbody></table>");
    sections.push(("AUC against kernel number".to_string(), format!("<figure id=\"auc\">{chart}</figure><p>deepprune: pruned and fine-tuned; inter: pruned, before that step's fine-tuning; lottery: survivors reset to their initial weights and retrained at lr_init; baseline: a fresh model of that size.</p>{tab}")));
    // weight trajectories of the final kernels (first seed's run)
    for (j, &seed) in journals.iter().zip(seeds) {
        let Some(last) =
            j.done.last().and_then(|s| s.records.iter().find(|r| r.variant == Variant::Deepprune))
        else {
            continue;
        };
        let mut chain: Vec<&Record> = vec![&j.start];
        chain.extend(
            j.done
                .iter()
                .filter_map(|s| s.records.iter().find(|r| r.variant == Variant::Deepprune)),
        );
        let series: Vec<Series> = last
            .kept
            .iter()
            .enumerate()
            .map(|(i, &k)| Series {
                label: format!("kernel {k}"),
                colour: palette(i).into(),
                points: chain
                    .iter()
                    .filter_map(|r| {
                        r.kept
                            .iter()
                            .position(|&x| x == k)
                            .map(|p| (r.kernels as f64, f64::from(r.dense[p][0])))
                    })
                    .collect(),
                ..Default::default()
            })
            .collect();
        let chart = line_chart(
            &series,
            &ChartOptions {
                title: format!("Dense weights of the surviving kernels (seed {seed})"),
                x_label: "kernels (log2 scale)".into(),
                y_label: "dense weight (first output)".into(),
                log2_x: true,
                reverse_x: true,
                ..Default::default()
            },
        );
        let mut t = String::from("<table><thead><tr><th>kernel</th>");
        for r in &chain {
            let _ = write!(t, "<th>{} kernels</th>", r.kernels);
        }
        t.push_str("</tr></thead><tbody>");
        for &k in &last.kept {
            let _ = write!(t, "<tr><td>{k}</td>");
            for r in &chain {
                let w = r
                    .kept
                    .iter()
                    .position(|&x| x == k)
                    .map_or("–".into(), |p| format!("{:.3}", r.dense[p][0]));
                let _ = write!(t, "<td class=\"n\">{w}</td>");
            }
            t.push_str("</tr>");
        }
        t.push_str("</tbody></table>");
        sections.push((
            format!("Surviving kernels' dense weights across steps (seed {seed})"),
            format!("<figure class=\"weights\">{chart}</figure>{t}"),
        ));
        if !a.protocol || seeds.len() > 3 {
            break;
        }
    }
    // final kernels
    let mut f = format!(
        "<p>Activation-aligned motifs of the final kernels on the test sequences (Koo &amp; Eddy, threshold 0.5, trimmed), matched against {} with tomtom statistics ({}).</p><table><thead><tr><th>seed</th><th>kernel</th><th>dense weight</th><th>logo</th><th>consensus</th><th>best match</th><th>E-value</th></tr></thead><tbody>",
        motif_report::escape(db_name),
        FILTER_MATCHES.describe()
    );
    for fin in finals {
        for k in &fin.rows {
            let _ = write!(
                f,
                "<tr class=\"final\"><td title=\"model {}\">{}</td><td>{}</td><td class=\"n\">{:.3}</td><td>{}</td><td><code>{}</code></td><td>{}</td><td class=\"n\">{}</td></tr>",
                motif_report::escape(&fin.model),
                fin.seed,
                k.original,
                k.dense.first().copied().unwrap_or(f32::NAN),
                k.logo,
                motif_report::escape(&k.consensus),
                if k.nsites == Some(0.0) {
                    "<span class=\"none\">never fired</span>".into()
                } else {
                    k.best_target
                        .as_deref()
                        .map_or("<span class=\"none\">none</span>".into(), motif_report::escape)
                },
                k.best_e.map_or("–".into(), format_number)
            );
        }
    }
    f.push_str("</tbody></table>");
    sections.push(("Final kernels".to_string(), f));
    render_page(&Page { title: format!("motiftool prune: {source}"), facts, sections })
}
