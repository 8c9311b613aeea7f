//! Broadcasting arithmetic: Add, Sub, Mul, Div, Sum, Mean, Max, Min.
//! Each operand's gradient is summed back down to its own shape.

use crate::error::Result;
use crate::pb::NodeProto;

use super::{Ctx, GradRule, input};

fn down(cx: &mut Ctx, n: &NodeProto, g: &str, k: usize) -> String {
    let from = cx.shape(&n.output[0]);
    let to = cx.shape(input(n, k));
    cx.sum_to(g, &from, &to)
}

/// a + b.
struct Add;
impl GradRule for Add {
    fn backward(
        &self,
        cx: &mut Ctx,
        n: &NodeProto,
        dy: &str,
        needs: &[bool],
    ) -> Result<Vec<Option<String>>> {
        Ok((0..2).map(|k| needs[k].then(|| down(cx, n, dy, k))).collect())
    }
}
crate::register_grad_rule!("Add", Add);

/// a − b.
struct Sub;
impl GradRule for Sub {
    fn backward(
        &self,
        cx: &mut Ctx,
        n: &NodeProto,
        dy: &str,
        needs: &[bool],
    ) -> Result<Vec<Option<String>>> {
        let ga = needs[0].then(|| down(cx, n, dy, 0));
        let gb = needs[1].then(|| {
            let neg = cx.op("Neg", &[dy], &[]);
            down(cx, n, &neg, 1)
        });
        Ok(vec![ga, gb])
    }
}
crate::register_grad_rule!("Sub", Sub);

/// a · b.
struct Mul;
impl GradRule for Mul {
    fn backward(
        &self,
        cx: &mut Ctx,
        n: &NodeProto,
        dy: &str,
        needs: &[bool],
    ) -> Result<Vec<Option<String>>> {
        let (a, b) = (input(n, 0), input(n, 1));
        let ga = needs[0].then(|| {
            let g = cx.op("Mul", &[dy, b], &[]);
            down(cx, n, &g, 0)
        });
        let gb = needs[1].then(|| {
            let g = cx.op("Mul", &[dy, a], &[]);
            down(cx, n, &g, 1)
        });
        Ok(vec![ga, gb])
    }
}
crate::register_grad_rule!("Mul", Mul);

/// a / b: dy/b and −dy·y/b.
struct Div;
impl GradRule for Div {
    fn backward(
        &self,
        cx: &mut Ctx,
        n: &NodeProto,
        dy: &str,
        needs: &[bool],
    ) -> Result<Vec<Option<String>>> {
        let b = input(n, 1);
        let ga = needs[0].then(|| {
            let g = cx.op("Div", &[dy, b], &[]);
            down(cx, n, &g, 0)
        });
        let gb = needs[1].then(|| {
            let t = cx.op("Mul", &[dy, &n.output[0]], &[]);
            let t = cx.op("Div", &[&t, b], &[]);
            let g = cx.op("Neg", &[&t], &[]);
            down(cx, n, &g, 1)
        });
        Ok(vec![ga, gb])
    }
}
crate::register_grad_rule!("Div", Div);

/// a₁ + … + aₙ.
struct Sum;
impl GradRule for Sum {
    fn backward(
        &self,
        cx: &mut Ctx,
        n: &NodeProto,
        dy: &str,
        needs: &[bool],
    ) -> Result<Vec<Option<String>>> {
        Ok((0..needs.len()).map(|k| needs[k].then(|| down(cx, n, dy, k))).collect())
    }
}
crate::register_grad_rule!("Sum", Sum);

/// (a₁ + … + aₙ)/n.
struct Mean;
impl GradRule for Mean {
    fn backward(
        &self,
        cx: &mut Ctx,
        n: &NodeProto,
        dy: &str,
        needs: &[bool],
    ) -> Result<Vec<Option<String>>> {
        let inv = cx.scalar(1.0 / needs.len() as f32);
        let g = cx.op("Mul", &[dy, &inv], &[]);
        Ok((0..needs.len()).map(|k| needs[k].then(|| down(cx, n, &g, k))).collect())
    }
}
crate::register_grad_rule!("Mean", Mean);

/// Elementwise max or min of n operands: each operand equal to the result
/// gets dy, split evenly between ties.
struct Extreme;
impl GradRule for Extreme {
    fn backward(
        &self,
        cx: &mut Ctx,
        n: &NodeProto,
        dy: &str,
        needs: &[bool],
    ) -> Result<Vec<Option<String>>> {
        let y = &n.output[0];
        let masks: Vec<String> = (0..needs.len())
            .map(|k| {
                let eq = cx.op("Equal", &[input(n, k), y], &[]);
                cx.to_float(&eq)
            })
            .collect();
        let refs: Vec<&str> = masks.iter().map(String::as_str).collect();
        let count = if refs.len() == 1 { masks[0].clone() } else { cx.op("Sum", &refs, &[]) };
        let share = cx.op("Div", &[dy, &count], &[]);
        Ok((0..needs.len())
            .map(|k| {
                needs[k].then(|| {
                    let g = cx.op("Mul", &[&share, &masks[k]], &[]);
                    down(cx, n, &g, k)
                })
            })
            .collect())
    }
}
crate::register_grad_rule!("Max", Extreme);
crate::register_grad_rule!("Min", Extreme);

/// Shape rules of this family (static shapes for the gradient graphs).
mod shape_rules {
    use crate::autodiff::shapes::Elem;
    use crate::autodiff::shapes::Info;
    use crate::autodiff::shapes::Shapes;
    use crate::autodiff::shapes::broadcast;
    use crate::autodiff::shapes::int_arith;
    use crate::error::Result;
    use crate::graph::node_err;
    use crate::pb::NodeProto;

    /// Shapes of `Add`, `Sub`, `Mul`, `Div`, `Pow`, `Max`, `Min`, `Sum`, `Mean`, `Equal`, `Greater`, `Less`, `GreaterOrEqual`, `LessOrEqual`, `And`, `Or`, `Where`.
    fn shape_add(sh: &mut Shapes, n: &NodeProto) -> Result<()> {
        let op = n.op_type();
        let ins: Vec<&Info> = (0..n.input.len()).map(|k| sh.input(n, k)).collect::<Result<_>>()?;
        let shapes: Vec<&[usize]> = ins.iter().map(|i| i.shape.as_slice()).collect();
        let shape = broadcast(&shapes)
            .ok_or_else(|| node_err(n, format!("operand shapes {shapes:?} do not broadcast")))?;
        let elem = match op {
            "Equal" | "Greater" | "Less" | "GreaterOrEqual" | "LessOrEqual" | "And" | "Or" => {
                Elem::Bool
            }
            "Where" => ins[1].elem,
            _ => ins[0].elem,
        };
        let ints = if elem == Elem::Int && ins.len() == 2 {
            int_arith(op, ins[0].ints.as_deref(), ins[1].ints.as_deref(), &shape)
        } else {
            None
        };
        sh.out(n, 0, Info { shape, elem, ints });
        Ok(())
    }

    crate::register_shape_rule!(
        [
            "Add",
            "Sub",
            "Mul",
            "Div",
            "Pow",
            "Max",
            "Min",
            "Sum",
            "Mean",
            "Equal",
            "Greater",
            "Less",
            "GreaterOrEqual",
            "LessOrEqual",
            "And",
            "Or",
            "Where"
        ],
        shape_add
    );
}

/// Structure hook of this family: an elementwise op with a constant
/// operand is an affine step after the conv (a bias, a folded BatchNorm).
#[allow(clippy::unnecessary_wraps, reason = "every hook has the StructureHook signature")]
mod structure_hooks {
    use crate::error::Result;
    use crate::pb::NodeProto;
    use crate::structure::{AxisState, PostOp, Walk, register_structure_hook};

    fn affine(w: &mut Walk<'_, '_>, node: &NodeProto, st: AxisState) -> Result<Option<AxisState>> {
        if w.index.is_const(node, 1 - w.k.min(1)) {
            w.post(&st, PostOp::Affine { onnx_op: node.op_type().to_owned() }, node);
        } else {
            w.note(node, "elementwise op with a computed operand");
        }
        Ok(Some(st))
    }

    register_structure_hook!(&["Mul", "Add", "Sub", "Div"], affine);
}

/// Window hooks of this family: elementwise ops with one computed input
/// (the walk refuses more) stay.
mod window_hooks {
    use crate::window::{register_window_hook, unchanged};

    register_window_hook!(&["Add", "Mul", "Sub", "Div"], unchanged);
}

/// Parameter roles of this family: a constant shift (Add, Sub) or scale
/// (Mul) is trained, as Keras' folded BatchNorm; a divisor starts at one
/// and stays.
mod param_rules {
    use crate::autodiff::{Init, ParamRole};

    #[allow(clippy::unnecessary_wraps, reason = "every rule has the ParamRule signature")]
    fn shift(_: usize) -> Option<ParamRole> {
        Some(ParamRole::trained(Init::Default))
    }

    crate::register_param_rule!(["Add", "Sub"], shift);

    #[allow(clippy::unnecessary_wraps, reason = "every rule has the ParamRule signature")]
    fn scale(_: usize) -> Option<ParamRole> {
        Some(ParamRole::trained(Init::Ones))
    }

    crate::register_param_rule!(["Mul"], scale);

    #[allow(clippy::unnecessary_wraps, reason = "every rule has the ParamRule signature")]
    fn divisor(_: usize) -> Option<ParamRole> {
        Some(ParamRole { trained: false, dense: false, init: Init::Ones, statistic: false })
    }

    crate::register_param_rule!(["Div"], divisor);
}

/// DeepLIFT's rules of this family: sums are linear; a product of two
/// varying operands splits at the midpoint; a quotient is linear in its
/// numerator only; Max and Min route by cross-max.
mod multipliers {
    use crate::autodiff::deeplift::Multiplier;
    crate::register_multiplier_rule!(["Add", "Sub", "Sum", "Mean"], Multiplier::Linear);
    crate::register_multiplier_rule!(["Mul"], Multiplier::Midpoint);
    crate::register_multiplier_rule!(["Div"], Multiplier::LinearIn(&[0]));
    crate::register_multiplier_rule!(["Max"], Multiplier::CrossExtreme { max: true });
    crate::register_multiplier_rule!(["Min"], Multiplier::CrossExtreme { max: false });
}
