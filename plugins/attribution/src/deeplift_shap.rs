//! `deeplift-shap`: DeepLIFT (Rescale rule) averaged over dinucleotide
//! shuffles of each sequence (DeepSHAP), as tangermeme's `deep_lift_shap`.

use motif_core::plugin::{
    AttributeInput, Attribution, Attributor, Configured, Convergence, Status,
};
use motif_core::{Error, Result};
use ndarray::{Array1, Array3, Axis, s};

use crate::shuffle::reference;

/// Settings of `deeplift-shap`.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct DeepLiftShapConfig {
    /// References per sequence: dinucleotide shuffles, reference `k` drawn
    /// from `seed + k`.
    pub n_shuffles: usize,
}

impl Default for DeepLiftShapConfig {
    fn default() -> Self {
        Self { n_shuffles: 20 }
    }
}

/// DeepSHAP over dinucleotide-shuffled references.
#[derive(Debug, Clone)]
pub struct DeepLiftShap {
    config: DeepLiftShapConfig,
}

impl Configured for DeepLiftShap {
    type Config = DeepLiftShapConfig;
    fn from_config(config: DeepLiftShapConfig) -> Result<Self> {
        if config.n_shuffles == 0 {
            return Err(Error::Invalid("deeplift-shap: n-shuffles must be at least 1".into()));
        }
        Ok(Self { config })
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

impl Attributor for DeepLiftShap {
    fn attribute(&self, input: &AttributeInput<'_>) -> Result<Attribution> {
        let x = input.x;
        let (n, _, len) = x.dim();
        let k = self.config.n_shuffles;
        let pairs = n * k;
        let batch = input.model.batch().max(1);
        let mut hyp = Array3::<f32>::zeros((n, 4, len));
        let mut prediction = Array1::<f32>::zeros(n);
        let mut deltas = vec![Vec::with_capacity(k); n];
        let mut dfs = vec![Vec::with_capacity(k); n];
        let weight = 1.0 / k as f32;
        // Pairs example-major: pair p is sequence p / k with reference p % k.
        for start in (0..pairs).step_by(batch) {
            let end = (start + batch).min(pairs);
            let mut xb = Array3::<f32>::zeros((end - start, 4, len));
            let mut rb = Array3::<f32>::zeros((end - start, 4, len));
            for p in start..end {
                let (i, kk) = (p / k, p % k);
                xb.index_axis_mut(Axis(0), p - start).assign(&x.index_axis(Axis(0), i));
                rb.index_axis_mut(Axis(0), p - start).assign(&reference(
                    x.index_axis(Axis(0), i),
                    input.seed,
                    kk,
                ));
            }
            let (fx, fr, m) = input.model.multipliers(xb.view(), rb.view())?;
            for p in start..end {
                let (i, b) = (p / k, p - start);
                let (mb, rr, xx) = (
                    m.index_axis(Axis(0), b),
                    rb.index_axis(Axis(0), b),
                    xb.index_axis(Axis(0), b),
                );
                let sum: f64 = xx
                    .iter()
                    .zip(rr.iter())
                    .zip(mb.iter())
                    .map(|((&a, &c), &w)| f64::from(a - c) * f64::from(w))
                    .sum();
                let df = f64::from(fx[b]) - f64::from(fr[b]);
                deltas[i].push((df - sum).abs());
                dfs[i].push(df.abs());
                prediction[i] = fx[b];
                add_hypothetical(&mut hyp.slice_mut(s![i, .., ..]), mb, rr, weight);
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
