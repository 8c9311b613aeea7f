//! `positive-mean`: the mean pooled output on positives (the README's
//! worked example of a criterion plugin; the README shows this file).

use motif_core::plugin::{Configured, CriterionInput, PruningCriterion, Status};
use motif_core::{Error, Result};
use ndarray::{Array1, Axis};

/// `s_j` = mean over positive training sequences of `o_j`, kernel j's pooled
/// output: kernels that fire strongly on bound sequences survive.
#[derive(Debug, Clone, Copy, Default)]
pub struct PositiveMean {
    threshold: f32,
}

/// Settings: which labels count as positive.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct PositiveMeanConfig {
    /// A sequence is positive when its label is above this.
    pub threshold: f32,
}

impl Default for PositiveMeanConfig {
    fn default() -> Self {
        Self { threshold: 0.5 }
    }
}

impl Configured for PositiveMean {
    type Config = PositiveMeanConfig;
    fn from_config(c: PositiveMeanConfig) -> Result<Self> {
        if !c.threshold.is_finite() {
            return Err(Error::Config { plugin: "positive-mean".into(), msg: "threshold".into() });
        }
        Ok(Self { threshold: c.threshold })
    }
}

impl PruningCriterion for PositiveMean {
    /// Ask for the pooled outputs and labels of the training data.
    fn needs_data(&self) -> bool {
        true
    }

    fn score(&self, input: &CriterionInput<'_>) -> Result<Array1<f32>> {
        let (Some(pooled), Some(labels)) = (input.pooled, input.labels) else {
            return Err(Error::Invalid("positive-mean needs pooled outputs and labels".into()));
        };
        let rows: Vec<usize> = (0..labels.len()).filter(|&i| labels[i] > self.threshold).collect();
        if rows.is_empty() {
            return Err(Error::Invalid("positive-mean: no positive training sequence".into()));
        }
        let positives = pooled.select(Axis(0), &rows);
        Ok(positives.mean_axis(Axis(0)).expect("at least one row"))
    }
}

motif_core::register_plugin!(PruningCriterion, PositiveMean, name: "positive-mean",
    summary: "mean pooled output of each kernel on positive sequences (README example)",
    status: Status::Preview("0.1.0"));

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mean_over_positive_rows() {
        let d = crate::testdata::input();
        let s = PositiveMean::default().score(&d.view()).unwrap();
        assert_eq!(s.to_vec(), [2.0, 1.0, 2.0]);
        let all_neg = PositiveMean { threshold: 2.0 }.score(&d.view()).unwrap_err();
        assert!(all_neg.to_string().contains("no positive"), "{all_neg}");
    }
}
