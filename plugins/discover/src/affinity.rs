//! The similarity TF-MoDISco-lite compares seqlets and patterns by: the
//! continuous Jaccard index of their L1-normalised tracks, at the best
//! offset of one slid along the other (zero-padded).

use ndarray::{Array2, ArrayView2, Axis, s};

/// `X / Σ|X|` (X unchanged when the sum is 0), as modisco's `l1`.
#[must_use]
pub fn l1(x: ArrayView2<'_, f32>) -> Array2<f32> {
    let flat: Vec<f32> = x.iter().map(|v| v.abs()).collect();
    let sum = crate::numpy::pairwise_sum_f32(&flat);
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
