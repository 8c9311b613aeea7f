//! motif-prune: Deepprune (Luo, Chi, Deng 2019) on DeepBind-style models.
//!
//! A pruning step scores the kernels behind the dense layer with a
//! criterion plugin and keeps those scoring strictly above the median
//! ([`keep_mask`]), exactly as the original code does: the threshold is
//! `np.percentile(s, 50)` (linear interpolation) and there is no sort or
//! top-k, so ties at the median are all dropped and an odd count drops the
//! median kernel.
#![deny(missing_docs)]

/// `np.percentile(scores, 50)`: the median with linear interpolation
/// between the two middle values. NaN when `scores` is empty or holds a
/// NaN.
#[must_use]
pub fn median(scores: &[f64]) -> f64 {
    if scores.is_empty() || scores.iter().any(|v| v.is_nan()) {
        return f64::NAN;
    }
    let mut s = scores.to_vec();
    s.sort_by(f64::total_cmp);
    let pos = (s.len() - 1) as f64 * 0.5;
    let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
    s[lo] + (s[hi] - s[lo]) * (pos - lo as f64)
}

/// The kernels a Deepprune step keeps: score strictly above [`median`].
/// With distinct scores and an even count, exactly half survive.
#[must_use]
pub fn keep_mask(scores: &[f64]) -> Vec<bool> {
    let t = median(scores);
    scores.iter().map(|&s| s > t).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Thresholds and masks as numpy computes them
    /// (`t = np.percentile(s, 50); s > t`, numpy 2.x).
    #[test]
    fn matches_numpy_percentile_and_strict_rule() {
        let cases: [(&[f64], f64, &[bool]); 5] = [
            (&[3.0, 1.0, 2.0, 4.0], 2.5, &[true, false, false, true]),
            (&[1.0, 2.0, 2.0, 2.0, 3.0], 2.0, &[false, false, false, false, true]),
            (&[5.0, 1.0, 4.0, 2.0, 3.0], 3.0, &[true, false, true, false, false]),
            (&[0.5; 4], 0.5, &[false; 4]),
            (&[2.0, -1.0, 7.5, 7.5, 0.1, 3.3], 2.65, &[false, false, true, true, false, true]),
        ];
        for (s, t, m) in cases {
            assert!((median(s) - t).abs() < 1e-12, "{s:?}: {} vs {t}", median(s));
            assert_eq!(keep_mask(s), m, "{s:?}");
        }
    }

    #[test]
    fn distinct_even_counts_halve() {
        for k in [2usize, 4, 8, 16, 256] {
            let s: Vec<f64> = (0..k).map(|i| ((i * 7919) % 10007) as f64 * 0.37 - 50.0).collect();
            assert_eq!(keep_mask(&s).iter().filter(|&&b| b).count(), k / 2, "K = {k}");
        }
    }

    #[test]
    fn empty_or_nan_keeps_nothing() {
        assert!(keep_mask(&[]).is_empty());
        assert_eq!(keep_mask(&[1.0, f64::NAN, 2.0]), [false; 3]);
    }
}
