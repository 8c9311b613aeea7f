//! Splitting one long job over processes: `--shard i/n` (1-based).
//!
//! Two ways to split, as the work needs: [`Shard::select`] takes every n-th
//! item from the i-th (independent units such as neurons or seeds, into a
//! shared folder); [`Shard::block`] takes a contiguous block of whole
//! groups (sequences run in batches: each shard's batches are the ones a
//! single run forms, so its numbers are the single run's bit for bit, and
//! a merge puts the rows back in input order). [`order`] checks that parts
//! are the whole of one job.
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

    /// Every item goes to exactly one shard.
    #[test]
    fn selections_partition_the_items() {
        for total in [0usize, 1, 7, 13] {
            for n in 1..=5 {
                let mut all: Vec<usize> = (1..=n)
                    .flat_map(|i| Shard::new(i, n).unwrap().select(0..total).collect::<Vec<_>>())
                    .collect();
                all.sort_unstable();
                assert_eq!(all, (0..total).collect::<Vec<_>>());
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
