//! `score-weight`: |`mean_P(o_j·w_j)` − `mean_N(o_j·w_j)`| (Deepprune's `modep=2`).

use motif_core::Result;
use motif_core::plugin::{Configured, CriterionInput, PruningCriterion, Status};
use ndarray::Array1;

use crate::NoConfig;

/// `s_j` = |mean over positives of `o_j·w_j` − mean over negatives of `o_j·w_j|`:
/// kernel j's contribution to the logit, separated by class (Σ over
/// outputs of the magnitudes).
#[derive(Debug, Clone, Copy, Default)]
pub struct ScoreWeight;

impl Configured for ScoreWeight {
    type Config = NoConfig;
    fn from_config(_: NoConfig) -> Result<Self> {
        Ok(Self)
    }
}

impl PruningCriterion for ScoreWeight {
    fn needs_data(&self) -> bool {
        true
    }

    fn score(&self, input: &CriterionInput<'_>) -> Result<Array1<f32>> {
        let w = crate::dense(input, "score-weight")?;
        let (o, y) = crate::class_data(input, "score-weight")?;
        let mut s = vec![0.0f64; o.ncols()];
        for wo in w.outer_iter() {
            let (p, n) = crate::class_means(o, y, |j, v| f64::from(v) * f64::from(wo[j]));
            for (acc, (p, n)) in s.iter_mut().zip(p.iter().zip(&n)) {
                *acc += (p - n).abs();
            }
        }
        Ok(s.into_iter().map(|v| v as f32).collect())
    }
}

motif_core::register_plugin!(PruningCriterion, ScoreWeight, name: "score-weight",
    summary: "Deepprune score-and-weight: |mean of pooled output × dense weight, positives − negatives|",
    status: Status::Stable("0.1.0"));

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weighted_difference_equals_weight_times_score() {
        let d = crate::testdata::input();
        let s = ScoreWeight.score(&d.view()).unwrap();
        // |w| · |Δmean|: 0.5·1, 2·3, 0.25·1
        assert_eq!(s.to_vec(), [0.5, 6.0, 0.25]);
    }
}
