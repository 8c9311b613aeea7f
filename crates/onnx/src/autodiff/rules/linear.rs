//! Gemm and MatMul.

use crate::build::Attr;
use crate::error::Result;
use crate::graph::{attr_float, attr_int};
use crate::pb::NodeProto;

use super::{Ctx, GradRule, input};

/// Y = α·A′B′ + β·C, A′ = Aᵀ if transA, B′ = Bᵀ if transB.
struct Gemm;
impl GradRule for Gemm {
    fn backward(
        &self,
        cx: &mut Ctx,
        n: &NodeProto,
        dy: &str,
        needs: &[bool],
    ) -> Result<Vec<Option<String>>> {
        let (a, b) = (input(n, 0), input(n, 1));
        let alpha = attr_float(n, "alpha").unwrap_or(1.0);
        let beta = attr_float(n, "beta").unwrap_or(1.0);
        let ta = attr_int(n, "transA") == Some(1);
        let tb = attr_int(n, "transB") == Some(1);
        let flag = |v: bool| Attr::Int(i64::from(v));
        let mut out = vec![None; needs.len()];
        if needs[0] {
            out[0] = Some(if ta {
                cx.op(
                    "Gemm",
                    &[b, dy],
                    &[("alpha", Attr::Float(alpha)), ("transA", flag(tb)), ("transB", flag(true))],
                )
            } else {
                cx.op("Gemm", &[dy, b], &[("alpha", Attr::Float(alpha)), ("transB", flag(!tb))])
            });
        }
        if needs[1] {
            out[1] = Some(if tb {
                cx.op(
                    "Gemm",
                    &[dy, a],
                    &[("alpha", Attr::Float(alpha)), ("transA", flag(true)), ("transB", flag(ta))],
                )
            } else {
                cx.op("Gemm", &[a, dy], &[("alpha", Attr::Float(alpha)), ("transA", flag(!ta))])
            });
        }
        if needs.len() > 2 && needs[2] {
            let g = if (beta - 1.0).abs() > 0.0 {
                let s = cx.scalar(beta);
                cx.op("Mul", &[dy, &s], &[])
            } else {
                dy.to_owned()
            };
            let from = cx.shape(&n.output[0]);
            let to = cx.shape(input(n, 2));
            out[2] = Some(cx.sum_to(&g, &from, &to));
        }
        Ok(out)
    }
}
crate::register_grad_rule!("Gemm", Gemm);

/// Batched, broadcasting matrix product of operands of rank ≥ 2.
struct MatMul;
impl GradRule for MatMul {
    fn backward(
        &self,
        cx: &mut Ctx,
        n: &NodeProto,
        dy: &str,
        needs: &[bool],
    ) -> Result<Vec<Option<String>>> {
        let (a, b) = (input(n, 0), input(n, 1));
        let out_shape = cx.shape(&n.output[0]);
        let swap = |r: usize| -> Vec<usize> {
            let mut p: Vec<usize> = (0..r).collect();
            p.swap(r - 2, r - 1);
            p
        };
        let mut grads = vec![None, None];
        if needs[0] {
            let bs = cx.shape(b);
            let bt = cx.transpose(b, &swap(bs.len()));
            let g = cx.op("MatMul", &[dy, &bt], &[]);
            let mut from = out_shape[..out_shape.len() - 2].to_vec();
            let to = cx.shape(a);
            from.extend(&to[to.len() - 2..]);
            grads[0] = Some(cx.sum_to(&g, &from, &to));
        }
        if needs[1] {
            let as_ = cx.shape(a);
            let at = cx.transpose(a, &swap(as_.len()));
            let g = cx.op("MatMul", &[&at, dy], &[]);
            let mut from = out_shape[..out_shape.len() - 2].to_vec();
            let to = cx.shape(b);
            from.extend(&to[to.len() - 2..]);
            grads[1] = Some(cx.sum_to(&g, &from, &to));
        }
        Ok(grads)
    }
}
crate::register_grad_rule!("MatMul", MatMul);

/// Shape rules of this family (static shapes for the gradient graphs).
mod shape_rules {
    use crate::autodiff::shapes::Info;
    use crate::autodiff::shapes::Shapes;
    use crate::autodiff::shapes::broadcast;
    use crate::error::Result;
    use crate::graph::attr_int;
    use crate::graph::node_err;
    use crate::pb::NodeProto;

    /// Shapes of `Gemm`.
    fn shape_gemm(sh: &mut Shapes, n: &NodeProto) -> Result<()> {
        let a = sh.input(n, 0)?.shape.clone();
        let b = sh.input(n, 1)?.shape.clone();
        if a.len() != 2 || b.len() != 2 {
            return Err(node_err(n, format!("Gemm needs 2-D operands, got {a:?} and {b:?}")));
        }
        let ta = attr_int(n, "transA") == Some(1);
        let tb = attr_int(n, "transB") == Some(1);
        let (m, ka) = if ta { (a[1], a[0]) } else { (a[0], a[1]) };
        let (kb, nn) = if tb { (b[1], b[0]) } else { (b[0], b[1]) };
        if ka != kb {
            return Err(node_err(n, format!("inner dims differ: {a:?} × {b:?}")));
        }
        sh.out(n, 0, Info::float(vec![m, nn]));
        Ok(())
    }

    crate::register_shape_rule!(["Gemm"], shape_gemm);

    /// Shapes of `MatMul`.
    fn shape_mat_mul(sh: &mut Shapes, n: &NodeProto) -> Result<()> {
        let a = sh.input(n, 0)?.shape.clone();
        let b = sh.input(n, 1)?.shape.clone();
        if a.len() < 2 || b.len() < 2 {
            return Err(node_err(n, "1-D MatMul operands are not supported"));
        }
        let (m, ka) = (a[a.len() - 2], a[a.len() - 1]);
        let (kb, nn) = (b[b.len() - 2], b[b.len() - 1]);
        if ka != kb {
            return Err(node_err(n, format!("inner dims differ: {a:?} × {b:?}")));
        }
        let mut shape = broadcast(&[&a[..a.len() - 2], &b[..b.len() - 2]]).ok_or_else(|| {
            node_err(n, format!("batch dims of {a:?} and {b:?} do not broadcast"))
        })?;
        shape.extend([m, nn]);
        sh.out(n, 0, Info::float(shape));
        Ok(())
    }

    crate::register_shape_rule!(["MatMul"], shape_mat_mul);
}

/// Structure hook of this family: the conv chain ends at a dense layer
/// (`Structure`'s dense head is read from the Gemm and MatMul nodes).
#[allow(clippy::unnecessary_wraps, reason = "every hook has the StructureHook signature")]
mod structure_hooks {
    use crate::error::Result;
    use crate::pb::NodeProto;
    use crate::structure::{AxisState, Walk, register_structure_hook};

    fn dense(_: &mut Walk<'_, '_>, _: &NodeProto, _: AxisState) -> Result<Option<AxisState>> {
        Ok(None)
    }

    register_structure_hook!(&["Gemm", "MatMul"], dense);
}

/// Parameter roles of this family: dense weights (penalised by L1/L2) and
/// a Gemm's bias, trained.
mod param_rules {
    use crate::autodiff::{Init, ParamRole};

    const WEIGHT: ParamRole =
        ParamRole { trained: true, dense: true, init: Init::Default, statistic: false };

    fn gemm(slot: usize) -> Option<ParamRole> {
        match slot {
            1 => Some(WEIGHT),
            2 => Some(ParamRole::trained(Init::Default)),
            _ => None,
        }
    }

    crate::register_param_rule!(["Gemm"], gemm);

    #[allow(clippy::unnecessary_wraps, reason = "every rule has the ParamRule signature")]
    fn mat_mul(_: usize) -> Option<ParamRole> {
        Some(WEIGHT)
    }

    crate::register_param_rule!(["MatMul"], mat_mul);
}

// DeepLIFT: bilinear in two varying operands, linear in one.
crate::register_multiplier_rule!(
    ["Gemm", "MatMul"],
    crate::autodiff::deeplift::Multiplier::Midpoint
);
