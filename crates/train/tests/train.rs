//! The train step against independent computations (host BCE, finite
//! differences of the evaluation loss, Adam recomputed on the host), and the
//! loop: learns a planted motif, deterministic, same curve on tract and ort.

use std::path::Path;

use motif_core::rng::Rng;
use motif_engine::{EngineChoice, EngineKind, SessionOptions, open_graph};
use motif_onnx::Model;
use motif_onnx::autodiff::train::{
    Adam, TrainSpec, default_params, eval_model, names, train_step_model,
};
use motif_onnx::build::Activation;
use motif_train::{Data, TrainConfig, glorot_deepbind, train};
use ndarray::{Array2, Array3, ArrayD, IxDyn};
use prost::Message;

fn engines() -> Vec<EngineKind> {
    let mut v = vec![EngineKind::Tract];
    if motif_engine::engines().iter().any(|e| e.engine == EngineKind::Ort && e.usable) {
        v.push(EngineKind::Ort);
    } else {
        assert!(std::env::var("MOTIFTOOL_REQUIRE_ORT").is_err(), "ort is required");
    }
    v
}

fn opts(kind: EngineKind) -> SessionOptions {
    SessionOptions { engine: EngineChoice::Exactly(kind), ..Default::default() }
}

/// Random one-hot sequences; positives carry `GATTACA` at a random place.
fn planted(n: usize, len: usize, seed: u64) -> Data {
    let mut r = Rng::new(seed);
    let mut x = Array3::zeros((n, 4, len));
    let mut y = Array2::zeros((n, 1));
    for i in 0..n {
        let mut s: Vec<usize> = (0..len).map(|_| r.below(4)).collect();
        if i % 2 == 0 {
            let at = r.below(len - 7);
            for (k, b) in b"GATTACA".iter().enumerate() {
                s[at + k] = b"ACGT".iter().position(|c| c == b).unwrap();
            }
            y[(i, 0)] = 1.0;
        }
        for (j, &b) in s.iter().enumerate() {
            x[(i, b, j)] = 1.0;
        }
    }
    Data { x, y }
}

fn model(kernels: usize, act: Activation, seed: u64) -> Model {
    let p = glorot_deepbind(kernels, 7, 1, act, None, seed);
    Model::from_bytes(&p.encode_to_vec(), Path::new("deepbind.onnx")).unwrap()
}

fn bce(p: &[f32], y: &[f32]) -> f64 {
    p.iter()
        .zip(y)
        .map(|(&p, &y)| {
            let p = f64::from(p).clamp(1e-7, 1.0 - 1e-7);
            -(f64::from(y) * p.ln() + (1.0 - f64::from(y)) * (1.0 - p).ln())
        })
        .sum::<f64>()
        / p.len() as f64
}

#[test]
fn one_step_matches_host_loss_gradient_and_adam() {
    let (n, len, k) = (6, 20, 3);
    let data = planted(n, len, 3);
    for act in [Activation::Relu, Activation::Deepprune] {
        let m = model(k, act, 11);
        let (params, dense) = default_params(m.proto());
        assert_eq!(params, ["conv.weight", "conv.bias", "dense.weight", "dense.bias"]);
        assert_eq!(dense, ["dense.weight"]);
        let (l1, l2) = (0.01f32, 0.02f32);
        let mask = vec![1.0f32, 0.5, 1.0];
        let spec = TrainSpec {
            input: ("x".into(), vec![n, 4, len]),
            output: "y".into(),
            params: params.clone(),
            regularized: dense.clone(),
            l1,
            l2,
            mask: Some("pooled".into()),
            adam: Adam::default(),
        };
        let step = train_step_model(m.proto(), &spec).unwrap().encode_to_vec();
        let eval = eval_model(m.proto(), &spec).unwrap().encode_to_vec();
        let values: Vec<ArrayD<f32>> = params.iter().map(|p| m.weights(p).unwrap()).collect();
        let x = data.x.clone().into_dyn();
        let y = data.y.clone().into_dyn();
        let maskv = ArrayD::from_shape_vec(IxDyn(&[k]), mask.clone()).unwrap();
        for kind in engines() {
            let es = open_graph(Path::new("eval"), &eval, &opts(kind)).unwrap();
            let ss = open_graph(Path::new("step"), &step, &opts(kind)).unwrap();
            let eval_at = |vals: &[ArrayD<f32>]| -> (f64, ArrayD<f32>) {
                let mut ins =
                    vec![("x", x.view()), (names::LABELS, y.view()), (names::MASK, maskv.view())];
                for (p, v) in params.iter().zip(vals) {
                    ins.push((p.as_str(), v.view()));
                }
                let o = es.run(&ins).unwrap();
                (f64::from(o[0].first().copied().unwrap()), o[1].clone())
            };
            // Loss = host BCE of the outputs + the penalties.
            let (loss, pred) = eval_at(&values);
            let dw = &values[2];
            let penalty = f64::from(l1) * dw.iter().map(|v| f64::from(v.abs())).sum::<f64>()
                + f64::from(l2) * dw.iter().map(|v| f64::from(v * v)).sum::<f64>();
            let host = bce(pred.as_slice().unwrap(), data.y.as_slice().unwrap()) + penalty;
            assert!((loss - host).abs() < 1e-5, "{kind}: loss {loss} vs host {host}");
            // One step from m = v = 0 at t = 1.
            let lr = 0.01;
            let lr_t = Adam::default().lr_t(lr, 1);
            let zeros: Vec<ArrayD<f32>> =
                values.iter().map(|v| ArrayD::zeros(v.raw_dim())).collect();
            let lr_a = ArrayD::from_elem(IxDyn(&[]), lr_t);
            let mnames: Vec<String> = params.iter().map(|p| names::m(p)).collect();
            let vnames: Vec<String> = params.iter().map(|p| names::v(p)).collect();
            let mut ins = vec![
                ("x", x.view()),
                (names::LABELS, y.view()),
                (names::MASK, maskv.view()),
                (names::LR, lr_a.view()),
            ];
            for (i, p) in params.iter().enumerate() {
                ins.push((p.as_str(), values[i].view()));
                ins.push((mnames[i].as_str(), zeros[i].view()));
                ins.push((vnames[i].as_str(), zeros[i].view()));
            }
            let o = ss.run(&ins).unwrap();
            assert!((f64::from(o[0].first().copied().unwrap()) - loss).abs() < 1e-6);
            let mut rng = Rng::new(5);
            for (i, p) in params.iter().enumerate() {
                let (pn, mn, vn) = (&o[1 + 3 * i], &o[2 + 3 * i], &o[3 + 3 * i]);
                // m′ = (1 − β₁)·g, so the step's gradient is g = m′/0.1.
                let g = mn / 0.1;
                // v′ = (1 − β₂)·g²
                for (a, b) in vn.iter().zip(g.iter()) {
                    assert!((a - 0.001 * b * b).abs() <= 1e-6 * (1.0 + b * b), "{kind} {p}: v");
                }
                // p′ = p − lr_t·m′/(√v′ + ε)
                for ((a, p0), (m1, v1)) in
                    pn.iter().zip(values[i].iter()).zip(mn.iter().zip(vn.iter()))
                {
                    let want = p0 - lr_t * m1 / (v1.sqrt() + 1e-7);
                    assert!((a - want).abs() < 1e-6, "{kind} {p}: update {a} vs {want}");
                }
                // g is the gradient of the evaluation loss: finite differences.
                let dir =
                    ArrayD::from_shape_fn(values[i].raw_dim(), |_| (rng.f64() * 2.0 - 1.0) as f32);
                let an: f64 =
                    g.iter().zip(dir.iter()).map(|(a, b)| f64::from(*a) * f64::from(*b)).sum();
                let line = |t: f64| {
                    let mut at = values.clone();
                    at[i] = &values[i] + &(&dir * t as f32);
                    eval_at(&at).0
                };
                if let Err(d) = motif_core::fdcheck::directional(an, line, 1e-4, 1e-2) {
                    panic!(
                        "{kind} {act:?} {p}: gradient {an} disagrees with finite differences: {d}"
                    );
                }
            }
        }
    }
}

#[test]
fn learns_a_planted_motif_deterministically_on_both_engines() {
    let data = planted(600, 40, 1);
    let (tr, va) = data.split_last(0.1);
    let test = planted(400, 40, 2);
    let m = model(4, Activation::Relu, 3);
    let mut curves = Vec::new();
    for kind in engines() {
        let cfg = TrainConfig {
            epochs: 30,
            batch_size: 64,
            lr: 0.01,
            seed: 9,
            session: opts(kind),
            ..Default::default()
        };
        let t = train(&m, &tr, &va, &cfg, &mut |_| {}).unwrap();
        assert_eq!(t.engine, kind);
        let again = train(&m, &tr, &va, &cfg, &mut |_| {}).unwrap();
        let losses: Vec<f64> = t.log.iter().map(|l| l.loss).collect();
        assert_eq!(
            losses,
            again.log.iter().map(|l| l.loss).collect::<Vec<_>>(),
            "{kind}: same seed, same run"
        );
        assert!(losses.last().unwrap() < &(losses[0] * 0.5), "{kind}: loss {losses:?}");
        // The written model is an ordinary inference graph: run it as such.
        let bytes = t.model.encode_to_vec();
        let trained = Model::from_bytes(&bytes, Path::new("trained.onnx")).unwrap();
        let s = motif_engine::open(&trained, &opts(kind)).unwrap();
        let p = s.run(test.x.view()).unwrap().remove(0);
        let scores: Vec<f32> = p.iter().copied().collect();
        let labels: Vec<bool> = test.y.iter().map(|&v| v > 0.5).collect();
        let auc = motif_core::metrics::roc_auc(&scores, &labels).unwrap();
        assert!(auc > 0.95, "{kind}: test AUC {auc}");
        curves.push(losses);
    }
    if curves.len() == 2 {
        for (e, (a, b)) in curves[0].iter().zip(&curves[1]).take(5).enumerate() {
            assert!((a - b).abs() <= 1e-4 * a.abs(), "epoch {}: tract {a} vs ort {b}", e + 1);
        }
    }
}

/// BatchNorm calibration keeps the function and sets the running
/// statistics to the data's (checked against a numpy-style recomputation
/// of each channel's mean and variance here).
#[test]
fn batchnorm_calibration_keeps_the_function() {
    use motif_train::{Block, calibrate_batchnorm, glorot_stack};
    let blocks = [Block::parse("4x5:2").unwrap(), Block::parse("3x3").unwrap()];
    assert!(Block::parse("4x5:").is_err() && Block::parse("0x5").is_err());
    let mut proto = glorot_stack(&blocks, true, true, 1, 3);
    // Non-trivial trained-looking BatchNorm parameters.
    for t in &mut proto.graph.as_mut().unwrap().initializer {
        if t.name() == "bn1.scale" {
            *t = motif_onnx::tensor::from_f32("bn1.scale", &[4], &[0.5, 2.0, -1.0, 1.5]);
        }
        if t.name() == "bn2.bias" {
            *t = motif_onnx::tensor::from_f32("bn2.bias", &[3], &[0.3, -0.2, 0.1]);
        }
    }
    let mut rng = Rng::new(5);
    let x = Array3::from_shape_fn((300, 4, 30), |_| 0.0f32);
    let mut x = x;
    for i in 0..300 {
        for j in 0..30 {
            x[[i, rng.below(4), j]] = 1.0;
        }
    }
    let opts =
        SessionOptions { engine: EngineChoice::Exactly(EngineKind::Tract), ..Default::default() };
    let cal = calibrate_batchnorm(&proto, &x, &opts).unwrap();
    let run = |p: &motif_onnx::pb::ModelProto, outs: Vec<String>| {
        let m = Model::from_bytes(&p.encode_to_vec(), Path::new("m.onnx")).unwrap();
        let s = motif_engine::open(&m, &SessionOptions { outputs: outs, ..opts.clone() }).unwrap();
        s.run(x.view()).unwrap()
    };
    let before = run(&proto, vec![]);
    let after = run(&cal, vec![]);
    let diff = (&before[0] - &after[0]).mapv(f32::abs).fold(0.0f32, |a, &b| a.max(b));
    assert!(diff < 1e-5, "output changed by {diff}");
    // The stored mean/variance are the conv output's per-channel statistics.
    let conv1 = &run(&cal, vec!["conv1".into()])[0];
    let m = Model::from_bytes(&cal.encode_to_vec(), Path::new("m.onnx")).unwrap();
    let mean = m.weights("bn1.mean").unwrap();
    let var = m.weights("bn1.var").unwrap();
    for c in 0..4 {
        let v: Vec<f64> =
            conv1.index_axis(ndarray::Axis(1), c).iter().map(|&a| f64::from(a)).collect();
        let mu = v.iter().sum::<f64>() / v.len() as f64;
        let var_c = v.iter().map(|a| (a - mu).powi(2)).sum::<f64>() / v.len() as f64;
        assert!((f64::from(mean[[c]]) - mu).abs() < 1e-4, "channel {c}");
        assert!((f64::from(var[[c]]) - var_c).abs() < 1e-3 * var_c.max(1.0), "channel {c}");
    }
}

/// A run interrupted after epoch 2 resumes from its checkpoint on every
/// engine and ends exactly as the uninterrupted run: same weights, same
/// log; the checkpoint is gone at the end.
#[test]
fn an_interrupted_run_resumes_to_the_same_result() {
    let data = planted(300, 40, 5);
    let (tr, va) = data.split_last(0.2);
    let m = model(4, Activation::Relu, 6);
    for kind in engines() {
        let dir =
            std::env::temp_dir().join(format!("motif-train-resume-{}-{kind}", std::process::id()));
        let ck = dir.join("training.ckpt");
        let _ = std::fs::remove_dir_all(&dir);
        let cfg = TrainConfig {
            epochs: 5,
            batch_size: 64,
            lr: 0.01,
            patience: 100,
            seed: 4,
            session: opts(kind),
            checkpoint: Some(ck.clone()),
            ..Default::default()
        };
        let whole =
            train(&m, &tr, &va, &TrainConfig { checkpoint: None, ..cfg.clone() }, &mut |_| {})
                .unwrap();
        let cut = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            train(&m, &tr, &va, &cfg, &mut |p| {
                if let motif_train::Progress::Epoch { epoch: 2, .. } = p {
                    panic!("interrupted");
                }
            })
        }));
        assert!(cut.is_err());
        assert!(ck.exists(), "{kind}: no checkpoint after epoch 2");
        let mut seen = Vec::new();
        let resumed = train(&m, &tr, &va, &cfg, &mut |p| {
            if let motif_train::Progress::Epoch { epoch, .. } = p {
                seen.push(epoch);
            }
        })
        .unwrap();
        assert_eq!(seen, [3, 4, 5], "{kind}");
        assert_eq!(resumed.model, whole.model, "{kind}: weights differ");
        let losses = |t: &motif_train::Trained| -> Vec<(f64, f64)> {
            t.log.iter().map(|l| (l.loss, l.val_loss)).collect()
        };
        assert_eq!(losses(&resumed), losses(&whole), "{kind}");
        assert_eq!(resumed.best_epoch, whole.best_epoch);
        assert!(!ck.exists(), "{kind}: the checkpoint stayed");
        // A checkpoint of another run is refused, not silently used.
        std::fs::create_dir_all(&dir).unwrap();
        let other = TrainConfig { seed: 5, ..cfg.clone() };
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            train(&m, &tr, &va, &cfg, &mut |p| {
                if let motif_train::Progress::Epoch { epoch: 1, .. } = p {
                    panic!("interrupted");
                }
            })
        }));
        let e = train(&m, &tr, &va, &other, &mut |_| {}).unwrap_err().to_string();
        assert!(e.contains("checkpoint of another run"), "{e}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
