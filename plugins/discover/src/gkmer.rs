//! The coarse embedding of seqlets (modisco-lite's `gapped_kmer`): each
//! seqlet's `topn` highest-contribution positions (re-sorted by position)
//! give gapped k-mers of `min_k..=max_k` of those positions spanning less
//! than `max_len` with gaps of at most `max_gap`; a k-mer's key encodes its
//! bases and spacing in base 5, its value is the mean contribution of its
//! positions summed over occurrences, and the `max_entries` keys of
//! largest |value| form a sparse vector.

use rayon::prelude::*;

/// Settings (modisco-lite's).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// Positions kept per seqlet (20).
    pub topn: usize,
    /// Shortest k-mer (4).
    pub min_k: usize,
    /// Longest k-mer (6).
    pub max_k: usize,
    /// Largest gap between consecutive positions (15).
    pub max_gap: usize,
    /// Span limit: last − first < `max_len` (15).
    pub max_len: usize,
    /// Entries kept per seqlet (500).
    pub max_entries: usize,
}

impl Default for Settings {
    fn default() -> Self {
        Self { topn: 20, min_k: 4, max_k: 6, max_gap: 15, max_len: 15, max_entries: 500 }
    }
}

/// One seqlet's positions as the k-mers read them: (position, base,
/// contribution), sorted by position.
pub type Sites = Vec<(usize, usize, f64)>;

/// The `topn` positions of largest `imp` (ties: the earlier position),
/// sorted by position, with their bases.
#[must_use]
pub fn top_sites(imp: &[f64], bases: &[usize], topn: usize) -> Sites {
    let mut order: Vec<usize> = (0..imp.len()).collect();
    order.sort_by(|&a, &b| imp[b].total_cmp(&imp[a]).then(a.cmp(&b)));
    order.truncate(topn);
    order.sort_unstable();
    order.into_iter().map(|p| (p, bases[p], imp[p])).collect()
}

/// Hashing of gapped-k-mer keys: one multiply (keys are already well
/// spread integers; no adversarial input to guard against).
#[derive(Default, Clone, Copy)]
struct KeyHasher(u64);

impl std::hash::Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(b)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }

    fn write_u64(&mut self, x: u64) {
        self.0 = (x ^ (x >> 29)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

type KeyHash = std::hash::BuildHasherDefault<KeyHasher>;

/// Reusable room for [`embed_with`]: the k-mer groups and the key index.
#[derive(Default)]
pub struct Scratch {
    groups: Vec<Vec<(usize, f64, u64)>>,
    next: Vec<Vec<(usize, f64, u64)>>,
    keys: Vec<u64>,
    sums: Vec<f64>,
    index: std::collections::HashMap<u64, usize, KeyHash>,
}

/// The sparse gapped-k-mer vector of one seqlet's `sites`: (key, value)
/// sorted by key, zeros dropped.
#[must_use]
pub fn embed(sites: &[(usize, usize, f64)], s: &Settings) -> Vec<(u64, f64)> {
    embed_with(sites, s, &mut Scratch::default())
}

/// [`embed`] in `scratch`'s room (one per thread saves the allocations).
#[must_use]
pub fn embed_with(
    sites: &[(usize, usize, f64)],
    s: &Settings,
    scratch: &mut Scratch,
) -> Vec<(u64, f64)> {
    let n = sites.len();
    let Scratch { groups, next, keys, sums, index } = scratch;
    // (k−1)-mers grouped by their first site: (last site, summed
    // contribution, key so far).
    groups.resize_with(n, Vec::new);
    next.resize_with(n, Vec::new);
    for (i, g) in groups.iter_mut().enumerate().take(n) {
        g.clear();
        g.push((i, sites[i].2, sites[i].1 as u64 + 1));
    }
    // Keys in first-insertion order with their sums.
    keys.clear();
    sums.clear();
    index.clear();
    for k in 2..=s.max_k {
        for g in next.iter_mut().take(n) {
            g.clear();
        }
        for j in 0..n {
            let start = sites[j].0;
            for i in j + 1..n {
                let (pos, base, attr) = sites[i];
                if pos - start >= s.max_len {
                    break;
                }
                let step = (base as u64 + 1) * 5u64.pow((pos - start) as u32);
                for &(last, sum, key) in &groups[j] {
                    let last_pos = sites[last].0;
                    if last_pos >= pos {
                        break;
                    }
                    if pos - last_pos > s.max_gap {
                        continue;
                    }
                    let (key, sum) = (key + step, sum + attr);
                    if k < s.max_k {
                        next[j].push((i, sum, key));
                    }
                    if k >= s.min_k {
                        let value = sum / k as f64;
                        match index.entry(key) {
                            std::collections::hash_map::Entry::Occupied(e) => {
                                sums[*e.get()] += value;
                            }
                            std::collections::hash_map::Entry::Vacant(e) => {
                                e.insert(keys.len());
                                keys.push(key);
                                sums.push(0.0 + value);
                            }
                        }
                    }
                }
            }
        }
        std::mem::swap(groups, next);
    }
    let (keys, sums) = (&*keys, &*sums);
    // The max_entries largest |sum| (NaN last, ties by insertion order).
    let mut ranks: Vec<usize> = (0..keys.len()).collect();
    let mag = |r: usize| if sums[r].is_nan() { -1.0 } else { sums[r].abs() };
    let before = |a: &usize, b: &usize| mag(*b).total_cmp(&mag(*a)).then(a.cmp(b));
    if s.max_entries > 0 && s.max_entries < ranks.len() {
        ranks.select_nth_unstable_by(s.max_entries - 1, before);
    }
    ranks.truncate(s.max_entries);
    ranks.sort_unstable_by(before);
    let mut out: Vec<(u64, f64)> =
        ranks.into_iter().map(|r| (keys[r], sums[r])).filter(|e| e.1 != 0.0).collect();
    out.sort_unstable_by_key(|e| e.0);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Four sites ACGT at 0..4 make one 4-mer: key 1 + 2·5 + 3·25 + 4·125,
    /// value the mean contribution; a site 15 away joins nothing.
    #[test]
    fn keys_encode_bases_and_spacing() {
        let s = Settings::default();
        let sites: Sites = (0..4).map(|p| (p, p, 1.0 + p as f64)).collect();
        assert_eq!(embed(&sites, &s), [(586, 2.5)]);
        let mut far = sites.clone();
        far.push((18, 0, 5.0));
        assert_eq!(embed(&far, &s), [(586, 2.5)]);
        // A gap: sites 0, 1, 3, 4 → key 1 + 2·5 + 4·125 + 1·625.
        let gapped: Sites = vec![(0, 0, 1.0), (1, 1, 1.0), (3, 3, 1.0), (4, 0, 1.0)];
        assert_eq!(embed(&gapped, &s), [(1136, 1.0)]);
        // The top sites by contribution, re-sorted by position.
        let imp = [0.1, 5.0, -1.0, 3.0, 4.0];
        assert_eq!(top_sites(&imp, &[0, 1, 2, 3, 0], 3), [(1, 1, 5.0), (3, 3, 3.0), (4, 0, 4.0)]);
    }
}

/// The gapped-k-mer vector (not normalised) of a seqlet's one-hot `x` and
/// hypothetical `h` rows (`(len, 4)`), read forward or reverse-complemented
/// (`rc`): importance `Σ_b h·x·sign` per position, its `topn` sites, their
/// k-mers.
#[must_use]
pub fn seqlet_vector(
    x: ndarray::ArrayView2<'_, f32>,
    h: ndarray::ArrayView2<'_, f32>,
    rc: bool,
    sign: f32,
    s: &Settings,
    scratch: &mut Scratch,
) -> Vec<(u64, f64)> {
    let len = x.nrows();
    let at = |l: usize, b: usize| if rc { (len - 1 - l, 3 - b) } else { (l, b) };
    let imp: Vec<f64> = (0..len)
        .map(|l| f64::from((0..4).map(|b| h[at(l, b)] * x[at(l, b)] * sign).sum::<f32>()))
        .collect();
    let bases: Vec<usize> = (0..len)
        .map(|l| (0..4).fold(0, |m, b| if x[at(l, b)] > x[at(l, m)] { b } else { m }))
        .collect();
    embed_with(&top_sites(&imp, &bases, s.topn), s, scratch)
}

/// `v / ‖v‖₂` (squares summed in key order, as scikit-learn's `normalize`);
/// a zero vector stays zero.
#[must_use]
pub fn l2_normalized(v: &[(u64, f64)]) -> Vec<(u64, f64)> {
    let mut sum = 0.0;
    for &(_, x) in v {
        sum += x * x;
    }
    let norm = sum.sqrt();
    if norm == 0.0 {
        return v.to_vec();
    }
    v.iter().map(|&(k, x)| (k, x / norm)).collect()
}

/// Sparse vectors of at most `stride` entries each, held in one block
/// (one allocation, handed back whole when dropped).
#[derive(Debug, Clone, Default)]
pub struct SparseRows {
    stride: usize,
    len: Vec<usize>,
    entries: Vec<(u64, f64)>,
}

impl SparseRows {
    /// `n` rows of at most `stride` entries, row `i` from `row(i)`, formed
    /// in parallel.
    ///
    /// # Panics
    /// If a row is longer than `stride`.
    pub fn build(n: usize, stride: usize, row: &(dyn Fn(usize) -> Vec<(u64, f64)> + Sync)) -> Self {
        let mut entries = vec![(0u64, 0f64); n * stride];
        let mut len = vec![0usize; n];
        if stride > 0 {
            entries.par_chunks_mut(stride).zip(len.par_iter_mut()).enumerate().for_each(
                |(i, (slot, l))| {
                    let r = row(i);
                    assert!(
                        r.len() <= stride,
                        "row {i} has {} entries (at most {stride})",
                        r.len()
                    );
                    slot[..r.len()].copy_from_slice(&r);
                    *l = r.len();
                },
            );
        }
        Self { stride, len, entries }
    }

    /// Rows.
    #[must_use]
    pub fn n(&self) -> usize {
        self.len.len()
    }

    /// Row `i`.
    #[must_use]
    pub fn row(&self, i: usize) -> &[(u64, f64)] {
        &self.entries[i * self.stride..i * self.stride + self.len[i]]
    }
}

/// The `k` nearest seqlets of each by `max(f_i·f_j, f_i·r_j)` over the
/// L2-normalised forward vectors `f` and reverse-complement vectors `r`
/// (itself included): neighbours best first (value descending, ties by
/// index) and their similarities. Each dot product adds its shared keys'
/// products in ascending key order from 0, as modisco-lite's posting-list
/// kernel does; only pairs sharing a key cost anything.
#[must_use]
pub fn knn(
    fwd: &[Vec<(u64, f64)>],
    rev: &[Vec<(u64, f64)>],
    k: usize,
) -> (Vec<Vec<usize>>, Vec<Vec<f64>>) {
    let stride = fwd.iter().map(Vec::len).max().unwrap_or(0);
    let rows = SparseRows::build(fwd.len(), stride, &|i| fwd[i].clone());
    knn_with(&rows, &|j| rev[j].clone(), k)
}

/// Reverse vectors formed per chunk while the posting lists are filled.
const REV_CHUNK: usize = 1024;

/// The sorted distinct keys of `rows`.
fn distinct_keys(rows: &SparseRows) -> Vec<u64> {
    let ids: Vec<usize> = (0..rows.n()).collect();
    ids.par_chunks(256)
        .map(|c| {
            let mut v: Vec<u64> = c.iter().flat_map(|&i| rows.row(i).iter().map(|e| e.0)).collect();
            v.sort_unstable();
            v.dedup();
            v
        })
        .reduce(Vec::new, |a, b| {
            let mut out = Vec::with_capacity(a.len() + b.len());
            let (mut i, mut j) = (0, 0);
            while i < a.len() && j < b.len() {
                match a[i].cmp(&b[j]) {
                    std::cmp::Ordering::Less => {
                        out.push(a[i]);
                        i += 1;
                    }
                    std::cmp::Ordering::Greater => {
                        out.push(b[j]);
                        j += 1;
                    }
                    std::cmp::Ordering::Equal => {
                        out.push(a[i]);
                        i += 1;
                        j += 1;
                    }
                }
            }
            out.extend_from_slice(&a[i..]);
            out.extend_from_slice(&b[j..]);
            out
        })
}

/// [`knn`] with the reverse vectors formed on demand by `rev` (each is
/// asked for twice, never all held at once).
#[must_use]
pub fn knn_with(
    fwd: &SparseRows,
    rev: &(dyn Fn(usize) -> Vec<(u64, f64)> + Sync),
    k: usize,
) -> (Vec<Vec<usize>>, Vec<Vec<f64>>) {
    let n = fwd.n();
    let k = k.min(n);
    // Posting lists, flat, of the keys a forward vector shares with some
    // other entry (most gapped k-mers occur once): the keys sorted, and
    // per key its forward entries then its reverse ones (rows offset by
    // n), rows as u32. A key only its own row holds adds to that row's
    // self-similarity alone, which is added directly, in the same key
    // order.
    let keys = distinct_keys(fwd);
    let count_in = |count: &mut Vec<u32>, row: &[(u64, f64)]| {
        for &(key, _) in row {
            if let Ok(k) = keys.binary_search(&key) {
                count[k] += 1;
            }
        }
    };
    let mut count = vec![0u32; keys.len()];
    for i in 0..n {
        count_in(&mut count, fwd.row(i));
    }
    let rev_count = (0..n)
        .into_par_iter()
        .fold(
            || vec![0u32; keys.len()],
            |mut c, j| {
                count_in(&mut c, &rev(j));
                c
            },
        )
        .reduce(
            || vec![0u32; keys.len()],
            |mut a, b| {
                for (x, y) in a.iter_mut().zip(b) {
                    *x += y;
                }
                a
            },
        );
    for (c, r) in count.iter_mut().zip(rev_count) {
        *c += r;
    }
    let shared: Vec<u64> = keys.iter().zip(&count).filter(|e| *e.1 > 1).map(|e| *e.0).collect();
    let mut start: Vec<usize> = Vec::with_capacity(shared.len() + 1);
    start.push(0);
    for &c in count.iter().filter(|&&c| c > 1) {
        start.push(start[start.len() - 1] + c as usize);
    }
    drop((keys, count));
    let index = |key: u64| shared.binary_search(&key).ok();
    let mut fill = start.clone();
    let mut rows = vec![0u32; start[shared.len()]];
    let mut vals = vec![0f64; start[shared.len()]];
    let mut put = |j: usize, row: &[(u64, f64)]| {
        for &(key, v) in row {
            if let Some(k) = index(key) {
                rows[fill[k]] = j as u32;
                vals[fill[k]] = v;
                fill[k] += 1;
            }
        }
    };
    for j in 0..n {
        put(j, fwd.row(j));
    }
    for first in (0..n).step_by(REV_CHUNK) {
        let chunk: Vec<Vec<(u64, f64)>> =
            (first..(first + REV_CHUNK).min(n)).into_par_iter().map(rev).collect();
        for (e, row) in chunk.iter().enumerate() {
            put(n + first + e, row);
        }
    }
    drop(fill);
    let postings = Postings { start: &start, rows: &rows, vals: &vals };
    // Query rows that hold the same popular k-mers go in one block (the
    // order of the rows changes no row's sums): by their three most widely
    // shared k-mers.
    let mut order: Vec<usize> = (0..n).collect();
    order.par_sort_by_cached_key(|&i| {
        let mut top = [(0usize, u32::MAX); 3];
        for &(key, _) in fwd.row(i) {
            if let Some(k) = index(key) {
                let e = (start[k + 1] - start[k], k as u32);
                if e.0 > top[2].0 || (e.0 == top[2].0 && e.1 < top[2].1) {
                    top[2] = e;
                    top.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
                }
            }
        }
        top.map(|e| e.1)
    });
    let blocks: Vec<Vec<(Vec<usize>, Vec<f64>)>> = order
        .par_chunks(BLOCK)
        .map_init(
            || (vec![[0f64; BLOCK]; 2 * n], Vec::new(), Vec::with_capacity(n)),
            |(acc, merged, buf), ids| {
                block_dots(fwd, ids, &index, &postings, acc, merged);
                (0..ids.len()).map(|c| top_k(acc, c, n, k, buf)).collect()
            },
        )
        .collect();
    let mut out: Vec<(Vec<usize>, Vec<f64>)> = vec![(Vec::new(), Vec::new()); n];
    for (&i, row) in order.iter().zip(blocks.into_iter().flatten()) {
        out[i] = row;
    }
    out.into_iter().unzip()
}

/// Rows of the query block at a time (their accumulators side by side).
const BLOCK: usize = 8;

/// Flat posting lists: entries `start[k]..start[k + 1]` of key `k`.
struct Postings<'a> {
    start: &'a [usize],
    rows: &'a [u32],
    vals: &'a [f64],
}

/// The dot products of the forward vectors `ids` (a block) with every
/// forward and reverse vector: `acc[j][c]` for block row `c`. Each row's
/// products are added in ascending key order, as one row at a time adds
/// them; a key several block rows hold is added for all of them in one
/// pass over its posting list (rows without it add `0·v`, which changes
/// nothing).
fn block_dots(
    fwd: &SparseRows,
    ids: &[usize],
    index: &dyn Fn(u64) -> Option<usize>,
    p: &Postings<'_>,
    acc: &mut [[f64; BLOCK]],
    merged: &mut Vec<(u64, usize, f64)>,
) {
    acc.fill([0.0; BLOCK]);
    merged.clear();
    for (c, &i) in ids.iter().enumerate() {
        merged.extend(fwd.row(i).iter().map(|&(key, x)| (key, c, x)));
    }
    merged.sort_unstable_by_key(|e| (e.0, e.1));
    let mut e = 0;
    while e < merged.len() {
        let key = merged[e].0;
        let mut end = e + 1;
        while end < merged.len() && merged[end].0 == key {
            end += 1;
        }
        let group = &merged[e..end];
        match index(key) {
            Some(k) => {
                let (rows, vals) =
                    (&p.rows[p.start[k]..p.start[k + 1]], &p.vals[p.start[k]..p.start[k + 1]]);
                if group.len() > 1 {
                    let mut x = [0f64; BLOCK];
                    for &(_, c, v) in group {
                        x[c] = v;
                    }
                    for (&j, &v) in rows.iter().zip(vals) {
                        let a = &mut acc[j as usize];
                        for c in 0..BLOCK {
                            a[c] += x[c] * v;
                        }
                    }
                } else {
                    let (_, c, x) = group[0];
                    for (&j, &v) in rows.iter().zip(vals) {
                        acc[j as usize][c] += x * v;
                    }
                }
            }
            None => {
                for &(_, c, x) in group {
                    acc[ids[c]][c] += x * x;
                }
            }
        }
        e = end;
    }
}

/// Block row `c`'s `k` nearest: value descending, NaN last, ties by index
/// (a stable argsort of −sim), as integer keys (the order-preserving bits
/// of −sim, then the index); and their similarities.
fn top_k(
    acc: &[[f64; BLOCK]],
    c: usize,
    n: usize,
    k: usize,
    order: &mut Vec<(u64, u32)>,
) -> (Vec<usize>, Vec<f64>) {
    let sim = |j: usize| {
        let (f, r) = (acc[j][c], acc[n + j][c]);
        if r > f { r } else { f }
    };
    order.clear();
    order.extend((0..n).map(|j| (descending_key(sim(j)), j as u32)));
    if k > 0 && k < n {
        order.select_nth_unstable(k - 1);
    }
    let top = &mut order[..k];
    top.sort_unstable();
    let nb: Vec<usize> = top.iter().map(|&(_, j)| j as usize).collect();
    let sims: Vec<f64> = nb.iter().map(|&j| sim(j)).collect();
    (nb, sims)
}

/// A key ordering values descending, NaN last (−0 as 0).
fn descending_key(v: f64) -> u64 {
    if v.is_nan() {
        return u64::MAX;
    }
    let bits = (if v == 0.0 { 0.0 } else { v }).to_bits();
    // Ascending order of the bits' image, then reversed.
    let up = if bits >> 63 == 1 { !bits } else { bits | (1 << 63) };
    (!up).min(u64::MAX - 1)
}

#[cfg(test)]
mod knn_tests {
    use super::*;

    /// Unit vectors: each row's nearest is itself (similarity 1), a row
    /// equal to another's reverse complement finds it through `r`, and
    /// rows sharing no key score 0 in index order.
    #[test]
    fn neighbours_by_either_strand() {
        let f = [vec![(1, 1.0)], vec![(2, 3.0), (5, 4.0)], vec![(9, 1.0)]];
        let r = [vec![(7, 1.0)], vec![(8, 1.0)], vec![(1, 2.0)]];
        let (f, r): (Vec<_>, Vec<_>) = (
            f.iter().map(|v| l2_normalized(v)).collect(),
            r.iter().map(|v| l2_normalized(v)).collect(),
        );
        assert_eq!(f[1], [(2, 0.6), (5, 0.8)]);
        let (nb, sim) = knn(&f, &r, 3);
        assert_eq!(nb[0], [0, 2, 1]);
        assert_eq!(sim[0], [1.0, 1.0, 0.0]);
        assert_eq!(nb[1], [1, 0, 2]);
        assert_eq!(knn(&f, &r, 2).0[2], [2, 0]);
        // Distinct keys over chunks merged pairwise (600 rows: three chunks).
        let many: Vec<Vec<(u64, f64)>> =
            (0..600u64).map(|i| vec![(i % 7, 1.0), (100 + i % 13, 1.0), (1000 + i, 1.0)]).collect();
        let rows = SparseRows::build(many.len(), 3, &|i| many[i].clone());
        let mut want: Vec<u64> = many.iter().flatten().map(|e| e.0).collect();
        want.sort_unstable();
        want.dedup();
        assert_eq!(distinct_keys(&rows), want);
        assert_eq!(rows.row(5), many[5].as_slice());
        let v = [0.5, -0.25, f64::NAN, 0.0, -0.0, 3.0, f64::INFINITY, -1e-300];
        let mut by_key: Vec<usize> = (0..v.len()).collect();
        by_key.sort_by_key(|&i| (descending_key(v[i]), i));
        assert_eq!(by_key, [6, 5, 0, 3, 4, 7, 1, 2]);
    }
}
