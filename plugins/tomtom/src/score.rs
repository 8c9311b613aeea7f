//! Column similarity functions (`-dist`), larger = more similar, computed
//! as MEME tomtom 5.5.8 computes them (`tomtom.c: *_scores`).

use serde::{Deserialize, Serialize};

/// A column: probabilities of A, C, G, T (after pseudocounts).
pub type Col = [f64; 4];

/// Column similarity function.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
#[serde(rename_all = "kebab-case")]
pub enum Distance {
    /// Pearson correlation of the two columns.
    Pearson,
    /// Negative Euclidean distance (tomtom 5.5.8's default).
    #[default]
    Ed,
    /// Sandelin–Wasserman: 2 − squared Euclidean distance.
    Sandelin,
    /// Negative symmetrised Kullback–Leibler divergence (base 10).
    Kullback,
    /// Average log-likelihood ratio (Wang & Stormo).
    Allr,
    /// BLiC with a one-component Dirichlet prior.
    Blic1,
    /// BLiC with a five-component Dirichlet mixture.
    Blic5,
    /// Log-likelihood ratio with a one-component Dirichlet prior (`llr`
    /// also names it, as in tomtom).
    #[serde(alias = "llr")]
    #[cfg_attr(feature = "cli", value(alias = "llr"))]
    Llr1,
    /// Log-likelihood ratio with a five-component Dirichlet mixture.
    Llr5,
}

impl Distance {
    /// Every distance, in tomtom's order of options.
    pub const ALL: [Distance; 9] = [
        Self::Allr,
        Self::Ed,
        Self::Kullback,
        Self::Pearson,
        Self::Sandelin,
        Self::Blic1,
        Self::Blic5,
        Self::Llr1,
        Self::Llr5,
    ];

    /// Bounds every score of this distance lies within (for probability
    /// columns, with a margin for rounding), if it has fixed ones:
    /// Pearson's r ∈ [−1, 1], `ed` = −‖q − t‖ ∈ [−√2, 0], `sandelin` =
    /// 2 − ‖q − t‖² ∈ [0, 2].
    #[must_use]
    pub fn bounds(self) -> Option<(f64, f64)> {
        const M: f64 = 1e-6;
        match self {
            Self::Pearson => Some((-1.0 - M, 1.0 + M)),
            Self::Ed => Some((-std::f64::consts::SQRT_2 - M, M)),
            Self::Sandelin => Some((-M, 2.0 + M)),
            _ => None,
        }
    }

    /// The name tomtom's `-dist` uses.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::Pearson => "pearson",
            Self::Ed => "ed",
            Self::Sandelin => "sandelin",
            Self::Kullback => "kullback",
            Self::Allr => "allr",
            Self::Blic1 => "blic1",
            Self::Blic5 => "blic5",
            Self::Llr1 => "llr1",
            Self::Llr5 => "llr5",
        }
    }

    /// Parses a `-dist` name (`llr` is accepted for `llr1`).
    #[must_use]
    pub fn parse(s: &str) -> Option<Self> {
        if s == "llr" {
            return Some(Self::Llr1);
        }
        Self::ALL.into_iter().find(|d| d.name() == s)
    }

    /// Whether the score uses the background (only these accept `--bg`).
    #[must_use]
    pub fn uses_background(self) -> bool {
        !matches!(self, Self::Pearson | Self::Ed | Self::Sandelin | Self::Kullback)
    }
}

/// Everything a column score may need besides the two columns.
#[derive(Debug, Clone, Copy)]
pub struct Ctx {
    /// Background.
    pub bg: Col,
    /// Query motif's site count (as MEME stores it; 0 when unknown).
    pub nq: f64,
    /// Target motif's site count.
    pub nt: f64,
}

/// One column score, computed as MEME does (same operation order), for the
/// distances without a precomputed fast path.
#[must_use]
pub fn column_score(d: Distance, q: &Col, t: &Col, cx: &Ctx) -> f64 {
    match d {
        Distance::Ed => -sq_dist(q, t).sqrt(),
        Distance::Sandelin => 2.0 - sq_dist(q, t),
        Distance::Pearson => pearson(q, t),
        Distance::Kullback => {
            let mut s = 0.0;
            for a in 0..4 {
                let (x, y) = (q[a], t[a]);
                s += f64::midpoint(x * (x / y).log10(), y * (y / x).log10());
            }
            -s
        }
        Distance::Allr => {
            let (mut num, mut den) = (0.0, 0.0);
            for a in 0..4 {
                let p1 = cx.nt * t[a] * (q[a] / cx.bg[a]).ln();
                let p2 = cx.nq * q[a] * (t[a] / cx.bg[a]).ln();
                num += p1 + p2;
                den += (cx.nq * q[a]) + (cx.nt * t[a]);
            }
            num / den
        }
        Distance::Blic1 | Distance::Blic5 | Distance::Llr1 | Distance::Llr5 => {
            let k = if matches!(d, Distance::Blic1 | Distance::Llr1) { 1 } else { 5 };
            let cq: Col = std::array::from_fn(|a| q[a] * cx.nq);
            let ct: Col = std::array::from_fn(|a| t[a] * cx.nt);
            let cc: Col = std::array::from_fn(|a| cq[a] + ct[a]);
            let (sq, st, sc) =
                (estimate_source(k, &cq), estimate_source(k, &ct), estimate_source(k, &cc));
            let blic = matches!(d, Distance::Blic1 | Distance::Blic5);
            let mut first = 0.0;
            for (c, e) in cc.iter().zip(&sc) {
                first += if blic { 2.0 * c * e.ln() } else { c * e.ln() };
            }
            let mut second = 0.0;
            for (c, e) in cq.iter().zip(&sq) {
                second += c * e.ln();
            }
            let mut third = 0.0;
            for (c, e) in ct.iter().zip(&st) {
                third += c * e.ln();
            }
            if blic {
                let mut fourth = 0.0;
                for (c, b) in cc.iter().zip(&cx.bg) {
                    fourth += c * b.ln();
                }
                first - (second + third + fourth)
            } else {
                first - (second + third)
            }
        }
    }
}

fn sq_dist(q: &Col, t: &Col) -> f64 {
    let mut s = 0.0;
    for a in 0..4 {
        let d = q[a] - t[a];
        s += d * d;
    }
    s
}

/// Pearson correlation, 0 when a column is uniform. (MEME also rounds its
/// running sums to 14 significant digits; that moves scores by ~1e-14 and
/// is not reproduced.)
fn pearson(q: &Col, t: &Col) -> f64 {
    let (mut num, mut d1, mut d2) = (0.0, 0.0, 0.0);
    for a in 0..4 {
        let (x, y) = (q[a] - 0.25, t[a] - 0.25);
        num += x * y;
        d1 += x * x;
        d2 += y * y;
    }
    let den = (d1 * d2).sqrt();
    if den == 0.0 { 0.0 } else { num / den }
}

/// A column centred on 1/4 and scaled to unit length (zero when uniform),
/// so that Pearson is a 4-term dot product.
#[must_use]
pub fn pearson_unit(c: &Col) -> Col {
    let x: Col = std::array::from_fn(|a| c[a] - 0.25);
    let n = x.iter().map(|v| v * v).sum::<f64>().sqrt();
    if n == 0.0 { [0.0; 4] } else { std::array::from_fn(|a| x[a] / n) }
}

const DNA_HYPERS: [[f64; 4]; 6] = [
    [1., 1., 1., 1.],
    [5., 1., 1., 1.],
    [1., 5., 1., 1.],
    [1., 1., 5., 1.],
    [1., 1., 1., 5.],
    [2., 2., 2., 2.],
];

fn one_component(h: &[f64; 4], c: &Col) -> Col {
    let den: f64 = (0..4).map(|a| c[a] + h[a]).sum();
    std::array::from_fn(|a| (c[a] + h[a]) / den)
}

fn log_likelihood(h: &[f64; 4], c: &Col) -> f64 {
    let hs: f64 = h.iter().sum();
    let cs: f64 = c.iter().sum();
    let mut ll = libm::lgamma(hs) - libm::lgamma(cs + hs);
    for a in 0..4 {
        ll += libm::lgamma(h[a] + c[a]) - libm::lgamma(h[a]);
    }
    ll
}

fn logsum(a: f64, b: f64) -> f64 {
    if a < b { b + (1.0 + (a - b).exp()).ln() } else { a + (1.0 + (b - a).exp()).ln() }
}

/// Dirichlet estimate of the source distribution (`estimate_source`).
fn estimate_source(k: usize, c: &Col) -> Col {
    if k == 1 {
        return one_component(&DNA_HYPERS[0], c);
    }
    let w = f64::from(1.0 / k as f32);
    let mut loga = w.ln() + log_likelihood(&DNA_HYPERS[1], c);
    let mut log_sum = 0.0;
    for h in &DNA_HYPERS[2..=k] {
        let logb = w.ln() + log_likelihood(h, c);
        log_sum = logsum(loga, logb);
        loga = log_sum;
    }
    let mut out = [0.0; 4];
    for h in &DNA_HYPERS[1..=k] {
        let post = (w.ln() + log_likelihood(h, c) - log_sum).exp();
        let comp = one_component(h, c);
        for a in 0..4 {
            out[a] += post * comp[a];
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const Q: Col = [0.7, 0.1, 0.1, 0.1];
    const T: Col = [0.6, 0.2, 0.1, 0.1];
    const CX: Ctx = Ctx { bg: [0.25; 4], nq: 20.0, nt: 10.0 };

    /// Each score against its formula written out independently.
    #[test]
    fn column_scores_match_their_formulas() {
        let s = |d| column_score(d, &Q, &T, &CX);
        assert!((s(Distance::Ed) + 0.02f64.sqrt()).abs() < 1e-15);
        assert!((s(Distance::Sandelin) - 1.98).abs() < 1e-15);
        // pearson: x = q-.25, y = t-.25
        let x = [0.45, -0.15, -0.15, -0.15];
        let y = [0.35, -0.05, -0.15, -0.15];
        let num: f64 = (0..4).map(|a| x[a] * y[a]).sum();
        let den =
            (x.iter().map(|v| v * v).sum::<f64>() * y.iter().map(|v| v * v).sum::<f64>()).sqrt();
        assert!((s(Distance::Pearson) - num / den).abs() < 1e-15);
        let pu = pearson_unit(&Q);
        let tu = pearson_unit(&T);
        let dot: f64 = (0..4).map(|a| pu[a] * tu[a]).sum();
        assert!((dot - num / den).abs() < 1e-14);
        assert_eq!(column_score(Distance::Pearson, &[0.25; 4], &T, &CX), 0.0);
        // kullback: symmetric, zero for identical columns
        assert!(
            (s(Distance::Kullback) - column_score(Distance::Kullback, &T, &Q, &CX)).abs() < 1e-15
        );
        assert_eq!(column_score(Distance::Kullback, &Q, &Q, &CX), 0.0);
        let kl = -0.5
            * (0..4)
                .map(|a| Q[a] * (Q[a] / T[a]).log10() + T[a] * (T[a] / Q[a]).log10())
                .sum::<f64>();
        assert!((s(Distance::Kullback) - kl).abs() < 1e-15);
        // allr by its formula
        let num: f64 = (0..4)
            .map(|a| 10.0 * T[a] * (Q[a] / 0.25f64).ln() + 20.0 * Q[a] * (T[a] / 0.25f64).ln())
            .sum();
        let den: f64 = (0..4).map(|a| 20.0 * Q[a] + 10.0 * T[a]).sum();
        assert!((s(Distance::Allr) - num / den).abs() < 1e-12);
    }

    /// BLiC1/LLR1 with the one-component prior have closed forms.
    #[test]
    fn blic1_and_llr1_closed_form() {
        let cq: Vec<f64> = Q.iter().map(|v| v * 20.0).collect();
        let ct: Vec<f64> = T.iter().map(|v| v * 10.0).collect();
        let cc: Vec<f64> = (0..4).map(|a| cq[a] + ct[a]).collect();
        let est = |c: &[f64]| -> Vec<f64> {
            let s: f64 = c.iter().sum::<f64>() + 4.0;
            c.iter().map(|v| (v + 1.0) / s).collect()
        };
        let (eq, et, ec) = (est(&cq), est(&ct), est(&cc));
        let t = |c: &[f64], e: &[f64]| (0..4).map(|a| c[a] * e[a].ln()).sum::<f64>();
        let llr = t(&cc, &ec) - t(&cq, &eq) - t(&ct, &et);
        let bg: f64 = (0..4).map(|a| cc[a] * 0.25f64.ln()).sum();
        let blic = 2.0 * t(&cc, &ec) - (t(&cq, &eq) + t(&ct, &et) + bg);
        assert!((column_score(Distance::Llr1, &Q, &T, &CX) - llr).abs() < 1e-12);
        assert!((column_score(Distance::Blic1, &Q, &T, &CX) - blic).abs() < 1e-12);
        // the 5-component mixture is a proper distribution and close to BLiC1 here
        let b5 = column_score(Distance::Blic5, &Q, &T, &CX);
        assert!(b5.is_finite());
        let s5 = estimate_source(5, &[14.0, 2.0, 2.0, 2.0]);
        assert!((s5.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        assert!(s5[0] > 0.6);
    }

    #[test]
    fn parses_names() {
        for d in Distance::ALL {
            assert_eq!(Distance::parse(d.name()), Some(d));
        }
        assert_eq!(Distance::parse("llr"), Some(Distance::Llr1));
        assert_eq!(Distance::parse("nope"), None);
    }
}
