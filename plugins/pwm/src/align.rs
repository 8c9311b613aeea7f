//! Data-driven extractors: activation-weighted alignment and top windows.

use motif_core::Result;
use motif_core::motif::{Motif, MotifSet};
use motif_core::plugin::{Configured, ExtractInput, MotifExtractor, Status};
use ndarray::{Array2, ArrayView3};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::trim::{TrimConfig, trim};

/// The activation threshold of [`ActivationAlignment`], as a fraction of the
/// filter's maximum over the data set.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Threshold(pub f64);

impl Default for Threshold {
    /// 0.5, the published code's value (the paper's text says 0.7).
    fn default() -> Self {
        Self(0.5)
    }
}

/// Config of `activation-alignment`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct AlignConfig {
    /// Keep windows whose activation exceeds `threshold` × the filter's
    /// maximum over all sequences and positions (0.5; 0.7 as in the paper).
    pub threshold: Threshold,
    /// Trim low-information flanks (see `trim`).
    pub trim: TrimConfig,
}

/// Koo & Eddy's activation alignment (`../specs/koo-eddy.md`).
#[derive(Debug, Clone, Default)]
pub struct ActivationAlignment {
    cfg: AlignConfig,
}

impl Configured for ActivationAlignment {
    type Config = AlignConfig;

    fn from_config(cfg: AlignConfig) -> Result<Self> {
        let t = cfg.threshold.0;
        if !(t.is_finite() && (0.0..=1.0).contains(&t)) {
            return Err(cfg_err("activation-alignment", format!("threshold {t} is not in [0, 1]")));
        }
        cfg.trim.validate("activation-alignment")?;
        Ok(Self { cfg })
    }
}

impl MotifExtractor for ActivationAlignment {
    fn extract(&self, input: &ExtractInput<'_>) -> Result<MotifSet> {
        let (x, a) = crate::data(input, "activation-alignment")?;
        let geo = Geometry::of(input);
        let thr = self.cfg.threshold.0;
        let motifs = (0..a.shape()[1])
            .into_par_iter()
            .map(|f| {
                let fa = a.index_axis(ndarray::Axis(1), f);
                let max = fa.iter().copied().fold(f32::NEG_INFINITY, f32::max);
                let mut acc = Accumulator::new(geo.rf);
                if max > 0.0 {
                    let cut = (thr * f64::from(max)) as f32;
                    for (n, row) in fa.outer_iter().enumerate() {
                        for (p, &v) in row.iter().enumerate() {
                            if v > cut {
                                acc.add(&x, n, geo.start(p), f64::from(v));
                            }
                        }
                    }
                }
                acc.motif(f, &self.cfg.trim)
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(set(motifs))
    }
}

/// Config of `top-windows`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct TopConfig {
    /// Trim low-information flanks (see `trim`).
    pub trim: TrimConfig,
}

/// Per sequence, the window at the filter's maximum when it is > 0.
#[derive(Debug, Clone, Default)]
pub struct TopWindows {
    cfg: TopConfig,
}

impl Configured for TopWindows {
    type Config = TopConfig;

    fn from_config(cfg: TopConfig) -> Result<Self> {
        cfg.trim.validate("top-windows")?;
        Ok(Self { cfg })
    }
}

impl MotifExtractor for TopWindows {
    fn extract(&self, input: &ExtractInput<'_>) -> Result<MotifSet> {
        let (x, a) = crate::data(input, "top-windows")?;
        let geo = Geometry::of(input);
        let motifs = (0..a.shape()[1])
            .into_par_iter()
            .map(|f| {
                let fa = a.index_axis(ndarray::Axis(1), f);
                let mut acc = Accumulator::new(geo.rf);
                for (n, row) in fa.outer_iter().enumerate() {
                    // first position of the maximum
                    let (p, v) =
                        row.iter().enumerate().fold((0, f32::NEG_INFINITY), |b, (p, &v)| {
                            if v > b.1 { (p, v) } else { b }
                        });
                    if v > 0.0 {
                        acc.add(&x, n, geo.start(p), 1.0);
                    }
                }
                acc.motif(f, &self.cfg.trim)
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(set(motifs))
    }
}

/// Where an activation position's window starts in the input.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Geometry {
    pub rf: usize,
    stride: usize,
    offset: isize,
}

impl Geometry {
    fn of(input: &ExtractInput<'_>) -> Self {
        Self { rf: input.receptive_field.max(1), stride: input.stride.max(1), offset: input.offset }
    }

    fn start(&self, p: usize) -> isize {
        (p * self.stride) as isize + self.offset
    }
}

/// Weighted letter counts of aligned windows; positions outside the
/// sequence add nothing (Koo's zero padding).
struct Accumulator {
    counts: Array2<f64>,
    sites: usize,
}

impl Accumulator {
    fn new(width: usize) -> Self {
        Self { counts: Array2::zeros((4, width)), sites: 0 }
    }

    fn add(&mut self, x: &ArrayView3<'_, f32>, n: usize, start: isize, weight: f64) {
        let len = x.shape()[2] as isize;
        let width = self.counts.ncols() as isize;
        let (lo, hi) = (start.max(0), (start + width).min(len));
        for j in lo..hi {
            let k = (j - start) as usize;
            for c in 0..4 {
                self.counts[(c, k)] += weight * f64::from(x[(n, c, j as usize)]);
            }
        }
        self.sites += 1;
    }

    /// The motif: each column normalised; a column no window covered is
    /// uniform (Koo's code leaves it 0).
    fn motif(mut self, f: usize, trim_cfg: &TrimConfig) -> Result<Motif> {
        for mut col in self.counts.columns_mut() {
            let s: f64 = col.sum();
            if s > 0.0 {
                col /= s;
            } else {
                col.fill(0.25);
            }
        }
        let mut m = Motif::from_matrix(format!("filter{f}"), self.counts)?;
        m.nsites = Some(self.sites as f64);
        Ok(if trim_cfg.enabled { trim(&m, trim_cfg.min_ic, trim_cfg.pad) } else { m })
    }
}

pub(crate) fn set(motifs: Vec<Motif>) -> MotifSet {
    MotifSet { motifs, background: [0.25; 4], ..MotifSet::default() }
}

pub(crate) fn cfg_err(plugin: &str, msg: String) -> motif_core::Error {
    motif_core::Error::Config { plugin: plugin.into(), msg }
}

motif_core::register_plugin!(MotifExtractor, ActivationAlignment,
    name: "activation-alignment",
    summary: "Koo & Eddy: activation-weighted alignment of windows above a fraction of each filter's maximum",
    status: Status::Stable("0.1.0"));

motif_core::register_plugin!(MotifExtractor, TopWindows,
    name: "top-windows",
    summary: "per sequence, the window at each filter's maximum when positive (DeepBind/DanQ)",
    status: Status::Stable("0.1.0"));

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_util::input;
    use ndarray::Array3;

    /// One-hot of `s`, shape (4, len).
    fn onehot(seqs: &[&str]) -> Array3<f32> {
        let len = seqs[0].len();
        let mut x = Array3::zeros((seqs.len(), 4, len));
        for (n, s) in seqs.iter().enumerate() {
            for (j, b) in s.bytes().enumerate() {
                let c = b"ACGT".iter().position(|&l| l == b).unwrap();
                x[(n, c, j)] = 1.0;
            }
        }
        x
    }

    #[test]
    fn alignment_weights_windows_above_threshold() {
        // filter 0 fires at position 1 (act 2.0) of seq 0 and position 0
        // (act 1.5) of seq 1; 0.5 in seq 1 position 2 is below 0.5 × 2
        let x = onehot(&["ACGTA", "GGTAC"]);
        let mut act = Array3::zeros((2, 1, 3));
        act[(0, 0, 1)] = 2.0;
        act[(1, 0, 0)] = 1.5;
        act[(1, 0, 2)] = 0.5;
        let kernels = Array3::zeros((1, 4, 3));
        let input = input(&kernels, Some((&x, &act)), 3, 0);
        let m = &ActivationAlignment::default().extract(&input).unwrap().motifs[0];
        assert_eq!(m.nsites, Some(2.0));
        // windows CGT (weight 2) and GGT (weight 1.5)
        let w = 3.5;
        assert!((m.probs[(1, 0)] - 2.0 / w).abs() < 1e-12);
        assert!((m.probs[(2, 0)] - 1.5 / w).abs() < 1e-12);
        assert!((m.probs[(2, 1)] - 1.0).abs() < 1e-12);
        assert!((m.probs[(3, 2)] - 1.0).abs() < 1e-12);
        // threshold 0.2 also takes the 0.5 window (TAC)
        let strict = ActivationAlignment::from_config(AlignConfig {
            threshold: Threshold(0.2),
            ..AlignConfig::default()
        })
        .unwrap();
        assert_eq!(strict.extract(&input).unwrap().motifs[0].nsites, Some(3.0));
        assert!(
            ActivationAlignment::from_config(AlignConfig {
                threshold: Threshold(1.5),
                ..AlignConfig::default()
            })
            .is_err()
        );
    }

    #[test]
    fn windows_past_the_ends_are_zero_padded() {
        // offset −1 (same padding): position 0's window starts before the sequence
        let x = onehot(&["TTGCA"]);
        let mut act = Array3::zeros((1, 1, 5));
        act[(0, 0, 0)] = 1.0;
        let kernels = Array3::zeros((1, 4, 3));
        let input = input(&kernels, Some((&x, &act)), 3, -1);
        let m = &TopWindows::default().extract(&input).unwrap().motifs[0];
        // column 0 covered by nothing → uniform; then T, T
        assert_eq!(m.probs.column(0).to_vec(), vec![0.25; 4]);
        assert_eq!(m.probs[(3, 1)], 1.0);
        assert_eq!(m.probs[(3, 2)], 1.0);
    }

    #[test]
    fn top_windows_take_each_sequence_maximum_when_positive() {
        let x = onehot(&["AACCGG", "TTTTTT", "GATTAC"]);
        let mut act = Array3::from_elem((3, 1, 4), -1.0f32);
        act[(0, 0, 2)] = 3.0; // CCG... window at 2: CG G
        act[(2, 0, 1)] = 0.5; // ATT
        let kernels = Array3::zeros((1, 4, 3));
        let input = input(&kernels, Some((&x, &act)), 3, 0);
        let m = &TopWindows::default().extract(&input).unwrap().motifs[0];
        assert_eq!(m.nsites, Some(2.0)); // seq 1 never positive
        assert_eq!(m.probs[(1, 0)], 0.5); // C, A
        assert_eq!(m.probs[(0, 0)], 0.5);
    }

    #[test]
    fn missing_data_is_an_error() {
        let kernels = Array3::zeros((1, 4, 3));
        let input = input(&kernels, None, 3, 0);
        let e = ActivationAlignment::default().extract(&input).unwrap_err().to_string();
        assert!(e.contains("activation-alignment"), "{e}");
    }
}
