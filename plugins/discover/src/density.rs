//! Density adaptation of the fine affinities (modisco-lite's
//! `_density_adaptation`): affinities become distances
//! `max(ln(2/a − 1), 0)`, symmetrised as the mean where both directions
//! exist; each row's bandwidth `β` is bisected to a target perplexity
//! (t-SNE's search); the weights are `sqrt(p_i·p_j)` with `p_i =
//! e^{−d/β_i}/Z_i` — divided by β, as modisco does — plus `1/Z_i` on the
//! diagonal. The result feeds Leiden.

use crate::numpy::pairwise_sum;

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
/// `neighbors[i][e]`.
#[must_use]
pub fn density_adapted<T: Copy + Into<f64>>(
    affinity: &[Vec<T>],
    neighbors: &[Vec<usize>],
    perplexity: f64,
) -> Csr {
    let n = affinity.len();
    let total: usize = affinity.iter().map(Vec::len).sum();
    let mut scratch: Vec<(usize, f64)> = Vec::new();
    let mut a = Csr::with_capacity(n, total);
    for i in 0..n {
        scratch.extend(
            affinity[i]
                .iter()
                .zip(&neighbors[i])
                .map(|(&x, &j)| (j, ((1.0 / (0.5 * x.into().max(1e-7))) - 1.0).ln().max(0.0))),
        );
        a.push_row(&mut scratch);
    }
    let b = a.transpose();
    // (A + Aᵀ) / (count of the two that store an entry).
    let mut d = Csr::with_capacity(n, a.indices.len() + b.indices.len());
    for i in 0..n {
        let ((ca, va), (cb, vb)) = (a.row(i), b.row(i));
        let (mut p, mut q) = (0, 0);
        while p < ca.len() || q < cb.len() {
            if q == cb.len() || (p < ca.len() && ca[p] < cb[q]) {
                scratch.push((ca[p] as usize, (va[p] + 0.0) / (1.0 + 0.0)));
                p += 1;
            } else if p == ca.len() || cb[q] < ca[p] {
                scratch.push((cb[q] as usize, (0.0 + vb[q]) / (0.0 + 1.0)));
                q += 1;
            } else {
                scratch.push((ca[p] as usize, (va[p] + vb[q]) / (1.0 + 1.0)));
                p += 1;
                q += 1;
            }
        }
        d.push_row(&mut scratch);
    }
    drop((a, b));
    let betas: Vec<f64> = (0..n).map(|i| perplexity_beta(perplexity, d.row(i).1)).collect();
    let z: Vec<f64> = (0..n)
        .map(|i| {
            let e: Vec<f64> = d.row(i).1.iter().map(|&x| (-x / betas[i]).exp()).collect();
            let mut s = 0.0;
            for block in e.chunks(8192) {
                s += pairwise_sum(block);
            }
            s + 1.0
        })
        .collect();
    let mut out = Csr::with_capacity(n, d.indices.len() + n);
    for i in 0..n {
        let (c, v) = d.row(i);
        scratch.extend(c.iter().zip(v).map(|(&j, &x)| {
            let j = j as usize;
            let pi = (-x / betas[i]).exp() / z[i];
            let pj = (-x / betas[j]).exp() / z[j];
            (j, (pi * pj).sqrt())
        }));
        scratch.push((i, 1.0 / z[i]));
        out.push_row(&mut scratch);
    }
    out
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
        let neighbors: Vec<Vec<usize>> =
            (0..n).map(|i| vec![i, (i + 1) % n, (i + 2) % n]).collect();
        let affinity: Vec<Vec<f64>> =
            (0..n).map(|i| vec![1.0, 0.8 - 0.05 * i as f64, 0.3]).collect();
        let m = density_adapted(&affinity, &neighbors, 2.0);
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
