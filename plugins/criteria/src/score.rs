//! `score`: |`mean_P` `o_j` − `mean_N` `o_j`| (Deepprune's `modep=1`).

use motif_core::Result;
use motif_core::plugin::{Configured, CriterionInput, PruningCriterion, Status};
use ndarray::Array1;

use crate::NoConfig;

/// `s_j` = |mean over positives of `o_j` − mean over negatives of `o_j`|, with `o_j`
/// kernel j's pooled output.
#[derive(Debug, Clone, Copy, Default)]
pub struct Score;

impl Configured for Score {
    type Config = NoConfig;
    fn from_config(_: NoConfig) -> Result<Self> {
        Ok(Self)
    }
}

impl PruningCriterion for Score {
    fn needs_data(&self) -> bool {
        true
    }

    fn score(&self, input: &CriterionInput<'_>) -> Result<Array1<f32>> {
        let (o, y) = crate::class_data(input, "score")?;
        let (p, n) = crate::class_means(o, y, |_, v| f64::from(v));
        Ok(p.iter().zip(&n).map(|(p, n)| (p - n).abs() as f32).collect())
    }
}

motif_core::register_plugin!(PruningCriterion, Score, name: "score",
    summary: "Deepprune score-based: |mean pooled output on positives − on negatives|",
    status: Status::Stable("0.1.0"));

#[cfg(test)]
mod tests {
    use super::*;

    /// Class means by hand: P rows 0–2, N rows 3–5 of the fixture.
    #[test]
    fn difference_of_class_means() {
        let d = crate::testdata::input();
        let s = Score.score(&d.view()).unwrap();
        // kernel 0: P (1+3+2)/3 = 2, N (0+1+2)/3 = 1; kernel 1: 1 vs 4; kernel 2: 2 vs 1
        assert_eq!(s.to_vec(), [1.0, 3.0, 1.0]);
    }

    #[test]
    fn needs_both_classes_and_data() {
        let mut d = crate::testdata::input();
        assert!(Score.needs_data());
        d.labels.fill(1.0);
        let e = Score.score(&d.view()).unwrap_err().to_string();
        assert!(e.contains("needs positives and negatives") && e.contains("all 1"), "{e}");
        let mut v = d.view();
        v.pooled = None;
        let e = Score.score(&v).unwrap_err().to_string();
        assert!(e.contains("needs the pooled kernel outputs"), "{e}");
    }
}
