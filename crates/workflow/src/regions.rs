//! What `discover` and `hits` read beside the attributions: the `(N, 4,
//! L)` arrays, and the windows' places on the genome (`regions.bed`, one
//! BED row per array row), with the mapping of window columns onto them.

use std::path::Path;

use ndarray::{Array3, Ix3};

use crate::{Result, invalid};

/// An `(N, 4, L)` float32 array (`.npz` `arr_0` or `.npy`).
pub(crate) fn read3(p: &Path) -> Result<Array3<f32>> {
    motif_core::npz::read(p)?
        .into_dimensionality::<Ix3>()
        .map_err(|_| invalid(format!("{}: expected an (N, 4, L) array", p.display())))
}

/// A window on the genome: its first base, and whether the window reads
/// the minus strand.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Region {
    pub chrom: String,
    pub start: u64,
    pub minus: bool,
}

impl Region {
    /// Window columns `[a, b)` of a window `length` long, read on the
    /// window's `reverse` strand: their genome interval and strand. Column
    /// `c` of a minus-strand window is genome base `end − 1 − c`, and the
    /// strand flips.
    pub fn place(&self, length: u64, a: u64, b: u64, reverse: bool) -> (u64, u64, char) {
        let strand = if reverse == self.minus { '+' } else { '-' };
        if self.minus {
            let end = self.start + length;
            (end - b, end - a, strand)
        } else {
            (self.start + a, self.start + b, strand)
        }
    }
}

/// The windows' regions: `n` BED rows (comments and `track` lines
/// skipped), each `length` long, in array row order.
pub(crate) fn read_regions(path: &Path, n: usize, length: usize) -> Result<Vec<Region>> {
    let text = std::fs::read_to_string(path).map_err(|e| motif_core::Error::io(path, e))?;
    let mut out = Vec::with_capacity(n);
    for (k, line) in text.lines().enumerate() {
        if line.is_empty() || line.starts_with('#') || line.starts_with("track") {
            continue;
        }
        let f: Vec<&str> = line.split('\t').collect();
        let bad = |what: &str| invalid(format!("{}:{}: {what}", path.display(), k + 1));
        if f.len() < 3 {
            return Err(bad("expected chrom, start, end (tab-separated)"));
        }
        let start: u64 = f[1].parse().map_err(|_| bad("start is not a whole number"))?;
        let end: u64 = f[2].parse().map_err(|_| bad("end is not a whole number"))?;
        if end.checked_sub(start) != Some(length as u64) {
            return Err(bad(&format!(
                "the region is {} bp; the windows are {length}",
                end.saturating_sub(start)
            )));
        }
        out.push(Region { chrom: f[0].to_owned(), start, minus: f.get(5) == Some(&"-") });
    }
    if out.len() != n {
        return Err(invalid(format!(
            "{}: {} regions for {n} rows (one per array row, in order)",
            path.display(),
            out.len()
        )));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A plus-strand window counts from its start, a minus-strand one from
    /// its end with the strand flipped.
    #[test]
    fn columns_on_the_genome() {
        let plus = Region { chrom: "chr2".into(), start: 1000, minus: false };
        let minus = Region { minus: true, ..plus.clone() };
        assert_eq!(plus.place(200, 60, 90, false), (1060, 1090, '+'));
        assert_eq!(plus.place(200, 60, 90, true), (1060, 1090, '-'));
        // Columns 60..90 of a minus window ending at 1200: bases 1110..1140.
        assert_eq!(minus.place(200, 60, 90, false), (1110, 1140, '-'));
        assert_eq!(minus.place(200, 60, 90, true), (1110, 1140, '+'));
    }
}
