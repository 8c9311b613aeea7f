//! Deepprune on real exported models and a small planted data set: the
//! physically pruned model computes what the masked one does, fresh
//! weights follow Keras' initialisers, and a run writes every step,
//! resumes after an interruption with identical results, and refuses bad
//! input before training.

use std::path::{Path, PathBuf};

use motif_core::plugin::PruningCriterion;
use motif_core::rng::Rng;
use motif_engine::{EngineChoice, EngineKind, SessionOptions};
use motif_onnx::Model;
use motif_prune::{Head, Inputs, Journal, PruneConfig, Variant, evaluate, run};
use motif_train::{Data, TrainConfig};
use ndarray::{Array2, Array3, Axis};
use prost::Message;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/models").join(name)
}

fn tract() -> SessionOptions {
    SessionOptions { engine: EngineChoice::Exactly(EngineKind::Tract), ..Default::default() }
}

fn random_x(n: usize, len: usize, seed: u64) -> Array3<f32> {
    let mut rng = Rng::new(seed);
    let mut x = Array3::zeros((n, 4, len));
    for i in 0..n {
        for j in 0..len {
            x[(i, rng.below(4), j)] = 1.0;
        }
    }
    x
}

/// Pruning kernels physically equals zeroing their dense rows in the
/// original: the spec's equivalence, on exports from PyTorch (legacy and
/// dynamo), Keras (NWC, folded BatchNorm, two dense layers), a BatchNorm
/// model with global average pooling, and a DeepBind-style net.
#[test]
fn subset_computes_what_zeroed_dense_rows_compute() {
    for name in [
        "planted_jaspar.onnx",
        "torch_legacy_ncw.onnx",
        "torch_dynamo_ncw.onnx",
        "keras_tf2onnx_nwc.onnx",
        "bn_two_block.onnx",
    ] {
        let m = Model::load(&fixture(name)).unwrap();
        let h = Head::recognise(&m).unwrap();
        let keep: Vec<usize> = (0..h.kernels).filter(|k| k % 3 != 1).collect();
        let small = h.subset(m.proto(), &keep, Path::new("small.onnx")).unwrap();
        let hs = Head::recognise(&small).unwrap();
        assert_eq!(hs.kernels, keep.len(), "{name}");
        assert_eq!(small.weights(&hs.conv_weight).unwrap().shape()[0], keep.len(), "{name}");
        assert!(
            small.proto().encoded_len() < m.proto().encoded_len(),
            "{name}: the pruned model is not smaller"
        );
        // the original with the dropped kernels' dense rows at zero
        let mut zeroed = m.proto().clone();
        let g = zeroed.graph.as_mut().unwrap();
        let t = g.initializer.iter_mut().find(|t| t.name() == h.dense_weight).unwrap();
        let mut w = motif_onnx::tensor::to_f32(t).unwrap();
        for k in (0..h.kernels).filter(|k| !keep.contains(k)) {
            w.index_axis_mut(Axis(h.dense_axis), k).fill(0.0);
        }
        let dims = w.shape().to_vec();
        *t = motif_onnx::tensor::from_f32(
            &h.dense_weight,
            &dims,
            &w.iter().copied().collect::<Vec<_>>(),
        );
        let zeroed = Model::from_bytes(&zeroed.encode_to_vec(), Path::new("zeroed.onnx")).unwrap();
        let len = m.structure().input.length.unwrap_or(60);
        let data = Data { x: random_x(40, len, 3), y: Array2::zeros((40, 1)) };
        let a = evaluate(&small, &hs, &data, &tract(), 16).unwrap();
        let b = evaluate(&zeroed, &h, &data, &tract(), 16).unwrap();
        let diff = (&a.pred - &b.pred).mapv(f32::abs).fold(0.0f32, |m, &v| m.max(v));
        assert!(diff < 1e-5, "{name}: outputs differ by {diff}");
        // the surviving kernels' pooled outputs are the original ones
        let orig = evaluate(&m, &h, &data, &tract(), 16).unwrap();
        let diff = (&a.pooled - &orig.pooled.select(Axis(1), &keep))
            .mapv(f32::abs)
            .fold(0.0f32, |m, &v| m.max(v));
        assert!(diff < 1e-5, "{name}: pooled outputs differ by {diff}");
    }
}

/// DeepBind's own layout: the reverse complement through the same conv
/// weights, pooled and scored by the same dense layer, then the maximum of
/// both strands.
#[test]
fn subset_of_a_two_strand_model() {
    use motif_onnx::Dim;
    use motif_onnx::build::{Attr, GraphBuilder};
    let (k, w) = (6usize, 5usize);
    let vals =
        |n: usize, f: f32| (0..n).map(|i| ((i * 37 % 11) as f32 - 5.0) * f).collect::<Vec<_>>();
    let mut g = GraphBuilder::new("two_strands");
    g.input("x", &[Dim::Symbol("N".into()), Dim::Fixed(4), Dim::Fixed(30)]);
    g.output("score", &[Dim::Symbol("N".into()), Dim::Fixed(1)]);
    g.initializer("conv.weight", &[k, 4, w], &vals(k * 4 * w, 0.1));
    g.initializer("conv.bias", &[k], &vals(k, 0.01));
    g.initializer("fc.weight", &[k, 1], &vals(k, 0.2));
    g.initializer("fc.bias", &[1], &[0.1]);
    g.initializer_i64("rc_starts", &[2], &[-1, -1]);
    g.initializer_i64("rc_ends", &[2], &[i64::MIN + 1, i64::MIN + 1]);
    g.initializer_i64("rc_axes", &[2], &[1, 2]);
    g.initializer_i64("rc_steps", &[2], &[-1, -1]);
    let conv = [("kernel_shape", Attr::Ints(vec![w as i64]))];
    let max = [("axes", Attr::Ints(vec![2])), ("keepdims", Attr::Int(0))];
    for (p, x) in [("f", "x"), ("r", "x_rc")] {
        if p == "r" {
            g.node("Slice", &["x", "rc_starts", "rc_ends", "rc_axes", "rc_steps"], &["x_rc"], &[]);
        }
        g.node("Conv", &[x, "conv.weight", "conv.bias"], &[&format!("{p}_conv")], &conv);
        g.node("Relu", &[&format!("{p}_conv")], &[&format!("{p}_act")], &[]);
        g.node("ReduceMax", &[&format!("{p}_act")], &[&format!("{p}_max")], &max);
        g.node("Gemm", &[&format!("{p}_max"), "fc.weight", "fc.bias"], &[&format!("{p}_fc")], &[]);
    }
    g.node("Max", &["f_fc", "r_fc"], &["score"], &[]);
    let m = Model::from_bytes(&g.to_bytes(), Path::new("two_strands.onnx")).unwrap();
    assert!(m.structure().reverse_complement);
    let h = Head::recognise(&m).unwrap();
    assert_eq!(h.per_kernel, [("conv.bias".to_string(), 0)]);
    let keep = [1usize, 4, 5];
    let small = h.subset(m.proto(), &keep, Path::new("small.onnx")).unwrap();
    let mut zeroed = m.proto().clone();
    let gz = zeroed.graph.as_mut().unwrap();
    let t = gz.initializer.iter_mut().find(|t| t.name() == "fc.weight").unwrap();
    let mut fw = vals(k, 0.2);
    for (i, v) in fw.iter_mut().enumerate() {
        if !keep.contains(&i) {
            *v = 0.0;
        }
    }
    *t = motif_onnx::tensor::from_f32("fc.weight", &[k, 1], &fw);
    let zeroed = Model::from_bytes(&zeroed.encode_to_vec(), Path::new("zeroed.onnx")).unwrap();
    let data = Data { x: random_x(50, 30, 8), y: Array2::zeros((50, 1)) };
    let hs = Head::recognise(&small).unwrap();
    let a = evaluate(&small, &hs, &data, &tract(), 16).unwrap();
    let b = evaluate(&zeroed, &h, &data, &tract(), 16).unwrap();
    let diff = (&a.pred - &b.pred).mapv(f32::abs).fold(0.0f32, |m, &v| m.max(v));
    assert!(diff < 1e-5, "outputs differ by {diff}");
}

#[test]
fn models_without_the_structure_are_named_errors() {
    use motif_onnx::Dim;
    use motif_onnx::build::{Attr, GraphBuilder};
    // conv → relu, no pooling, no dense
    let mut g = GraphBuilder::new("noglobal");
    g.input("x", &[Dim::Symbol("N".into()), Dim::Fixed(4), Dim::Fixed(20)]);
    g.output("r", &[Dim::Symbol("N".into()), Dim::Fixed(3), Dim::Fixed(16)]);
    g.initializer("w", &[3, 4, 5], &[0.1; 60]);
    g.node("Conv", &["x", "w"], &["c"], &[("kernel_shape", Attr::Ints(vec![5]))]);
    g.node("Relu", &["c"], &["r"], &[]);
    let m = Model::from_bytes(&g.to_bytes(), Path::new("noglobal.onnx")).unwrap();
    let e = Head::recognise(&m).unwrap_err().to_string();
    assert!(e.contains("noglobal.onnx") && e.contains("not followed by global pooling"), "{e}");
    assert!(e.contains("conv → [activation] → global max/avg pooling → dense"), "{e}");
}

#[test]
fn fresh_weights_follow_keras_initialisers() {
    let m = Model::load(&fixture("bn_two_block.onnx")).unwrap();
    let a = Head::reinitialise(&m, 5, Path::new("a.onnx")).unwrap();
    let b = Head::reinitialise(&m, 5, Path::new("b.onnx")).unwrap();
    let c = Head::reinitialise(&m, 6, Path::new("c.onnx")).unwrap();
    assert_eq!(a.proto(), b.proto(), "not deterministic");
    assert_ne!(a.proto(), c.proto());
    let g = m.proto().graph.as_ref().unwrap();
    for n in g.node.iter().filter(|n| n.op_type() == "BatchNormalization") {
        let scale = a.weights(&n.input[1]).unwrap();
        let var = a.weights(&n.input[4]).unwrap();
        let mean = a.weights(&n.input[3]).unwrap();
        assert!(scale.iter().chain(var.iter()).all(|&v| v == 1.0));
        assert!(mean.iter().all(|&v| v == 0.0));
    }
    let st = a.structure();
    for c in &st.convs {
        let w = a.weights(&c.weight).unwrap();
        let limit = (6.0 / ((c.in_channels + c.out_channels) * c.width) as f64).sqrt() as f32;
        assert!(w.iter().all(|v| v.abs() <= limit), "conv `{}` beyond ±{limit}", c.node);
        let spread = w.iter().fold(0.0f32, |m, v| m.max(v.abs()));
        assert!(spread > 0.5 * limit, "conv `{}` not spread over ±{limit}", c.node);
        if let Some(b) = &c.bias {
            assert!(a.weights(b).unwrap().iter().all(|&v| v == 0.0));
        }
    }
}

/// 600 sequences of 40 bp; positives carry TGACTCA or CACGTG at a random
/// place (half each), negatives are background.
fn planted(n: usize, seed: u64) -> Data {
    let mut rng = Rng::new(seed);
    let mut x = Array3::zeros((n, 4, 40));
    let mut y = Array2::zeros((n, 1));
    for i in 0..n {
        let mut s: Vec<usize> = (0..40).map(|_| rng.below(4)).collect();
        if i % 2 == 0 {
            let m: &[usize] =
                if rng.below(2) == 0 { &[3, 2, 0, 1, 3, 1, 0] } else { &[1, 0, 1, 2, 3, 2] };
            let at = rng.below(40 - m.len());
            s[at..at + m.len()].copy_from_slice(m);
            y[(i, 0)] = 1.0;
        }
        for (j, &b) in s.iter().enumerate() {
            x[(i, b, j)] = 1.0;
        }
    }
    Data { x, y }
}

fn small_model(seed: u64) -> Model {
    let p =
        motif_train::glorot_deepbind(8, 7, 1, motif_onnx::build::Activation::Relu, Some(40), seed);
    Model::from_bytes(&p.encode_to_vec(), Path::new("deepbind8.onnx")).unwrap()
}

fn config() -> PruneConfig {
    PruneConfig {
        target: 2,
        steps: None,
        lr_init: 0.01,
        decay: 1.2,
        val_fraction: 0.1,
        train: TrainConfig {
            epochs: 4,
            batch_size: 64,
            patience: 2,
            seed: 3,
            session: tract(),
            ..TrainConfig::default()
        },
        variants: vec![Variant::Deepprune, Variant::Lottery, Variant::Baseline],
        eval_batch: 128,
    }
}

fn criterion(name: &str) -> Box<dyn PruningCriterion> {
    use motif_criteria as _;
    motif_core::plugin::build::<dyn PruningCriterion>(name, &serde_json::json!({})).unwrap()
}

#[test]
fn a_run_writes_every_step_and_resumes_identically() {
    let dir = tempfile::tempdir().unwrap();
    let (train, test) = (planted(600, 1), planted(300, 2));
    let init = small_model(9);
    let cfg = config();
    let full = motif_train::train(
        &init,
        &train.split_last(0.1).0,
        &train.split_last(0.1).1,
        &TrainConfig { lr: 0.01, ..cfg.train.clone() },
        &mut |_| {},
    )
    .unwrap();
    let full = Model::from_bytes(&full.model.encode_to_vec(), Path::new("full.onnx")).unwrap();
    let score = criterion("score");
    let inp = Inputs {
        model: &full,
        init: Some(&init),
        train: &train,
        test: &test,
        criterion: &*score,
        trained: None,
    };
    let settings = serde_json::json!({"criterion": "score", "target": 2});
    let j = run(&inp, &cfg, settings.clone(), dir.path(), &mut |_| {}).unwrap();
    assert!(j.finished);
    assert_eq!((j.kernels, j.steps, j.done.len()), (8, 2, 2));
    for s in &j.done {
        let variants: Vec<Variant> = s.records.iter().map(|r| r.variant).collect();
        assert_eq!(
            variants,
            [Variant::Inter, Variant::Deepprune, Variant::Lottery, Variant::Baseline]
        );
        for r in &s.records {
            assert_eq!(r.kernels, 8 >> s.step);
            let m = Model::load(&dir.path().join(&r.model)).unwrap();
            assert_eq!(Head::recognise(&m).unwrap().kernels, r.kernels);
            assert!((0.0..=1.0).contains(&r.test_auc));
            assert_eq!(r.dense.len(), r.kernels);
        }
        // the chain keeps the kernels scoring above the median, by index
        let before = if s.step == 1 { (0..8).collect() } else { j.done[0].records[1].kept.clone() };
        let kept: Vec<usize> = s
            .scores
            .iter()
            .enumerate()
            .filter(|(_, v)| f64::from(**v) > s.threshold)
            .map(|(i, _)| before[i])
            .collect();
        assert_eq!(s.records[1].kept, kept);
        assert!(dir.path().join(format!("step-{}/metrics.json", s.step)).exists());
    }
    // learning rates: lr_init / 1.2^i for deepprune and baseline, lr_init for lottery
    let lr = |step: usize, v: Variant| {
        j.done[step - 1].records.iter().find(|r| r.variant == v).unwrap().lr.unwrap()
    };
    assert!((lr(2, Variant::Deepprune) - 0.01 / 1.44).abs() < 1e-12);
    assert!((lr(2, Variant::Baseline) - 0.01 / 1.44).abs() < 1e-12);
    assert!((lr(2, Variant::Lottery) - 0.01).abs() < 1e-12);

    // a finished run is not redone
    let again = run(&inp, &cfg, settings.clone(), dir.path(), &mut |_| {}).unwrap();
    assert_eq!(again, j);

    // interrupted after step 1: step 2 is redone from step 1's model, identically
    let mut cut: Journal = j.clone();
    cut.done.truncate(1);
    cut.finished = false;
    std::fs::write(dir.path().join("prune.json"), serde_json::to_vec(&cut).unwrap()).unwrap();
    std::fs::remove_dir_all(dir.path().join("step-2")).unwrap();
    let mut stages = Vec::new();
    let resumed = run(&inp, &cfg, settings, dir.path(), &mut |e| {
        if let motif_prune::Event::Stage { step, .. } = e {
            stages.push(step);
        }
    })
    .unwrap();
    assert!(stages.iter().all(|&s| s == 2), "resumed at steps {stages:?}");
    let strip = |j: &Journal| {
        let mut j = j.clone();
        for s in &mut j.done {
            s.seconds = 0.0;
            s.train_seconds = 0.0;
            for r in &mut s.records {
                r.train_seconds = 0.0;
            }
        }
        j
    };
    assert_eq!(strip(&resumed), strip(&j));

    // other settings in the same folder: refused
    let e = run(
        &inp,
        &cfg,
        serde_json::json!({"criterion": "weight", "target": 2}),
        dir.path(),
        &mut |_| {},
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("other settings") && e.contains("criterion"), "{e}");
}

#[test]
fn bad_input_is_refused_before_training() {
    let dir = tempfile::tempdir().unwrap();
    let (train, test) = (planted(200, 1), planted(100, 2));
    let m = small_model(1);
    let w = criterion("weight");
    let cfg = config();
    let go = |inp: &Inputs<'_>, cfg: &PruneConfig| {
        let mut trained = false;
        let e = run(inp, cfg, serde_json::json!({}), dir.path(), &mut |e| {
            trained |= matches!(e, motif_prune::Event::Train(_));
        })
        .unwrap_err()
        .to_string();
        assert!(!trained);
        e
    };
    let base = Inputs {
        model: &m,
        init: Some(&m),
        train: &train,
        test: &test,
        criterion: &*w,
        trained: None,
    };
    let e = go(&base, &PruneConfig { target: 16, ..cfg.clone() });
    assert!(e.contains("larger than the model's 8 kernels"), "{e}");
    let e = go(&base, &PruneConfig { target: 3, ..cfg.clone() });
    assert!(e.contains("not 3·2^k"), "{e}");
    let mut bad = train.clone();
    bad.y[(5, 0)] = 0.7;
    let e = go(&Inputs { train: &bad, ..base }, &cfg);
    assert!(e.contains("training set") && e.contains("sequence 6 has label 0.7"), "{e}");
    let mut one = test.clone();
    one.y.fill(1.0);
    let e = go(&Inputs { test: &one, ..base }, &cfg);
    assert!(e.contains("test set: all 100 sequences are labelled 1"), "{e}");
    let e = go(&Inputs { init: None, ..base }, &cfg);
    assert!(e.contains("--init"), "{e}");
    assert!(!dir.path().join("prune.json").exists());
}
