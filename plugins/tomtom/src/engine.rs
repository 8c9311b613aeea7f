//! One query against the database: column scores, the median shift,
//! quantisation, the null score distributions of every block of query
//! columns, the best alignment per target and its p- and E-value
//! (`tomtom.c: main`, `get_pv_lookup_new`, `compare_motifs`,
//! `calc_shifted_scores_pvalues_per_query`).

use motif_core::motif::Motif;
use motif_core::{Error, Result};

use crate::db::{Database, consensus, pseudocounted, sites};
use crate::score::{Col, Ctx, Distance, column_score, pearson_unit};

/// Quantisation range (`BINS`).
const BINS: usize = 100;

/// One target entry's best alignment against a query.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Hit {
    /// Index into [`Database::targets`].
    pub target: usize,
    /// True for the reverse-complement copy (orientation `-`).
    pub reverse: bool,
    /// Optimal offset (target column = query column + offset).
    pub offset: i32,
    /// Aligned columns.
    pub overlap: usize,
    /// p-value.
    pub p_value: f64,
    /// E-value.
    pub e_value: f64,
    /// q-value (filled by [`crate::finish`]).
    pub q_value: f64,
}

/// A query scored against every entry (before q-values).
#[derive(Debug, Clone)]
pub struct Scored {
    /// Query id.
    pub id: String,
    /// Query consensus (after pseudocounts).
    pub consensus: String,
    /// One hit per database entry, in entry order.
    pub hits: Vec<Hit>,
}

/// Survival functions P(X ≥ k) of the null sum over each block of query
/// columns [s, e], k in scaled units.
struct Blocks {
    w: usize,
    /// Per (s, e): (offset into `data`, smallest k stored, length).
    index: Vec<(usize, i64, usize)>,
    data: Vec<f64>,
}

impl Blocks {
    #[inline(always)]
    fn build(w: usize, hists: &[Vec<(usize, f64)>]) -> Self {
        let mut index = vec![(0, 0, 0); w * w];
        let mut data = Vec::new();
        let mut cur: Vec<f64> = Vec::new();
        let mut next: Vec<f64> = Vec::new();
        for s in 0..w {
            cur.clear();
            cur.push(1.0);
            let mut base = 0usize;
            for e in s..w {
                let h = &hists[e];
                let (hmin, hmax) = (h[0].0, h[h.len() - 1].0);
                next.clear();
                next.resize(cur.len() + hmax - hmin, 0.0);
                for &(v, p) in h {
                    let out = &mut next[v - hmin..v - hmin + cur.len()];
                    for (o, &c) in out.iter_mut().zip(&cur) {
                        *o += c * p;
                    }
                }
                std::mem::swap(&mut cur, &mut next);
                base += hmin;
                // survival from the top, clamped at 1 as MEME does
                let off = data.len();
                data.extend_from_slice(&cur);
                let sf = &mut data[off..];
                for k in (0..sf.len() - 1).rev() {
                    sf[k] = (sf[k] + sf[k + 1]).min(1.0);
                }
                index[s * w + e] = (off, base as i64, cur.len());
            }
        }
        Self { w, index, data }
    }

    /// P(X_{s..=e} ≥ k).
    #[inline]
    fn sf(&self, s: usize, e: usize, k: i64) -> f64 {
        let (off, base, len) = self.index[s * self.w + e];
        if k <= base {
            self.data[off]
        } else if k >= base + len as i64 {
            0.0
        } else {
            self.data[off + (k - base) as usize]
        }
    }
}

/// Whether tomtom can compare `query`: at least one and at most
/// [`MAX_QUERY_WIDTH`](crate::db::MAX_QUERY_WIDTH) columns.
///
/// # Errors
/// Names the query and its width.
pub fn check_query(query: &Motif) -> Result<()> {
    let w = query.len();
    if w == 0 {
        return Err(Error::Invalid(format!("query motif `{}` has no columns", query.id)));
    }
    if w > crate::db::MAX_QUERY_WIDTH {
        return Err(Error::Invalid(format!(
            "query motif `{}` is {w} columns wide; tomtom compares queries up to {} columns",
            query.id,
            crate::db::MAX_QUERY_WIDTH
        )));
    }
    Ok(())
}

/// The aligned query block and overlap of configuration `c` (1-based,
/// offset = c − w) for query width `w` and target width `l`:
/// (first query column, first target column, overlap).
#[inline]
fn config(c: usize, w: usize, l: usize) -> (usize, usize, usize) {
    let (qs, ts) = if c <= w { (w - c, 0) } else { (0, c - w) };
    (qs, ts, (w - qs).min(l - ts))
}

/// MEME's `EV`: the p-value of the best of `n` independent trials.
fn ev(p: f64, n: f64) -> f64 {
    if p * n < 0.001 { p * n } else { 1.0 - (1.0 - p).powf(n) }
}

impl Database {
    /// Scores one query against every entry (parallel-safe; q-values are
    /// added by [`crate::finish`], which must see queries in order).
    ///
    /// # Errors
    /// If the query is too wide, or a column score is not finite
    /// (e.g. `kullback` with `--motif-pseudo 0` and zero probabilities).
    pub fn score_query(&self, query: &Motif) -> Result<Scored> {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") {
            #[allow(unsafe_code)]
            // SAFETY: the function only enables AVX2, which the CPU was just
            // checked to support.
            return unsafe { self.score_query_avx2(query) };
        }
        self.score_query_impl(query)
    }

    /// [`Database::score_query`] compiled for AVX2 (same operations, wider
    /// vectors; no FMA, so results are bit-identical).
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    fn score_query_avx2(&self, query: &Motif) -> Result<Scored> {
        self.score_query_impl(query)
    }

    #[inline(always)]
    fn score_query_impl(&self, query: &Motif) -> Result<Scored> {
        check_query(query)?;
        let w = query.len();
        let cfg = &self.cfg;
        let qcols = pseudocounted(query, &self.bg, cfg.motif_pseudo);
        let m = self.cols.len();

        // 1-2. column scores (row-major w × m), each row's range and, with
        // complete scoring, minus its low median
        let complete = !cfg.incomplete_scores;
        let k1 = (m / 2).saturating_sub(1);
        let k2 = m.div_ceil(2).saturating_sub(1).max(k1);
        let mut s: Vec<f64> = Vec::with_capacity(w * m);
        let mut shift = vec![0.0f64; w];
        let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
        let mut sel = Selector::default();
        let nq = sites(query);
        for (i, q) in qcols.iter().enumerate() {
            self.score_row(q, nq, &mut s);
            let row = &s[i * m..(i + 1) * m];
            // score bounds known in advance let the median's bucket pass
            // also find the row's range (one pass instead of two)
            let bounds = match cfg.dist {
                Distance::Pearson => Some((-1.01, 1.01)),
                Distance::Ed => Some((-1.5, 0.01)),
                Distance::Sandelin => Some((-0.01, 2.01)),
                _ => None,
            };
            let (mn, mx, med) = match bounds {
                Some(b) if complete => sel.range_and_median(row, b, k1, k2),
                _ => {
                    let (mn, mx) = minmax(row);
                    let med = if complete && mn.is_finite() && mx.is_finite() {
                        sel.low_median(row, mn, mx, k1, k2)
                    } else {
                        0.0
                    };
                    (mn, mx, med)
                }
            };
            if !(mn.is_finite() && mx.is_finite())
                || (bounds.is_none() && row.iter().any(|v| v.is_nan()))
            {
                return Err(Error::Invalid(format!(
                    "query `{}` column {}: {} score is not finite (a zero probability? use --motif-pseudo > 0)",
                    query.id,
                    i + 1,
                    cfg.dist.name()
                )));
            }
            let neg_med = if complete { -med } else { 0.0 };
            shift[i] = neg_med;
            // min/max of (v + shift) = (min/max v) + shift: addition is monotone
            lo = lo.min(mn + neg_med);
            hi = hi.max(mx + neg_med);
        }

        // 3. quantise to integers 0..=BINS (row-major), with per-row histograms
        if hi == lo {
            lo = hi - 1.0;
        }
        let offset = lo.floor();
        let scale = (BINS as f64 / (hi - offset)).floor();
        let mut g: Vec<u8> = Vec::with_capacity(w * m);
        let mut hists: Vec<Vec<(usize, f64)>> = Vec::with_capacity(w);
        let inv_m = 1.0 / m as f64;
        for (i, (row, &sh)) in s.chunks_exact(m).zip(&shift).enumerate() {
            // MEME: S' = S + (−median); G = nint((S' − offset)·scale) ∈ 0..=BINS
            g.extend(row.iter().map(|&v| nint_small(((v + sh) - offset) * scale)));
            let grow = &g[i * m..];
            let mut cnt = [[0u32; 256]; 4];
            let mut ch = grow.chunks_exact(4);
            for c in &mut ch {
                cnt[0][usize::from(c[0])] += 1;
                cnt[1][usize::from(c[1])] += 1;
                cnt[2][usize::from(c[2])] += 1;
                cnt[3][usize::from(c[3])] += 1;
            }
            for &c in ch.remainder() {
                cnt[0][usize::from(c)] += 1;
            }
            hists.push(
                (0..=BINS)
                    .filter_map(|v| {
                        let n = cnt[0][v] + cnt[1][v] + cnt[2][v] + cnt[3][v];
                        (n > 0).then(|| (v, f64::from(n) * inv_m))
                    })
                    .collect(),
            );
        }
        drop(s);

        // 4. null distributions of every block
        let blocks = Blocks::build(w, &hists);
        let kk = (offset * scale) as i64; // K = lo·σ ≤ 0 in complete mode
        let norient = self.strands();
        let ntargets = self.targets.len();

        // 5. best configuration per entry: z[c − 1] = raw score of configuration c
        let mut hits = Vec::with_capacity(self.entries.len());
        let mut z: Vec<u16> = Vec::new();
        for en in &self.entries {
            let l = en.len;
            z.clear();
            z.resize(w + l - 1, 0);
            for (i, grow) in g.chunks_exact(m).enumerate() {
                let src = &grow[en.col0..en.col0 + l];
                let dst = &mut z[w - 1 - i..w - 1 - i + l];
                for (d, &v) in dst.iter_mut().zip(src) {
                    *d += u16::from(v);
                }
            }
            let (start, end) = self.allowed(w, l);
            let mut best_score = f64::INFINITY; // MEME's "p-value" slot (−score when complete)
            let mut best_ov = 0usize;
            let mut best_off = 0i32;
            for c in start..=end {
                let (qs, _, ov) = config(c, w, l);
                let zc = i64::from(z[c - 1]);
                let v = if cfg.incomplete_scores {
                    blocks.sf(qs, qs + ov - 1, zc)
                } else {
                    -((zc + ov as i64 * kk) as f64)
                };
                if v == best_score {
                    if best_ov < ov {
                        (best_score, best_ov, best_off) = (v, ov, c as i32 - w as i32);
                    }
                } else if v < best_score {
                    (best_score, best_ov, best_off) = (v, ov, c as i32 - w as i32);
                }
            }
            let (p, e) = if cfg.incomplete_scores {
                let n = (end - start + 1) * norient;
                let p = ev(best_score, n as f64);
                (p, p * ntargets as f64)
            } else {
                let best = -best_score as i64; // C_best
                let p = complete_pvalue(&blocks, w, l, best, kk, norient);
                let pf = p as f32;
                let ef = (pf * self.entries.len() as f32) / norient as f32;
                (f64::from(pf), f64::from(ef))
            };
            hits.push(Hit {
                target: en.target,
                reverse: en.reverse,
                offset: best_off,
                overlap: best_ov,
                p_value: p,
                e_value: e,
                q_value: 1.0,
            });
        }
        Ok(Scored { id: query.id.clone(), consensus: consensus(&qcols), hits })
    }

    /// Consensus of a hit's target as aligned (reverse-complemented for `-`).
    #[must_use]
    pub fn target_consensus(&self, hit: &Hit) -> String {
        consensus(self.entry_cols(hit.target * self.strands() + usize::from(hit.reverse)))
    }

    /// Allowed configurations (1-based, inclusive) for widths `w`, `l`.
    fn allowed(&self, w: usize, l: usize) -> (usize, usize) {
        if self.cfg.internal {
            (w.min(l), w.max(l))
        } else if self.cfg.min_overlap > 1 {
            let mo = self.cfg.min_overlap.min(w).min(l);
            (mo, w + l - mo)
        } else {
            (1, w + l - 1)
        }
    }

    /// Scores of one query column against every database column.
    #[inline(always)]
    fn score_row(&self, q: &Col, nq: f64, out: &mut Vec<f64>) {
        match self.cfg.dist {
            Distance::Pearson => {
                let u = pearson_unit(q);
                out.extend(
                    self.unit.iter().map(|t| u[0] * t[0] + u[1] * t[1] + u[2] * t[2] + u[3] * t[3]),
                );
            }
            Distance::Ed => {
                out.extend(self.cols.iter().map(|t| {
                    let d0 = q[0] - t[0];
                    let d1 = q[1] - t[1];
                    let d2 = q[2] - t[2];
                    let d3 = q[3] - t[3];
                    -((((0.0 + d0 * d0) + d1 * d1) + d2 * d2) + d3 * d3).sqrt()
                }));
            }
            d => {
                out.extend(
                    self.cols
                        .iter()
                        .zip(&self.col_sites)
                        .map(|(t, &nt)| column_score(d, q, t, &Ctx { bg: self.bg, nq, nt })),
                );
            }
        }
    }
}

#[inline(always)]
fn minmax(v: &[f64]) -> (f64, f64) {
    // compare-and-select (not f64::min) so the loop vectorises; NaN is
    // screened separately
    let mut lo = [f64::INFINITY; 8];
    let mut hi = [f64::NEG_INFINITY; 8];
    let mut ch = v.chunks_exact(8);
    for c in &mut ch {
        for k in 0..8 {
            lo[k] = if c[k] < lo[k] { c[k] } else { lo[k] };
            hi[k] = if c[k] > hi[k] { c[k] } else { hi[k] };
        }
    }
    for &x in ch.remainder() {
        lo[0] = if x < lo[0] { x } else { lo[0] };
        hi[0] = if x > hi[0] { x } else { hi[0] };
    }
    (
        lo.iter().copied().fold(f64::INFINITY, f64::min),
        hi.iter().copied().fold(f64::NEG_INFINITY, f64::max),
    )
}

/// 2^52 + 2^51: adding it to a double in [0, 2^51) leaves the value
/// rounded to an integer in the low mantissa bits.
const MAGIC: f64 = 6_755_399_441_055_744.0;

/// MEME's `nint` (round half away from zero) for x in [0, BINS + 0.5],
/// branch-free so the quantisation loop vectorises: floor(x + 0.5) from
/// the round-to-nearest result of the magic-constant addition.
#[inline]
fn nint_small(x: f64) -> u8 {
    let t = x + 0.5;
    let r = (t + MAGIC) - MAGIC;
    let f = if r > t { r - 1.0 } else { r };
    let q = ((f + MAGIC).to_bits() & 0xFF) as u8;
    q.min(BINS as u8)
}

/// Finds (sorted[k1] + sorted[k2]) / 2 without sorting the row: counts
/// values into buckets over [min, max] (a monotone map, so ranks carry
/// over), then sorts only the bucket(s) holding ranks k1 and k2.
#[derive(Default)]
struct Selector {
    cnt: Vec<u32>,
    keys: Vec<u16>,
    scratch: Vec<f64>,
}

impl Selector {
    const NB: usize = 4096;

    /// Row minimum, maximum and low median for scores known to lie in
    /// `bounds` (bucket keys and range in one pass).
    #[inline(always)]
    fn range_and_median(
        &mut self,
        row: &[f64],
        bounds: (f64, f64),
        k1: usize,
        k2: usize,
    ) -> (f64, f64, f64) {
        let (a, b) = bounds;
        let inv = (Self::NB - 1) as f64 / (b - a);
        self.keys.clear();
        self.keys.resize(row.len(), 0);
        let mut lo = [f64::INFINITY; 8];
        let mut hi = [f64::NEG_INFINITY; 8];
        let mut rc = row.chunks_exact(8);
        let mut kc = self.keys.chunks_exact_mut(8);
        for (c, k) in (&mut rc).zip(&mut kc) {
            for j in 0..8 {
                lo[j] = if c[j] < lo[j] { c[j] } else { lo[j] };
                hi[j] = if c[j] > hi[j] { c[j] } else { hi[j] };
                k[j] = (((c[j] - a) * inv + MAGIC).to_bits() & 0xFFFF) as u16;
            }
        }
        for (&v, k) in rc.remainder().iter().zip(kc.into_remainder()) {
            lo[0] = if v < lo[0] { v } else { lo[0] };
            hi[0] = if v > hi[0] { v } else { hi[0] };
            *k = (((v - a) * inv + MAGIC).to_bits() & 0xFFFF) as u16;
        }
        let mn = lo.iter().copied().fold(f64::INFINITY, f64::min);
        let mx = hi.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        if mn == mx {
            return (mn, mx, mn);
        }
        (mn, mx, self.select(row, k1, k2))
    }

    #[inline(always)]
    fn low_median(&mut self, row: &[f64], mn: f64, mx: f64, k1: usize, k2: usize) -> f64 {
        if mn == mx {
            return mn;
        }
        let inv = (Self::NB - 1) as f64 / (mx - mn);
        // round-to-nearest bucket index via the magic constant: monotone in v
        let key = |v: f64| (((v - mn) * inv + MAGIC).to_bits() & 0xFFFF) as u16;
        self.keys.clear();
        self.keys.extend(row.iter().map(|&v| key(v)));
        self.select(row, k1, k2)
    }

    /// The median from bucket keys already in `self.keys`.
    #[inline(always)]
    fn select(&mut self, row: &[f64], k1: usize, k2: usize) -> f64 {
        self.cnt.clear();
        self.cnt.resize(Self::NB + 1, 0);
        for &k in &self.keys {
            self.cnt[usize::from(k).min(Self::NB)] += 1;
        }
        let find = |cnt: &[u32], k: usize| -> (u16, usize) {
            let mut below = 0usize;
            for (b, &c) in cnt.iter().enumerate() {
                if below + c as usize > k {
                    return (b as u16, below);
                }
                below += c as usize;
            }
            unreachable!("rank within the row")
        };
        let (b1, below1) = find(&self.cnt, k1);
        let (b2, _) = find(&self.cnt, k2);
        self.scratch.clear();
        // test 32 keys at a time (vectorised), scan only chunks that hit
        for (kc, rc) in self.keys.chunks(32).zip(row.chunks(32)) {
            let hit = kc.iter().fold(false, |a, &k| {
                let k = k.min(Self::NB as u16);
                a | (k == b1) | (k == b2)
            });
            if hit {
                for (&v, &k) in rc.iter().zip(kc) {
                    let k = k.min(Self::NB as u16);
                    if k == b1 || k == b2 {
                        self.scratch.push(v);
                    }
                }
            }
        }
        let r1 = k1 - below1;
        let (_, a, rest) = self.scratch.select_nth_unstable_by(r1, f64::total_cmp);
        let a = *a;
        let b = if k2 == k1 { a } else { rest.iter().copied().fold(f64::INFINITY, f64::min) };
        (a + b) / 2.0
    }
}

/// P(max over all configurations and strands ≥ `best`) for complete
/// scoring: the configurations' null scores are independent, so the
/// maximum's survival is 1 − Π(1 − S_c)^strands, evaluated through
/// log1p/expm1 when it is small so tiny p-values keep their digits.
#[inline(always)]
fn complete_pvalue(blocks: &Blocks, w: usize, l: usize, best: i64, kk: i64, norient: usize) -> f64 {
    let nconf = w + l - 1;
    let mut prod = 1.0f64;
    for c in 1..=nconf {
        let (qs, _, ov) = config(c, w, l);
        prod *= 1.0 - blocks.sf(qs, qs + ov - 1, best - ov as i64 * kk);
    }
    let prod = prod.powi(norient as i32);
    if prod < 0.9 {
        return 1.0 - prod;
    }
    let mut sum = 0.0f64;
    for c in 1..=nconf {
        let (qs, _, ov) = config(c, w, l);
        sum += (-blocks.sf(qs, qs + ov - 1, best - ov as i64 * kk)).ln_1p();
    }
    -(sum * norient as f64).exp_m1()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn configurations_cover_every_offset() {
        // w = 3, l = 2: offsets −2..=1
        let got: Vec<_> = (1..=4).map(|c| config(c, 3, 2)).collect();
        assert_eq!(got, [(2, 0, 1), (1, 0, 2), (0, 0, 2), (0, 1, 1)]);
    }

    /// Block survival functions against brute-force enumeration.
    #[test]
    fn block_distributions_match_enumeration() {
        let hists =
            vec![vec![(0, 0.5), (2, 0.5)], vec![(1, 0.25), (3, 0.75)], vec![(0, 0.1), (1, 0.9)]];
        let b = Blocks::build(3, &hists);
        let mut pmf = std::collections::HashMap::new();
        for &(a, pa) in &hists[0] {
            for &(c, pc) in &hists[1] {
                for &(d, pd) in &hists[2] {
                    *pmf.entry(a + c + d).or_insert(0.0) += pa * pc * pd;
                }
            }
        }
        for k in 0..10i64 {
            let want: f64 = pmf.iter().filter(|(v, _)| **v as i64 >= k).map(|(_, p)| p).sum();
            assert!((b.sf(0, 2, k) - want.min(1.0)).abs() < 1e-15, "k={k}");
        }
        assert!((b.sf(1, 1, 2) - 0.75).abs() < 1e-15);
        assert_eq!(b.sf(1, 2, 100), 0.0);
    }

    #[test]
    fn median_selection_matches_sorting() {
        let mut x: Vec<f64> = (0..1001).map(|i| ((i * 7919) % 1009) as f64 / 3.0 - 50.0).collect();
        x.extend([0.5; 40]);
        let mut sel = Selector::default();
        for m in [1usize, 2, 3, 10, 1040, 1041] {
            let row = &x[..m];
            let mut s = row.to_vec();
            s.sort_by(f64::total_cmp);
            let k1 = (m / 2).saturating_sub(1);
            let k2 = m.div_ceil(2).saturating_sub(1).max(k1);
            let (mn, mx) = minmax(row);
            assert_eq!(sel.low_median(row, mn, mx, k1, k2), (s[k1] + s[k2]) / 2.0, "m={m}");
            // bounded variant on values scaled into [-1, 1]
            let scaled: Vec<f64> = row.iter().map(|v| v / 400.0).collect();
            let (a, b, med) = sel.range_and_median(&scaled, (-1.01, 1.01), k1, k2);
            let mut ss = scaled.clone();
            ss.sort_by(f64::total_cmp);
            assert_eq!((a, b, med), (ss[0], ss[m - 1], (ss[k1] + ss[k2]) / 2.0), "m={m}");
        }
    }

    #[test]
    fn nint_is_round_half_up() {
        for (x, q) in [
            (0.0, 0),
            (0.49999, 0),
            (0.5, 1),
            (1.5, 2),
            (2.5, 3),
            (99.5, 100),
            (100.4, 100),
            (37.2, 37),
        ] {
            assert_eq!(nint_small(x), q, "{x}");
            assert_eq!(nint_small(x), (x + 0.5) as u8, "{x}");
        }
        for k in 0..100_000 {
            let x = k as f64 * 0.001_013;
            if x <= 100.0 {
                assert_eq!(nint_small(x), (x + 0.5) as u8, "{x}");
            }
        }
    }

    #[test]
    fn ev_correction() {
        assert!((ev(1e-6, 10.0) - 1e-5).abs() < 1e-20);
        assert!((ev(0.1, 2.0) - 0.19).abs() < 1e-15);
    }
}
