//! BatchNormalization in inference mode: running statistics are constants.

use crate::error::Result;
use crate::graph::{attr_float, attr_int, node_err};
use crate::pb::NodeProto;

use super::{Ctx, GradRule, input};

struct BatchNorm;
impl GradRule for BatchNorm {
    fn backward(
        &self,
        cx: &mut Ctx,
        n: &NodeProto,
        dy: &str,
        needs: &[bool],
    ) -> Result<Vec<Option<String>>> {
        if attr_int(n, "training_mode") == Some(1) || n.output.iter().skip(1).any(|o| !o.is_empty())
        {
            return Err(node_err(n, "training-mode BatchNormalization has no gradient rule"));
        }
        let (x, scale, mean, var) = (input(n, 0), input(n, 1), input(n, 3), input(n, 4));
        let xs = cx.shape(x);
        let mut cshape = vec![1; xs.len()];
        cshape[1] = xs[1];
        let eps = cx.scalar(attr_float(n, "epsilon").unwrap_or(1e-5));
        let ve = cx.op("Add", &[var, &eps], &[]);
        let sd = cx.op("Sqrt", &[&ve], &[]);
        let others: Vec<usize> = (0..xs.len()).filter(|&a| a != 1).collect();
        let mut out = vec![None; needs.len()];
        if needs[0] {
            let a = cx.op("Div", &[scale, &sd], &[]);
            let a = cx.reshape(&a, &cshape);
            out[0] = Some(cx.op("Mul", &[dy, &a], &[]));
        }
        if needs[1] {
            let m = cx.reshape(mean, &cshape);
            let s = cx.reshape(&sd, &cshape);
            let c = cx.op("Sub", &[x, &m], &[]);
            let xhat = cx.op("Div", &[&c, &s], &[]);
            let g = cx.op("Mul", &[dy, &xhat], &[]);
            out[1] = Some(cx.reduce_sum(&g, &others, false));
        }
        if needs[2] {
            out[2] = Some(cx.reduce_sum(dy, &others, false));
        }
        Ok(out)
    }
}
crate::register_grad_rule!("BatchNormalization", BatchNorm);

/// Structure hook of this family: BatchNorm after a conv.
#[allow(clippy::unnecessary_wraps, reason = "every hook has the StructureHook signature")]
mod structure_hooks {
    use crate::error::Result;
    use crate::graph::attr_float;
    use crate::pb::NodeProto;
    use crate::structure::{AxisState, PostOp, Walk, register_structure_hook};

    fn batch_norm(
        w: &mut Walk<'_, '_>,
        node: &NodeProto,
        st: AxisState,
    ) -> Result<Option<AxisState>> {
        let epsilon = attr_float(node, "epsilon").unwrap_or(1e-5);
        w.post(&st, PostOp::BatchNorm { epsilon }, node);
        Ok(Some(st))
    }

    register_structure_hook!(&["BatchNormalization"], batch_norm);
}

/// Window hook of this family: inference-mode BatchNorm stays.
mod window_hooks {
    use crate::error::Result;
    use crate::graph::attr_int;
    use crate::pb::NodeProto;
    use crate::window::{WindowWalk, register_window_hook, unsupported};

    fn batch_norm(_: &mut WindowWalk<'_, '_>, n: &NodeProto, _: &mut NodeProto) -> Result<()> {
        if attr_int(n, "training_mode") == Some(1) {
            return Err(unsupported(n, "training-mode BatchNormalization"));
        }
        Ok(())
    }

    register_window_hook!(&["BatchNormalization"], batch_norm);
}

/// Parameter roles of this family: scale (ones) and bias (zeros) trained;
/// the running mean (zeros) and variance (ones) are statistics.
mod param_rules {
    use crate::autodiff::{Init, ParamRole};

    fn batch_norm(slot: usize) -> Option<ParamRole> {
        let statistic = |init| ParamRole { trained: false, dense: false, init, statistic: true };
        match slot {
            1 => Some(ParamRole::trained(Init::Ones)),
            2 => Some(ParamRole::trained(Init::Zeros)),
            3 => Some(statistic(Init::Zeros)),
            4 => Some(statistic(Init::Ones)),
            _ => None,
        }
    }

    crate::register_param_rule!(["BatchNormalization"], batch_norm);
}

// DeepLIFT: inference-mode BatchNorm is a per-channel affine map.
crate::register_multiplier_rule!(
    ["BatchNormalization"],
    crate::autodiff::deeplift::Multiplier::Linear
);
