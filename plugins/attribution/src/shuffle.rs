//! Dinucleotide shuffles of one-hot sequences: DeepSHAP's references.
//!
//! The algorithm of deeplift's `dinuc_shuffle` (as tangermeme's
//! `dinucleotide_shuffle`): each column is a token (A, C, G, T, or N for
//! any column that is not one-hot, written back as 0.25 in every row). For
//! each token, the positions that follow its occurrences are listed in
//! order; all but the last of each list are permuted uniformly; the walk
//! from the first column then takes each token's next exit in turn. Keeping
//! each token's last exit makes the walk an Eulerian path, so the first and
//! last tokens and every dinucleotide count are preserved.

use motif_core::rng::Rng;
use ndarray::{Array2, ArrayView2};

/// Token of each column: 0–3 for a one-hot A, C, G, T column, 4 otherwise.
fn tokens(x: ArrayView2<'_, f32>) -> Vec<u8> {
    x.columns()
        .into_iter()
        .map(|c| {
            let hot: Vec<usize> = (0..4).filter(|&k| c[k] == 1.0).collect();
            let rest_zero = (0..4).all(|k| c[k] == 1.0 || c[k] == 0.0);
            match hot.as_slice() {
                [k] if rest_zero => *k as u8,
                _ => 4,
            }
        })
        .collect()
}

/// The token walk of one shuffle of `t` driven by `rng`.
#[must_use]
pub fn shuffle_tokens(t: &[u8], rng: &mut Rng) -> Vec<u8> {
    if t.len() < 3 {
        return t.to_vec();
    }
    let mut exits: Vec<Vec<usize>> = vec![Vec::new(); 5];
    for j in 0..t.len() - 1 {
        exits[t[j] as usize].push(j + 1);
    }
    for e in &mut exits {
        if e.len() > 1 {
            let n = e.len();
            rng.shuffle(&mut e[..n - 1]);
        }
    }
    let mut next = [0usize; 5];
    let mut out = Vec::with_capacity(t.len());
    out.push(t[0]);
    let mut cur = 0;
    for _ in 1..t.len() {
        let a = t[cur] as usize;
        cur = exits[a][next[a]];
        next[a] += 1;
        out.push(t[cur]);
    }
    out
}

/// Reference `k` of one-hot sequence `x` `(4, len)`: the dinucleotide
/// shuffle drawn from `seed + k` alone.
#[must_use]
pub fn reference(x: ArrayView2<'_, f32>, seed: u64, k: usize) -> Array2<f32> {
    let mut rng = Rng::new(seed.wrapping_add(k as u64));
    let t = shuffle_tokens(&tokens(x), &mut rng);
    let mut r = Array2::zeros(x.raw_dim());
    for (l, &tok) in t.iter().enumerate() {
        if tok < 4 {
            r[(tok as usize, l)] = 1.0;
        } else {
            r.column_mut(l).fill(0.25);
        }
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counts(t: &[u8]) -> [[usize; 5]; 5] {
        let mut c = [[0; 5]; 5];
        for w in t.windows(2) {
            c[w[0] as usize][w[1] as usize] += 1;
        }
        c
    }

    fn random_tokens(rng: &mut Rng, len: usize, with_n: bool) -> Vec<u8> {
        (0..len).map(|_| rng.below(if with_n { 5 } else { 4 }) as u8).collect()
    }

    #[test]
    fn ends_and_dinucleotide_counts_are_kept() {
        let mut rng = Rng::new(1);
        for len in [3, 4, 10, 57, 200] {
            for with_n in [false, true] {
                let t = random_tokens(&mut rng, len, with_n);
                let s = shuffle_tokens(&t, &mut rng);
                assert_eq!(s.len(), t.len());
                assert_eq!(s[0], t[0]);
                assert_eq!(s[len - 1], t[len - 1]);
                assert_eq!(counts(&s), counts(&t), "len {len}");
            }
        }
    }

    #[test]
    fn shuffles_differ_and_seeds_reproduce() {
        let mut rng = Rng::new(2);
        let t = random_tokens(&mut rng, 100, false);
        let mut x = Array2::zeros((4, 100));
        for (l, &k) in t.iter().enumerate() {
            x[(k as usize, l)] = 1.0;
        }
        let a = reference(x.view(), 7, 0);
        assert_eq!(a, reference(x.view(), 7, 0), "same seed and k, same reference");
        assert_ne!(a, reference(x.view(), 7, 1), "another k, another reference");
        assert_ne!(a, x, "a shuffle of 100 bases moves something");
        // One-hot stays one-hot; N (0.25) stays 0.25.
        x.column_mut(5).fill(0.25);
        let r = reference(x.view(), 3, 2);
        let n_cols = r.columns().into_iter().filter(|c| c[0] == 0.25).count();
        assert_eq!(n_cols, 1);
        assert!(r.columns().into_iter().all(|c| (c.sum() - 1.0).abs() < 1e-6));
    }

    #[test]
    fn a_two_letter_repeat_cannot_change() {
        // ACACAC…: every shuffle is the sequence itself.
        let t: Vec<u8> = (0..20).map(|i| (i % 2) as u8).collect();
        let mut rng = Rng::new(3);
        assert_eq!(shuffle_tokens(&t, &mut rng), t);
    }
}
