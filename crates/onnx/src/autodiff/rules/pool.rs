//! Pooling: MaxPool, AveragePool (windows of any stride, dilation, padding
//! and ceil mode), GlobalMaxPool, GlobalAveragePool.
//!
//! Windowed pools read their windows from the padded input through a
//! static index table ((J, K): output position × window offset) and put
//! the gradient back with the transposed table as a matrix product. A 1-D
//! pool whose windows tile the input (stride = size, no dilation) takes a
//! reshape instead. A max sends the gradient to the first maximal element. An average
//! pool's gradient is one matrix product with the window weights.

use crate::error::Result;
use crate::graph::{attr_int, attr_ints, node_err};
use crate::pb::NodeProto;

use super::super::shapes::Window;
use super::{Ctx, GradRule, input, route_extreme};

/// The row-major multi-index of flat position `v` in `dims`.
fn unravel(mut v: usize, dims: &[usize]) -> Vec<usize> {
    let mut idx = vec![0; dims.len()];
    for a in (0..dims.len()).rev() {
        idx[a] = v % dims[a];
        v /= dims[a];
    }
    idx
}

/// Window geometry over the padded input.
struct Table {
    /// N, C.
    nc: [usize; 2],
    /// Input spatial dims.
    spatial: Vec<usize>,
    /// Padded spatial dims (ceil mode may pad past `pad_end`).
    padded: Vec<usize>,
    /// Padding before each axis.
    begin: Vec<usize>,
    /// Output positions.
    j: usize,
    /// Offsets per window.
    k: usize,
    /// Flat padded index of offset k of window j, row-major (j, k).
    index: Vec<i64>,
    /// Whether windows tile the padded input from 0 in order.
    tiled: bool,
}

impl Table {
    fn of(cx: &Ctx, n: &NodeProto) -> Result<(Self, Window)> {
        let xs = cx.shape(input(n, 0));
        let kernel: Vec<usize> = attr_ints(n, "kernel_shape")
            .ok_or_else(|| node_err(n, "no `kernel_shape`"))?
            .into_iter()
            .map(|v| v as usize)
            .collect();
        let win = Window::of(n, &xs[2..], &kernel, attr_int(n, "ceil_mode") == Some(1))?;
        let r = kernel.len();
        let padded: Vec<usize> = (0..r)
            .map(|i| {
                let need =
                    (win.out[i] - 1) * win.strides[i] + (kernel[i] - 1) * win.dilations[i] + 1;
                need.max(xs[2 + i] + win.pad_begin[i] + win.pad_end[i])
            })
            .collect();
        let j: usize = win.out.iter().product();
        let k: usize = kernel.iter().product();
        let mut index = Vec::with_capacity(j * k);
        for jj in 0..j {
            let oj = unravel(jj, &win.out);
            for kk in 0..k {
                let ok = unravel(kk, &kernel);
                let mut flat = 0;
                for a in 0..r {
                    flat = flat * padded[a] + oj[a] * win.strides[a] + ok[a] * win.dilations[a];
                }
                index.push(flat as i64);
            }
        }
        let tiled = index.iter().enumerate().all(|(i, &v)| v == i as i64);
        let table = Self {
            nc: [xs[0], xs[1]],
            spatial: xs[2..].to_vec(),
            padded,
            begin: win.pad_begin.clone(),
            j,
            k,
            index,
            tiled,
        };
        Ok((table, win))
    }

    fn flat(&self) -> usize {
        self.padded.iter().product()
    }

    fn nc_then(&self, rest: &[usize]) -> Vec<usize> {
        let mut v = self.nc.to_vec();
        v.extend(rest);
        v
    }

    /// `x` padded with `fill`, as (N, C, J, K) windows.
    fn windows(&self, cx: &mut Ctx, x: &str, fill: f32) -> String {
        let mut begin = vec![0, 0];
        begin.extend(&self.begin);
        let mut end = vec![0, 0];
        end.extend(
            (0..self.spatial.len()).map(|a| self.padded[a] - self.spatial[a] - self.begin[a]),
        );
        let xp = cx.pad(x, &begin, &end, fill);
        let flat = cx.reshape(&xp, &self.nc_then(&[self.flat()]));
        if self.tiled {
            let used = cx.slice(&flat, &[2], &[0], &[(self.j * self.k) as i64], &[1]);
            cx.reshape(&used, &self.nc_then(&[self.j, self.k]))
        } else {
            let idx = cx.const_i64_shaped(&[self.j, self.k], &self.index);
            cx.op("Gather", &[&flat, &idx], &[("axis", crate::build::Attr::Int(2))])
        }
    }

    /// Per-window gradients (N, C, J·K) scattered back onto the input.
    fn scatter(&self, cx: &mut Ctx, g: &str) -> String {
        let flat = if self.tiled {
            let mut end = vec![0, 0];
            end.push(self.flat() - self.j * self.k);
            cx.pad(g, &[0, 0, 0], &end, 0.0)
        } else {
            let p = self.flat();
            let mut m = vec![0f32; self.j * self.k * p];
            for (row, &col) in self.index.iter().enumerate() {
                m[row * p + col as usize] = 1.0;
            }
            let m = cx.const_f32(&[self.j * self.k, p], &m);
            cx.op("MatMul", &[g, &m], &[])
        };
        self.unpad(cx, &flat)
    }

    /// (N, C, padded positions, flattened) back to the input's shape.
    fn unpad(&self, cx: &mut Ctx, flat: &str) -> String {
        let full = cx.reshape(flat, &self.nc_then(&self.padded));
        let r = self.spatial.len();
        let axes: Vec<usize> = (2..r + 2).collect();
        let starts: Vec<i64> = self.begin.iter().map(|&b| b as i64).collect();
        let ends: Vec<i64> = (0..r).map(|a| (self.begin[a] + self.spatial[a]) as i64).collect();
        if self.padded == self.spatial {
            full
        } else {
            cx.slice(&full, &axes, &starts, &ends, &vec![1; r])
        }
    }
}

struct MaxPool;
impl GradRule for MaxPool {
    fn backward(
        &self,
        cx: &mut Ctx,
        n: &NodeProto,
        dy: &str,
        _: &[bool],
    ) -> Result<Vec<Option<String>>> {
        let (t, _) = Table::of(cx, n)?;
        let xw = t.windows(cx, input(n, 0), f32::NEG_INFINITY);
        let y4 = cx.reshape(&n.output[0], &t.nc_then(&[t.j, 1]));
        let g4 = cx.reshape(dy, &t.nc_then(&[t.j, 1]));
        let gw = route_extreme(cx, &xw, t.nc_then(&[t.j, t.k]), &y4, &g4, &[3], true);
        let gw = cx.reshape(&gw, &t.nc_then(&[t.j * t.k]));
        Ok(vec![Some(t.scatter(cx, &gw))])
    }
}
crate::register_grad_rule!("MaxPool", MaxPool);

struct AveragePool;
impl GradRule for AveragePool {
    fn backward(
        &self,
        cx: &mut Ctx,
        n: &NodeProto,
        dy: &str,
        _: &[bool],
    ) -> Result<Vec<Option<String>>> {
        let (t, win) = Table::of(cx, n)?;
        let include_pad = attr_int(n, "count_include_pad") == Some(1);
        // dx = dy (N, C, J) × A (J × padded positions), A holding 1/divisor
        // at each window's positions. The divisor of a window: its positions
        // inside the input (or inside the declared padding with
        // count_include_pad).
        let p = t.flat();
        let mut a = vec![0f32; t.j * p];
        for jj in 0..t.j {
            let oj = unravel(jj, &win.out);
            let mut count = 1usize;
            for (a, &o) in oj.iter().enumerate() {
                let (lo, hi) = if include_pad {
                    (0, t.spatial[a] + win.pad_begin[a] + win.pad_end[a])
                } else {
                    (win.pad_begin[a], win.pad_begin[a] + t.spatial[a])
                };
                count *= (0..win.kernel[a])
                    .map(|k| o * win.strides[a] + k * win.dilations[a])
                    .filter(|&p| p >= lo && p < hi)
                    .count();
            }
            let w = 1.0 / count.max(1) as f32;
            for &col in &t.index[jj * t.k..(jj + 1) * t.k] {
                a[jj * p + col as usize] += w;
            }
        }
        let a = cx.const_f32(&[t.j, p], &a);
        let g3 = cx.reshape(dy, &t.nc_then(&[t.j]));
        let flat = cx.op("MatMul", &[&g3, &a], &[]);
        Ok(vec![Some(t.unpad(cx, &flat))])
    }
}
crate::register_grad_rule!("AveragePool", AveragePool);

struct GlobalMaxPool;
impl GradRule for GlobalMaxPool {
    fn backward(
        &self,
        cx: &mut Ctx,
        n: &NodeProto,
        dy: &str,
        _: &[bool],
    ) -> Result<Vec<Option<String>>> {
        let x = input(n, 0);
        let xs = cx.shape(x);
        if xs.len() == 3 {
            return Ok(vec![Some(route_extreme(cx, x, xs, &n.output[0], dy, &[2], true))]);
        }
        // several spatial axes: one (N, C, H·W…) axis, then back
        let flat = [xs[0], xs[1], xs[2..].iter().product()];
        let xf = cx.reshape(x, &flat);
        let yf = cx.reshape(&n.output[0], &[xs[0], xs[1], 1]);
        let gf = cx.reshape(dy, &[xs[0], xs[1], 1]);
        let g = route_extreme(cx, &xf, flat.to_vec(), &yf, &gf, &[2], true);
        Ok(vec![Some(cx.reshape(&g, &xs))])
    }
}
crate::register_grad_rule!("GlobalMaxPool", GlobalMaxPool);

struct GlobalAveragePool;
impl GradRule for GlobalAveragePool {
    fn backward(
        &self,
        cx: &mut Ctx,
        n: &NodeProto,
        dy: &str,
        _: &[bool],
    ) -> Result<Vec<Option<String>>> {
        let xs = cx.shape(input(n, 0));
        let inv = cx.scalar(1.0 / xs[2..].iter().product::<usize>() as f32);
        let g = cx.op("Mul", &[dy, &inv], &[]);
        Ok(vec![Some(cx.expand(&g, &xs))])
    }
}
crate::register_grad_rule!("GlobalAveragePool", GlobalAveragePool);

/// Shape rules of this family (static shapes for the gradient graphs).
mod shape_rules {
    use crate::autodiff::shapes::Elem;
    use crate::autodiff::shapes::Info;
    use crate::autodiff::shapes::Shapes;
    use crate::autodiff::shapes::Window;
    use crate::error::Result;
    use crate::graph::attr_int;
    use crate::graph::attr_ints;
    use crate::graph::node_err;
    use crate::pb::NodeProto;

    /// Shapes of `MaxPool`, `AveragePool`.
    fn shape_max_pool(sh: &mut Shapes, n: &NodeProto) -> Result<()> {
        let x = sh.input(n, 0)?.shape.clone();
        let k: Vec<usize> = attr_ints(n, "kernel_shape")
            .ok_or_else(|| node_err(n, "no `kernel_shape`"))?
            .into_iter()
            .map(|v| v as usize)
            .collect();
        let ceil = attr_int(n, "ceil_mode") == Some(1);
        let win = Window::of(n, x.get(2..).unwrap_or(&[]), &k, ceil)?;
        let mut shape = x[..2].to_vec();
        shape.extend(&win.out);
        sh.out(n, 1, Info::of(shape.clone(), Elem::Int));
        sh.out(n, 0, Info::float(shape));
        Ok(())
    }

    crate::register_shape_rule!(["MaxPool", "AveragePool"], shape_max_pool);

    /// Shapes of `GlobalMaxPool`, `GlobalAveragePool`.
    fn shape_global_max_pool(sh: &mut Shapes, n: &NodeProto) -> Result<()> {
        let x = sh.input(n, 0)?.shape.clone();
        let mut shape = x.clone();
        for d in shape.iter_mut().skip(2) {
            *d = 1;
        }
        sh.out(n, 0, Info::float(shape));
        Ok(())
    }

    crate::register_shape_rule!(["GlobalMaxPool", "GlobalAveragePool"], shape_global_max_pool);
}

/// Structure hooks of this family: pooling after a conv (windowed pools
/// continue the path; global pools end it in pooled scores).
#[allow(clippy::unnecessary_wraps, reason = "every hook has the StructureHook signature")]
mod structure_hooks {
    use crate::error::Result;
    use crate::graph::{attr_ints, node_err};
    use crate::pb::NodeProto;
    use crate::structure::{AxisState, PostOp, Walk, register_structure_hook};

    fn pool(w: &mut Walk<'_, '_>, node: &NodeProto, st: AxisState) -> Result<Option<AxisState>> {
        let i = st
            .len_axis
            .checked_sub(2)
            .ok_or_else(|| node_err(node, "pooling over the batch or channel axis"))?;
        let ks =
            attr_ints(node, "kernel_shape").ok_or_else(|| node_err(node, "no kernel_shape"))?;
        let size = *ks
            .get(i)
            .ok_or_else(|| node_err(node, "kernel_shape does not cover the sequence axis"))?
            as usize;
        let stride =
            attr_ints(node, "strides").and_then(|s| s.get(i).copied()).unwrap_or(1) as usize;
        if !(1..=1 << 24).contains(&size) || !(1..=1 << 24).contains(&stride) {
            return Err(node_err(
                node,
                format!("pool size {size} and stride {stride}: both must be at least 1"),
            ));
        }
        let p = if node.op_type() == "MaxPool" {
            PostOp::MaxPool { size, stride }
        } else {
            PostOp::AvgPool { size, stride }
        };
        w.post(&st, p, node);
        Ok(Some(st))
    }

    register_structure_hook!(&["MaxPool", "AveragePool"], pool);

    fn global_pool(
        w: &mut Walk<'_, '_>,
        node: &NodeProto,
        st: AxisState,
    ) -> Result<Option<AxisState>> {
        let p = if node.op_type() == "GlobalMaxPool" {
            PostOp::GlobalMaxPool
        } else {
            PostOp::GlobalAvgPool
        };
        w.post(&st, p, node);
        Ok(None)
    }

    register_structure_hook!(&["GlobalMaxPool", "GlobalAveragePool"], global_pool);
}

/// Window hooks of this family: non-overlapping max pools (NeuronMotif's
/// pool = stride) lose their padding; other pools are refused.
mod window_hooks {
    use crate::error::Result;
    use crate::graph::attr_ints;
    use crate::pb::NodeProto;
    use crate::window::{WindowWalk, register_window_hook, unsupported};

    fn max_pool(w: &mut WindowWalk<'_, '_>, n: &NodeProto, m: &mut NodeProto) -> Result<()> {
        let ks = attr_ints(n, "kernel_shape").unwrap_or_default();
        let st = attr_ints(n, "strides").unwrap_or_else(|| vec![1; ks.len()]);
        let dil = attr_ints(n, "dilations").unwrap_or_default();
        if dil.iter().any(|&d| d != 1) {
            return Err(unsupported(n, "a dilated pool"));
        }
        if ks != st {
            return Err(unsupported(
                n,
                &format!("an overlapping pool (size {ks:?}, stride {st:?})"),
            ));
        }
        let size = ks.iter().product::<i64>().max(1) as usize;
        let c = w.current.ok_or_else(|| unsupported(n, "pooling before the first conv"))?;
        if w.pools[c] != 1 && size != 1 {
            return Err(unsupported(n, "a second pool after one conv"));
        }
        w.pools[c] = size;
        m.attribute.retain(|a| !matches!(a.name(), "pads" | "auto_pad" | "ceil_mode"));
        Ok(())
    }

    register_window_hook!(&["MaxPool"], max_pool);

    fn average_pool(_: &mut WindowWalk<'_, '_>, n: &NodeProto, _: &mut NodeProto) -> Result<()> {
        Err(unsupported(n, "average pooling"))
    }

    register_window_hook!(&["AveragePool", "LpPool"], average_pool);
}

/// DeepLIFT's rules of this family: averages are linear, maxima route by
/// cross-max.
mod multipliers {
    use crate::autodiff::deeplift::Multiplier;
    crate::register_multiplier_rule!(["AveragePool", "GlobalAveragePool"], Multiplier::Linear);
    crate::register_multiplier_rule!(
        ["MaxPool", "GlobalMaxPool"],
        Multiplier::CrossExtreme { max: true }
    );
}
