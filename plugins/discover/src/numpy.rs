//! The numpy and scikit-learn primitives modisco-lite's numbers depend on,
//! computed the same way: the legacy `RandomState` stream (MT19937 seeded
//! by `init_genrand`), `percentile` (linear), `histogram` (uniform bins),
//! pairwise float32 sums and weighted isotonic regression.

/// numpy's legacy `RandomState(seed)`: MT19937 seeded by `init_genrand`.
pub struct RandomState {
    mt: [u32; 624],
    i: usize,
}

impl RandomState {
    /// The generator `np.random.RandomState(seed)` is.
    #[must_use]
    pub fn new(seed: u32) -> Self {
        let mut mt = [0u32; 624];
        mt[0] = seed;
        for k in 1..624 {
            mt[k] =
                1_812_433_253u32.wrapping_mul(mt[k - 1] ^ (mt[k - 1] >> 30)).wrapping_add(k as u32);
        }
        Self { mt, i: 624 }
    }

    fn next_u32(&mut self) -> u32 {
        if self.i >= 624 {
            for k in 0..624 {
                let y = (self.mt[k] & 0x8000_0000) | (self.mt[(k + 1) % 624] & 0x7fff_ffff);
                let mut v = self.mt[(k + 397) % 624] ^ (y >> 1);
                if y & 1 == 1 {
                    v ^= 0x9908_b0df;
                }
                self.mt[k] = v;
            }
            self.i = 0;
        }
        let mut y = self.mt[self.i];
        self.i += 1;
        y ^= y >> 11;
        y ^= (y << 7) & 0x9d2c_5680;
        y ^= (y << 15) & 0xefc6_0000;
        y ^ (y >> 18)
    }

    /// A uniform integer in `[0, max]`: masked words, rejected above `max`
    /// (numpy's legacy `random_interval`, as `shuffle` draws).
    pub fn interval(&mut self, max: u64) -> u64 {
        if max == 0 {
            return 0;
        }
        let mut mask = max;
        for s in [1, 2, 4, 8, 16, 32] {
            mask |= mask >> s;
        }
        if max <= 0xffff_ffff {
            loop {
                let v = u64::from(self.next_u32()) & mask;
                if v <= max {
                    return v;
                }
            }
        }
        loop {
            let v = ((u64::from(self.next_u32()) << 32) | u64::from(self.next_u32())) & mask;
            if v <= max {
                return v;
            }
        }
    }

    /// `random_sample()`: a double in [0, 1) from two words (53 bits).
    pub fn random_sample(&mut self) -> f64 {
        let a = f64::from(self.next_u32() >> 5);
        let b = f64::from(self.next_u32() >> 6);
        (a * 67_108_864.0 + b) / 9_007_199_254_740_992.0
    }
}

/// numpy's `_lerp`: `a + (b − a)·t`, computed from `b` where `t ≥ 0.5`.
fn lerp(a: f64, b: f64, t: f64) -> f64 {
    let d = b - a;
    if t >= 0.5 { b - d * (1.0 - t) } else { a + d * t }
}

/// `np.percentile(a, q)` (linear) of ascending `sorted`.
#[must_use]
pub fn percentile_sorted(sorted: &[f64], q: f64) -> f64 {
    let n = sorted.len();
    if n == 0 {
        return f64::NAN;
    }
    let virtual_index = (n - 1) as f64 * (q / 100.0);
    let lo = virtual_index.floor();
    let t = virtual_index - lo;
    let lo = (lo.max(0.0) as usize).min(n - 1);
    let hi = (lo + 1).min(n - 1);
    lerp(sorted[lo], sorted[hi], t)
}

/// `np.histogram(values, bins)`'s counts and edges (uniform bins over the
/// values' range).
#[must_use]
pub fn histogram(values: &[f64], bins: usize) -> (Vec<u64>, Vec<f64>) {
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for &v in values {
        lo = lo.min(v);
        hi = hi.max(v);
    }
    if values.is_empty() {
        (lo, hi) = (0.0, 1.0);
    }
    if lo == hi {
        (lo, hi) = (lo - 0.5, hi + 0.5);
    }
    // np.linspace(lo, hi, bins + 1).
    let step = (hi - lo) / bins as f64;
    let mut edges: Vec<f64> = (0..=bins).map(|k| k as f64 * step + lo).collect();
    edges[bins] = hi;
    let mut counts = vec![0u64; bins];
    let norm = bins as f64;
    for &v in values {
        let mut i = (((v - lo) / (hi - lo)) * norm) as usize;
        if i == bins {
            i -= 1;
        }
        if v < edges[i] {
            i -= 1;
        } else if v >= edges[i + 1] && i != bins - 1 {
            i += 1;
        }
        counts[i] += 1;
    }
    (counts, edges)
}

/// The float types numpy's pairwise sum runs on.
pub trait Summable: Copy + std::ops::Add<Output = Self> {
    /// −0, where numpy's short loop starts.
    const NEG_ZERO: Self;
}

impl Summable for f32 {
    const NEG_ZERO: Self = -0.0;
}

impl Summable for f64 {
    const NEG_ZERO: Self = -0.0;
}

/// numpy's pairwise sum in the values' own type (`np.sum` of a contiguous
/// block is `0 +` this): below 8 values a plain loop from −0, up to 128
/// eight accumulators combined as ((r0+r1)+(r2+r3))+((r4+r5)+(r6+r7)) and
/// then the rest, above that two halves, the first a multiple of 8.
#[must_use]
pub fn pairwise_sum<T: Summable>(a: &[T]) -> T {
    let n = a.len();
    if n < 8 {
        return a.iter().fold(T::NEG_ZERO, |s, &v| s + v);
    }
    if n <= 128 {
        let mut r = [a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7]];
        let mut i = 8;
        while i + 8 <= n {
            for k in 0..8 {
                r[k] = r[k] + a[i + k];
            }
            i += 8;
        }
        let res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
        return a[i..].iter().fold(res, |s, &v| s + v);
    }
    let mut n2 = n / 2;
    n2 -= n2 % 8;
    pairwise_sum(&a[..n2]) + pairwise_sum(&a[n2..])
}

/// scikit-learn's `IsotonicRegression(out_of_bounds="clip")` fitted to
/// `(x, y, w)`: the unique `x` (ascending) and their fitted values, read by
/// [`Isotonic::predict`] with linear interpolation, clipped at the ends.
pub struct Isotonic {
    x: Vec<f64>,
    y: Vec<f64>,
}

impl Isotonic {
    /// Fits (increasing, or decreasing).
    #[must_use]
    pub fn fit(x: &[f64], y: &[f64], w: &[f64], increasing: bool) -> Self {
        // Sorted by x, then y (np.lexsort((y, x))); equal x merged into
        // their weighted mean.
        let mut order: Vec<usize> = (0..x.len()).collect();
        order.sort_by(|&a, &b| x[a].total_cmp(&x[b]).then(y[a].total_cmp(&y[b])));
        let (mut ux, mut uy, mut uw): (Vec<f64>, Vec<f64>, Vec<f64>) = (vec![], vec![], vec![]);
        let mut k = 0;
        while k < order.len() {
            let xv = x[order[k]];
            let (mut sw, mut swy) = (0.0, 0.0);
            while k < order.len() && x[order[k]] == xv {
                sw += w[order[k]];
                swy += w[order[k]] * y[order[k]];
                k += 1;
            }
            ux.push(xv);
            uy.push(swy / sw);
            uw.push(sw);
        }
        if !increasing {
            uy.reverse();
            uw.reverse();
        }
        pava(&mut uy, &uw);
        if !increasing {
            uy.reverse();
        }
        Self { x: ux, y: uy }
    }

    /// The fitted value at `v` (np.interp after clipping).
    #[must_use]
    pub fn predict(&self, v: f64) -> f64 {
        let (x, y) = (&self.x, &self.y);
        let n = x.len();
        if n == 0 {
            return f64::NAN;
        }
        if v <= x[0] {
            return y[0];
        }
        if v >= x[n - 1] {
            return y[n - 1];
        }
        let j = x.partition_point(|&t| t <= v) - 1;
        if x[j] == v {
            return y[j];
        }
        let slope = (y[j + 1] - y[j]) / (x[j + 1] - x[j]);
        slope * (v - x[j]) + y[j]
    }

    /// The smallest and largest `x` fitted.
    #[must_use]
    pub fn range(&self) -> (f64, f64) {
        (self.x[0], self.x[self.x.len() - 1])
    }
}

/// Pool adjacent violators in place (non-decreasing), as scikit-learn's
/// `_inplace_contiguous_isotonic_regression`.
fn pava(y: &mut [f64], w: &[f64]) {
    let n = y.len();
    if n == 0 {
        return;
    }
    let mut w: Vec<f64> = w.to_vec();
    // target[i]: the last index of the block starting at i.
    let mut target: Vec<usize> = (0..n).collect();
    let mut i = 0;
    while i < n {
        let mut k = target[i] + 1;
        if k == n {
            break;
        }
        if y[i] < y[k] {
            i = k;
            continue;
        }
        let mut sum_wy = w[i] * y[i];
        let mut sum_w = w[i];
        loop {
            // Merge the block at k into the block at i.
            let prev_y = y[k];
            sum_wy += w[k] * y[k];
            sum_w += w[k];
            k = target[k] + 1;
            if k == n || prev_y < y[k] {
                y[i] = sum_wy / sum_w;
                w[i] = sum_w;
                target[i] = k - 1;
                target[k - 1] = i;
                if i > 0 {
                    // Backtrack.
                    i = target[i - 1];
                }
                break;
            }
        }
    }
    // Fill each block with its value.
    let mut i = 0;
    while i < n {
        let k = target[i] + 1;
        let v = y[i];
        for t in &mut y[i + 1..k] {
            *t = v;
        }
        i = k;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// numpy: `np.random.RandomState(1234).random_sample(3)`.
    #[test]
    fn random_state_is_numpys() {
        let mut r = RandomState::new(1234);
        let got: Vec<f64> = (0..3).map(|_| r.random_sample()).collect();
        assert_eq!(
            got,
            [0.191_519_450_378_892_3, 0.622_108_771_039_831_9, 0.437_727_739_007_114_5]
        );
    }

    #[test]
    fn percentiles_interpolate_linearly() {
        let a = [1.0, 2.0, 4.0, 8.0];
        assert_eq!(percentile_sorted(&a, 0.0), 1.0);
        assert_eq!(percentile_sorted(&a, 100.0), 8.0);
        assert!((percentile_sorted(&a, 50.0) - 3.0).abs() < 1e-15);
    }

    #[test]
    fn isotonic_pools_violators() {
        let x = [1.0, 2.0, 3.0, 4.0];
        let y = [1.0, 3.0, 2.0, 4.0];
        let f = Isotonic::fit(&x, &y, &[1.0; 4], true);
        assert_eq!(
            [f.predict(1.0), f.predict(2.0), f.predict(3.0), f.predict(4.0)],
            [1.0, 2.5, 2.5, 4.0]
        );
        let d = Isotonic::fit(&x, &[4.0, 2.0, 3.0, 1.0], &[1.0; 4], false);
        assert_eq!([d.predict(2.0), d.predict(3.0)], [2.5, 2.5]);
        assert_eq!(d.predict(0.0), 4.0);
    }
}
