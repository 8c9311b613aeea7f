//! The coarse embedding of seqlets (modisco-lite's `gapped_kmer`): each
//! seqlet's `topn` highest-contribution positions (re-sorted by position)
//! give gapped k-mers of `min_k..=max_k` of those positions spanning less
//! than `max_len` with gaps of at most `max_gap`; a k-mer's key encodes its
//! bases and spacing in base 5, its value is the mean contribution of its
//! positions summed over occurrences, and the `max_entries` keys of
//! largest |value| form a sparse vector. [`crate::knn`] finds neighbours by
//! them.

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

/// Each distinct key's place in first-found order: open addressing with
/// linear probing, one multiply to hash (keys are well spread integers; no
/// adversarial input to guard against), emptied by bumping a generation.
#[derive(Default)]
struct KeyIndex {
    /// (key, place, generation); a slot is empty unless its generation is
    /// the current one.
    table: Vec<(u64, u32, u32)>,
    generation: u32,
    len: usize,
    shift: u32,
}

impl KeyIndex {
    fn clear(&mut self) {
        if self.table.is_empty() {
            self.resize(1 << 12);
        }
        self.generation = self.generation.wrapping_add(1);
        if self.generation == 0 {
            self.table.fill((0, 0, 0));
            self.generation = 1;
        }
        self.len = 0;
    }

    fn resize(&mut self, capacity: usize) {
        let old = std::mem::replace(&mut self.table, vec![(0, 0, 0); capacity]);
        self.shift = u64::BITS - capacity.trailing_zeros();
        let live = self.generation;
        self.generation = 1;
        self.len = 0;
        for (key, place, g) in old {
            if g == live && live != 0 {
                let at = self.probe(key);
                self.table[at] = (key, place, 1);
                self.len += 1;
            }
        }
    }

    /// The slot holding `key`, or the empty one where it would go.
    fn probe(&self, key: u64) -> usize {
        let mask = self.table.len() - 1;
        let mut at = (key.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> self.shift) as usize;
        loop {
            let e = &self.table[at];
            if e.2 != self.generation || e.0 == key {
                return at;
            }
            at = (at + 1) & mask;
        }
    }

    /// `key`'s place, or `None` after recording `place` for it.
    fn get_or_insert(&mut self, key: u64, place: usize) -> Option<usize> {
        if 2 * (self.len + 1) > self.table.len() {
            self.resize(2 * self.table.len());
        }
        let at = self.probe(key);
        let e = &mut self.table[at];
        if e.2 == self.generation {
            return Some(e.1 as usize);
        }
        *e = (key, u32::try_from(place).expect("fewer than 2³² k-mers"), self.generation);
        self.len += 1;
        None
    }
}

/// Reusable room for [`embed_with`]: the k-mer groups and the key index.
#[derive(Default)]
pub struct Scratch {
    groups: Vec<Vec<(usize, f64, u64)>>,
    next: Vec<Vec<(usize, f64, u64)>>,
    keys: Vec<u64>,
    sums: Vec<f64>,
    index: KeyIndex,
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
                        if let Some(at) = index.get_or_insert(key, keys.len()) {
                            sums[at] += value;
                        } else {
                            keys.push(key);
                            sums.push(0.0 + value);
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
