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
    pub indices: Vec<usize>,
    /// Value of each entry.
    pub data: Vec<f64>,
}

impl Csr {
    /// Rows.
    #[must_use]
    pub fn n(&self) -> usize {
        self.indptr.len() - 1
    }

    /// Row `i`'s columns and values.
    #[must_use]
    pub fn row(&self, i: usize) -> (&[usize], &[f64]) {
        let (a, b) = (self.indptr[i], self.indptr[i + 1]);
        (&self.indices[a..b], &self.data[a..b])
    }

    /// From rows of (column, value): duplicates summed in column order
    /// (scipy's), zeros dropped, columns sorted.
    #[must_use]
    pub fn from_rows(rows: Vec<Vec<(usize, f64)>>) -> Self {
        let mut out = Self { indptr: vec![0], indices: Vec::new(), data: Vec::new() };
        for mut row in rows {
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
                    out.indices.push(c);
                    out.data.push(v);
                }
            }
            out.indptr.push(out.indices.len());
        }
        out
    }

    /// The transpose (columns sorted).
    #[must_use]
    pub fn transpose(&self) -> Self {
        let n = self.n();
        let mut rows: Vec<Vec<(usize, f64)>> = vec![Vec::new(); n];
        for i in 0..n {
            let (c, v) = self.row(i);
            for (&j, &x) in c.iter().zip(v) {
                rows[j].push((i, x));
            }
        }
        Self::from_rows(rows)
    }
}

/// t-SNE's bisection for the `β` whose row distribution `e^{−β d}/(1 +
/// Σ e^{−β d})` has entropy `ln perplexity` (100 steps, tolerance 1e-5;
/// sums in order, as the compiled reference adds them).
#[must_use]
pub fn perplexity_beta(perplexity: f64, d: &[f64]) -> f64 {
    let target = perplexity.ln();
    let (mut lo, mut hi, mut beta) = (f64::NEG_INFINITY, f64::INFINITY, 1.0);
    for _ in 0..100 {
        let ps: Vec<f64> = d.iter().map(|&x| (-x * beta).exp()).collect();
        let sum = ps.iter().fold(0.0, |s, &p| s + p) + 1.0;
        let norm = sum.max(1e-8);
        let spread = d.iter().zip(&ps).fold(0.0, |s, (&x, &p)| s + x * (p / norm));
        let diff = sum.ln() + beta * spread - target;
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
    beta
}

/// The density-adapted affinity matrix of the kNN `affinity[i][e]` to
/// `neighbors[i][e]`.
#[must_use]
pub fn density_adapted(affinity: &[Vec<f64>], neighbors: &[Vec<usize>], perplexity: f64) -> Csr {
    let n = affinity.len();
    let rows: Vec<Vec<(usize, f64)>> = (0..n)
        .map(|i| {
            affinity[i]
                .iter()
                .zip(&neighbors[i])
                .map(|(&a, &j)| (j, ((1.0 / (0.5 * a.max(1e-7))) - 1.0).ln().max(0.0)))
                .collect()
        })
        .collect();
    let a = Csr::from_rows(rows);
    let b = a.transpose();
    // (A + Aᵀ) / (count of the two that store an entry).
    let mut sym: Vec<Vec<(usize, f64)>> = Vec::with_capacity(n);
    for i in 0..n {
        let ((ca, va), (cb, vb)) = (a.row(i), b.row(i));
        let (mut p, mut q, mut row) = (0, 0, Vec::with_capacity(ca.len() + cb.len()));
        while p < ca.len() || q < cb.len() {
            if q == cb.len() || (p < ca.len() && ca[p] < cb[q]) {
                row.push((ca[p], (va[p] + 0.0) / (1.0 + 0.0)));
                p += 1;
            } else if p == ca.len() || cb[q] < ca[p] {
                row.push((cb[q], (0.0 + vb[q]) / (0.0 + 1.0)));
                q += 1;
            } else {
                row.push((ca[p], (va[p] + vb[q]) / (1.0 + 1.0)));
                p += 1;
                q += 1;
            }
        }
        sym.push(row);
    }
    let d = Csr::from_rows(sym);
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
    let mut out: Vec<Vec<(usize, f64)>> = Vec::with_capacity(n);
    for i in 0..n {
        let (c, v) = d.row(i);
        let mut row: Vec<(usize, f64)> = c
            .iter()
            .zip(v)
            .map(|(&j, &x)| {
                let pi = (-x / betas[i]).exp() / z[i];
                let pj = (-x / betas[j]).exp() / z[j];
                (j, (pi * pj).sqrt())
            })
            .collect();
        row.push((i, 1.0 / z[i]));
        out.push(row);
    }
    Csr::from_rows(out)
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
            (m.indptr[i]..m.indptr[i + 1]).find(|&p| m.indices[p] == j).map(|p| m.data[p])
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
