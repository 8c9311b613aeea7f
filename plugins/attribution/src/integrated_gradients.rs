//! `integrated-gradients` (Sundararajan et al. 2017, as Captum):
//! `IG = (x − b) ⊙ Σ_k w_k ∇f(b + α_k (x − b))`, by default with the zero
//! baseline and 50 Gauss–Legendre steps.
//!
//! The hypothetical scores are `h[c, l] = Ḡ[c, l] − Σ_c' b[c', l]·Ḡ[c', l]`
//! with `Ḡ` the weighted mean gradient: at the base present, `h` is IG's
//! column sum, so the projected scores (`x ⊙ h`) sum per position to IG's
//! (with the zero baseline `h = Ḡ` and `x ⊙ h` is IG itself). The
//! completeness gap `|f(x) − f(b) − Σ IG|` is reported per sequence.

use motif_core::plugin::{
    AttributeInput, Attribution, Attributor, Configured, Convergence, Status,
};
use motif_core::{Error, Result};
use ndarray::{Array3, Axis};

/// Where the path starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Baseline {
    /// All zeros (Captum's default).
    Zeros,
    /// 0.25 in every row (the uniform background).
    Uniform,
}

/// How the path integral is approximated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Rule {
    /// Gauss–Legendre nodes on [0, 1] (Captum's default).
    GaussLegendre,
    /// Left Riemann sum.
    RiemannLeft,
    /// Right Riemann sum.
    RiemannRight,
    /// Midpoint Riemann sum.
    RiemannMiddle,
    /// Trapezoid rule.
    RiemannTrapezoid,
}

/// Settings of `integrated-gradients`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct IntegratedGradientsConfig {
    /// The baseline.
    pub baseline: Baseline,
    /// Points on the path.
    pub steps: usize,
    /// The quadrature rule.
    pub rule: Rule,
    /// Remove each position's mean over bases from the averaged gradient
    /// (Majdandzic's correction; off for Captum parity).
    pub correct: bool,
}

impl Default for IntegratedGradientsConfig {
    fn default() -> Self {
        Self { baseline: Baseline::Zeros, steps: 50, rule: Rule::GaussLegendre, correct: false }
    }
}

/// Integrated gradients.
#[derive(Debug, Clone)]
pub struct IntegratedGradients {
    config: IntegratedGradientsConfig,
    /// (node, weight).
    nodes: Vec<(f64, f64)>,
}

impl Configured for IntegratedGradients {
    type Config = IntegratedGradientsConfig;
    fn from_config(config: IntegratedGradientsConfig) -> Result<Self> {
        if config.steps == 0 {
            return Err(Error::Invalid("integrated-gradients: steps must be at least 1".into()));
        }
        let nodes = nodes(config.rule, config.steps);
        Ok(Self { config, nodes })
    }
}

/// The n-point Gauss–Legendre rule on [−1, 1]: (node, weight) pairs, ascending.
#[must_use]
pub fn gauss_legendre(n: usize) -> Vec<(f64, f64)> {
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        // Newton's method on P_n from the Chebyshev-like first guess.
        let mut z = (std::f64::consts::PI * (i as f64 + 0.75) / (n as f64 + 0.5)).cos();
        let mut dp = 1.0;
        for _ in 0..100 {
            let (mut p0, mut p1) = (1.0, z);
            if n == 0 {
                break;
            }
            for j in 2..=n {
                let p2 = ((2 * j - 1) as f64 * z * p1 - (j - 1) as f64 * p0) / j as f64;
                p0 = p1;
                p1 = p2;
            }
            let pn = if n == 1 { z } else { p1 };
            let pm = if n == 1 { 1.0 } else { p0 };
            dp = n as f64 * (z * pn - pm) / (z * z - 1.0);
            let step = pn / dp;
            z -= step;
            if step.abs() < 1e-15 {
                break;
            }
        }
        out.push((z, 2.0 / ((1.0 - z * z) * dp * dp)));
    }
    out.reverse();
    out
}

/// (node, weight) of `rule` with `n` points on [0, 1].
fn nodes(rule: Rule, n: usize) -> Vec<(f64, f64)> {
    let nf = n as f64;
    match rule {
        Rule::GaussLegendre => {
            gauss_legendre(n).into_iter().map(|(x, w)| (0.5 * (1.0 + x), 0.5 * w)).collect()
        }
        Rule::RiemannLeft => (0..n).map(|k| (k as f64 / nf, 1.0 / nf)).collect(),
        Rule::RiemannRight => (1..=n).map(|k| (k as f64 / nf, 1.0 / nf)).collect(),
        Rule::RiemannMiddle => (0..n).map(|k| ((k as f64 + 0.5) / nf, 1.0 / nf)).collect(),
        Rule::RiemannTrapezoid => {
            if n == 1 {
                return vec![(0.5, 1.0)];
            }
            (0..n)
                .map(|k| {
                    let w = if k == 0 || k == n - 1 { 0.5 / nf } else { 1.0 / nf };
                    (k as f64 / (nf - 1.0), w)
                })
                .collect()
        }
    }
}

impl Attributor for IntegratedGradients {
    fn attribute(&self, input: &AttributeInput<'_>) -> Result<Attribution> {
        let x = input.x;
        let (n, _, len) = x.dim();
        let b0 = match self.config.baseline {
            Baseline::Zeros => 0.0f32,
            Baseline::Uniform => 0.25,
        };
        let batch = input.model.batch().max(1);
        let steps = self.nodes.len();
        let mut gbar = Array3::<f32>::zeros((n, 4, len));
        let total = n * steps;
        for start in (0..total).step_by(batch) {
            let end = (start + batch).min(total);
            let mut xb = Array3::<f32>::zeros((end - start, 4, len));
            for p in start..end {
                let (i, k) = (p / steps, p % steps);
                let a = self.nodes[k].0 as f32;
                xb.index_axis_mut(Axis(0), p - start)
                    .assign(&x.index_axis(Axis(0), i).mapv(|v| b0 + a * (v - b0)));
            }
            let (_, g) = input.model.gradient(xb.view())?;
            for p in start..end {
                let (i, k) = (p / steps, p % steps);
                let w = self.nodes[k].1 as f32;
                gbar.index_axis_mut(Axis(0), i).scaled_add(w, &g.index_axis(Axis(0), p - start));
            }
        }
        if self.config.correct {
            crate::saliency::center(&mut gbar);
        }
        let prediction = input.model.predict(x)?;
        let fb = input.model.predict(Array3::from_elem((n, 4, len), b0).view())?;
        let mut hyp = gbar.clone();
        let mut convergence = Vec::with_capacity(n);
        for i in 0..n {
            let (xi, gi) = (x.index_axis(Axis(0), i), gbar.index_axis(Axis(0), i));
            let ig: f64 = xi.iter().zip(gi.iter()).map(|(&v, &g)| f64::from((v - b0) * g)).sum();
            let df = f64::from(prediction[i]) - f64::from(fb[i]);
            let gap = (df - ig).abs();
            convergence.push(Convergence {
                max_delta: gap,
                mean_delta: gap,
                mean_abs_df: df.abs(),
            });
            for l in 0..len {
                let base: f32 = (0..4).map(|c| b0 * gi[(c, l)]).sum();
                for c in 0..4 {
                    hyp[(i, c, l)] -= base;
                }
            }
        }
        Ok(Attribution { hypothetical: hyp, prediction, convergence: Some(convergence) })
    }
}

motif_core::register_plugin!(Attributor, IntegratedGradients, name: "integrated-gradients",
    summary: "integrated gradients from a baseline (zeros or uniform), Gauss–Legendre steps",
    status: Status::Preview("0.1.0"));

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gauss_legendre_matches_known_rules() {
        let r2 = gauss_legendre(2);
        let a = 1.0 / 3f64.sqrt();
        assert!((r2[0].0 + a).abs() < 1e-14 && (r2[1].0 - a).abs() < 1e-14);
        assert!((r2[0].1 - 1.0).abs() < 1e-14);
        let r3 = gauss_legendre(3);
        assert!(r3[1].0.abs() < 1e-14 && (r3[1].1 - 8.0 / 9.0).abs() < 1e-14);
        assert!((r3[2].0 - 0.6f64.sqrt()).abs() < 1e-14 && (r3[2].1 - 5.0 / 9.0).abs() < 1e-14);
        // 50 points integrate x^k exactly on [0, 1] for k < 100.
        let nodes = nodes(Rule::GaussLegendre, 50);
        let w: f64 = nodes.iter().map(|n| n.1).sum();
        assert!((w - 1.0).abs() < 1e-13);
        for k in [1, 7, 40, 99] {
            let v: f64 = nodes.iter().map(|(a, w)| w * a.powi(k)).sum();
            assert!((v - 1.0 / f64::from(k + 1)).abs() < 1e-12, "x^{k}: {v}");
        }
        assert_eq!(gauss_legendre(1), vec![(0.0, 2.0)]);
    }
}
