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
