//! Activations: Relu, LeakyRelu, Clip, Sigmoid, Tanh, Softmax, LogSoftmax.

use crate::error::Result;
use crate::graph::attr_float;
use crate::pb::NodeProto;

use super::{Ctx, GradRule, input};

/// max(0, x): dy where x > 0.
struct Relu;
impl GradRule for Relu {
    fn backward(
        &self,
        cx: &mut Ctx,
        n: &NodeProto,
        dy: &str,
        _: &[bool],
    ) -> Result<Vec<Option<String>>> {
        // dy · float(y > 0) (y > 0 exactly where x > 0; reading the output
        // leaves the input to a Conv + Relu fusion): ort's Where and Sign
        // kernels take twice as long as a comparison, a cast and a product.
        let g = cx.pointwise(dy, &n.output[0], |cx, dy, y| {
            let zero = cx.scalar(0.0);
            let pos = cx.op("Greater", &[y, &zero], &[]);
            let m = cx.to_float(&pos);
            cx.op("Mul", &[dy, &m], &[])
        });
        Ok(vec![Some(g)])
    }
}
crate::register_grad_rule!("Relu", Relu);

/// x for x > 0, αx below: dy or α·dy.
struct LeakyRelu;
impl GradRule for LeakyRelu {
    fn backward(
        &self,
        cx: &mut Ctx,
        n: &NodeProto,
        dy: &str,
        _: &[bool],
    ) -> Result<Vec<Option<String>>> {
        let alpha = cx.scalar(attr_float(n, "alpha").unwrap_or(0.01));
        let g = cx.pointwise(dy, input(n, 0), |cx, dy, x| {
            let zero = cx.scalar(0.0);
            let pos = cx.op("Greater", &[x, &zero], &[]);
            let neg = cx.op("Mul", &[dy, &alpha], &[]);
            cx.op("Where", &[&pos, dy, &neg], &[])
        });
        Ok(vec![Some(g)])
    }
}
crate::register_grad_rule!("LeakyRelu", LeakyRelu);

/// min(max(x, lo), hi): dy where lo ≤ x ≤ hi (the bounds get none).
struct Clip;
impl GradRule for Clip {
    fn backward(
        &self,
        cx: &mut Ctx,
        n: &NodeProto,
        dy: &str,
        needs: &[bool],
    ) -> Result<Vec<Option<String>>> {
        let x = input(n, 0);
        let zero = cx.scalar(0.0);
        let bound = |cx: &mut Ctx, k: usize, attr: &str| -> Option<String> {
            match input(n, k) {
                "" => attr_float(n, attr).map(|v| cx.scalar(v)),
                s => Some(s.to_owned()),
            }
        };
        let hi = bound(cx, 2, "max");
        let lo = bound(cx, 1, "min");
        let gate = |cx: &mut Ctx, dy: &str, x: &str| {
            let mut g = dy.to_owned();
            if let Some(hi) = &hi {
                let above = cx.op("Greater", &[x, hi], &[]);
                g = cx.op("Where", &[&above, &zero, &g], &[]);
            }
            if let Some(lo) = &lo {
                let below = cx.op("Less", &[x, lo], &[]);
                g = cx.op("Where", &[&below, &zero, &g], &[]);
            }
            g
        };
        // bounds given as tensors: only scalars broadcast against the
        // gathered nonzeros of a sparse dy
        let scalar_bounds = [1, 2].iter().all(|&k| match input(n, k) {
            "" => true,
            b => cx.shape(b).iter().product::<usize>() == 1,
        });
        let g = if scalar_bounds { cx.pointwise(dy, x, gate) } else { gate(cx, dy, x) };
        let mut out = vec![None; needs.len()];
        out[0] = Some(g);
        Ok(out)
    }
}
crate::register_grad_rule!("Clip", Clip);

/// σ(x): dy·y·(1 − y).
struct Sigmoid;
impl GradRule for Sigmoid {
    fn backward(
        &self,
        cx: &mut Ctx,
        n: &NodeProto,
        dy: &str,
        _: &[bool],
    ) -> Result<Vec<Option<String>>> {
        let y = &n.output[0];
        let one = cx.scalar(1.0);
        let c = cx.op("Sub", &[&one, y], &[]);
        let d = cx.op("Mul", &[y, &c], &[]);
        Ok(vec![Some(cx.op("Mul", &[dy, &d], &[]))])
    }
}
crate::register_grad_rule!("Sigmoid", Sigmoid);

/// tanh x: dy·(1 − y²).
struct Tanh;
impl GradRule for Tanh {
    fn backward(
        &self,
        cx: &mut Ctx,
        n: &NodeProto,
        dy: &str,
        _: &[bool],
    ) -> Result<Vec<Option<String>>> {
        let y = &n.output[0];
        let one = cx.scalar(1.0);
        let y2 = cx.op("Mul", &[y, y], &[]);
        let d = cx.op("Sub", &[&one, &y2], &[]);
        Ok(vec![Some(cx.op("Mul", &[dy, &d], &[]))])
    }
}
crate::register_grad_rule!("Tanh", Tanh);

/// The axes a (Log)Softmax normalises over: `axis` alone from opset 13,
/// every axis from `axis` on before (the input flattened to 2-D there).
pub(crate) fn softmax_axes(cx: &Ctx, n: &NodeProto) -> Result<Vec<usize>> {
    let rank = cx.shape(&n.input[0]).len();
    let default = if cx.opset() >= 13 { -1 } else { 1 };
    let a = crate::autodiff::shapes::axis(
        n,
        crate::graph::attr_int(n, "axis").unwrap_or(default),
        rank,
    )?;
    Ok(if cx.opset() >= 13 { vec![a] } else { (a..rank).collect() })
}

/// softmax(x): y·(dy − Σ dy·y) over the normalised axes.
struct Softmax;
impl GradRule for Softmax {
    fn backward(
        &self,
        cx: &mut Ctx,
        n: &NodeProto,
        dy: &str,
        _: &[bool],
    ) -> Result<Vec<Option<String>>> {
        let axes = softmax_axes(cx, n)?;
        let y = &n.output[0];
        let gy = cx.op("Mul", &[dy, y], &[]);
        let s = cx.reduce_sum(&gy, &axes, true);
        let d = cx.op("Sub", &[dy, &s], &[]);
        Ok(vec![Some(cx.op("Mul", &[y, &d], &[]))])
    }
}
crate::register_grad_rule!("Softmax", Softmax);

/// log softmax(x): dy − exp(y)·Σ dy over the normalised axes.
struct LogSoftmax;
impl GradRule for LogSoftmax {
    fn backward(
        &self,
        cx: &mut Ctx,
        n: &NodeProto,
        dy: &str,
        _: &[bool],
    ) -> Result<Vec<Option<String>>> {
        let axes = softmax_axes(cx, n)?;
        let p = cx.op("Exp", &[&n.output[0]], &[]);
        let s = cx.reduce_sum(dy, &axes, true);
        let ps = cx.op("Mul", &[&p, &s], &[]);
        Ok(vec![Some(cx.op("Sub", &[dy, &ps], &[]))])
    }
}
crate::register_grad_rule!("LogSoftmax", LogSoftmax);

/// Structure hook of the elementwise activations ([`ACTIVATIONS`]).
#[allow(clippy::unnecessary_wraps, reason = "every hook has the StructureHook signature")]
mod structure_hooks {
    use crate::error::Result;
    use crate::pb::NodeProto;
    use crate::structure::{ACTIVATIONS, AxisState, PostOp, Walk, register_structure_hook};

    fn activation(
        w: &mut Walk<'_, '_>,
        node: &NodeProto,
        st: AxisState,
    ) -> Result<Option<AxisState>> {
        w.post(&st, PostOp::Activation { onnx_op: node.op_type().to_owned() }, node);
        Ok(Some(st))
    }

    register_structure_hook!(ACTIVATIONS, activation);
}

/// Window hooks of the elementwise activations: they stay.
mod window_hooks {
    use crate::structure::ACTIVATIONS;
    use crate::window::{register_window_hook, unchanged};

    register_window_hook!(ACTIVATIONS, unchanged);
}

crate::register_multiplier_rule!(
    ["Relu", "LeakyRelu", "Clip", "Sigmoid", "Tanh"],
    crate::autodiff::deeplift::Multiplier::Rescale
);
crate::register_multiplier_rule!(["Softmax"], crate::autodiff::deeplift::Multiplier::Softmax);
