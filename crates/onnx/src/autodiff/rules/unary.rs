//! Identity-like and simple unary ops.

use crate::error::Result;
use crate::pb::NodeProto;

use super::{Ctx, GradRule, input};

/// Identity, Dropout (inference: identity), float-to-float Cast.
struct Pass;
impl GradRule for Pass {
    fn backward(
        &self,
        _: &mut Ctx,
        _: &NodeProto,
        dy: &str,
        _: &[bool],
    ) -> Result<Vec<Option<String>>> {
        Ok(vec![Some(dy.to_owned())])
    }
}
crate::register_grad_rule!("Identity", Pass);
crate::register_grad_rule!("Dropout", Pass);
crate::register_grad_rule!("Cast", Pass);

/// −x.
struct Neg;
impl GradRule for Neg {
    fn backward(
        &self,
        cx: &mut Ctx,
        _: &NodeProto,
        dy: &str,
        _: &[bool],
    ) -> Result<Vec<Option<String>>> {
        Ok(vec![Some(cx.op("Neg", &[dy], &[]))])
    }
}
crate::register_grad_rule!("Neg", Neg);

/// eˣ: dy·y.
struct Exp;
impl GradRule for Exp {
    fn backward(
        &self,
        cx: &mut Ctx,
        n: &NodeProto,
        dy: &str,
        _: &[bool],
    ) -> Result<Vec<Option<String>>> {
        Ok(vec![Some(cx.op("Mul", &[dy, &n.output[0]], &[]))])
    }
}
crate::register_grad_rule!("Exp", Exp);

/// ln x: dy / x.
struct Log;
impl GradRule for Log {
    fn backward(
        &self,
        cx: &mut Ctx,
        n: &NodeProto,
        dy: &str,
        _: &[bool],
    ) -> Result<Vec<Option<String>>> {
        Ok(vec![Some(cx.op("Div", &[dy, input(n, 0)], &[]))])
    }
}
crate::register_grad_rule!("Log", Log);

/// |x|: dy·sign(x).
struct Abs;
impl GradRule for Abs {
    fn backward(
        &self,
        cx: &mut Ctx,
        n: &NodeProto,
        dy: &str,
        _: &[bool],
    ) -> Result<Vec<Option<String>>> {
        let s = cx.op("Sign", &[input(n, 0)], &[]);
        Ok(vec![Some(cx.op("Mul", &[dy, &s], &[]))])
    }
}
crate::register_grad_rule!("Abs", Abs);

/// √x: dy / (2y).
struct Sqrt;
impl GradRule for Sqrt {
    fn backward(
        &self,
        cx: &mut Ctx,
        n: &NodeProto,
        dy: &str,
        _: &[bool],
    ) -> Result<Vec<Option<String>>> {
        let two = cx.scalar(2.0);
        let d = cx.op("Mul", &[&n.output[0], &two], &[]);
        Ok(vec![Some(cx.op("Div", &[dy, &d], &[]))])
    }
}
crate::register_grad_rule!("Sqrt", Sqrt);

/// Shape rules of this family (static shapes for the gradient graphs).
mod shape_rules {
    use crate::autodiff::shapes::Elem;
    use crate::autodiff::shapes::Info;
    use crate::autodiff::shapes::Shapes;
    use crate::error::Result;
    use crate::pb::NodeProto;

    /// Shapes of `Relu`, `LeakyRelu`, `Clip`, `Sigmoid`, `Tanh`, `Identity`, `Neg`, `Exp`, `Log`, `Abs`, `Sqrt`, `Softplus`, `Sign`, `Reciprocal`, `Erf`, `Not`, `Softmax`, `LogSoftmax`, `BatchNormalization`.
    fn shape_relu(sh: &mut Shapes, n: &NodeProto) -> Result<()> {
        let i = sh.input(n, 0)?.clone();
        sh.out(n, 0, i);
        Ok(())
    }

    crate::register_shape_rule!(
        [
            "Relu",
            "LeakyRelu",
            "Clip",
            "Sigmoid",
            "Tanh",
            "Identity",
            "Neg",
            "Exp",
            "Log",
            "Abs",
            "Sqrt",
            "Softplus",
            "Sign",
            "Reciprocal",
            "Erf",
            "Not",
            "Softmax",
            "LogSoftmax",
            "BatchNormalization"
        ],
        shape_relu
    );

    /// Shapes of `Dropout`.
    fn shape_dropout(sh: &mut Shapes, n: &NodeProto) -> Result<()> {
        let i = sh.input(n, 0)?.clone();
        sh.out(n, 1, Info::of(i.shape.clone(), Elem::Bool));
        sh.out(n, 0, i);
        Ok(())
    }

    crate::register_shape_rule!(["Dropout"], shape_dropout);
}

/// Structure hooks of this family.
#[allow(clippy::unnecessary_wraps, reason = "every hook has the StructureHook signature")]
mod structure_hooks {
    use crate::error::Result;
    use crate::pb::NodeProto;
    use crate::structure::{AxisState, PostOp, Walk, register_structure_hook};

    /// Identity: the path goes on unchanged.
    fn identity(_: &mut Walk<'_, '_>, _: &NodeProto, st: AxisState) -> Result<Option<AxisState>> {
        Ok(Some(st))
    }

    register_structure_hook!(&["Identity"], identity);

    /// Dropout: recorded after the conv (an identity at inference).
    fn dropout(w: &mut Walk<'_, '_>, node: &NodeProto, st: AxisState) -> Result<Option<AxisState>> {
        w.post(&st, PostOp::Dropout, node);
        Ok(Some(st))
    }

    register_structure_hook!(&["Dropout"], dropout);
}

/// Window hooks of this family: identities stay.
mod window_hooks {
    use crate::window::{register_window_hook, unchanged};

    register_window_hook!(&["Identity", "Dropout"], unchanged);
}

/// DeepLIFT's rules of this family: identities and negation are linear,
/// the elementwise functions rescale.
mod multipliers {
    use crate::autodiff::deeplift::Multiplier;
    crate::register_multiplier_rule!(["Identity", "Dropout", "Cast", "Neg"], Multiplier::Linear);
    crate::register_multiplier_rule!(["Exp", "Log", "Abs", "Sqrt"], Multiplier::Rescale);
}
