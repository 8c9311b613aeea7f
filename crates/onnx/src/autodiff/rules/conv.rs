//! Conv: input gradients as a ConvTranspose with the forward weights,
//! weight gradients as a Conv over the batch axis (input and output
//! gradient swapped into channels), bias gradients as a sum.
//!
//! When the output gradient is [`Sparse`] (one position per channel, as a
//! global max pool sends back) and the convolution is 1-D with stride and
//! dilation 1, the weight gradient reads only those windows: for each
//! output channel c, `Σ_n` dy[n, c] · x[n, :, at(n, c) + k], one gather and
//! one batched product instead of a convolution over the whole batch.

use crate::build::Attr;
use crate::error::Result;
use crate::graph::{attr_int, node_err};
use crate::pb::NodeProto;

use super::super::emit::Sparse;
use super::super::shapes::Window;
use super::{Ctx, GradRule, input};

/// The weight gradient of a 1-D, stride-1, undilated Conv from a sparse
/// output gradient (see the module docs). `xs`, `ws`: input and weight
/// shapes; `pad`: padding before and after.
fn sparse_weight_grad(
    cx: &mut Ctx,
    x: &str,
    xs: &[usize],
    ws: &[usize],
    pad: (usize, usize),
    sp: &Sparse,
) -> String {
    let (nb, cin, cout, k) = (xs[0], xs[1], ws[0], ws[2]);
    let lp = xs[2] + pad.0 + pad.1;
    let ly = lp + 1 - k;
    let xp = cx.pad(x, &[0, 0, pad.0], &[0, 0, pad.1], 0.0);
    // every window as a row: (N·Ly, K·Cin), offset-major
    let xt = cx.transpose(&xp, &[0, 2, 1]);
    let table: Vec<i64> = (0..ly).flat_map(|j| (j..j + k).map(|p| p as i64)).collect();
    let table = cx.const_i64_shaped(&[ly, k], &table);
    let windows = cx.op("Gather", &[&xt, &table], &[("axis", Attr::Int(1))]);
    let rows = cx.reshape(&windows, &[nb * ly, k * cin]);
    // the window behind each (c, n): row n·Ly + at(n, c)
    let at = cx.transpose(&sp.idx, &[1, 0, 2]);
    let base: Vec<i64> = (0..nb).map(|n| (n * ly) as i64).collect();
    let base = cx.const_i64_shaped(&[1, nb, 1], &base);
    let row = cx.op("Add", &[&at, &base], &[]);
    let row = cx.reshape(&row, &[cout, nb]);
    let win = cx.op("Gather", &[&rows, &row], &[("axis", Attr::Int(0))]);
    let upd = cx.transpose(&sp.upd, &[1, 2, 0]);
    let g = cx.op("MatMul", &[&upd, &win], &[]);
    let g = cx.reshape(&g, &[cout, k, cin]);
    cx.transpose(&g, &[0, 2, 1])
}

fn ints(v: &[usize]) -> Attr {
    Attr::Ints(v.iter().map(|&x| x as i64).collect())
}

/// The weight gradient as a Conv over the batch axis: input and output
/// gradient swapped into channels (`shapes`: input, weight, output).
fn dense_weight_grad(
    cx: &mut Ctx,
    x: &str,
    dy: &str,
    shapes: [&[usize]; 3],
    win: &Window,
) -> String {
    let [xs, ws, ys] = shapes;
    let r = xs.len() - 2;
    let pads: Vec<usize> = win.pad_begin.iter().chain(&win.pad_end).copied().collect();
    let mut perm: Vec<usize> = (0..r + 2).collect();
    perm.swap(0, 1);
    let xt = cx.transpose(x, &perm);
    let gt = cx.transpose(dy, &perm);
    let mut c = cx.op(
        "Conv",
        &[&xt, &gt],
        &[
            ("kernel_shape", ints(&ys[2..])),
            ("strides", ints(&win.dilations)),
            ("dilations", ints(&win.strides)),
            ("pads", ints(&pads)),
        ],
    );
    // A stride remainder leaves extra positions past the kernel.
    let fits: Vec<usize> = (0..r)
        .map(|i| {
            (xs[2 + i] + win.pad_begin[i] + win.pad_end[i] - win.strides[i] * (ys[2 + i] - 1) - 1)
                / win.dilations[i]
                + 1
        })
        .collect();
    if fits.iter().zip(&ws[2..]).any(|(f, k)| f != k) {
        let axes: Vec<usize> = (2..r + 2).collect();
        let ends: Vec<i64> = ws[2..].iter().map(|&k| k as i64).collect();
        c = cx.slice(&c, &axes, &vec![0; r], &ends, &vec![1; r]);
    }
    cx.transpose(&c, &perm)
}

struct Conv;
impl GradRule for Conv {
    fn backward(
        &self,
        cx: &mut Ctx,
        n: &NodeProto,
        dy: &str,
        needs: &[bool],
    ) -> Result<Vec<Option<String>>> {
        let (x, w) = (input(n, 0), input(n, 1));
        if attr_int(n, "group").unwrap_or(1) != 1 {
            return Err(node_err(n, "grouped convolution has no gradient rule yet"));
        }
        let xs = cx.shape(x);
        let ws = cx.shape(w);
        let ys = cx.shape(&n.output[0]);
        let r = xs.len() - 2;
        let win = Window::of(n, &xs[2..], &ws[2..], false)?;
        let pads: Vec<usize> = win.pad_begin.iter().chain(&win.pad_end).copied().collect();
        let mut out = vec![None; needs.len()];
        // Stride 1: the input gradient is a convolution of dy with the
        // kernel transposed (in ↔ out) and flipped, padded by the kernel's
        // reach minus the forward padding. ONNX Runtime runs Conv about
        // twice as fast as ConvTranspose; the kernel's transpose and flip
        // read an initializer, which the engines fold once.
        let reach: Vec<usize> = (0..r).map(|i| (ws[2 + i] - 1) * win.dilations[i]).collect();
        let as_conv = win.strides.iter().all(|&s| s == 1)
            && (0..r).all(|i| win.pad_begin[i] <= reach[i] && win.pad_end[i] <= reach[i]);
        if needs[0] && as_conv {
            let mut perm: Vec<usize> = vec![1, 0];
            perm.extend(2..r + 2);
            let wt = cx.transpose(w, &perm);
            let axes: Vec<usize> = (2..r + 2).collect();
            let flipped = cx.slice(&wt, &axes, &vec![-1; r], &vec![i64::MIN; r], &vec![-1; r]);
            let back: Vec<usize> = (0..r)
                .map(|i| reach[i] - win.pad_begin[i])
                .chain((0..r).map(|i| reach[i] - win.pad_end[i]))
                .collect();
            out[0] = Some(cx.op(
                "Conv",
                &[dy, &flipped],
                &[
                    ("kernel_shape", ints(&ws[2..])),
                    ("dilations", ints(&win.dilations)),
                    ("pads", ints(&back)),
                ],
            ));
        } else if needs[0] {
            let mut extra = Vec::with_capacity(r);
            for i in 0..r {
                let span = (ws[2 + i] - 1) * win.dilations[i] + 1;
                let natural = (win.strides[i] * (ys[2 + i] - 1) + span) as i64
                    - (win.pad_begin[i] + win.pad_end[i]) as i64;
                extra.push((xs[2 + i] as i64 - natural).max(0) as usize);
            }
            out[0] = Some(cx.op(
                "ConvTranspose",
                &[dy, w],
                &[
                    ("kernel_shape", ints(&ws[2..])),
                    ("strides", ints(&win.strides)),
                    ("dilations", ints(&win.dilations)),
                    ("pads", ints(&pads)),
                    ("output_padding", ints(&extra)),
                ],
            ));
        }
        let sparse = cx.sparse(dy).filter(|sp| {
            r == 1 && sp.axis == 2 && win.strides == [1] && win.dilations == [1] && sp.shape == ys
        });
        if needs[1] {
            out[1] = Some(match &sparse {
                Some(sp) => {
                    sparse_weight_grad(cx, x, &xs, &ws, (win.pad_begin[0], win.pad_end[0]), sp)
                }
                None => dense_weight_grad(cx, x, dy, [&xs, &ws, &ys], &win),
            });
        }
        if needs.len() > 2 && needs[2] {
            let axes: Vec<usize> = std::iter::once(0).chain(2..r + 2).collect();
            let g = sparse.as_ref().map_or(dy, |sp| sp.upd.as_str());
            out[2] = Some(cx.reduce_sum(g, &axes, false));
        }
        Ok(out)
    }
}
crate::register_grad_rule!("Conv", Conv);

/// Shape rules of this family (static shapes for the gradient graphs).
mod shape_rules {
    use crate::autodiff::shapes::Info;
    use crate::autodiff::shapes::Shapes;
    use crate::autodiff::shapes::Window;
    use crate::error::Result;
    use crate::graph::attr_ints;
    use crate::graph::node_err;
    use crate::pb::NodeProto;

    /// Shapes of `Conv`.
    fn shape_conv(sh: &mut Shapes, n: &NodeProto) -> Result<()> {
        let x = sh.input(n, 0)?.shape.clone();
        let w = sh.input(n, 1)?.shape.clone();
        if x.len() < 3 || w.len() != x.len() {
            return Err(node_err(n, format!("input {x:?} and weights {w:?} do not fit")));
        }
        let win = Window::of(n, &x[2..], &w[2..], false)?;
        let mut shape = vec![x[0], w[0]];
        shape.extend(&win.out);
        sh.out(n, 0, Info::float(shape));
        Ok(())
    }

    crate::register_shape_rule!(["Conv"], shape_conv);

    /// Shapes of `ConvTranspose`.
    fn shape_conv_transpose(sh: &mut Shapes, n: &NodeProto) -> Result<()> {
        let x = sh.input(n, 0)?.shape.clone();
        let w = sh.input(n, 1)?.shape.clone();
        let r = x.len() - 2;
        let s = attr_ints(n, "strides").unwrap_or_else(|| vec![1; r]);
        let d = attr_ints(n, "dilations").unwrap_or_else(|| vec![1; r]);
        let p = attr_ints(n, "pads").unwrap_or_else(|| vec![0; 2 * r]);
        let op_ = attr_ints(n, "output_padding").unwrap_or_else(|| vec![0; r]);
        let mut shape = vec![x[0], w[1]];
        for i in 0..r {
            let v = s[i] * (x[2 + i] as i64 - 1) + op_[i] + (w[2 + i] as i64 - 1) * d[i] + 1
                - p[i]
                - p[r + i];
            shape.push(v.max(0) as usize);
        }
        sh.out(n, 0, Info::float(shape));
        Ok(())
    }

    crate::register_shape_rule!(["ConvTranspose"], shape_conv_transpose);
}

/// Structure hook of this family: a conv layer of the chain.
mod structure_hook {
    use crate::error::Result;
    use crate::graph::{attr_int, attr_ints, attr_str, node_err, node_label};
    use crate::pb::NodeProto;
    use crate::structure::{AxisState, ConvLayer, Walk, register_structure_hook};
    use crate::tensor;

    /// A conv on the tracked path: a new conv layer (its weights, stride,
    /// dilation, groups and padding, the padding ops before it included), or
    /// a shared-weight branch of one seen before. Only the node's data input
    /// continues the path; the walk ends at its weight and bias inputs.
    #[allow(
        clippy::too_many_lines,
        reason = "a conv layer's every attribute, checked in one place"
    )]
    fn conv(
        w: &mut Walk<'_, '_>,
        node: &NodeProto,
        mut st: AxisState,
    ) -> Result<Option<AxisState>> {
        if w.k != 0 {
            return Ok(None);
        }
        let (index, conv_by_weight) = (w.index, &mut *w.conv_by_weight);
        let wname = node.input.get(1).cloned().unwrap_or_default();
        let wt = index
            .constants
            .get(wname.as_str())
            .ok_or_else(|| node_err(node, "weights are not a constant initializer"))?;
        let wd = tensor::dims(wt)?;
        if st.ch_axis != 1 {
            return Err(node_err(
                node,
                format!("convolves a tensor whose channel axis is {} (expected 1)", st.ch_axis),
            ));
        }
        if wd.len() != st.rank || wd.len() < 3 {
            return Err(node_err(
                node,
                format!("weights of rank {} on an input of rank {}", wd.len(), st.rank),
            ));
        }
        let spatial = st
            .len_axis
            .checked_sub(2)
            .ok_or_else(|| node_err(node, "the sequence axis is not a spatial axis of the conv"))?;
        for (i, &d) in wd[2..].iter().enumerate() {
            if i != spatial && d != 1 {
                return Err(node_err(
                    node,
                    format!("kernel {:?} spans more than the sequence axis", &wd[2..]),
                ));
            }
        }
        let width = wd[2 + spatial];
        if wd[0] == 0 || width == 0 || wd[1] == 0 {
            return Err(node_err(
                node,
                format!("weights of shape {wd:?}: a conv needs at least one kernel of width ≥ 1"),
            ));
        }
        let at = |name: &str, default: i64| -> Result<usize> {
            let v = attr_ints(node, name).and_then(|v| v.get(spatial).copied()).unwrap_or(default);
            usize::try_from(v)
                .ok()
                .filter(|&v| v >= 1)
                .ok_or_else(|| node_err(node, format!("`{name}` = {v}: must be at least 1")))
        };
        let stride = at("strides", 1)?;
        let dilation = at("dilations", 1)?;
        if let Some(p) = attr_ints(node, "pads").filter(|p| p.iter().any(|&v| v < 0)) {
            return Err(node_err(node, format!("`pads` = {p:?}: negative padding")));
        }
        let nsp = st.rank - 2;
        let mut padding = match attr_str(node, "auto_pad").as_deref() {
            Some("SAME_UPPER" | "SAME_LOWER") => {
                let total = (width - 1) * dilation;
                if attr_str(node, "auto_pad").as_deref() == Some("SAME_UPPER") {
                    [total / 2, total - total / 2]
                } else {
                    [total - total / 2, total / 2]
                }
            }
            _ => attr_ints(node, "pads").map_or([0, 0], |p| {
                [
                    p.get(spatial).copied().unwrap_or(0) as usize,
                    p.get(spatial + nsp).copied().unwrap_or(0) as usize,
                ]
            }),
        };
        padding[0] += st.pad[0];
        padding[1] += st.pad[1];
        let groups = attr_int(node, "group").unwrap_or(1) as usize;
        let idx = if let Some(&i) = conv_by_weight.get(&wname) {
            w.s.convs[i].uses += 1;
            st.primary = false;
            i
        } else {
            let i = w.s.convs.len();
            if st.conv.is_some() && !st.primary {
                return Err(node_err(node, "new conv weights on a secondary branch"));
            }
            w.s.convs.push(ConvLayer {
                index: i,
                node: node_label(node),
                weight: wname.clone(),
                bias: node.input.get(2).filter(|b| !b.is_empty()).cloned(),
                in_channels: wd[1] * groups,
                out_channels: wd[0],
                width,
                stride,
                dilation,
                groups,
                padding,
                pad_value: st.pad_value,
                spatial_dims: nsp,
                post: Vec::new(),
                conv_output: node.output[0].clone(),
                activation_output: None,
                pooled_output: None,
                global_output: None,
                length_axis: st.len_axis,
                receptive_field: 0,
                input_stride: 0,
                uses: 1,
            });
            conv_by_weight.insert(wname, i);
            st.primary = true;
            i
        };
        st.conv = Some(idx);
        st.channels = w.s.convs[idx].out_channels;
        st.pad = [0, 0];
        st.pad_value = None;
        Ok(Some(st))
    }

    register_structure_hook!(&["Conv"], conv);
}

/// Window hook of this family: a conv of NeuronMotif's chain (stride 1,
/// undilated, one group, in chain order) loses its padding on windows.
mod window_hook {
    use crate::error::Result;
    use crate::graph::node_label;
    use crate::pb::NodeProto;
    use crate::window::{WindowWalk, register_window_hook, unsupported};

    fn conv(w: &mut WindowWalk<'_, '_>, n: &NodeProto, m: &mut NodeProto) -> Result<()> {
        let c =
            w.s.convs
                .iter()
                .position(|c| c.node == node_label(n))
                .ok_or_else(|| unsupported(n, "a conv outside the recognised chain"))?;
        if c != w.conv_seen {
            return Err(unsupported(n, "convs out of chain order"));
        }
        let conv = &w.s.convs[c];
        if conv.stride != 1 {
            return Err(unsupported(n, &format!("stride {}", conv.stride)));
        }
        if conv.dilation != 1 {
            return Err(unsupported(n, &format!("dilation {}", conv.dilation)));
        }
        if conv.groups != 1 {
            return Err(unsupported(n, &format!("{} groups", conv.groups)));
        }
        m.attribute.retain(|a| a.name() != "pads" && a.name() != "auto_pad");
        w.conv_seen += 1;
        w.current = Some(c);
        Ok(())
    }

    register_window_hook!(&["Conv"], conv);
}

/// Parameter roles of this family: kernels and biases, trained.
mod param_rules {
    use crate::autodiff::{Init, ParamRole};

    fn conv(slot: usize) -> Option<ParamRole> {
        matches!(slot, 1 | 2).then_some(ParamRole::trained(Init::Default))
    }

    crate::register_param_rule!(["Conv", "ConvTranspose"], conv);
}

// DeepLIFT: a convolution with constant weights is linear in its input.
crate::register_multiplier_rule!(["Conv"], crate::autodiff::deeplift::Multiplier::LinearIn(&[0]));
