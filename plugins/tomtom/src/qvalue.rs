//! q-values as MEME's `compute_qvalues` makes them: Storey's π0 chosen by
//! bootstrap (100 λ on (0, 0.5], 100 resamples of 1000 p-values), then
//! Benjamini–Hochberg with the running minimum from the largest p-value.

use crate::mt::MemeRng;

const NUM_LAMBDA: usize = 100;
const MAX_LAMBDA: f64 = 0.5;
const NUM_BOOTSTRAPS: usize = 100;
const NUM_BOOTSTRAP_SAMPLES: usize = 1000;
/// π0 is estimated only from more than this many p-values.
const MIN_SAMPLES: usize = 100;

/// How many draws [`p_to_q`] takes from the stream for `n` p-values.
#[must_use]
pub fn draws_per_query(n: usize) -> usize {
    if n > MIN_SAMPLES { NUM_BOOTSTRAPS * NUM_BOOTSTRAP_SAMPLES } else { 0 }
}

fn lambda(k: usize) -> f64 {
    ((k + 1) as f64 / NUM_LAMBDA as f64) * MAX_LAMBDA
}

/// π0(λ) from counts of p-values ≥ λ; infinite when none is.
fn pi0(count_ge: usize, lambda: f64, n: usize) -> f64 {
    let v = count_ge as f64 / ((1.0 - lambda) * n as f64);
    if v == 0.0 { f64::INFINITY } else { v }
}

/// Storey's π0 for ascending `sorted` p-values, drawing the bootstrap from
/// `rng` exactly as MEME does (100 000 `ldrand` calls).
pub fn estimate_pi_zero(sorted: &[f64], rng: &mut MemeRng) -> f64 {
    let n = sorted.len();
    // bin[r] = number of λ_k ≤ sorted[r], so "p ≥ λ_k" ⇔ bin > k
    let lambdas: Vec<f64> = (0..NUM_LAMBDA).map(lambda).collect();
    let bin: Vec<u8> = sorted.iter().map(|&p| lambdas.partition_point(|&l| l <= p) as u8).collect();
    let counts_ge = |hist: &[usize; NUM_LAMBDA + 1]| -> [usize; NUM_LAMBDA] {
        let mut out = [0usize; NUM_LAMBDA];
        let mut acc = 0;
        for k in (0..NUM_LAMBDA).rev() {
            acc += hist[k + 1];
            out[k] = acc;
        }
        out
    };
    let mut hist = [0usize; NUM_LAMBDA + 1];
    for &b in &bin {
        hist[b as usize] += 1;
    }
    let full = counts_ge(&hist);
    let pi_zeroes: Vec<f64> = (0..NUM_LAMBDA).map(|k| pi0(full[k], lambdas[k], n)).collect();
    let min_pi0 = pi_zeroes.iter().copied().fold(f64::INFINITY, f64::min);
    let mut mse = [0.0f64; NUM_LAMBDA];
    let mut idx = vec![0u32; NUM_BOOTSTRAP_SAMPLES];
    for _ in 0..NUM_BOOTSTRAPS {
        rng.fill_indices(n, &mut idx);
        let mut h4 = [[0usize; NUM_LAMBDA + 1]; 4];
        for c in idx.chunks_exact(4) {
            for k in 0..4 {
                h4[k][usize::from(bin[c[k] as usize])] += 1;
            }
        }
        let mut hist = [0usize; NUM_LAMBDA + 1];
        for b in 0..=NUM_LAMBDA {
            hist[b] = h4[0][b] + h4[1][b] + h4[2][b] + h4[3][b];
        }
        let c = counts_ge(&hist);
        for k in 0..NUM_LAMBDA {
            let e = pi0(c[k], lambdas[k], NUM_BOOTSTRAP_SAMPLES) - min_pi0;
            mse[k] += e * e;
        }
    }
    let mut best = 0;
    for k in 1..NUM_LAMBDA {
        if mse[k] < mse[best] {
            best = k;
        }
    }
    pi_zeroes[best].clamp(0.0, 1.0)
}

/// Replaces ascending p-values by q-values in place (MEME's
/// `compute_qvalues` with π0 estimation and all p-values observed).
pub fn p_to_q(values: &mut [f64], rng: &mut MemeRng) {
    let n = values.len();
    if n == 0 {
        return;
    }
    let pi_zero = if n > MIN_SAMPLES { estimate_pi_zero(values, rng) } else { 1.0 };
    let total = f64::from(n as f32);
    for (i, v) in values.iter_mut().enumerate() {
        let fdr = (pi_zero * *v * total) / f64::from((i + 1) as f32);
        *v = fdr.min(1.0);
    }
    if n == 1 {
        return;
    }
    for i in (0..n - 1).rev() {
        if values[i + 1] < values[i] {
            values[i] = values[i + 1];
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_lists_are_plain_benjamini_hochberg() {
        // n ≤ 100: π0 = 1, q_r = min_{r' ≥ r} p_r' · n / r'
        let mut v = vec![0.01, 0.02, 0.03, 0.5];
        p_to_q(&mut v, &mut MemeRng::new());
        let want = [0.04, 0.04, 0.04, 0.5];
        for (a, b) in v.iter().zip(want) {
            assert!((a - b).abs() < 1e-12, "{v:?}");
        }
    }

    #[test]
    fn uniform_p_values_give_pi0_near_one() {
        let n = 1758;
        let p: Vec<f64> = (0..n).map(|i| (f64::from(i) + 0.5) / f64::from(n)).collect();
        let pi0 = estimate_pi_zero(&p, &mut MemeRng::new());
        assert!(pi0 > 0.9 && pi0 <= 1.0, "{pi0}");
        // half the p-values at ~0 → π0 ≈ 0.5
        let p: Vec<f64> = (0..n)
            .map(|i| if i < n / 2 { 1e-9 } else { f64::from(i - n / 2) / f64::from(n / 2) })
            .collect();
        let pi0 = estimate_pi_zero(&p, &mut MemeRng::new());
        assert!((pi0 - 0.5).abs() < 0.06, "{pi0}");
    }
}
