//! Activation-weighted k-means (NeuronMotif clusters the samples of a
//! neuron on lower-layer feature maps, weighting each by its activation).
//!
//! Lloyd's algorithm with weighted k-means++ seeding and the best of
//! [`N_INIT`] seeded restarts (lowest weighted inertia), deterministic
//! given the generator. The original uses scikit-learn's MiniBatchKMeans
//! with `sample_weight`; full-batch Lloyd minimises the same objective.
//! A restart stops when no label changes or, as in scikit-learn's
//! `KMeans`, when the centres move less than [`TOL`] × the mean variance
//! of the features (squared distance summed over centres).

use motif_core::rng::Rng;
use ndarray::{Array2, ArrayView2, Axis};
use rayon::prelude::*;

/// Restarts.
pub const N_INIT: usize = 3;
/// Most Lloyd iterations per restart.
pub const MAX_ITER: usize = 100;
/// Relative tolerance on the centres' movement (scikit-learn's default).
pub const TOL: f64 = 1e-4;

/// Squared distance with eight independent partial sums (vectorises).
#[inline(always)]
fn dist2(a: &[f32], b: &[f32]) -> f64 {
    let mut acc = [0.0f32; 8];
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for j in 0..8 {
            let d = x[j] - y[j];
            acc[j] += d * d;
        }
    }
    let tail: f32 = ra.iter().zip(rb).map(|(x, y)| (x - y) * (x - y)).sum();
    f64::from(acc.iter().sum::<f32>() + tail)
}

/// Weighted per-cluster sums of the rows and the clusters' masses.
fn centre_sums(
    x: ArrayView2<'_, f32>,
    w: &[f64],
    labels: &[usize],
    k: usize,
) -> (Vec<f64>, Vec<f64>) {
    let d = x.ncols();
    let rows: Vec<usize> = (0..x.nrows()).collect();
    rows.par_chunks(4096)
        .map(|chunk| {
            let mut sum = vec![0.0f64; k * d];
            let mut mass = vec![0.0f64; k];
            for &i in chunk {
                let l = labels[i];
                mass[l] += w[i];
                let xi = x.row(i);
                let xi = xi.as_slice().expect("standard layout");
                for (s, &v) in sum[l * d..(l + 1) * d].iter_mut().zip(xi) {
                    *s += w[i] * f64::from(v);
                }
            }
            (sum, mass)
        })
        .reduce(
            || (vec![0.0; k * d], vec![0.0; k]),
            |(mut s1, mut m1), (s2, m2)| {
                s1.iter_mut().zip(&s2).for_each(|(a, b)| *a += b);
                m1.iter_mut().zip(&m2).for_each(|(a, b)| *a += b);
                (s1, m1)
            },
        )
}

/// Mean over features of the (unweighted) variance, as scikit-learn scales `tol`.
fn mean_variance(x: ArrayView2<'_, f32>) -> f64 {
    let (n, d) = x.dim();
    if n == 0 || d == 0 {
        return 0.0;
    }
    let (mut s1, mut s2) = (vec![0.0f64; d], vec![0.0f64; d]);
    for row in x.rows() {
        for ((a, b), &v) in s1.iter_mut().zip(s2.iter_mut()).zip(row) {
            let v = f64::from(v);
            *a += v;
            *b += v * v;
        }
    }
    let n = n as f64;
    s1.iter().zip(&s2).map(|(a, b)| (b / n - (a / n).powi(2)).max(0.0)).sum::<f64>() / d as f64
}

/// Nearest centre of each row of `x` (rows `from..to`) and its squared distance.
#[inline(always)]
fn nearest_rows(
    x: ArrayView2<'_, f32>,
    c: &Array2<f32>,
    from: usize,
    to: usize,
) -> Vec<(usize, f64)> {
    // a plain loop: an iterator adapter's closure is compiled outside the
    // caller's target features, which would lose the AVX2 copy below
    let mut out = Vec::with_capacity(to - from);
    for i in from..to {
        let xi = x.row(i);
        let xi = xi.as_slice().expect("standard layout");
        let mut best = (0, f64::INFINITY);
        for (k, ck) in c.axis_iter(Axis(0)).enumerate() {
            let d = dist2(xi, ck.as_slice().expect("standard layout"));
            if d < best.1 {
                best = (k, d);
            }
        }
        out.push(best);
    }
    out
}

/// [`nearest_rows`] compiled for AVX2: the same operations in the same
/// order on wider vectors (no FMA), so the results are bit-identical.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn nearest_rows_avx2(
    x: ArrayView2<'_, f32>,
    c: &Array2<f32>,
    from: usize,
    to: usize,
) -> Vec<(usize, f64)> {
    nearest_rows(x, c, from, to)
}

fn assign(x: ArrayView2<'_, f32>, c: &Array2<f32>) -> Vec<(usize, f64)> {
    const BLOCK: usize = 512;
    let n = x.nrows();
    let blocks: Vec<usize> = (0..n.div_ceil(BLOCK)).collect();
    let parts: Vec<Vec<(usize, f64)>> = blocks
        .par_iter()
        .map(|&b| {
            let (from, to) = (b * BLOCK, ((b + 1) * BLOCK).min(n));
            #[cfg(target_arch = "x86_64")]
            if std::arch::is_x86_feature_detected!("avx2") {
                #[allow(unsafe_code)]
                // SAFETY: the function only enables AVX2, which the CPU was
                // just checked to support.
                return unsafe { nearest_rows_avx2(x, c, from, to) };
            }
            nearest_rows(x, c, from, to)
        })
        .collect();
    parts.concat()
}

fn seed(x: ArrayView2<'_, f32>, w: &[f64], k: usize, rng: &mut Rng) -> Array2<f32> {
    let n = x.nrows();
    let mut c = Array2::<f32>::zeros((k, x.ncols()));
    let first = rng.pick(w);
    c.row_mut(0).assign(&x.row(first));
    let to = |c: &Array2<f32>, j: usize| -> Vec<f64> {
        let cj = c.row(j);
        let cj = cj.as_slice().expect("standard layout");
        (0..n)
            .into_par_iter()
            .map(|i| dist2(x.row(i).as_slice().expect("standard layout"), cj))
            .collect()
    };
    let mut d = to(&c, 0);
    for j in 1..k {
        let p: Vec<f64> = d.iter().zip(w).map(|(a, b)| a * b).collect();
        let pick = if p.iter().sum::<f64>() > 0.0 { rng.pick(&p) } else { rng.below(n) };
        c.row_mut(j).assign(&x.row(pick));
        for (di, nd) in d.iter_mut().zip(to(&c, j)) {
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
    let tol = TOL * mean_variance(x.view());
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
            let (sum, mass) = centre_sums(x.view(), &w, &labels, k);
            let d = x.ncols();
            let mut shift = 0.0;
            for (j, &mj) in mass.iter().enumerate() {
                if mj > 0.0 {
                    for (cv, &s) in c.row_mut(j).iter_mut().zip(&sum[j * d..(j + 1) * d]) {
                        let nv = (s / mj) as f32;
                        shift += f64::from(nv - *cv).powi(2);
                        *cv = nv;
                    }
                }
            }
            if shift <= tol {
                let a = assign(x.view(), &c);
                labels = a.iter().map(|p| p.0).collect();
                inertia = a.iter().zip(&w).map(|(p, wi)| p.1 * wi).sum();
                break;
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
        let w: Vec<f64> = (0..300).map(|i| 1.0 + f64::from(i % 7)).collect();
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
