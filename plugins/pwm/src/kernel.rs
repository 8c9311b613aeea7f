//! `kernel-pwm`: a motif from first-layer kernel weights, without data.

use motif_core::Result;
use motif_core::motif::{Motif, MotifSet};
use motif_core::plugin::{Configured, ExtractInput, MotifExtractor, Status};
use ndarray::{Array2, Array3};
use serde::{Deserialize, Serialize};

use crate::align::{cfg_err, set};
use crate::trim::{TrimConfig, trim};

/// Config of `kernel-pwm`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct KernelConfig {
    /// The weights are read as log-odds in this base: p ∝ ¼·base^w
    /// (e: natural-log units; 2 for kernels built from log2 odds).
    pub base: f64,
    /// Trim low-information flanks (see `trim`).
    pub trim: TrimConfig,
}

impl Default for KernelConfig {
    fn default() -> Self {
        Self { base: std::f64::consts::E, trim: TrimConfig::default() }
    }
}

/// A PWM from the kernel itself: each column is the softmax of the four
/// letter weights (in units of `base`). This inverts a kernel made from a
/// PWM's log-odds `log_b(p/¼)` exactly; for a trained kernel it assumes the
/// weights are (scaled) log-odds against a uniform background: a per-column
/// offset (what a bias or mean-centring adds) does not change it, the
/// weights' overall scale sharpens or flattens it, and the input must be
/// one-hot DNA (first conv layer only).
#[derive(Debug, Clone, Default)]
pub struct KernelPwm {
    cfg: KernelConfig,
}

impl Configured for KernelPwm {
    type Config = KernelConfig;

    fn from_config(cfg: KernelConfig) -> Result<Self> {
        if !(cfg.base.is_finite() && cfg.base > 1.0) {
            return Err(cfg_err("kernel-pwm", format!("base {} must be > 1", cfg.base)));
        }
        cfg.trim.validate("kernel-pwm")?;
        Ok(Self { cfg })
    }
}

impl MotifExtractor for KernelPwm {
    fn needs_data(&self) -> bool {
        false
    }

    fn extract(&self, input: &ExtractInput<'_>) -> Result<MotifSet> {
        let k = input.kernels;
        if k.shape()[1] != 4 {
            return Err(cfg_err(
                "kernel-pwm",
                format!(
                    "kernels have {} input channels; only a first conv layer (4 channels, one-hot DNA) has a kernel PWM",
                    k.shape()[1]
                ),
            ));
        }
        let ln_b = self.cfg.base.ln();
        let mut motifs = Vec::with_capacity(k.shape()[0]);
        for (f, w) in k.outer_iter().enumerate() {
            let width = w.shape()[1];
            let mut p = Array2::zeros((4, width));
            for j in 0..width {
                let col: Vec<f64> = (0..4).map(|a| f64::from(w[(a, j)]) * ln_b).collect();
                let mx = col.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                if !mx.is_finite() {
                    return Err(cfg_err(
                        "kernel-pwm",
                        format!("kernel {f} column {} has a non-finite weight", j + 1),
                    ));
                }
                let e: Vec<f64> = col.iter().map(|v| (v - mx).exp()).collect();
                let s: f64 = e.iter().sum();
                for a in 0..4 {
                    p[(a, j)] = e[a] / s;
                }
            }
            let m = Motif::from_matrix(format!("filter{f}"), p)?;
            motifs.push(if self.cfg.trim.enabled {
                trim(&m, self.cfg.trim.min_ic, self.cfg.trim.pad)
            } else {
                m
            });
        }
        Ok(set(motifs))
    }
}

/// The inverse of `kernel-pwm` in base 2: conv kernels (k, 4, width) whose
/// weights are each motif's log2 odds against a uniform background,
/// log2((p + pseudo) / (1 + 4·pseudo) / ¼). Motifs narrower than `width`
/// are centred (extra flank left of centre goes to the right) and their
/// padding columns are 0, so they add nothing to the score. A network with
/// these kernels scores a window by its log-likelihood ratio in bits: the
/// positive control for extraction and matching.
///
/// # Panics
/// If a motif is wider than `width`.
#[must_use]
pub fn log_odds_kernels(motifs: &[&Motif], width: usize, pseudo: f64) -> Array3<f32> {
    let mut kernels = Array3::<f32>::zeros((motifs.len(), 4, width));
    for (k, m) in motifs.iter().enumerate() {
        assert!(m.len() <= width, "motif `{}` is wider than {width}", m.id);
        let start = (width - m.len()) / 2;
        for i in 0..m.len() {
            for c in 0..4 {
                let p = (m.probs[[c, i]] + pseudo) / (1.0 + 4.0 * pseudo);
                kernels[[k, c, start + i]] = (p / 0.25).log2() as f32;
            }
        }
    }
    kernels
}

motif_core::register_plugin!(MotifExtractor, KernelPwm,
    name: "kernel-pwm",
    summary: "data-free PWM from first-layer kernel weights read as log-odds (softmax per column)",
    status: Status::Stable("0.1.0"));

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_util::input;
    use ndarray::Array3;

    #[test]
    fn inverts_log_odds_kernels() {
        let p = [[0.7, 0.1], [0.1, 0.1], [0.1, 0.2], [0.1, 0.6]];
        // log2 odds plus a column offset (bias-like): no effect
        let k =
            Array3::from_shape_fn((1, 4, 2), |(_, a, j)| ((p[a][j] / 0.25f64).log2() + 0.3) as f32);
        let input = input(&k, None, 2, 0);
        let ex =
            KernelPwm::from_config(KernelConfig { base: 2.0, ..KernelConfig::default() }).unwrap();
        assert!(!ex.needs_data());
        let m = &ex.extract(&input).unwrap().motifs[0];
        for ((a, j), &v) in m.probs.indexed_iter() {
            assert!((v - p[a][j]).abs() < 1e-6, "{a} {j}");
        }
    }

    #[test]
    fn log_odds_kernels_round_trip() {
        let p = ndarray::arr2(&[[0.7, 0.1], [0.1, 0.1], [0.1, 0.2], [0.1, 0.6]]);
        let m = Motif::from_matrix("m", p.clone()).unwrap();
        let k = log_odds_kernels(&[&m], 5, 0.0);
        // centred: columns 1 and 2 hold the motif, the rest are zero
        assert_eq!(k.shape(), &[1, 4, 5]);
        assert!(k.slice(ndarray::s![0, .., 0]).iter().all(|&v| v == 0.0));
        assert!(k.slice(ndarray::s![0, .., 3..]).iter().all(|&v| v == 0.0));
        assert!((k[[0, 0, 1]] - (0.7f32 / 0.25).log2()).abs() < 1e-6);
        let ex = KernelPwm::from_config(KernelConfig {
            base: 2.0,
            trim: TrimConfig { enabled: false, ..TrimConfig::default() },
        })
        .unwrap();
        let back = &ex.extract(&input(&k, None, 5, 0)).unwrap().motifs[0];
        for j in 0..2 {
            for a in 0..4 {
                assert!((back.probs[[a, j + 1]] - p[[a, j]]).abs() < 1e-6);
            }
        }
    }

    #[test]
    fn deeper_layers_are_refused() {
        let k = Array3::zeros((2, 16, 3));
        let input = input(&k, None, 9, 0);
        let e = KernelPwm::default().extract(&input).unwrap_err().to_string();
        assert!(e.contains("16 input channels"), "{e}");
        assert!(KernelPwm::from_config(KernelConfig { base: 1.0, ..Default::default() }).is_err());
    }
}
