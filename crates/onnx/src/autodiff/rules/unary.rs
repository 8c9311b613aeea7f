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
