//! Conv: input gradients as a ConvTranspose with the forward weights,
//! weight gradients as a Conv over the batch axis (input and output
//! gradient swapped into channels), bias gradients as a sum.

use crate::build::Attr;
use crate::error::Result;
use crate::graph::{attr_int, node_err};
use crate::pb::NodeProto;

use super::super::shapes::Window;
use super::{Ctx, GradRule, input};

fn ints(v: &[usize]) -> Attr {
    Attr::Ints(v.iter().map(|&x| x as i64).collect())
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
        if needs[0] {
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
        if needs[1] {
            let mut perm: Vec<usize> = (0..r + 2).collect();
            perm.swap(0, 1);
            let xt = cx.transpose(x, &perm);
            let gt = cx.transpose(dy, &perm);
            let c = cx.op(
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
            let mut c = c;
            let fits: Vec<usize> = (0..r)
                .map(|i| {
                    (xs[2 + i] + win.pad_begin[i] + win.pad_end[i]
                        - win.strides[i] * (ys[2 + i] - 1)
                        - 1)
                        / win.dilations[i]
                        + 1
                })
                .collect();
            if fits.iter().zip(&ws[2..]).any(|(f, k)| f != k) {
                let axes: Vec<usize> = (2..r + 2).collect();
                let ends: Vec<i64> = ws[2..].iter().map(|&k| k as i64).collect();
                c = cx.slice(&c, &axes, &vec![0; r], &ends, &vec![1; r]);
            }
            out[1] = Some(cx.transpose(&c, &perm));
        }
        if needs.len() > 2 && needs[2] {
            let axes: Vec<usize> = std::iter::once(0).chain(2..r + 2).collect();
            out[2] = Some(cx.reduce_sum(dy, &axes, false));
        }
        Ok(out)
    }
}
crate::register_grad_rule!("Conv", Conv);
