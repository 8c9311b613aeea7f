//! Library-level benchmarks of the workflows (no binary spawned): analyze
//! on the bundled model, one Deepprune halving with one fine-tuning epoch,
//! and NeuronMotif on one neuron of a two-layer model. Inputs are made once
//! in a temp folder by the simulate and train workflows; every measured run
//! writes a fresh run folder (so nothing resumes).
//!
//! `cargo bench -p motif-workflow` (add `-- analyze` to run one).
#![allow(missing_docs, reason = "criterion's macros generate undocumented functions")]

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use criterion::{Criterion, criterion_group, criterion_main};
use motif_core::rundir::RunDir;
use motif_workflow::engine::{EngineConfig, EngineName};
use motif_workflow::labelled::LabelledData;
use motif_workflow::{Event, analyze, decouple, prune, simulate, train};

// The plugins the workflows look up in the registry.
use motif_criteria as _;
use motif_pwm as _;
use motif_tomtom as _;

static RUNS: AtomicUsize = AtomicUsize::new(0);

fn quiet(_: Event) {}

fn tract() -> EngineConfig {
    EngineConfig { engine: EngineName::Tract, ..EngineConfig::default() }
}

/// A fresh run folder under `root`.
fn fresh(root: &Path, workflow: &str) -> RunDir {
    let n = RUNS.fetch_add(1, Ordering::Relaxed);
    RunDir::create(&root.join(format!("{workflow}-{n}")), workflow).expect("run folder")
}

fn simulated(root: &Path, preset: &str, n: usize) -> PathBuf {
    let out = root.join(preset);
    let c = simulate::Config { preset: preset.into(), n: Some(n), seed: 5, ..Default::default() };
    let mut run = RunDir::create(&out, "simulate").expect("folder");
    simulate::run(&c, &mut run, &mut quiet).expect("simulate");
    out
}

fn trained(root: &Path, sim: &Path, name: &str, edit: impl FnOnce(&mut train::Config)) -> PathBuf {
    let out = root.join(name);
    let mut c = train::Config {
        data: LabelledData {
            train: vec![sim.join("train.fa")],
            test: vec![sim.join("test.fa")],
            ..Default::default()
        },
        seed: 5,
        engine: tract(),
        ..Default::default()
    };
    c.fit.epochs = 2;
    c.fit.batch_size = 64;
    edit(&mut c);
    let mut run = RunDir::create(&out, "train").expect("folder");
    train::run(&c, &mut run, &mut quiet).expect("train");
    out.join("model.onnx")
}

fn benches(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path();

    // analyze: the bundled 8-filter model, 1,000 random 101-bp sequences,
    // the bundled 879-motif database
    let mut config = analyze::Config::default();
    config.extract.engine = tract();
    config.extract.n = Some(1000);
    c.bench_function("analyze bundled model, 1000 seqs, tract", |b| {
        b.iter(|| analyze::run(&config, &mut fresh(root, "analyze"), &mut quiet).expect("analyze"));
    });

    // one Deepprune step: 8 → 4 kernels, one fine-tuning epoch
    let sim = simulated(root, "deepprune1", 400);
    let model = trained(root, &sim, "deepbind", |c| {
        c.kernels = 8;
        c.width = 12;
    });
    let mut config = prune::Config {
        model: Some(model),
        data: LabelledData {
            train: vec![sim.join("train.fa")],
            test: vec![sim.join("test.fa")],
            ..Default::default()
        },
        target_kernels: 4,
        truth: Some(sim.join("motifs.meme")),
        seed: 5,
        engine: tract(),
        ..Default::default()
    };
    config.fit.epochs = 1;
    config.fit.batch_size = 64;
    c.bench_function("prune one step 8 -> 4 kernels, 1 epoch, tract", |b| {
        b.iter(|| prune::run(&config, &mut fresh(root, "prune"), &mut quiet).expect("prune"));
    });

    // NeuronMotif on one neuron of layer 1 of NeuronMotif's demo1 shape
    let shift = simulated(root, "nm-shift", 1000);
    let model = trained(root, &shift, "demo1", |c| {
        c.arch = train::Arch::Stack;
        c.layers = "3x5:2,1x2".into();
        c.no_dense = true;
    });
    let config = decouple::Config {
        model,
        layer: 1,
        neurons: Some("0".into()),
        seeded: false,
        engine: tract(),
        ..Default::default()
    };
    c.bench_function("decouple one neuron, layer 1 of demo1, tract", |b| {
        b.iter(|| {
            let out = root.join(format!("decouple-{}", RUNS.fetch_add(1, Ordering::Relaxed)));
            let mut run =
                RunDir::create(&decouple::layer_dir(&out, 1), "decouple").expect("folder");
            decouple::run(&config, &mut run, &mut quiet).expect("decouple")
        });
    });
}

criterion_group! {
    name = workflows;
    config = Criterion::default().sample_size(10);
    targets = benches
}
criterion_main!(workflows);
