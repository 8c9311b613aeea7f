//! Leiden community detection optimising modularity, as modisco-lite calls
//! `leidenalg` (`ModularityVertexPartition`, iterations until no gain,
//! seeds `100·r`, the best quality kept).
//!
//! Each stored entry `(i, j)` of the affinity matrix is one undirected edge
//! (a symmetric matrix gives every pair two parallel edges and every node
//! one self-loop); strengths count a self-loop twice. One run repeats
//! Leiden's three phases — fast local moving from a queue, refinement
//! inside each community by greedy merges of singletons, aggregation of the
//! refined communities with the unrefined ones as the next level's start —
//! until a level cannot shrink the graph, and repeats whole iterations
//! until one brings no gain. The random visiting orders come from the
//! run's own seed, so results are deterministic but are not igraph's
//! streams: memberships match `leidenalg`'s in quality and clusters, not
//! bit for bit.

use crate::density::Csr;
use crate::numpy::RandomState;
use rayon::prelude::*;

/// Whether every stored `(i, j, v)` has a stored `(j, i)` of the very same
/// value (columns sorted per row).
fn is_symmetric(m: &Csr) -> bool {
    (0..m.n()).into_par_iter().all(|i| {
        let (c, v) = m.row(i);
        c.iter().zip(v).all(|(&j, &x)| {
            let (cj, vj) = m.row(j as usize);
            cj.binary_search(&(i as u32)).is_ok_and(|p| vj[p].to_bits() == x.to_bits())
        })
    })
}

/// A weighted undirected graph: symmetric adjacency without self-loops,
/// self-loop weights apart.
#[derive(Debug, Clone)]
pub struct Graph {
    indptr: Vec<usize>,
    indices: Vec<u32>,
    weights: Vec<f64>,
    self_loop: Vec<f64>,
    /// Sum of incident edge weights, self-loops twice.
    strength: Vec<f64>,
    /// Original nodes each node stands for.
    size: Vec<usize>,
    /// Total edge weight `m`.
    total: f64,
}

impl Graph {
    /// The graph with one undirected edge per stored entry of `m`: the
    /// weight between `i ≠ j` is `m[i, j] + m[j, i]` (row `i` of `m`
    /// merged with row `i` of its transpose), a diagonal entry a
    /// self-loop.
    #[must_use]
    pub fn from_entries(m: &Csr) -> Self {
        let n = m.n();
        let t = m.transpose();
        let mut indptr = Vec::with_capacity(n + 1);
        indptr.push(0);
        let mut indices: Vec<u32> = Vec::with_capacity(m.indices.len() + t.indices.len());
        let mut weights: Vec<f64> = Vec::with_capacity(m.indices.len() + t.indices.len());
        let mut self_loop = vec![0.0; n];
        let mut strength = Vec::with_capacity(n);
        for (i, own) in self_loop.iter_mut().enumerate() {
            let ((ca, va), (cb, vb)) = (m.row(i), t.row(i));
            let (mut p, mut q) = (0, 0);
            let mut k = 0.0;
            while p < ca.len() || q < cb.len() {
                let (j, w, diag) = if q == cb.len() || (p < ca.len() && ca[p] < cb[q]) {
                    p += 1;
                    (ca[p - 1], va[p - 1], va[p - 1])
                } else if p == ca.len() || cb[q] < ca[p] {
                    q += 1;
                    (cb[q - 1], vb[q - 1], 0.0)
                } else {
                    p += 1;
                    q += 1;
                    (ca[p - 1], va[p - 1] + vb[q - 1], va[p - 1])
                };
                if j as usize == i {
                    // The stored diagonal entry, once (the transpose holds
                    // the same one).
                    *own += diag;
                } else {
                    indices.push(j);
                    weights.push(w);
                    k += w;
                }
            }
            strength.push(k + 2.0 * *own);
            indptr.push(indices.len());
        }
        let total = m.data.iter().sum();
        Self { indptr, indices, weights, self_loop, strength, size: vec![1; n], total }
    }

    /// [`Graph::from_entries`] of `m`, taken over: when `m` is exactly
    /// symmetric (the density-adapted affinities are), `m + mᵀ` is `2m`, so
    /// the graph is built in `m`'s own storage, without a transpose.
    #[must_use]
    pub fn from_matrix(m: Csr) -> Self {
        if !is_symmetric(&m) {
            return Self::from_entries(&m);
        }
        let n = m.n();
        let total = m.data.iter().sum();
        let Csr { mut indptr, mut indices, data: mut weights } = m;
        let mut self_loop = vec![0.0; n];
        let mut strength = Vec::with_capacity(n);
        let mut at = 0;
        let mut start = indptr[0];
        for i in 0..n {
            let end = indptr[i + 1];
            let mut k = 0.0;
            for e in start..end {
                let (j, v) = (indices[e], weights[e]);
                if j as usize == i {
                    self_loop[i] += v;
                } else {
                    let w = v + v;
                    indices[at] = j;
                    weights[at] = w;
                    at += 1;
                    k += w;
                }
            }
            strength.push(k + 2.0 * self_loop[i]);
            start = end;
            indptr[i + 1] = at;
        }
        indices.truncate(at);
        weights.truncate(at);
        indices.shrink_to_fit();
        weights.shrink_to_fit();
        Self { indptr, indices, weights, self_loop, strength, size: vec![1; n], total }
    }

    /// Rows of `(neighbour, weight)` pairs (duplicates summed).
    fn from_rows(rows: Vec<Vec<(usize, f64)>>, self_loop: Vec<f64>, size: Vec<usize>) -> Self {
        let n = rows.len();
        let mut indptr = Vec::with_capacity(n + 1);
        indptr.push(0);
        let (mut indices, mut weights) = (Vec::new(), Vec::new());
        let mut strength = Vec::with_capacity(n);
        for (i, mut row) in rows.into_iter().enumerate() {
            row.sort_unstable_by_key(|e| e.0);
            let mut k = 2.0 * self_loop[i];
            let start = indices.len();
            for (j, w) in row {
                k += w;
                if indices.len() > start && indices[indices.len() - 1] as usize == j {
                    *weights.last_mut().expect("an entry") += w;
                } else {
                    indices.push(j as u32);
                    weights.push(w);
                }
            }
            strength.push(k);
            indptr.push(indices.len());
        }
        let total = strength.iter().sum::<f64>() / 2.0;
        Self { indptr, indices, weights, self_loop, strength, size, total }
    }

    /// Number of nodes.
    #[must_use]
    pub fn n(&self) -> usize {
        self.strength.len()
    }

    fn neighbors(&self, v: usize) -> impl Iterator<Item = (usize, f64)> + '_ {
        let r = self.indptr[v]..self.indptr[v + 1];
        self.indices[r.clone()].iter().map(|&j| j as usize).zip(self.weights[r].iter().copied())
    }

    /// The graph of communities of `membership` (labels `0..k`): edge
    /// weights summed, internal weight as the self-loop.
    fn collapse(&self, membership: &[usize], k: usize) -> Self {
        let mut members: Vec<Vec<usize>> = vec![Vec::new(); k];
        for (v, &c) in membership.iter().enumerate() {
            members[c].push(v);
        }
        let mut acc = vec![0.0; k];
        let mut touched: Vec<usize> = Vec::new();
        let mut rows = Vec::with_capacity(k);
        let mut self_loop = vec![0.0; k];
        let mut size = vec![0; k];
        for (c, vs) in members.iter().enumerate() {
            let mut internal = 0.0;
            for &v in vs {
                self_loop[c] += self.self_loop[v];
                size[c] += self.size[v];
                for (u, w) in self.neighbors(v) {
                    let d = membership[u];
                    if d == c {
                        internal += w;
                    } else {
                        if acc[d] == 0.0 {
                            touched.push(d);
                        }
                        acc[d] += w;
                    }
                }
            }
            // Each internal pair was seen from both ends.
            self_loop[c] += internal / 2.0;
            let row: Vec<(usize, f64)> = touched.iter().map(|&d| (d, acc[d])).collect();
            for &d in &touched {
                acc[d] = 0.0;
            }
            touched.clear();
            rows.push(row);
        }
        let mut g = Self::from_rows(rows, self_loop, size);
        g.total = self.total;
        g
    }

    /// Modularity of `membership`: `Σ_c w_in(c)/m − (K_c/2m)²`.
    #[must_use]
    pub fn modularity(&self, membership: &[usize]) -> f64 {
        let k = membership.iter().max().map_or(0, |&c| c + 1);
        let (mut w_in, mut strength) = (vec![0.0; k], vec![0.0; k]);
        for v in 0..self.n() {
            let c = membership[v];
            strength[c] += self.strength[v];
            w_in[c] += self.self_loop[v];
            for (u, w) in self.neighbors(v) {
                if membership[u] == c {
                    w_in[c] += w / 2.0;
                }
            }
        }
        let m = self.total;
        if m <= 0.0 {
            return 0.0;
        }
        (0..k).map(|c| w_in[c] / m - (strength[c] / (2.0 * m)).powi(2)).sum()
    }
}

/// Community bookkeeping over one level's graph.
struct Partition {
    membership: Vec<usize>,
    /// Total strength of each community.
    strength: Vec<f64>,
    /// Nodes in each community.
    count: Vec<usize>,
    empty: Vec<usize>,
}

impl Partition {
    fn new(g: &Graph, membership: Vec<usize>) -> Self {
        let n = g.n();
        let mut strength = vec![0.0; n];
        let mut count = vec![0; n];
        for (v, &c) in membership.iter().enumerate() {
            strength[c] += g.strength[v];
            count[c] += 1;
        }
        let empty = (0..n).rev().filter(|&c| count[c] == 0).collect();
        Self { membership, strength, count, empty }
    }

    fn singletons(g: &Graph) -> Self {
        Self::new(g, (0..g.n()).collect())
    }

    fn move_node(&mut self, g: &Graph, v: usize, to: usize) {
        let from = self.membership[v];
        self.strength[from] -= g.strength[v];
        self.count[from] -= 1;
        if self.count[from] == 0 {
            self.strength[from] = 0.0;
            self.empty.push(from);
        }
        if self.count[to] == 0
            && let Some(p) = self.empty.iter().rposition(|&c| c == to)
        {
            self.empty.swap_remove(p);
        }
        self.strength[to] += g.strength[v];
        self.count[to] += 1;
        self.membership[v] = to;
    }

    /// Labels renumbered `0..k` in order of first appearance; `k`.
    fn renumbered(&self) -> (Vec<usize>, usize) {
        let mut map = vec![usize::MAX; self.membership.len()];
        let mut k = 0;
        let out = self
            .membership
            .iter()
            .map(|&c| {
                if map[c] == usize::MAX {
                    map[c] = k;
                    k += 1;
                }
                map[c]
            })
            .collect();
        (out, k)
    }
}

/// Scratch space for the weights from one node to its neighbouring
/// communities.
struct Neighborhood {
    weight: Vec<f64>,
    seen: Vec<bool>,
    comms: Vec<usize>,
}

impl Neighborhood {
    fn new(n: usize) -> Self {
        Self { weight: vec![0.0; n], seen: vec![false; n], comms: Vec::new() }
    }

    /// Gathers `v`'s weights to the communities of its neighbours `u`
    /// for which `allow(u)`.
    fn gather(&mut self, g: &Graph, p: &Partition, v: usize, mut allow: impl FnMut(usize) -> bool) {
        for &c in &self.comms {
            self.weight[c] = 0.0;
            self.seen[c] = false;
        }
        self.comms.clear();
        for (u, w) in g.neighbors(v) {
            if !allow(u) {
                continue;
            }
            let c = p.membership[u];
            if !self.seen[c] {
                self.seen[c] = true;
                self.comms.push(c);
            }
            self.weight[c] += w;
        }
    }
}

/// Fast local moving: visit nodes from a queue in random order, move each
/// to the neighbouring (or an empty) community of greatest modularity
/// gain when that gain is positive, and requeue its neighbours outside
/// the new community. Returns the summed gain.
fn move_nodes(g: &Graph, p: &mut Partition, rng: &mut RandomState) -> f64 {
    let n = g.n();
    let two_m = 2.0 * g.total;
    let mut queue: std::collections::VecDeque<usize> = permutation(rng, n).into();
    let mut queued = vec![true; n];
    let mut nb = Neighborhood::new(n);
    let mut improvement = 0.0;
    while let Some(v) = queue.pop_front() {
        queued[v] = false;
        let from = p.membership[v];
        nb.gather(g, p, v, |_| true);
        let kv = g.strength[v];
        // Gains relative to v alone, after v leaves `from`.
        let value = |w: f64, strength: f64| w - kv * strength / two_m;
        let rest = p.strength[from] - kv;
        let stay = value(nb.weight[from], rest);
        let (mut best, mut best_value) = (from, stay);
        for &c in &nb.comms {
            if c == from {
                continue;
            }
            let x = value(nb.weight[c], p.strength[c]);
            if x > best_value {
                (best, best_value) = (c, x);
            }
        }
        // An empty community scores 0 (only better when v is not alone).
        if p.count[from] > 1
            && 0.0 > best_value
            && let Some(&e) = p.empty.last()
        {
            (best, best_value) = (e, 0.0);
        }
        if best != from {
            improvement += (best_value - stay) / g.total;
            p.move_node(g, v, best);
            for (u, _) in g.neighbors(v) {
                if !queued[u] && p.membership[u] != best {
                    queued[u] = true;
                    queue.push_back(u);
                }
            }
        }
    }
    improvement
}

/// Refinement: starting from singletons, each node still alone (visited
/// in random order) joins the refined community, within its own
/// community of `within`, that gains most, when the gain is positive.
fn refine(g: &Graph, within: &[usize], rng: &mut RandomState) -> Partition {
    let two_m = 2.0 * g.total;
    let mut p = Partition::singletons(g);
    let mut nb = Neighborhood::new(g.n());
    for v in permutation(rng, g.n()) {
        let from = p.membership[v];
        if p.count[from] != 1 {
            continue;
        }
        nb.gather(g, &p, v, |u| within[u] == within[v]);
        let kv = g.strength[v];
        let mut best = from;
        let mut best_value = 0.0;
        for &c in &nb.comms {
            if c == from {
                continue;
            }
            let x = nb.weight[c] - kv * p.strength[c] / two_m;
            if x > best_value {
                (best, best_value) = (c, x);
            }
        }
        if best != from {
            p.move_node(g, v, best);
        }
    }
    p
}

/// One Leiden iteration from `membership` (labels below `g.n()`): the new
/// membership and the gain.
fn iterate(g: &Graph, membership: Vec<usize>, rng: &mut RandomState) -> (Vec<usize>, f64) {
    // The first level is the graph itself (not copied: runs share it).
    let mut collapsed: Option<Graph> = None;
    let mut part = Partition::new(g, membership);
    // Which level node each original node sits in.
    let mut node_of: Vec<usize> = (0..g.n()).collect();
    let mut gain = 0.0;
    loop {
        let level = collapsed.as_ref().unwrap_or(g);
        gain += move_nodes(level, &mut part, rng);
        let (unrefined, n_comms) = part.renumbered();
        let refined = refine(level, &unrefined, rng);
        let (refined, k) = refined.renumbered();
        if k >= level.n() || level.n() <= n_comms {
            break;
        }
        let mut start = vec![0; k];
        for (v, &r) in refined.iter().enumerate() {
            start[r] = unrefined[v];
        }
        for x in &mut node_of {
            *x = refined[*x];
        }
        let next = level.collapse(&refined, k);
        part = Partition::new(&next, start);
        collapsed = Some(next);
    }
    (node_of.iter().map(|&x| part.membership[x]).collect(), gain)
}

/// The first `n` integers in a random order (Fisher–Yates from the run's
/// stream).
fn permutation(rng: &mut RandomState, n: usize) -> Vec<usize> {
    let mut v: Vec<usize> = (0..n).collect();
    for i in (1..n).rev() {
        let j = rng.interval(i as u64) as usize;
        v.swap(i, j);
    }
    v
}

/// One run from `seed`: iterations until one brings no gain (at most
/// `max_iterations`, a guard against rounding cycles), labels renumbered
/// by community size descending then first node. Returns the modularity
/// and the labels.
#[must_use]
pub fn run(g: &Graph, seed: u32, max_iterations: usize) -> (f64, Vec<usize>) {
    let mut rng = RandomState::new(seed);
    let mut membership: Vec<usize> = (0..g.n()).collect();
    for _ in 0..max_iterations {
        let (next, gain) = iterate(g, membership, &mut rng);
        membership = next;
        if gain <= 0.0 {
            break;
        }
    }
    let q = g.modularity(&membership);
    (q, by_size(&membership))
}

/// Labels renumbered by size descending, then by first member.
fn by_size(membership: &[usize]) -> Vec<usize> {
    let k = membership.iter().max().map_or(0, |&c| c + 1);
    let mut count = vec![0usize; k];
    let mut first = vec![usize::MAX; k];
    for (v, &c) in membership.iter().enumerate() {
        count[c] += 1;
        first[c] = first[c].min(v);
    }
    let mut order: Vec<usize> = (0..k).filter(|&c| count[c] > 0).collect();
    order.sort_by_key(|&c| (std::cmp::Reverse(count[c]), first[c]));
    let mut label = vec![0; k];
    for (new, &c) in order.iter().enumerate() {
        label[c] = new;
    }
    membership.iter().map(|&c| label[c]).collect()
}

/// The best of `runs` runs with seeds `100·(r + shift)` for r = 1, 2, …
/// (the first of equal quality), runs spread over rayon's threads.
#[must_use]
pub fn best_of(g: &Graph, runs: usize, shift: u64) -> (f64, Vec<usize>) {
    let results: Vec<(f64, Vec<usize>)> = (1..=runs.max(1) as u64)
        .into_par_iter()
        .map(|r| run(g, (100 * (r + shift)) as u32, 1000))
        .collect();
    let mut best: Option<(f64, Vec<usize>)> = None;
    for (q, m) in results {
        if best.as_ref().is_none_or(|b| q > b.0) {
            best = Some((q, m));
        }
    }
    best.expect("at least one run")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A graph of `k` cliques of `size` nodes joined in a ring by one
    /// weak edge each, stored as both directions plus a diagonal.
    fn ring_of_cliques(k: usize, size: usize, weak: f64) -> Csr {
        let n = k * size;
        let rows = (0..n)
            .map(|i| {
                let c = i / size;
                let mut row: Vec<(usize, f64)> =
                    (c * size..(c + 1) * size).map(|j| (j, 1.0)).collect();
                if i % size == 0 {
                    row.push(((i + n - 1) % n, weak));
                }
                if i % size == size - 1 {
                    row.push(((i + 1) % n, weak));
                }
                row.sort_by_key(|e| e.0);
                row
            })
            .collect();
        Csr::from_rows(rows)
    }

    /// A symmetric matrix taken over gives the graph the general merge
    /// gives (a diagonal included); an asymmetric one takes the general way.
    #[test]
    fn symmetric_matrices_are_taken_over() {
        let mut m = ring_of_cliques(4, 5, 0.1);
        let n = m.n();
        let rows: Vec<Vec<(usize, f64)>> = (0..n)
            .map(|i| {
                let (c, v) = m.row(i);
                let mut r: Vec<(usize, f64)> =
                    c.iter().zip(v).map(|(&j, &x)| (j as usize, x)).collect();
                r.push((i, 0.25 + i as f64));
                r
            })
            .collect();
        m = Csr::from_rows(rows);
        assert!(is_symmetric(&m));
        assert_eq!(
            format!("{:?}", Graph::from_matrix(m.clone())),
            format!("{:?}", Graph::from_entries(&m))
        );
        let mut a = m.clone();
        a.data[1] += 0.5;
        assert!(!is_symmetric(&a));
        assert_eq!(
            format!("{:?}", Graph::from_matrix(a.clone())),
            format!("{:?}", Graph::from_entries(&a))
        );
    }

    /// Leiden finds the cliques of a ring of cliques (the known optimum
    /// for these sizes), labels them by size, and reports the modularity
    /// of what it returns; a different seed gives the same clustering.
    #[test]
    fn finds_the_cliques() {
        let g = Graph::from_entries(&ring_of_cliques(8, 6, 0.1));
        assert_eq!(g.n(), 48);
        for seed in [100, 200, 300] {
            let (q, m) = run(&g, seed, 100);
            for c in 0..8 {
                let l = m[c * 6];
                assert!((c * 6..c * 6 + 6).all(|v| m[v] == l), "seed {seed}: {m:?}");
            }
            let k = m.iter().max().unwrap() + 1;
            assert_eq!(k, 8);
            assert!((q - g.modularity(&m)).abs() < 1e-15);
            // Merging two neighbouring cliques is worse.
            let merged: Vec<usize> = m.iter().map(|&c| if c == m[6] { m[0] } else { c }).collect();
            assert!(g.modularity(&merged) < q);
        }
        // Uneven sizes: labels by size descending.
        let mut rows: Vec<Vec<(usize, f64)>> = Vec::new();
        for (lo, hi) in [(0, 3), (3, 10)] {
            for _ in lo..hi {
                rows.push((lo..hi).map(|j| (j, 1.0)).collect());
            }
        }
        rows[0].push((3, 0.01));
        rows[3].insert(0, (0, 0.01));
        let (_, m) = best_of(&Graph::from_entries(&Csr::from_rows(rows)), 2, 0);
        assert_eq!(m, [1, 1, 1, 0, 0, 0, 0, 0, 0, 0]);
    }

    /// Modularity by the formula on a two-node example: one edge each
    /// way (weight 1 each) and self-loops of 0.5.
    #[test]
    fn modularity_by_hand() {
        let m = Csr::from_rows(vec![vec![(0, 0.5), (1, 1.0)], vec![(0, 1.0), (1, 0.5)]]);
        let g = Graph::from_entries(&m);
        // m = 3; strengths 1 + 2·0.5 + 1 = 3 each.
        assert!((g.total - 3.0).abs() < 1e-15);
        let together = g.modularity(&[0, 0]);
        assert!((together - (3.0 / 3.0 - 1.0)).abs() < 1e-15, "{together}");
        let apart = g.modularity(&[0, 1]);
        assert!((apart - 2.0 * (0.5 / 3.0 - 0.25)).abs() < 1e-15, "{apart}");
    }
}
