//! The coarse neighbours of seqlets: the `k` nearest of each by
//! `max(f_i·f_j, f_i·r_j)` over L2-normalised gapped-k-mer vectors, forward
//! (`f`) and reverse-complemented (`r`), exactly as modisco-lite's
//! posting-list kernel computes them: each dot product adds its shared
//! keys' products in ascending key order from 0, neighbours are ordered by
//! similarity descending (NaN last), ties by index.
//!
//! Memory is what bounds large rounds, so little is held at once:
//!
//! * the forward vectors, once, as indices into their sorted distinct keys
//!   (coded as `u16` gaps) and values;
//! * the posting lists of one chunk of candidates at a time (forward
//!   entries from the held vectors, reverse ones formed for the chunk, each
//!   reverse vector formed once);
//! * per seqlet, its best `k` so far, merged with each chunk's candidates.
//!
//! Query rows go sixteen at a time, rows holding the same popular k-mers
//! together: a k-mer several of them hold is added for all in one pass
//! over its posting list.

use motif_core::plugin::Table;
use rayon::prelude::*;

/// A gapped-k-mer vector: (key, value), sorted by key.
pub type Vector = Vec<(u64, f64)>;

/// Forms row `i`'s vector on demand.
pub type Former<'a> = &'a (dyn Fn(usize) -> Vector + Sync);

/// Candidates whose posting lists are built at a time (their local rows,
/// forward and reverse, fit a `u16`).
const CHUNK: usize = 1024;

/// Query rows at a time (their accumulators side by side).
const BLOCK: usize = 16;

/// Each seqlet's neighbours, best first, and their similarities.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Knn {
    /// Neighbour indices per seqlet (itself included when it ranks).
    pub neighbors: Table<u32>,
    /// Similarities, in the same order.
    pub sims: Table<f64>,
}

/// The `k` nearest of `n` seqlets whose forward and reverse vectors (at
/// most `stride` entries each) `fwd` and `rev` form. Each forward vector
/// is formed once, each reverse vector once.
///
/// # Panics
/// If a vector is longer than `stride`, or its keys are not sorted.
#[must_use]
pub fn knn(n: usize, stride: usize, fwd: Former<'_>, rev: Former<'_>, k: usize) -> Knn {
    let k = k.min(n);
    if k == 0 {
        return Knn {
            neighbors: Table::uniform(n, 0, Vec::new()),
            sims: Table::uniform(n, 0, Vec::new()),
        };
    }
    if u16::try_from(n).is_ok() {
        knn_in::<u16>(n, stride, fwd, rev, k)
    } else {
        knn_in::<u32>(n, stride, fwd, rev, k)
    }
}

/// [`knn`] over vectors given whole (tests and examples).
#[must_use]
pub fn knn_of(fwd: &[Vector], rev: &[Vector], k: usize) -> Knn {
    let stride = fwd.iter().map(Vec::len).max().unwrap_or(0);
    knn(fwd.len(), stride, &|i| fwd[i].clone(), &|j| rev[j].clone(), k)
}

/// A neighbour index as held in the best-so-far tables (`u16` while the
/// round is small enough: half the memory).
trait Slot: Copy + Send + Sync + Default {
    fn of(j: u32) -> Self;
    fn get(self) -> u32;
}

impl Slot for u16 {
    fn of(j: u32) -> Self {
        u16::try_from(j).expect("fewer than 65,536 seqlets")
    }
    fn get(self) -> u32 {
        u32::from(self)
    }
}

impl Slot for u32 {
    fn of(j: u32) -> Self {
        j
    }
    fn get(self) -> u32 {
        self
    }
}

fn knn_in<J: Slot>(n: usize, stride: usize, fwd: Former<'_>, rev: Former<'_>, k: usize) -> Knn {
    let held = Held::form(n, stride.max(1), fwd);
    let order = held.query_order();
    let mut best = Best::<J>::new(n, k);
    let mut postings = Postings::default();
    for c0 in (0..n).step_by(CHUNK) {
        let c1 = (c0 + CHUNK).min(n);
        postings.build(&held, c0, c1, rev);
        let m = c1 - c0;
        order.par_chunks(BLOCK).zip(best.blocks()).for_each_init(
            || (vec![[0f64; BLOCK]; 2 * CHUNK], Vec::new()),
            |(acc, cand), (ids, mut slots)| {
                held.block_dots(ids, &postings, &mut acc[..2 * m]);
                for c in 0..ids.len() {
                    slots.offer(c, c0, &acc[..2 * m], cand);
                }
            },
        );
    }
    drop((held, postings));
    best.finish(&order)
}

/// The forward vectors: row `i`'s first `len[i]` of `stride` entries, as
/// indices into `keys` (the sorted distinct keys; row `i` of `gaps`,
/// [`Gaps`]-coded) and values.
struct Held {
    stride: usize,
    len: Vec<u32>,
    keys: Vec<u64>,
    gaps: Table<u16>,
    vals: Vec<f64>,
}

/// Marks a gap too wide for one `u16`: the index follows in two.
const WIDE: u16 = u16::MAX;

/// A row's ascending key indices, each as its gap from the one before (the
/// first from 0) in one `u16`, or [`WIDE`] and the index in two.
struct Gaps<'a> {
    codes: &'a [u16],
    pos: usize,
    prev: u32,
}

impl Iterator for Gaps<'_> {
    type Item = u32;

    fn next(&mut self) -> Option<u32> {
        let g = *self.codes.get(self.pos)?;
        let id = if g == WIDE {
            let (hi, lo) = (self.codes[self.pos + 1], self.codes[self.pos + 2]);
            self.pos += 3;
            (u32::from(hi) << 16) | u32::from(lo)
        } else {
            self.pos += 1;
            self.prev + u32::from(g)
        };
        self.prev = id;
        Some(id)
    }
}

/// The codes of ascending `ids`, into `out` (as long as [`coded_len`]).
fn code(ids: &[u64], out: &mut [u16]) {
    let (mut prev, mut w) = (0u64, 0);
    for &id in ids {
        let gap = id - prev;
        if gap < u64::from(WIDE) {
            out[w] = gap as u16;
            w += 1;
        } else {
            out[w..w + 3].copy_from_slice(&[WIDE, (id >> 16) as u16, id as u16]);
            w += 3;
        }
        prev = id;
    }
}

/// How many codes ascending `ids` take.
fn coded_len(ids: &[u64]) -> usize {
    let mut prev = 0;
    ids.iter()
        .map(|&id| {
            let wide = id - prev >= u64::from(WIDE);
            prev = id;
            if wide { 3 } else { 1 }
        })
        .sum()
}

impl Held {
    fn form(n: usize, stride: usize, fwd: Former<'_>) -> Self {
        let mut raw = vec![0u64; n * stride];
        let mut vals = vec![0f64; n * stride];
        let mut len = vec![0u32; n];
        raw.par_chunks_mut(stride)
            .zip(vals.par_chunks_mut(stride))
            .zip(len.par_iter_mut())
            .enumerate()
            .for_each(|(i, ((key, val), l))| {
                let v = fwd(i);
                assert!(v.len() <= stride, "vector {i} has {} entries (at most {stride})", v.len());
                assert!(v.windows(2).all(|w| w[0].0 < w[1].0), "vector {i}: keys not sorted");
                for (e, &(kk, x)) in v.iter().enumerate() {
                    key[e] = kk;
                    val[e] = x;
                }
                *l = u32::try_from(v.len()).expect("a short vector");
            });
        let keys = distinct_keys(&raw, &len, stride);
        assert!(u32::try_from(keys.len()).is_ok(), "fewer than 2³² distinct k-mers");
        // Keys to their indices, in place; then coded.
        raw.par_chunks_mut(stride).zip(len.par_iter()).for_each(|(row, &l)| {
            for k in &mut row[..l as usize] {
                *k = keys.binary_search(k).expect("a held key") as u64;
            }
        });
        let ids = |i: usize| &raw[i * stride..i * stride + len[i] as usize];
        let sizes: Vec<usize> = (0..n).into_par_iter().map(|i| coded_len(ids(i))).collect();
        let mut gaps = Table::from_rows(sizes.into_iter().map(|s| std::iter::repeat_n(0u16, s)));
        gaps.rows_mut().into_par_iter().enumerate().for_each(|(i, out)| code(ids(i), out));
        Self { stride, len, keys, gaps, vals }
    }

    fn n(&self) -> usize {
        self.len.len()
    }

    /// Row `i`'s key indices and values.
    fn row(&self, i: usize) -> (Gaps<'_>, &[f64]) {
        let gaps = Gaps { codes: &self.gaps[i], pos: 0, prev: 0 };
        (gaps, &self.vals[i * self.stride..i * self.stride + self.len[i] as usize])
    }

    /// Query rows ordered by their three most widely held k-mers (count
    /// over the forward vectors, descending; then index), so that a block
    /// shares them. The order changes no row's sums.
    fn query_order(&self) -> Vec<usize> {
        let mut count = vec![0u32; self.keys.len()];
        for i in 0..self.n() {
            for id in self.row(i).0 {
                count[id as usize] += 1;
            }
        }
        let mut order: Vec<usize> = (0..self.n()).collect();
        order.par_sort_by_cached_key(|&i| {
            let mut top = [(0u32, u32::MAX); 3];
            for id in self.row(i).0 {
                let e = (count[id as usize], id);
                if e.0 > top[2].0 || (e.0 == top[2].0 && e.1 < top[2].1) {
                    top[2] = e;
                    top.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
                }
            }
            top.map(|e| e.1)
        });
        order
    }

    /// The dot products of the forward vectors `ids` (a block) with every
    /// candidate of the chunk `p` holds: `acc[r][c]` for block row `c` and
    /// local row `r` (forward rows, then reverse ones). Each row's
    /// products are added in ascending key order; a key several block rows
    /// hold is added for all of them in one pass over its posting list
    /// (rows without it add `0·v`, which changes nothing).
    fn block_dots(&self, ids: &[usize], p: &Postings, acc: &mut [[f64; BLOCK]]) {
        avx2_or!(self.block_dots_avx2(ids, p, acc), self.block_dots_in(ids, p, acc));
    }

    /// [`Held::block_dots`] compiled for AVX2 (no FMA: bit-identical).
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    fn block_dots_avx2(&self, ids: &[usize], p: &Postings, acc: &mut [[f64; BLOCK]]) {
        self.block_dots_in(ids, p, acc);
    }

    #[inline(always)]
    fn block_dots_in(&self, ids: &[usize], p: &Postings, acc: &mut [[f64; BLOCK]]) {
        acc.fill([0.0; BLOCK]);
        // The block's rows merged by key index: each step takes the
        // smallest index among the rows' next entries (and every row
        // holding it).
        let mut heads: Vec<(u32, Gaps<'_>, &[f64])> = ids
            .iter()
            .map(|&i| {
                let (mut g, v) = self.row(i);
                (g.next().unwrap_or(u32::MAX), g, v)
            })
            .collect();
        let mut at = [0usize; BLOCK];
        loop {
            let id = heads.iter().map(|h| h.0).min().unwrap_or(u32::MAX);
            if id == u32::MAX {
                break;
            }
            let mut x = [0f64; BLOCK];
            let (mut count, mut only) = (0, 0);
            for (c, h) in heads.iter_mut().enumerate() {
                if h.0 == id {
                    x[c] = h.2[at[c]];
                    at[c] += 1;
                    h.0 = h.1.next().unwrap_or(u32::MAX);
                    count += 1;
                    only = c;
                }
            }
            let (a, b) = (p.start[id as usize] as usize, p.start[id as usize + 1] as usize);
            if a == b {
                continue;
            }
            let (rows, vals) = (&p.rows[a..b], &p.vals[a..b]);
            if count > 1 {
                for (&r, &v) in rows.iter().zip(vals) {
                    let a = &mut acc[usize::from(r)];
                    for c in 0..BLOCK {
                        a[c] += x[c] * v;
                    }
                }
            } else {
                let x = x[only];
                for (&r, &v) in rows.iter().zip(vals) {
                    acc[usize::from(r)][only] += x * v;
                }
            }
        }
    }
}

/// The sorted distinct keys of rows `raw` (`stride` apart, `len` long),
/// merged from sorted chunks.
fn distinct_keys(raw: &[u64], len: &[u32], stride: usize) -> Vec<u64> {
    let ids: Vec<usize> = (0..len.len()).collect();
    ids.par_chunks(256)
        .map(|c| {
            let mut v: Vec<u64> = c
                .iter()
                .flat_map(|&i| raw[i * stride..i * stride + len[i] as usize].iter().copied())
                .collect();
            v.sort_unstable();
            v.dedup();
            v
        })
        .reduce(Vec::new, |a, b| merge_distinct(&a, &b))
}

/// The sorted union of two sorted distinct lists.
fn merge_distinct(a: &[u64], b: &[u64]) -> Vec<u64> {
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
}

/// The posting lists of one chunk of candidates, by held key index:
/// entries `start[d]..start[d + 1]`, local rows (forward `r`, reverse
/// `m + r`) and values. Keys no forward vector holds are left out: they
/// add to no dot product.
#[derive(Default)]
struct Postings {
    start: Vec<u32>,
    rows: Vec<u16>,
    vals: Vec<f64>,
}

impl Postings {
    fn build(&mut self, held: &Held, c0: usize, c1: usize, rev: Former<'_>) {
        let m = c1 - c0;
        let reverse: Vec<Vec<(u32, f64)>> = (c0..c1)
            .into_par_iter()
            .map(|j| {
                rev(j)
                    .into_iter()
                    .filter_map(|(key, v)| {
                        held.keys.binary_search(&key).ok().map(|d| (d as u32, v))
                    })
                    .collect()
            })
            .collect();
        // Local row r's entries: forward rows first, then reverse ones.
        let each = |visit: &mut dyn FnMut(usize, u32, f64)| {
            for r in 0..m {
                let (id, val) = held.row(c0 + r);
                for (d, &v) in id.zip(val) {
                    visit(r, d, v);
                }
            }
            for (r, row) in reverse.iter().enumerate() {
                for &(d, v) in row {
                    visit(m + r, d, v);
                }
            }
        };
        let d = held.keys.len();
        self.start.clear();
        self.start.resize(d + 1, 0);
        each(&mut |_, id, _| self.start[id as usize + 1] += 1);
        for x in 1..=d {
            self.start[x] += self.start[x - 1];
        }
        let total = self.start[d] as usize;
        self.rows.clear();
        self.rows.resize(total, 0);
        self.vals.clear();
        self.vals.resize(total, 0.0);
        // Filled at `start[id]`, which moves one on; afterwards each start
        // is where the next began, so the list shifts back by one.
        let Self { start, rows, vals } = self;
        each(&mut |r, id, v| {
            let at = &mut start[id as usize];
            rows[*at as usize] = u16::try_from(r).expect("a chunk's rows fit u16");
            vals[*at as usize] = v;
            *at += 1;
        });
        self.start.copy_within(0..d, 1);
        self.start[0] = 0;
    }
}

/// Each query slot's best `k` so far (slots in query order): order keys
/// (similarity descending, NaN last) and neighbour indices, how many are
/// filled, and the worst kept.
struct Best<J> {
    k: usize,
    key: Vec<u64>,
    j: Vec<J>,
    fill: Vec<u32>,
    worst: Vec<(u64, u32)>,
}

/// One block's slots of [`Best`].
struct Slots<'a, J> {
    k: usize,
    key: &'a mut [u64],
    j: &'a mut [J],
    fill: &'a mut [u32],
    worst: &'a mut [(u64, u32)],
}

impl<J: Slot> Best<J> {
    fn new(n: usize, k: usize) -> Self {
        Self {
            k,
            key: vec![0; n * k],
            j: vec![J::default(); n * k],
            fill: vec![0; n],
            worst: vec![(u64::MAX, u32::MAX); n],
        }
    }

    /// The slots block by block, as `order.par_chunks(BLOCK)` visits them
    /// (`k > 0`).
    fn blocks(&mut self) -> impl IndexedParallelIterator<Item = Slots<'_, J>> {
        let k = self.k;
        self.key
            .par_chunks_mut(BLOCK * k)
            .zip(self.j.par_chunks_mut(BLOCK * k))
            .zip(self.fill.par_chunks_mut(BLOCK))
            .zip(self.worst.par_chunks_mut(BLOCK))
            .map(move |(((key, j), fill), worst)| Slots { k, key, j, fill, worst })
    }

    /// The lists, best first, in seqlet order (every slot is full: each
    /// saw all `n ≥ k` candidates).
    fn finish(self, order: &[usize]) -> Knn {
        let (n, k) = (order.len(), self.k);
        let mut slot = vec![0usize; n];
        for (s, &i) in order.iter().enumerate() {
            slot[i] = s;
        }
        let mut neighbors = vec![0u32; n * k];
        let mut sims = vec![0f64; n * k];
        neighbors.par_chunks_mut(k).zip(sims.par_chunks_mut(k)).zip(slot).for_each_init(
            || Vec::with_capacity(k),
            |buf: &mut Vec<(u64, u32)>, ((nb, sm), s)| {
                debug_assert_eq!(self.fill[s] as usize, k);
                buf.clear();
                let at = s * k..(s + 1) * k;
                buf.extend(
                    self.key[at.clone()].iter().zip(&self.j[at]).map(|(&key, &j)| (key, j.get())),
                );
                buf.sort_unstable();
                for (e, &(key, j)) in buf.iter().enumerate() {
                    nb[e] = j;
                    sm[e] = similarity(key);
                }
            },
        );
        Knn { neighbors: Table::uniform(n, k, neighbors), sims: Table::uniform(n, k, sims) }
    }
}

impl<J: Slot> Slots<'_, J> {
    /// Offers block row `c` the chunk's candidates (from `c0`): their
    /// similarities `max(f, r)` from `acc` (forward rows, then reverse),
    /// each kept while among the best `k` (`k > 0`).
    fn offer(&mut self, c: usize, c0: usize, acc: &[[f64; BLOCK]], cand: &mut Vec<(u64, u32)>) {
        let k = self.k;
        let m = acc.len() / 2;
        let have = self.fill[c] as usize;
        let worst = self.worst[c];
        cand.clear();
        let sim = |r: usize| {
            let (f, b) = (acc[r][c], acc[m + r][c]);
            if b > f { b } else { f }
        };
        if have == k && worst.0 != u64::MAX {
            // Against a number: better when larger, or equal with a lower
            // index (a NaN never is); the key formed only then.
            let w = similarity(worst.0);
            for r in 0..m {
                let (s, j) = (sim(r), (c0 + r) as u32);
                if s > w || (s == w && j < worst.1) {
                    cand.push((descending_key(s), j));
                }
            }
        } else {
            for r in 0..m {
                let e = (descending_key(sim(r)), (c0 + r) as u32);
                if have < k || e < worst {
                    cand.push(e);
                }
            }
        }
        if cand.is_empty() {
            return;
        }
        let (key, j) = (&mut self.key[c * k..(c + 1) * k], &mut self.j[c * k..(c + 1) * k]);
        cand.extend(key[..have].iter().zip(&j[..have]).map(|(&kk, &jj)| (kk, jj.get())));
        if cand.len() > k {
            cand.select_nth_unstable(k - 1);
            cand.truncate(k);
        }
        for (e, &(kk, jj)) in cand.iter().enumerate() {
            key[e] = kk;
            j[e] = J::of(jj);
        }
        self.fill[c] = cand.len() as u32;
        if cand.len() == k {
            self.worst[c] = *cand.iter().max().expect("k > 0");
        }
    }
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

/// The similarity a [`descending_key`] came from (NaN for NaN's; the
/// kernel's sums are never −0).
fn similarity(key: u64) -> f64 {
    if key == u64::MAX {
        return f64::NAN;
    }
    let up = !key;
    f64::from_bits(if up >> 63 == 1 { up & !(1 << 63) } else { !up })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gkmer::l2_normalized;

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
        let knn = knn_of(&f, &r, 3);
        assert_eq!(knn.neighbors[0], [0, 2, 1]);
        assert_eq!(knn.sims[0], [1.0, 1.0, 0.0]);
        assert_eq!(knn.neighbors[1], [1, 0, 2]);
        assert_eq!(knn_of(&f, &r, 2).neighbors[2], [2, 0]);
        let v = [0.5, -0.25, f64::NAN, 0.0, -0.0, 3.0, f64::INFINITY, -1e-300];
        let mut by_key: Vec<usize> = (0..v.len()).collect();
        by_key.sort_by_key(|&i| (descending_key(v[i]), i));
        assert_eq!(by_key, [6, 5, 0, 3, 4, 7, 1, 2]);
        for x in [0.5, -0.25, 0.0, 3.0, f64::INFINITY, -1e-300, f64::MIN_POSITIVE] {
            assert_eq!(similarity(descending_key(x)).to_bits(), x.to_bits());
        }
        assert!(similarity(descending_key(f64::NAN)).is_nan());
    }

    /// Many chunks and both index widths: the chunked kNN equals a direct
    /// computation (every dot product added in key order, a stable sort of
    /// −similarity) bit for bit.
    #[test]
    fn chunks_agree_with_all_pairs() {
        let mut rng = crate::numpy::RandomState::new(5);
        let n = 2 * CHUNK + 77;
        let vector = |rng: &mut crate::numpy::RandomState| -> Vector {
            let mut keys: Vec<u64> = (0..6).map(|_| rng.interval(40)).collect();
            keys.sort_unstable();
            keys.dedup();
            l2_normalized(&keys.iter().map(|&k| (k, rng.random_sample() - 0.3)).collect::<Vec<_>>())
        };
        let mut f: Vec<Vector> = (0..n).map(|_| vector(&mut rng)).collect();
        // Every third row repeats one of seven: ties across chunks.
        for i in (7..n).step_by(3) {
            f[i] = f[i % 7].clone();
        }
        let r: Vec<Vector> = (0..n).map(|_| vector(&mut rng)).collect();
        let dot = |a: &Vector, b: &Vector| -> f64 {
            let mut s = 0.0;
            for &(k, x) in a {
                if let Ok(e) = b.binary_search_by_key(&k, |e| e.0) {
                    s += x * b[e].1;
                }
            }
            s
        };
        let k = 37;
        let got = knn_of(&f, &r, k);
        let wide = knn_in::<u32>(n, 6, &|i| f[i].clone(), &|j| r[j].clone(), k);
        assert_eq!(got, wide);
        for i in (0..n).step_by(97) {
            let sims: Vec<f64> = (0..n)
                .map(|j| {
                    let (a, b) = (dot(&f[i], &f[j]), dot(&f[i], &r[j]));
                    if b > a { b } else { a }
                })
                .collect();
            let mut order: Vec<usize> = (0..n).collect();
            order.sort_by_key(|&j| (descending_key(sims[j]), j));
            let want: Vec<u32> = order[..k].iter().map(|&j| j as u32).collect();
            assert_eq!(got.neighbors[i], want, "row {i}");
            let want: Vec<u64> = order[..k].iter().map(|&j| sims[j].to_bits()).collect();
            let have: Vec<u64> = got.sims[i].iter().map(|v| v.to_bits()).collect();
            assert_eq!(have, want, "row {i}");
        }
    }

    /// Key indices coded as gaps read back as they were, wide gaps (and a
    /// wide first index) included.
    #[test]
    fn gaps_round_trip() {
        let ids: Vec<u64> = vec![3, 4, 70_000, 70_001, 200_000, 4_000_000_000];
        let mut codes = vec![0u16; coded_len(&ids)];
        assert_eq!(codes.len(), 2 + 3 + 1 + 3 + 3);
        code(&ids, &mut codes);
        let back: Vec<u32> = Gaps { codes: &codes, pos: 0, prev: 0 }.collect();
        assert_eq!(back, [3, 4, 70_000, 70_001, 200_000, 4_000_000_000]);
        let wide_first = [70_000u64, 70_001];
        let mut codes = vec![0u16; coded_len(&wide_first)];
        code(&wide_first, &mut codes);
        assert_eq!(Gaps { codes: &codes, pos: 0, prev: 0 }.collect::<Vec<_>>(), [70_000, 70_001]);
    }
}
