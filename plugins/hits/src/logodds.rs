//! Log-odds scanning with exact p-values, as MEME's FIMO scores motifs.
//!
//! A motif's probabilities get FIMO's pseudocount spread by the
//! background, `p' = (n·p + a·g) / (n + a)` (`n` the motif's sites, `a`
//! 0.1), and its log-odds are `log2(p'/g)`. Scores are put on an integer
//! grid (at most 1,000 steps per bit, fewer when the motif's score range
//! would need more than 100,000 steps), and the distribution of the grid
//! score of a background sequence is computed exactly by dynamic
//! programming over the columns: each hit's p-value is the background
//! probability of a grid score at least as high as its own.

/// A motif prepared for scanning.
#[derive(Debug, Clone)]
pub struct LogOdds {
    /// Log-odds per column and base (bits).
    pub scores: Vec<[f64; 4]>,
    /// The same on the integer grid.
    grid: Vec<[i64; 4]>,
    /// Grid steps per bit.
    scale: f64,
    /// Lowest grid total (index 0 of `survival`).
    low: i64,
    /// `survival[k] = P(grid score ≥ low + k)` under the background.
    survival: Vec<f64>,
}

/// One scored window.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scored {
    /// First base (forward-strand coordinates).
    pub start: usize,
    /// On the reverse strand (the motif's reverse complement matched).
    pub reverse: bool,
    /// Log-odds score (bits).
    pub score: f64,
    /// p-value under the background.
    pub p_value: f64,
}

impl LogOdds {
    /// The motif `ppm` (rows ACGT per column, each summing to 1) from
    /// `nsites` sites, against background `bg`, with `pseudocount`.
    ///
    /// # Panics
    /// If the motif is empty or a background frequency is not positive.
    #[must_use]
    pub fn new(ppm: &[[f64; 4]], nsites: f64, bg: [f64; 4], pseudocount: f64) -> Self {
        assert!(!ppm.is_empty(), "an empty motif");
        assert!(bg.iter().all(|&g| g > 0.0), "background frequencies must be positive");
        let scores: Vec<[f64; 4]> = ppm
            .iter()
            .map(|col| {
                std::array::from_fn(|b| {
                    let p = (nsites * col[b] + pseudocount * bg[b]) / (nsites + pseudocount);
                    (p / bg[b]).log2()
                })
            })
            .collect();
        let span: f64 = scores
            .iter()
            .map(|c| {
                let (lo, hi) = c
                    .iter()
                    .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| (a.min(v), b.max(v)));
                hi - lo
            })
            .sum();
        let scale = if span > 0.0 { (100_000.0 / span).min(1000.0) } else { 1000.0 };
        let grid: Vec<[i64; 4]> =
            scores.iter().map(|c| c.map(|v| (v * scale).round() as i64)).collect();
        let low: i64 = grid.iter().map(|c| *c.iter().min().expect("4")).sum();
        let high: i64 = grid.iter().map(|c| *c.iter().max().expect("4")).sum();
        let width = (high - low) as usize + 1;
        // Distribution of the running total, offset by the running minimum.
        let mut dist = vec![0f64; width];
        dist[0] = 1.0;
        let mut run_low = 0i64;
        let mut run_width = 1usize;
        for c in &grid {
            let cmin = *c.iter().min().expect("4");
            let cmax = *c.iter().max().expect("4");
            let new_width = run_width + (cmax - cmin) as usize;
            let mut next = vec![0f64; new_width];
            for (k, &p) in dist[..run_width].iter().enumerate() {
                if p == 0.0 {
                    continue;
                }
                for b in 0..4 {
                    next[k + (c[b] - cmin) as usize] += p * bg[b];
                }
            }
            run_low += cmin;
            run_width = new_width;
            dist[..run_width].copy_from_slice(&next);
        }
        debug_assert_eq!(run_low, low);
        let mut survival = vec![0f64; width + 1];
        for k in (0..width).rev() {
            survival[k] = survival[k + 1] + dist[k];
        }
        survival.truncate(width);
        Self { scores, grid, scale, low, survival }
    }

    /// Columns.
    #[must_use]
    pub fn len(&self) -> usize {
        self.scores.len()
    }

    /// Whether it has no columns (never: [`LogOdds::new`] refuses).
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.scores.is_empty()
    }

    /// The p-value of a grid total.
    fn p_of(&self, total: i64) -> f64 {
        let k = total - self.low;
        if k <= 0 {
            return 1.0;
        }
        self.survival.get(k as usize).copied().unwrap_or(0.0).min(1.0)
    }

    /// Scores every window of `seq` (bases 0–3; anything else is N and
    /// the windows holding it are skipped) on both strands; keeps those
    /// with p-value ≤ `thresh`. Also returns how many windows were scored
    /// (the tests a q-value counts).
    #[must_use]
    pub fn scan(&self, seq: &[u8], thresh: f64) -> (Vec<Scored>, usize) {
        let w = self.len();
        let mut out = Vec::new();
        let mut tested = 0;
        if seq.len() < w {
            return (out, 0);
        }
        'window: for start in 0..=seq.len() - w {
            let win = &seq[start..start + w];
            for &b in win {
                if b > 3 {
                    continue 'window;
                }
            }
            for reverse in [false, true] {
                tested += 1;
                let (mut total, mut score) = (0i64, 0f64);
                for (k, &b) in win.iter().enumerate() {
                    // The reverse strand reads the window backwards,
                    // complemented.
                    let (col, base) = if reverse { (w - 1 - k, 3 - b) } else { (k, b) };
                    total += self.grid[col][base as usize];
                    score += self.scores[col][base as usize];
                }
                let p = self.p_of(total);
                if p <= thresh {
                    out.push(Scored { start, reverse, score, p_value: p });
                }
            }
        }
        (out, tested)
    }

    /// Grid steps per bit.
    #[must_use]
    pub fn scale(&self) -> f64 {
        self.scale
    }
}

/// Benjamini–Hochberg q-values of `p` (the hits kept) among `tests` tests
/// in all: `q_i = min_{k ≥ rank i} p_(k)·tests/k`, capped at 1.
#[must_use]
pub fn q_values(p: &[f64], tests: usize) -> Vec<f64> {
    let mut order: Vec<usize> = (0..p.len()).collect();
    order.sort_by(|&a, &b| p[a].total_cmp(&p[b]));
    let mut q = vec![0f64; p.len()];
    let mut best = 1f64;
    for (rank, &i) in order.iter().enumerate().rev() {
        best = best.min(p[i] * tests as f64 / (rank + 1) as f64);
        q[i] = best;
    }
    q
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The p-values are the exact tail probabilities: enumerating every
    /// 4-mer under a skewed background gives the same numbers; a
    /// consensus window scores best and is found on the strand it sits on.
    #[test]
    fn p_values_by_enumeration() {
        let ppm = [
            [0.7, 0.1, 0.1, 0.1],
            [0.1, 0.1, 0.7, 0.1],
            [0.25, 0.25, 0.25, 0.25],
            [0.05, 0.05, 0.05, 0.85],
        ];
        let bg = [0.3, 0.2, 0.2, 0.3];
        let m = LogOdds::new(&ppm, 20.0, bg, 0.1);
        let mut all = Vec::new();
        for code in 0..256usize {
            let s: Vec<u8> = (0..4).map(|k| ((code >> (2 * k)) & 3) as u8).collect();
            let prob: f64 = s.iter().map(|&b| bg[b as usize]).product();
            let total: i64 = s.iter().enumerate().map(|(k, &b)| m.grid[k][b as usize]).sum();
            all.push((total, prob, s));
        }
        for (total, _, _) in &all {
            let exact: f64 = all.iter().filter(|(t, _, _)| t >= total).map(|(_, p, _)| p).sum();
            assert!(
                (m.p_of(*total) - exact).abs() < 1e-12,
                "{total}: {} vs {exact}",
                m.p_of(*total)
            );
        }
        // AGNT planted forward at 3 and reverse-complemented (ANCT) at 10.
        let seq: Vec<u8> = vec![1, 1, 1, 0, 2, 1, 3, 1, 1, 1, 0, 2, 1, 3, 2, 2];
        let mut rc_site = seq.clone();
        rc_site[10..14].copy_from_slice(&[0, 2, 1, 3]);
        let (hits, tested) = m.scan(&seq, 0.01);
        assert_eq!(tested, 2 * (seq.len() - 3));
        assert!(hits.iter().any(|h| h.start == 3 && !h.reverse), "{hits:?}");
        let rev: Vec<u8> = seq.iter().rev().map(|&b| 3 - b).collect();
        let (hr, _) = m.scan(&rev, 0.01);
        // Position 3 forward is position len − 3 − 4 on the reverse.
        assert!(hr.iter().any(|h| h.start == seq.len() - 7 && h.reverse), "{hr:?}");
        // N skips its windows.
        let mut with_n = seq.clone();
        with_n[4] = 4;
        assert!(
            with_n.len() >= 4
                && m.scan(&with_n, 0.01).0.iter().all(|h| h.start > 4 || h.start + 4 <= 4)
        );
    }

    #[test]
    fn benjamini_hochberg() {
        let q = q_values(&[0.01, 0.04, 0.03], 10);
        assert!((q[0] - 0.1).abs() < 1e-12);
        assert!((q[2] - 0.133_333_333_333_333_34).abs() < 1e-12);
        assert!((q[1] - 0.133_333_333_333_333_34).abs() < 1e-12);
    }
}
