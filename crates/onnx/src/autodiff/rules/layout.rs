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

/// Shape rules of this family (static shapes for the gradient graphs).
mod shape_rules {
    use crate::autodiff::shapes::Info;
    use crate::autodiff::shapes::Shapes;
    use crate::autodiff::shapes::SliceSpec;
    use crate::autodiff::shapes::axis;
    use crate::autodiff::shapes::reshape_target;
    use crate::error::Result;
    use crate::graph::attr_int;
    use crate::graph::attr_ints;
    use crate::graph::node_err;
    use crate::pb::NodeProto;

    /// Shapes of `Flatten`.
    fn shape_flatten(sh: &mut Shapes, n: &NodeProto) -> Result<()> {
        let x = sh.input(n, 0)?.clone();
        let a = axis(n, attr_int(n, "axis").unwrap_or(1), x.shape.len() + 1)?;
        let outer: usize = x.shape[..a].iter().product();
        let inner: usize = x.shape[a..].iter().product();
        sh.out(n, 0, Info { shape: vec![outer, inner], ..x });
        Ok(())
    }

    crate::register_shape_rule!(["Flatten"], shape_flatten);

    /// Shapes of `Reshape`.
    fn shape_reshape(sh: &mut Shapes, n: &NodeProto) -> Result<()> {
        let x = sh.input(n, 0)?.clone();
        let spec = sh.ints_of(n, 1)?;
        let shape = reshape_target(n, &x.shape, &spec)?;
        sh.out(n, 0, Info { shape, ..x });
        Ok(())
    }

    crate::register_shape_rule!(["Reshape"], shape_reshape);

    /// Shapes of `Transpose`.
    fn shape_transpose(sh: &mut Shapes, n: &NodeProto) -> Result<()> {
        let x = sh.input(n, 0)?.clone();
        let rank = x.shape.len();
        let perm = attr_ints(n, "perm").unwrap_or_else(|| (0..rank as i64).rev().collect());
        if perm.len() != rank {
            return Err(node_err(n, format!("perm {perm:?} does not fit rank {rank}")));
        }
        let axes: Vec<usize> = perm.iter().map(|&p| axis(n, p, rank)).collect::<Result<_>>()?;
        let shape: Vec<usize> = axes.iter().map(|&a| x.shape[a]).collect();
        // Integer values follow the permutation (exporters transpose
        // pad pairs this way).
        let ints = x.ints.as_ref().and_then(|v| {
            let a = ndarray::ArrayD::from_shape_vec(ndarray::IxDyn(&x.shape), v.clone()).ok()?;
            Some(a.permuted_axes(ndarray::IxDyn(&axes)).iter().copied().collect())
        });
        sh.out(n, 0, Info { shape, ints, ..x });
        Ok(())
    }

    crate::register_shape_rule!(["Transpose"], shape_transpose);

    /// Shapes of `Squeeze`.
    fn shape_squeeze(sh: &mut Shapes, n: &NodeProto) -> Result<()> {
        let x = sh.input(n, 0)?.clone();
        let rank = x.shape.len();
        let axes = sh.ints_attr_or_input(n, "axes", 1)?;
        let shape: Vec<usize> = match axes {
            Some(a) => {
                let a = a.iter().map(|&v| axis(n, v, rank)).collect::<Result<Vec<_>>>()?;
                x.shape
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| !a.contains(i))
                    .map(|(_, &d)| d)
                    .collect()
            }
            None => x.shape.iter().copied().filter(|&d| d != 1).collect(),
        };
        sh.out(n, 0, Info { shape, ..x });
        Ok(())
    }

    crate::register_shape_rule!(["Squeeze"], shape_squeeze);

    /// Shapes of `Unsqueeze`.
    fn shape_unsqueeze(sh: &mut Shapes, n: &NodeProto) -> Result<()> {
        let x = sh.input(n, 0)?.clone();
        let axes = sh.ints_attr_or_input(n, "axes", 1)?.ok_or_else(|| node_err(n, "no `axes`"))?;
        let rank = x.shape.len() + axes.len();
        let mut a = axes.iter().map(|&v| axis(n, v, rank)).collect::<Result<Vec<_>>>()?;
        a.sort_unstable();
        let mut shape = x.shape.clone();
        for &i in &a {
            shape.insert(i, 1);
        }
        sh.out(n, 0, Info { shape, ..x });
        Ok(())
    }

    crate::register_shape_rule!(["Unsqueeze"], shape_unsqueeze);

    /// Shapes of `Concat`.
    fn shape_concat(sh: &mut Shapes, n: &NodeProto) -> Result<()> {
        let ins: Vec<Info> =
            (0..n.input.len()).map(|k| sh.input(n, k).cloned()).collect::<Result<_>>()?;
        let rank = ins[0].shape.len();
        let a = axis(n, attr_int(n, "axis").unwrap_or(0), rank)?;
        let mut shape = ins[0].shape.clone();
        shape[a] = ins.iter().map(|i| i.shape.get(a).copied().unwrap_or(0)).sum();
        let ints = if ins.iter().all(|i| i.ints.is_some()) && rank == 1 {
            Some(ins.iter().flat_map(|i| i.ints.clone().unwrap_or_default()).collect())
        } else {
            None
        };
        sh.out(n, 0, Info { shape, elem: ins[0].elem, ints });
        Ok(())
    }

    crate::register_shape_rule!(["Concat"], shape_concat);

    /// Shapes of `Pad`.
    fn shape_pad(sh: &mut Shapes, n: &NodeProto) -> Result<()> {
        let x = sh.input(n, 0)?.clone();
        let rank = x.shape.len();
        let pads = sh.ints_attr_or_input(n, "pads", 1)?.ok_or_else(|| node_err(n, "no `pads`"))?;
        let axes: Vec<usize> = match sh.opt_input(n, 3) {
            Some(_) => {
                sh.ints_of(n, 3)?.iter().map(|&a| axis(n, a, rank)).collect::<Result<_>>()?
            }
            None => (0..rank).collect(),
        };
        if pads.len() != 2 * axes.len() {
            return Err(node_err(n, format!("{} pads for {} axes", pads.len(), axes.len())));
        }
        let mut shape = x.shape.clone();
        for (j, &a) in axes.iter().enumerate() {
            let d = (shape[a] as i64)
                .checked_add(pads[j])
                .and_then(|d| d.checked_add(pads[axes.len() + j]))
                .ok_or_else(|| node_err(n, format!("pads {pads:?} overflow")))?;
            if d < 0 {
                return Err(node_err(n, format!("padding leaves axis {a} negative")));
            }
            shape[a] = d as usize;
        }
        sh.out(n, 0, Info { shape, ints: None, ..x });
        Ok(())
    }

    crate::register_shape_rule!(["Pad"], shape_pad);

    /// Shapes of `Slice`.
    fn shape_slice(sh: &mut Shapes, n: &NodeProto) -> Result<()> {
        let x = sh.input(n, 0)?.clone();
        let sl = SliceSpec::of(sh, n, &x.shape)?;
        let mut shape = x.shape.clone();
        for (j, &a) in sl.axes.iter().enumerate() {
            shape[a] = sl.len(j);
        }
        // Integer values of any rank: each output index maps back to
        // start + i·step on the sliced axes.
        let ints = x.ints.as_ref().map(|v| {
            let strides: Vec<usize> =
                (0..x.shape.len()).map(|a| x.shape[a + 1..].iter().product()).collect();
            let total: usize = shape.iter().product();
            (0..total)
                .map(|flat| {
                    let (mut rest, mut at) = (flat, 0usize);
                    for a in (0..shape.len()).rev() {
                        let i = rest % shape[a].max(1);
                        rest /= shape[a].max(1);
                        let src = match sl.axes.iter().position(|&b| b == a) {
                            Some(j) => (sl.starts[j] + i as i64 * sl.steps[j]) as usize,
                            None => i,
                        };
                        at += src * strides[a];
                    }
                    v[at]
                })
                .collect()
        });
        sh.out(n, 0, Info { shape, ints, ..x });
        Ok(())
    }

    crate::register_shape_rule!(["Slice"], shape_slice);
}

/// Structure hooks of this family: how the sequence and channel axes move,
/// padding before a conv, a reverse-complement slice, a flatten.
#[allow(clippy::unnecessary_wraps, reason = "every hook has the StructureHook signature")]
mod structure_hooks {
    use crate::error::Result;
    use crate::graph::{attr_float, attr_ints, attr_str, node_err};
    use crate::pb::NodeProto;
    use crate::structure::{
        AxisState, PostOp, Walk, norm_axis, register_structure_hook, reshape_axes,
    };
    use crate::tensor;

    fn transpose(
        _: &mut Walk<'_, '_>,
        node: &NodeProto,
        mut st: AxisState,
    ) -> Result<Option<AxisState>> {
        let perm: Vec<usize> = attr_ints(node, "perm").map_or_else(
            || (0..st.rank).rev().collect(),
            |p| p.iter().map(|&v| v as usize).collect(),
        );
        let pos = |a: usize| perm.iter().position(|&p| p == a);
        match (pos(st.len_axis), pos(st.ch_axis)) {
            (Some(l), Some(c)) => (st.len_axis, st.ch_axis) = (l, c),
            _ => return Err(node_err(node, "perm does not cover the input's axes")),
        }
        Ok(Some(st))
    }

    register_structure_hook!(&["Transpose"], transpose);

    fn unsqueeze(
        w: &mut Walk<'_, '_>,
        node: &NodeProto,
        mut st: AxisState,
    ) -> Result<Option<AxisState>> {
        let axes = w.index.ints_attr_or_input(node, "axes", 1)?.unwrap_or_default();
        let new_rank = st.rank + axes.len();
        let mut axes: Vec<usize> = axes.iter().map(|&a| norm_axis(a, new_rank)).collect();
        axes.sort_unstable();
        for a in axes {
            if a <= st.len_axis {
                st.len_axis += 1;
            }
            if a <= st.ch_axis {
                st.ch_axis += 1;
            }
        }
        st.rank = new_rank;
        Ok(Some(st))
    }

    register_structure_hook!(&["Unsqueeze"], unsqueeze);

    fn squeeze(
        w: &mut Walk<'_, '_>,
        node: &NodeProto,
        mut st: AxisState,
    ) -> Result<Option<AxisState>> {
        let axes = w.index.ints_attr_or_input(node, "axes", 1)?;
        let mut axes: Vec<usize> = match axes {
            Some(a) => a.iter().map(|&a| norm_axis(a, st.rank)).collect(),
            // all size-1 dims: every axis but batch, length and channels
            None => (1..st.rank).filter(|&a| a != st.len_axis && a != st.ch_axis).collect(),
        };
        if axes.contains(&st.len_axis) || axes.contains(&st.ch_axis) {
            // the sequence axis is gone (length 1 after pooling): features
            w.post(&st, PostOp::Flatten, node);
            return Ok(None);
        }
        axes.sort_unstable_by(|a, b| b.cmp(a));
        st.rank -= axes.len();
        for a in axes {
            if a < st.len_axis {
                st.len_axis -= 1;
            }
            if a < st.ch_axis {
                st.ch_axis -= 1;
            }
        }
        Ok(Some(st))
    }

    register_structure_hook!(&["Squeeze"], squeeze);

    fn pad(w: &mut Walk<'_, '_>, node: &NodeProto, mut st: AxisState) -> Result<Option<AxisState>> {
        let index = w.index;
        let pads = index.ints_attr_or_input(node, "pads", 1)?.unwrap_or_default();
        let axes = index.ints_attr_or_input(node, "axes", 3)?;
        let axes: Vec<usize> = match axes {
            Some(a) => a.iter().map(|&a| norm_axis(a, st.rank)).collect(),
            None => (0..st.rank).collect(),
        };
        let n = axes.len();
        if pads.len() == 2 * n
            && let Some(i) = axes.iter().position(|&a| a == st.len_axis)
        {
            st.pad[0] += pads[i].max(0) as usize;
            st.pad[1] += pads[i + n].max(0) as usize;
        }
        let mode = attr_str(node, "mode").unwrap_or_else(|| "constant".into());
        if mode != "constant" {
            w.note(node, &format!("{mode} padding is treated as padding for receptive fields"));
        }
        st.pad_value = attr_float(node, "value").or_else(|| {
            index
                .const_tensor(node, 2)
                .and_then(|t| tensor::to_f32(t).ok())
                .and_then(|a| a.iter().next().copied())
        });
        if st.pad_value.is_none() {
            st.pad_value = Some(0.0);
        }
        Ok(Some(st))
    }

    register_structure_hook!(&["Pad"], pad);

    /// A slice reversing both the sequence and the channel axis: the model
    /// scores the reverse complement too.
    fn slice(w: &mut Walk<'_, '_>, node: &NodeProto, st: AxisState) -> Result<Option<AxisState>> {
        let steps = w.index.const_i64(node, 4);
        let axes = w.index.const_i64(node, 3);
        if let (Some(steps), Some(axes)) = (steps, axes) {
            let rev: Vec<usize> = axes
                .iter()
                .zip(&steps)
                .filter(|(_, s)| **s < 0)
                .map(|(&a, _)| norm_axis(a, st.rank))
                .collect();
            if rev.contains(&st.len_axis) && rev.contains(&st.ch_axis) {
                w.s.reverse_complement = true;
            }
        }
        Ok(Some(st))
    }

    register_structure_hook!(&["Slice"], slice);

    /// A reshape that only moves singleton axes keeps the path (tf2onnx
    /// wraps 1-D pooling this way); any other reshape, and a flatten, end
    /// it in features.
    fn reshape(
        w: &mut Walk<'_, '_>,
        node: &NodeProto,
        mut st: AxisState,
    ) -> Result<Option<AxisState>> {
        if node.op_type() == "Reshape"
            && reshape_axes(&mut st, w.index.const_i64(node, 1).as_deref())
        {
            return Ok(Some(st));
        }
        w.post(&st, PostOp::Flatten, node);
        Ok(None)
    }

    register_structure_hook!(&["Reshape", "Flatten"], reshape);
}

/// Window hooks of this family: padding is removed (the window is exactly
/// the receptive field), a reshape infers the positions, and the axis
/// moves stay.
mod window_hooks {
    use crate::build::node_proto;
    use crate::error::Result;
    use crate::graph::node_label;
    use crate::pb::NodeProto;
    use crate::window::{WindowWalk, register_window_hook, unchanged, unsupported};

    #[allow(clippy::unnecessary_wraps, reason = "every hook has the WindowHook signature")]
    fn pad(_: &mut WindowWalk<'_, '_>, n: &NodeProto, m: &mut NodeProto) -> Result<()> {
        *m = node_proto(
            &node_label(n),
            "Identity",
            &[n.input[0].as_str()],
            &[n.output[0].as_str()],
            &[],
        );
        Ok(())
    }

    register_window_hook!(&["Pad"], pad);

    /// A reshape that only moves singleton axes (tf2onnx around its pools)
    /// names the batch and the full-length positions as literals; on a
    /// window, the batch is copied (0) and the positions inferred (-1).
    /// Anything else that fixes a length would break on windows.
    fn reshape(w: &mut WindowWalk<'_, '_>, n: &NodeProto, m: &mut NodeProto) -> Result<()> {
        let Some(shape) = w.index.const_i64(n, 1) else { return Ok(()) };
        let channels = w.current.map_or(4, |c| w.s.convs[c].out_channels) as i64;
        let mut t = shape.clone();
        if t.first() == Some(&-1) {
            t[0] = 0;
        }
        let positions: Vec<usize> =
            (1..t.len()).filter(|&i| t[i] == -1 || (t[i] > 1 && t[i] != channels)).collect();
        let chans = (1..t.len()).filter(|&i| t[i] == channels).count();
        match positions.as_slice() {
            [p] if chans <= 1 => {
                t[*p] = -1;
                let name = format!("{}.window_shape", node_label(n));
                w.window_consts.push(crate::tensor::from_i64(&name, &[t.len()], &t));
                m.input[1] = name;
            }
            _ if w.s.input.length.is_some_and(|l| shape.iter().any(|&v| v as usize == l)) => {
                return Err(unsupported(n, "a reshape to the model's fixed length"));
            }
            _ => {}
        }
        Ok(())
    }

    register_window_hook!(&["Reshape"], reshape);
    register_window_hook!(&["Transpose", "Unsqueeze", "Squeeze"], unchanged);
}

// DeepLIFT: moving, padding and cutting values is linear.
crate::register_multiplier_rule!(
    ["Flatten", "Reshape", "Squeeze", "Unsqueeze", "Transpose", "Concat", "Pad", "Slice"],
    crate::autodiff::deeplift::Multiplier::Linear
);
