//! The random stream MEME's q-value bootstrap draws from: the Mersenne
//! Twister (MT19937) of the `mtwist` library MEME links.
//!
//! Details that matter for reproducing MEME's numbers exactly:
//! * tomtom never seeds it, so it starts from mtwist's default and the
//!   stream carries across queries;
//! * the default seed uses the *old* seeding (`mt[k] = 69069·mt[k−1]`);
//! * `mts_ldrand` takes two consecutive tempered words, the first as the
//!   high half of a 64-bit integer, converted to double and scaled by 2⁻⁶⁴;
//!   at the end of a block the first word is the block's last and the
//!   second the next block's first.
//!
//! Checked against MEME: with this stream every q-value of the 220-query
//! reference run (`tomtom_pearson_typical.tsv`) is reproduced exactly.

const N: usize = 624;
const M: usize = 397;
const MATRIX_A: u32 = 0x9908_b0df;
const UPPER: u32 = 0x8000_0000;
const LOWER: u32 = 0x7fff_ffff;
const DEFAULT_SEED: u32 = 4357;

/// MEME's program-wide `drand_mt()` stream.
///
/// mtwist keeps its state reversed and reads it with a decrementing
/// pointer; that is the standard MT19937 sequence, which this generates a
/// block of 624 tempered words at a time.
#[derive(Clone)]
pub struct MemeRng {
    /// Untempered state of the current block, standard order.
    mt: [u32; N],
    /// Tempered outputs of the current block.
    out: [u32; N],
    /// Next output to use.
    pos: usize,
}

impl std::fmt::Debug for MemeRng {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemeRng").field("pos", &self.pos).finish_non_exhaustive()
    }
}

impl Default for MemeRng {
    fn default() -> Self {
        Self::new()
    }
}

#[inline(always)]
fn twist(a: u32, b: u32, c: u32) -> u32 {
    let y = (a & UPPER) | (b & LOWER);
    c ^ (y >> 1) ^ ((y & 1).wrapping_neg() & MATRIX_A)
}

impl MemeRng {
    /// The stream as tomtom starts it (mtwist's default: Knuth-seeded 4357).
    #[must_use]
    pub fn new() -> Self {
        let mut mt = [0u32; N];
        mt[0] = DEFAULT_SEED;
        for k in 1..N {
            mt[k] = mt[k - 1].wrapping_mul(69069);
        }
        let mut r = Self { mt, out: [0; N], pos: 0 };
        r.refresh();
        r
    }

    /// Generates the next block of 624 words.
    #[inline(always)]
    fn refresh(&mut self) {
        self.twist_block();
        for (o, &v) in self.out.iter_mut().zip(self.mt.iter()) {
            *o = temper(v);
        }
        self.pos = 0;
    }

    /// The recurrence alone (no tempering): enough when skipping a block.
    /// In place, as in the reference code: new[k] reads old[k + 1] and
    /// old[k + M] (not yet overwritten) or new[k + M − N] (already).
    #[inline(always)]
    fn twist_block(&mut self) {
        let mt = &mut self.mt;
        for k in 0..N - M {
            mt[k] = twist(mt[k], mt[k + 1], mt[k + M]);
        }
        for k in N - M..N - 1 {
            mt[k] = twist(mt[k], mt[k + 1], mt[k + M - N]);
        }
        mt[N - 1] = twist(mt[N - 1], mt[0], mt[M - 1]);
    }

    #[inline]
    fn next_u32(&mut self) -> u32 {
        if self.pos == N {
            self.refresh();
        }
        let v = self.out[self.pos];
        self.pos += 1;
        v
    }

    /// `mts_ldrand`: a double in [0, 1) from two consecutive words.
    #[inline]
    pub fn ldrand(&mut self) -> f64 {
        let r1 = self.next_u32();
        let r2 = self.next_u32();
        let v = (u64::from(r1) << 32) | u64::from(r2);
        (v as f64) * (1.0 / 18_446_744_073_709_551_616.0)
    }

    /// `out[i] = ⌊ldrand() · n⌋` for the next `out.len()` draws (MEME's
    /// `bootstrap_array` index), in bulk.
    pub fn fill_indices(&mut self, n: usize, out: &mut [u32]) {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") {
            #[allow(unsafe_code)]
            // SAFETY: only enables AVX2, which the CPU was just checked to have.
            return unsafe { self.fill_indices_avx2(n, out) };
        }
        self.fill_indices_impl(n, out);
    }

    /// [`MemeRng::fill_indices`] with 8-wide integer vectors for the
    /// recurrence and tempering (integer operations: identical results).
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    fn fill_indices_avx2(&mut self, n: usize, out: &mut [u32]) {
        self.fill_indices_impl(n, out);
    }

    #[inline(always)]
    fn fill_indices_impl(&mut self, n: usize, out: &mut [u32]) {
        let nf = n as f64;
        let mut i = 0;
        // draws are word pairs and a block has an even number of words, so
        // a pair never straddles blocks
        while i < out.len() {
            if self.pos == N {
                self.refresh();
            }
            let avail = ((N - self.pos) / 2).min(out.len() - i);
            let words = &self.out[self.pos..self.pos + 2 * avail];
            let n64 = n as u64;
            // ⌊(hi·2³² + lo)·2⁻⁶⁴·n⌋ is ⌊hi·n / 2³²⌋ unless hi·n sits within
            // n of the next multiple of 2³² (p ≈ n/2³²): those are flagged
            // (branch-free, so the loop vectorises) and redone below
            let near = (1u64 << 32) - n64 - 2;
            let mut any_near = false;
            for (o, w) in out[i..i + avail].iter_mut().zip(words.chunks_exact(2)) {
                let t = u64::from(w[0]) * n64;
                any_near |= (t & 0xFFFF_FFFF) >= near;
                *o = (t >> 32) as u32;
            }
            if any_near {
                for (o, w) in out[i..i + avail].iter_mut().zip(words.chunks_exact(2)) {
                    if (u64::from(w[0]) * n64) & 0xFFFF_FFFF >= near {
                        // hi·2³² + lo rounds once, exactly as converting the u64 would
                        let v = f64::from(w[0]) * 4_294_967_296.0 + f64::from(w[1]);
                        *o = ((v * (1.0 / 18_446_744_073_709_551_616.0)) * nf) as u32;
                    }
                }
            }
            self.pos += 2 * avail;
            i += avail;
        }
    }

    /// Advances by `n` draws of [`MemeRng::ldrand`] without converting them.
    pub fn skip_draws(&mut self, n: usize) {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") {
            #[allow(unsafe_code)]
            // SAFETY: only enables AVX2, which the CPU was just checked to have.
            return unsafe { self.skip_draws_avx2(n) };
        }
        self.skip_draws_impl(n);
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    fn skip_draws_avx2(&mut self, n: usize) {
        self.skip_draws_impl(n);
    }

    #[inline(always)]
    fn skip_draws_impl(&mut self, n: usize) {
        let mut words = 2 * n;
        let take = words.min(N - self.pos);
        self.pos += take;
        words -= take;
        // whole blocks: twist without tempering
        while words > N {
            self.twist_block();
            words -= N;
        }
        if words > 0 {
            self.refresh();
            self.pos = words;
        }
    }
}

#[inline(always)]
fn temper(mut y: u32) -> u32 {
    y ^= y >> 11;
    y ^= (y << 7) & 0x9d2c_5680;
    y ^= (y << 15) & 0xefc6_0000;
    y ^= y >> 18;
    y
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The reference MT19937 (Matsumoto & Nishimura, 1998 `sgenrand`) with
    /// seed 4357 starts 3510405877, 4290933890, 2191955339, 564929546;
    /// `ldrand` pairs consecutive words, also across a block boundary.
    #[test]
    fn matches_reference_mt19937_words() {
        let mut r = MemeRng::new();
        assert_eq!(r.out[..4], [3_510_405_877, 4_290_933_890, 2_191_955_339, 564_929_546]);
        let pair = |a: u32, b: u32| ((u64::from(a) << 32) | u64::from(b)) as f64 / 2f64.powi(64);
        let (w0, w1) = (r.out[0], r.out[1]);
        assert_eq!(r.ldrand(), pair(w0, w1));
        for _ in 0..311 {
            r.ldrand();
        }
        // words 624 and 625: the first two of the next block
        let mut next = MemeRng::new();
        next.refresh();
        assert_eq!(r.ldrand(), pair(next.out[0], next.out[1]));
        for _ in 0..10_000 {
            assert!((0.0..1.0).contains(&r.ldrand()));
        }
    }

    #[test]
    fn bulk_indices_equal_single_draws() {
        let mut a = MemeRng::new();
        let mut b = MemeRng::new();
        let mut out = vec![0u32; 5000];
        b.fill_indices(1758, &mut out);
        for &o in &out {
            assert_eq!(o, (a.ldrand() * 1758.0) as u32);
        }
        assert_eq!(a.ldrand(), b.ldrand());
    }

    /// The integer shortcut agrees with the floating-point index for
    /// millions of draws and for hand-made near-boundary words.
    #[test]
    fn integer_index_shortcut_is_exact() {
        let mut r = MemeRng::new();
        for n in [101usize, 1758, 879, 100_000] {
            let mut a = r.clone();
            let mut out = vec![0u32; 1_000_000];
            r.fill_indices(n, &mut out);
            for &o in &out {
                assert_eq!(o, (a.ldrand() * n as f64) as u32);
            }
        }
        // words whose hi·n lands just below a multiple of 2³²
        for n in [1758u64, 3, 1_000_003] {
            for k in 1..50u64 {
                let hi = ((k << 32) / n) as u32;
                for lo in [0u32, 1, u32::MAX / 2, u32::MAX] {
                    let t = u64::from(hi) * n;
                    let v = f64::from(hi) * 4_294_967_296.0 + f64::from(lo);
                    let exact = ((v / 18_446_744_073_709_551_616.0) * n as f64) as u64;
                    let rem = t & 0xFFFF_FFFF;
                    if rem < (1u64 << 32) - n - 2 {
                        assert_eq!(t >> 32, exact, "n={n} hi={hi} lo={lo}");
                    }
                }
            }
        }
    }

    #[test]
    fn skipping_equals_drawing() {
        let mut a = MemeRng::new();
        let mut b = MemeRng::new();
        for _ in 0..100_003 {
            a.ldrand();
        }
        b.skip_draws(100_003);
        assert_eq!(a.ldrand(), b.ldrand());
        for k in [0usize, 1, 311, 312, 313, 624, 1000] {
            let mut a = MemeRng::new();
            let mut b = MemeRng::new();
            a.ldrand();
            b.ldrand();
            for _ in 0..k {
                a.ldrand();
            }
            b.skip_draws(k);
            assert_eq!(a.ldrand(), b.ldrand(), "k={k}");
        }
    }
}
