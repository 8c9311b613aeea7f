//! A pattern's matrices as modisco-lite scores and trims them: the
//! information content per position against a background, and the CWM trim
//! rule its reports, Tomtom queries and `FiNeMo` share.

use ndarray::ArrayView2;

/// Information content of each row of `ppm` (`(len, 4)`) in bits against
/// `background`, with `pseudocount` (modisco: 0.001): `Σ_b p·log2((p + ε)
/// / (1 + 4ε)) − Σ_b g·log2 g`. Rows are renormalised first when any row's
/// sum is off 1 by more than numpy's `allclose` allows.
#[must_use]
pub fn per_position_ic(
    ppm: ArrayView2<'_, f64>,
    background: &[f64; 4],
    pseudocount: f64,
) -> Vec<f64> {
    let sums: Vec<f64> = ppm.rows().into_iter().map(|r| r.iter().sum()).collect();
    let renormalise = sums.iter().any(|s| (s - 1.0).abs() > 1e-5 + 1e-5);
    let ln2 = 2f64.ln();
    ppm.rows()
        .into_iter()
        .zip(&sums)
        .map(|(row, &s)| {
            let mut ic = 0.0;
            for (b, &p) in row.iter().enumerate() {
                let p = if renormalise { p / s } else { p };
                let g = background[b];
                ic += ((p + pseudocount) / (1.0 + pseudocount * 4.0)).ln() / ln2 * p
                    - g.ln() * g / ln2;
            }
            ic
        })
        .collect()
}

/// The columns `[start, end)` from the first to the last whose summed
/// |CWM| reaches `frac` (0.3) of the largest; `None` for an empty matrix.
#[must_use]
pub fn trim_bounds(cwm: ArrayView2<'_, f64>, frac: f64) -> Option<(usize, usize)> {
    let score: Vec<f64> = cwm.rows().into_iter().map(|r| r.iter().map(|v| v.abs()).sum()).collect();
    let max = score.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let keep = |s: &f64| *s >= frac * max;
    let start = score.iter().position(keep)?;
    let end = score.iter().rposition(keep)? + 1;
    Some((start, end))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn information_and_trimming() {
        let ppm = array![[1.0, 0.0, 0.0, 0.0], [0.25, 0.25, 0.25, 0.25]];
        let ic = per_position_ic(ppm.view(), &[0.25; 4], 0.001);
        assert!((ic[0] - 2.0).abs() < 0.01 && ic[1].abs() < 0.01, "{ic:?}");
        // Counts instead of frequencies are renormalised.
        let counts = &ppm * 10.0;
        assert_eq!(per_position_ic(counts.view(), &[0.25; 4], 0.001), ic);
        let cwm = array![
            [0.01, 0.0, 0.0, 0.0],
            [0.5, 0.0, 0.0, 0.0],
            [0.0, -0.2, 0.0, 0.0],
            [0.1, 0.0, 0.0, 0.0]
        ];
        assert_eq!(trim_bounds(cwm.view(), 0.3), Some((1, 3)));
    }
}
