//! Fine affinities computed once per unordered pair of seqlets.
//!
//! The continuous Jaccard of child `C` at an offset against parent `P`
//! adds, over the rows where the two overlap, per-row sums of
//! `min(|x|, |y|)·sign(x)·sign(y)` and `max(|x|, |y|)` — symmetric in the
//! two seqlets — and, over the child's rows that hang over the parent's
//! zero padding, the child's own row totals. So the overlap sums of `i`
//! against `j` serve `j` against `i` too (at the opposite offset, or the
//! same offset on the other strand), and only the overhanging part differs:
//! each kNN pair that is in both seqlets' lists costs one computation
//! instead of two, and rows over the padding cost nothing.
//!
//! Used when every representation is `(len, 8)` of one length with the
//! last four channels (the actual contributions of a one-hot sequence)
//! holding at most one nonzero per row: that half of a row then costs one
//! comparison instead of four. Channels are added in a complement-symmetric
//! order (`((c0 + c3) + (c1 + c2))`), so a row pair's sums do not depend
//! on which strand either is read on; positions are added in float64, in
//! the order of the lower-numbered seqlet's forward rows.

use crate::affinity::SignumOrZero;
use ndarray::Array2;
use rayon::prelude::*;

/// Partners aligned to one seqlet per block of lanes.
const LANES: usize = 16;

/// One orientation of a seqlet, split for the kernel: per row the four
/// first channels' magnitudes and signs, the one nonzero of the last four
/// (its channel as a float, 4 for none; magnitude; sign), and the prefix
/// sums (float64) of the row totals `Σ|x|`.
struct Rows {
    abs: Vec<[f32; 4]>,
    sign: Vec<[f32; 4]>,
    code: Vec<f32>,
    tail_abs: Vec<f32>,
    tail_sign: Vec<f32>,
    prefix: Vec<f64>,
}

impl Rows {
    /// `None` when a row has more than one nonzero among channels 4..8.
    fn of(x: &Array2<f32>) -> Option<Self> {
        let len = x.nrows();
        let mut r = Self {
            abs: Vec::with_capacity(len),
            sign: Vec::with_capacity(len),
            code: Vec::with_capacity(len),
            tail_abs: Vec::with_capacity(len),
            tail_sign: Vec::with_capacity(len),
            prefix: Vec::with_capacity(len + 1),
        };
        r.prefix.push(0.0);
        for row in x.rows() {
            let a: [f32; 4] = std::array::from_fn(|k| row[k].abs());
            r.abs.push(a);
            r.sign.push(std::array::from_fn(|k| row[k].signum_or_zero()));
            let mut tail = (4.0, 0.0, 0.0);
            for k in 4..8 {
                if row[k] != 0.0 {
                    if tail.0 != 4.0 {
                        return None;
                    }
                    tail = ((k - 4) as f32, row[k].abs(), row[k].signum_or_zero());
                }
            }
            r.code.push(tail.0);
            r.tail_abs.push(tail.1);
            r.tail_sign.push(tail.2);
            let total = ((a[0] + a[3]) + (a[1] + a[2])) + tail.1;
            let last = r.prefix[r.prefix.len() - 1];
            r.prefix.push(last + f64::from(total));
        }
        Some(r)
    }

    fn len(&self) -> usize {
        self.code.len()
    }

    /// Summed row totals outside rows `[a, b)`.
    fn outside(&self, a: usize, b: usize) -> f64 {
        self.prefix[a] + (self.prefix[self.len()] - self.prefix[b])
    }
}

/// The representations split for the kernel: forward and reverse rows.
pub struct Split {
    f: Vec<Rows>,
    r: Vec<Rows>,
}

impl Split {
    /// The representations split, or `None` when the fast path does not
    /// apply.
    #[must_use]
    pub fn of(fwd: &[Array2<f32>], rev: &[Array2<f32>]) -> Option<Self> {
        let len = fwd.first()?.nrows();
        if fwd.iter().chain(rev).any(|x| x.dim() != (len, 8)) {
            return None;
        }
        let f: Option<Vec<Rows>> = fwd.par_iter().map(Rows::of).collect();
        let r: Option<Vec<Rows>> = rev.par_iter().map(Rows::of).collect();
        Some(Self { f: f?, r: r? })
    }

    /// [`crate::affinity::fine_affinity`] by unordered pairs.
    #[must_use]
    pub fn affinities(&self, neighbors: &[Vec<u32>]) -> Vec<Vec<f32>> {
        let (f, r) = (&self.f, &self.r);
        let Some(first) = f.first() else {
            return vec![Vec::new(); neighbors.len()];
        };
        let pad = (first.len() as f64 * (1.0 - 0.7)) as usize;
        let tasks = tasks(neighbors);
        let scores: Vec<Vec<(f32, f32)>> = tasks
            .par_iter()
            .enumerate()
            .map_init(Block::default, |block, (lo, list)| pair_scores(lo, list, (f, r), pad, block))
            .collect();
        let value = |i: usize, j: usize| -> f32 {
            let (lo, hi) = (i.min(j), i.max(j));
            let k = tasks[lo].binary_search(&(hi as u32)).expect("a task per pair");
            if i <= j { scores[lo][k].0 } else { scores[lo][k].1 }
        };
        neighbors
            .par_iter()
            .enumerate()
            .map(|(i, nb)| nb.iter().map(|&j| value(i, j as usize)).collect())
            .collect()
    }
}

/// Per seqlet `lo`, the partners `hi ≥ lo` it forms a kNN pair with (in
/// either's list), sorted.
fn tasks(neighbors: &[Vec<u32>]) -> Vec<Vec<u32>> {
    let n = neighbors.len();
    let mut count = vec![0usize; n];
    for (i, nb) in neighbors.iter().enumerate() {
        for &j in nb {
            count[i.min(j as usize)] += 1;
        }
    }
    let mut out: Vec<Vec<u32>> = count.iter().map(|&c| Vec::with_capacity(c)).collect();
    for (i, nb) in neighbors.iter().enumerate() {
        for &j in nb {
            let i = u32::try_from(i).expect("fewer than 2³² seqlets");
            out[i.min(j) as usize].push(i.max(j));
        }
    }
    out.par_iter_mut().for_each(|list| {
        list.sort_unstable();
        list.dedup();
        list.shrink_to_fit();
    });
    out
}

/// One row of a block of partners, lane-interleaved: the four first
/// channels' magnitudes and signs, and the last four's nonzero (channel,
/// magnitude, sign).
#[derive(Clone, Copy)]
struct LaneRow {
    abs: [[f32; LANES]; 4],
    sign: [[f32; LANES]; 4],
    code: [f32; LANES],
    tail_abs: [f32; LANES],
    tail_sign: [f32; LANES],
}

const EMPTY_ROW: LaneRow = LaneRow {
    abs: [[0.0; LANES]; 4],
    sign: [[0.0; LANES]; 4],
    code: [4.0; LANES],
    tail_abs: [0.0; LANES],
    tail_sign: [0.0; LANES],
};

/// Scratch: a block of partners' rows.
#[derive(Default)]
struct Block {
    rows: Vec<LaneRow>,
}

impl Block {
    fn load(&mut self, ys: &[&Rows], len: usize) {
        self.rows.resize(len, EMPTY_ROW);
        for (c, y) in ys.iter().enumerate() {
            for (r, row) in self.rows.iter_mut().enumerate() {
                for k in 0..4 {
                    row.abs[k][c] = y.abs[r][k];
                    row.sign[k][c] = y.sign[r][k];
                }
                row.code[c] = y.code[r];
                row.tail_abs[c] = y.tail_abs[r];
                row.tail_sign[c] = y.tail_sign[r];
            }
        }
    }
}

/// One row pair's sums per lane (numerator, denominator), float32:
/// channels in the strand-symmetric order.
#[inline(always)]
fn row_sums(x: &Rows, p: usize, y: &LaneRow) -> ([f32; LANES], [f32; LANES]) {
    let (xa, xs) = (x.abs[p], x.sign[p]);
    let mut t = [[0f32; LANES]; 4];
    let mut u = [[0f32; LANES]; 4];
    for k in 0..4 {
        for c in 0..LANES {
            let ya = y.abs[k][c];
            let (lo, hi) = if ya > xa[k] { (xa[k], ya) } else { (ya, xa[k]) };
            t[k][c] = lo * (xs[k] * y.sign[k][c]);
            u[k][c] = hi;
        }
    }
    let (xc, xt, xts) = (x.code[p], x.tail_abs[p], x.tail_sign[p]);
    let mut n = [0f32; LANES];
    let mut d = [0f32; LANES];
    for c in 0..LANES {
        let yt = y.tail_abs[c];
        let same = y.code[c] == xc;
        let (lo, hi) = if yt > xt { (xt, yt) } else { (yt, xt) };
        let tn = if same { lo * (xts * y.tail_sign[c]) } else { 0.0 };
        let td = if same { hi } else { xt + yt };
        n[c] = ((t[0][c] + t[3][c]) + (t[1][c] + t[2][c])) + tn;
        d[c] = ((u[0][c] + u[3][c]) + (u[1][c] + u[2][c])) + td;
    }
    (n, d)
}

/// Parent rows `[p0, p1)` meeting child rows `[p0 − s, p1 − s)`.
#[derive(Clone, Copy)]
struct Span {
    p0: usize,
    p1: usize,
    s: isize,
}

/// Per-lane sums over a span.
type Sums = ([f64; LANES], [f64; LANES]);

/// The per-lane overlap sums (numerator, denominator) of `x`'s rows
/// against the block's over `span`: row sums in float32, added up in
/// float64.
#[inline(always)]
fn overlap_sums(x: &Rows, b: &Block, span: Span) -> Sums {
    let Span { p0, p1, s } = span;
    let mut num = [0f64; LANES];
    let mut den = [0f64; LANES];
    let r0 = (p0 as isize - s) as usize;
    for (p, y) in (p0..p1).zip(&b.rows[r0..r0 + (p1 - p0)]) {
        let (n, d) = row_sums(x, p, y);
        for c in 0..LANES {
            num[c] += f64::from(n[c]);
            den[c] += f64::from(d[c]);
        }
    }
    (num, den)
}

/// [`overlap_sums`] compiled for AVX2 (no FMA: bit-identical).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn overlap_sums_avx2(x: &Rows, b: &Block, span: Span) -> Sums {
    overlap_sums(x, b, span)
}

fn overlap_dispatch(x: &Rows, b: &Block, span: Span) -> Sums {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        #[allow(unsafe_code)]
        // SAFETY: the function only enables AVX2, which the CPU was just
        // checked to support.
        return unsafe { overlap_sums_avx2(x, b, span) };
    }
    overlap_sums(x, b, span)
}

/// Best score over offsets: the largest, NaN when every one is NaN.
fn better(best: f32, score: f32) -> f32 {
    if best.is_nan() || score > best { score } else { best }
}

/// Fine affinities of every pair of `lo` (forward) with its partners: for
/// each task, (`lo`'s affinity to `hi`, `hi`'s to `lo`), each the better
/// of the two strands.
fn pair_scores(
    lo: usize,
    list: &[u32],
    (fwd, rev): (&[Rows], &[Rows]),
    pad: usize,
    block: &mut Block,
) -> Vec<(f32, f32)> {
    let x = &fwd[lo];
    let len = x.len();
    let mut out = vec![(f32::NAN, f32::NAN); list.len()];
    for (chunk, res) in list.chunks(LANES).zip(out.chunks_mut(LANES)) {
        for set in [fwd, rev] {
            let ys: Vec<&Rows> = chunk.iter().map(|&hi| &set[hi as usize]).collect();
            block.load(&ys, len);
            for s in -(pad as isize)..=(pad as isize) {
                // Parent rows [p0, p1) meet child rows [p0 − s, p1 − s).
                let p0 = s.max(0) as usize;
                let p1 = (s + len as isize).min(len as isize).max(0) as usize;
                if p0 >= p1 {
                    continue;
                }
                let (num, den) = overlap_dispatch(x, block, Span { p0, p1, s });
                let (r0, r1) = ((p0 as isize - s) as usize, (p1 as isize - s) as usize);
                for (c, (y, e)) in ys.iter().zip(res.iter_mut()).enumerate() {
                    // lo the parent, the partner hanging over: its rows
                    // outside [r0, r1); the partner the parent (forward,
                    // lo on the other strand when the partner is read
                    // reversed), lo hanging over: lo's rows outside
                    // [p0, p1).
                    let a = (num[c] / (den[c] + y.outside(r0, r1))) as f32;
                    let b = (num[c] / (den[c] + x.outside(p0, p1))) as f32;
                    e.0 = better(e.0, a);
                    e.1 = better(e.1, b);
                }
            }
        }
    }
    out
}

/// [`crate::affinity::fine_affinity`] by unordered pairs, or `None` when
/// the representations are not of the shape this needs.
#[must_use]
pub fn fine_affinity(
    fwd: &[Array2<f32>],
    rev: &[Array2<f32>],
    neighbors: &[Vec<u32>],
) -> Option<Vec<Vec<f32>>> {
    Some(Split::of(fwd, rev)?.affinities(neighbors))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::affinity::{fine_affinity_by_rows, representation};

    /// Seqlets of random hypothetical contributions on random one-hot
    /// sequences (one zero column), with kNN lists that are partly mutual:
    /// the pair computation gives the row-at-a-time affinities to float32
    /// rounding, and declines a dense last half.
    #[test]
    fn pairs_agree_with_rows() {
        let mut r = crate::numpy::RandomState::new(11);
        let (n, len) = (40, 30);
        let (mut fwd, mut rev) = (Vec::new(), Vec::new());
        for i in 0..n {
            let h = Array2::from_shape_fn((len, 4), |_| r.random_sample() as f32 - 0.45);
            let mut x = Array2::<f32>::zeros((len, 4));
            for l in 0..len {
                if l != 3 || i % 5 != 0 {
                    x[(l, r.interval(3) as usize)] = 1.0;
                }
            }
            let (f, b) = representation(h.view(), (&x * &h).view());
            fwd.push(f);
            rev.push(b);
        }
        let neighbors: Vec<Vec<u32>> = (0..n as u32)
            .map(|i| {
                let mut nb = vec![i];
                for k in 1..12 {
                    let j = (i * 7 + k * k * 3) % n as u32;
                    if !nb.contains(&j) {
                        nb.push(j);
                    }
                }
                nb
            })
            .collect();
        let fast = fine_affinity(&fwd, &rev, &neighbors).expect("the fast path applies");
        let rows = fine_affinity_by_rows(&fwd, &rev, &neighbors);
        let mut worst = 0f32;
        for (a, b) in fast.iter().flatten().zip(rows.iter().flatten()) {
            worst = worst.max((a - b).abs());
        }
        assert!(worst <= 1e-7, "largest difference {worst}");
        assert_eq!(fast[0][0], 1.0);
        fwd[3][(0, 5)] = 0.01;
        fwd[3][(0, 6)] = 0.01;
        assert!(fine_affinity(&fwd, &rev, &neighbors).is_none());
    }
}
