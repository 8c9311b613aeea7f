//! `saliency`: the input gradient ∂f/∂x, with Majdandzic's correction
//! (each position's mean over bases removed) on by default, as
//! tangermeme 1.6's `saliency`. Its projection is gradient × input.

use motif_core::Result;
use motif_core::plugin::{AttributeInput, Attribution, Attributor, Configured, Status};
use ndarray::{Array1, Array3, Axis, s};

/// Settings of `saliency`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct SaliencyConfig {
    /// Remove each position's mean gradient over the four bases (the
    /// component pointing off the one-hot simplex; Majdandzic et al. 2023).
    pub correct: bool,
}

impl Default for SaliencyConfig {
    fn default() -> Self {
        Self { correct: true }
    }
}

/// Input gradients.
#[derive(Debug, Clone)]
pub struct Saliency {
    config: SaliencyConfig,
}

impl Configured for Saliency {
    type Config = SaliencyConfig;
    fn from_config(config: SaliencyConfig) -> Result<Self> {
        Ok(Self { config })
    }
}

/// Subtracts each position's mean over the four bases.
pub(crate) fn center(g: &mut Array3<f32>) {
    for mut seq in g.outer_iter_mut() {
        for mut col in seq.columns_mut() {
            let mean = col.sum() / 4.0;
            col -= mean;
        }
    }
}

impl Attributor for Saliency {
    fn attribute(&self, input: &AttributeInput<'_>) -> Result<Attribution> {
        let x = input.x;
        let n = x.len_of(Axis(0));
        let batch = input.model.batch().max(1);
        let mut g = Array3::<f32>::zeros(x.raw_dim());
        let mut prediction = Array1::<f32>::zeros(n);
        for start in (0..n).step_by(batch) {
            let end = (start + batch).min(n);
            let (f, gb) = input.model.gradient(x.slice(s![start..end, .., ..]))?;
            g.slice_mut(s![start..end, .., ..]).assign(&gb);
            prediction.slice_mut(s![start..end]).assign(&f);
        }
        if self.config.correct {
            center(&mut g);
        }
        Ok(Attribution { hypothetical: g, prediction, convergence: None })
    }
}

motif_core::register_plugin!(Attributor, Saliency, name: "saliency",
    summary: "input gradient, mean-corrected over bases (projected: gradient × input)",
    status: Status::Preview("0.1.0"));
