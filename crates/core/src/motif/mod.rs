//! Motifs: position probability matrices of shape (4, len) over A, C, G, T,
//! with the number of sites they were built from, and readers/writers for
//! the formats in common use (MEME, JASPAR, TRANSFAC, HOMER).

mod homer;
mod jaspar;
mod meme;
mod transfac;

use std::path::Path;

use ndarray::Array2;

use crate::error::{Error, Result};

pub use homer::parse_homer;
pub use jaspar::parse_jaspar;
pub use meme::{parse_meme, write_meme};
pub use transfac::parse_transfac;

/// Columns whose sum is within this of 1 are kept as they are (MEME's
/// `normalize_motif` tolerance); others are divided by their sum.
pub const SUM_TOLERANCE: f64 = 1e-5;

/// A probability column further than this from summing to 1 is renormalised
/// with a warning (counts formats such as JASPAR are expected not to sum to 1).
pub const WARN_SUM_TOLERANCE: f64 = 0.01;

/// One motif: a position probability matrix, shape (4, len), rows A, C, G, T.
#[derive(Debug, Clone, PartialEq)]
pub struct Motif {
    /// Identifier (e.g. `MA0002.3`).
    pub id: String,
    /// Alternative name (e.g. `Runx1`).
    pub name: Option<String>,
    /// Letter probabilities, shape (4, len); each column sums to 1.
    pub probs: Array2<f64>,
    /// Number of sites the matrix was built from (weights pseudocounts).
    pub nsites: Option<f64>,
    /// Discovery E-value, if the source gives one.
    pub evalue: Option<f64>,
    /// A URL, if the source gives one.
    pub url: Option<String>,
}

impl Motif {
    /// A motif from a (4, len) matrix of probabilities or counts; each column
    /// is normalised to sum to 1 unless it already does within
    /// [`SUM_TOLERANCE`] (MEME's rule: columns written with 6 decimals keep
    /// their exact values, so scores match MEME tools to the last digit).
    ///
    /// # Errors
    /// If the matrix is not 4 rows, empty, has a negative or non-finite entry,
    /// or a column summing to 0.
    pub fn from_matrix(id: impl Into<String>, mut m: Array2<f64>) -> Result<Self> {
        let id = id.into();
        if m.nrows() != 4 {
            return Err(Error::Invalid(format!("motif `{id}` has {} rows, expected 4", m.nrows())));
        }
        if m.ncols() == 0 {
            return Err(Error::Invalid(format!("motif `{id}` has no columns")));
        }
        for (j, mut col) in m.columns_mut().into_iter().enumerate() {
            if col.iter().any(|v| !v.is_finite() || *v < 0.0) {
                return Err(Error::Invalid(format!(
                    "motif `{id}` column {} has a negative or non-finite entry",
                    j + 1
                )));
            }
            let s: f64 = col.sum();
            if s <= 0.0 {
                return Err(Error::Invalid(format!("motif `{id}` column {} sums to 0", j + 1)));
            }
            if (s - 1.0).abs() > SUM_TOLERANCE {
                let inv = 1.0 / s;
                col *= inv;
            }
        }
        Ok(Self { id, name: None, probs: m, nsites: None, evalue: None, url: None })
    }

    /// A motif from its columns, one `[A, C, G, T]` per position, as
    /// [`Motif::from_matrix`] takes them.
    ///
    /// # Errors
    /// As [`Motif::from_matrix`].
    pub fn from_columns(id: impl Into<String>, columns: &[[f64; 4]]) -> Result<Self> {
        Self::from_matrix(id, Array2::from_shape_fn((4, columns.len()), |(a, j)| columns[j][a]))
    }

    /// The probabilities as columns, one `[A, C, G, T]` per position.
    #[must_use]
    pub fn columns(&self) -> Vec<[f64; 4]> {
        (0..self.len()).map(|j| std::array::from_fn(|a| self.probs[(a, j)])).collect()
    }

    /// Width (number of positions).
    #[must_use]
    pub fn len(&self) -> usize {
        self.probs.ncols()
    }

    /// True when the motif has no positions (never, for a constructed motif).
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The IUPAC-free consensus: the most probable letter at each position
    /// (ties: the first of A, C, G, T).
    #[must_use]
    pub fn consensus(&self) -> String {
        argmax_bases(&self.probs).into_iter().map(|b| b"ACGT"[usize::from(b)] as char).collect()
    }

    /// Information content per position in bits ([`column_ic`]).
    #[must_use]
    pub fn information_content(&self) -> Vec<f64> {
        self.probs.columns().into_iter().map(|c| column_ic(c.iter().copied())).collect()
    }
}

/// Information content of one column of probabilities in bits, 2 − H₂
/// (H₂: Shannon entropy in bits, 0·log 0 = 0). The one IC of logos,
/// NeuronMotif's segments and reports.
#[must_use]
pub fn column_ic(col: impl IntoIterator<Item = f64>) -> f64 {
    2.0 + col.into_iter().filter(|&p| p > 0.0).map(|p| p * p.log2()).sum::<f64>()
}

/// Koo & Eddy's variant of [`column_ic`], 2 + Σ p·log2(p + 10⁻⁷), which
/// their trimming of filter motifs uses (kept so trimming matches theirs).
#[must_use]
pub fn column_ic_koo(col: impl IntoIterator<Item = f64>) -> f64 {
    2.0 + col.into_iter().map(|p| p * (p + 1e-7).log2()).sum::<f64>()
}

/// The index (A, C, G, T = 0…3) of each column's most probable base of a
/// (4, L) matrix; ties go to the first.
#[must_use]
pub fn argmax_bases(probs: &Array2<f64>) -> Vec<u8> {
    probs
        .columns()
        .into_iter()
        .map(|c| {
            let mut best = 0;
            for b in 1..c.len() {
                if c[b] > c[best] {
                    best = b;
                }
            }
            best as u8
        })
        .collect()
}

/// A set of motifs with the background letter frequencies of their source.
#[derive(Debug, Clone, PartialEq)]
pub struct MotifSet {
    /// The motifs, in file order.
    pub motifs: Vec<Motif>,
    /// Background frequencies of A, C, G, T.
    pub background: [f64; 4],
    /// Whether the source file stated a background (MEME
    /// `Background letter frequencies`); uniform otherwise.
    pub has_background: bool,
    /// Problems found while reading that were repaired, each naming the
    /// file and line (e.g. a probability column renormalised).
    pub warnings: Vec<String>,
}

impl Default for MotifSet {
    fn default() -> Self {
        Self {
            motifs: Vec::new(),
            background: [0.25; 4],
            has_background: false,
            warnings: Vec::new(),
        }
    }
}

/// A motif file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MotifFormat {
    /// MEME minimal motif format.
    Meme,
    /// JASPAR `.jaspar` (`>ID name` then `A [ counts ]` rows) or bare `.pfm`.
    Jaspar,
    /// TRANSFAC matrix format (`AC`, `ID`, `P0` rows, `//`).
    Transfac,
    /// HOMER `.motif` (`>consensus<TAB>name…` then probability rows).
    Homer,
}

impl MotifFormat {
    /// Guesses the format from the first non-blank lines of `text`.
    #[must_use]
    pub fn sniff(text: &str) -> Option<Self> {
        let mut lines = text.lines().map(str::trim).filter(|l| !l.is_empty());
        let first = lines.next()?;
        if first.starts_with("MEME version") {
            return Some(Self::Meme);
        }
        let starts = |p: &str| first.starts_with(p);
        if starts("AC ")
            || starts("ID ")
            || starts("VV ")
            || starts("P0")
            || starts("PO")
            || starts("DE ")
        {
            return Some(Self::Transfac);
        }
        if first.starts_with('>') {
            let second = lines.next().unwrap_or("");
            if second.contains('[') || second.starts_with(['A', 'C', 'G', 'T']) {
                return Some(Self::Jaspar);
            }
            return Some(Self::Homer);
        }
        if first.split_whitespace().all(|w| w.parse::<f64>().is_ok()) {
            return Some(Self::Jaspar);
        }
        None
    }
}

/// Reads a motif file in any supported format (sniffed from its content).
///
/// # Errors
/// On I/O errors, unknown formats and malformed content (naming the line).
pub fn read_motifs(path: &Path) -> Result<MotifSet> {
    use std::io::Read;
    let mut text = String::new();
    crate::seqio::open_maybe_gz(path)?.read_to_string(&mut text).map_err(|e| {
        if e.kind() == std::io::ErrorKind::InvalidData {
            Error::Format { path: path.into(), msg: "not a text file".into() }
        } else {
            Error::io(path, e)
        }
    })?;
    if text.trim().is_empty() {
        return Err(Error::Format { path: path.into(), msg: "empty file (no motifs)".into() });
    }
    let Some(format) = MotifFormat::sniff(&text) else {
        return Err(Error::Format {
            path: path.into(),
            msg: "not a motif file (MEME, JASPAR, TRANSFAC or HOMER)".into(),
        });
    };
    let set = match format {
        MotifFormat::Meme => parse_meme(&text, path)?,
        MotifFormat::Jaspar => parse_jaspar(&text, path)?,
        MotifFormat::Transfac => parse_transfac(&text, path)?,
        MotifFormat::Homer => parse_homer(&text, path)?,
    };
    if set.motifs.is_empty() {
        return Err(Error::Format { path: path.into(), msg: "no motifs found".into() });
    }
    Ok(set)
}

/// Parses whitespace-separated numbers of one matrix row; `line` is 1-based.
pub(crate) fn parse_row(words: &[&str], path: &Path, line: usize) -> Result<Vec<f64>> {
    words
        .iter()
        .map(|w| {
            w.parse::<f64>().ok().filter(|v| v.is_finite() && *v >= 0.0).ok_or_else(|| {
                Error::parse(path, line, format!("`{w}` is not a non-negative number"))
            })
        })
        .collect()
}

/// A warning for each probability row (1-based `first_line` + index) whose
/// sum is further than [`WARN_SUM_TOLERANCE`] from 1.
pub(crate) fn check_prob_rows(
    id: &str,
    rows: &[Vec<f64>],
    path: &Path,
    first_line: usize,
    warnings: &mut Vec<String>,
) {
    for (k, r) in rows.iter().enumerate() {
        let s: f64 = r.iter().sum();
        if s > 0.0 && (s - 1.0).abs() > WARN_SUM_TOLERANCE {
            warnings.push(format!(
                "{}:{}: motif `{id}` position {} sums to {s}; renormalised to 1",
                path.display(),
                first_line + k,
                k + 1
            ));
        }
    }
}

/// Builds a motif from rows of 4 values (one row per position).
pub(crate) fn from_rows(id: &str, rows: &[Vec<f64>], path: &Path, line: usize) -> Result<Motif> {
    let m = Array2::from_shape_fn((4, rows.len()), |(i, j)| rows[j][i]);
    Motif::from_matrix(id, m).map_err(|e| Error::parse(path, line, e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn from_matrix_normalises_and_validates() {
        let m = Motif::from_matrix(
            "x",
            ndarray::array![[2.0, 0.0], [2.0, 1.0], [0.0, 0.0], [0.0, 3.0]],
        )
        .unwrap();
        assert_eq!(m.probs[(0, 0)], 0.5);
        assert_eq!(m.probs[(3, 1)], 0.75);
        assert_eq!(m.consensus(), "AT");
        assert!(Motif::from_matrix("y", Array2::zeros((3, 2))).is_err());
        assert!(Motif::from_matrix("z", Array2::zeros((4, 2))).is_err());
    }

    #[test]
    fn information_content_and_argmax() {
        assert_eq!(column_ic([1.0, 0.0, 0.0, 0.0]), 2.0);
        assert!(column_ic([0.25; 4]).abs() < 1e-15);
        // Half A, half C: one bit.
        assert!((column_ic([0.5, 0.5, 0.0, 0.0]) - 1.0).abs() < 1e-15);
        // Koo's variant: within 10⁻⁶ bits of the exact one.
        for col in [[1.0, 0.0, 0.0, 0.0], [0.5, 0.5, 0.0, 0.0], [0.1, 0.2, 0.3, 0.4]] {
            let (k, e) = (column_ic_koo(col), column_ic(col));
            assert!(k != e && (k - e).abs() < 1e-6, "{k} {e}");
        }
        let m = Motif::from_matrix(
            "x",
            ndarray::array![[1.0, 0.5], [1.0, 0.0], [0.0, 0.0], [0.0, 0.5]],
        )
        .unwrap();
        assert_eq!(argmax_bases(&m.probs), [0, 0]); // ties: the first
        assert_eq!(m.consensus(), "AA");
        assert_eq!(m.information_content(), [1.0, 1.0]);
    }

    #[test]
    fn sniffs_formats() {
        assert_eq!(MotifFormat::sniff("MEME version 4\n"), Some(MotifFormat::Meme));
        assert_eq!(MotifFormat::sniff(">MA1 x\nA [ 1 2 ]\n"), Some(MotifFormat::Jaspar));
        assert_eq!(
            MotifFormat::sniff(">ACG\tname\t5.0\n0.1 0.2 0.3 0.4\n"),
            Some(MotifFormat::Homer)
        );
        assert_eq!(MotifFormat::sniff("AC  M1\nXX\n"), Some(MotifFormat::Transfac));
        assert_eq!(MotifFormat::sniff("hello world\n"), None);
    }
}

#[cfg(test)]
mod bundled_tests {
    #[test]
    fn reads_the_bundled_jaspar_database() {
        let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../data/motifs/JASPAR2024_CORE_vertebrates_nonredundant.meme");
        let set = super::read_motifs(&p).unwrap();
        assert_eq!(set.motifs.len(), 879);
        let m = &set.motifs[0];
        assert_eq!(
            (m.id.as_str(), m.name.as_deref(), m.nsites, m.len()),
            ("MA0002.3", Some("Runx1"), Some(2000.0), 9)
        );
        assert!((m.probs[(1, 0)] - 0.536).abs() < 1e-9);
        assert_eq!(set.background, [0.25; 4]);
        let again = super::parse_meme(&super::write_meme(&set), &p).unwrap();
        assert_eq!(again.motifs.len(), 879);
        for (a, b) in again.motifs.iter().zip(&set.motifs) {
            let d = (&a.probs - &b.probs).iter().fold(0.0f64, |m, v| m.max(v.abs()));
            assert!(d < 1e-5, "{}: round trip off by {d}", a.id);
        }
    }
}
