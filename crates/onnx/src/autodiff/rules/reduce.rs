//! Reductions: ReduceMax, ReduceMin (over one axis the first extreme gets
//! the gradient, over several ties share it), ReduceMean, ReduceSum.

use crate::error::Result;
use crate::graph::attr_int;
use crate::pb::NodeProto;

use super::{Ctx, GradRule, input, route_extreme};

/// The reduced axes and the output's shape with them kept as 1.
fn geometry(cx: &Ctx, n: &NodeProto) -> Result<(Vec<usize>, Vec<usize>)> {
    let xs = cx.shape(input(n, 0));
    let axes = cx.shapes().reduce_axes(n, xs.len())?;
    let kept = xs.iter().enumerate().map(|(i, &d)| if axes.contains(&i) { 1 } else { d }).collect();
    Ok((axes, kept))
}

fn keep(cx: &mut Ctx, n: &NodeProto, t: &str, kept: &[usize]) -> String {
    if attr_int(n, "keepdims").unwrap_or(1) == 1 { t.to_owned() } else { cx.reshape(t, kept) }
}

struct Extreme;
impl GradRule for Extreme {
    fn backward(
        &self,
        cx: &mut Ctx,
        n: &NodeProto,
        dy: &str,
        _: &[bool],
    ) -> Result<Vec<Option<String>>> {
        let (axes, kept) = geometry(cx, n)?;
        if axes.is_empty() {
            return Ok(vec![Some(dy.to_owned())]);
        }
        let y = keep(cx, n, &n.output[0], &kept);
        let g = keep(cx, n, dy, &kept);
        let (x, max) = (input(n, 0), n.op_type() == "ReduceMax");
        Ok(vec![Some(route_extreme(cx, x, cx.shape(x), &y, &g, &axes, max))])
    }
}
crate::register_grad_rule!("ReduceMax", Extreme);
crate::register_grad_rule!("ReduceMin", Extreme);

struct Spread {
    mean: bool,
}
impl GradRule for Spread {
    fn backward(
        &self,
        cx: &mut Ctx,
        n: &NodeProto,
        dy: &str,
        _: &[bool],
    ) -> Result<Vec<Option<String>>> {
        let (axes, kept) = geometry(cx, n)?;
        if axes.is_empty() {
            return Ok(vec![Some(dy.to_owned())]);
        }
        let xs = cx.shape(input(n, 0));
        let mut g = keep(cx, n, dy, &kept);
        if self.mean {
            let count: usize = axes.iter().map(|&a| xs[a]).product();
            let inv = cx.scalar(1.0 / count as f32);
            g = cx.op("Mul", &[&g, &inv], &[]);
        }
        Ok(vec![Some(cx.expand(&g, &xs))])
    }
}
crate::register_grad_rule!("ReduceMean", Spread { mean: true });
crate::register_grad_rule!("ReduceSum", Spread { mean: false });

/// Shape rules of this family (static shapes for the gradient graphs).
mod shape_rules {
    use crate::autodiff::shapes::Elem;
    use crate::autodiff::shapes::Info;
    use crate::autodiff::shapes::Shapes;
    use crate::autodiff::shapes::axis;
    use crate::error::Result;
    use crate::graph::attr_int;
    use crate::pb::NodeProto;

    /// Shapes of `ReduceMax`, `ReduceMin`, `ReduceMean`, `ReduceSum`, `ArgMax`, `ArgMin`.
    fn shape_reduce_max(sh: &mut Shapes, n: &NodeProto) -> Result<()> {
        let op = n.op_type();
        let x = sh.input(n, 0)?.clone();
        let rank = x.shape.len();
        let keep = attr_int(n, "keepdims").unwrap_or(1) == 1;
        let axes = if op.starts_with("Arg") {
            vec![axis(n, attr_int(n, "axis").unwrap_or(0), rank)?]
        } else {
            sh.reduce_axes(n, rank)?
        };
        let mut shape = Vec::new();
        for (i, &d) in x.shape.iter().enumerate() {
            if !axes.contains(&i) {
                shape.push(d);
            } else if keep {
                shape.push(1);
            }
        }
        let elem = if op.starts_with("Arg") { Elem::Int } else { x.elem };
        sh.out(n, 0, Info::of(shape, elem));
        Ok(())
    }

    crate::register_shape_rule!(
        ["ReduceMax", "ReduceMin", "ReduceMean", "ReduceSum", "ArgMax", "ArgMin"],
        shape_reduce_max
    );
}

/// Structure hook of this family: a max or mean over the sequence axis is
/// a global pool (Keras' `GlobalMaxPooling1D` exports as `ReduceMax`).
#[allow(clippy::unnecessary_wraps, reason = "every hook has the StructureHook signature")]
mod structure_hooks {
    use crate::error::Result;
    use crate::pb::NodeProto;
    use crate::structure::{AxisState, PostOp, Walk, norm_axis, register_structure_hook};

    fn reduce(w: &mut Walk<'_, '_>, node: &NodeProto, st: AxisState) -> Result<Option<AxisState>> {
        let axes = w.index.ints_attr_or_input(node, "axes", 1)?;
        let axes: Vec<usize> =
            axes.unwrap_or_default().iter().map(|&a| norm_axis(a, st.rank)).collect();
        if axes.contains(&st.len_axis) {
            let p = if node.op_type() == "ReduceMax" {
                PostOp::GlobalMaxPool
            } else {
                PostOp::GlobalAvgPool
            };
            w.post(&st, p, node);
        } else {
            w.note(node, "reduction that keeps the sequence axis");
        }
        Ok(None)
    }

    register_structure_hook!(&["ReduceMax", "ReduceMean"], reduce);
}

/// DeepLIFT's rules of this family: sums and means are linear, extremes
/// route by cross-max.
mod multipliers {
    use crate::autodiff::deeplift::Multiplier;
    crate::register_multiplier_rule!(["ReduceMean", "ReduceSum"], Multiplier::Linear);
    crate::register_multiplier_rule!(["ReduceMax"], Multiplier::CrossExtreme { max: true });
    crate::register_multiplier_rule!(["ReduceMin"], Multiplier::CrossExtreme { max: false });
}
