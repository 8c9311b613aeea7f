//! motif-prune: Deepprune (Luo, Chi, Deng 2019) on DeepBind-style models.
//!
//! A model qualifies when its last conv layer is globally pooled into a
//! dense layer ([`Head`]). Each pruning step scores the kernels with a
//! criterion plugin ([`motif_core::plugin::PruningCriterion`]; `weight`,
//! `score`, `score-weight` live in `plugins/criteria`) and keeps those
//! scoring strictly above the median ([`keep_mask`]), exactly as the
//! original code does: the threshold is `np.percentile(s, 50)` (linear
//! interpolation) and there is no sort or top-k, so ties at the median are
//! all dropped and an odd count drops the median kernel. The survivors are
//! cut out physically ([`Head::subset`]: conv kernels, every per-kernel
//! tensor, dense rows; the dense bias stays) and fine-tuned through the
//! engines with `lr_init` / 1.2^i ([`run`]); the variants and the paper's
//! seeds-by-variants protocol are in [`run`] and [`protocol`]. Every step
//! is written out (ONNX + JSON) and an interrupted run resumes from the
//! last finished step.
#![deny(missing_docs)]

mod eval;
mod head;
mod run;

pub use eval::{Scored, auc, check_labels, evaluate};
pub use head::Head;
pub use head::param_shapes;
pub use run::{
    Event, Inputs, Journal, ProtocolRow, PruneConfig, Record, StepRecord, SummaryRow, Trained,
    Variant, plan_steps, protocol, rows, run, summarise, write_atomic,
};

use std::path::PathBuf;

/// What can go wrong pruning.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The model cannot be read or edited.
    #[error(transparent)]
    Onnx(#[from] motif_onnx::Error),
    /// The engine failed.
    #[error(transparent)]
    Engine(#[from] motif_engine::Error),
    /// Fine-tuning failed.
    #[error(transparent)]
    Train(#[from] motif_train::Error),
    /// A criterion plugin failed.
    #[error(transparent)]
    Criterion(#[from] motif_core::Error),
    /// The model is not conv → global pooling → dense.
    #[error("{0}")]
    Structure(String),
    /// Inconsistent data or settings.
    #[error("{0}")]
    Invalid(String),
    /// The output folder holds a different run.
    #[error("{0}")]
    Resume(String),
    /// A file could not be written or read.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
}

/// Result with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// `np.percentile(scores, 50)`: the median with linear interpolation
/// between the two middle values. NaN when `scores` is empty or holds a
/// NaN.
#[must_use]
pub fn median(scores: &[f64]) -> f64 {
    if scores.is_empty() || scores.iter().any(|v| v.is_nan()) {
        return f64::NAN;
    }
    let mut s = scores.to_vec();
    s.sort_by(f64::total_cmp);
    let pos = (s.len() - 1) as f64 * 0.5;
    let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
    s[lo] + (s[hi] - s[lo]) * (pos - lo as f64)
}

/// The kernels a Deepprune step keeps: score strictly above [`median`].
/// With distinct scores and an even count, exactly half survive.
#[must_use]
pub fn keep_mask(scores: &[f64]) -> Vec<bool> {
    let t = median(scores);
    scores.iter().map(|&s| s > t).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Thresholds and masks as numpy computes them
    /// (`t = np.percentile(s, 50); s > t`, numpy 2.x).
    #[test]
    fn matches_numpy_percentile_and_strict_rule() {
        let cases: [(&[f64], f64, &[bool]); 5] = [
            (&[3.0, 1.0, 2.0, 4.0], 2.5, &[true, false, false, true]),
            (&[1.0, 2.0, 2.0, 2.0, 3.0], 2.0, &[false, false, false, false, true]),
            (&[5.0, 1.0, 4.0, 2.0, 3.0], 3.0, &[true, false, true, false, false]),
            (&[0.5; 4], 0.5, &[false; 4]),
            (&[2.0, -1.0, 7.5, 7.5, 0.1, 3.3], 2.65, &[false, false, true, true, false, true]),
        ];
        for (s, t, m) in cases {
            assert!((median(s) - t).abs() < 1e-12, "{s:?}: {} vs {t}", median(s));
            assert_eq!(keep_mask(s), m, "{s:?}");
        }
    }

    #[test]
    fn distinct_even_counts_halve() {
        for k in [2usize, 4, 8, 16, 256] {
            let s: Vec<f64> = (0..k).map(|i| ((i * 7919) % 10007) as f64 * 0.37 - 50.0).collect();
            assert_eq!(keep_mask(&s).iter().filter(|&&b| b).count(), k / 2, "K = {k}");
        }
    }

    #[test]
    fn empty_or_nan_keeps_nothing() {
        assert!(keep_mask(&[]).is_empty());
        assert_eq!(keep_mask(&[1.0, f64::NAN, 2.0]), [false; 3]);
    }
}
