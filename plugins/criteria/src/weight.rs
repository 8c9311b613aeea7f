//! `weight`: |`w_j`| (Deepprune's default, `modep=0`).

use motif_core::Result;
use motif_core::plugin::{Configured, CriterionInput, PruningCriterion, Status};
use ndarray::{Array1, Axis};

use crate::NoConfig;

/// `s_j` = |`w_j`|, the magnitude of kernel j's dense weight (Σ over outputs).
#[derive(Debug, Clone, Copy, Default)]
pub struct Weight;

impl Configured for Weight {
    type Config = NoConfig;
    fn from_config(_: NoConfig) -> Result<Self> {
        Ok(Self)
    }
}

impl PruningCriterion for Weight {
    fn score(&self, input: &CriterionInput<'_>) -> Result<Array1<f32>> {
        Ok(crate::dense(input, "weight")?.mapv(f32::abs).sum_axis(Axis(0)))
    }
}

motif_core::register_plugin!(PruningCriterion, Weight, name: "weight",
    summary: "Deepprune weight-based: |dense weight| of each kernel",
    status: Status::Stable("0.1.0"));

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn magnitude_of_the_dense_weight() {
        let d = crate::testdata::input();
        let s = Weight.score(&d.view()).unwrap();
        assert_eq!(s.to_vec(), [0.5, 2.0, 0.25]);
        assert!(!Weight.needs_data());
    }
}
