//! Position probability matrices from sampled sequences: NeuronMotif's
//! activation-bin weighting, consensus, information content, smoothing.

use ndarray::Array2;

use crate::net::Seqs;

/// Activation bins of [`binned_ppm`] (NeuronMotif's main version: 20).
pub const BINS: usize = 20;

/// The PPM (4, len) of `seqs` at rows `idx`, weighting each of [`BINS`]
/// equal-width activation bins over (0, max v] by its mean activation: a
/// bin's base frequencies `f_b` count with weight `m_b`, so each activation
/// stratum counts in proportion to its activation, not its size. An empty
/// bin reuses the previous bin's frequencies (uniform before the first)
/// with `m_b` = the bin's midpoint.
#[must_use]
pub fn binned_ppm(seqs: &Seqs, v: &[f32], idx: &[usize]) -> Array2<f64> {
    let len = seqs.len;
    let max = idx.iter().map(|&i| f64::from(v[i])).fold(0.0f64, f64::max);
    if idx.is_empty() || max <= 0.0 {
        return Array2::from_elem((4, len), 0.25);
    }
    let width = max / BINS as f64;
    let mut counts = vec![Array2::<f64>::zeros((4, len)); BINS];
    let mut sums = [0.0f64; BINS];
    let mut ns = [0usize; BINS];
    for &i in idx {
        let a = f64::from(v[i]);
        let b = (((a / width).ceil() as usize).max(1) - 1).min(BINS - 1);
        for (j, &base) in seqs.get(i).iter().enumerate() {
            counts[b][[usize::from(base), j]] += 1.0;
        }
        sums[b] += a;
        ns[b] += 1;
    }
    let mut prev = Array2::from_elem((4, len), 0.25);
    let mut ppm = Array2::<f64>::zeros((4, len));
    let mut total = 0.0;
    for b in 0..BINS {
        let (f, m) = if ns[b] == 0 {
            (prev.clone(), (b as f64 + 0.5) * width)
        } else {
            (&counts[b] / ns[b] as f64, sums[b] / ns[b] as f64)
        };
        ppm = ppm + &f * m;
        total += m;
        prev = f;
    }
    ppm / total
}

/// The argmax base of each column (ties: the first).
#[must_use]
pub fn consensus(ppm: &Array2<f64>) -> Vec<u8> {
    motif_core::motif::argmax_bases(ppm)
}

/// Per-column information content in bits, 2 − H₂.
#[must_use]
pub fn ic_bits(ppm: &Array2<f64>) -> Vec<f64> {
    ppm.columns().into_iter().map(|c| motif_core::motif::column_ic(c.iter().copied())).collect()
}

/// The first and last column with more than `bits` of information, if any.
#[must_use]
pub fn informative_span(ppm: &Array2<f64>, bits: f64) -> Option<(usize, usize)> {
    let ic = ic_bits(ppm);
    let first = ic.iter().position(|&v| v > bits)?;
    let last = ic.iter().rposition(|&v| v > bits)?;
    Some((first, last))
}

/// NeuronMotif's segmentation "IC": 2 − H in nats (the natural log, as the
/// original's `tochen.py` and `segment.py` compute it).
#[must_use]
pub fn ic_nats(ppm: &Array2<f64>) -> Vec<f64> {
    (0..ppm.ncols())
        .map(|j| {
            2.0 + (0..4).map(|b| ppm[[b, j]]).filter(|&p| p > 0.0).map(|p| p * p.ln()).sum::<f64>()
        })
        .collect()
}

/// (ppm · n + k · 0.25) / (n + k): `k` uniform pseudo-samples.
#[must_use]
pub fn smooth(ppm: &Array2<f64>, n: usize, k: f64) -> Array2<f64> {
    let n = n as f64;
    ppm.mapv(|p| (p * n + k * 0.25) / (n + k))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bins_weight_by_activation_not_count() {
        // 9 sequences `A` at activation 1 and 1 sequence `C` at activation 10:
        // bins of width 0.5; A's bin has mean 1, C's mean 10, 18 empty bins
        // reuse the previous frequencies at their midpoints.
        let mut s = Seqs::new(1);
        for _ in 0..9 {
            s.push(&[0]);
        }
        s.push(&[1]);
        let mut v = vec![1.0; 9];
        v.push(10.0);
        let idx: Vec<usize> = (0..10).collect();
        let p = binned_ppm(&s, &v, &idx);
        // Bin midpoints: (b + 0.5)·0.5. Bins 0 (0–0.5) empty → uniform at 0.25;
        // bin 1 holds A (m = 1); bins 2..18 empty → A at their midpoints; bin 19 C (m = 10).
        let mid = |b: usize| (b as f64 + 0.5) * 0.5;
        let a_mass: f64 = 1.0 + (2..19).map(mid).sum::<f64>() + 0.25 * mid(0);
        let total: f64 = mid(0) + 1.0 + (2..19).map(mid).sum::<f64>() + 10.0;
        assert!((p[[0, 0]] - a_mass / total).abs() < 1e-12, "{p:?}");
        assert!((p[[1, 0]] - (10.0 + 0.25 * mid(0)) / total).abs() < 1e-12);
        assert!((p.sum() - 1.0).abs() < 1e-12);
        assert_eq!(consensus(&p), vec![0]);
    }

    #[test]
    fn information_content() {
        let p = Array2::from_shape_vec((4, 2), vec![1.0, 0.25, 0.0, 0.25, 0.0, 0.25, 0.0, 0.25])
            .unwrap();
        assert_eq!(ic_bits(&p), vec![2.0, 0.0]);
        assert!((ic_nats(&p)[1] - (2.0 - 4f64.ln())).abs() < 1e-12);
        assert!((smooth(&p, 20, 80.0)[[0, 0]] - (20.0 + 20.0) / 100.0).abs() < 1e-12);
    }
}
