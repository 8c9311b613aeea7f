//! Graphs with named float inputs run alike on tract and ort, and bad
//! inputs are errors naming the input.

use motif_engine::{EngineChoice, EngineKind, SessionOptions, open_graph};
use motif_onnx::Dim;
use motif_onnx::build::{Attr, GraphBuilder};
use ndarray::{ArrayD, IxDyn};

/// y = Relu(a · Wᵀ + b) + c, with W and b initializers, a and c inputs.
fn graph() -> Vec<u8> {
    let mut g = GraphBuilder::new("two_inputs");
    g.input("a", &[Dim::Symbol("N".into()), Dim::Fixed(3)]);
    g.input("c", &[Dim::Symbol("N".into()), Dim::Fixed(2)]);
    g.output("y", &[Dim::Symbol("N".into()), Dim::Fixed(2)]);
    g.initializer("W", &[2, 3], &[1.0, -2.0, 0.5, 0.25, 1.0, -1.0]);
    g.initializer("b", &[2], &[0.1, -0.2]);
    g.node("Gemm", &["a", "W", "b"], &["h"], &[("transB", Attr::Int(1))]);
    g.node("Relu", &["h"], &["r"], &[]);
    g.node("Add", &["r", "c"], &["y"], &[]);
    g.to_bytes()
}

fn expected(a: &ArrayD<f32>, c: &ArrayD<f32>) -> Vec<f32> {
    let w = [[1.0, -2.0, 0.5], [0.25, 1.0, -1.0]];
    let b = [0.1, -0.2];
    let n = a.shape()[0];
    let mut y = Vec::new();
    for i in 0..n {
        for (o, wo) in w.iter().enumerate() {
            let h: f32 = b[o] + (0..3).map(|k| a[[i, k]] * wo[k]).sum::<f32>();
            y.push(h.max(0.0) + c[[i, o]]);
        }
    }
    y
}

#[test]
fn named_inputs_on_both_engines() {
    let bytes = graph();
    let a =
        ArrayD::from_shape_fn(IxDyn(&[4, 3]), |i| (i[0] as f32 - 1.5) * 0.7 + i[1] as f32 * 0.3);
    let c = ArrayD::from_shape_fn(IxDyn(&[4, 2]), |i| i[0] as f32 * 0.1 - i[1] as f32);
    let want = expected(&a, &c);
    let path = std::path::Path::new("two_inputs.onnx");
    let mut ran = 0;
    for kind in [EngineKind::Tract, EngineKind::Ort] {
        let opts = SessionOptions { engine: EngineChoice::Exactly(kind), ..Default::default() };
        let s = match open_graph(path, &bytes, &opts) {
            Ok(s) => s,
            Err(motif_engine::Error::Unavailable { .. }) if kind == EngineKind::Ort => continue,
            Err(e) => panic!("{kind}: {e}"),
        };
        assert_eq!(s.output_names(), ["y"]);
        // inputs in either order
        let y = s.run(&[("c", c.view()), ("a", a.view())]).unwrap().remove(0);
        assert_eq!(y.shape(), &[4, 2]);
        for (g, w) in y.iter().zip(&want) {
            assert!((g - w).abs() < 1e-6, "{kind}: {g} vs {w}");
        }
        let e = s.run(&[("a", a.view())]).unwrap_err().to_string();
        assert!(e.contains("input `c` not given"), "{e}");
        let e =
            s.run(&[("a", a.view()), ("c", c.view()), ("z", c.view())]).unwrap_err().to_string();
        assert!(e.contains("no input `z`"), "{e}");
        ran += 1;
    }
    assert!(ran >= 1);
    if std::env::var("MOTIFTOOL_REQUIRE_ORT").is_ok() {
        assert_eq!(ran, 2, "ort is required");
    }
}

/// A step graph: y = Σ x·w (over the last axis), w.next = w + x̄ (the batch
/// mean); and a read-only graph z = w · 2.
fn step_graph(n: usize) -> Vec<u8> {
    let mut g = GraphBuilder::new("step");
    g.input("x", &[Dim::Fixed(n), Dim::Fixed(3)]);
    g.input("w", &[Dim::Fixed(3)]);
    g.output("y", &[Dim::Fixed(n)]);
    g.output("w.next", &[Dim::Fixed(3)]);
    g.initializer_i64("axis0", &[1], &[0]);
    g.initializer_i64("axis1", &[1], &[1]);
    g.node("Mul", &["x", "w"], &["xw"], &[]);
    g.node("ReduceSum", &["xw", "axis1"], &["y"], &[("keepdims", Attr::Int(0))]);
    g.node(
        "ReduceMean",
        &["x"],
        &["xbar"],
        &[("axes", Attr::Ints(vec![0])), ("keepdims", Attr::Int(0))],
    );
    g.node("Add", &["w", "xbar"], &["w.next"], &[]);
    g.to_bytes()
}

fn read_graph() -> Vec<u8> {
    let mut g = GraphBuilder::new("read");
    g.input("w", &[Dim::Fixed(3)]);
    g.output("z", &[Dim::Fixed(3)]);
    g.initializer("two", &[1], &[2.0]);
    g.node("Mul", &["w", "two"], &["z"], &[]);
    g.to_bytes()
}

/// Carried state: updated by each step (also across graphs of two batch
/// sizes sharing it), only read by a graph without its output, and equal
/// on both engines to the same arithmetic on the host. On ort it lives in
/// engine memory after the first run.
#[test]
fn carried_state_on_both_engines() {
    let path = std::path::Path::new("step.onnx");
    let mut ran = 0;
    for kind in [EngineKind::Tract, EngineKind::Ort] {
        let opts = SessionOptions { engine: EngineChoice::Exactly(kind), ..Default::default() };
        let (big, small, read) = match (
            open_graph(path, &step_graph(4), &opts),
            open_graph(path, &step_graph(2), &opts),
            open_graph(path, &read_graph(), &opts),
        ) {
            (Ok(a), Ok(b), Ok(c)) => (a, b, c),
            (Err(motif_engine::Error::Unavailable { .. }), ..) if kind == EngineKind::Ort => {
                continue;
            }
            (a, b, c) => panic!("{kind}: {:?} {:?} {:?}", a.err(), b.err(), c.err()),
        };
        let w0 = [0.5f32, -1.0, 2.0];
        let mut state = motif_engine::State::new(vec![(
            "w".into(),
            "w.next".into(),
            ArrayD::from_shape_vec(IxDyn(&[3]), w0.to_vec()).unwrap(),
        )]);
        let mut w = w0;
        for step in 0..5 {
            let n = if step % 2 == 0 { 4 } else { 2 };
            let x = ArrayD::from_shape_fn(IxDyn(&[n, 3]), |i| {
                (i[0] as f32 + 1.0) * 0.25 - i[1] as f32 + step as f32 * 0.5
            });
            let g = if n == 4 { &big } else { &small };
            let out = g.run_state(&[("x", x.view())], &mut state).unwrap();
            assert_eq!(out.len(), 1, "{kind}: only y comes back");
            for i in 0..n {
                let want: f32 = (0..3).map(|k| x[[i, k]] * w[k]).sum();
                assert!((out[0][[i]] - want).abs() < 1e-5, "{kind} step {step}");
            }
            for k in 0..3 {
                w[k] += (0..n).map(|i| x[[i, k]]).sum::<f32>() / n as f32;
            }
            assert_eq!(state.in_engine(), kind == EngineKind::Ort, "{kind}");
            let z = read.run_state(&[], &mut state).unwrap().remove(0);
            let now = state.read(0).unwrap();
            for k in 0..3 {
                assert!((now[[k]] - w[k]).abs() < 1e-5, "{kind} step {step}: w {now} vs {w:?}");
                assert!((z[[k]] - 2.0 * w[k]).abs() < 1e-5, "{kind}: read-only graph");
            }
        }
        let e = big.run_state(&[], &mut state).unwrap_err().to_string();
        assert!(e.contains("input `x` not given"), "{kind}: {e}");
        ran += 1;
    }
    if std::env::var("MOTIFTOOL_REQUIRE_ORT").is_ok() {
        assert_eq!(ran, 2, "ort is required");
    }
}
