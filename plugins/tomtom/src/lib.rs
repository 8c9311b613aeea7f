//! Tomtom-equivalent motif–motif comparison: the p-, E- and q-values of
//! MEME tomtom 5.5.8 (Gupta et al. 2007, *Genome Biology* 8:R24), computed
//! in process, in parallel over queries.
//!
//! The method, step by step (details in `shared/specs/tomtom.md`):
//!
//! 1. pseudocounts spread by a strand-symmetric background; each target
//!    also enters the list as its reverse complement;
//! 2. a column score (`--dist`) between every query column and every column
//!    of the target list; with complete scoring (the default) each query
//!    row is shifted by its (low) median;
//! 3. scores quantised to integers 0..=100 with an integer scale;
//! 4. the null: each query column matched to a random database column, so
//!    the sum over a block of query columns has a distribution computed by
//!    convolution;
//! 5. per target and strand the best configuration (offset) and its
//!    p-value; complete scoring takes the maximum over all offsets and both
//!    strands as the statistic; E = p × number of targets;
//! 6. q-values per query over the 2N strand entries (Storey π0 with MEME's
//!    bootstrap and random stream, then Benjamini–Hochberg).
//!
//! ```no_run
//! use motif_core::motif::read_motifs;
//! use motif_tomtom::{Config, Distance, compare};
//! # fn main() -> motif_core::Result<()> {
//! let queries = read_motifs("filters.meme".as_ref())?;
//! let db = read_motifs("JASPAR.meme".as_ref())?;
//! let cfg = Config { dist: Distance::Pearson, ..Config::default() };
//! for result in compare(&queries, &db, &cfg)? {
//!     for hit in result.reported(&cfg) {
//!         println!("{} {} p={} E={} q={}", result.scored.id, hit.target, hit.p_value, hit.e_value, hit.q_value);
//!     }
//! }
//! # Ok(()) }
//! ```

mod db;
mod engine;
mod format;
mod mt;
mod plugin;
mod qvalue;
mod score;

use motif_core::motif::{Motif, MotifSet};
use motif_core::{Error, Result};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

pub use db::{Database, Entry, Target, consensus, reverse_complement, tomtom_background};
pub use engine::{Hit, Scored, check_query};
pub use format::{TSV_HEADER, format_g, tsv_footer, tsv_rows};
pub use mt::MemeRng;
pub use plugin::TomtomMatcher;
pub use score::Distance;

/// Tomtom's options (names as tomtom's, in kebab-case; with the `cli`
/// feature, `motiftool match`'s flags).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "cli", derive(clap::Args))]
#[allow(clippy::struct_excessive_bools, reason = "tomtom's own switches, one option each")]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct Config {
    /// Column similarity (`-dist`; tomtom 5.5.8's default is `ed`).
    #[cfg_attr(feature = "cli", arg(long, value_enum, default_value_t = Distance::Ed))]
    pub dist: Distance,
    /// Minimum number of aligned columns (`-min-overlap`).
    #[cfg_attr(feature = "cli", arg(long, default_value_t = 1))]
    pub min_overlap: usize,
    /// Only alignments with the shorter motif inside the longer (`-internal`).
    #[cfg_attr(feature = "cli", arg(long))]
    pub internal: bool,
    /// Score only aligned columns, the 2007 paper's method, instead of
    /// complete scores (`-incomplete-scores`).
    #[cfg_attr(feature = "cli", arg(long))]
    pub incomplete_scores: bool,
    /// Do not score reverse complements of targets (`-norc`).
    #[cfg_attr(feature = "cli", arg(long))]
    pub norc: bool,
    /// Pseudocount added to queries and targets, spread by the background
    /// (`-motif-pseudo`).
    #[cfg_attr(feature = "cli", arg(long, default_value_t = 0.1))]
    pub motif_pseudo: f64,
    /// Report matches up to this q-value, or E-value with --evalue
    /// (`-thresh`).
    #[cfg_attr(feature = "cli", arg(long, default_value_t = 0.5))]
    pub thresh: f64,
    /// Threshold on E-values instead of q-values; then --thresh may exceed 1
    /// (`-evalue`).
    #[cfg_attr(feature = "cli", arg(long))]
    pub evalue: bool,
    /// Background A, C, G, T (`-bfile`); default the query file's. Only for
    /// distances that use it (allr, blic*, llr*), as tomtom enforces.
    #[cfg_attr(feature = "cli", arg(skip))]
    pub bg: Option<[f64; 4]>,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            dist: Distance::Ed,
            min_overlap: 1,
            internal: false,
            incomplete_scores: false,
            norc: false,
            motif_pseudo: 0.1,
            thresh: 0.5,
            evalue: false,
            bg: None,
        }
    }
}

impl Config {
    /// Whether `m` can be scored under these options: the log-ratio
    /// distances (kullback, allr) cannot score a zero probability without a
    /// pseudocount.
    ///
    /// # Errors
    /// Names the motif and the option that would make it scorable.
    pub fn check_scorable(&self, m: &Motif) -> Result<()> {
        let log_scores = matches!(self.dist, Distance::Kullback | Distance::Allr);
        if self.motif_pseudo == 0.0 && log_scores && m.probs.iter().any(|&v| v == 0.0) {
            return Err(Error::Invalid(format!(
                "motif `{}` has a zero probability, which `{}` cannot score without a pseudocount (use --motif-pseudo > 0)",
                m.id,
                self.dist.name()
            )));
        }
        Ok(())
    }

    /// Checks the options as tomtom does.
    ///
    /// # Errors
    /// Names the offending option.
    pub fn validate(&self) -> Result<()> {
        if !self.motif_pseudo.is_finite() || self.motif_pseudo < 0.0 {
            return Err(cfg_err(format!("motif-pseudo ({}) must be ≥ 0", self.motif_pseudo)));
        }
        if self.thresh.is_nan() || self.thresh < 0.0 {
            return Err(cfg_err(format!("thresh ({}) cannot be negative", self.thresh)));
        }
        if !self.evalue && self.thresh > 1.0 {
            return Err(cfg_err(format!(
                "thresh ({}) must be ≤ 1 for q-values; add `evalue` to threshold E-values",
                self.thresh
            )));
        }
        if let Some(bg) = self.bg {
            if !self.dist.uses_background() {
                return Err(cfg_err(format!(
                    "a background is not allowed with dist `{}` (it never uses one; only the pseudocount does)",
                    self.dist.name()
                )));
            }
            if bg.iter().any(|v| v.is_nan() || *v < 0.0) || bg.iter().sum::<f64>() <= 0.0 {
                return Err(cfg_err("background frequencies must be ≥ 0 and not all 0"));
            }
        }
        Ok(())
    }

    /// The background tomtom would use with queries from `queries`.
    #[must_use]
    pub fn background_for(&self, queries: &MotifSet) -> [f64; 4] {
        let raw = self.bg.unwrap_or(queries.background);
        let s: f64 = raw.iter().sum();
        tomtom_background(raw.map(|v| v / s))
    }
}

fn cfg_err(msg: impl Into<String>) -> Error {
    Error::Config { plugin: "tomtom".into(), msg: msg.into() }
}

/// One query's result: every target entry, in tomtom's order (p ascending,
/// overlap descending, `+` before `-`, then id), with q-values.
#[derive(Debug, Clone)]
pub struct QueryResult {
    /// The query and its hits.
    pub scored: Scored,
}

impl QueryResult {
    /// The hits tomtom prints: walk the sorted list, stop at the first
    /// whose q-value (E-value with `evalue`) exceeds `thresh`, skip a target
    /// already printed on its other strand.
    pub fn reported<'a>(&'a self, cfg: &Config) -> impl Iterator<Item = &'a Hit> + 'a {
        self.scored.hits.iter().zip(self.reported_mask(cfg)).filter(|(_, r)| *r).map(|(h, _)| h)
    }

    /// For each hit in order, whether tomtom prints it ([`QueryResult::reported`]).
    #[must_use]
    pub fn reported_mask(&self, cfg: &Config) -> Vec<bool> {
        let (thresh, by_e) = (cfg.thresh, cfg.evalue);
        let mut seen = std::collections::HashSet::new();
        let mut open = true;
        self.scored
            .hits
            .iter()
            .map(|h| {
                open = open && (if by_e { h.e_value } else { h.q_value }) <= thresh;
                open && seen.insert(h.target)
            })
            .collect()
    }

    /// The best hit per target (its better strand), in target order.
    #[must_use]
    pub fn best_per_target(&self, ntargets: usize) -> Vec<Hit> {
        let mut out: Vec<Option<Hit>> = vec![None; ntargets];
        for h in &self.scored.hits {
            if out[h.target].is_none() {
                out[h.target] = Some(*h);
            }
        }
        out.into_iter().flatten().collect()
    }
}

/// Sorts a scored query into tomtom's order and adds q-values, drawing the
/// bootstrap from `rng` (MEME's stream carries across queries in order).
pub fn finish(db: &Database, mut scored: Scored, rng: &mut MemeRng) -> QueryResult {
    // p ascending (non-negative, so its bits sort the same way), overlap
    // descending, `+` first, then target id bytes (ranked once per database).
    // Complete scoring's p-values are single precision: then the key fits
    // in 64 bits (p: 31, overlap ≤ 100: 7, strand: 1, rank: 25), which
    // sorts faster than the general 128-bit key.
    let rank = &db.id_rank;
    // hits straight from `score_query` (one per entry, in entry order): a
    // key's strand and rank name its entry, so the keys alone are sorted
    let in_entry_order = scored.hits.len() == db.entries.len()
        && scored
            .hits
            .iter()
            .zip(&db.entries)
            .all(|(h, e)| h.target == e.target && h.reverse == e.reverse);
    let narrow = in_entry_order
        && rank.len() < 1 << 25
        && scored.hits.iter().all(|h| h.overlap < 128 && f64::from(h.p_value as f32) == h.p_value);
    if narrow {
        let mut keys: Vec<u64> = scored
            .hits
            .iter()
            .map(|h| {
                (u64::from((h.p_value as f32).to_bits()) << 33)
                    | (u64::from(127 - h.overlap as u32) << 26)
                    | (u64::from(h.reverse) << 25)
                    | u64::from(rank[h.target])
            })
            .collect();
        radix_sort(&mut keys);
        let strands = db.strands();
        scored.hits = keys
            .iter()
            .map(|&k| {
                let target = db.by_rank[(k & ((1 << 25) - 1)) as usize] as usize;
                scored.hits[target * strands + ((k >> 25) & 1) as usize]
            })
            .collect();
    } else {
        scored.hits.sort_unstable_by_key(|h| {
            (u128::from(h.p_value.to_bits()) << 64)
                | (u128::from(u32::MAX - h.overlap as u32) << 32)
                | (u128::from(h.reverse) << 31)
                | u128::from(rank[h.target])
        });
    }
    let mut q: Vec<f64> = scored.hits.iter().map(|h| h.p_value).collect();
    qvalue::p_to_q(&mut q, rng);
    for (h, q) in scored.hits.iter_mut().zip(q) {
        h.q_value = q;
    }
    QueryResult { scored }
}

/// Sorts `keys` ascending: least-significant-digit radix sort, 11 bits a
/// pass, skipping digits every key shares (a few passes of two linear
/// sweeps instead of a comparison sort's unpredictable branches).
fn radix_sort(keys: &mut Vec<u64>) {
    const BITS: u32 = 11;
    const NB: usize = 1 << BITS;
    let n = keys.len();
    let mut tmp = vec![0u64; n];
    let mut shift = 0;
    while shift < 64 {
        let digit = |k: u64| ((k >> shift) as usize) & (NB - 1);
        let mut cnt = [0u32; NB];
        for &k in keys.iter() {
            cnt[digit(k)] += 1;
        }
        if cnt.iter().any(|&c| c as usize == n) {
            shift += BITS;
            continue;
        }
        let mut sum = 0;
        for c in &mut cnt {
            (*c, sum) = (sum, sum + *c);
        }
        for &k in keys.iter() {
            let d = digit(k);
            tmp[cnt[d] as usize] = k;
            cnt[d] += 1;
        }
        std::mem::swap(keys, &mut tmp);
        shift += BITS;
    }
}

/// Compares every query with every target: scoring in parallel, q-values
/// in query order. Queries that cannot be compared are an error naming them.
///
/// # Errors
/// On an invalid configuration, an empty database or a query that cannot
/// be scored.
pub fn compare(queries: &MotifSet, targets: &MotifSet, cfg: &Config) -> Result<Vec<QueryResult>> {
    let db = Database::new(targets, cfg.background_for(queries), cfg)?;
    let mut rng = MemeRng::new();
    compare_with(&db, &queries.motifs, &mut rng)
}

/// [`compare`] against a prepared database, continuing the random stream.
///
/// Scoring runs in parallel; so do the q-values: the random stream is
/// advanced on one thread (while the others score) to each query's
/// starting point, so every query draws exactly what MEME would draw.
///
/// # Errors
/// If a query cannot be scored.
pub fn compare_with(
    db: &Database,
    queries: &[Motif],
    rng: &mut MemeRng,
) -> Result<Vec<QueryResult>> {
    let n = queries.len();
    let per_query = qvalue::draws_per_query(db.entries.len());
    let (scored, starts) = rayon::join(
        || queries.par_iter().map(|q| db.score_query(q)).collect::<Result<Vec<Scored>>>(),
        || {
            let mut r = rng.clone();
            let mut starts = Vec::with_capacity(n);
            for _ in 0..n {
                starts.push(r.clone());
                r.skip_draws(per_query);
            }
            (starts, r)
        },
    );
    let (starts, end) = starts;
    let scored = scored?;
    *rng = end;
    Ok(scored.into_par_iter().zip(starts).map(|(s, mut r)| finish(db, s, &mut r)).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn radix_sort_matches_sort() {
        let mut rng = MemeRng::new();
        for n in [0usize, 1, 2, 7, 1758, 5000] {
            let mut v: Vec<u64> = (0..n)
                .map(|i| {
                    let r = (rng.ldrand() * 2f64.powi(40)) as u64;
                    // shared high bits, ties and a few large keys
                    if i % 5 == 0 { r << 20 } else { (r & 0xFFFF) | (1 << 50) }
                })
                .collect();
            v.extend_from_slice(&v.clone()[..n / 10]);
            let mut want = v.clone();
            want.sort_unstable();
            radix_sort(&mut v);
            assert_eq!(v, want, "n={n}");
        }
    }
}
