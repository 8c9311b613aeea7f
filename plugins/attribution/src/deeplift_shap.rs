//! `deeplift-shap`: DeepLIFT (Rescale rule) averaged over dinucleotide
//! shuffles of each sequence (DeepSHAP), as tangermeme's `deep_lift_shap`.

use motif_core::plugin::{
    AttributeInput, Attribution, Attributor, Configured, Convergence, Status,
};
use motif_core::{Error, Result};
use std::path::PathBuf;

use ndarray::{Array1, Array2, Array3, Array4, Axis, s};

use crate::shuffle::reference;

/// Settings of `deeplift-shap`.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct DeepLiftShapConfig {
    /// References per sequence: dinucleotide shuffles, reference `k` drawn
    /// from `seed + k`.
    pub n_shuffles: usize,
    /// Given references instead of shuffles: an `.npz`/`.npy` array
    /// `(N, K, 4, L)`, row `i` holding sequence `i`'s `K` references (as
    /// tangermeme's `references` tensor); `n-shuffles` is then `K`.
    pub references: Option<PathBuf>,
}

impl Default for DeepLiftShapConfig {
    fn default() -> Self {
        Self { n_shuffles: 20, references: None }
    }
}

/// DeepSHAP over dinucleotide-shuffled (or given) references.
#[derive(Debug, Clone)]
pub struct DeepLiftShap {
    k: usize,
    given: Option<Array4<f32>>,
}

impl Configured for DeepLiftShap {
    type Config = DeepLiftShapConfig;
    fn from_config(config: DeepLiftShapConfig) -> Result<Self> {
        if let Some(p) = &config.references {
            let a = motif_core::npz::read(p)?;
            let a = a.into_dimensionality::<ndarray::Ix4>().map_err(|_| {
                Error::Invalid(format!("{}: references must be an (N, K, 4, L) array", p.display()))
            })?;
            if a.dim().2 != 4 || a.dim().1 == 0 {
                return Err(Error::Invalid(format!(
                    "{}: references are {:?}; expected (N, K, 4, L)",
                    p.display(),
                    a.shape()
                )));
            }
            return Ok(Self { k: a.dim().1, given: Some(a) });
        }
        if config.n_shuffles == 0 {
            return Err(Error::Invalid("deeplift-shap: n-shuffles must be at least 1".into()));
        }
        Ok(Self { k: config.n_shuffles, given: None })
    }
}

impl DeepLiftShap {
    /// Reference `k` of sequence `i` of the chunk.
    fn reference(&self, input: &AttributeInput<'_>, i: usize, k: usize) -> Result<Array2<f32>> {
        let x = input.x.index_axis(Axis(0), i);
        let Some(g) = &self.given else { return Ok(reference(x, input.seed, k)) };
        let row = input.first + i;
        if row >= g.dim().0 || g.dim().3 != x.ncols() {
            return Err(Error::Invalid(format!(
                "deeplift-shap: the given references are {:?}; sequence {row} of {} bp has none",
                g.shape(),
                x.ncols()
            )));
        }
        Ok(g.slice(s![row, k, .., ..]).to_owned())
    }
}

/// One pair's hypothetical contributions from its multipliers:
/// `h[c, l] = m[c, l] − Σ_c' r[c', l]·m[c', l]`, added into `acc`.
fn add_hypothetical(
    acc: &mut ndarray::ArrayViewMut2<'_, f32>,
    m: ndarray::ArrayView2<'_, f32>,
    r: ndarray::ArrayView2<'_, f32>,
    weight: f32,
) {
    for l in 0..m.ncols() {
        let base: f32 = (0..4).map(|c| r[(c, l)] * m[(c, l)]).sum();
        for c in 0..4 {
            acc[(c, l)] += weight * (m[(c, l)] - base);
        }
    }
}

/// Sequences and references per call for about `batch` pairs: whole
/// sequences (all `k` references) where `batch ≥ k`, else one sequence with
/// the divisor of `k` nearest `batch` (the larger on a tie), so that every
/// call has one shape (each shape is its own engine session, and sessions
/// taking turns slow each other).
fn call_shape(batch: usize, k: usize) -> (usize, usize) {
    if batch >= k {
        return (batch / k, k);
    }
    let kc = (1..=k)
        .filter(|&d| k.is_multiple_of(d))
        .min_by_key(|&d| (d.abs_diff(batch), std::cmp::Reverse(d)))
        .unwrap_or(1);
    (1, kc)
}

impl Attributor for DeepLiftShap {
    fn attribute(&self, input: &AttributeInput<'_>) -> Result<Attribution> {
        let x = input.x;
        let (n, _, len) = x.dim();
        let k = self.k;
        let batch = input.model.batch().max(1);
        let mut hyp = Array3::<f32>::zeros((n, 4, len));
        let mut prediction = Array1::<f32>::zeros(n);
        let mut deltas = vec![Vec::with_capacity(k); n];
        let mut dfs = vec![Vec::with_capacity(k); n];
        let weight = 1.0 / k as f32;
        // Calls of `rows` sequences with `kc` of their references each
        // (reference-major: pair p of a call is sequence p % rows): each
        // sequence runs forward once per call.
        let (rows, kc) = call_shape(batch, k);
        for i0 in (0..n).step_by(rows) {
            let i1 = (i0 + rows).min(n);
            let s = i1 - i0;
            let xs = x.slice(s![i0..i1, .., ..]);
            for k0 in (0..k).step_by(kc) {
                let k1 = (k0 + kc).min(k);
                let mut rb = Array3::<f32>::zeros(((k1 - k0) * s, 4, len));
                for kk in k0..k1 {
                    for i in i0..i1 {
                        rb.index_axis_mut(Axis(0), (kk - k0) * s + i - i0)
                            .assign(&self.reference(input, i, kk)?);
                    }
                }
                let (fx, fr, m) = input.model.multipliers(xs, rb.view())?;
                for p in 0..rb.dim().0 {
                    let ii = p % s;
                    let i = i0 + ii;
                    let (mb, rr, xx) = (
                        m.index_axis(Axis(0), p),
                        rb.index_axis(Axis(0), p),
                        xs.index_axis(Axis(0), ii),
                    );
                    let sum: f64 = xx
                        .iter()
                        .zip(rr.iter())
                        .zip(mb.iter())
                        .map(|((&a, &c), &w)| f64::from(a - c) * f64::from(w))
                        .sum();
                    let df = f64::from(fx[ii]) - f64::from(fr[p]);
                    deltas[i].push((df - sum).abs());
                    dfs[i].push(df.abs());
                    prediction[i] = fx[ii];
                    add_hypothetical(&mut hyp.slice_mut(s![i, .., ..]), mb, rr, weight);
                }
            }
        }
        let convergence = deltas
            .iter()
            .zip(&dfs)
            .map(|(d, f)| Convergence {
                max_delta: d.iter().copied().fold(0.0, f64::max),
                mean_delta: d.iter().sum::<f64>() / d.len() as f64,
                mean_abs_df: f.iter().sum::<f64>() / f.len() as f64,
            })
            .collect();
        Ok(Attribution { hypothetical: hyp, prediction, convergence: Some(convergence) })
    }
}

motif_core::register_plugin!(Attributor, DeepLiftShap, name: "deeplift-shap",
    summary: "DeepLIFT (Rescale) averaged over dinucleotide-shuffled references (DeepSHAP)",
    status: Status::Preview("0.1.0"));

#[cfg(test)]
mod tests {
    use super::call_shape;

    #[test]
    fn calls_have_one_shape() {
        // Whole sequences where the batch holds all references.
        assert_eq!(call_shape(40, 20), (2, 20));
        assert_eq!(call_shape(20, 20), (1, 20));
        // Else a divisor of k: 20 = 5 calls of 4 (nearest 3, larger on a tie).
        assert_eq!(call_shape(3, 20), (1, 4));
        assert_eq!(call_shape(6, 20), (1, 5));
        assert_eq!(call_shape(1, 20), (1, 1));
        // A prime k and a small batch: one reference per call.
        assert_eq!(call_shape(3, 7), (1, 1));
        assert_eq!(call_shape(5, 7), (1, 7));
    }
}
