//! Activation-weighted k-means (NeuronMotif clusters the samples of a
//! neuron on lower-layer feature maps, weighting each by its activation).
//!
//! Lloyd's algorithm with weighted k-means++ seeding and the best of
//! [`N_INIT`] seeded restarts (lowest weighted inertia), deterministic
//! given the generator. The original uses scikit-learn's MiniBatchKMeans
//! with `sample_weight`; full-batch Lloyd minimises the same objective.

use motif_core::rng::Rng;
use ndarray::{Array2, ArrayView2, Axis};
use rayon::prelude::*;

/// Restarts.
pub const N_INIT: usize = 3;
/// Most Lloyd iterations per restart.
pub const MAX_ITER: usize = 100;

fn dist2(a: &[f32], b: &[f32]) -> f64 {
    a.iter().zip(b).map(|(x, y)| f64::from(x - y).powi(2)).sum()
}

fn assign(x: ArrayView2<'_, f32>, c: &Array2<f32>) -> Vec<(usize, f64)> {
    let rows: Vec<usize> = (0..x.nrows()).collect();
    rows.par_iter()
        .map(|&i| {
            let xi = x.row(i);
            let xi = xi.as_slice().expect("standard layout");
            let mut best = (0, f64::INFINITY);
            for (k, ck) in c.axis_iter(Axis(0)).enumerate() {
                let d = dist2(xi, ck.as_slice().expect("standard layout"));
                if d < best.1 {
                    best = (k, d);
                }
            }
            best
        })
        .collect()
}

fn seed(x: ArrayView2<'_, f32>, w: &[f64], k: usize, rng: &mut Rng) -> Array2<f32> {
    let n = x.nrows();
    let mut c = Array2::<f32>::zeros((k, x.ncols()));
    let first = rng.pick(w);
    c.row_mut(0).assign(&x.row(first));
    let mut d: Vec<f64> = (0..n)
        .map(|i| dist2(x.row(i).as_slice().expect("std"), c.row(0).as_slice().expect("std")))
        .collect();
    for j in 1..k {
        let p: Vec<f64> = d.iter().zip(w).map(|(a, b)| a * b).collect();
        let pick = if p.iter().sum::<f64>() > 0.0 { rng.pick(&p) } else { rng.below(n) };
        c.row_mut(j).assign(&x.row(pick));
        for (i, di) in d.iter_mut().enumerate() {
            let nd = dist2(x.row(i).as_slice().expect("std"), c.row(j).as_slice().expect("std"));
            if nd < *di {
                *di = nd;
            }
        }
    }
    c
}

/// Cluster labels (0..k) of the rows of `x` weighted by `w` (≥ 0).
/// With fewer rows than `k`, every row is its own cluster.
#[must_use]
pub fn weighted_kmeans(x: ArrayView2<'_, f32>, w: &[f64], k: usize, rng: &mut Rng) -> Vec<usize> {
    let n = x.nrows();
    if k <= 1 || n <= k {
        return (0..n).map(|i| if k <= 1 { 0 } else { i }).collect();
    }
    let x = x.as_standard_layout();
    let w: Vec<f64> = if w.iter().sum::<f64>() > 0.0 { w.to_vec() } else { vec![1.0; n] };
    let mut best: Option<(f64, Vec<usize>)> = None;
    for _ in 0..N_INIT {
        let mut c = seed(x.view(), &w, k, rng);
        let mut labels = vec![usize::MAX; n];
        let mut inertia = f64::INFINITY;
        for _ in 0..MAX_ITER {
            let a = assign(x.view(), &c);
            let changed = a.iter().zip(&labels).any(|(n, o)| n.0 != *o);
            labels = a.iter().map(|p| p.0).collect();
            inertia = a.iter().zip(&w).map(|(p, wi)| p.1 * wi).sum();
            if !changed {
                break;
            }
            let mut sum = Array2::<f64>::zeros(c.dim());
            let mut mass = vec![0.0f64; k];
            for (i, &l) in labels.iter().enumerate() {
                mass[l] += w[i];
                let mut row = sum.row_mut(l);
                for (s, &v) in row.iter_mut().zip(x.row(i)) {
                    *s += w[i] * f64::from(v);
                }
            }
            for (j, &mj) in mass.iter().enumerate() {
                if mj > 0.0 {
                    c.row_mut(j).assign(&sum.row(j).mapv(|v| (v / mj) as f32));
                }
            }
        }
        if best.as_ref().is_none_or(|b| inertia < b.0) {
            best = Some((inertia, labels));
        }
    }
    best.expect("N_INIT > 0").1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn separates_weighted_blobs_deterministically() {
        let mut rng = Rng::new(3);
        let centres = [[0.0f32, 0.0], [10.0, 0.0], [0.0, 10.0]];
        let x =
            Array2::from_shape_fn((300, 2), |(i, j)| centres[i % 3][j] + (rng.f64() as f32 - 0.5));
        let w: Vec<f64> = (0..300).map(|i| 1.0 + (i % 7) as f64).collect();
        let a = weighted_kmeans(x.view(), &w, 3, &mut Rng::new(1));
        let b = weighted_kmeans(x.view(), &w, 3, &mut Rng::new(1));
        assert_eq!(a, b);
        for i in 0..300 {
            assert_eq!(a[i], a[i % 3], "row {i}");
        }
        assert_ne!(a[0], a[1]);
        assert_ne!(a[1], a[2]);
        assert_ne!(a[0], a[2]);
    }
}
