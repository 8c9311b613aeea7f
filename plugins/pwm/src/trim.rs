//! Trimming by information content (Koo & Eddy's `clip_filters`).

use motif_core::Result;
use motif_core::motif::Motif;
use serde::{Deserialize, Serialize};

/// Trimming settings shared by the extractors.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct TrimConfig {
    /// Trim at all (off by default: motifs keep the filter's full window).
    pub enabled: bool,
    /// A column is informative when its information content exceeds this
    /// many bits (Koo: 0.5).
    pub min_ic: f64,
    /// Columns kept on each side of the informative span (Koo: 3).
    pub pad: usize,
}

impl Default for TrimConfig {
    fn default() -> Self {
        Self { enabled: false, min_ic: 0.5, pad: 3 }
    }
}

impl TrimConfig {
    pub(crate) fn validate(&self, plugin: &str) -> Result<()> {
        if !(self.min_ic.is_finite() && (0.0..=2.0).contains(&self.min_ic)) {
            return Err(crate::align::cfg_err(
                plugin,
                format!("trim.min-ic {} is not in [0, 2] bits", self.min_ic),
            ));
        }
        Ok(())
    }
}

/// Information content of each column in bits: 2 + Σ p·log2(p + 10⁻⁷)
/// (Koo's formula; the 10⁻⁷ keeps zeros finite).
#[must_use]
pub fn information_content(m: &Motif) -> Vec<f64> {
    m.probs
        .columns()
        .into_iter()
        .map(|c| motif_core::motif::column_ic_koo(c.iter().copied()))
        .collect()
}

/// Keeps the columns from the first to the last with information content
/// above `min_ic`, widened by `pad` on each side within the motif; a motif
/// with no such column is kept whole. `nsites` and the id are kept.
/// (Koo's code misses a motif whose only informative column is the first;
/// this does not.)
#[must_use]
pub fn trim(m: &Motif, min_ic: f64, pad: usize) -> Motif {
    let ic = information_content(m);
    let Some(first) = ic.iter().position(|&v| v > min_ic) else {
        return m.clone();
    };
    let last = ic.iter().rposition(|&v| v > min_ic).unwrap_or(first);
    let lo = first.saturating_sub(pad);
    let hi = (last + pad).min(m.len() - 1);
    let mut out = m.clone();
    out.probs = m.probs.slice(ndarray::s![.., lo..=hi]).to_owned();
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array2;

    fn motif(cols: &[[f64; 4]]) -> Motif {
        let mut a = Array2::zeros((4, cols.len()));
        for (j, c) in cols.iter().enumerate() {
            for r in 0..4 {
                a[(r, j)] = c[r];
            }
        }
        Motif::from_matrix("m", a).unwrap()
    }

    #[test]
    fn ic_of_uniform_and_pure_columns() {
        let m = motif(&[[0.25; 4], [1.0, 0.0, 0.0, 0.0]]);
        let ic = information_content(&m);
        assert!(ic[0].abs() < 1e-6, "{ic:?}");
        assert!((ic[1] - 2.0).abs() < 1e-6, "{ic:?}");
    }

    #[test]
    fn trims_to_the_informative_span_with_padding() {
        let u = [0.25; 4];
        let a = [0.9, 0.05, 0.03, 0.02];
        // informative at 5 and 7 of 0..12
        let mut cols = vec![u; 13];
        cols[5] = a;
        cols[7] = a;
        let m = motif(&cols);
        let t = trim(&m, 0.5, 3);
        assert_eq!(t.len(), 9); // 2..=10
        assert_eq!(t.probs.column(3).to_vec(), a.to_vec());
        // pad past the ends is bounded
        assert_eq!(trim(&m, 0.5, 10).len(), 13);
        // only the first column informative: kept (Koo's code would not trim)
        let mut cols = vec![u; 8];
        cols[0] = a;
        assert_eq!(trim(&motif(&cols), 0.5, 1).len(), 2);
        // nothing informative: whole motif
        assert_eq!(trim(&motif(&[u; 6]), 0.5, 3).len(), 6);
    }
}
