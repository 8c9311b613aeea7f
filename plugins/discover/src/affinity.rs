//! The similarity TF-MoDISco-lite compares seqlets and patterns by: the
//! continuous Jaccard index of their L1-normalised tracks, at the best
//! offset of one slid along the other (zero-padded).

use motif_core::plugin::Table;
use ndarray::{Array2, ArrayView2, Axis, s};
use rayon::prelude::*;

/// `X / Σ|X|` (X unchanged when the sum is 0), as modisco's `l1`.
#[must_use]
pub fn l1(x: ArrayView2<'_, f32>) -> Array2<f32> {
    let flat: Vec<f32> = x.iter().map(|v| v.abs()).collect();
    let sum = crate::numpy::pairwise_sum(&flat);
    if sum == 0.0 { x.to_owned() } else { x.mapv(|v| v / sum) }
}

/// The representation `[l1(hyp) | l1(contrib)]` `(len, 8)` of a seqlet or
/// pattern, forward and reverse-complemented.
#[must_use]
pub fn representation(
    hypothetical: ArrayView2<'_, f32>,
    contrib: ArrayView2<'_, f32>,
) -> (Array2<f32>, Array2<f32>) {
    let rc = |x: ArrayView2<'_, f32>| x.slice(s![..;-1, ..;-1]).to_owned();
    let join = |a: Array2<f32>, b: Array2<f32>| {
        ndarray::concatenate(Axis(1), &[a.view(), b.view()]).expect("same length")
    };
    (join(l1(hypothetical), l1(contrib)), join(l1(rc(hypothetical).view()), l1(rc(contrib).view())))
}

/// The continuous Jaccard index of `child` against the window of `parent`
/// (zero-padded by `pad` rows each side) starting at each offset; the
/// best score (the first on ties) and where the child starts in the
/// parent's coordinates. Sums in float64 over positions then channels, as
/// modisco-lite's kernel adds them; the score in float32.
///
/// # Panics
/// If the two have different channel counts.
#[must_use]
pub fn align_cj(
    child: ArrayView2<'_, f32>,
    parent: ArrayView2<'_, f32>,
    pad: usize,
) -> (f32, isize) {
    assert_eq!(child.ncols(), parent.ncols(), "channels differ");
    Parent::new(parent, pad).align(child)
}

/// A parent prepared for aligning many children against it: zero-padded,
/// magnitudes and signs laid out channel-major so that one child value
/// meets the parent rows of every offset in one contiguous run (the loop
/// over offsets vectorises; each offset's sums still add positions then
/// channels in order, so the scores are those of one offset at a time).
pub struct Parent {
    abs: Vec<f32>,
    sign: Vec<f32>,
    total: usize,
    channels: usize,
    pad: usize,
}

impl Parent {
    /// `parent` (`(len, channels)`) padded by `pad` zero rows each side.
    #[must_use]
    pub fn new(parent: ArrayView2<'_, f32>, pad: usize) -> Self {
        let (lp, m) = parent.dim();
        let total = lp + 2 * pad;
        let (mut abs, mut sign) = (vec![0f32; m * total], vec![0f32; m * total]);
        for r in 0..lp {
            for k in 0..m {
                let y = parent[(r, k)];
                abs[k * total + pad + r] = y.abs();
                sign[k * total + pad + r] = y.signum_or_zero();
            }
        }
        Self { abs, sign, total, channels: m, pad }
    }

    /// [`align_cj`] of `child` against this parent.
    ///
    /// # Panics
    /// If the child's channel count differs.
    #[must_use]
    pub fn align(&self, child: ArrayView2<'_, f32>) -> (f32, isize) {
        let (lc, m) = child.dim();
        assert_eq!(m, self.channels, "channels differ");
        if self.total < lc {
            return (f32::NAN, 0);
        }
        let n_off = self.total - lc + 1;
        let (mut num, mut den) = (vec![0f64; n_off], vec![0f64; n_off]);
        avx2_or!(self.sums_avx2(child, &mut num, &mut den), self.sums(child, &mut num, &mut den));
        self.best(&num, &den)
    }

    /// [`Parent::sums`] compiled for AVX2 (same operations, wider vectors;
    /// no FMA, so the sums are bit-identical).
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    fn sums_avx2(&self, child: ArrayView2<'_, f32>, num: &mut [f64], den: &mut [f64]) {
        self.sums(child, num, den);
    }

    /// Each offset's numerator and denominator.
    #[inline(always)]
    fn sums(&self, child: ArrayView2<'_, f32>, num: &mut [f64], den: &mut [f64]) {
        let (lc, m) = child.dim();
        let n_off = num.len();
        for j in 0..lc {
            for k in 0..m {
                let x = child[(j, k)];
                let (ax, sx) = (x.abs(), x.signum_or_zero());
                let at = k * self.total + j;
                let (a, s) = (&self.abs[at..at + n_off], &self.sign[at..at + n_off]);
                for (((nu, de), &ay), &sy) in num.iter_mut().zip(den.iter_mut()).zip(a).zip(s) {
                    let sign = sx * sy;
                    let (lo, hi) = if ay > ax { (ax, ay) } else { (ay, ax) };
                    *nu += f64::from(lo * sign);
                    *de += f64::from(hi);
                }
            }
        }
    }

    /// The first best offset.
    fn best(&self, num: &[f64], den: &[f64]) -> (f32, isize) {
        let n_off = num.len();
        let mut best = (f32::NEG_INFINITY, 0isize);
        for o in 0..n_off {
            let score = (num[o] / den[o]) as f32;
            if score > best.0 || (best.0 == f32::NEG_INFINITY && o == 0) {
                best = (score, o as isize - self.pad as isize);
            }
        }
        best
    }
}

/// numpy's `np.sign`: −1, 0 or 1 (0 for ±0).
pub(crate) trait SignumOrZero {
    fn signum_or_zero(self) -> Self;
}

impl SignumOrZero for f32 {
    fn signum_or_zero(self) -> f32 {
        if self > 0.0 {
            1.0
        } else if self < 0.0 {
            -1.0
        } else {
            0.0
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn track(len: usize, seed: u32) -> Array2<f32> {
        let mut r = crate::numpy::RandomState::new(seed);
        Array2::from_shape_fn((len, 8), |_| (r.random_sample() - 0.5) as f32)
    }

    /// A child cut from its parent aligns with score 1 where it was cut;
    /// the reverse complement of the representation reverses rows and
    /// bases; an all-zero child scores 0.
    #[test]
    fn a_cut_aligns_where_it_was_cut() {
        let parent = track(50, 1);
        let child = parent.slice(s![12..42, ..]).to_owned();
        assert_eq!(align_cj(child.view(), parent.view(), 9), (1.0, 12));
        // Hanging 5 rows off the left end (zero padding costs score).
        let hang = ndarray::concatenate(Axis(0), &[track(5, 2).view(), parent.slice(s![..25, ..])])
            .unwrap();
        let (score, offset) = align_cj(hang.view(), parent.view(), 9);
        assert_eq!(offset, -5);
        assert!(score < 1.0 && score > 0.5, "{score}");
        let zero = Array2::<f32>::zeros((30, 8));
        assert_eq!(align_cj(zero.view(), parent.view(), 9).0, 0.0);
        let h = track(10, 3).slice(s![.., ..4]).to_owned();
        let (f, r) = representation(h.view(), h.view());
        assert_eq!(r[(0, 0)], f[(9, 3)]);
        assert!((f.slice(s![.., ..4]).iter().map(|v| v.abs()).sum::<f32>() - 1.0).abs() < 1e-6);
    }
}

/// The fine affinity of each seqlet `i` to each of its `neighbors[i]`:
/// the better of the neighbour's forward and reverse representation
/// aligned to `i`'s forward one (padding `⌊0.3·len⌋`, modisco's
/// `int(len·(1 − 0.7))`). Computed once per unordered pair
/// ([`crate::pairs`]) when the representations allow, else a row at a time
/// ([`fine_affinity_by_rows`]); the two agree to float32 rounding.
#[must_use]
pub fn fine_affinity(
    fwd: Vec<Array2<f32>>,
    rev: Vec<Array2<f32>>,
    neighbors: &Table<u32>,
) -> Table<f32> {
    match crate::pairs::Split::of(&fwd, &rev, neighbors) {
        Some(split) => {
            drop((fwd, rev));
            split.affinities(neighbors)
        }
        None => fine_affinity_by_rows(&fwd, &rev, neighbors),
    }
}

/// [`fine_affinity`] one seqlet's row at a time (any shapes; channels and
/// positions added in order).
#[must_use]
pub fn fine_affinity_by_rows(
    fwd: &[Array2<f32>],
    rev: &[Array2<f32>],
    neighbors: &Table<u32>,
) -> Table<f32> {
    // Magnitudes and signs of every child, forward then reverse.
    let split = |x: &Array2<f32>| -> (Vec<f32>, Vec<f32>) {
        (x.iter().map(|v| v.abs()).collect(), x.iter().map(|v| v.signum_or_zero()).collect())
    };
    let children: Vec<(Vec<f32>, Vec<f32>)> =
        fwd.par_iter().chain(rev.par_iter()).map(split).collect();
    let rows: Vec<Vec<f32>> = neighbors
        .rows()
        .collect::<Vec<_>>()
        .into_par_iter()
        .enumerate()
        .map_init(Batch::default, |batch, (i, nb)| {
            let len = nb.first().map(|&j| fwd[j as usize].nrows());
            if let Some(len) = len.filter(|&l| nb.iter().all(|&j| fwd[j as usize].nrows() == l)) {
                let pad = (len as f64 * (1.0 - 0.7)) as usize;
                return batch.row(fwd[i].view(), nb, &children, fwd[nb[0] as usize].dim(), pad);
            }
            nb.iter()
                .map(|&j| {
                    let j = j as usize;
                    let pad = (fwd[j].nrows() as f64 * (1.0 - 0.7)) as usize;
                    let parent = Parent::new(fwd[i].view(), pad);
                    let a = parent.align(fwd[j].view()).0;
                    let b = parent.align(rev[j].view()).0;
                    // np.maximum: NaN wins.
                    if a.is_nan() || b.is_nan() { f32::NAN } else { a.max(b) }
                })
                .collect()
        })
        .collect();
    Table::from_rows(rows)
}

/// Children aligned to one parent per block of lanes.
const LANES: usize = 16;

/// Scratch for aligning all of one seqlet's neighbours (both strands) to
/// it, [`LANES`] children at a time: their magnitudes and signs
/// interleaved, and every offset's sums, so that one child value is
/// loaded once for all offsets and one parent value meets a whole block.
#[derive(Default)]
struct Batch {
    abs: Vec<f32>,
    sign: Vec<f32>,
    num: Vec<f64>,
    den: Vec<f64>,
    parent_abs: Vec<f32>,
    parent_sign: Vec<f32>,
}

impl Batch {
    /// Fine affinities of `parent` to each neighbour in `nb` (children
    /// all `len` long, forward and reverse), as [`align_cj`] gives them.
    fn row(
        &mut self,
        parent: ArrayView2<'_, f32>,
        nb: &[u32],
        split: &[(Vec<f32>, Vec<f32>)],
        (lc, m): (usize, usize),
        pad: usize,
    ) -> Vec<f32> {
        let n = split.len() / 2;
        let lp = parent.nrows();
        let total = lp + 2 * pad;
        if total < lc {
            return vec![f32::NAN; nb.len()];
        }
        let n_off = total - lc + 1;
        // The padded parent, row-major: (total, m).
        self.parent_abs.clear();
        self.parent_abs.resize(total * m, 0.0);
        self.parent_sign.clear();
        self.parent_sign.resize(total * m, 0.0);
        for ((r, k), &y) in parent.indexed_iter() {
            self.parent_abs[(pad + r) * m + k] = y.abs();
            self.parent_sign[(pad + r) * m + k] = y.signum_or_zero();
        }
        let children: Vec<&(Vec<f32>, Vec<f32>)> = nb
            .iter()
            .map(|&j| &split[j as usize])
            .chain(nb.iter().map(|&j| &split[n + j as usize]))
            .collect();
        let mut best = vec![(f32::NEG_INFINITY, 0isize); children.len()];
        for (block, chunk) in children.chunks(LANES).enumerate() {
            let lanes = chunk.len();
            self.abs.resize(lc * m * LANES, 0.0);
            self.sign.resize(lc * m * LANES, 0.0);
            for (c, (a, sg)) in chunk.iter().enumerate() {
                for (jk, (&v, &g)) in a.iter().zip(sg).enumerate() {
                    self.abs[jk * LANES + c] = v;
                    self.sign[jk * LANES + c] = g;
                }
            }
            self.num.clear();
            self.num.resize(n_off * LANES, 0.0);
            self.den.clear();
            self.den.resize(n_off * LANES, 0.0);
            sums_dispatch(self, lc, m, n_off);
            for o in 0..n_off {
                for c in 0..lanes {
                    let score = (self.num[o * LANES + c] / self.den[o * LANES + c]) as f32;
                    let b = &mut best[block * LANES + c];
                    if score > b.0 || (b.0 == f32::NEG_INFINITY && o == 0) {
                        *b = (score, o as isize - pad as isize);
                    }
                }
            }
        }
        let half = nb.len();
        (0..half)
            .map(|e| {
                let (a, b) = (best[e].0, best[half + e].0);
                if a.is_nan() || b.is_nan() { f32::NAN } else { a.max(b) }
            })
            .collect()
    }
}

fn sums_dispatch(b: &mut Batch, lc: usize, m: usize, n_off: usize) {
    avx2_or!(batch_sums_avx2(b, lc, m, n_off), batch_sums(b, lc, m, n_off));
}

/// [`batch_sums`] compiled for AVX2 (no FMA: bit-identical).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn batch_sums_avx2(b: &mut Batch, lc: usize, m: usize, n_off: usize) {
    batch_sums(b, lc, m, n_off);
}

/// Every child's sums at every offset: for each offset, positions then
/// channels in order, as one child at a time adds them (the offsets are
/// independent sums, so visiting them innermost changes nothing).
#[inline(always)]
fn batch_sums(b: &mut Batch, lc: usize, m: usize, n_off: usize) {
    let n = lc * m;
    for o in 0..n_off {
        // Parent rows o.. in the padded frame: (o + j)·m + k = o·m + jk.
        let (pa, ps) = (&b.parent_abs[o * m..o * m + n], &b.parent_sign[o * m..o * m + n]);
        let mut num = [0f64; LANES];
        let mut den = [0f64; LANES];
        for j in 0..lc {
            // A position's channels in float32, then into the float64 sums.
            let mut n32 = [0f32; LANES];
            let mut d32 = [0f32; LANES];
            for jk in j * m..(j + 1) * m {
                let (ay, sy) = (pa[jk], ps[jk]);
                let ax: &[f32; LANES] =
                    b.abs[jk * LANES..(jk + 1) * LANES].try_into().expect("a block");
                let sx: &[f32; LANES] =
                    b.sign[jk * LANES..(jk + 1) * LANES].try_into().expect("a block");
                for c in 0..LANES {
                    let a = ax[c];
                    let (lo, hi) = if ay > a { (a, ay) } else { (ay, a) };
                    n32[c] += lo * (sx[c] * sy);
                    d32[c] += hi;
                }
            }
            for c in 0..LANES {
                num[c] += f64::from(n32[c]);
                den[c] += f64::from(d32[c]);
            }
        }
        b.num[o * LANES..(o + 1) * LANES].copy_from_slice(&num);
        b.den[o * LANES..(o + 1) * LANES].copy_from_slice(&den);
    }
}

/// Ranks 1..n with ties averaged (scipy's `rankdata`).
fn ranks(v: &[f64]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..v.len()).collect();
    order.sort_by(|&a, &b| v[a].total_cmp(&v[b]));
    let mut r = vec![0.0; v.len()];
    let mut k = 0;
    while k < order.len() {
        let mut e = k;
        while e + 1 < order.len() && v[order[e + 1]] == v[order[k]] {
            e += 1;
        }
        let avg = (k + e + 2) as f64 / 2.0;
        for &o in &order[k..=e] {
            r[o] = avg;
        }
        k = e + 1;
    }
    r
}

/// Spearman's correlation (Pearson's of the average ranks); NaN for fewer
/// than two values or a constant input.
#[must_use]
pub fn spearman(a: &[f64], b: &[f64]) -> f64 {
    if a.len() < 2 {
        return f64::NAN;
    }
    pearson_of_ranks(&ranks(a), &ranks(b))
}

/// The ranks [`ranks`] gives values listed in descending order, from
/// which of them equal the one before (`tied`, the first false).
fn ranks_of_descending(tied: &[bool]) -> Vec<f64> {
    let m = tied.len();
    let mut r = vec![0.0; m];
    let mut a = 0;
    while a < m {
        let mut b = a;
        while b + 1 < m && tied[b + 1] {
            b += 1;
        }
        // Ascending places m−1−b ..= m−1−a.
        let avg = ((m - 1 - b) + (m - 1 - a) + 2) as f64 / 2.0;
        r[a..=b].fill(avg);
        a = b + 1;
    }
    r
}

/// Pearson's correlation of two rank vectors.
fn pearson_of_ranks(ra: &[f64], rb: &[f64]) -> f64 {
    let n = ra.len() as f64;
    let (ma, mb) = (ra.iter().sum::<f64>() / n, rb.iter().sum::<f64>() / n);
    let (mut sab, mut saa, mut sbb) = (0.0, 0.0, 0.0);
    for (x, y) in ra.iter().zip(rb) {
        sab += (x - ma) * (y - mb);
        saa += (x - ma) * (x - ma);
        sbb += (y - mb) * (y - mb);
    }
    sab / (saa * sbb).sqrt()
}

/// Which coarse similarities equal the one before them in their row (the
/// first of a row: false): all that ranks the rows, listed best first,
/// need of the values.
#[must_use]
pub fn ties(sims: &Table<f64>) -> Table<bool> {
    let mut tied = Table::shaped_as(sims, false);
    tied.rows_mut().into_par_iter().zip(sims.rows().collect::<Vec<_>>()).for_each(|(t, row)| {
        for e in 1..row.len() {
            t[e] = row[e] == row[e - 1];
        }
    });
    tied
}

/// Round one's filter: seqlet `i` stays when the Spearman correlation of
/// its fine and coarse affinities over the neighbours with a nonzero fine
/// affinity exceeds `threshold`. The neighbours are listed by coarse
/// affinity descending, `tied` where equal to the one before ([`ties`]).
/// Returns the kept indices, and each kept seqlet's neighbours
/// (renumbered among the kept) with their fine affinities.
#[must_use]
pub fn filter_by_correlation(
    neighbors: &Table<u32>,
    tied: &Table<bool>,
    fine: &Table<f32>,
    threshold: f64,
) -> (Vec<usize>, Table<u32>, Table<f32>) {
    let n = neighbors.len();
    let keep: Vec<bool> = (0..n)
        .into_par_iter()
        .map(|i| {
            // The entries with a nonzero fine affinity; one ties with the
            // one kept before when every entry since does.
            let (mut f, mut t) = (Vec::new(), Vec::new());
            let mut chain = true;
            for (e, &v) in fine[i].iter().enumerate() {
                chain = chain && (e == 0 || tied[i][e]);
                if v.abs() > 0.0 {
                    t.push(!f.is_empty() && chain);
                    f.push(f64::from(v));
                    chain = true;
                }
            }
            f.len() >= 2 && pearson_of_ranks(&ranks(&f), &ranks_of_descending(&t)) > threshold
        })
        .collect();
    let mut new = vec![u32::MAX; n];
    let mut kept = Vec::new();
    for i in (0..n).filter(|&i| keep[i]) {
        new[i] = u32::try_from(kept.len()).expect("fewer than 2³² seqlets");
        kept.push(i);
    }
    let entries: usize =
        kept.iter().map(|&i| neighbors[i].iter().filter(|&&j| keep[j as usize]).count()).sum();
    let mut nb = Table::with_capacity(kept.len(), entries);
    let mut aff = Table::with_capacity(kept.len(), entries);
    for &i in &kept {
        let pairs = || neighbors[i].iter().zip(&fine[i]).filter(|(j, _)| keep[**j as usize]);
        nb.push_row(pairs().map(|(&j, _)| new[j as usize]));
        aff.push_row(pairs().map(|(_, &v)| v));
    }
    (kept, nb, aff)
}

#[cfg(test)]
mod spearman_tests {
    use super::*;

    /// Average ranks on ties; monotone → 1, reversed → −1, constant → NaN;
    /// the filter renumbers the kept neighbours.
    #[test]
    fn rank_correlation_and_the_filter() {
        assert_eq!(ranks(&[3.0, 1.0, 3.0, 2.0]), [3.5, 1.0, 3.5, 2.0]);
        assert!((spearman(&[1.0, 2.0, 3.0], &[10.0, 20.0, 35.0]) - 1.0).abs() < 1e-15);
        assert!((spearman(&[1.0, 2.0, 3.0], &[3.0, 2.0, 1.0]) + 1.0).abs() < 1e-15);
        assert!(spearman(&[1.0, 1.0, 1.0], &[1.0, 2.0, 3.0]).is_nan());
        let neighbors = Table::from_rows([[0, 1, 2], [1, 0, 2], [2, 1, 0]]);
        let coarse = Table::from_rows([[1.0, 0.5, 0.2], [1.0, 0.5, 0.2], [1.0, 0.5, 0.2]]);
        let fine = Table::from_rows([[1.0, 0.6, 0.1], [0.1, 0.6, 1.0], [1.0, 0.5, 0.3]]);
        let (kept, nb, aff) = filter_by_correlation(&neighbors, &ties(&coarse), &fine, 0.15);
        assert_eq!(kept, [0, 2]);
        assert_eq!(nb, Table::from_rows([[0, 1], [1, 0]]));
        assert_eq!(aff, Table::from_rows([[1.0, 0.1], [1.0, 0.3]]));
    }

    /// Ranks from ties alone equal ranks of the values, and the filter
    /// keeps what the Spearman correlation of the values themselves
    /// decides, with zeros among the fine affinities and ties among the
    /// coarse ones.
    #[test]
    fn ranks_from_ties() {
        let desc = [0.9, 0.9, 0.7, 0.5, 0.5, 0.5, 0.1];
        assert_eq!(ranks_of_descending(&ties(&Table::from_rows([desc]))[0]), ranks(&desc));
        let mut r = crate::numpy::RandomState::new(3);
        let n = 60;
        let mut coarse = Vec::new();
        let mut fine = Vec::new();
        for _ in 0..n {
            let mut c: Vec<f64> = (0..25).map(|_| r.interval(6) as f64 / 5.0).collect();
            c.sort_by(|a, b| b.total_cmp(a));
            let f: Vec<f32> = (0..25)
                .map(|e| {
                    if r.interval(4) == 0 {
                        0.0
                    } else {
                        c[e] as f32 + 2.5 * r.random_sample() as f32
                    }
                })
                .collect();
            coarse.push(c);
            fine.push(f);
        }
        let neighbors =
            Table::from_rows((0..n as u32).map(|i| (0..25).map(move |e| (i + e) % n as u32)));
        let (kept, _, _) = filter_by_correlation(
            &neighbors,
            &ties(&Table::from_rows(coarse.clone())),
            &Table::from_rows(fine.clone()),
            0.15,
        );
        let want: Vec<usize> = (0..n)
            .filter(|&i| {
                let (f, c): (Vec<f64>, Vec<f64>) = fine[i]
                    .iter()
                    .zip(&coarse[i])
                    .filter(|(f, _)| f.abs() > 0.0)
                    .map(|(&f, &c)| (f64::from(f), c))
                    .unzip();
                spearman(&f, &c) > 0.15
            })
            .collect();
        assert_eq!(kept, want);
        assert!(!kept.is_empty() && kept.len() < n);
    }
}
