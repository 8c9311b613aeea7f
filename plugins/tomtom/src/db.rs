//! Input preparation: background, pseudocounts, reverse complements and the
//! concatenated target column list (`motif-in.c`, `motif.c`, `tomtom.c: main`).

use motif_core::motif::{Motif, MotifSet};
use motif_core::{Error, Result};

use crate::Config;
use crate::score::{Col, Distance, pearson_unit};

/// Site count MEME assumes when a motif has none.
pub const DEFAULT_SITES: f64 = 20.0;
/// Queries wider than this are skipped (memory is cubic in the width).
pub const MAX_QUERY_WIDTH: usize = 100;
/// Targets wider than this are refused (an alignment's configuration
/// number must fit the 20 bits the engine packs it in).
pub const MAX_TARGET_WIDTH: usize = 1 << 19;
/// Fewer targets than this make p-values unreliable (a warning).
pub const MIN_TARGETS: usize = 50;

/// Tomtom's background from a file's letter frequencies: made
/// strand-symmetric, then 5·10⁻⁷ added to each letter and renormalised.
#[must_use]
pub fn tomtom_background(b: [f64; 4]) -> Col {
    let at = f64::midpoint(b[0], b[3]);
    let cg = f64::midpoint(b[1], b[2]);
    let x = [at + 5e-7, cg + 5e-7, cg + 5e-7, at + 5e-7];
    let s: f64 = x.iter().sum();
    std::array::from_fn(|a| x[a] / s)
}

/// The site count MEME uses for pseudocounts (`int` in MEME: truncated).
#[must_use]
pub fn sites(m: &Motif) -> f64 {
    match m.nsites {
        Some(n) if n > 0.0 => n.trunc(),
        _ => DEFAULT_SITES,
    }
}

/// The motif's columns with `alpha` pseudocounts spread by `bg`.
#[must_use]
pub fn pseudocounted(m: &Motif, bg: &Col, alpha: f64) -> Vec<Col> {
    let n = sites(m);
    let total = n + alpha;
    (0..m.len())
        .map(|j| {
            std::array::from_fn(|a| {
                let p = m.probs[(a, j)];
                if alpha == 0.0 || total == 0.0 { p } else { ((p * n) + (alpha * bg[a])) / total }
            })
        })
        .collect()
}

/// Reverse complement of a column list.
#[must_use]
pub fn reverse_complement(cols: &[Col]) -> Vec<Col> {
    cols.iter().rev().map(|c| [c[3], c[2], c[1], c[0]]).collect()
}

/// Tomtom's consensus: the most probable letter per column, compared the
/// way MEME does (running maximum kept in single precision; ties → first).
#[must_use]
pub fn consensus(cols: &[Col]) -> String {
    cols.iter()
        .map(|c| {
            let mut best = 0;
            let mut max = c[0] as f32;
            for (a, &v) in c.iter().enumerate().skip(1) {
                if v > f64::from(max) {
                    max = v as f32;
                    best = a;
                }
            }
            b"ACGT"[best] as char
        })
        .collect()
}

/// One target motif kept in the database.
#[derive(Debug, Clone)]
pub struct Target {
    /// Identifier.
    pub id: String,
    /// Index in the input set.
    pub index: usize,
    /// Width.
    pub len: usize,
}

/// One entry of the target list: a target on one strand.
#[derive(Debug, Clone, Copy)]
pub struct Entry {
    /// Index into [`Database::targets`].
    pub target: usize,
    /// Reverse-complement copy.
    pub reverse: bool,
    /// First column in the concatenated list.
    pub col0: usize,
    /// Width.
    pub len: usize,
}

/// A prepared target database: every column of every target on both
/// strands (unless `norc`), after pseudocounts.
#[derive(Debug, Clone)]
pub struct Database {
    pub(crate) cfg: Config,
    pub(crate) bg: Col,
    /// Targets kept (duplicate ids dropped).
    pub targets: Vec<Target>,
    /// The target list (each target followed by its reverse complement).
    pub entries: Vec<Entry>,
    /// Concatenated columns of all entries.
    pub(crate) cols: Vec<Col>,
    /// `cols` by letter (`by_letter[a][j]`), as Pearson unit vectors for
    /// `pearson`, as probabilities for `ed` and `sandelin` (empty otherwise):
    /// the layout the vectorised score loops read, padded to a multiple of
    /// 4 columns with copies of the last.
    pub(crate) by_letter: [Vec<f64>; 4],
    /// Per column: the site count of its motif (ALLR, BLiC, LLR).
    pub(crate) col_sites: Vec<f64>,
    /// Problems repaired while preparing (dropped duplicates, small database).
    pub warnings: Vec<String>,
    /// Per target: its rank in byte order of ids (tomtom's last tie-break).
    pub(crate) id_rank: Vec<u32>,
    /// Per entry: its consensus (as aligned).
    pub(crate) consensus_strs: Vec<String>,
    /// Per rank: its target (the inverse of `id_rank`).
    pub(crate) by_rank: Vec<u32>,
    /// Distinct entry widths, ascending.
    pub(crate) widths: Vec<usize>,
    /// Per entry: its width's index in `widths`.
    pub(crate) width_slot: Vec<u32>,
    /// Entry indices grouped by width (then in list order).
    pub(crate) by_width: Vec<u32>,
}

impl Database {
    /// Prepares `targets` for matching with background `bg` (already in
    /// tomtom's form, see [`tomtom_background`]).
    ///
    /// # Errors
    /// If no target is usable or the configuration is invalid.
    pub fn new(targets: &MotifSet, bg: Col, cfg: &Config) -> Result<Self> {
        cfg.validate()?;
        let mut warnings = Vec::new();
        let mut seen = std::collections::HashSet::new();
        let mut kept = Vec::new();
        let mut entries = Vec::new();
        let mut cols: Vec<Col> = Vec::new();
        let mut col_sites = Vec::new();
        for (index, m) in targets.motifs.iter().enumerate() {
            if !seen.insert(m.id.as_str()) {
                warnings.push(format!(
                    "target motif `{}` (number {}) repeats an earlier id; dropped, as tomtom does",
                    m.id,
                    index + 1
                ));
                continue;
            }
            if m.len() > MAX_TARGET_WIDTH {
                return Err(Error::Invalid(format!(
                    "target motif `{}` is {} columns wide; at most {MAX_TARGET_WIDTH} are supported",
                    m.id,
                    m.len()
                )));
            }
            let fwd = pseudocounted(m, &bg, cfg.motif_pseudo);
            if cfg.dist == Distance::Allr && fwd.iter().flatten().any(|&v| v == 0.0) {
                warnings.push(format!(
                    "target motif `{}` has a zero probability, which `allr` cannot score; dropped",
                    m.id
                ));
                continue;
            }
            let t = kept.len();
            kept.push(Target { id: m.id.clone(), index, len: m.len() });
            let n = sites(m);
            let mut push = |c: Vec<Col>, reverse: bool| {
                entries.push(Entry { target: t, reverse, col0: cols.len(), len: c.len() });
                col_sites.extend(std::iter::repeat_n(n, c.len()));
                cols.extend(c);
            };
            let rc = (!cfg.norc).then(|| reverse_complement(&fwd));
            push(fwd, false);
            if let Some(rc) = rc {
                push(rc, true);
            }
        }
        if kept.is_empty() {
            return Err(Error::Invalid("the target database has no usable motifs".into()));
        }
        if kept.len() < MIN_TARGETS {
            warnings.push(format!(
                "only {} target motifs: p-values are unreliable with fewer than {MIN_TARGETS}",
                kept.len()
            ));
        }
        // padded to a multiple of 4 columns with copies of the last
        let padded = |v: &[Col]| -> [Vec<f64>; 4] {
            let last = v[v.len() - 1];
            let pad = std::iter::repeat_n(&last, v.len().next_multiple_of(4) - v.len());
            std::array::from_fn(|a| v.iter().chain(pad.clone()).map(|c| c[a]).collect())
        };
        let by_letter = match cfg.dist {
            Distance::Pearson => padded(&cols.iter().map(pearson_unit).collect::<Vec<_>>()),
            Distance::Ed | Distance::Sandelin => padded(&cols),
            _ => Default::default(),
        };
        let mut order: Vec<usize> = (0..kept.len()).collect();
        order.sort_unstable_by(|&a, &b| kept[a].id.as_bytes().cmp(kept[b].id.as_bytes()));
        let mut id_rank = vec![0u32; kept.len()];
        for (r, &t) in order.iter().enumerate() {
            id_rank[t] = r as u32;
        }
        let mut widths: Vec<usize> = entries.iter().map(|e| e.len).collect();
        widths.sort_unstable();
        widths.dedup();
        let width_slot: Vec<u32> =
            entries.iter().map(|e| widths.binary_search(&e.len).unwrap_or(0) as u32).collect();
        let mut by_width: Vec<u32> = (0..entries.len() as u32).collect();
        by_width.sort_by_key(|&e| width_slot[e as usize]);
        let by_rank: Vec<u32> = order.iter().map(|&t| t as u32).collect();
        let consensus_strs =
            entries.iter().map(|e| consensus(&cols[e.col0..e.col0 + e.len])).collect();
        Ok(Self {
            consensus_strs,
            id_rank,
            by_rank,
            widths,
            width_slot,
            by_width,
            cfg: cfg.clone(),
            bg,
            targets: kept,
            entries,
            cols,
            by_letter,
            col_sites,
            warnings,
        })
    }

    /// The configuration the database was prepared with.
    #[must_use]
    pub fn config(&self) -> &Config {
        &self.cfg
    }

    /// The background used for pseudocounts and scores.
    #[must_use]
    pub fn background(&self) -> Col {
        self.bg
    }

    /// Number of strands scored (2, or 1 with `norc`).
    #[must_use]
    pub fn strands(&self) -> usize {
        if self.cfg.norc { 1 } else { 2 }
    }

    /// Columns of one entry.
    #[must_use]
    pub fn entry_cols(&self, e: usize) -> &[Col] {
        let en = &self.entries[e];
        &self.cols[en.col0..en.col0 + en.len]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn background_is_symmetrised_and_floored() {
        let b = tomtom_background([0.3, 0.2, 0.2, 0.3]);
        assert!((b.iter().sum::<f64>() - 1.0).abs() < 1e-15);
        assert!((b[0] - 0.3).abs() < 1e-6 && b[0] == b[3] && b[1] == b[2]);
        let b = tomtom_background([0.5, 0.0, 0.5, 0.0]);
        assert!(b.iter().all(|&v| v > 0.0));
        assert_eq!(b[0], b[3]);
    }

    #[test]
    fn pseudocount_rc_and_consensus() {
        let mut m = Motif::from_matrix(
            "m",
            ndarray::array![[1.0, 0.0], [0.0, 0.0], [0.0, 0.0], [0.0, 1.0]],
        )
        .unwrap();
        m.nsites = Some(9.0);
        let c = pseudocounted(&m, &[0.25; 4], 1.0);
        assert!((c[0][0] - (9.0 + 0.25) / 10.0).abs() < 1e-15);
        assert!((c[0][1] - 0.025).abs() < 1e-15);
        let r = reverse_complement(&c);
        assert_eq!(r[0], [c[1][3], c[1][2], c[1][1], c[1][0]]);
        assert_eq!(consensus(&c), "AT");
        assert_eq!(consensus(&[[0.25; 4]]), "A");
        // nsites missing → 20
        m.nsites = None;
        let c = pseudocounted(&m, &[0.25; 4], 0.1);
        assert!((c[0][0] - (20.0 + 0.025) / 20.1).abs() < 1e-15);
    }
}
