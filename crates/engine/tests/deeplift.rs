//! DeepLIFT's pair graph checked on each engine: every multiplier rule
//! alone on random tensors, small networks and every imported model
//! fixture satisfy completeness (Σ (x − r)·m = Σ seed·(f(x) − f(r)) per
//! pair); with r = x the multipliers are the gradient; a linear model's
//! multipliers are its weights; ops without a rule are refused by name.

use std::path::Path;

use motif_engine::{EngineChoice, EngineKind, GraphSession, SessionOptions, open_graph};
use motif_onnx::Dim;
use motif_onnx::autodiff::deeplift::{DeepLiftOptions, MULTIPLIERS, REFERENCE, deeplift_model};
use motif_onnx::autodiff::gradient_model;
use motif_onnx::build::{Attr, GraphBuilder};
use motif_onnx::pb::ModelProto;
use ndarray::{ArrayD, Axis, IxDyn};
use prost::Message;

struct Rng(motif_core::rng::Rng);
impl Rng {
    fn new(seed: u64) -> Self {
        Self(motif_core::rng::Rng::new(seed))
    }
    fn uniform(&mut self, shape: &[usize], lo: f32, hi: f32) -> ArrayD<f32> {
        ArrayD::from_shape_fn(IxDyn(shape), |_| lo + (hi - lo) * self.0.f64() as f32)
    }
}

fn engines() -> Vec<EngineKind> {
    let mut v = vec![EngineKind::Tract];
    let mut g = GraphBuilder::new("probe");
    g.input("x", &[Dim::Fixed(1)]);
    g.output_any("y");
    g.node("Identity", &["x"], &["y"], &[]);
    let opts =
        SessionOptions { engine: EngineChoice::Exactly(EngineKind::Ort), ..Default::default() };
    match open_graph(Path::new("probe.onnx"), &g.to_bytes(), &opts) {
        Ok(_) => v.push(EngineKind::Ort),
        Err(e) => {
            assert!(std::env::var("MOTIFTOOL_REQUIRE_ORT").is_err(), "ort is required: {e}");
        }
    }
    v
}

fn open(kind: EngineKind, name: &str, model: &ModelProto) -> Box<dyn GraphSession> {
    let opts = SessionOptions { engine: EngineChoice::Exactly(kind), ..Default::default() };
    open_graph(Path::new(name), &model.encode_to_vec(), &opts)
        .unwrap_or_else(|e| panic!("{name} on {kind}: {e}"))
}

fn graph(xs: &[usize]) -> GraphBuilder {
    let mut g = GraphBuilder::new("case");
    let d: Vec<Dim> = xs.iter().map(|&v| Dim::Fixed(v)).collect();
    g.input("x", &d);
    g.output_any("y");
    g
}

/// Per pair (batch row): Σ (x − r)·m and Σ seed·(f(x) − f(r)).
fn sums(
    x: &ArrayD<f32>,
    r: &ArrayD<f32>,
    m: &ArrayD<f32>,
    seed: &ArrayD<f32>,
    fx: &ArrayD<f32>,
    fr: &ArrayD<f32>,
) -> Vec<(f64, f64)> {
    (0..x.shape()[0])
        .map(|b| {
            let lhs: f64 = x
                .index_axis(Axis(0), b)
                .iter()
                .zip(r.index_axis(Axis(0), b).iter())
                .zip(m.index_axis(Axis(0), b).iter())
                .map(|((&x, &r), &m)| f64::from(x - r) * f64::from(m))
                .sum();
            let rhs: f64 = seed
                .index_axis(Axis(0), b)
                .iter()
                .zip(fx.index_axis(Axis(0), b).iter())
                .zip(fr.index_axis(Axis(0), b).iter())
                .map(|((&s, &a), &c)| f64::from(s) * (f64::from(a) - f64::from(c)))
                .sum();
            (lhs, rhs)
        })
        .collect()
}

/// Runs the pair graph of `model` (input `x`, target `target`) on
/// `(x, r)` with a random seed on each engine, checks completeness per
/// pair and returns the multipliers of the last engine with the seed.
fn complete(
    name: &str,
    model: &ModelProto,
    target: &str,
    x: &ArrayD<f32>,
    r: &ArrayD<f32>,
    rng: &mut Rng,
) -> (ArrayD<f32>, ArrayD<f32>) {
    let input = model.graph.as_ref().unwrap().input[0].name().to_owned();
    let pair =
        deeplift_model(model, &[(&input, x.shape())], &input, target, &DeepLiftOptions::default())
            .unwrap_or_else(|e| panic!("{name}: {e}"));
    let mut last = None;
    for kind in engines() {
        let s = open(kind, &format!("{name} (pair)"), &pair);
        let tshape = target_shape(&pair, target);
        let seed = rng.uniform(&tshape, -1.0, 1.0);
        let out = s
            .run(&[(&input, x.view()), (REFERENCE, r.view()), ("grad_seed", seed.view())])
            .unwrap_or_else(|e| panic!("{name} on {kind}: {e}"));
        assert_eq!(s.output_names()[2], MULTIPLIERS);
        let (fx, fr, m) = (&out[0], &out[1], &out[2]);
        for (b, (lhs, rhs)) in sums(x, r, m, &seed, fx, fr).into_iter().enumerate() {
            assert!(
                (lhs - rhs).abs() <= 1e-4 * (1.0 + rhs.abs()),
                "{name} on {kind}, pair {b}: Σ(x−r)·m = {lhs:.7}, Δf = {rhs:.7}"
            );
        }
        last = Some((m.clone(), seed));
    }
    last.unwrap()
}

fn target_shape(pair: &ModelProto, target: &str) -> Vec<usize> {
    let g = pair.graph.as_ref().unwrap();
    let vi = g.output.iter().find(|o| o.name() == target).unwrap();
    let motif_onnx::pb::type_proto::Value::TensorType(t) =
        vi.r#type.as_ref().unwrap().value.as_ref().unwrap()
    else {
        panic!("not a tensor")
    };
    t.shape
        .as_ref()
        .unwrap()
        .dim
        .iter()
        .map(|d| match d.value {
            Some(motif_onnx::pb::tensor_shape_proto::dimension::Value::DimValue(v)) => v as usize,
            _ => panic!("dynamic"),
        })
        .collect()
}

type Unary = (&'static str, Vec<(&'static str, Attr)>, f32);

/// Each rule alone, on random inputs and references.
#[test]
fn each_rule_is_complete_on_its_own() {
    let mut rng = Rng::new(7);
    let xs = [3usize, 2, 9];
    // (op, attributes, lowest input value)
    let unary: &[Unary] = &[
        ("Relu", vec![], -1.0),
        ("LeakyRelu", vec![("alpha", Attr::Float(0.1))], -1.0),
        ("Sigmoid", vec![], -3.0),
        ("Tanh", vec![], -2.0),
        ("Exp", vec![], -1.0),
        ("Abs", vec![], -1.0),
        ("Log", vec![], 0.2),
        ("Sqrt", vec![], 0.1),
        (
            "MaxPool",
            vec![("kernel_shape", Attr::Ints(vec![3])), ("strides", Attr::Ints(vec![1]))],
            -1.0,
        ),
        (
            "MaxPool",
            vec![
                ("kernel_shape", Attr::Ints(vec![4])),
                ("strides", Attr::Ints(vec![2])),
                ("pads", Attr::Ints(vec![1, 2])),
            ],
            -1.0,
        ),
        ("GlobalMaxPool", vec![], -1.0),
        ("GlobalAveragePool", vec![], -1.0),
        ("ReduceMax", vec![("axes", Attr::Ints(vec![2])), ("keepdims", Attr::Int(0))], -1.0),
        ("ReduceMin", vec![("axes", Attr::Ints(vec![1, 2])), ("keepdims", Attr::Int(1))], -1.0),
        // Internal softmaxes over each non-batch axis, peaked ones too.
        ("Softmax", vec![("axis", Attr::Int(1))], -1.0),
        ("Softmax", vec![], -1.0),
        ("Softmax", vec![("axis", Attr::Int(2))], -30.0),
    ];
    for (op, attrs, lo) in unary {
        let mut g = graph(&xs);
        g.node(op, &["x"], &["y"], attrs);
        let model = g.finish();
        let x = rng.uniform(&xs, *lo, 1.0);
        let r = rng.uniform(&xs, *lo, 1.0);
        complete(op, &model, "y", &x, &r, &mut rng);
    }
    // A softmax whose members differ in one logit only (Δz = 0 elsewhere:
    // the fallbacks), and one whose members are equal.
    let mut g = graph(&xs);
    g.node("Softmax", &["x"], &["y"], &[("axis", Attr::Int(1))]);
    let model = g.finish();
    let x = rng.uniform(&xs, -2.0, 2.0);
    let mut r = x.clone();
    r[[0, 1, 4]] += 1.5;
    complete("Softmax (one logit moved)", &model, "y", &x, &r, &mut rng);
    complete("Softmax (equal members)", &model, "y", &x, &x.clone(), &mut rng);
    // Clip with constant bounds.
    let mut g = graph(&xs);
    g.initializer("lo", &[], &[-0.3]);
    g.initializer("hi", &[], &[0.4]);
    g.node("Clip", &["x", "lo", "hi"], &["y"], &[]);
    complete(
        "Clip",
        &g.finish(),
        "y",
        &rng.uniform(&xs, -1.0, 1.0),
        &rng.uniform(&xs, -1.0, 1.0),
        &mut rng,
    );
    // Two operands that both vary: Max, Min (cross-max), Mul, MatMul
    // (midpoint), and Max with a constant operand.
    for op in ["Max", "Min", "Mul", "MatMul"] {
        let mut g = graph(&xs);
        g.node("Sigmoid", &["x"], &["a"], &[]);
        g.node("Tanh", &["x"], &["b0"], &[]);
        if op == "MatMul" {
            g.node("Transpose", &["b0"], &["b"], &[("perm", Attr::Ints(vec![0, 2, 1]))]);
        } else {
            g.node("Identity", &["b0"], &["b"], &[]);
        }
        g.node(op, &["a", "b"], &["y"], &[]);
        let x = rng.uniform(&xs, -2.0, 2.0);
        let r = rng.uniform(&xs, -2.0, 2.0);
        complete(op, &g.finish(), "y", &x, &r, &mut rng);
    }
    let mut g = graph(&xs);
    g.initializer("c", &[1, 1, 9], &(0..9).map(|i| i as f32 * 0.1 - 0.4).collect::<Vec<_>>());
    g.node("Max", &["x", "c"], &["y"], &[]);
    complete(
        "Max with a constant",
        &g.finish(),
        "y",
        &rng.uniform(&xs, -1.0, 1.0),
        &rng.uniform(&xs, -1.0, 1.0),
        &mut rng,
    );
}

/// A DeepBind-shaped network of both strands (Conv, Relu, overlapping
/// MaxPool, global max, Gemm, strand Max) is complete, and with r = x its
/// multipliers are the gradient.
#[test]
fn networks_are_complete_and_reduce_to_the_gradient() {
    use motif_onnx::build::{Activation, DeepBindSpec, Padding, deepbind};
    let mut rng = Rng::new(11);
    let (k, w, len, n) = (6, 5, 40, 4);
    let spec = DeepBindSpec {
        kernels: ndarray::Array3::from_shape_fn((k, 4, w), |_| rng.0.f64() as f32 * 2.0 - 1.0),
        conv_bias: (0..k).map(|_| rng.0.f64() as f32 - 0.5).collect(),
        dense: ndarray::Array2::from_shape_fn((3, k), |_| rng.0.f64() as f32 * 2.0 - 1.0),
        dense_bias: vec![0.1, -0.1, 0.2],
        activation: Activation::Relu,
        padding: Padding::Same,
        length: Some(len),
        sigmoid: false,
    };
    let model = deepbind(&spec);
    let onehot = |rng: &mut Rng| {
        let mut a = ArrayD::zeros(IxDyn(&[n, 4, len]));
        for b in 0..n {
            for l in 0..len {
                a[[b, rng.0.below(4), l]] = 1.0;
            }
        }
        a
    };
    let x = onehot(&mut rng);
    let r = onehot(&mut rng);
    complete("deepbind", &model, "y", &x, &r, &mut rng);
    // r = x: the multipliers are the gradient.
    let (m, seed) = complete("deepbind r = x", &model, "y", &x, &x, &mut rng);
    let gm = gradient_model(&model, &[("x", x.shape())], "y", &["x"]).unwrap();
    let s = open(EngineKind::Tract, "deepbind (gradient)", &gm);
    let g = s.run(&[("x", x.view()), ("grad_seed", seed.view())]).unwrap().remove(1);
    for (a, b) in m.iter().zip(g.iter()) {
        assert!((a - b).abs() <= 1e-5 * (1.0 + b.abs()), "r = x: multiplier {a}, gradient {b}");
    }
}

/// A linear model's multipliers are its weights, whatever the pair.
#[test]
fn linear_model_multipliers_are_the_weights() {
    let mut rng = Rng::new(3);
    let (n, len) = (3, 7);
    let wv = rng.uniform(&[4 * len, 1], -1.0, 1.0);
    let mut g = graph(&[n, 4, len]);
    g.initializer("w", &[4 * len, 1], wv.as_slice().unwrap());
    g.initializer("b", &[1], &[0.5]);
    g.node("Flatten", &["x"], &["f"], &[("axis", Attr::Int(1))]);
    g.node("Gemm", &["f", "w", "b"], &["y"], &[]);
    let x = rng.uniform(&[n, 4, len], 0.0, 1.0);
    let r = rng.uniform(&[n, 4, len], 0.0, 1.0);
    let (m, seed) = complete("linear", &g.finish(), "y", &x, &r, &mut rng);
    for b in 0..n {
        for (i, &mv) in m.index_axis(Axis(0), b).iter().enumerate() {
            let want = wv[[i, 0]] * seed[[b, 0]];
            assert!((mv - want).abs() < 1e-6, "pair {b} [{i}]: {mv} vs weight {want}");
        }
    }
}

/// An op without a multiplier rule on the path is refused by name; the
/// same op off the path, or linearized explicitly, is accepted.
#[test]
fn ops_without_a_rule_are_refused_by_name() {
    let mut g = graph(&[2, 3]);
    g.node("Relu", &["x"], &["r"], &[]);
    g.node("LogSoftmax", &["r"], &["y"], &[("axis", Attr::Int(1))]);
    let model = g.finish();
    let e = deeplift_model(&model, &[("x", &[2, 3])], "x", "y", &DeepLiftOptions::default())
        .unwrap_err()
        .to_string();
    assert!(e.contains("LogSoftmax_y") && e.contains("no DeepLIFT rule"), "{e}");
    let opts = DeepLiftOptions { linearize: vec!["LogSoftmax".into()], ..Default::default() };
    assert!(deeplift_model(&model, &[("x", &[2, 3])], "x", "y", &opts).is_ok());
    // A varying divisor.
    let mut g = graph(&[2, 3]);
    g.node("Exp", &["x"], &["e"], &[]);
    g.node("Div", &["x", "e"], &["y"], &[]);
    let e = deeplift_model(&g.finish(), &[("x", &[2, 3])], "x", "y", &DeepLiftOptions::default())
        .unwrap_err()
        .to_string();
    assert!(e.contains("Div_y") && e.contains("input 1"), "{e}");
    // A softmax over the batch axis.
    let mut g = graph(&[2, 3]);
    g.node("Softmax", &["x"], &["y"], &[("axis", Attr::Int(0))]);
    let e = deeplift_model(&g.finish(), &[("x", &[2, 3])], "x", "y", &DeepLiftOptions::default())
        .unwrap_err()
        .to_string();
    assert!(e.contains("Softmax_y") && e.contains("batch axis"), "{e}");
}

/// `../shared/data/…`, unless `MOTIFTOOL_NO_SHARED` hides it.
fn shared_data(rel: &str) -> Option<std::path::PathBuf> {
    if std::env::var_os("MOTIFTOOL_NO_SHARED").is_some() {
        return None;
    }
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data").join(rel);
    p.exists().then_some(p)
}

/// Every imported model fixture (PyTorch legacy and dynamo, Keras via
/// tf2onnx, the model families, and the real DeepBind models when
/// `../shared` is present) attributes its logit completely on one-hot
/// pairs, or names the node that blocks it.
#[test]
fn imported_models_are_complete() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/models");
    let mut dirs = vec![root.clone(), root.join("families")];
    match shared_data("deepbind-models") {
        Some(d) => dirs.push(d),
        None => eprintln!("../shared not used: real DeepBind models skipped"),
    }
    let mut paths: Vec<_> = dirs
        .iter()
        .flat_map(|d| std::fs::read_dir(d).unwrap())
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "onnx"))
        .collect();
    paths.sort();
    let mut rng = Rng::new(5);
    for path in &paths {
        let m = motif_onnx::Model::load(path).unwrap();
        let s = m.structure();
        let len = s.input.length.unwrap_or(60);
        let n = 3;
        let nwc = s.input.layout == motif_onnx::Layout::Nwc;
        let mut onehot = || {
            let shape = if nwc { vec![n, len, 4] } else { vec![n, 4, len] };
            let mut a = ArrayD::zeros(IxDyn(&shape));
            for b in 0..n {
                for l in 0..len {
                    let c = rng.0.below(4);
                    if nwc { a[[b, l, c]] = 1.0 } else { a[[b, c, l]] = 1.0 }
                }
            }
            a
        };
        let (x, r) = (onehot(), onehot());
        // The logit: the input of a trailing Sigmoid or Softmax.
        let out = &s.outputs[0].name;
        let g = m.proto().graph.as_ref().unwrap();
        let target = g
            .node
            .iter()
            .find(|nd| {
                nd.output.first() == Some(out) && matches!(nd.op_type(), "Sigmoid" | "Softmax")
            })
            .map_or(out.clone(), |nd| nd.input[0].clone());
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        complete(&name, m.proto(), &target, &x, &r, &mut rng);
        shared_is_repeated(&name, m.proto(), &target, &x, &r, &mut rng);
    }
}

/// The pair graph sharing the input member between `K` references (its
/// forward pass once, tiled for the backward pass) gives what the plain
/// pair graph gives on the input row repeated `K` times.
fn shared_is_repeated(
    name: &str,
    model: &ModelProto,
    target: &str,
    x: &ArrayD<f32>,
    r: &ArrayD<f32>,
    rng: &mut Rng,
) {
    let input = model.graph.as_ref().unwrap().input[0].name().to_owned();
    // Two input rows, three references each (reference-major: pair p is
    // row p % 2), against the rows repeated in that order.
    let k = r.shape()[0];
    let one = x.slice_axis(ndarray::Axis(0), ndarray::Slice::from(0..2)).to_owned();
    let r = &ndarray::concatenate(ndarray::Axis(0), &[r.view(), r.view()]).unwrap();
    let repeated = ndarray::concatenate(ndarray::Axis(0), &vec![one.view(); k]).unwrap();
    let opts = DeepLiftOptions { references_per_input: k, ..Default::default() };
    let shared = deeplift_model(model, &[(&input, r.shape())], &input, target, &opts)
        .unwrap_or_else(|e| panic!("{name} (shared input): {e}"));
    let plain =
        deeplift_model(model, &[(&input, r.shape())], &input, target, &DeepLiftOptions::default())
            .unwrap();
    for kind in engines() {
        let seed = rng.uniform(&target_shape(&plain, target), -1.0, 1.0);
        let run = |g: &ModelProto, xin: &ArrayD<f32>, what: &str| {
            open(kind, &format!("{name} ({what})"), g)
                .run(&[(&input, xin.view()), (REFERENCE, r.view()), ("grad_seed", seed.view())])
                .unwrap_or_else(|e| panic!("{name} ({what}) on {kind}: {e}"))
        };
        let (a, b) = (run(&shared, &one, "shared"), run(&plain, &repeated, "plain"));
        assert_eq!(a[0].shape()[0], 2, "{name}: the input's target has a row per input row");
        let fx = b[0].slice_axis(ndarray::Axis(0), ndarray::Slice::from(0..2));
        for (u, v) in
            [(&a[0].view(), &fx), (&a[1].view(), &b[1].view()), (&a[2].view(), &b[2].view())]
        {
            let gap = (u - v).mapv(f32::abs).fold(0f32, |m, &d| m.max(d));
            let scale = v.mapv(f32::abs).fold(0f32, |m, &d| m.max(d));
            assert!(gap <= 1e-5 * (1.0 + scale), "{name} on {kind}: shared vs plain {gap}");
        }
    }
}
