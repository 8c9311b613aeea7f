//! The one-sample t-test NeuronMotif's `decouple.py` uses to choose the
//! number of motifs per neuron (scipy's `ttest_1samp`, two-sided).

/// ln Γ(x) (Lanczos, g = 7, n = 9), x > 0.
fn ln_gamma(x: f64) -> f64 {
    const C: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        let pi = std::f64::consts::PI;
        return (pi / (pi * x).sin()).ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let t = x + 7.5;
    let mut a = C[0];
    for (i, &c) in C.iter().enumerate().skip(1) {
        a += c / (x + i as f64);
    }
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + a.ln()
}

/// Continued fraction of the regularised incomplete beta (modified Lentz).
fn beta_cf(a: f64, b: f64, x: f64) -> f64 {
    let tiny = 1e-300;
    let (qab, qap, qam) = (a + b, a + 1.0, a - 1.0);
    let mut c = 1.0;
    let mut d = 1.0 - qab * x / qap;
    if d.abs() < tiny {
        d = tiny;
    }
    d = 1.0 / d;
    let mut h = d;
    // One Lentz update with coefficient `aa`: returns the factor d·c.
    let step = |aa: f64, c: &mut f64, d: &mut f64| {
        *d = 1.0 + aa * *d;
        if d.abs() < tiny {
            *d = tiny;
        }
        *c = 1.0 + aa / *c;
        if c.abs() < tiny {
            *c = tiny;
        }
        *d = 1.0 / *d;
        *d * *c
    };
    for m in 1..400 {
        let m = f64::from(m);
        let m2 = 2.0 * m;
        h *= step(m * (b - m) * x / ((qam + m2) * (a + m2)), &mut c, &mut d);
        let del = step(-(a + m) * (qab + m) * x / ((a + m2) * (qap + m2)), &mut c, &mut d);
        h *= del;
        if (del - 1.0).abs() < 1e-15 {
            break;
        }
    }
    h
}

/// Regularised incomplete beta `I_x(a`, b).
fn inc_beta(a: f64, b: f64, x: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    if x >= 1.0 {
        return 1.0;
    }
    let ln_front = ln_gamma(a + b) - ln_gamma(a) - ln_gamma(b) + a * x.ln() + b * (1.0 - x).ln();
    if x < (a + 1.0) / (a + b + 2.0) {
        ln_front.exp() * beta_cf(a, b, x) / a
    } else {
        1.0 - ln_front.exp() * beta_cf(b, a, 1.0 - x) / b
    }
}

/// Two-sided p-value of Student's t with `df` degrees of freedom.
#[must_use]
pub fn t_two_sided_p(t: f64, df: f64) -> f64 {
    if !t.is_finite() {
        return if t.is_nan() { f64::NAN } else { 0.0 };
    }
    inc_beta(df / 2.0, 0.5, df / (df + t * t))
}

/// One-sample t-test of `x` against `mu`: (t, two-sided p). NaN for fewer
/// than two values; ±∞ and p = 0 when all values are equal and differ from `mu`.
#[must_use]
pub fn ttest_1samp(x: &[f64], mu: f64) -> (f64, f64) {
    let n = x.len() as f64;
    if x.len() < 2 {
        return (f64::NAN, f64::NAN);
    }
    let mean = x.iter().sum::<f64>() / n;
    let var = x.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0);
    let t = (mean - mu) / (var / n).sqrt();
    (t, t_two_sided_p(t, n - 1.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_numerical_integration() {
        // 2 ∫_|t|^∞ of the t density, integrated numerically with numpy
        // (2·10⁶-point trapezoid after x = |t| + u/(1−u)).
        let cases = [
            (2.0, 10.0, 0.073_388_034_770_739_34),
            (1.0, 3.0, 0.391_002_218_955_762_1),
            (3.5, 25.0, 0.001_765_495_314_356_990_5),
            (0.1, 100.0, 0.920_544_531_095_795_4),
        ];
        for (t, df, p) in cases {
            let got = t_two_sided_p(t, df);
            assert!((got - p).abs() < 1e-8, "t {t} df {df}: {got} vs {p}");
        }
        // The same for the one-sample test of these five values against 0.95.
        let (t, p) = ttest_1samp(&[0.97, 0.99, 0.96, 0.98, 1.0], 0.95);
        assert!((t - 4.242_640_687_119_302).abs() < 1e-9, "{t}");
        assert!((p - 0.013_235_599_563_682_294).abs() < 1e-8, "{p}");
    }
}
