//! Ops that move values without changing them: Flatten, Reshape, Squeeze,
//! Unsqueeze, Transpose, Concat, Pad (constant), Slice (step ±1).

use crate::error::Result;
use crate::graph::{attr_int, attr_ints, attr_str, node_err};
use crate::pb::NodeProto;

use super::super::shapes::{SliceSpec, axis};
use super::{Ctx, GradRule, input};

/// Any reshape: the gradient takes the input's shape back.
struct Reshape;
impl GradRule for Reshape {
    fn backward(
        &self,
        cx: &mut Ctx,
        n: &NodeProto,
        dy: &str,
        needs: &[bool],
    ) -> Result<Vec<Option<String>>> {
        let xs = cx.shape(input(n, 0));
        let mut out = vec![None; needs.len()];
        out[0] = Some(cx.reshape(dy, &xs));
        Ok(out)
    }
}
crate::register_grad_rule!("Flatten", Reshape);
crate::register_grad_rule!("Reshape", Reshape);
crate::register_grad_rule!("Squeeze", Reshape);
crate::register_grad_rule!("Unsqueeze", Reshape);

struct Transpose;
impl GradRule for Transpose {
    fn backward(
        &self,
        cx: &mut Ctx,
        n: &NodeProto,
        dy: &str,
        _: &[bool],
    ) -> Result<Vec<Option<String>>> {
        let rank = cx.shape(input(n, 0)).len();
        let perm = attr_ints(n, "perm").unwrap_or_else(|| (0..rank as i64).rev().collect());
        let mut inv = vec![0; rank];
        for (i, &p) in perm.iter().enumerate() {
            inv[axis(n, p, rank)?] = i;
        }
        Ok(vec![Some(cx.transpose(dy, &inv))])
    }
}
crate::register_grad_rule!("Transpose", Transpose);

struct Concat;
impl GradRule for Concat {
    fn backward(
        &self,
        cx: &mut Ctx,
        n: &NodeProto,
        dy: &str,
        needs: &[bool],
    ) -> Result<Vec<Option<String>>> {
        let rank = cx.shape(&n.output[0]).len();
        let a = axis(n, attr_int(n, "axis").unwrap_or(0), rank)?;
        let mut off = 0i64;
        let mut out = Vec::with_capacity(needs.len());
        for (k, &need) in needs.iter().enumerate() {
            let len = cx.shape(input(n, k))[a] as i64;
            out.push(need.then(|| cx.slice(dy, &[a], &[off], &[off + len], &[1])));
            off += len;
        }
        Ok(out)
    }
}
crate::register_grad_rule!("Concat", Concat);

struct Pad;
impl GradRule for Pad {
    fn backward(
        &self,
        cx: &mut Ctx,
        n: &NodeProto,
        dy: &str,
        needs: &[bool],
    ) -> Result<Vec<Option<String>>> {
        let mode = attr_str(n, "mode").unwrap_or_else(|| "constant".into());
        if mode != "constant" {
            return Err(node_err(
                n,
                format!("Pad mode `{mode}` has no gradient rule (only constant)"),
            ));
        }
        let xs = cx.shape(input(n, 0));
        let rank = xs.len();
        let pads = cx
            .shapes()
            .ints_attr_or_input(n, "pads", 1)?
            .ok_or_else(|| node_err(n, "no `pads`"))?;
        let axes: Vec<usize> = match cx.shapes().ints_attr_or_input(n, "", 3)? {
            Some(a) => a.iter().map(|&v| axis(n, v, rank)).collect::<Result<_>>()?,
            None => (0..rank).collect(),
        };
        if pads.iter().any(|&p| p < 0) {
            return Err(node_err(n, "negative pads (cropping) have no gradient rule"));
        }
        let starts: Vec<i64> = pads[..axes.len()].to_vec();
        let ends: Vec<i64> = axes.iter().zip(&starts).map(|(&a, &s)| s + xs[a] as i64).collect();
        let mut out = vec![None; needs.len()];
        out[0] = Some(cx.slice(dy, &axes, &starts, &ends, &vec![1; axes.len()]));
        Ok(out)
    }
}
crate::register_grad_rule!("Pad", Pad);

struct Slice;
impl GradRule for Slice {
    fn backward(
        &self,
        cx: &mut Ctx,
        n: &NodeProto,
        dy: &str,
        needs: &[bool],
    ) -> Result<Vec<Option<String>>> {
        let xs = cx.shape(input(n, 0));
        let sl = SliceSpec::of(cx.shapes(), n, &xs)?;
        let mut g = dy.to_owned();
        let mut begin = vec![0; xs.len()];
        let mut end = vec![0; xs.len()];
        for (j, &a) in sl.axes.iter().enumerate() {
            let kept = sl.len(j);
            match sl.steps[j] {
                1 => {
                    begin[a] = sl.starts[j] as usize;
                    end[a] = xs[a] - sl.starts[j] as usize - kept;
                }
                -1 => {
                    g = cx.slice(&g, &[a], &[-1], &[i64::MIN], &[-1]);
                    // Kept input positions run from starts − kept + 1 up to starts.
                    let lo = sl.starts[j] as usize + 1 - kept;
                    begin[a] = lo;
                    end[a] = xs[a] - lo - kept;
                }
                s => {
                    return Err(node_err(
                        n,
                        format!("Slice with step {s} has no gradient rule (only ±1)"),
                    ));
                }
            }
        }
        let mut out = vec![None; needs.len()];
        out[0] = Some(cx.pad(&g, &begin, &end, 0.0));
        Ok(out)
    }
}
crate::register_grad_rule!("Slice", Slice);
