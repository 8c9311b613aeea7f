//! The bigWig of projected contributions for sequences cut from a genome
//! (`attribute --bed`): each base's value is the sum over bases of its
//! projected contribution, as ChromBPNet's `importance_hdf5_to_bigwig`
//! writes it. Regions are laid out by chromosome and start; where two
//! overlap, the boundary is the midpoint of their centres (the peaks'
//! summits when `--width` centred them). Minus-strand regions are turned
//! back to the genome's orientation.

use std::path::Path;

use motif_core::bigwig::Writer;
use motif_core::npz::RowBuffer;
use motif_core::rundir::RunDir;
use motif_core::seqio::Locus;
use ndarray::Array2;

use crate::attribute::Config;
use crate::{Event, Result, invalid};

/// Per-sequence rows of per-position sums, buffered in a temp file.
pub(crate) struct Track(RowBuffer);

impl Track {
    pub(crate) fn new(dir: &Path, len: usize) -> Result<Self> {
        Ok(Self(RowBuffer::new(dir, "contributions", &[len])?))
    }

    /// Appends rows `(n, len)`.
    /// The rows as an `.npz` (a shard's, for `merge`).
    pub(crate) fn save(self, path: &Path) -> Result<()> {
        Ok(motif_core::npz::NpzStream::from_rows(self.0).finish(path)?)
    }

    pub(crate) fn push(&mut self, rows: &Array2<f32>) -> Result<()> {
        Ok(self.0.push(rows.view().into_dyn())?)
    }

    /// Writes `contributions.bw` from the rows and the sequences' `loci`.
    pub(crate) fn finish(
        &mut self,
        config: &Config,
        run: &RunDir,
        loci: &[Locus],
        events: &mut dyn FnMut(Event),
    ) -> Result<()> {
        let Some(genome) = &config.input.genome else { return Ok(()) };
        let sizes = motif_genome::chrom_sizes(genome)?;
        let index: std::collections::HashMap<&str, usize> =
            sizes.iter().enumerate().map(|(i, (c, _))| (c.as_str(), i)).collect();
        let chroms: Vec<(String, u32)> =
            sizes.iter().map(|(c, n)| (c.clone(), (*n).min(u64::from(u32::MAX)) as u32)).collect();
        let mut chrom_of = Vec::with_capacity(loci.len());
        for l in loci {
            let Some(&c) = index.get(l.chrom.as_str()) else {
                return Err(invalid(format!("{}: no chromosome `{}`", genome.display(), l.chrom)));
            };
            chrom_of.push(c);
        }
        // Streamed: one region's values in memory at a time.
        let mut w = Writer::create(&run.path("contributions.bw"), &chroms)?;
        let mut order: Vec<usize> = (0..loci.len()).collect();
        order.sort_by_key(|&i| (w.rank(chrom_of[i]), loci[i].start));
        let mut regions = 0usize;
        for (k, &i) in order.iter().enumerate() {
            let l = &loci[i];
            // Overlaps: the boundary is the midpoint of the two centres.
            let centre = |l: &Locus| u64::midpoint(l.start, l.end);
            let mut from = l.start;
            if let Some(prev) = k.checked_sub(1).map(|p| &loci[order[p]])
                && prev.chrom == l.chrom
                && prev.end > l.start
            {
                from = from.max(u64::midpoint(centre(prev), centre(l)));
            }
            let mut to = l.end;
            if let Some(next) = order.get(k + 1).map(|&n| &loci[n])
                && next.chrom == l.chrom
                && next.start < l.end
            {
                to = to.min(u64::midpoint(centre(l), centre(next)));
            }
            if to <= from {
                continue;
            }
            let mut values = self.0.row(i)?;
            if l.minus {
                values.reverse();
            }
            w.push(
                chrom_of[i],
                from as u32,
                &values[(from - l.start) as usize..(to - l.start) as usize],
            )?;
            regions += 1;
        }
        w.finish()?;
        events(Event::Note(format!(
            "contributions.bw: projected contributions of {} regions on {}",
            regions,
            genome.display()
        )));
        Ok(())
    }
}
