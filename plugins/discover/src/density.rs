//! Density adaptation of the fine affinities (modisco-lite's
//! `_density_adaptation`): affinities become distances
//! `max(ln(2/a − 1), 0)`, symmetrised as the mean where both directions
//! exist; each row's bandwidth `β` is bisected to a target perplexity
//! (t-SNE's search); the weights are `sqrt(p_i·p_j)` with `p_i =
//! e^{−d/β_i}/Z_i` — divided by β, as modisco does — plus `1/Z_i` on the
//! diagonal. The result feeds Leiden.

use crate::numpy::pairwise_sum;
use motif_core::plugin::{Table, split_rows};
use rayon::prelude::*;

/// A square sparse matrix in CSR form, column indices sorted per row.
#[derive(Debug, Clone, PartialEq)]
pub struct Csr {
    /// Row starts (`n + 1`).
    pub indptr: Vec<usize>,
    /// Column of each entry.
    pub indices: Vec<u32>,
    /// Value of each entry.
    pub data: Vec<f64>,
}

impl Csr {
    /// An empty matrix to push rows onto.
    #[must_use]
    pub fn with_capacity(rows: usize, entries: usize) -> Self {
        let mut indptr = Vec::with_capacity(rows + 1);
        indptr.push(0);
        Self { indptr, indices: Vec::with_capacity(entries), data: Vec::with_capacity(entries) }
    }

    /// Rows.
    #[must_use]
    pub fn n(&self) -> usize {
        self.indptr.len() - 1
    }

    /// Row `i`'s columns and values.
    #[must_use]
    pub fn row(&self, i: usize) -> (&[u32], &[f64]) {
        let (a, b) = (self.indptr[i], self.indptr[i + 1]);
        (&self.indices[a..b], &self.data[a..b])
    }

    /// Appends a row of (column, value): sorted by column, duplicates
    /// summed in column order (scipy's), zeros dropped. `row` is left
    /// empty (a scratch buffer to reuse).
    pub fn push_row(&mut self, row: &mut Vec<(usize, f64)>) {
        row.sort_by_key(|e| e.0);
        let mut k = 0;
        while k < row.len() {
            let (c, mut v) = row[k];
            k += 1;
            while k < row.len() && row[k].0 == c {
                v += row[k].1;
                k += 1;
            }
            if v != 0.0 {
                self.indices.push(u32::try_from(c).expect("fewer than 2³² seqlets"));
                self.data.push(v);
            }
        }
        self.indptr.push(self.indices.len());
        row.clear();
    }

    /// From rows of (column, value), as [`Csr::push_row`] adds them.
    #[must_use]
    pub fn from_rows(rows: Vec<Vec<(usize, f64)>>) -> Self {
        let total = rows.iter().map(Vec::len).sum();
        let mut out = Self::with_capacity(rows.len(), total);
        for mut row in rows {
            out.push_row(&mut row);
        }
        out
    }

    /// The transpose (columns sorted): a counting sort by column, rows
    /// visited in order.
    #[must_use]
    pub fn transpose(&self) -> Self {
        let n = self.n();
        let mut indptr = vec![0usize; n + 1];
        for &j in &self.indices {
            indptr[j as usize + 1] += 1;
        }
        for k in 0..n {
            indptr[k + 1] += indptr[k];
        }
        let mut fill = indptr.clone();
        let mut indices = vec![0u32; self.indices.len()];
        let mut data = vec![0f64; self.data.len()];
        for i in 0..n {
            let (c, v) = self.row(i);
            for (&j, &x) in c.iter().zip(v) {
                let at = &mut fill[j as usize];
                indices[*at] = i as u32;
                data[*at] = x;
                *at += 1;
            }
        }
        Self { indptr, indices, data }
    }
}

impl From<Csr> for motif_core::plugin::SparseGraph {
    fn from(m: Csr) -> Self {
        Self { indptr: m.indptr, indices: m.indices, data: m.data }
    }
}

/// t-SNE's bisection for the `β` whose row distribution `e^{−β d}/(1 +
/// Σ e^{−β d})` has entropy `ln perplexity` (100 steps, tolerance 1e-5;
/// sums in order, as the compiled reference adds them).
#[must_use]
pub fn perplexity_beta(perplexity: f64, d: &[f64]) -> f64 {
    bisect(perplexity.ln(), |beta| {
        let ps: Vec<f64> = d.iter().map(|&x| (-x * beta).exp()).collect();
        let sum = ps.iter().fold(0.0, |s, &p| s + p) + 1.0;
        let norm = sum.max(1e-8);
        let spread = d.iter().zip(&ps).fold(0.0, |s, (&x, &p)| s + x * (p / norm));
        sum.ln() + beta * spread
    })
    .1
}

/// t-SNE's bisection for a precision `β`: from 1, doubled or halved until
/// the entropy `entropy(β)` is bracketed around `target`, then midpoints;
/// at most 100 evaluations, stopping within 1e-5. Returns the last `β`
/// evaluated and the one the search would try next (modisco returns the
/// latter, scikit-learn's probabilities are those of the former; they
/// differ only when the 100 steps run out).
pub fn bisect(target: f64, mut entropy: impl FnMut(f64) -> f64) -> (f64, f64) {
    let (mut lo, mut hi, mut beta) = (f64::NEG_INFINITY, f64::INFINITY, 1.0f64);
    let mut last = beta;
    for _ in 0..100 {
        last = beta;
        let diff = entropy(beta) - target;
        if diff.abs() <= 1e-5 {
            break;
        }
        if diff > 0.0 {
            lo = beta;
            beta = if hi == f64::INFINITY { beta * 2.0 } else { f64::midpoint(beta, hi) };
        } else {
            hi = beta;
            beta = if lo == f64::NEG_INFINITY { beta / 2.0 } else { f64::midpoint(beta, lo) };
        }
    }
    (last, beta)
}

/// The density-adapted affinity matrix of the kNN `affinity[i][e]` to
/// `neighbors[i][e]` (each row's neighbours distinct). The rows are sorted
/// by neighbour in place (the pairs kept together); the matrix is built in
/// one array, without transposes.
#[must_use]
pub fn density_adapted<T: Copy + Default + Into<f64> + Send + Sync>(
    affinity: &mut Table<T>,
    neighbors: &mut Table<u32>,
    perplexity: f64,
) -> Csr {
    let n = affinity.len();
    let dist = |x: T| ((1.0 / (0.5 * x.into().max(1e-7))) - 1.0).ln().max(0.0);
    affinity.rows_mut().into_par_iter().zip(neighbors.rows_mut()).for_each(|(a, nb)| {
        let mut pairs: Vec<(u32, T)> = nb.iter().copied().zip(a.iter().copied()).collect();
        pairs.sort_by_key(|e| e.0);
        debug_assert!(pairs.windows(2).all(|w| w[0].0 < w[1].0), "distinct neighbours");
        for (k, (j, x)) in pairs.into_iter().enumerate() {
            nb[k] = j;
            a[k] = x;
        }
    });
    let (d, diag) = symmetrized(affinity, neighbors, &dist);
    // Each row's distances without an added slot, as stored in D.
    let values = |i: usize| -> Vec<f64> {
        let (a, b) = (d.indptr[i], d.indptr[i + 1]);
        let (at, held) = diag[i];
        if held {
            d.data[a..b].to_vec()
        } else {
            d.data[a..at].iter().chain(&d.data[at + 1..b]).copied().collect()
        }
    };
    let (betas, z): (Vec<f64>, Vec<f64>) = (0..n)
        .into_par_iter()
        .map(|i| {
            let v = values(i);
            let beta = perplexity_beta(perplexity, &v);
            let e: Vec<f64> = v.iter().map(|&x| (-x / beta).exp()).collect();
            let mut s = 0.0;
            for block in e.chunks(8192) {
                s += pairwise_sum(block);
            }
            (beta, s + 1.0)
        })
        .unzip();
    // In place: the weights sqrt(p_i·p_j), 1/Z_i added on the diagonal
    // (rows in parallel); then zeros dropped.
    let mut out = d;
    let rows = split_rows(&mut out.data, &out.indptr);
    let (indptr, indices) = (&out.indptr, &out.indices);
    rows.into_par_iter().enumerate().for_each(|(i, row)| {
        for (e, v) in (indptr[i]..).zip(row.iter_mut()) {
            let (j, x) = (indices[e] as usize, *v);
            let p = |k: usize| (-x / betas[k]).exp() / z[k];
            *v = match diag[i] {
                (slot, true) if slot == e => (p(i) * p(i)).sqrt() + 1.0 / z[i],
                (slot, false) if slot == e => 1.0 / z[i],
                _ => (p(i) * p(j)).sqrt(),
            };
        }
    });
    let mut at = 0;
    let mut start = 0;
    for i in 0..n {
        let end = out.indptr[i + 1];
        for e in start..end {
            if out.data[e] != 0.0 {
                out.indices[at] = out.indices[e];
                out.data[at] = out.data[e];
                at += 1;
            }
        }
        start = end;
        out.indptr[i + 1] = at;
    }
    out.indices.truncate(at);
    out.data.truncate(at);
    out
}

/// How an entry `(j, i)` of A stands in D.
#[derive(Clone, Copy, PartialEq, Eq, Default)]
enum Kind {
    /// Not stored (distance zero).
    #[default]
    Zero,
    /// Stored, and `(i, j)` too.
    Both,
    /// Stored only here: Aᵀ adds `(i, j)` to row `i`.
    OneSided,
}

/// A's entries and their distances.
struct Stored<'a, T> {
    affinity: &'a Table<T>,
    neighbors: &'a Table<u32>,
    dist: &'a (dyn Fn(T) -> f64 + Sync),
}

impl<T: Copy + Send + Sync> Stored<'_, T> {
    /// A's entry `(i, j)`: the distance, when nonzero (zeros are not
    /// stored).
    fn entry(&self, i: usize, j: usize) -> Option<f64> {
        let k = self.neighbors[i].binary_search(&(j as u32)).ok()?;
        Some((self.dist)(self.affinity[i][k])).filter(|&d| d != 0.0)
    }

    /// Every entry's [`Kind`], rows in parallel.
    fn kinds(&self) -> Table<Kind> {
        let mut kind = Table::shaped_as(self.neighbors, Kind::Zero);
        kind.rows_mut().into_par_iter().enumerate().for_each(|(j, row)| {
            for ((k, &i), &x) in row.iter_mut().zip(&self.neighbors[j]).zip(&self.affinity[j]) {
                *k = if (self.dist)(x) == 0.0 {
                    Kind::Zero
                } else if self.entry(i as usize, j).is_some() {
                    Kind::Both
                } else {
                    Kind::OneSided
                };
            }
        });
        kind
    }

    /// Row `i` of D into `ind`, `dat` (sized for it): A's stored entries
    /// (averaged with Aᵀ's where both hold one), Aᵀ's `extra` ones, and
    /// the diagonal slot (a zero entry unless A stores `(i, i)`). The
    /// slot's place within the row, and whether A stores it.
    fn d_row(
        &self,
        i: usize,
        kind: &[Kind],
        extra: &[(u32, T)],
        (ind, dat): (&mut [u32], &mut [f64]),
    ) -> (usize, bool) {
        let dist = self.dist;
        let own = self.neighbors[i].iter().zip(&self.affinity[i]).zip(kind).filter_map(
            |((&j, &x), &k)| {
                let j = j as usize;
                (k != Kind::Zero).then(|| {
                    let va = dist(x);
                    (j, self.entry(j, i).map_or(va / 1.0, |vb| f64::midpoint(va, vb)))
                })
            },
        );
        let mut others = extra.iter().map(|&(j, x)| (j as usize, dist(x)));
        let mut own = own.peekable();
        let mut next_other = others.next();
        let mut slot = None;
        let mut w = 0;
        let mut put = |w: &mut usize, j: usize, v: f64| {
            ind[*w] = j as u32;
            dat[*w] = v;
            *w += 1;
            *w - 1
        };
        loop {
            let take_own = match (own.peek(), next_other) {
                (None, None) => break,
                (Some(_), None) => true,
                (None, Some(_)) => false,
                (Some(&(a, _)), Some((b, _))) => a < b,
            };
            let (j, v) = if take_own {
                own.next().expect("peeked")
            } else {
                let e = next_other.expect("present");
                next_other = others.next();
                e
            };
            if slot.is_none() && j >= i {
                slot = Some(if j > i { (put(&mut w, i, 0.0), false) } else { (w, true) });
            }
            put(&mut w, j, v);
        }
        slot.unwrap_or_else(|| (put(&mut w, i, 0.0), false))
    }
}

/// D = (A + Aᵀ) / (count of the two that store an entry) of the distances
/// `dist(affinity)` at `neighbors` (rows sorted), each row with a slot for
/// the diagonal weight: its place, and whether D holds a diagonal entry
/// there. Rows are built in parallel.
#[allow(clippy::type_complexity)]
fn symmetrized<T: Copy + Default + Send + Sync>(
    affinity: &Table<T>,
    neighbors: &Table<u32>,
    dist: &(dyn Fn(T) -> f64 + Sync),
) -> (Csr, Vec<(usize, bool)>) {
    let n = affinity.len();
    let a = Stored { affinity, neighbors, dist };
    let kind = a.kinds();
    // Aᵀ's entries missing from A, by row, columns ascending: (j, the
    // affinity as stored; its distance formed when read).
    let one_sided = |j: usize| {
        neighbors[j]
            .iter()
            .zip(&affinity[j])
            .zip(&kind[j])
            .filter(|e| *e.1 == Kind::OneSided)
            .map(|e| e.0)
    };
    let mut extra_start = vec![0usize; n + 1];
    for j in 0..n {
        for (i, _) in one_sided(j) {
            extra_start[*i as usize + 1] += 1;
        }
    }
    for i in 0..n {
        extra_start[i + 1] += extra_start[i];
    }
    let mut fill = extra_start.clone();
    let mut extra: Vec<(u32, T)> = vec![(0, T::default()); extra_start[n]];
    for j in 0..n {
        let j32 = u32::try_from(j).expect("fewer than 2³² seqlets");
        for (&i, &x) in one_sided(j) {
            extra[fill[i as usize]] = (j32, x);
            fill[i as usize] += 1;
        }
    }
    drop(fill);
    let mut indptr = Vec::with_capacity(n + 1);
    indptr.push(0);
    for i in 0..n {
        let own = kind[i].iter().filter(|&&k| k != Kind::Zero).count();
        let held =
            neighbors[i].iter().zip(&kind[i]).any(|(&j, &k)| j as usize == i && k != Kind::Zero);
        indptr.push(indptr[i] + own + (extra_start[i + 1] - extra_start[i]) + usize::from(!held));
    }
    let total = indptr[n];
    let mut d = Csr { indptr, indices: vec![0; total], data: vec![0.0; total] };
    let rows =
        split_rows(&mut d.indices, &d.indptr).into_iter().zip(split_rows(&mut d.data, &d.indptr));
    let indptr = &d.indptr;
    let diag: Vec<(usize, bool)> = rows
        .collect::<Vec<_>>()
        .into_par_iter()
        .enumerate()
        .map(|(i, row)| {
            let (at, held) = a.d_row(i, &kind[i], &extra[extra_start[i]..extra_start[i + 1]], row);
            (indptr[i] + at, held)
        })
        .collect();
    (d, diag)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The weights are symmetric, the diagonal is 1/Z, self-affinities
    /// (distance 0) vanish before the diagonal is added, and β reaches the
    /// perplexity it is bisected for.
    #[test]
    fn weights_are_symmetric_with_a_diagonal() {
        let n = 6;
        let neighbors =
            Table::from_rows((0..n as u32).map(|i| [i, (i + 1) % n as u32, (i + 2) % n as u32]));
        let affinity = Table::from_rows((0..n).map(|i| [1.0, 0.8 - 0.05 * i as f64, 0.3]));
        let m = density_adapted(&mut affinity.clone(), &mut neighbors.clone(), 2.0);
        let at = |i: usize, j: usize| {
            (m.indptr[i]..m.indptr[i + 1]).find(|&p| m.indices[p] as usize == j).map(|p| m.data[p])
        };
        for i in 0..n {
            assert!(at(i, i).is_some_and(|v| v > 0.0 && v < 1.0), "diagonal of row {i}");
            for j in 0..n {
                if i != j {
                    assert_eq!(at(i, j).is_some(), at(j, i).is_some(), "pattern ({i}, {j})");
                    if let (Some(a), Some(b)) = (at(i, j), at(j, i)) {
                        assert!((a - b).abs() < 1e-15, "({i}, {j}): {a} vs {b}");
                    }
                }
            }
        }
        let d = [0.5, 1.0, 2.0, 3.0];
        let beta = perplexity_beta(3.0, &d);
        let ps: Vec<f64> = d.iter().map(|x| (-x * beta).exp()).collect();
        let z = ps.iter().sum::<f64>() + 1.0;
        let h = z.ln() + beta * d.iter().zip(&ps).map(|(x, p)| x * p / z).sum::<f64>();
        assert!((h - 3f64.ln()).abs() <= 1e-5, "entropy {h}");
    }
}
