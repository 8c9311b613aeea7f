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
use motif_core::plugin::Table;
use ndarray::Array2;
use rayon::prelude::*;

/// Partners aligned to one seqlet per block of lanes.
const LANES: usize = 16;

/// Fields of a [`Packed`] row (and of a [`LaneRow`]): the four first
/// channels' magnitudes, their signs, then the one nonzero of the last
/// four (its channel as a float, 4 for none; magnitude; sign).
const ABS: usize = 0;
const SIGN: usize = 4;
const CODE: usize = 8;
const TAIL_ABS: usize = 9;
const TAIL_SIGN: usize = 10;
const FIELDS: usize = 11;

/// One row of one seqlet split for the kernel (fields as [`ABS`] ...).
type Packed = [f32; FIELDS];

/// One orientation of every seqlet, split for the kernel: `len` packed rows
/// per seqlet, and per seqlet the prefix sums (float64) of the row totals
/// `Σ|x|` (`len + 1` each).
struct Strand {
    len: usize,
    rows: Vec<Packed>,
    prefix: Vec<f64>,
}

impl Strand {
    /// `None` when a row has more than one nonzero among channels 4..8 (the
    /// shapes are checked by the caller).
    fn of(xs: &[Array2<f32>], len: usize) -> Option<Self> {
        let mut s = Self {
            len,
            rows: Vec::with_capacity(xs.len() * len),
            prefix: Vec::with_capacity(xs.len() * (len + 1)),
        };
        for x in xs {
            let mut last = 0.0;
            s.prefix.push(last);
            for row in x.rows() {
                let mut packed = [0f32; FIELDS];
                for k in 0..4 {
                    packed[ABS + k] = row[k].abs();
                    packed[SIGN + k] = row[k].signum_or_zero();
                }
                packed[CODE] = 4.0;
                for k in 4..8 {
                    if row[k] != 0.0 {
                        if packed[CODE] != 4.0 {
                            return None;
                        }
                        packed[CODE] = (k - 4) as f32;
                        packed[TAIL_ABS] = row[k].abs();
                        packed[TAIL_SIGN] = row[k].signum_or_zero();
                    }
                }
                let a = &packed[ABS..ABS + 4];
                let total = ((a[0] + a[3]) + (a[1] + a[2])) + packed[TAIL_ABS];
                last += f64::from(total);
                s.prefix.push(last);
                s.rows.push(packed);
            }
        }
        Some(s)
    }

    /// Seqlet `i`'s rows.
    fn rows(&self, i: usize) -> Rows<'_> {
        Rows {
            rows: &self.rows[i * self.len..(i + 1) * self.len],
            prefix: &self.prefix[i * (self.len + 1)..(i + 1) * (self.len + 1)],
        }
    }
}

/// One orientation of one seqlet, as [`Strand`] holds it.
#[derive(Clone, Copy)]
struct Rows<'a> {
    rows: &'a [Packed],
    prefix: &'a [f64],
}

impl Rows<'_> {
    fn len(&self) -> usize {
        self.rows.len()
    }

    /// Summed row totals outside rows `[a, b)`.
    fn outside(&self, a: usize, b: usize) -> f64 {
        self.prefix[a] + (self.prefix[self.len()] - self.prefix[b])
    }
}

/// The representations split for the kernel: forward and reverse rows.
pub struct Split {
    f: Strand,
    r: Strand,
}

impl Split {
    /// The representations split, or `None` when the fast path does not
    /// apply (to them, or to `neighbors`: a list too long to index by
    /// `u16`).
    #[must_use]
    pub fn of(fwd: &[Array2<f32>], rev: &[Array2<f32>], neighbors: &Table<u32>) -> Option<Self> {
        if neighbors.rows().any(|nb| nb.len() >= usize::from(ABSENT)) {
            return None;
        }
        let len = fwd.first()?.nrows();
        if fwd.iter().chain(rev).any(|x| x.dim() != (len, 8)) {
            return None;
        }
        Some(Self { f: Strand::of(fwd, len)?, r: Strand::of(rev, len)? })
    }

    /// [`crate::affinity::fine_affinity`] by unordered pairs (`neighbors`
    /// as given to [`Split::of`]). Each pair's two scores go straight to
    /// the rows that list it.
    #[must_use]
    pub fn affinities(&self, neighbors: &Table<u32>) -> Table<f32> {
        use std::sync::atomic::{AtomicU32, Ordering};
        let (f, r) = (&self.f, &self.r);
        let tasks = tasks(neighbors);
        let pad = (f.len as f64 * (1.0 - 0.7)) as usize;
        let out: Vec<AtomicU32> =
            (0..neighbors.entries()).map(|_| AtomicU32::new(f32::NAN.to_bits())).collect();
        let put = |i: usize, at: u16, v: f32| {
            if at != ABSENT {
                out[neighbors.offset(i) + usize::from(at)].store(v.to_bits(), Ordering::Relaxed);
            }
        };
        let rows: Vec<&[Task]> = tasks.rows().collect();
        rows.into_par_iter().enumerate().for_each_init(
            || (Block::default(), Vec::new()),
            |(block, scores), (lo, list)| {
                pair_scores(lo, list, (f, r), pad, block, scores);
                for (t, &(a, b)) in list.iter().zip(scores.iter()) {
                    // Row lo lists hi: lo the parent; row hi lists lo: hi
                    // the parent.
                    put(lo, t.at_lo, a);
                    put(t.hi as usize, t.at_hi, b);
                }
            },
        );
        drop(tasks);
        Table::shaped_with(
            neighbors,
            out.into_iter().map(|v| f32::from_bits(v.into_inner())).collect(),
        )
    }
}

/// No place: the pair is not in that seqlet's list.
const ABSENT: u16 = u16::MAX;

/// A kNN pair `lo ≤ hi`: the partner, and where each lists the other
/// ([`ABSENT`] when it does not).
#[derive(Clone, Copy, Debug, PartialEq)]
struct Task {
    hi: u32,
    at_lo: u16,
    at_hi: u16,
}

/// Per seqlet `lo`, the partners `hi ≥ lo` it forms a kNN pair with (in
/// either's list), sorted, each once (lists shorter than [`ABSENT`]).
fn tasks(neighbors: &Table<u32>) -> Table<Task> {
    let n = neighbors.len();
    let mut count = vec![0usize; n];
    for (i, nb) in neighbors.rows().enumerate() {
        for &j in nb {
            count[i.min(j as usize)] += 1;
        }
    }
    let blank = Task { hi: u32::MAX, at_lo: ABSENT, at_hi: ABSENT };
    let mut out = Table::from_rows(count.iter().map(|&c| std::iter::repeat_n(blank, c)));
    let mut fill = vec![0usize; n];
    for (i, nb) in neighbors.rows().enumerate() {
        let i = u32::try_from(i).expect("fewer than 2³² seqlets");
        for (e, &j) in nb.iter().enumerate() {
            let (lo, e) =
                (i.min(j) as usize, u16::try_from(e).expect("lists checked in Split::of"));
            let t = &mut out[lo][fill[lo]];
            t.hi = i.max(j);
            if i <= j {
                t.at_lo = e;
            } else {
                t.at_hi = e;
            }
            fill[lo] += 1;
        }
    }
    drop(fill);
    out.rows_mut().into_par_iter().for_each(|row| row.sort_unstable_by_key(|t| t.hi));
    // A pair both list: one task with both places.
    out.dedup_rows_by(|t, kept| {
        if t.hi != kept.hi {
            return false;
        }
        kept.at_lo = kept.at_lo.min(t.at_lo);
        kept.at_hi = kept.at_hi.min(t.at_hi);
        true
    });
    out
}

/// One row of a block of partners, lane-interleaved: per field of
/// [`Packed`], the lanes' values.
type LaneRow = [[f32; LANES]; FIELDS];

const EMPTY_ROW: LaneRow = {
    let mut row = [[0.0; LANES]; FIELDS];
    row[CODE] = [4.0; LANES];
    row
};

/// Scratch: a block of partners' rows, and their prefix sums of row
/// totals lane by lane (`len + 1`).
#[derive(Default)]
struct Block {
    rows: Vec<LaneRow>,
    prefix: Vec<[f64; LANES]>,
}

impl Block {
    fn load(&mut self, ys: &[Rows<'_>], len: usize) {
        self.rows.resize(len, EMPTY_ROW);
        self.prefix.resize(len + 1, [0.0; LANES]);
        for (r, row) in self.rows.iter_mut().enumerate() {
            for (c, y) in ys.iter().enumerate() {
                let v = &y.rows[r];
                for f in 0..FIELDS {
                    row[f][c] = v[f];
                }
            }
        }
        for (r, row) in self.prefix.iter_mut().enumerate() {
            for (c, y) in ys.iter().enumerate() {
                row[c] = y.prefix[r];
            }
        }
    }

    /// Lane `c`'s summed row totals outside rows `[a, b)` (as
    /// [`Rows::outside`]).
    #[inline(always)]
    fn outside(&self, a: usize, b: usize) -> [f64; LANES] {
        let (pa, pb, pl) = (&self.prefix[a], &self.prefix[b], &self.prefix[self.rows.len()]);
        std::array::from_fn(|c| pa[c] + (pl[c] - pb[c]))
    }
}

/// One row pair's sums per lane (numerator, denominator), float32:
/// channels in the strand-symmetric order.
#[inline(always)]
fn row_sums(x: &Rows<'_>, p: usize, y: &LaneRow) -> ([f32; LANES], [f32; LANES]) {
    let xr = &x.rows[p];
    let mut t = [[0f32; LANES]; 4];
    let mut u = [[0f32; LANES]; 4];
    for k in 0..4 {
        let (xa, xs) = (xr[ABS + k], xr[SIGN + k]);
        for c in 0..LANES {
            let ya = y[ABS + k][c];
            let (lo, hi) = if ya > xa { (xa, ya) } else { (ya, xa) };
            t[k][c] = lo * (xs * y[SIGN + k][c]);
            u[k][c] = hi;
        }
    }
    let (xc, xt, xts) = (xr[CODE], xr[TAIL_ABS], xr[TAIL_SIGN]);
    let mut n = [0f32; LANES];
    let mut d = [0f32; LANES];
    for c in 0..LANES {
        let yt = y[TAIL_ABS][c];
        let same = y[CODE][c] == xc;
        let (lo, hi) = if yt > xt { (xt, yt) } else { (yt, xt) };
        let tn = if same { lo * (xts * y[TAIL_SIGN][c]) } else { 0.0 };
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
fn overlap_sums(x: &Rows<'_>, b: &Block, span: Span) -> Sums {
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

/// Best score over offsets: the largest, NaN when every one is NaN.
#[inline(always)]
fn better(best: f32, score: f32) -> f32 {
    if best.is_nan() || score > best { score } else { best }
}

/// Per-lane best scores over offsets `−pad..=pad` of `x` (forward) against
/// the block: (`x`'s affinity to the lane, the lane's to `x`).
type Best = ([f32; LANES], [f32; LANES]);

/// Over offsets `−pad..=pad`, each lane's best continuous Jaccard with `x`
/// the parent (the lane hanging over: its rows outside the overlap) and
/// with the lane the parent (`x` hanging over), folded into `best`.
#[inline(always)]
fn scan_offsets(x: &Rows<'_>, b: &Block, pad: usize, best: &mut Best) {
    let len = x.len();
    for s in -(pad as isize)..=(pad as isize) {
        // Parent rows [p0, p1) meet child rows [p0 − s, p1 − s).
        let p0 = s.max(0) as usize;
        let p1 = (s + len as isize).min(len as isize).max(0) as usize;
        if p0 >= p1 {
            continue;
        }
        let (num, den) = overlap_sums(x, b, Span { p0, p1, s });
        let (r0, r1) = ((p0 as isize - s) as usize, (p1 as isize - s) as usize);
        let (yo, xo) = (b.outside(r0, r1), x.outside(p0, p1));
        for c in 0..LANES {
            best.0[c] = better(best.0[c], (num[c] / (den[c] + yo[c])) as f32);
            best.1[c] = better(best.1[c], (num[c] / (den[c] + xo)) as f32);
        }
    }
}

/// [`scan_offsets`] compiled for AVX2 (no FMA: bit-identical).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn scan_offsets_avx2(x: &Rows<'_>, b: &Block, pad: usize, best: &mut Best) {
    scan_offsets(x, b, pad, best);
}

fn scan_dispatch(x: &Rows<'_>, b: &Block, pad: usize, best: &mut Best) {
    avx2_or!(scan_offsets_avx2(x, b, pad, best), scan_offsets(x, b, pad, best));
}

/// Fine affinities of every pair of `lo` (forward) with its partners: for
/// each task, (`lo`'s affinity to `hi`, `hi`'s to `lo`), each the better
/// of the two strands.
fn pair_scores(
    lo: usize,
    list: &[Task],
    (fwd, rev): (&Strand, &Strand),
    pad: usize,
    block: &mut Block,
    out: &mut Vec<(f32, f32)>,
) {
    out.clear();
    let x = &fwd.rows(lo);
    let len = x.len();
    for chunk in list.chunks(LANES) {
        // Lane by lane, the better of the two strands.
        let mut best: Best = ([f32::NAN; LANES], [f32::NAN; LANES]);
        for set in [fwd, rev] {
            let ys: Vec<Rows<'_>> = chunk.iter().map(|t| set.rows(t.hi as usize)).collect();
            block.load(&ys, len);
            scan_dispatch(x, block, pad, &mut best);
        }
        out.extend(best.0.into_iter().zip(best.1).take(chunk.len()));
    }
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
        let neighbors = Table::from_rows((0..n as u32).map(|i| {
            let mut nb = vec![i];
            for k in 1..12 {
                let j = (i * 7 + k * k * 3) % n as u32;
                if !nb.contains(&j) {
                    nb.push(j);
                }
            }
            nb
        }));
        let fast = Split::of(&fwd, &rev, &neighbors)
            .expect("the fast path applies")
            .affinities(&neighbors);
        let rows = fine_affinity_by_rows(&fwd, &rev, &neighbors);
        let mut worst = 0f32;
        assert_eq!(fast.len(), rows.len());
        for (a, b) in fast.flat().iter().zip(rows.flat()) {
            worst = worst.max((a - b).abs());
        }
        assert!(worst <= 1e-7, "largest difference {worst}");
        assert_eq!(fast[0][0], 1.0);
        fwd[3][(0, 5)] = 0.01;
        fwd[3][(0, 6)] = 0.01;
        assert!(Split::of(&fwd, &rev, &neighbors).is_none());
    }
}
