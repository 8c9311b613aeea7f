//! One query against the database: column scores, the median shift,
//! quantisation, the null score distributions of every block of query
//! columns, the best alignment per target and its p- and E-value
//! (`tomtom.c: main`, `get_pv_lookup_new`, `compare_motifs`,
//! `calc_shifted_scores_pvalues_per_query`).

use motif_core::motif::Motif;
use motif_core::{Error, Result};

use crate::db::{Database, consensus, pseudocounted, sites};
use crate::score::{Col, Ctx, Distance, column_score, pearson_unit};

/// Buffers one thread reuses from query to query.
#[derive(Default)]
struct Scratch {
    s: Vec<f64>,
    g: Vec<u8>,
    sel: Selector,
    diag: Vec<u16>,
    blocks: Vec<f64>,
    conv: Vec<f64>,
    next: Vec<f64>,
    confs: Vec<Conf>,
    nulls: Vec<Null>,
}

thread_local! {
    static SCRATCH: std::cell::RefCell<Scratch> = std::cell::RefCell::default();
}

/// Bits of a packed best-configuration key below the score: the overlap
/// (`OV_MASK`, ≤ the query width) above `C_BITS` bits of `C_MASK − c`.
const C_BITS: u32 = 20;
const C_MASK: i64 = (1 << C_BITS) - 1;
const OV_MASK: i64 = (1 << (32 - C_BITS)) - 1;

/// One allowed configuration of a target width: the aligned query rows
/// `a..b` (×16, the diagonal block's row stride), the overlap's share of
/// the complete score, and the tie-break bits of its key.
#[derive(Clone, Copy)]
struct Conf {
    a: usize,
    b: usize,
    ovkk: i64,
    tie: i64,
}

/// One configuration's null survival function in [`Blocks::data`], read at
/// complete score `v` as `data[off + clamp(v − shift, 0, len)]`.
#[derive(Clone, Copy)]
struct Null {
    off: usize,
    shift: i64,
    len: i64,
}

/// P(max over all configurations and strands ≥ `best`) for complete
/// scoring, with the configurations' null scores independent:
/// `1 − Π_c (1 − S_c)^strands`, accumulated as unions `u ← u + S_c·(1 − u)`
/// (then `1 − (1 − u)² = u·(2 − u)` for two strands), which keep full
/// relative precision for small p-values without logarithms.
#[inline(always)]
fn union_pvalue(data: &[f64], nulls: &[Null], best: i64, norient: usize) -> f64 {
    let sf = |nl: &Null| data[nl.off + (best - nl.shift).clamp(0, nl.len) as usize];
    // four independent running unions (the update's latency is the cost),
    // then merged the same way
    let mut u = [0.0f64; 4];
    let mut ch = nulls.chunks_exact(4);
    for c in &mut ch {
        for k in 0..4 {
            let s = sf(&c[k]);
            u[k] += s * (1.0 - u[k]);
        }
    }
    for nl in ch.remainder() {
        let s = sf(nl);
        u[0] += s * (1.0 - u[0]);
    }
    let a = u[0] + u[1] * (1.0 - u[0]);
    let b = u[2] + u[3] * (1.0 - u[2]);
    let u = a + b * (1.0 - a);
    if norient == 2 { u * (2.0 - u) } else { u }
}

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

impl Hit {
    /// As the matcher kind's typed hit: the target as its index in the set
    /// the database was made from.
    #[must_use]
    pub fn typed(&self, db: &Database, reported: bool) -> motif_core::plugin::Hit {
        motif_core::plugin::Hit {
            target: db.targets[self.target].index,
            reverse: self.reverse,
            offset: self.offset,
            overlap: self.overlap,
            p_value: self.p_value,
            e_value: self.e_value,
            q_value: self.q_value,
            reported,
        }
    }
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
    /// Convolves the row histograms block by block, for each start s
    /// adding columns s, s + 1, … in turn as MEME does. Each output sums its
    /// terms in increasing score order, as MEME's scatter loop does, so the
    /// values are bit-identical; computing it as a gather (32 outputs in
    /// registers per pass over the histogram) avoids a store per term.
    #[inline(always)]
    fn build(w: usize, hists: &[Vec<(usize, f64)>], sc: &mut Scratch) -> Self {
        // outputs per pass: 8 AVX2 accumulators hide the add latency
        const LANES: usize = 32;
        let spans: Vec<usize> = hists.iter().map(|h| h[h.len() - 1].0 - h[0].0).collect();
        let mut index = vec![(0, 0, 0); w * w];
        let mut total = 0;
        for s in 0..w {
            let mut len = 1;
            for e in s..w {
                len += spans[e];
                index[s * w + e] = (total, 0, len);
                // each survival function is followed by a 0 (P(X ≥ max + 1))
                total += len + 1;
            }
        }
        let mut data = std::mem::take(&mut sc.blocks);
        data.clear();
        data.reserve(total);
        // the current and next pmf, ping-ponged, each zero-padded by the
        // largest span on the left and more than LANES on the right, and
        // zero except where the current start has written
        let pad = spans.iter().copied().max().unwrap_or(0) + LANES;
        let maxlen = 1 + spans.iter().sum::<usize>();
        let size = pad + maxlen + pad;
        let (mut cur, mut next) = (std::mem::take(&mut sc.conv), std::mem::take(&mut sc.next));
        for b in [&mut cur, &mut next] {
            b.clear();
            b.resize(size, 0.0);
        }
        for s in 0..w {
            cur[pad] = 1.0;
            let mut len = 1;
            let mut base = 0usize;
            for e in s..w {
                let h = &hists[e];
                let hmin = h[0].0;
                let out_len = len + spans[e];
                // next[t] = Σ_(v, p) p · cur[t − (v − hmin)]; past out_len
                // this reads only zeros, so whole LANES are written
                for tb in (0..out_len).step_by(LANES) {
                    let mut acc = [0.0f64; LANES];
                    for &(v, p) in h {
                        let src = &cur[pad + tb - (v - hmin)..][..LANES];
                        for k in 0..LANES {
                            acc[k] += p * src[k];
                        }
                    }
                    next[pad + tb..][..LANES].copy_from_slice(&acc);
                }
                std::mem::swap(&mut cur, &mut next);
                len = out_len;
                base += hmin;
                let (off, _, n) = index[s * w + e];
                debug_assert!(n == len && off == data.len());
                data.extend_from_slice(&cur[pad..pad + len]);
                data.push(0.0);
                index[s * w + e].1 = base as i64;
            }
            // survival functions of this start's blocks, four at a time
            for e0 in (s..w).step_by(4) {
                let mut group = [(0, 0); 4];
                let g = (w - e0).min(4);
                for (k, slot) in group[..g].iter_mut().enumerate() {
                    let (off, _, len) = index[s * w + e0 + k];
                    *slot = (off, len);
                }
                survival_from_top(&mut data, &group[..g]);
            }
            let written = (pad + len.next_multiple_of(LANES) + LANES).min(size);
            cur[pad..written].fill(0.0);
            next[pad..written].fill(0.0);
        }
        sc.conv = cur;
        sc.next = next;
        Self { w, index, data }
    }

    /// P(X_{s..=e} ≥ k).
    #[inline]
    fn sf(&self, s: usize, e: usize, k: i64) -> f64 {
        let (off, base, len) = self.index[s * self.w + e];
        // below the smallest value: the first entry; above the largest: the 0
        self.data[off + (k - base).clamp(0, len as i64) as usize]
    }
}

/// Turns the pmfs `data[off..off + len]` of each `(off, len)` in `group`
/// (at most 4) into survival functions, summed from the top and clamped at
/// 1 as MEME does. Each keeps MEME's sequential order; interleaving the
/// independent running sums hides the add's latency.
#[inline(always)]
fn survival_from_top(data: &mut [f64], group: &[(usize, usize)]) {
    let g = group.len();
    let mut run = [0.0f64; 4];
    let mut top = [0usize; 4];
    for (b, &(off, len)) in group.iter().enumerate() {
        top[b] = off + len - 1;
        run[b] = data[top[b]];
    }
    let common = group.iter().map(|&(_, len)| len).min().unwrap_or(1) - 1;
    for _ in 0..common {
        for b in 0..g {
            top[b] -= 1;
            run[b] = (data[top[b]] + run[b]).min(1.0);
            data[top[b]] = run[b];
        }
    }
    for (b, &(off, _)) in group.iter().enumerate() {
        while top[b] > off {
            top[b] -= 1;
            run[b] = (data[top[b]] + run[b]).min(1.0);
            data[top[b]] = run[b];
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

/// Runs `$body` with `$f` bound to the column-score function `j ↦ score(q,
/// column j)` of a bounded distance (pearson, ed, sandelin), over the
/// first `$n` columns of `by_letter`. The one definition of those scores:
/// [`Database::score_row`] stores them, the complete-scoring passes compute
/// them where they use them, and both get identical values.
macro_rules! with_fixed_score {
    ($db:expr, $q:expr, $n:expr, |$f:ident| $body:expr) => {{
        let [t0, t1, t2, t3] = &$db.by_letter;
        let n = $n;
        let (t0, t1, t2, t3) = (&t0[..n], &t1[..n], &t2[..n], &t3[..n]);
        let q: &Col = $q;
        match $db.cfg.dist {
            Distance::Pearson => {
                let u = pearson_unit(q);
                let $f = |j: usize| u[0] * t0[j] + u[1] * t1[j] + u[2] * t2[j] + u[3] * t3[j];
                $body
            }
            Distance::Ed => {
                let $f = |j: usize| -sq_dist(q, t0[j], t1[j], t2[j], t3[j]).sqrt();
                $body
            }
            d => {
                debug_assert_eq!(d, Distance::Sandelin);
                let $f = |j: usize| 2.0 - sq_dist(q, t0[j], t1[j], t2[j], t3[j]);
                $body
            }
        }
    }};
}

/// Squared Euclidean distance of `q` and (t0, t1, t2, t3), summed in
/// tomtom's order.
#[inline(always)]
fn sq_dist(q: &Col, t0: f64, t1: f64, t2: f64, t3: f64) -> f64 {
    let d = [q[0] - t0, q[1] - t1, q[2] - t2, q[3] - t3];
    (((0.0 + d[0] * d[0]) + d[1] * d[1]) + d[2] * d[2]) + d[3] * d[3]
}

impl Database {
    /// Scores one query against every entry (parallel-safe; q-values are
    /// added by [`crate::finish`], which must see queries in order).
    ///
    /// # Errors
    /// If the query is too wide, or a column score is not finite
    /// (e.g. `kullback` with `--motif-pseudo 0` and zero probabilities).
    pub fn score_query(&self, query: &Motif) -> Result<Scored> {
        check_query(query)?;
        // this thread's buffers, reused across queries
        let mut sc = SCRATCH.take();
        let r = self.score_dispatch(query, &mut sc);
        SCRATCH.set(sc);
        r
    }

    fn score_dispatch(&self, query: &Motif, sc: &mut Scratch) -> Result<Scored> {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") {
            #[allow(unsafe_code)]
            // SAFETY: the function only enables AVX2, which the CPU was just
            // checked to support.
            return unsafe { self.score_avx2(query, sc) };
        }
        self.score_with(query, sc)
    }

    /// [`Database::score_with`] compiled for AVX2 (same operations, wider
    /// vectors; no FMA, so results are bit-identical).
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    fn score_avx2(&self, query: &Motif, sc: &mut Scratch) -> Result<Scored> {
        self.score_with(query, sc)
    }

    #[inline(always)]
    #[allow(
        clippy::too_many_lines,
        reason = "tomtom's per-query scoring loop, kept whole for the vectoriser"
    )]
    fn score_with(&self, query: &Motif, sc: &mut Scratch) -> Result<Scored> {
        // 1-2. column scores (row-major w × m), each row's range and, with
        // complete scoring, minus its low median
        let w = query.len();
        let cfg = &self.cfg;
        let qcols = pseudocounted(query, &self.bg, cfg.motif_pseudo);
        let m = self.cols.len();
        let complete = !cfg.incomplete_scores;
        let k1 = (m / 2).saturating_sub(1);
        let k2 = m.div_ceil(2).saturating_sub(1).max(k1);
        // rows of m4 ≥ m scores; stale contents past what is written are
        // never read, so the buffer is only grown, not cleared
        let m4 = m.next_multiple_of(4);
        // With complete scoring and a bounded score, one counting pass over
        // fixed buckets gives the median, minimum and maximum together, and
        // the scores (4 products) are computed where the median pass and the
        // quantisation use them instead of kept: no rows of buffer at all.
        let fixed = cfg.dist.bounds().filter(|_| complete);
        let kept = if fixed.is_some() { 0 } else { w };
        let row_of = |i: usize| i * m4;
        let mut s = std::mem::take(&mut sc.s);
        if s.len() < kept * m4 {
            s.resize(kept * m4, 0.0);
        }
        let mut shift = vec![0.0f64; w];
        let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
        let sel = &mut sc.sel;
        let nq = sites(query);
        for (i, q) in qcols.iter().enumerate() {
            let (mn, mx, med) = if let Some(bounds) = fixed {
                // scores computed as keys are, never stored
                with_fixed_score!(self, q, m, |f| sel.row_stats(m, f, bounds, k1, k2))
            } else {
                let row = &mut s[row_of(i)..row_of(i) + m4];
                let range = self.score_row(q, nq, row);
                // (the padding of a bounded row repeats its last score)
                let (mn, mx) = range.unwrap_or_else(|| minmax(row));
                let row = &row[..m];
                if !(mn.is_finite() && mx.is_finite()) {
                    return Err(Error::Invalid(format!(
                        "query `{}` column {}: {} score is not finite (a zero probability? use --motif-pseudo > 0)",
                        query.id,
                        i + 1,
                        cfg.dist.name()
                    )));
                }
                (mn, mx, if complete { sel.low_median(row, mn, mx, k1, k2) } else { 0.0 })
            };
            let neg_med = -med;
            shift[i] = neg_med;
            // min/max of (v + shift) = (min/max v) + shift: addition is monotone
            lo = lo.min(mn + neg_med);
            hi = hi.max(mx + neg_med);
        }

        // 3. quantise to integers 0..=BINS, row-major with w − 1 zero
        // columns of padding on the left (diagonals starting before the
        // first column) and enough on the right for 16-wide loads
        if hi == lo {
            lo = hi - 1.0;
        }
        let offset = lo.floor();
        let scale = (BINS as f64 / (hi - offset)).floor();
        let stride = m + 2 * w + 32;
        let mut g = std::mem::take(&mut sc.g);
        g.resize(w * stride, 0);
        let mut hists: Vec<Vec<(usize, f64)>> = Vec::with_capacity(w);
        let inv_m = 1.0 / m as f64;
        for (i, (&sh, grow)) in shift.iter().zip(g.chunks_exact_mut(stride)).enumerate() {
            // MEME: S' = S + (−median); G = nint((S' − offset)·scale) ∈ 0..=BINS
            grow[..w - 1].fill(0);
            grow[w - 1 + m..].fill(0);
            let grow = &mut grow[w - 1..w - 1 + m];
            if fixed.is_some() {
                with_fixed_score!(self, &qcols[i], m, |f| {
                    for (j, o) in grow[..m].iter_mut().enumerate() {
                        *o = nint_small(((f(j) + sh) - offset) * scale);
                    }
                });
            } else {
                let row = &s[row_of(i)..row_of(i) + m];
                for (o, &v) in grow.iter_mut().zip(row) {
                    *o = nint_small(((v + sh) - offset) * scale);
                }
            }
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
        sc.s = s;
        let diag = std::mem::take(&mut sc.diag);
        // 4. null distributions of every block
        let blocks = Blocks::build(w, &hists, sc);
        let kk = (offset * scale) as i64; // K = lo·σ ≤ 0 in complete mode

        // 5. best configuration and p-value per entry
        let lmax = self.widths.last().copied().unwrap_or(1);
        let mut ring = DiagRing::new(w, lmax, &g, stride, diag);
        let hits = if cfg.incomplete_scores {
            self.best_incomplete(w, &mut ring, &blocks)
        } else {
            self.best_complete(w, &mut ring, &blocks, kk, sc)
        };
        let diag = ring.q;
        sc.g = g;
        sc.diag = diag;
        sc.blocks = blocks.data;
        Ok(Scored { id: query.id.clone(), consensus: consensus(&qcols), hits })
    }

    /// Incomplete scoring: per entry the configuration with the smallest
    /// p-value (ties → larger overlap, then first), corrected for the
    /// number of configurations tried.
    #[inline(always)]
    fn best_incomplete(&self, w: usize, ring: &mut DiagRing<'_>, blocks: &Blocks) -> Vec<Hit> {
        let norient = self.strands();
        let ntargets = self.targets.len() as f64;
        self.entries
            .iter()
            .map(|en| {
                let l = en.len;
                let (start, end) = self.allowed(w, l);
                ring.ensure(en.col0 + end - 1);
                let mut best = (0usize, 0usize, f64::INFINITY);
                for c in start..=end {
                    let (qs, _, ov) = config(c, w, l);
                    let z = ring.sum(en.col0 + c - 1, qs, qs + ov);
                    let v = blocks.sf(qs, qs + ov - 1, i64::from(z));
                    if v < best.2 || (v == best.2 && best.1 < ov) {
                        best = (c, ov, v);
                    }
                }
                let p = ev(best.2, ((end - start + 1) * norient) as f64);
                Hit {
                    target: en.target,
                    reverse: en.reverse,
                    offset: best.0 as i32 - w as i32,
                    overlap: best.1,
                    p_value: p,
                    e_value: p * ntargets,
                    q_value: 1.0,
                }
            })
            .collect()
    }

    /// Complete scoring: per entry the configuration with the largest
    /// complete score (ties → larger overlap, then first), and the p-value
    /// of that score as the maximum over all configurations of both
    /// strands.
    ///
    /// Everything that depends only on the target width is prepared once
    /// per width: the allowed configurations' diagonal rows, and every
    /// configuration's null survival function with its shift. The best
    /// configuration is then a branch-free maximum of packed keys, and the
    /// p-value `1 − Π_c (1 − S_c)^strands` accumulates as a union,
    /// `u ← u + S_c·(1 − u)`, which keeps full relative precision for small
    /// p-values without logarithms.
    #[inline(always)]
    fn best_complete(
        &self,
        w: usize,
        ring: &mut DiagRing<'_>,
        blocks: &Blocks,
        kk: i64,
        sc: &mut Scratch,
    ) -> Vec<Hit> {
        let (confs, nulls) = (&mut sc.confs, &mut sc.nulls);
        confs.clear();
        nulls.clear();
        // per width: (allowed configurations, first allowed c, null functions)
        let mut plans = Vec::with_capacity(self.widths.len());
        for &l in &self.widths {
            let (start, end) = self.allowed(w, l);
            let c0 = confs.len();
            for c in start..=end {
                let (qs, _, ov) = config(c, w, l);
                confs.push(Conf {
                    a: qs * 16,
                    b: (qs + ov) * 16,
                    ovkk: ov as i64 * kk,
                    tie: ((ov as i64) << C_BITS) | (C_MASK - c as i64),
                });
            }
            let n0 = nulls.len();
            // the null maximum is over all w + l − 1 configurations
            for c in 1..w + l {
                let (qs, _, ov) = config(c, w, l);
                let (off, base, len) = blocks.index[qs * w + qs + ov - 1];
                nulls.push(Null { off, shift: base + ov as i64 * kk, len: len as i64 });
            }
            plans.push((c0..confs.len(), start, n0..nulls.len()));
        }
        // best keys, entries in column order: the diagonals are built into
        // the ring just before they are first read
        // (a plain loop: iterator adapters' closures may be compiled
        // outside this function's AVX2 context)
        let mut hits: Vec<Hit> = Vec::with_capacity(self.entries.len());
        for (en, &slot) in self.entries.iter().zip(&self.width_slot) {
            let (confs_l, start, _) = &plans[slot as usize];
            let mut best = i64::MIN;
            let dd0 = en.col0 + start - 1;
            ring.ensure(dd0 + confs_l.len() - 1);
            let q = &ring.q;
            // (`DiagRing::sum` with the rows' offsets precomputed)
            for (dd, cf) in (dd0..).zip(&confs[confs_l.clone()]) {
                let base = ring.base(dd);
                let z = i64::from(q[base + cf.b] - q[base + cf.a]);
                best = best.max(((z + cf.ovkk) << 32) | cf.tie);
            }
            let c = C_MASK - (best & C_MASK);
            hits.push(Hit {
                target: en.target,
                reverse: en.reverse,
                offset: c as i32 - w as i32,
                overlap: ((best >> C_BITS) & OV_MASK) as usize,
                // the best complete score, until its p-value replaces it
                p_value: (best >> 32) as f64,
                e_value: 0.0,
                q_value: 1.0,
            });
        }
        // p-values, entries grouped by width (one set of null functions)
        let norient = self.strands();
        let per_strand = self.entries.len() as f32 / norient as f32;
        let data = &blocks.data;
        for &ei in &self.by_width {
            let h = &mut hits[ei as usize];
            let (_, _, nulls_l) = &plans[self.width_slot[ei as usize] as usize];
            let p = union_pvalue(data, &nulls[nulls_l.clone()], h.p_value as i64, norient) as f32;
            h.p_value = f64::from(p);
            h.e_value = f64::from(p * per_strand);
        }
        hits
    }

    /// Consensus of a hit's target as aligned (reverse-complemented for `-`).
    #[must_use]
    pub fn target_consensus(&self, hit: &Hit) -> String {
        self.entry_consensus(hit).to_owned()
    }

    /// [`Database::target_consensus`], prepared once per entry.
    #[must_use]
    pub fn entry_consensus(&self, hit: &Hit) -> &str {
        self.consensus_of(hit.target, hit.reverse)
    }

    /// The consensus of database target `target` (an index into
    /// [`Database::targets`]) on one strand, as aligned.
    #[must_use]
    pub fn consensus_of(&self, target: usize, reverse: bool) -> &str {
        &self.consensus_strs[target * self.strands() + usize::from(reverse)]
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

    /// Scores of one query column against every database column, into
    /// `out` (the first m values; the rest of its `m4` is padding). For the
    /// distances without [`Distance::bounds`], also their minimum and maximum
    /// (NaN if any score is NaN); the bounded ones cannot be NaN.
    #[inline(always)]
    fn score_row(&self, q: &Col, nq: f64, out: &mut [f64]) -> Option<(f64, f64)> {
        // by_letter is padded to a multiple of 4 with copies of the last
        // column, which leave the range unchanged
        match self.cfg.dist {
            Distance::Pearson | Distance::Ed | Distance::Sandelin => {
                with_fixed_score!(self, q, out.len(), |f| {
                    for (j, o) in out.iter_mut().enumerate() {
                        *o = f(j);
                    }
                });
            }
            d => {
                let ctx = |nt| Ctx { bg: self.bg, nq, nt };
                for ((o, t), &nt) in out.iter_mut().zip(&self.cols).zip(&self.col_sites) {
                    *o = column_score(d, q, t, &ctx(nt));
                }
                let m = self.cols.len();
                if out[..m].iter().any(|v| v.is_nan()) {
                    return Some((f64::NAN, f64::NAN));
                }
                return Some(minmax(&out[..m]));
            }
        }
        None
    }
}

/// Prefix sums of the quantised scores along the diagonals of the w × m
/// score matrix: an alignment's raw score is a difference of two.
///
/// Diagonal `dd` (0-based, = target column − query column + w − 1) holds
/// `Q[dd][i] = Σ_{k<i} G[k][dd − (w − 1) + k]` for i in 0..=w, in blocks of
/// 16 diagonals (`[block][i][lane]`, one 16-wide add per query row). The
/// blocks are built into a ring as the entries (in column order) first need
/// them, so the prefix sums stay in cache between being written and read.
struct DiagRing<'a> {
    g: &'a [u8],
    stride: usize,
    w: usize,
    /// One block: (w + 1) rows of 16 lanes.
    block: usize,
    /// Ring size − 1 (a power of two, in blocks).
    mask: usize,
    /// Blocks built so far.
    built: usize,
    q: Vec<u16>,
}

impl<'a> DiagRing<'a> {
    /// `g`: w rows of `stride` bytes, each with w − 1 zero columns before
    /// the m scores and at least 16 + w − 1 zero columns after; `lmax`: the
    /// widest target. An entry
    /// reads diagonals from at most `w + lmax − 1` consecutive ones, which
    /// the ring holds while later blocks are added.
    fn new(w: usize, lmax: usize, g: &'a [u8], stride: usize, mut q: Vec<u16>) -> Self {
        let blocks = ((w + lmax).div_ceil(16) + 2).next_power_of_two();
        let block = (w + 1) * 16;
        q.clear();
        q.resize(blocks * block, 0);
        Self { g, stride, w, block, mask: blocks - 1, built: 0, q }
    }

    /// Builds every block up to the one holding diagonal `dd`.
    #[inline(always)]
    fn ensure(&mut self, dd: usize) {
        while self.built <= dd >> 4 {
            let b = self.built;
            let out = &mut self.q[(b & self.mask) * self.block..][..self.block];
            let mut acc = [0u16; 16];
            // row 0 stays 0 (never written)
            for i in 0..self.w {
                // row i, padded column of diagonal 16b + k: 16b + k + i
                let src = &self.g[i * self.stride + 16 * b + i..][..16];
                for k in 0..16 {
                    acc[k] += u16::from(src[k]);
                }
                out[(i + 1) * 16..][..16].copy_from_slice(&acc);
            }
            self.built += 1;
        }
    }

    /// Index of row 0 of diagonal `dd` (rows are 16 apart).
    #[inline(always)]
    fn base(&self, dd: usize) -> usize {
        ((dd >> 4) & self.mask) * self.block + (dd & 15)
    }

    /// Σ G[i][dd − (w − 1) + i] over i in `a..b` (diagonal `dd` built).
    #[inline(always)]
    fn sum(&self, dd: usize, a: usize, b: usize) -> u16 {
        let base = self.base(dd);
        self.q[base + b * 16] - self.q[base + a * 16]
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

/// 2^23 + 2^22: adding it to a float in [0, 2^22) leaves the value rounded
/// to an integer in the low mantissa bits.
const MAGIC32: f32 = 12_582_912.0;

/// MEME's `nint` (round half away from zero) for x in [0, BINS + 0.5],
/// branch-free so the quantisation loop vectorises: floor(x + 0.5) in
/// double precision (one rounding instruction), then the integer, exact
/// in single precision, read from the low bits after the magic-constant
/// addition (narrowing 32-bit lanes to bytes is cheaper than 64-bit ones).
#[inline]
fn nint_small(x: f64) -> u8 {
    let f = (x + 0.5).floor().min(BINS as f64);
    ((f as f32 + MAGIC32).to_bits() & 0xFF) as u8
}

/// Finds (sorted[k1] + sorted[k2]) / 2 without sorting the row: counts
/// values into buckets over [min, max] (a monotone map, so ranks carry
/// over), then sorts only the values in the bucket(s) holding ranks k1 and
/// k2.
#[derive(Default)]
struct Selector {
    cnt: Vec<u32>,
    scratch: Vec<f64>,
    keys: Vec<u16>,
}

impl Selector {
    const NB: usize = 4096;
    /// Minimum, maximum and (sorted[k1] + sorted[k2]) / 2 of a row whose
    /// values all lie in `range` (lo < hi): counts into buckets over the
    /// range (round-to-nearest via the magic constant, monotone in v, so
    /// ranks carry over; no min/max pass needed first), then looks only at
    /// the values in the lowest and highest non-empty buckets and in the
    /// median's bucket(s).
    #[inline(always)]
    fn row_stats(
        &mut self,
        n: usize,
        score: impl Fn(usize) -> f64,
        range: (f64, f64),
        k1: usize,
        k2: usize,
    ) -> (f64, f64, f64) {
        const NB: usize = Selector::NB;
        let (lo, hi) = range;
        let inv = (NB - 1) as f64 / (hi - lo);
        // in single precision after the (monotone) conversion: ranks carry
        // over, and 32-bit lanes narrow to u16 cheaply; the bounds' margin
        // keeps the top key below NB − 1/2 despite the coarser rounding
        let (lo32, inv32, top) = (lo as f32, inv as f32, (NB - 1) as f32);
        let key = |v: f64| {
            let x = ((v as f32 - lo32) * inv32).min(top);
            ((x + MAGIC32).to_bits() as usize) & (NB - 1)
        };
        self.cnt.resize(4 * NB, 0);
        let (c0, rest) = self.cnt.split_at_mut(NB);
        let (c1, rest) = rest.split_at_mut(NB);
        let (c2, c3) = rest.split_at_mut(NB);
        // keys computed once (vectorised) and kept for the collecting pass
        let keys = &mut self.keys;
        keys.resize(n, 0);
        for (j, k) in keys[..n].iter_mut().enumerate() {
            *k = key(score(j)) as u16;
        }
        let mut ch = keys.chunks_exact(4);
        for c in &mut ch {
            c0[usize::from(c[0])] += 1;
            c1[usize::from(c[1])] += 1;
            c2[usize::from(c[2])] += 1;
            c3[usize::from(c[3])] += 1;
        }
        for &k in ch.remainder() {
            c0[usize::from(k)] += 1;
        }
        // merge into c0 (vectorised), leaving c1..c3 zero for the next call
        for b in 0..NB {
            c0[b] += c1[b] + c2[b] + c3[b];
        }
        c1.fill(0);
        c2.fill(0);
        c3.fill(0);
        let bmin = c0.iter().position(|&n| n > 0).expect("a non-empty row");
        let bmax = c0.iter().rposition(|&n| n > 0).expect("a non-empty row");
        // skip whole chunks of buckets below rank k1 (sums vectorise)
        let (mut below, mut from) = (0usize, 0usize);
        for (ci, chunk) in c0.chunks_exact(64).enumerate() {
            let n = chunk.iter().sum::<u32>() as usize;
            if below + n > k1 {
                from = ci * 64;
                break;
            }
            below += n;
        }
        let (mut b1, mut b2, mut below1) = (usize::MAX, usize::MAX, 0usize);
        for (b, &n) in c0.iter().enumerate().skip(from) {
            let n = n as usize;
            if b1 == usize::MAX && below + n > k1 {
                (b1, below1) = (b, below);
            }
            if below + n > k2 {
                b2 = b;
                break;
            }
            below += n;
        }
        c0.fill(0);
        debug_assert!(bmin <= b1 && b1 <= b2 && b2 <= bmax, "ranks within the row");
        self.scratch.clear();
        let (mut mn, mut mx) = (f64::INFINITY, f64::NEG_INFINITY);
        let [b1, b2, bmin, bmax] = [b1, b2, bmin, bmax].map(|b| b as u16);
        // test 16 keys at a time (vectorised), look closer only at chunks that hit
        for (ci, kc) in self.keys.chunks(16).enumerate() {
            let hit = kc
                .iter()
                .fold(false, |a, &k| a || (k == b1) || (k == b2) || (k == bmin) || (k == bmax));
            if hit {
                for (j, &k) in kc.iter().enumerate() {
                    let v = score(16 * ci + j);
                    if k == b1 || k == b2 {
                        self.scratch.push(v);
                    }
                    if k == bmin && v < mn {
                        mn = v;
                    }
                    if k == bmax && v > mx {
                        mx = v;
                    }
                }
            }
        }
        let r1 = k1 - below1;
        let (_, a, rest) = self.scratch.select_nth_unstable_by(r1, f64::total_cmp);
        let a = *a;
        let b = if k2 == k1 { a } else { rest.iter().copied().fold(f64::INFINITY, f64::min) };
        (mn, mx, f64::midpoint(a, b))
    }

    /// (sorted[k1] + sorted[k2]) / 2 of a row with known minimum and maximum.
    #[inline(always)]
    fn low_median(&mut self, row: &[f64], mn: f64, mx: f64, k1: usize, k2: usize) -> f64 {
        if mn == mx { mn } else { self.row_stats(row.len(), |j| row[j], (mn, mx), k1, k2).2 }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// P(max over all configurations and strands ≥ `best`) for complete
    /// scoring: the configurations' null scores are independent, so the
    /// maximum's survival is 1 − Π(1 − `S_c)^strands`, evaluated through
    /// log1p/expm1 when it is small so tiny p-values keep their digits.
    fn complete_pvalue_log(
        blocks: &Blocks,
        w: usize,
        l: usize,
        best: i64,
        kk: i64,
        norient: usize,
    ) -> f64 {
        // the aligned query block of every configuration, as in `config`:
        // c ≤ w: the last min(c, l) columns from w − c; c > w: the first
        // min(w, l + w − c)
        let block_sf = |c: usize| {
            let (qs, ov) = if c <= w { (w - c, c.min(l)) } else { (0, w.min(l + w - c)) };
            blocks.sf(qs, qs + ov - 1, best - ov as i64 * kk)
        };
        let nconf = w + l - 1;
        let mut prod = 1.0f64;
        for c in 1..=nconf {
            prod *= 1.0 - block_sf(c);
        }
        let prod = prod.powi(norient as i32);
        if prod < 0.9 {
            return 1.0 - prod;
        }
        let mut sum = 0.0f64;
        for c in 1..=nconf {
            sum += (-block_sf(c)).ln_1p();
        }
        -(sum * norient as f64).exp_m1()
    }

    /// The union form of the complete p-value against the product/log form
    /// it replaced, over random block distributions, every target width,
    /// score and strand count (p from ~1 down to ~1e-60).
    #[test]
    fn union_pvalue_matches_product_form() {
        let mut rng = crate::MemeRng::new();
        for w in [1usize, 3, 7, 12] {
            let hists: Vec<Vec<(usize, f64)>> = (0..w)
                .map(|_| {
                    let lo = (rng.ldrand() * 10.0) as usize;
                    let n = 2 + (rng.ldrand() * 40.0) as usize;
                    let raw: Vec<f64> = (0..n).map(|_| rng.ldrand() + 0.01).collect();
                    let tot: f64 = raw.iter().sum();
                    raw.iter().enumerate().map(|(i, p)| (lo + i, p / tot)).collect()
                })
                .collect();
            let blocks = Blocks::build(w, &hists, &mut Scratch::default());
            for kk in [0i64, -3, -17] {
                for l in [1usize, 2, w, w + 5] {
                    let nulls: Vec<Null> = (1..w + l)
                        .map(|c| {
                            let (qs, _, ov) = config(c, w, l);
                            let (off, base, len) = blocks.index[qs * w + qs + ov - 1];
                            Null { off, shift: base + ov as i64 * kk, len: len as i64 }
                        })
                        .collect();
                    let hi = hists.iter().map(|h| h[h.len() - 1].0).sum::<usize>() as i64;
                    for best in (-60..=hi + 5).step_by(3) {
                        for norient in [1usize, 2] {
                            let want = complete_pvalue_log(&blocks, w, l, best, kk, norient);
                            let got = union_pvalue(&blocks.data, &nulls, best, norient);
                            let tol = 1e-13 * want.max(f64::MIN_POSITIVE);
                            assert!(
                                (got - want).abs() <= tol,
                                "w={w} l={l} kk={kk} best={best}: {got:e} vs {want:e}"
                            );
                        }
                    }
                }
            }
        }
    }

    /// The ring of diagonal blocks gives every diagonal's partial sums,
    /// against summing the padded rows directly, in entry-like order.
    #[test]
    fn diagonal_ring_equals_direct_sums() {
        let mut rng = crate::MemeRng::new();
        for (w, m, lmax) in [(1usize, 5usize, 3usize), (4, 40, 6), (13, 300, 25), (20, 90, 90)] {
            let stride = m + 2 * w + 32;
            let mut g = vec![0u8; w * stride];
            for i in 0..w {
                for j in 0..m {
                    g[i * stride + w - 1 + j] = (rng.ldrand() * 101.0) as u8;
                }
            }
            // row i of diagonal dd is padded column dd + i
            let direct = |dd: usize, a: usize, b: usize| -> u16 {
                (a..b).map(|i| u16::from(g[i * stride + dd + i])).sum()
            };
            let mut ring = DiagRing::new(w, lmax, &g, stride, Vec::new());
            // entries of widths up to lmax, in column order
            let mut col0 = 0;
            while col0 < m {
                let l = (1 + (col0 * 7) % lmax).min(m - col0);
                let last = col0 + w + l - 2;
                ring.ensure(last);
                for dd in col0..=last {
                    for a in 0..=w {
                        for b in a..=w {
                            assert_eq!(
                                ring.sum(dd, a, b),
                                direct(dd, a, b),
                                "w={w} dd={dd} {a}..{b}"
                            );
                        }
                    }
                }
                col0 += l;
            }
        }
    }

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
        let b = Blocks::build(3, &hists, &mut Scratch::default());
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
        let mut x: Vec<f64> =
            (0..1001).map(|i| f64::from((i * 7919) % 1009) / 3.0 - 50.0).collect();
        x.extend([0.5; 40]);
        let mut sel = Selector::default();
        for m in [1usize, 2, 3, 10, 1040, 1041] {
            let row = &x[..m];
            let mut s = row.to_vec();
            s.sort_by(f64::total_cmp);
            let k1 = (m / 2).saturating_sub(1);
            let k2 = m.div_ceil(2).saturating_sub(1).max(k1);
            let (mn, mx) = minmax(row);
            assert_eq!(sel.low_median(row, mn, mx, k1, k2), f64::midpoint(s[k1], s[k2]), "m={m}");
        }
    }

    #[test]
    fn fixed_range_stats_match_sorting() {
        let mut x: Vec<f64> =
            (0..5001).map(|i| f64::from((i * 7919) % 1009) / 1009.0 * 1.6 - 0.7).collect();
        x.extend([0.25; 40]);
        x.push(-0.99);
        let mut sel = Selector::default();
        for m in [1usize, 2, 3, 10, 1040, 5041, 5042] {
            let row = &x[..m];
            let mut s = row.to_vec();
            s.sort_by(f64::total_cmp);
            let k1 = (m / 2).saturating_sub(1);
            let k2 = m.div_ceil(2).saturating_sub(1).max(k1);
            let (mn, mx, med) =
                sel.row_stats(m, |j| row[j], Distance::Pearson.bounds().unwrap(), k1, k2);
            assert_eq!((mn, mx), (s[0], s[m - 1]), "m={m}");
            assert_eq!(med, f64::midpoint(s[k1], s[k2]), "m={m}");
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
            let x = f64::from(k) * 0.001_013;
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
