//! The similarity TF-MoDISco-lite compares seqlets and patterns by: the
//! continuous Jaccard index of their L1-normalised tracks, at the best
//! offset of one slid along the other (zero-padded).

use ndarray::{Array2, ArrayView2, Axis, s};

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
    let (lc, m) = child.dim();
    let (lp, mp) = parent.dim();
    assert_eq!(m, mp, "channels differ");
    let total = lp + 2 * pad;
    let mut best = (f32::NEG_INFINITY, 0isize);
    if total < lc {
        return (f32::NAN, 0);
    }
    for o in 0..=total - lc {
        let (mut num, mut den) = (0f64, 0f64);
        for j in 0..lc {
            // Parent row in padded coordinates o + j; zero outside.
            let pj = (o + j).checked_sub(pad).filter(|&r| r < lp);
            for k in 0..m {
                let x = child[(j, k)];
                let y = pj.map_or(0.0, |r| parent[(r, k)]);
                let sign = x.signum_or_zero() * y.signum_or_zero();
                let (ax, ay) = (x.abs(), y.abs());
                if ay > ax {
                    num += f64::from(ax * sign);
                    den += f64::from(ay);
                } else {
                    num += f64::from(ay * sign);
                    den += f64::from(ax);
                }
            }
        }
        let score = (num / den) as f32;
        if score > best.0 || (best.0 == f32::NEG_INFINITY && o == 0) {
            best = (score, o as isize - pad as isize);
        }
    }
    best
}

/// numpy's `np.sign`: −1, 0 or 1 (0 for ±0).
trait SignumOrZero {
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
/// `int(len·(1 − 0.7))`).
#[must_use]
pub fn fine_affinity(
    fwd: &[Array2<f32>],
    rev: &[Array2<f32>],
    neighbors: &[Vec<usize>],
) -> Vec<Vec<f32>> {
    neighbors
        .iter()
        .enumerate()
        .map(|(i, nb)| {
            nb.iter()
                .map(|&j| {
                    let pad = (fwd[j].nrows() as f64 * (1.0 - 0.7)) as usize;
                    let a = align_cj(fwd[j].view(), fwd[i].view(), pad).0;
                    let b = align_cj(rev[j].view(), fwd[i].view(), pad).0;
                    // np.maximum: NaN wins.
                    if a.is_nan() || b.is_nan() { f32::NAN } else { a.max(b) }
                })
                .collect()
        })
        .collect()
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
    let (ra, rb) = (ranks(a), ranks(b));
    let n = ra.len() as f64;
    let (ma, mb) = (ra.iter().sum::<f64>() / n, rb.iter().sum::<f64>() / n);
    let (mut sab, mut saa, mut sbb) = (0.0, 0.0, 0.0);
    for (x, y) in ra.iter().zip(&rb) {
        sab += (x - ma) * (y - mb);
        saa += (x - ma) * (x - ma);
        sbb += (y - mb) * (y - mb);
    }
    sab / (saa * sbb).sqrt()
}

/// Round one's filter: seqlet `i` stays when the Spearman correlation of
/// its fine and coarse affinities over the neighbours with a nonzero fine
/// affinity exceeds `threshold`. Returns the kept indices, and each kept
/// seqlet's neighbours (renumbered among the kept) with their fine
/// affinities.
#[must_use]
pub fn filter_by_correlation(
    neighbors: &[Vec<usize>],
    coarse: &[Vec<f64>],
    fine: &[Vec<f32>],
    threshold: f64,
) -> (Vec<usize>, Vec<Vec<usize>>, Vec<Vec<f32>>) {
    let n = neighbors.len();
    let keep: Vec<bool> = (0..n)
        .map(|i| {
            let (f, c): (Vec<f64>, Vec<f64>) = fine[i]
                .iter()
                .zip(&coarse[i])
                .filter(|(f, _)| f.abs() > 0.0)
                .map(|(&f, &c)| (f64::from(f), c))
                .unzip();
            spearman(&f, &c) > threshold
        })
        .collect();
    let mut new = vec![usize::MAX; n];
    let mut kept = Vec::new();
    for i in (0..n).filter(|&i| keep[i]) {
        new[i] = kept.len();
        kept.push(i);
    }
    let (mut nb, mut aff) = (Vec::with_capacity(kept.len()), Vec::with_capacity(kept.len()));
    for &i in &kept {
        let (a, b): (Vec<usize>, Vec<f32>) = neighbors[i]
            .iter()
            .zip(&fine[i])
            .filter(|(j, _)| keep[**j])
            .map(|(&j, &v)| (new[j], v))
            .unzip();
        nb.push(a);
        aff.push(b);
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
        let neighbors = vec![vec![0, 1, 2], vec![1, 0, 2], vec![2, 1, 0]];
        let coarse = vec![vec![1.0, 0.5, 0.2], vec![1.0, 0.5, 0.2], vec![1.0, 0.5, 0.2]];
        let fine = vec![vec![1.0, 0.6, 0.1], vec![0.1, 0.6, 1.0], vec![1.0, 0.5, 0.3]];
        let (kept, nb, aff) = filter_by_correlation(&neighbors, &coarse, &fine, 0.15);
        assert_eq!(kept, [0, 2]);
        assert_eq!(nb, [vec![0, 1], vec![1, 0]]);
        assert_eq!(aff, [vec![1.0, 0.1], vec![1.0, 0.3]]);
    }
}
