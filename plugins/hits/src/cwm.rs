//! CWM hits in attributions as Fi-NeMo calls them.
//!
//! Each motif is its contribution weight matrix divided by its Frobenius
//! norm, kept only on its trimmed columns (both strands are motifs). A
//! region's contributions `x` (hypothetical × one-hot), divided by their
//! root mean square per position `g`, are fitted by non-negative
//! coefficients `c[m, p]` of every motif at every offset, each scaled by
//! the window's local energy `s = min((e + 1)^−½, 10)` (`e` = Σ x² under
//! the motif's columns), under an L1 penalty `λ` per motif:
//! `min_{c ≥ 0} ½‖x − onehot ⊙ Σ c·s·ŵ(· − p)‖² + Σ λ·c`, solved by
//! accelerated proximal gradient until the duality gap per position falls
//! to `tolerance`. A hit is a nonzero coefficient whose window's cosine
//! with the (masked) motif reaches `λ`.

use ndarray::{Array2, ArrayView2};

/// A motif for the fit.
#[derive(Debug, Clone)]
pub struct CwmMotif {
    /// Name (e.g. `pos_patterns.pattern_0`).
    pub name: String,
    /// `(W, 4)` CWM divided by its Frobenius norm, zero outside the mask.
    pub weights: Array2<f64>,
    /// Trimmed columns `[a, b)`.
    pub mask: (usize, usize),
    /// Reverse-complement strand.
    pub reverse: bool,
    /// Penalty and similarity threshold.
    pub lambda: f64,
}

impl CwmMotif {
    /// Both strands of a CWM `(W, 4)` trimmed to `[a, b)` with penalty
    /// `lambda`: normalised over all its columns, then masked (Fi-NeMo's
    /// order).
    #[must_use]
    pub fn both_strands(
        name: &str,
        cwm: ArrayView2<'_, f64>,
        mask: (usize, usize),
        lambda: f64,
    ) -> [Self; 2] {
        let w = cwm.nrows();
        let norm = cwm.iter().map(|v| v * v).sum::<f64>().sqrt();
        let unit = cwm.mapv(|v| if norm > 0.0 { v / norm } else { 0.0 });
        let masked = |m: &Array2<f64>, (a, b): (usize, usize)| {
            let mut out = m.clone();
            for (l, mut row) in out.rows_mut().into_iter().enumerate() {
                if l < a || l >= b {
                    row.fill(0.0);
                }
            }
            out
        };
        let rc = Array2::from_shape_fn((w, 4), |(l, b)| unit[(w - 1 - l, 3 - b)]);
        let rmask = (w - mask.1, w - mask.0);
        [
            Self {
                name: name.to_owned(),
                weights: masked(&unit, mask),
                mask,
                reverse: false,
                lambda,
            },
            Self {
                name: name.to_owned(),
                weights: masked(&rc, rmask),
                mask: rmask,
                reverse: true,
                lambda,
            },
        ]
    }
}

/// Solver settings (Fi-NeMo's defaults).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Solver {
    /// Stop when the duality gap per position is at most this (5e−4).
    pub tolerance: f64,
    /// Most steps (10,000).
    pub max_steps: usize,
    /// First step size (3.0); shrunk by 0.7 on a non-finite gap.
    pub step: f64,
}

impl Default for Solver {
    fn default() -> Self {
        Self { tolerance: 5e-4, max_steps: 10_000, step: 3.0 }
    }
}

/// A hit in one region.
#[derive(Debug, Clone, PartialEq)]
pub struct Hit {
    /// Index of the motif (in the list given; strands are separate).
    pub motif: usize,
    /// First column of the motif's window (untrimmed).
    pub offset: usize,
    /// Trimmed `[start, end)` in the region.
    pub start: usize,
    /// See `start`.
    pub end: usize,
    /// The coefficient (in the region's normalised units).
    pub coefficient: f64,
    /// The coefficient in the input's units (× g²).
    pub coefficient_global: f64,
    /// Cosine of the window's contributions with the motif.
    pub similarity: f64,
    /// Σ |x| under the motif's columns (input units).
    pub importance: f64,
}

/// How a region's fit ended.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Fit {
    /// Steps taken.
    pub steps: usize,
    /// Final duality gap per position.
    pub gap: f64,
    /// Whether the gap reached the tolerance.
    pub converged: bool,
    /// The global scale g.
    pub scale: f64,
}

/// One region's problem: normalised contributions, offsets, local
/// energies and scales per motif.
struct Problem<'a> {
    x: Array2<f64>,
    onehot: ArrayView2<'a, f64>,
    motifs: &'a [CwmMotif],
    offsets: Vec<usize>,
    energy: Vec<Vec<f64>>,
    scale: Vec<Vec<f64>>,
}

impl Problem<'_> {
    fn zeros(&self) -> Vec<Vec<f64>> {
        self.offsets.iter().map(|&n| vec![0.0; n]).collect()
    }

    /// `x − onehot ⊙ Σ c·s·ŵ`.
    fn residual(&self, c: &[Vec<f64>]) -> Array2<f64> {
        let mut r = self.x.clone();
        for (k, m) in self.motifs.iter().enumerate() {
            for (p, &v) in c[k].iter().enumerate() {
                if v == 0.0 {
                    continue;
                }
                let a = v * self.scale[k][p];
                for l in m.mask.0..m.mask.1 {
                    for b in 0..4 {
                        r[(p + l, b)] -= self.onehot[(p + l, b)] * a * m.weights[(l, b)];
                    }
                }
            }
        }
        r
    }

    /// `s·(ŵ ⋆ r)` at every motif and offset (minus the gradient).
    fn gradient(&self, r: &Array2<f64>) -> Vec<Vec<f64>> {
        self.motifs
            .iter()
            .enumerate()
            .map(|(k, m)| {
                (0..self.offsets[k])
                    .map(|p| {
                        let mut d = 0.0;
                        for l in m.mask.0..m.mask.1 {
                            for b in 0..4 {
                                d += m.weights[(l, b)] * r[(p + l, b)];
                            }
                        }
                        d * self.scale[k][p]
                    })
                    .collect()
            })
            .collect()
    }

    /// The duality gap per position at `c`.
    fn gap(&self, c: &[Vec<f64>]) -> f64 {
        let rc = self.residual(c);
        let gc = self.gradient(&rc);
        let nu = gc
            .iter()
            .zip(self.motifs)
            .flat_map(|(row, m)| row.iter().map(move |v| v / m.lambda))
            .fold(0.0f64, f64::max);
        let kappa = if nu > 1.0 { 1.0 / nu } else { 1.0 };
        let rr: f64 = rc.iter().map(|v| v * v).sum();
        let rx: f64 = rc.iter().zip(self.x.iter()).map(|(a, b)| a * b).sum();
        let pen: f64 =
            c.iter().zip(self.motifs).map(|(row, m)| m.lambda * row.iter().sum::<f64>()).sum();
        (0.5 * rr * (1.0 + kappa * kappa) + pen - kappa * rx).abs() / self.x.nrows() as f64
    }

    /// The nonzero coefficients whose window is similar enough.
    fn hits(&self, c: &[Vec<f64>], g: f64) -> Vec<Hit> {
        let mut hits = Vec::new();
        for (k, m) in self.motifs.iter().enumerate() {
            for (p, &v) in c[k].iter().enumerate() {
                if v <= 0.0 {
                    continue;
                }
                let (mut dot, mut abs) = (0.0, 0.0);
                for l in m.mask.0..m.mask.1 {
                    for b in 0..4 {
                        dot += self.x[(p + l, b)] * m.weights[(l, b)];
                        abs += self.x[(p + l, b)].abs();
                    }
                }
                let e = self.energy[k][p];
                let sim = if e > 0.0 { dot / e.sqrt() } else { 0.0 };
                if sim >= m.lambda {
                    hits.push(Hit {
                        motif: k,
                        offset: p,
                        start: p + m.mask.0,
                        end: p + m.mask.1,
                        coefficient: v,
                        coefficient_global: v * g * g,
                        similarity: sim,
                        importance: abs * g,
                    });
                }
            }
        }
        hits
    }
}

/// Fits one region: `x` its contributions `(L, 4)` (hypothetical ×
/// one-hot), `onehot` its sequence.
#[must_use]
pub fn fit(
    x: ArrayView2<'_, f64>,
    onehot: ArrayView2<'_, f64>,
    motifs: &[CwmMotif],
    s: &Solver,
) -> (Vec<Hit>, Fit) {
    let len = x.nrows();
    let g = (x.iter().map(|v| v * v).sum::<f64>() / len.max(1) as f64).sqrt();
    if g.partial_cmp(&0.0) != Some(std::cmp::Ordering::Greater) {
        return (Vec::new(), Fit { steps: 0, gap: 0.0, converged: true, scale: 0.0 });
    }
    let x = x.mapv(|v| v / g);
    let offsets: Vec<usize> =
        motifs.iter().map(|m| (len + 1).saturating_sub(m.weights.nrows())).collect();
    let energy: Vec<Vec<f64>> = motifs
        .iter()
        .zip(&offsets)
        .map(|(m, &np)| {
            (0..np)
                .map(|p| {
                    (m.mask.0..m.mask.1)
                        .map(|l| (0..4).map(|b| x[(p + l, b)] * x[(p + l, b)]).sum::<f64>())
                        .sum()
                })
                .collect()
        })
        .collect();
    let scale = energy
        .iter()
        .map(|e| e.iter().map(|&v| (1.0 / (v + 1.0).sqrt()).min(10.0)).collect())
        .collect();
    let pb = Problem { x, onehot, motifs, offsets, energy, scale };
    let mut eta = s.step;
    let (mut c, mut y) = (pb.zeros(), pb.zeros());
    let (mut steps, mut gap, mut t) = (0usize, f64::INFINITY, 0f64);
    while steps < s.max_steps {
        let grad = pb.gradient(&pb.residual(&y));
        let mom = t / (t + 3.0);
        for k in 0..motifs.len() {
            for p in 0..pb.offsets[k] {
                let next = (y[k][p] + eta * (grad[k][p] - motifs[k].lambda)).max(0.0);
                y[k][p] = next + mom * (next - c[k][p]);
                c[k][p] = next;
            }
        }
        t += 1.0;
        steps += 1;
        gap = pb.gap(&c);
        if !gap.is_finite() {
            // Diverged: start over with a smaller step.
            eta *= 0.7;
            if eta < 0.08 {
                return (Vec::new(), Fit { steps, gap, converged: false, scale: g });
            }
            (c, y, t) = (pb.zeros(), pb.zeros(), 0.0);
            continue;
        }
        if gap <= s.tolerance {
            break;
        }
    }
    (pb.hits(&c, g), Fit { steps, gap, converged: gap <= s.tolerance, scale: g })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A region whose contributions are a CWM planted at 12 (forward) and
    /// its reverse complement at 40, over faint noise: the fit converges
    /// and the hits are exactly those two, on the right strands, with
    /// similarity near 1; a region of noise alone has none.
    #[test]
    fn planted_cwm_is_the_only_hit() {
        let cwm = ndarray::array![
            [0.0, 0.0, 0.0, 0.0],
            [0.9, 0.0, 0.0, 0.0],
            [0.0, 0.0, 0.8, 0.0],
            [0.0, 0.0, 0.0, 1.0],
            [0.0, 0.7, 0.0, 0.0],
            [0.0, 0.0, 0.0, 0.0]
        ];
        let motifs = CwmMotif::both_strands("m", cwm.view(), (1, 5), 0.7);
        let len = 64;
        let mut seq = vec![0usize; len];
        let mut r = 12345u64;
        for v in &mut seq {
            r = r.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            *v = (r >> 33) as usize % 4;
        }
        let mut x = Array2::<f64>::zeros((len, 4));
        for (l, &b) in seq.iter().enumerate() {
            r = r.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            x[(l, b)] = ((r >> 33) as f64 / f64::from(1u32 << 31) - 0.5) * 0.02;
        }
        let plant = |x: &mut Array2<f64>, seq: &mut Vec<usize>, at: usize, rc: bool| {
            for l in 0..6 {
                let (row, pos) = if rc { (5 - l, at + l) } else { (l, at + l) };
                if let Some(b) = (0..4).find(|&b| cwm[(row, b)] != 0.0) {
                    let b = if rc { 3 - b } else { b };
                    seq[pos] = b;
                    x.row_mut(pos).fill(0.0);
                    x[(pos, b)] = cwm[(row, if rc { 3 - b } else { b })];
                }
            }
        };
        let noise = x.clone();
        let noise_seq = seq.clone();
        plant(&mut x, &mut seq, 12, false);
        plant(&mut x, &mut seq, 40, true);
        let onehot = |seq: &[usize]| {
            Array2::from_shape_fn((len, 4), |(l, b)| f64::from(u8::from(seq[l] == b)))
        };
        let (hits, f) = fit(x.view(), onehot(&seq).view(), &motifs, &Solver::default());
        assert!(f.converged, "{f:?}");
        let found: Vec<(usize, bool)> =
            hits.iter().map(|h| (h.offset, motifs[h.motif].reverse)).collect();
        assert_eq!(found, [(12, false), (40, true)], "{hits:?}");
        assert!(hits.iter().all(|h| h.similarity > 0.95 && h.end - h.start == 4), "{hits:?}");
        let mask = |x: &Array2<f64>, s: &[usize]| x * &onehot(s);
        let (none, _) = fit(
            mask(&noise, &noise_seq).view(),
            onehot(&noise_seq).view(),
            &motifs,
            &Solver::default(),
        );
        assert!(none.is_empty(), "{none:?}");
    }
}
