//! Input gradients against finite differences of the engines' forward
//! pass, on the PyTorch (NCW) and Keras (NWC) fixtures, for an output column
//! and for a conv neuron.

use std::path::Path;

use motif_core::rng::Rng;
use motif_engine::{EngineChoice, EngineKind, SessionOptions};
use motif_onnx::Model;
use motif_train::saliency::{Target, input_gradients};
use ndarray::{Array3, Axis};

fn fixture(name: &str) -> Model {
    Model::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/models").join(name))
        .unwrap()
}

fn onehot(n: usize, len: usize, seed: u64) -> Array3<f32> {
    let mut r = Rng::new(seed);
    let mut x = Array3::zeros((n, 4, len));
    for i in 0..n {
        for j in 0..len {
            x[(i, r.below(4), j)] = 1.0;
        }
    }
    x
}

/// Value of the target per sequence, from a plain forward pass.
fn value(model: &Model, x: &Array3<f32>, target: Target, opts: &SessionOptions) -> Vec<f64> {
    match target {
        Target::Output(k) => {
            // Column k of every output flattened per sequence, in order.
            let s = motif_engine::open(model, opts).unwrap();
            let ys = s.run(x.view()).unwrap();
            (0..x.dim().0)
                .map(|i| {
                    let row: Vec<f32> = ys
                        .iter()
                        .flat_map(|y| y.index_axis(Axis(0), i).iter().copied().collect::<Vec<_>>())
                        .collect();
                    f64::from(row[k])
                })
                .collect()
        }
        Target::Neuron { layer, channel } => {
            let conv = &model.structure().convs[layer];
            let t = conv.activation_output.clone().unwrap_or_else(|| conv.conv_output.clone());
            let o = SessionOptions { outputs: vec![t], ..opts.clone() };
            let s = motif_engine::open(model, &o).unwrap();
            let a = s.run(x.view()).unwrap().remove(0);
            a.index_axis(Axis(1), channel)
                .outer_iter()
                .map(|row| row.iter().fold(f64::NEG_INFINITY, |m, &v| m.max(f64::from(v))))
                .collect()
        }
    }
}

#[test]
fn saliency_matches_finite_differences() {
    let mut kinds = vec![EngineKind::Tract];
    if motif_engine::engines().iter().any(|e| e.engine == EngineKind::Ort && e.usable) {
        kinds.push(EngineKind::Ort);
    }
    let mut checked = 0;
    for (name, targets) in [
        ("torch_legacy_ncw.onnx", vec![Target::Output(0), Target::Neuron { layer: 0, channel: 1 }]),
        (
            "keras_tf2onnx_nwc.onnx",
            vec![Target::Output(0), Target::Neuron { layer: 1, channel: 2 }],
        ),
        ("bn_two_block.onnx", vec![Target::Output(1), Target::Neuron { layer: 1, channel: 0 }]),
        // Real exports: a softmax head after Flatten (Keras), pads computed
        // from the shape at run time before an overlapping pool (PyTorch).
        ("families/keras_softmax_flatten.onnx", vec![Target::Output(1)]),
        ("families/torch_pad_pool_multitask.onnx", vec![Target::Output(7)]),
        // BPNet: a profile position, and a count (the second output).
        ("families/torch_bpnet.onnx", vec![Target::Output(150), Target::Output(401)]),
    ] {
        let m = fixture(name);
        // BPNet crops its profile to 200 positions: it needs longer input.
        let len =
            m.structure().input.length.unwrap_or(if name.contains("bpnet") { 260 } else { 60 });
        let x = onehot(5, len, 3);
        for kind in &kinds {
            let opts =
                SessionOptions { engine: EngineChoice::Exactly(*kind), ..Default::default() };
            for &t in &targets {
                // Two batches (3 + 2): the remainder batch gets its own graph.
                let g = input_gradients(&m, &x, t, &opts, 3).unwrap();
                assert_eq!(g.dim(), x.dim());
                assert!(g.iter().any(|v| v.abs() > 1e-6), "{name} {t:?}: all zero");
                let mut r = Rng::new(11);
                let v = Array3::from_shape_fn(x.dim(), |_| (r.f64() * 2.0 - 1.0) as f32);
                for i in 0..x.dim().0 {
                    let an: f64 = g
                        .index_axis(Axis(0), i)
                        .iter()
                        .zip(v.index_axis(Axis(0), i).iter())
                        .map(|(a, b)| f64::from(*a) * f64::from(*b))
                        .sum();
                    let line = |h: f64| value(&m, &(&x + &(&v * h as f32)), t, &opts)[i];
                    if let Err(d) = motif_core::fdcheck::directional(an, line, 2e-3, 1e-2) {
                        panic!(
                            "{name} {t:?} on {kind}, sequence {i}: gradient {an} disagrees with finite differences: {d}"
                        );
                    }
                    checked += 1;
                }
            }
        }
    }
    assert!(checked >= 50);
}

#[test]
fn bad_targets_are_clear_errors() {
    let m = fixture("torch_legacy_ncw.onnx");
    let x = onehot(2, m.structure().input.length.unwrap_or(60), 1);
    let o = SessionOptions::default();
    let e = input_gradients(&m, &x, Target::Output(5), &o, 8).unwrap_err().to_string();
    assert!(e.contains("--output 5"), "{e}");
    let e = input_gradients(&m, &x, Target::Neuron { layer: 3, channel: 0 }, &o, 8)
        .unwrap_err()
        .to_string();
    assert!(e.contains("layer 3"), "{e}");
    let e = input_gradients(&m, &x, Target::Neuron { layer: 0, channel: 999 }, &o, 8)
        .unwrap_err()
        .to_string();
    assert!(e.contains("channel 999"), "{e}");
}
