//! The random stream MEME's q-value bootstrap draws from: a Mersenne
//! Twister (MT19937) in the state layout and calling convention of the
//! `mtwist` library MEME links, never seeded by tomtom, so it starts from
//! mtwist's default (Knuth-seeded with 4357) and carries across queries.
//!
//! Details that matter for reproducing MEME's numbers exactly:
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
#[derive(Clone)]
pub struct MemeRng {
    /// State in standard MT order: `std[k]` is mtwist's `statevec[N−1−k]`.
    std: [u32; N],
    /// mtwist's `stateptr` (counts down; values are read at `statevec[ptr]`).
    ptr: isize,
}

impl std::fmt::Debug for MemeRng {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemeRng").field("ptr", &self.ptr).finish_non_exhaustive()
    }
}

impl Default for MemeRng {
    fn default() -> Self {
        Self::new()
    }
}

impl MemeRng {
    /// The stream as tomtom starts it (default seed, refreshed once).
    #[must_use]
    pub fn new() -> Self {
        let mut std = [0u32; N];
        std[0] = DEFAULT_SEED;
        for k in 1..N {
            std[k] = std[k - 1].wrapping_mul(69069);
        }
        let mut r = Self { std, ptr: N as isize };
        r.refresh();
        r
    }

    fn refresh(&mut self) {
        let mt = &mut self.std;
        for k in 0..N {
            let y = (mt[k] & UPPER) | (mt[(k + 1) % N] & LOWER);
            let mag = if y & 1 == 1 { MATRIX_A } else { 0 };
            mt[k] = mt[(k + M) % N] ^ (y >> 1) ^ mag;
        }
        self.ptr = N as isize;
    }

    /// mtwist's `statevec[i]`.
    fn vec(&self, i: isize) -> u32 {
        self.std[N - 1 - i as usize]
    }

    fn temper(mut y: u32) -> u32 {
        y ^= y >> 11;
        y ^= (y << 7) & 0x9d2c_5680;
        y ^= (y << 15) & 0xefc6_0000;
        y ^= y >> 18;
        y
    }

    /// `mts_ldrand`: a double in [0, 1) from two 32-bit words.
    pub fn ldrand(&mut self) -> f64 {
        self.ptr -= 1;
        let r1 = if self.ptr <= 0 {
            if self.ptr < 0 {
                self.refresh();
                self.ptr -= 1;
                self.vec(self.ptr)
            } else {
                let v = self.vec(self.ptr);
                self.refresh();
                v
            }
        } else {
            self.vec(self.ptr)
        };
        self.ptr -= 1;
        let r2 = self.vec(self.ptr);
        let v = (u64::from(Self::temper(r1)) << 32) | u64::from(Self::temper(r2));
        (v as f64) * (1.0 / 18_446_744_073_709_551_616.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The reference MT19937 (Matsumoto & Nishimura, 1998 `sgenrand`) with
    /// seed 4357 starts 3510405877, 4290933890, 2191955339, …; `ldrand`
    /// pairs consecutive words.
    #[test]
    fn matches_reference_mt19937_words() {
        let mut r = MemeRng::new();
        let first: Vec<u32> = (0..4).map(|k| MemeRng::temper(r.std[k])).collect();
        assert_eq!(first, [3_510_405_877, 4_290_933_890, 2_191_955_339, 564_929_546]);
        let d = r.ldrand();
        let want = ((u64::from(first[0]) << 32) | u64::from(first[1])) as f64 / 2f64.powi(64);
        assert_eq!(d, want);
        // across a block boundary: 311 more draws use words 2..=623, the
        // next pairs word 624 (= first of the next block) correctly
        for _ in 0..311 {
            r.ldrand();
        }
        let mut fresh = MemeRng::new();
        fresh.refresh();
        let w624 = MemeRng::temper(fresh.std[0]);
        let w625 = MemeRng::temper(fresh.std[1]);
        let want = ((u64::from(w624) << 32) | u64::from(w625)) as f64 / 2f64.powi(64);
        assert_eq!(r.ldrand(), want);
        // draws stay in [0, 1)
        for _ in 0..10_000 {
            let x = r.ldrand();
            assert!((0.0..1.0).contains(&x));
        }
    }
}
