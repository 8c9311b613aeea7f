//! Seqlet calling as modisco-lite's `extract_seqlets` does it: per-position
//! contributions summed over windows of `W`, a Laplace null fitted to the
//! window sums, an isotonic-regression FDR threshold per sign (refined so
//! that between 3% and 20% of windows pass), greedy non-maximum suppression
//! per sequence, and the sign split by the weakest threshold's quantile.

use crate::numpy::{Isotonic, RandomState, histogram, pairwise_sum, percentile_sorted};
use motif_core::plugin::Contributions;

/// Contributions held in a slice (tests).
#[cfg(test)]
fn dense(c: &[f32], n: usize, len: usize) -> motif_core::plugin::DenseContributions<'_> {
    motif_core::plugin::DenseContributions::new(c, n, len).expect("n · len · 4 values")
}

/// Settings (modisco-lite's CLI defaults); also the `modisco-seqlets`
/// plugin's config.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct Settings {
    /// Window `W` (`-z`, 20).
    pub window: usize,
    /// Flank `F` on each side (`-f`, 5).
    pub flank: usize,
    /// Target FDR (0.05 in the CLI).
    pub target_fdr: f64,
    /// Fewest windows passing (0.03).
    pub min_passing_frac: f64,
    /// Most windows passing (0.2).
    pub max_passing_frac: f64,
    /// Cap of the sign-split quantile (0.8).
    pub weak_threshold_for_counting_sign: f64,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            window: 20,
            flank: 5,
            target_fdr: 0.05,
            min_passing_frac: 0.03,
            max_passing_frac: 0.2,
            weak_threshold_for_counting_sign: 0.8,
        }
    }
}

/// A seqlet: `[start, end)` of sequence `example` (window coordinates).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Seqlet {
    /// Row of the input.
    pub example: usize,
    /// First position.
    pub start: usize,
    /// One past the last.
    pub end: usize,
}

/// What seqlet calling found, and the numbers behind it (for the report's
/// diagnostics).
#[derive(Debug, Clone, PartialEq)]
pub struct Called {
    /// Seqlets of the positive metacluster, in extraction order.
    pub positive: Vec<Seqlet>,
    /// Seqlets of the negative metacluster.
    pub negative: Vec<Seqlet>,
    /// Window-sum thresholds (positive, negative) after refinement.
    pub thresholds: (f64, f64),
    /// The Laplace null's mode and rates (μ, λ+, λ−).
    pub null: (f64, f64, f64),
    /// The sign-split threshold on a seqlet core's summed contribution.
    pub sign_threshold: f64,
}

/// Calls seqlets on `contrib` (the actual contributions, one-hot ×
/// hypothetical, read a window at a time), as modisco-lite does.
#[must_use]
pub fn call(contrib: &dyn Contributions, s: &Settings) -> Called {
    let (n, len) = (contrib.n(), contrib.positions());
    let w = s.window;
    let d = (len + 1).saturating_sub(w);
    if n == 0 || d == 0 || w == 0 {
        // No window fits: nothing to call.
        return Called {
            positive: Vec::new(),
            negative: Vec::new(),
            thresholds: (f64::INFINITY, f64::NEG_INFINITY),
            null: (f64::NAN, f64::NAN, f64::NAN),
            sign_threshold: f64::INFINITY,
        };
    }
    // Per-position sums (float32), their prefix sums (float32), window sums
    // as differences in float64.
    let mut windows = vec![0f64; n * d];
    let mut row = Vec::with_capacity(len * 4);
    let mut prefix = vec![0f32; len + 1];
    for i in 0..n {
        contrib.window(i, &mut row);
        let mut acc = 0f32;
        for (l, c) in row.chunks_exact(4).enumerate() {
            acc += ((c[0] + c[1]) + c[2]) + c[3];
            prefix[l + 1] = acc;
        }
        for k in 0..d {
            windows[i * d + k] = f64::from(prefix[k + w]) - f64::from(prefix[k]);
        }
    }
    let (mu, lp, ln, pos_null, neg_null) = laplace_null(&windows, 10_000);
    let mut distribution: Vec<f64> = windows.iter().map(|v| v.abs()).collect();
    distribution.sort_by(f64::total_cmp);
    // The values the thresholds are fitted on (all of them up to 10⁶).
    let values = subsample(&windows, 1_000_000);
    let mut pos: Vec<f64> = values.iter().copied().filter(|&v| v >= 0.0).collect();
    pos.sort_by(f64::total_cmp);
    let mut neg: Vec<f64> = values.iter().copied().filter(|&v| v < 0.0).collect();
    neg.sort_by(|a, b| b.total_cmp(a));
    let tp = isotonic_threshold(&pos, &pos_null, true, s.target_fdr);
    let tn = isotonic_threshold(&neg, &neg_null, false, s.target_fdr);
    let (tp, tn) = refine(&pos, &neg, tp, tn, s);
    let rank = |t: f64| {
        let k = distribution.partition_point(|&v| v < t.abs());
        t.signum() * k as f64 / distribution.len() as f64
    };
    let (rp, rn) = (rank(tp), rank(tn));
    // Candidates and greedy suppression.
    let flank = s.flank;
    let suppress = w / 2 + flank;
    let mut seqlets = Vec::new();
    for i in 0..n {
        let mut score: Vec<f64> = windows[i * d..(i + 1) * d]
            .iter()
            .map(|&v| if v >= tp || v <= tn { v.abs() } else { f64::NEG_INFINITY })
            .collect();
        if flank == 0 {
            score.fill(f64::NEG_INFINITY);
        } else {
            let f = flank.min(d);
            score[..f].fill(f64::NEG_INFINITY);
            score[d - f..].fill(f64::NEG_INFINITY);
        }
        loop {
            let (mut best, mut at) = (f64::NEG_INFINITY, 0);
            for (k, &v) in score.iter().enumerate() {
                if v > best {
                    (best, at) = (v, k);
                }
            }
            if best == f64::NEG_INFINITY {
                break;
            }
            if at >= flank && at < d - flank {
                seqlets.push(Seqlet { example: i, start: at - flank, end: at + w + flank });
            }
            let lo = at.saturating_sub(suppress);
            let hi = (at + suppress + 1).min(d);
            score[lo..hi].fill(f64::NEG_INFINITY);
        }
    }
    // Sign split on the core's summed contribution.
    let weak = (rp.min(rn.abs()) - 0.0001).min(s.weak_threshold_for_counting_sign);
    let sign_threshold =
        distribution[((weak * distribution.len() as f64) as usize).min(distribution.len() - 1)];
    let (mut positive, mut negative) = (Vec::new(), Vec::new());
    for sq in seqlets {
        contrib.window(sq.example, &mut row);
        let core = &row[(sq.start + flank) * 4..(sq.end - flank) * 4];
        // np.sum: 0 plus numpy's pairwise sum of the contiguous block.
        let a = f64::from(0.0 + pairwise_sum(core));
        if a > sign_threshold {
            positive.push(sq);
        } else if a < -sign_threshold {
            negative.push(sq);
        }
    }
    Called { positive, negative, thresholds: (tp, tn), null: (mu, lp, ln), sign_threshold }
}

/// `RandomState(1234).choice(values, cap, replace=False)` where there are
/// more than `cap` values (the first `cap` of a permutation), else all.
fn subsample(values: &[f64], cap: usize) -> Vec<f64> {
    if values.len() <= cap {
        return values.to_vec();
    }
    // Legacy permutation: a Fisher–Yates shuffle from the end, each index
    // drawn by rejection on a bit mask.
    let mut idx: Vec<usize> = (0..values.len()).collect();
    let mut r = RandomState::new(1234);
    for i in (1..idx.len()).rev() {
        let j = r.interval(i as u64) as usize;
        idx.swap(i, j);
    }
    idx[..cap].iter().map(|&i| values[i]).collect()
}

/// The mode of the window sums (two histogram levels), the rates of the
/// Laplace tails either side, and 10,000 samples split at zero.
fn laplace_null(values: &[f64], samples: usize) -> (f64, f64, f64, Vec<f64>, Vec<f64>) {
    let bin_mode = |v: &[f64]| {
        let (counts, edges) = histogram(v, 1000);
        let peak =
            counts.iter().enumerate().fold(0, |b, (k, &c)| if c > counts[b] { k } else { b });
        (edges[peak], edges[peak + 1])
    };
    let (a, b) = bin_mode(values);
    let top: Vec<f64> = values.iter().copied().filter(|&v| a < v && v < b).collect();
    let (a, b) = bin_mode(&top);
    let mu = f64::midpoint(a, b);
    let mut up: Vec<f64> = values.iter().copied().filter(|&v| v >= mu).collect();
    let mut down: Vec<f64> = values.iter().copied().filter(|&v| v <= mu).collect();
    up.sort_by(f64::total_cmp);
    down.sort_by(f64::total_cmp);
    let (mut lp, mut ln) = (f64::NEG_INFINITY, f64::NEG_INFINITY);
    for k in 1..=19 {
        let q = f64::from(5 * k);
        let num = -(1.0 - q / 100.0).ln();
        lp = lp.max(num / (percentile_sorted(&up, q) - mu));
        ln = ln.max(num / (percentile_sorted(&down, 100.0 - q) - mu).abs());
    }
    let prob_pos = up.len() as f64 / (up.len() + down.len()) as f64;
    let mut r = RandomState::new(1234);
    let (mut pos, mut neg) = (Vec::new(), Vec::new());
    for _ in 0..samples {
        let (u1, u2) = (r.random_sample(), r.random_sample());
        let v = if u1 < prob_pos { -(1.0 - u2).ln() / lp + mu } else { mu + (1.0 - u2).ln() / ln };
        if v >= 0.0 { pos.push(v) } else { neg.push(v) }
    }
    (mu, lp, ln, pos, neg)
}

/// The first of `values` (sorted away from zero) whose isotonic precision
/// against the null reaches 1 − fdr.
fn isotonic_threshold(values: &[f64], null: &[f64], increasing: bool, fdr: f64) -> f64 {
    let (n1, n2) = (values.len(), null.len());
    // No window of this sign: none passes; no null of it: every one does.
    match (n1, n2) {
        (0, _) => return if increasing { f64::INFINITY } else { f64::NEG_INFINITY },
        (_, 0) => return values[0],
        _ => {}
    }
    let x: Vec<f64> = values.iter().chain(null).copied().collect();
    let y: Vec<f64> = (0..n1 + n2).map(|k| if k < n1 { 1.0 } else { 0.0 }).collect();
    let wn = n1 as f64 / n2 as f64;
    let w: Vec<f64> = (0..n1 + n2).map(|k| if k < n1 { 1.0 } else { wn }).collect();
    let model = Isotonic::fit(&x, &y, &w, increasing);
    let (lo, hi) = model.range();
    let min_precision = model.predict(if increasing { lo } else { hi });
    let mut frac_neg = -1.0 / (1.0 - 1.0 / min_precision.max(1e-7));
    // Python's max(min(1, f), 0.95): NaN becomes 1.
    if frac_neg.is_nan() {
        frac_neg = 1.0;
    }
    frac_neg = frac_neg.clamp(0.95, 1.0);
    let last = values.len() - 1;
    for (k, &v) in values.iter().enumerate() {
        let p = (1.0 + frac_neg * (1.0 - 1.0 / model.predict(v).max(1e-7))).clamp(0.0, 1.0);
        if k == last || p >= 1.0 - fdr {
            return v;
        }
    }
    f64::NAN
}

/// Between `min_passing_frac` and `max_passing_frac` of the windows pass.
fn refine(pos: &[f64], neg: &[f64], tp: f64, tn: f64, s: &Settings) -> (f64, f64) {
    let n = (pos.len() + neg.len()) as f64;
    let passing = pos.iter().chain(neg).filter(|&&v| v >= tp || v <= tn).count() as f64 / n;
    let mut abs: Vec<f64> = pos.iter().chain(neg).map(|v| v.abs()).collect();
    abs.sort_by(f64::total_cmp);
    let (mut tp, mut tn) = (tp, tn);
    if passing < s.min_passing_frac {
        tp = percentile_sorted(&abs, 100.0 * (1.0 - s.min_passing_frac));
        tn = -tp;
    }
    if passing > s.max_passing_frac {
        tp = percentile_sorted(&abs, 100.0 * (1.0 - s.max_passing_frac));
        tn = -tp;
    }
    (tp, tn)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Gaussian-ish noise from the legacy stream (sum of uniforms).
    fn noise(r: &mut RandomState, scale: f32) -> f32 {
        let s: f64 = (0..4).map(|_| r.random_sample() - 0.5).sum();
        s as f32 * scale
    }

    /// Planted 12 bp blocks (positive in even rows, negative in rows ≡ 1
    /// mod 4, none in the rest) are called as seqlets of their sign whose
    /// core covers the block; rows without a block yield none.
    #[test]
    fn planted_blocks_become_seqlets_of_their_sign() {
        let (n, len) = (400, 200);
        let mut r = RandomState::new(7);
        let mut c = vec![0f32; n * len * 4];
        for i in 0..n {
            for l in 0..len {
                c[(i * len + l) * 4 + (l % 4)] = noise(&mut r, 0.02);
            }
        }
        let at = |i: usize| 40 + (i * 37) % 100;
        for i in 0..n {
            let sign = match i % 4 {
                0 | 2 => 1.0,
                1 => -1.0,
                _ => continue,
            };
            for l in at(i)..at(i) + 12 {
                c[(i * len + l) * 4 + (l % 4)] += sign * 0.2;
            }
        }
        let called = call(&dense(&c, n, len), &Settings::default());
        let s = Settings::default();
        let covers = |q: &Seqlet, i: usize| {
            q.example == i && q.start + s.flank <= at(i) + 12 && at(i) < q.end - s.flank
        };
        for i in 0..n {
            let (mine, other) = match i % 4 {
                0 | 2 => (&called.positive, &called.negative),
                1 => (&called.negative, &called.positive),
                _ => {
                    let stray =
                        called.positive.iter().chain(&called.negative).filter(|q| q.example == i);
                    assert_eq!(stray.count(), 0, "row {i} has no block");
                    continue;
                }
            };
            assert!(mine.iter().any(|q| covers(q, i)), "row {i}: block at {} not called", at(i));
            assert!(!other.iter().any(|q| covers(q, i)), "row {i}: called with the wrong sign");
        }
        assert!(called.thresholds.0 > 0.0 && called.thresholds.1 < 0.0);
    }
}

#[cfg(test)]
mod edge_tests {
    use super::*;

    /// Inputs with no window, no rows, or one sign only call nothing or
    /// only that sign, without panicking.
    #[test]
    fn degenerate_inputs() {
        let s = Settings::default();
        assert!(call(&dense(&[], 0, 100), &s).positive.is_empty());
        let short = vec![0.1f32; 3 * 10 * 4];
        let c = call(&dense(&short, 3, 10), &s);
        assert!(c.positive.is_empty() && c.negative.is_empty());
        let mut r = RandomState::new(3);
        let up: Vec<f32> = (0..50 * 100 * 4).map(|_| r.random_sample() as f32).collect();
        let c = call(&dense(&up, 50, 100), &s);
        assert!(c.negative.is_empty());
    }
}
