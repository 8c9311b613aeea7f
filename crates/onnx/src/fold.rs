//! Normalised import: integer tensors that do not depend on the input's
//! values (`Shape → Gather → … → Concat` pads, `Reshape` targets, `Slice`
//! bounds, `Range`, `ConstantOfShape` …) become plain constants, so that
//! structure recognition, windowing and autodiff see initializers rather
//! than the exporter's arithmetic.
//!
//! Such a tensor may depend on the input's *shape*. A value is folded only
//! when it is the same for one and for two sequences (batch size never
//! changes it); one that depends on the length is evaluated at the length
//! given, so the folded graph describes the model at that length (the
//! engines keep running the original graph, for every length).

use std::collections::HashSet;

use crate::autodiff::{Elem, Shapes};
use crate::pb::{GraphProto, ModelProto};

/// What [`fold_shape_arithmetic`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Folded {
    /// Tensors replaced by constants.
    pub tensors: Vec<String>,
    /// Nodes removed (their outputs were folded or nothing used them).
    pub nodes_removed: usize,
}

/// Folds the integer shape arithmetic of `model` for input `input` of shape
/// `shape` (batch axis first). Returns the folded model and what changed;
/// a graph whose shapes cannot be inferred is returned unchanged.
#[must_use]
pub fn fold_shape_arithmetic(
    model: &ModelProto,
    input: &str,
    shape: &[usize],
) -> (ModelProto, Folded) {
    let Some(graph) = model.graph.as_ref() else {
        return (model.clone(), Folded::default());
    };
    let mut two = shape.to_vec();
    if let Some(b) = two.first_mut() {
        *b = if *b == 2 { 3 } else { 2 };
    }
    let (Ok(a), Ok(b)) =
        (Shapes::infer(graph, &[(input, shape)]), Shapes::infer(graph, &[(input, &two)]))
    else {
        return (model.clone(), Folded::default());
    };
    let mut out = model.clone();
    let folded = fold_graph(out.graph.as_mut().expect("has a graph"), &a, &b);
    (out, folded)
}

fn fold_graph(g: &mut GraphProto, a: &Shapes, b: &Shapes) -> Folded {
    let inits: HashSet<String> = g.initializer.iter().map(|t| t.name().to_owned()).collect();
    let constant = |name: &str| -> Option<(Vec<usize>, Vec<i64>)> {
        let (x, y) = (a.get(name)?, b.get(name)?);
        if x.elem != Elem::Int || x.shape != y.shape {
            return None;
        }
        let (vx, vy) = (x.ints.as_ref()?, y.ints.as_ref()?);
        (vx == vy).then(|| (x.shape.clone(), vx.clone()))
    };
    let mut f = Folded::default();
    let mut keep = Vec::with_capacity(g.node.len());
    for n in std::mem::take(&mut g.node) {
        let all_const = !n.output.is_empty()
            && n.output.iter().all(|o| o.is_empty() || constant(o).is_some())
            && n.op_type() != "Constant";
        // Only nodes that read no initializer-free float tensor: a float
        // path is the network itself.
        if all_const {
            for o in n.output.iter().filter(|o| !o.is_empty() && !inits.contains(*o)) {
                let (shape, vals) = constant(o).expect("checked");
                g.initializer.push(crate::tensor::from_i64(o, &shape, &vals));
                f.tensors.push(o.clone());
            }
            f.nodes_removed += 1;
        } else {
            keep.push(n);
        }
    }
    g.node = keep;
    // Drop nodes nothing reads any more (Shape, Constant … feeding folded
    // tensors), repeatedly.
    loop {
        let mut used: HashSet<&str> =
            g.output.iter().map(super::pb::ValueInfoProto::name).collect();
        for n in &g.node {
            used.extend(n.input.iter().map(String::as_str));
        }
        let before = g.node.len();
        let used: HashSet<String> = used.into_iter().map(str::to_owned).collect();
        g.node.retain(|n| n.output.iter().any(|o| used.contains(o)));
        let removed = before - g.node.len();
        if removed == 0 {
            break;
        }
        f.nodes_removed += removed;
    }
    f
}

#[cfg(test)]
mod tests {
    use super::*;
    use prost::Message;

    fn fixture(name: &str) -> ModelProto {
        let p =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/models").join(name);
        ModelProto::decode(std::fs::read(p).unwrap().as_slice()).unwrap()
    }

    #[test]
    fn run_time_pads_become_constants() {
        let m = fixture("families/torch_pad_pool_multitask.onnx");
        let g = m.graph.as_ref().unwrap();
        let r = Shapes::infer(g, &[("x", &[1, 4, 200])]);
        assert!(r.is_ok(), "{:?}", r.err());
        let (f, what) = fold_shape_arithmetic(&m, "x", &[1, 4, 200]);
        let g = f.graph.as_ref().unwrap();
        let pad = g.node.iter().find(|n| n.op_type() == "Pad").unwrap();
        let pads = g.initializer.iter().find(|t| t.name() == pad.input[1]).expect("pads folded");
        // TF-"same" pads of a 50-wide, stride-2 pool on 182 positions.
        assert_eq!(crate::tensor::to_i64(pads).unwrap(), [0, 0, 24, 0, 0, 24], "{what:?}");
        assert!(!g.node.iter().any(|n| n.op_type() == "Shape"));
    }

    /// A crop by `Gather(x, Range(start, L - start, 1))` on the length axis,
    /// its bounds computed from the input's shape: the indices fold.
    #[test]
    fn range_of_shape_values_folds() {
        use crate::build::GraphBuilder;
        use crate::structure::Dim;
        let mut b = GraphBuilder::new("crop");
        b.input("x", &[Dim::Symbol("N".into()), Dim::Fixed(4), Dim::Symbol("L".into())]);
        b.initializer_i64("two", &[1], &[2]);
        b.initializer_i64("start", &[], &[3]);
        b.initializer_i64("step", &[], &[1]);
        b.node("Shape", &["x"], &["shape"], &[]);
        b.node("Gather", &["shape", "two"], &["len1"], &[]);
        b.node("Squeeze", &["len1"], &["len"], &[]);
        b.node("Sub", &["len", "start"], &["limit"], &[]);
        b.node("Range", &["start", "limit", "step"], &["idx"], &[]);
        b.node("Gather", &["x", "idx"], &["y"], &[("axis", crate::build::Attr::Int(2))]);
        b.output_any("y");
        let m = b.finish();
        let (f, what) = fold_shape_arithmetic(&m, "x", &[1, 4, 10]);
        let g = f.graph.as_ref().unwrap();
        let idx = g.initializer.iter().find(|t| t.name() == "idx").expect("Range folded");
        assert_eq!(crate::tensor::to_i64(idx).unwrap(), [3, 4, 5, 6], "{what:?}");
        assert!(!g.node.iter().any(|n| n.op_type() == "Range" || n.op_type() == "Shape"));
        let shapes = Shapes::infer(g, &[("x", &[1, 4, 10])]).unwrap();
        assert_eq!(shapes.get("y").unwrap().shape, [1, 4, 4]);
        // Counting down, and an empty range.
        for (start, limit, step, want) in
            [(5i64, 1i64, -2i64, vec![5i64, 3]), (1, 1, 1, vec![]), (4, 1, 1, vec![])]
        {
            let mut b = GraphBuilder::new("r");
            b.input("x", &[Dim::Fixed(1)]);
            b.initializer_i64("a", &[], &[start]);
            b.initializer_i64("l", &[], &[limit]);
            b.initializer_i64("d", &[], &[step]);
            b.node("Range", &["a", "l", "d"], &["r"], &[]);
            b.output_any("r");
            let m = b.finish();
            let s = Shapes::infer(m.graph.as_ref().unwrap(), &[("x", &[1])]).unwrap();
            assert_eq!(s.get("r").unwrap().ints.as_deref(), Some(want.as_slice()));
        }
    }
}
