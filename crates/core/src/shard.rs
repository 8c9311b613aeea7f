//! Splitting one long job over processes: `--shard i/n`.
//!
//! Shard `i` of `n` (1-based) owns the items `k` (0-based, in input order)
//! with `k mod n = i − 1`: every n-th item from the i-th on. No shard needs
//! to know the total, shards differ by at most one item, and a merge
//! restores input order by taking rows from the shards in turn
//! ([`interleave`]).
//!
//! ```
//! use motif_core::shard::Shard;
//! let s: Shard = "2/3".parse().unwrap();
//! let mine: Vec<usize> = s.select(0..8).collect();
//! assert_eq!(mine, [1, 4, 7]);
//! assert_eq!(s.to_string(), "2/3");
//! ```

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::{Error, Result};

/// One process's share of a job: shard `index` of `count`, 1-based.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Shard {
    index: usize,
    count: usize,
}

impl Shard {
    /// Shard `index` of `count` (1 ≤ index ≤ count).
    ///
    /// # Errors
    /// When `index` is 0 or above `count`.
    pub fn new(index: usize, count: usize) -> Result<Self> {
        if index == 0 || index > count {
            return Err(Error::Invalid(format!(
                "--shard {index}/{count}: expected i/n with 1 ≤ i ≤ n, e.g. 2/4"
            )));
        }
        Ok(Self { index, count })
    }

    /// This shard's number, 1-based.
    #[must_use]
    pub fn index(self) -> usize {
        self.index
    }

    /// How many shards the job has.
    #[must_use]
    pub fn count(self) -> usize {
        self.count
    }

    /// Whether item `k` (0-based, input order) is this shard's.
    #[must_use]
    pub fn owns(self, k: usize) -> bool {
        k % self.count == self.index - 1
    }

    /// This shard's items of `items`, in order.
    pub fn select<I: IntoIterator>(self, items: I) -> impl Iterator<Item = I::Item> {
        items.into_iter().skip(self.index - 1).step_by(self.count)
    }

    /// This shard's contiguous block of `total` items cut at multiples of
    /// `unit` (whole units to each shard, as evenly as they go; the last
    /// unit may be short): for work whose results depend on how items are
    /// grouped, so that each group is the one a single run forms.
    #[must_use]
    pub fn block(self, total: usize, unit: usize) -> std::ops::Range<usize> {
        let unit = unit.max(1);
        let units = total.div_ceil(unit);
        let at = |k: usize| (units * k / self.count * unit).min(total);
        at(self.index - 1)..at(self.index)
    }

    /// How many of `total` items this shard owns.
    #[must_use]
    pub fn len_of(self, total: usize) -> usize {
        (total + self.count - self.index) / self.count
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl FromStr for Shard {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        let bad =
            || Error::Invalid(format!("--shard `{s}`: expected i/n with 1 ≤ i ≤ n, e.g. 2/4"));
        let (i, n) = s.split_once('/').ok_or_else(bad)?;
        let i = i.trim().parse::<usize>().map_err(|_| bad())?;
        let n = n.trim().parse::<usize>().map_err(|_| bad())?;
        Self::new(i, n).map_err(|_| bad())
    }
}

impl Serialize for Shard {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Shard {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// Checks that `shards` (as read from the shards' outputs, in any order)
/// are the whole of one job, each once, and returns their order: the
/// position in `shards` of shard 1, 2, … n.
///
/// # Errors
/// Naming what is wrong: no shard, different counts, a shard twice or
/// missing.
pub fn order(shards: &[Shard]) -> Result<Vec<usize>> {
    let Some(first) = shards.first() else {
        return Err(Error::Invalid("no shard outputs to merge".into()));
    };
    let n = first.count;
    if let Some(other) = shards.iter().find(|s| s.count != n) {
        return Err(Error::Invalid(format!(
            "shards of different jobs: {first} and {other} (every shard must be i/{n})"
        )));
    }
    let mut at = vec![None; n];
    for (k, s) in shards.iter().enumerate() {
        if at[s.index - 1].replace(k).is_some() {
            return Err(Error::Invalid(format!("shard {s} given twice")));
        }
    }
    let missing: Vec<String> =
        (1..=n).filter(|i| at[i - 1].is_none()).map(|i| format!("{i}/{n}")).collect();
    if !missing.is_empty() {
        return Err(Error::Invalid(format!("missing shard(s): {}", missing.join(", "))));
    }
    Ok(at.into_iter().flatten().collect())
}

/// The items of shards 1..n (each an iterator, in shard order) back in
/// input order: one from each in turn until all are done.
///
/// # Errors
/// When the shards' lengths cannot come from one job (each must hold as
/// many as the one before or one fewer, none after a shorter one ends...):
/// `Error::Invalid` naming the shard that ran out early or held too many.
pub fn interleave<T, I, E>(
    mut shards: Vec<I>,
    mut emit: impl FnMut(T) -> std::result::Result<(), E>,
) -> std::result::Result<usize, E>
where
    I: Iterator<Item = std::result::Result<T, E>>,
    E: From<Error>,
{
    let n = shards.len();
    if n == 0 {
        return Ok(0);
    }
    let mut k = 0usize;
    // One from each shard in turn (the shard changes every step).
    loop {
        let Some(item) = shards[k % n].next() else { break };
        emit(item?)?;
        k += 1;
    }
    // Item k is missing: every shard must be done (the ones before it for
    // the next round, the ones after it for this one).
    for (j, rest) in shards.iter_mut().enumerate() {
        if rest.next().is_some() {
            return Err(Error::Invalid(format!(
                "shard {}/{n} holds more items than a job of {k} items gives it \
                 (shards from different inputs?)",
                j + 1
            ))
            .into());
        }
    }
    Ok(k)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_names_the_flag() {
        let s: Shard = " 2 / 4".parse().unwrap();
        assert_eq!((s.index(), s.count()), (2, 4));
        for bad in ["0/4", "5/4", "2", "a/b", "1/0", "", "2/4/1"] {
            let e = bad.parse::<Shard>().unwrap_err().to_string();
            assert!(e.contains("--shard") && e.contains("i/n"), "{bad}: {e}");
        }
        let json = serde_json::to_string(&s).unwrap();
        assert_eq!(json, "\"2/4\"");
        assert_eq!(serde_json::from_str::<Shard>(&json).unwrap(), s);
        assert!(serde_json::from_str::<Shard>("\"3/2\"").is_err());
    }

    /// Every item goes to exactly one shard, `len_of` counts them, and
    /// interleaving the shards gives the input back.
    #[test]
    fn shards_partition_and_interleave_back() {
        for total in [0usize, 1, 2, 7, 12, 13] {
            for n in 1..=5 {
                let shards: Vec<Shard> = (1..=n).map(|i| Shard::new(i, n).unwrap()).collect();
                let parts: Vec<Vec<usize>> =
                    shards.iter().map(|s| s.select(0..total).collect()).collect();
                for (s, p) in shards.iter().zip(&parts) {
                    assert_eq!(p.len(), s.len_of(total));
                    assert!(p.iter().all(|&k| s.owns(k)));
                }
                let mut back = Vec::new();
                let iters = parts.iter().map(|p| p.iter().copied().map(Ok::<_, Error>)).collect();
                let k = interleave(iters, |x| {
                    back.push(x);
                    Ok::<_, Error>(())
                })
                .unwrap();
                assert_eq!(k, total);
                assert_eq!(back, (0..total).collect::<Vec<_>>(), "{total} items, {n} shards");
            }
        }
    }

    /// Blocks cover the items once, in order, cut at multiples of the unit.
    #[test]
    fn blocks_tile_the_items_at_unit_boundaries() {
        for total in [0usize, 1, 5, 64, 65, 200] {
            for unit in [1, 4, 64] {
                for n in 1..=5 {
                    let blocks: Vec<_> =
                        (1..=n).map(|i| Shard::new(i, n).unwrap().block(total, unit)).collect();
                    assert_eq!(blocks[0].start, 0);
                    assert_eq!(blocks[n - 1].end, total);
                    for w in blocks.windows(2) {
                        assert_eq!(w[0].end, w[1].start);
                        assert!(w[0].end % unit == 0 || w[0].end == total, "{total} {unit} {n}");
                    }
                }
            }
        }
        assert_eq!(Shard::new(2, 2).unwrap().block(200, 64), 128..200);
    }

    #[test]
    fn mismatched_shards_are_refused() {
        // Shard 2 of 2 with more items than shard 1.
        let parts = [vec![0, 2], vec![1, 3, 5]];
        let iters = parts.iter().map(|p| p.iter().copied().map(Ok::<_, Error>)).collect();
        let e = interleave(iters, |_| Ok::<_, Error>(())).unwrap_err().to_string();
        assert!(e.contains("shard 2/2"), "{e}");
        let s = |t: &str| t.parse::<Shard>().unwrap();
        assert_eq!(order(&[s("2/3"), s("3/3"), s("1/3")]).unwrap(), [2, 0, 1]);
        assert!(
            order(&[s("1/3"), s("2/3")]).unwrap_err().to_string().contains("missing shard(s): 3/3")
        );
        assert!(order(&[s("1/2"), s("1/2")]).unwrap_err().to_string().contains("twice"));
        assert!(order(&[s("1/2"), s("2/3")]).unwrap_err().to_string().contains("different jobs"));
        assert!(order(&[]).is_err());
    }
}
