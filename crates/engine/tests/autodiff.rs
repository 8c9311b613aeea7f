//! Every gradient rule checked by central finite differences, on random
//! shapes, on each engine available (tract always, ort when its library
//! loads; required under `MOTIFTOOL_REQUIRE_ORT`).
//!
//! For a graph y = f(inputs) and a random seed R, the gradient graph gives
//! G = d(Σ R·y)/dw for every float input w. Along random directions V,
//! (F(w + εV) − F(w − εV)) / 2ε must equal Σ G·V. Inputs of piecewise
//! linear ops (ReLU, max, clip) are spaced so that no perturbation crosses
//! a kink.

use std::path::Path;

use motif_engine::{EngineChoice, EngineKind, GraphSession, SessionOptions, open_graph};
use motif_onnx::Dim;
use motif_onnx::autodiff::gradient_model;
use motif_onnx::build::{Attr, GraphBuilder};
use ndarray::{ArrayD, IxDyn};
use prost::Message;

/// motif-core's generator with the draws these tests use.
struct Rng(motif_core::rng::Rng);
impl Rng {
    fn new(seed: u64) -> Self {
        Self(motif_core::rng::Rng::new(seed))
    }
    fn unit(&mut self) -> f32 {
        self.0.f64() as f32
    }
    /// Uniform in [lo, hi].
    fn int(&mut self, lo: usize, hi: usize) -> usize {
        lo + self.0.below(hi - lo + 1)
    }
    fn uniform(&mut self, shape: &[usize], lo: f32, hi: f32) -> ArrayD<f32> {
        ArrayD::from_shape_fn(IxDyn(shape), |_| lo + (hi - lo) * self.unit())
    }
    fn shuffle<T>(&mut self, v: &mut [T]) {
        self.0.shuffle(v);
    }
}

/// Distinct values 0.05 apart, none within 0.025 of 0 (or of ±0.3,
/// the clip bounds used below), in random order, split into tensors.
fn spaced(rng: &mut Rng, shapes: &[&[usize]]) -> Vec<ArrayD<f32>> {
    let total: usize = shapes.iter().map(|s| s.iter().product::<usize>()).sum();
    let mut v: Vec<f32> =
        (0..total).map(|i| (i as f32 - (total / 2) as f32 + 0.5) * 0.05).collect();
    rng.shuffle(&mut v);
    let mut out = Vec::new();
    let mut at = 0;
    for s in shapes {
        let n: usize = s.iter().product();
        out.push(ArrayD::from_shape_vec(IxDyn(s), v[at..at + n].to_vec()).unwrap());
        at += n;
    }
    out
}

struct Case {
    name: String,
    model: Vec<u8>,
    inputs: Vec<(String, ArrayD<f32>)>,
    /// Inputs to differentiate by (default: all).
    wrt: Vec<String>,
    /// Engines that run it (default: all). tract wants BatchNormalization
    /// parameters constant.
    only: Option<EngineKind>,
}

impl Case {
    fn new(name: impl Into<String>, g: GraphBuilder, inputs: Vec<(&str, ArrayD<f32>)>) -> Self {
        let inputs: Vec<(String, ArrayD<f32>)> =
            inputs.into_iter().map(|(n, a)| (n.to_owned(), a)).collect();
        let wrt = inputs.iter().map(|(n, _)| n.clone()).collect();
        Self { name: name.into(), model: g.to_bytes(), inputs, wrt, only: None }
    }
}

/// A graph builder with float inputs of the given shapes and output `y`.
fn graph(inputs: &[(&str, &[usize])]) -> GraphBuilder {
    let mut g = GraphBuilder::new("case");
    for (n, s) in inputs {
        let d: Vec<Dim> = s.iter().map(|&v| Dim::Fixed(v)).collect();
        g.input(n, &d);
    }
    g.output_any("y");
    g
}

fn engines() -> Vec<EngineKind> {
    let mut v = vec![EngineKind::Tract];
    let opts =
        SessionOptions { engine: EngineChoice::Exactly(EngineKind::Ort), ..Default::default() };
    match open_graph(Path::new("probe.onnx"), &probe(), &opts) {
        Ok(_) => v.push(EngineKind::Ort),
        Err(e) => {
            assert!(std::env::var("MOTIFTOOL_REQUIRE_ORT").is_err(), "ort is required: {e}");
        }
    }
    v
}

fn probe() -> Vec<u8> {
    let mut g = graph(&[("x", &[1])]);
    g.node("Identity", &["x"], &["y"], &[]);
    g.to_bytes()
}

fn open(kind: EngineKind, name: &str, bytes: &[u8]) -> Box<dyn GraphSession> {
    let opts = SessionOptions { engine: EngineChoice::Exactly(kind), ..Default::default() };
    open_graph(Path::new(name), bytes, &opts).unwrap_or_else(|e| panic!("{name} on {kind}: {e}"))
}

fn run(s: &dyn GraphSession, inputs: &[(String, ArrayD<f32>)]) -> Vec<ArrayD<f32>> {
    let views: Vec<(&str, ndarray::ArrayViewD<f32>)> =
        inputs.iter().map(|(n, a)| (n.as_str(), a.view())).collect();
    s.run(&views).unwrap()
}

fn dot(a: &ArrayD<f32>, b: &ArrayD<f32>) -> f64 {
    assert_eq!(a.shape(), b.shape());
    a.iter().zip(b.iter()).map(|(&x, &y)| f64::from(x) * f64::from(y)).sum()
}

/// Checks `case` on every engine; returns the number of directional checks.
fn check(case: &Case, kinds: &[EngineKind], rng: &mut Rng, eps: f32) -> usize {
    let model = motif_onnx::pb::ModelProto::decode(case.model.as_slice()).unwrap();
    let shapes: Vec<(&str, &[usize])> =
        case.inputs.iter().map(|(n, a)| (n.as_str(), a.shape())).collect();
    let wrt: Vec<&str> = case.wrt.iter().map(String::as_str).collect();
    let gm = gradient_model(&model, &shapes, "y", &wrt)
        .unwrap_or_else(|e| panic!("{}: {e}", case.name))
        .encode_to_vec();
    let mut checks = 0;
    for &kind in kinds.iter().filter(|&&k| case.only.is_none_or(|o| o == k)) {
        let fwd = open(kind, &case.name, &case.model);
        let grad = open(kind, &format!("{} (gradient)", case.name), &gm);
        let y = run(fwd.as_ref(), &case.inputs).remove(0);
        let seed = rng.uniform(y.shape(), -1.0, 1.0);
        let mut ins = case.inputs.clone();
        ins.push(("grad_seed".into(), seed.clone()));
        let outs = run(grad.as_ref(), &ins);
        assert_eq!(outs.len(), 1 + wrt.len());
        for (a, b) in outs[0].iter().zip(y.iter()) {
            assert!((a - b).abs() <= 1e-5 * (1.0 + b.abs()), "{}: forward differs", case.name);
        }
        let f = |inputs: &[(String, ArrayD<f32>)]| dot(&run(fwd.as_ref(), inputs)[0], &seed);
        for (k, w) in wrt.iter().enumerate() {
            let g = &outs[1 + k];
            let at = case.inputs.iter().position(|(n, _)| n == w).unwrap();
            assert_eq!(g.shape(), case.inputs[at].1.shape(), "{}: grad.{w} shape", case.name);
            for _ in 0..3 {
                let v = rng.uniform(g.shape(), -1.0, 1.0);
                let mut plus = case.inputs.clone();
                plus[at].1 = &plus[at].1 + &(&v * eps);
                let mut minus = case.inputs.clone();
                minus[at].1 = &minus[at].1 - &(&v * eps);
                let fd = (f(&plus) - f(&minus)) / (2.0 * f64::from(eps));
                let an = dot(g, &v);
                let tol = 2e-3 + 3e-3 * an.abs().max(fd.abs());
                assert!(
                    (fd - an).abs() <= tol,
                    "{} on {kind}: d/d{w}: finite difference {fd:.6}, gradient graph {an:.6}",
                    case.name
                );
                checks += 1;
            }
        }
    }
    checks
}

fn shape(rng: &mut Rng, rank: usize, lo: usize, hi: usize) -> Vec<usize> {
    (0..rank).map(|_| rng.int(lo, hi)).collect()
}

/// A shape `s` broadcasts to: some dims set to 1, some leading dims dropped.
fn broadcastable(rng: &mut Rng, s: &[usize]) -> Vec<usize> {
    let drop = rng.int(0, s.len() - 1);
    s[drop..].iter().map(|&d| if rng.int(0, 2) == 0 { 1 } else { d }).collect()
}

const SEEDS: u64 = 3;

/// Whether `an` is the derivative at 0 of `line` (the model's output
/// along a direction) for models whose kinks (ReLU, max) are not kept
/// away from the input: central or one-sided differences at one of
/// several steps (`motif_core::fdcheck`).
fn agrees(an: f64, line: impl FnMut(f64) -> f64) -> Result<(), motif_core::fdcheck::Differences> {
    motif_core::fdcheck::directional(an, line, 2e-3, 1e-2)
}

/// `../shared/data/…`, unless `MOTIFTOOL_NO_SHARED` hides it (CI runs the
/// suite once more that way, as on a fresh clone).
fn shared_data(rel: &str) -> Option<std::path::PathBuf> {
    if std::env::var_os("MOTIFTOOL_NO_SHARED").is_some() {
        return None;
    }
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data").join(rel);
    p.exists().then_some(p)
}

/// A seed from a file's name, so each model's draws do not depend on
/// which other (optional) models are present.
fn name_seed(p: &Path) -> u64 {
    let name = p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    name.bytes()
        .fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3))
}

fn run_cases(make: impl Fn(&mut Rng) -> Vec<(Case, f32)>) {
    let kinds = engines();
    let mut total = 0;
    for seed in 0..SEEDS {
        let mut rng = Rng::new(seed * 7919 + 17);
        for (case, eps) in make(&mut rng) {
            total += check(&case, &kinds, &mut rng, eps);
        }
    }
    assert!(total > 0);
}

#[test]
fn unary_ops() {
    run_cases(|rng| {
        let rank = rng.int(1, 4);
        let s = shape(rng, rank, 1, 5);
        let mut cases = Vec::new();
        for (op, attrs) in [
            ("Relu", vec![]),
            ("LeakyRelu", vec![("alpha", Attr::Float(0.3))]),
            ("Abs", vec![]),
            ("Neg", vec![]),
            ("Identity", vec![]),
            ("Dropout", vec![]),
        ] {
            let mut g = graph(&[("x", &s)]);
            g.node(op, &["x"], &["y"], &attrs);
            let x = spaced(rng, &[&s]).remove(0);
            cases.push((Case::new(format!("{op} {s:?}"), g, vec![("x", x)]), 1e-2));
        }
        for (op, lo, hi) in [
            ("Sigmoid", -3.0, 3.0),
            ("Tanh", -2.0, 2.0),
            ("Exp", -1.0, 1.0),
            ("Log", 0.5, 2.0),
            ("Sqrt", 0.5, 2.0),
        ] {
            let mut g = graph(&[("x", &s)]);
            g.node(op, &["x"], &["y"], &[]);
            cases.push((
                Case::new(format!("{op} {s:?}"), g, vec![("x", rng.uniform(&s, lo, hi))]),
                1e-2,
            ));
        }
        // Softmax and LogSoftmax over the last axis and over the first.
        for op in ["Softmax", "LogSoftmax"] {
            for axis in [-1i64, 0] {
                let mut g = graph(&[("x", &s)]);
                g.node(op, &["x"], &["y"], &[("axis", Attr::Int(axis))]);
                let x = rng.uniform(&s, -2.0, 2.0);
                cases.push((Case::new(format!("{op} axis {axis} {s:?}"), g, vec![("x", x)]), 1e-2));
            }
        }
        // Clip with both bounds, and with only a lower bound.
        for bounds in [vec!["lo", "hi"], vec!["lo"]] {
            let mut g = graph(&[("x", &s)]);
            g.initializer("lo", &[], &[-0.3]);
            g.initializer("hi", &[], &[0.3]);
            let mut ins = vec!["x"];
            ins.extend(&bounds);
            g.node("Clip", &ins, &["y"], &[]);
            let x = spaced(rng, &[&s]).remove(0);
            cases.push((Case::new(format!("Clip{bounds:?} {s:?}"), g, vec![("x", x)]), 1e-2));
        }
        cases
    });
}

#[test]
fn broadcasting_arithmetic() {
    run_cases(|rng| {
        let rank = rng.int(1, 3);
        let s = shape(rng, rank, 1, 4);
        let b = broadcastable(rng, &s);
        let mut cases = Vec::new();
        for op in ["Add", "Sub", "Mul", "Div", "Max", "Min"] {
            // Operands either way round, so each side is broadcast once.
            for (sa, sb) in [(&s, &b), (&b, &s)] {
                let mut g = graph(&[("a", sa), ("b", sb)]);
                g.node(op, &["a", "b"], &["y"], &[]);
                let mut v = spaced(rng, &[sa, sb]);
                if op == "Div" {
                    v[1] = rng.uniform(sb, 0.5, 1.5);
                }
                let vb = v.pop().unwrap();
                let va = v.pop().unwrap();
                cases.push((
                    Case::new(format!("{op} {sa:?} {sb:?}"), g, vec![("a", va), ("b", vb)]),
                    1e-2,
                ));
            }
        }
        for op in ["Sum", "Mean", "Max"] {
            let c = broadcastable(rng, &s);
            let mut g = graph(&[("a", &s), ("b", &b), ("c", &c)]);
            g.node(op, &["a", "b", "c"], &["y"], &[]);
            let mut v = spaced(rng, &[&s, &b, &c]);
            let (vc, vb, va) = (v.pop().unwrap(), v.pop().unwrap(), v.pop().unwrap());
            cases.push((
                Case::new(
                    format!("{op}3 {s:?} {b:?} {c:?}"),
                    g,
                    vec![("a", va), ("b", vb), ("c", vc)],
                ),
                1e-2,
            ));
        }
        cases
    });
}

#[test]
fn gemm_and_matmul() {
    run_cases(|rng| {
        let (m, k, n) = (rng.int(1, 4), rng.int(1, 5), rng.int(1, 4));
        let mut cases = Vec::new();
        for ta in [0, 1] {
            for tb in [0, 1] {
                let sa = if ta == 1 { vec![k, m] } else { vec![m, k] };
                let sb = if tb == 1 { vec![n, k] } else { vec![k, n] };
                let sc = [vec![n], vec![m, n], vec![1, n], vec![m, 1]][rng.int(0, 3)].clone();
                let mut g = graph(&[("a", &sa), ("b", &sb), ("c", &sc)]);
                g.node(
                    "Gemm",
                    &["a", "b", "c"],
                    &["y"],
                    &[
                        ("transA", Attr::Int(ta)),
                        ("transB", Attr::Int(tb)),
                        ("alpha", Attr::Float(0.7)),
                        ("beta", Attr::Float(1.3)),
                    ],
                );
                let ins = vec![
                    ("a", rng.uniform(&sa, -1.0, 1.0)),
                    ("b", rng.uniform(&sb, -1.0, 1.0)),
                    ("c", rng.uniform(&sc, -1.0, 1.0)),
                ];
                cases.push((Case::new(format!("Gemm tA{ta} tB{tb} C{sc:?}"), g, ins), 1e-2));
            }
        }
        let bt = rng.int(2, 3);
        for (sa, sb) in [
            (vec![m, k], vec![k, n]),
            (vec![bt, m, k], vec![k, n]),
            (vec![1, m, k], vec![bt, k, n]),
            (vec![bt, m, k], vec![bt, k, n]),
        ] {
            let mut g = graph(&[("a", &sa), ("b", &sb)]);
            g.node("MatMul", &["a", "b"], &["y"], &[]);
            let ins = vec![("a", rng.uniform(&sa, -1.0, 1.0)), ("b", rng.uniform(&sb, -1.0, 1.0))];
            cases.push((Case::new(format!("MatMul {sa:?} {sb:?}"), g, ins), 1e-2));
        }
        cases
    });
}

#[test]
fn convolutions() {
    run_cases(|rng| {
        let mut cases = Vec::new();
        for variant in 0..4 {
            let (n, c, o) = (rng.int(1, 3), rng.int(1, 4), rng.int(1, 4));
            let kw = rng.int(1, 4);
            let (stride, dil) = (rng.int(1, 3), rng.int(1, 2));
            let (pb, pe) = (rng.int(0, 2), rng.int(0, 2));
            let len = (kw - 1) * dil + 1 + rng.int(0, 9);
            let two_d = variant == 3;
            let (xs, ws) = if two_d {
                (vec![n, c, 1, len], vec![o, c, 1, kw])
            } else {
                (vec![n, c, len], vec![o, c, kw])
            };
            let mut attrs = vec![];
            if two_d {
                attrs.push(("strides", Attr::Ints(vec![1, stride as i64])));
                attrs.push(("dilations", Attr::Ints(vec![1, dil as i64])));
                attrs.push(("pads", Attr::Ints(vec![0, pb as i64, 0, pe as i64])));
            } else if variant == 2 {
                attrs.push(("auto_pad", Attr::Str("SAME_UPPER".into())));
                attrs.push(("strides", Attr::Ints(vec![stride as i64])));
            } else {
                attrs.push(("strides", Attr::Ints(vec![stride as i64])));
                attrs.push(("dilations", Attr::Ints(vec![dil as i64])));
                attrs.push(("pads", Attr::Ints(vec![pb as i64, pe as i64])));
            }
            let bias = variant != 1;
            let mut g = if bias {
                graph(&[("x", &xs), ("w", &ws), ("b", &[o])])
            } else {
                graph(&[("x", &xs), ("w", &ws)])
            };
            let ins: &[&str] = if bias { &["x", "w", "b"] } else { &["x", "w"] };
            g.node("Conv", ins, &["y"], &attrs);
            let mut inputs =
                vec![("x", rng.uniform(&xs, -1.0, 1.0)), ("w", rng.uniform(&ws, -1.0, 1.0))];
            if bias {
                inputs.push(("b", rng.uniform(&[o], -1.0, 1.0)));
            }
            let name = format!("Conv x{xs:?} w{ws:?} stride {stride} dil {dil} pads {pb}+{pe}");
            cases.push((Case::new(name, g, inputs), 1e-2));
        }
        cases
    });
}

#[test]
fn pooling() {
    run_cases(|rng| {
        let mut cases = Vec::new();
        for op in ["MaxPool", "AveragePool"] {
            for variant in 0..4 {
                let (n, c) = (rng.int(1, 2), rng.int(1, 3));
                let k = rng.int(2, 4);
                let (stride, dil) = match variant {
                    0 => (k, 1), // tiled windows
                    _ => (rng.int(1, 3), if op == "MaxPool" { rng.int(1, 2) } else { 1 }),
                };
                let pad = if variant >= 2 { rng.int(0, k - 1).min(k / 2) } else { 0 };
                let ceil = variant == 3;
                let len = (k - 1) * dil + 1 + rng.int(0, 8);
                let two_d = variant == 1;
                let xs = if two_d { vec![n, c, 1, len] } else { vec![n, c, len] };
                let mut attrs = if two_d {
                    vec![
                        ("kernel_shape", Attr::Ints(vec![1, k as i64])),
                        ("strides", Attr::Ints(vec![1, stride as i64])),
                    ]
                } else {
                    vec![
                        ("kernel_shape", Attr::Ints(vec![k as i64])),
                        ("strides", Attr::Ints(vec![stride as i64])),
                        ("pads", Attr::Ints(vec![pad as i64, pad as i64])),
                    ]
                };
                if dil > 1 {
                    let d = if two_d { vec![1, dil as i64] } else { vec![dil as i64] };
                    attrs.push(("dilations", Attr::Ints(d)));
                }
                if ceil {
                    attrs.push(("ceil_mode", Attr::Int(1)));
                }
                if op == "AveragePool" && variant == 2 {
                    attrs.push(("count_include_pad", Attr::Int(1)));
                }
                let mut g = graph(&[("x", &xs)]);
                g.node(op, &["x"], &["y"], &attrs);
                let x = spaced(rng, &[&xs]).remove(0);
                let name = format!("{op} x{xs:?} k{k} s{stride} d{dil} pad{pad} ceil{ceil}");
                cases.push((Case::new(name, g, vec![("x", x)]), 1e-2));
            }
        }
        for op in ["GlobalMaxPool", "GlobalAveragePool"] {
            let xs = vec![rng.int(1, 3), rng.int(1, 3), rng.int(1, 7)];
            let mut g = graph(&[("x", &xs)]);
            g.node(op, &["x"], &["y"], &[]);
            let x = spaced(rng, &[&xs]).remove(0);
            cases.push((Case::new(format!("{op} {xs:?}"), g, vec![("x", x)]), 1e-2));
        }
        cases
    });
}

#[test]
fn reductions_and_batchnorm() {
    run_cases(|rng| {
        let mut cases = Vec::new();
        let xs = shape(rng, 3, 1, 5);
        for op in ["ReduceMax", "ReduceMin", "ReduceMean", "ReduceSum"] {
            let keep = rng.int(0, 1) as i64;
            let axes: Vec<i64> = match rng.int(0, 2) {
                0 => vec![2],
                1 => vec![0, -1],
                _ => vec![1],
            };
            let mut g = graph(&[("x", &xs)]);
            if op == "ReduceSum" {
                g.initializer_i64("axes", &[axes.len()], &axes);
                g.node(op, &["x", "axes"], &["y"], &[("keepdims", Attr::Int(keep))]);
            } else {
                g.node(
                    op,
                    &["x"],
                    &["y"],
                    &[("axes", Attr::Ints(axes.clone())), ("keepdims", Attr::Int(keep))],
                );
            }
            let x = spaced(rng, &[&xs]).remove(0);
            cases.push((
                Case::new(format!("{op} {xs:?} axes {axes:?} keep {keep}"), g, vec![("x", x)]),
                1e-2,
            ));
        }
        let c = xs[1];
        let scale = rng.uniform(&[c], 0.5, 1.5);
        let bias = rng.uniform(&[c], -1.0, 1.0);
        let stats = |g: &mut GraphBuilder| {
            g.initializer("mean", &[c], &(0..c).map(|i| i as f32 * 0.1 - 0.2).collect::<Vec<_>>());
            g.initializer("var", &[c], &(0..c).map(|i| 0.5 + i as f32 * 0.3).collect::<Vec<_>>());
            g.node(
                "BatchNormalization",
                &["x", "scale", "bias", "mean", "var"],
                &["y"],
                &[("epsilon", Attr::Float(1e-3))],
            );
        };
        // Parameters as weights (every engine), then as inputs (ort).
        let mut g = graph(&[("x", &xs)]);
        g.initializer("scale", &[c], scale.as_slice().unwrap());
        g.initializer("bias", &[c], bias.as_slice().unwrap());
        stats(&mut g);
        cases.push((
            Case::new(
                format!("BatchNormalization {xs:?}"),
                g,
                vec![("x", rng.uniform(&xs, -1.0, 1.0))],
            ),
            1e-2,
        ));
        let mut g = graph(&[("x", &xs), ("scale", &[c]), ("bias", &[c])]);
        stats(&mut g);
        let ins = vec![("x", rng.uniform(&xs, -1.0, 1.0)), ("scale", scale), ("bias", bias)];
        let mut case = Case::new(format!("BatchNormalization {xs:?} by scale and bias"), g, ins);
        case.only = Some(EngineKind::Ort);
        cases.push((case, 1e-2));
        cases
    });
}

#[test]
fn layout_ops() {
    run_cases(|rng| {
        let mut cases = Vec::new();
        let xs = shape(rng, 3, 2, 4);
        let mut add = |name: String, g: GraphBuilder, ins: Vec<(&str, ArrayD<f32>)>| {
            cases.push((Case::new(name, g, ins), 1e-2));
        };
        let x = |rng: &mut Rng, s: &[usize]| rng.uniform(s, -1.0, 1.0);
        let axis = rng.int(0, 3) as i64;
        let mut g = graph(&[("x", &xs)]);
        g.node("Flatten", &["x"], &["y"], &[("axis", Attr::Int(axis))]);
        add(format!("Flatten {xs:?} axis {axis}"), g, vec![("x", x(rng, &xs))]);

        let mut g = graph(&[("x", &xs)]);
        g.initializer_i64("shape", &[2], &[-1, xs[2] as i64]);
        g.node("Reshape", &["x", "shape"], &["y"], &[]);
        add(format!("Reshape {xs:?}"), g, vec![("x", x(rng, &xs))]);

        let mut perm = vec![0i64, 1, 2];
        rng.shuffle(&mut perm);
        let mut g = graph(&[("x", &xs)]);
        g.node("Transpose", &["x"], &["y"], &[("perm", Attr::Ints(perm.clone()))]);
        add(format!("Transpose {xs:?} {perm:?}"), g, vec![("x", x(rng, &xs))]);

        let us = vec![xs[0], 1, xs[1], xs[2]];
        let mut g = graph(&[("x", &us)]);
        g.initializer_i64("axes", &[1], &[1]);
        g.initializer_i64("axes2", &[1], &[-1]);
        g.node("Squeeze", &["x", "axes"], &["s"], &[]);
        g.node("Unsqueeze", &["s", "axes2"], &["y"], &[]);
        add(format!("Squeeze+Unsqueeze {us:?}"), g, vec![("x", x(rng, &us))]);

        let cat_axis = rng.int(0, 2);
        let mut other = xs.clone();
        other[cat_axis] = rng.int(1, 3);
        let mut g = graph(&[("a", &xs), ("b", &other)]);
        g.node("Concat", &["a", "b", "a"], &["y"], &[("axis", Attr::Int(cat_axis as i64 - 3))]);
        add(
            format!("Concat axis {cat_axis} {xs:?} {other:?}"),
            g,
            vec![("a", x(rng, &xs)), ("b", x(rng, &other))],
        );

        let pads: Vec<i64> = (0..6).map(|_| rng.int(0, 2) as i64).collect();
        let mut g = graph(&[("x", &xs)]);
        g.initializer_i64("pads", &[6], &pads);
        g.initializer("value", &[], &[0.25]);
        g.node("Pad", &["x", "pads", "value"], &["y"], &[]);
        add(format!("Pad {xs:?} {pads:?}"), g, vec![("x", x(rng, &xs))]);

        // Slice: a forward window on one axis, a reversal (step −1) on another.
        let a1 = rng.int(0, 2);
        let a2 = (a1 + 1) % 3;
        let s1 = rng.int(0, xs[a1] - 1) as i64;
        let e1 = rng.int(s1 as usize + 1, xs[a1]) as i64;
        let e2 = rng.int(0, xs[a2] - 1) as i64 - 1;
        let mut g = graph(&[("x", &xs)]);
        g.initializer_i64("starts", &[2], &[s1, -1]);
        g.initializer_i64("ends", &[2], &[e1, if e2 < 0 { i64::MIN } else { e2 }]);
        g.initializer_i64("axes", &[2], &[a1 as i64, a2 as i64]);
        g.initializer_i64("steps", &[2], &[1, -1]);
        g.node("Slice", &["x", "starts", "ends", "axes", "steps"], &["y"], &[]);
        add(
            format!("Slice {xs:?} axis {a1} {s1}..{e1}, axis {a2} reversed to {e2}"),
            g,
            vec![("x", x(rng, &xs))],
        );
        cases
    });
}

/// Chains of ops and parameters held as initializers: the DeepBind-style
/// net the trainer builds, differentiated by input and weights.
#[test]
fn deepbind_network_by_weights_and_input() {
    use motif_onnx::build::{Activation, DeepBindSpec, Padding, deepbind};
    let kinds = engines();
    let mut rng = Rng::new(99);
    for (act, pad) in [(Activation::Relu, Padding::Valid), (Activation::Deepprune, Padding::Same)] {
        let (k, w, len, n) = (5, 6, 30, 3);
        let spec = DeepBindSpec {
            kernels: ndarray::Array3::from_shape_fn((k, 4, w), |_| rng.unit() * 2.0 - 1.0),
            conv_bias: (0..k).map(|_| rng.unit() - 0.5).collect(),
            dense: ndarray::Array2::from_shape_fn((2, k), |_| rng.unit() * 2.0 - 1.0),
            dense_bias: vec![0.1, -0.1],
            activation: act,
            padding: pad,
            length: Some(len),
            sigmoid: true,
        };
        let model = deepbind(&spec);
        let x = rng.uniform(&[n, 4, len], 0.0, 1.0);
        let wrt = ["x", "conv.weight", "conv.bias", "dense.weight", "dense.bias"];
        let gm = gradient_model(&model, &[("x", &[n, 4, len])], "y", &wrt).unwrap().encode_to_vec();
        for &kind in &kinds {
            let grad = open(kind, "deepbind (gradient)", &gm);
            let seed = rng.uniform(&[n, 2], -1.0, 1.0);
            let outs =
                run(grad.as_ref(), &[("x".into(), x.clone()), ("grad_seed".into(), seed.clone())]);
            // Finite differences on each weight through rebuilt models.
            let f = |spec: &DeepBindSpec, x: &ArrayD<f32>| {
                let s = open(kind, "deepbind", &deepbind(spec).encode_to_vec());
                dot(&run(s.as_ref(), &[("x".into(), x.clone())])[0], &seed)
            };
            // d/dx along a random direction.
            let v = rng.uniform(x.shape(), -1.0, 1.0);
            let an = dot(&outs[1], &v);
            let line = |t: f64| f(&spec, &(&x + &(&v * t as f32)));
            if let Err(d) = agrees(an, line) {
                panic!("{kind} {act:?}: dx {an} vs {d}");
            }
            // d/d kernels along a random direction.
            let v = ndarray::Array3::from_shape_fn((k, 4, w), |_| rng.unit() * 2.0 - 1.0);
            let an = dot(&outs[2], &v.clone().into_dyn());
            let line = |t: f64| {
                let mut p = spec.clone();
                p.kernels = &spec.kernels + &(&v * t as f32);
                f(&p, &x)
            };
            if let Err(d) = agrees(an, line) {
                panic!("{kind} {act:?}: dW {an} vs {d}");
            }
            assert_eq!(outs[4].shape(), &[2, k]);
            assert_eq!(outs[5].shape(), &[2]);
        }
    }
}

#[test]
fn unsupported_op_names_the_node() {
    let mut g = graph(&[("x", &[2, 3])]);
    g.node("Relu", &["x"], &["r"], &[]);
    g.node("Erf", &["r"], &["y"], &[]);
    let model = g.finish();
    let e = gradient_model(&model, &[("x", &[2, 3])], "y", &["x"]).unwrap_err().to_string();
    assert!(e.contains("Erf_y") && e.contains("no gradient rule"), "{e}");
    // An op off the path from x to y needs no rule.
    let mut g = graph(&[("x", &[2, 3]), ("z", &[2, 3])]);
    g.node("Erf", &["z"], &["s"], &[]);
    g.node("Mul", &["x", "s"], &["y"], &[]);
    assert!(gradient_model(&g.finish(), &[], "y", &["x"]).is_ok());
}

/// Input gradients of imported models (PyTorch legacy and dynamo, Keras
/// via tf2onnx, BatchNorm + pooling, and the real DeepBind models when
/// `../shared` is present) against finite differences.
#[test]
fn imported_models_input_gradients() {
    let kinds = engines();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut paths: Vec<_> = std::fs::read_dir(root.join("data/models"))
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "onnx"))
        // Its log-odds kernels stay below zero on random DNA (a zero
        // gradient); its architecture is covered by the DeepBind test above.
        .filter(|p| !p.ends_with("planted_jaspar.onnx"))
        .collect();
    match shared_data("deepbind-models").and_then(|d| std::fs::read_dir(d).ok()) {
        Some(rd) => paths.extend(
            rd.filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|e| e == "onnx")),
        ),
        None => eprintln!("../shared not used: real DeepBind models skipped"),
    }
    paths.sort();
    let mut checked = 0;
    for path in &paths {
        // Draws depend on this model alone, and are the same on every engine.
        let mut rng = Rng::new(name_seed(path));
        let m = motif_onnx::Model::load(path).unwrap();
        let s = m.structure();
        let len = s.input.length.unwrap_or(40);
        let n = 2;
        let xs = match s.input.layout {
            motif_onnx::Layout::Ncw => vec![n, 4, len],
            motif_onnx::Layout::Nwc => vec![n, len, 4],
        };
        let out = s.outputs[0].name.clone();
        let gm = gradient_model(m.proto(), &[(&s.input.name, &xs)], &out, &[&s.input.name])
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
            .encode_to_vec();
        let fwd_bytes = m.to_bytes_with_outputs(&[]).unwrap();
        // One-hot DNA with a little noise, in the model's layout. The noise
        // keeps repeated windows from tying for a max: at a tie the max has
        // no derivative (central differences give the mean of the tied
        // slopes, the rule's gradient goes to the first).
        let jitter = rng.uniform(&xs, -0.02, 0.02);
        let x = ArrayD::from_shape_fn(IxDyn(&xs), |i| {
            let (pos, ch) = match s.input.layout {
                motif_onnx::Layout::Ncw => (i[0] * 1000 + i[2], i[1]),
                motif_onnx::Layout::Nwc => (i[0] * 1000 + i[1], i[2]),
            };
            let base = (pos.wrapping_mul(2_654_435_761) >> 7) % 4;
            let v = if ch == base { 0.9 } else { 0.03 };
            v + jitter[&i]
        });
        let dirs = [rng.uniform(&xs, -1.0, 1.0), rng.uniform(&xs, -1.0, 1.0)];
        let mut seed = None;
        for &kind in &kinds {
            let grad = open(kind, &format!("{} (gradient)", path.display()), &gm);
            let fwd = open(kind, &path.display().to_string(), &fwd_bytes);
            let y = run(fwd.as_ref(), &[(s.input.name.clone(), x.clone())]).remove(0);
            let seed = seed.get_or_insert_with(|| rng.uniform(y.shape(), -1.0, 1.0)).clone();
            let outs = run(
                grad.as_ref(),
                &[(s.input.name.clone(), x.clone()), ("grad_seed".into(), seed.clone())],
            );
            assert!(
                outs[1].iter().any(|v| v.abs() > 1e-6),
                "{} on {kind}: the input gradient is zero everywhere",
                path.display()
            );
            let f = |x: &ArrayD<f32>| {
                dot(&run(fwd.as_ref(), &[(s.input.name.clone(), x.clone())])[0], &seed)
            };
            for v in &dirs {
                let an = dot(&outs[1], v);
                if let Err(d) = agrees(an, |t| f(&(&x + &(v * t as f32)))) {
                    panic!("{} on {kind}: d/dx = {an}, finite differences {d}", path.display());
                }
                checked += 1;
            }
        }
    }
    assert!(checked >= 2 * paths.len());
}
