//! The coarse embedding of seqlets (modisco-lite's `gapped_kmer`): each
//! seqlet's `topn` highest-contribution positions (re-sorted by position)
//! give gapped k-mers of `min_k..=max_k` of those positions spanning less
//! than `max_len` with gaps of at most `max_gap`; a k-mer's key encodes its
//! bases and spacing in base 5, its value is the mean contribution of its
//! positions summed over occurrences, and the `max_entries` keys of
//! largest |value| form a sparse vector.

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

/// The sparse gapped-k-mer vector of one seqlet's `sites`: (key, value)
/// sorted by key, zeros dropped.
#[must_use]
pub fn embed(sites: &[(usize, usize, f64)], s: &Settings) -> Vec<(u64, f64)> {
    let n = sites.len();
    // (k−1)-mers grouped by their first site: (last site, summed
    // contribution, key so far).
    let mut groups: Vec<Vec<(usize, f64, u64)>> =
        (0..n).map(|i| vec![(i, sites[i].2, sites[i].1 as u64 + 1)]).collect();
    // Keys in first-insertion order with their sums.
    let mut keys: Vec<u64> = Vec::new();
    let mut sums: Vec<f64> = Vec::new();
    let mut index: std::collections::HashMap<u64, usize> = std::collections::HashMap::new();
    for k in 2..=s.max_k {
        let mut next: Vec<Vec<(usize, f64, u64)>> = vec![Vec::new(); n];
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
                        if let Some(&r) = index.get(&key) {
                            sums[r] += value;
                        } else {
                            index.insert(key, keys.len());
                            keys.push(key);
                            sums.push(0.0 + value);
                        }
                    }
                }
            }
        }
        groups = next;
    }
    // The max_entries largest |sum| (NaN last, ties by insertion order).
    let mut ranks: Vec<usize> = (0..keys.len()).collect();
    let mag = |r: usize| if sums[r].is_nan() { -1.0 } else { sums[r].abs() };
    ranks.sort_by(|&a, &b| mag(b).total_cmp(&mag(a)).then(a.cmp(&b)));
    ranks.truncate(s.max_entries);
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
