//! Splitting and merging patterns as modisco-lite does after clustering:
//! subclusters of a pattern's seqlets (all-pairs continuous Jaccard,
//! t-SNE conditional probabilities at perplexity 50, Leiden), and the
//! collapse of similar patterns (aligned CWM cosine, and how well the
//! seqlets of one tell themselves from the other's: the cross-contamination
//! AUROC), merged by single linkage unless a dealbreaker pair forbids it.

use crate::affinity::representation;
use crate::density::Csr;
use crate::numpy::RandomState;
use crate::pattern::{
    Metric, Pattern, Polish, Site, Track, Tracks, align_patterns, merge_in, polish,
};
use motif_core::plugin::GraphClusterer;
use rayon::prelude::*;

/// Each seqlet's forward representation `[l1(hyp) | l1(contrib)]`,
/// flattened (`len·8` values, position-major).
#[must_use]
pub fn flat_representations(sites: &[Site], tracks: &Tracks) -> Vec<Vec<f32>> {
    sites
        .par_iter()
        .map(|s| {
            let (f, _) = representation(
                tracks.rows(s, Track::Hypothetical).view(),
                tracks.rows(s, Track::Contrib).view(),
            );
            f.iter().copied().collect()
        })
        .collect()
}

/// Continuous Jaccard of row `x` against rows `j0..j0 + out.len()` of
/// `ys` (given feature-major as `signs`, `mags`, `n` rows apart), written
/// into `out`: per pair, two float64 running sums over the features in
/// order, the inner loop over `ys` so it vectorises.
fn cj_row(
    x: &[f32],
    (signs, mags): (&[f32], &[f32]),
    (n, j0): (usize, usize),
    out: &mut [f64],
    den: &mut [f64],
) {
    avx2_or!(
        cj_row_avx2(x, (signs, mags), (n, j0), out, den),
        cj_row_with(x, (signs, mags), (n, j0), out, den)
    );
}

/// [`cj_row_with`] compiled for AVX2 (no FMA: bit-identical).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn cj_row_avx2(
    x: &[f32],
    (signs, mags): (&[f32], &[f32]),
    (n, j0): (usize, usize),
    out: &mut [f64],
    den: &mut [f64],
) {
    cj_row_with(x, (signs, mags), (n, j0), out, den);
}

#[inline(always)]
fn cj_row_with(
    x: &[f32],
    (signs, mags): (&[f32], &[f32]),
    (n, j0): (usize, usize),
    out: &mut [f64],
    den: &mut [f64],
) {
    let w = out.len();
    let den = &mut den[..w];
    out.fill(0.0);
    den.fill(0.0);
    for (l, &xi) in x.iter().enumerate() {
        let si = if xi > 0.0 {
            1.0
        } else if xi < 0.0 {
            -1.0
        } else {
            0.0
        };
        let ai = xi.abs();
        let at = l * n + j0..l * n + j0 + w;
        let (sl, ml) = (&signs[at.clone()], &mags[at]);
        if ai == 0.0 {
            // min(0, |y|)·sign adds 0 (nothing); max(0, |y|) is |y|.
            for (d, &xj) in den.iter_mut().zip(ml) {
                *d += f64::from(xj);
            }
            continue;
        }
        for (((o, d), &xj), &sj) in out.iter_mut().zip(den.iter_mut()).zip(ml).zip(sl) {
            let (lo, hi) = if ai > xj { (xj, ai) } else { (ai, xj) };
            *o += f64::from(lo * (si * sj));
            *d += f64::from(hi);
        }
    }
    for (o, d) in out.iter_mut().zip(den.iter()) {
        *o /= *d;
    }
}

/// Signs and magnitudes of `ys` laid out feature-major.
fn columns(ys: &[Vec<f32>]) -> (Vec<f32>, Vec<f32>) {
    let n = ys.len();
    let m = ys.first().map_or(0, Vec::len);
    let (mut signs, mut mags) = (vec![0f32; m * n], vec![0f32; m * n]);
    for (j, y) in ys.iter().enumerate() {
        for (l, &v) in y.iter().enumerate() {
            signs[l * n + j] = if v > 0.0 {
                1.0
            } else if v < 0.0 {
                -1.0
            } else {
                0.0
            };
            mags[l * n + j] = v.abs();
        }
    }
    (signs, mags)
}

/// All continuous Jaccard scores of `xs` against `ys` (row-major
/// `|xs|·|ys|`), rows in parallel.
#[must_use]
pub fn cj_all(xs: &[Vec<f32>], ys: &[Vec<f32>]) -> Vec<f64> {
    let n = ys.len();
    let (signs, mags) = columns(ys);
    let mut out = vec![0f64; xs.len() * n];
    if n == 0 {
        return out;
    }
    out.par_chunks_mut(n).zip(xs.par_iter()).for_each_init(
        || vec![0f64; n],
        |den, (row, x)| cj_row(x, (&signs, &mags), (n, 0), row, den),
    );
    out
}

/// Every continuous Jaccard score of `xs` against themselves (all `n²`,
/// in no order): each pair computed once, its score being the same both
/// ways bit for bit, and listed twice.
fn cj_self(xs: &[Vec<f32>]) -> Vec<f64> {
    let n = xs.len();
    let (signs, mags) = columns(xs);
    let rows: Vec<Vec<f64>> = (0..n)
        .into_par_iter()
        .map_init(
            || vec![0f64; n],
            |den, i| {
                let mut out = vec![0f64; n - i];
                cj_row(&xs[i], (&signs, &mags), (n, i), &mut out, den);
                out
            },
        )
        .collect();
    let mut all = Vec::with_capacity(n * n);
    for row in rows {
        all.push(row[0]);
        for &v in &row[1..] {
            all.push(v);
            all.push(v);
        }
    }
    all
}

/// scikit-learn's `_binary_search_perplexity` for one row of float32
/// distances (no self term): the conditional probabilities.
fn conditional_probabilities(d: &[f32], perplexity: f64) -> Vec<f64> {
    let mut p = vec![0f64; d.len()];
    let fill = |beta: f64, p: &mut [f64]| -> f64 {
        let mut sum = 0.0;
        for (pj, &dj) in p.iter_mut().zip(d) {
            *pj = (-f64::from(dj) * beta).exp();
            sum += *pj;
        }
        if sum == 0.0 {
            sum = 1e-8;
        }
        let mut sum_dp = 0.0;
        for (pj, &dj) in p.iter_mut().zip(d) {
            *pj /= sum;
            sum_dp += f64::from(dj) * *pj;
        }
        sum.ln() + beta * sum_dp
    };
    // `p` ends holding the probabilities of the last β evaluated.
    crate::density::bisect(perplexity.ln(), |beta| fill(beta, &mut p));
    p
}

/// The subcluster of each of a pattern's seqlets (`compute_subpatterns`):
/// the `3π + 2` most similar seqlets of each by continuous Jaccard, t-SNE
/// conditional probabilities at perplexity `π` over all but the first
/// (itself), symmetrised and normalised, then clustered (Leiden by
/// default). Labels by subcluster size.
///
/// # Errors
/// If the clustering plugin fails.
pub fn subclusters(
    p: &Pattern,
    perplexity: f64,
    clustering: &dyn GraphClusterer,
    tracks: &Tracks,
) -> motif_core::Result<Vec<usize>> {
    let n = p.seqlets.len();
    if n < 2 {
        return Ok(vec![0; n]);
    }
    let x = flat_representations(&p.seqlets, tracks);
    let keep = ((perplexity * 3.0 + 2.0) as usize).min(n);
    let k = (n - 1).min((3.0 * perplexity + 1.0) as usize);
    let best = most_similar(&x, keep);
    drop(x);
    let rows: Vec<Vec<(usize, f64)>> = best
        .into_par_iter()
        .map(|order| {
            let nb: Vec<usize> = order[1..=k].iter().map(|e| e.1).collect();
            let d: Vec<f32> = order[1..=k]
                .iter()
                .map(|&(s, _)| ((1.0 / (0.5 * s.max(1e-7))) - 1.0).ln().max(0.0) as f32)
                .collect();
            let mut prob = conditional_probabilities(&d, perplexity);
            let total = prob.iter().sum::<f64>().max(1e-8);
            for v in &mut prob {
                *v /= total;
            }
            nb.into_iter().zip(prob).collect()
        })
        .collect();
    let m = Csr::from_rows(rows);
    let t = m.transpose();
    let sym: Vec<Vec<(usize, f64)>> = (0..n)
        .map(|i| {
            let (a, b) = (m.row(i), t.row(i));
            a.0.iter().zip(a.1).chain(b.0.iter().zip(b.1)).map(|(&j, &v)| (j as usize, v)).collect()
        })
        .collect();
    let mut sym = Csr::from_rows(sym);
    let total: f64 = sym.data.iter().sum();
    if total > 0.0 {
        for v in &mut sym.data {
            *v /= total;
        }
    }
    clustering.cluster(sym.into())
}

/// Rows of representations compared in tiles of this many each way.
const TILE: usize = 64;

/// Each row's `keep` most similar rows by continuous Jaccard (itself
/// included), best first — value descending, NaN last, ties by index —
/// with their similarities. A pair's score is the same both ways (the same
/// terms added in the same order), so each is computed once: in tiles of
/// rows against the tiles after them, offered to both rows' lists.
fn most_similar(x: &[Vec<f32>], keep: usize) -> Vec<Vec<(f64, usize)>> {
    use std::sync::Mutex;
    let n = x.len();
    let (signs, mags) = columns(x);
    let tops: Vec<Mutex<Top>> = (0..n).map(|_| Mutex::new(Top::new(keep))).collect();
    let tiles: Vec<(usize, usize)> =
        (0..n).step_by(TILE).flat_map(|a| (a..n).step_by(TILE).map(move |b| (a, b))).collect();
    let lock = |i: usize| tops[i].lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    tiles.par_iter().for_each_init(
        || (vec![0f64; TILE], vec![0f64; TILE], Vec::new()),
        |(sim, den, col), &(a, b)| {
            let (a1, b1) = ((a + TILE).min(n), (b + TILE).min(n));
            let (h, w) = (a1 - a, b1 - b);
            col.clear();
            col.resize(w * h, 0.0);
            for i in a..a1 {
                cj_row(&x[i], (&signs, &mags), (n, b), &mut sim[..w], den);
                lock(i).offer(sim[..w].iter().enumerate().map(|(t, &v)| (v, b + t)));
                for t in 0..w {
                    col[t * h + (i - a)] = sim[t];
                }
            }
            if a != b {
                for t in 0..w {
                    let c = &col[t * h..(t + 1) * h];
                    lock(b + t).offer(c.iter().enumerate().map(|(r, &v)| (v, a + r)));
                }
            }
        },
    );
    tops.into_iter()
        .map(|m| m.into_inner().unwrap_or_else(std::sync::PoisonError::into_inner).finish())
        .collect()
}

/// Value descending, NaN last, then index.
fn before(a: &(f64, usize), b: &(f64, usize)) -> std::cmp::Ordering {
    match (a.0.is_nan(), b.0.is_nan()) {
        (false, false) => b.0.partial_cmp(&a.0).expect("numbers"),
        (an, bn) => an.cmp(&bn),
    }
    .then(a.1.cmp(&b.1))
}

/// A row's best `keep` so far ([`before`] order), and the worst kept once
/// full.
struct Top {
    keep: usize,
    buf: Vec<(f64, usize)>,
    worst: Option<(f64, usize)>,
}

impl Top {
    fn new(keep: usize) -> Self {
        Self { keep, buf: Vec::new(), worst: None }
    }

    fn offer(&mut self, items: impl Iterator<Item = (f64, usize)>) {
        for e in items {
            if self.worst.is_none_or(|w| before(&e, &w).is_lt()) {
                self.buf.push(e);
                if self.buf.len() >= 2 * self.keep.max(1) {
                    self.shrink();
                }
            }
        }
    }

    fn shrink(&mut self) {
        if self.keep > 0 && self.buf.len() > self.keep {
            self.buf.select_nth_unstable_by(self.keep - 1, before);
            self.buf.truncate(self.keep);
            self.worst = Some(self.buf[self.keep - 1]);
        }
    }

    fn finish(mut self) -> Vec<(f64, usize)> {
        self.shrink();
        self.buf.truncate(self.keep);
        self.buf.sort_by(before);
        self.buf
    }
}

/// The subpatterns of `membership`: one set per label, largest first (ties
/// in order of first appearance).
#[must_use]
pub fn subpatterns(p: &Pattern, membership: &[usize], tracks: &Tracks) -> Vec<Pattern> {
    let mut groups: Vec<(usize, Vec<Site>)> = Vec::new();
    for (s, &c) in p.seqlets.iter().zip(membership) {
        match groups.iter_mut().find(|g| g.0 == c) {
            Some(g) => g.1.push(*s),
            None => groups.push((c, vec![*s])),
        }
    }
    groups.sort_by_key(|g| std::cmp::Reverse(g.1.len()));
    groups.iter().map(|g| Pattern::new(&g.1, tracks)).collect()
}

/// Area under the ROC curve of telling `pos` from `neg` (ties count half),
/// both sorted ascending.
fn auroc(neg: &[f64], pos: &[f64]) -> f64 {
    if neg.is_empty() || pos.is_empty() {
        return f64::NAN;
    }
    let (mut below, mut k) = (0f64, 0usize);
    let mut total = 0f64;
    let mut e = 0usize;
    for &p in pos {
        while k < neg.len() && neg[k] < p {
            k += 1;
        }
        e = e.max(k);
        while e < neg.len() && neg[e] == p {
            e += 1;
        }
        below += k as f64 + 0.5 * (e - k) as f64;
        total += 1.0;
    }
    below / (total * neg.len() as f64)
}

/// Thresholds of the collapser.
#[derive(Debug, Clone, PartialEq)]
pub struct CollapseSettings {
    /// `(cross-contamination ≥, similarity ≥)` pairs any of which merges.
    pub merge: Vec<(f64, f64)>,
    /// `(cross-contamination ≤, similarity ≤)` pairs any of which forbids.
    pub dealbreak: Vec<(f64, f64)>,
    /// Seqlets scored per pattern (a seeded subsample above).
    pub max_subsample: usize,
    /// How merged patterns are polished.
    pub polish: Polish,
}

impl Default for CollapseSettings {
    fn default() -> Self {
        Self {
            merge: vec![(0.8, 0.8), (0.5, 0.85), (0.2, 0.9)],
            dealbreak: vec![(0.4, 0.75), (0.2, 0.8), (0.1, 0.85), (0.0, 0.9)],
            max_subsample: 1000,
            polish: Polish::default(),
        }
    }
}

/// A pattern's scored seqlets: all, or `RandomState(1234)`'s choice of
/// `max` without replacement.
fn subsample(p: &Pattern, max: usize) -> Vec<Site> {
    let n = p.seqlets.len();
    if n <= max {
        return p.seqlets.clone();
    }
    let mut r = RandomState::new(1234);
    let mut idx: Vec<usize> = (0..n).collect();
    for i in (1..n).rev() {
        let j = r.interval(i as u64) as usize;
        idx.swap(i, j);
    }
    idx[..max].iter().map(|&i| p.seqlets[i]).collect()
}

/// What the collapser caches of pattern `i`: its subsample's
/// representations and their sorted within-pattern scores.
struct Within {
    x: Vec<Vec<f32>>,
    sorted: Vec<f64>,
}

fn within(p: &Pattern, max: usize, tracks: &Tracks) -> Within {
    let x = flat_representations(&subsample(p, max), tracks);
    let mut sorted = cj_self(&x);
    sorted.sort_by(f64::total_cmp);
    Within { x, sorted }
}

/// `(aligned similarity, AUROC)` of child `j` against parent `i`.
fn pair_stats(pi: &Pattern, wi: &Within, pj: &Pattern, max: usize, tracks: &Tracks) -> (f64, f64) {
    let (o, rc, sim) = align_patterns(Metric::Magnitude, pi, pj);
    let len = tracks.len() as isize;
    let shifted: Vec<Site> = subsample(pj, max)
        .into_iter()
        .filter_map(|s| {
            let s = if rc { s.flipped() } else { s };
            let d = if s.revcomp { o } else { -o };
            let (a, b) = (s.start as isize + d, s.end as isize + d);
            (a >= 0 && b < len).then_some(Site { start: a as usize, end: b as usize, ..s })
        })
        .collect();
    if shifted.is_empty() || shifted[0].len() * 8 != wi.x.first().map_or(0, Vec::len) {
        return (if shifted.is_empty() { 0.0 } else { sim }, 0.5);
    }
    let y = flat_representations(&shifted, tracks);
    let mut between = cj_all(&wi.x, &y);
    between.sort_by(f64::total_cmp);
    (sim, auroc(&between, &wi.sorted))
}

/// `SimilarPatternsCollapser`: repeatedly merge the most similar pairs of
/// patterns whose cross-contamination and similarity pass a merge
/// threshold, unless some pair in the merged group meets a dealbreaker;
/// merged patterns are re-polished. Returns the patterns by seqlet count
/// (descending, stable).
#[must_use]
pub fn collapse(
    patterns: Vec<Pattern>,
    s: &CollapseSettings,
    bg: &[f64; 4],
    tracks: &Tracks,
) -> Vec<Pattern> {
    // Patterns live in `store`; `ids` are the current ones, in order.
    let mut store: Vec<Pattern> = patterns;
    let mut ids: Vec<usize> = (0..store.len()).collect();
    let mut cache: std::collections::HashMap<usize, Within> = std::collections::HashMap::new();
    // Pair values by pattern id.
    let mut known: std::collections::HashMap<(usize, usize), (f64, f64)> =
        std::collections::HashMap::new();
    for _ in 0..1000 {
        let n = ids.len();
        for &id in &ids {
            cache.entry(id).or_insert_with(|| within(&store[id], s.max_subsample, tracks));
        }
        let todo: Vec<(usize, usize)> = (0..n)
            .flat_map(|i| (0..n).map(move |j| (i, j)))
            .filter(|&(i, j)| i != j && !known.contains_key(&(ids[i], ids[j])))
            .collect();
        let values: Vec<(f64, f64)> = todo
            .par_iter()
            .map(|&(i, j)| {
                let (a, b) = (ids[i], ids[j]);
                pair_stats(&store[a], &cache[&a], &store[b], s.max_subsample, tracks)
            })
            .collect();
        for (&(i, j), v) in todo.iter().zip(values) {
            known.insert((ids[i], ids[j]), v);
        }
        let get = |i: usize, j: usize| {
            if i == j { (1.0, 0.5) } else { known[&(ids[i], ids[j])] }
        };
        let sim = |i: usize, j: usize| 0.5 * (get(i, j).0 + get(j, i).0);
        let cross = |i: usize, j: usize| 2.0 * (1.0 - get(i, j).1.max(0.5));
        let mut pairs: Vec<(usize, usize, f64)> = (0..n)
            .flat_map(|i| (i + 1..n).map(move |j| (i, j)))
            .map(|(i, j)| (i, j, sim(i, j)))
            .collect();
        pairs.sort_by(|a, b| b.2.total_cmp(&a.2));
        let mut partners: Vec<Vec<usize>> = (0..n).map(|i| vec![i]).collect();
        let mut accepted = Vec::new();
        for &(i, j, sij) in &pairs {
            let c = cross(i, j).min(cross(j, i));
            if !s.merge.iter().any(|&(c0, s0)| c >= c0 && sij >= s0) {
                continue;
            }
            let mut group: Vec<usize> = partners[i].iter().chain(&partners[j]).copied().collect();
            group.sort_unstable();
            group.dedup();
            let veto = group.iter().enumerate().any(|(a, &m1)| {
                group[a + 1..].iter().any(|&m2| {
                    let c = 0.5 * (cross(m1, m2) + cross(m2, m1));
                    let sm = sim(m1, m2);
                    s.dealbreak.iter().any(|&(c0, s0)| c <= c0 && sm <= s0)
                })
            });
            if !veto {
                accepted.push((i, j));
                for &m in &group {
                    partners[m].clone_from(&group);
                }
            }
        }
        if accepted.is_empty() {
            break;
        }
        let mut current = ids.clone();
        let mut changed = false;
        for &(i, j) in &accepted {
            let (a, b) = (current[i], current[j]);
            if a == b {
                continue;
            }
            let (parent, child) =
                if store[a].seqlets.len() < store[b].seqlets.len() { (b, a) } else { (a, b) };
            let merged = merge_in(&store[parent], &store[child].seqlets, Metric::Magnitude, tracks);
            if let Some(p) = polish(&merged, &s.polish, bg, tracks) {
                store.push(p);
                let new = store.len() - 1;
                for c in &mut current {
                    if *c == parent || *c == child {
                        *c = new;
                    }
                }
                changed = true;
            }
        }
        if !changed {
            break;
        }
        let mut order: Vec<usize> = Vec::new();
        let mut sorted = current;
        sorted.sort_by_key(|&id| std::cmp::Reverse(store[id].seqlets.len()));
        for id in sorted {
            if !order.contains(&id) {
                order.push(id);
            }
        }
        ids = order;
    }
    ids.into_iter().map(|id| store[id].clone()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The AUROC counts ties half and matches the definition on a small
    /// example; the perplexity search reaches its target entropy.
    #[test]
    fn auroc_and_perplexity() {
        assert_eq!(auroc(&[0.1, 0.2], &[0.3, 0.4]), 1.0);
        assert_eq!(auroc(&[0.3, 0.4], &[0.1, 0.2]), 0.0);
        assert_eq!(auroc(&[0.2], &[0.2]), 0.5);
        // pos 0.2 beats 0.1 and ties 0.2: 1.5; pos 0.3 beats both: 2.
        assert!((auroc(&[0.1, 0.2], &[0.2, 0.3]) - 3.5 / 4.0).abs() < 1e-15);
        let d: Vec<f32> = (0..30).map(|i| i as f32 * 0.1).collect();
        let p = conditional_probabilities(&d, 5.0);
        let h: f64 = -p.iter().filter(|&&v| v > 0.0).map(|v| v * v.ln()).sum::<f64>();
        assert!((h - 5f64.ln()).abs() < 1e-4, "{h}");
        assert!((p.iter().sum::<f64>() - 1.0).abs() < 1e-12);
    }

    /// The vectorised all-pairs score equals the aligned one at offset 0.
    #[test]
    fn all_pairs_equal_one_at_a_time() {
        let mut r = RandomState::new(3);
        let rows: Vec<Vec<f32>> =
            (0..5).map(|_| (0..16).map(|_| (r.random_sample() - 0.5) as f32).collect()).collect();
        let all = cj_all(&rows, &rows);
        for i in 0..5 {
            for j in 0..5 {
                let a = ndarray::Array2::from_shape_vec((2, 8), rows[i].clone()).unwrap();
                let b = ndarray::Array2::from_shape_vec((2, 8), rows[j].clone()).unwrap();
                let (score, o) = crate::affinity::align_cj(a.view(), b.view(), 0);
                assert_eq!(o, 0);
                assert!((f64::from(score) - all[i * 5 + j]).abs() < 1e-6);
            }
            assert!((all[i * 5 + i] - 1.0).abs() < 1e-12);
        }
    }
}
