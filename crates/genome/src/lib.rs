//! motif-genome: sequences from genome coordinates.
//!
//! [`Peaks`] reads BED or narrowPeak intervals and cuts each from an
//! indexed genome FASTA (a `.fai` beside it; bgzipped genomes also need
//! their `.gzi`, both as `samtools faidx` writes them), read through
//! noodles. With a width, each window is centred on the narrowPeak summit
//! (column 10) when the line has one, else on the interval's middle.
//! Intervals on the `-` strand are reverse-complemented. Records come out
//! as [`motif_core::seqio::SeqRecord`]s named by the BED name column, else
//! `chrom:start-end` (0-based, half-open, as BED).
//!
//! # Example
//! ```no_run
//! let peaks = motif_genome::Peaks::open(
//!     "peaks.narrowPeak".as_ref(),
//!     "hg38.fa".as_ref(),
//!     Some(200),
//! )?;
//! for rec in peaks {
//!     let rec = rec?;
//!     assert_eq!(rec.seq.len(), 200);
//! }
//! # Ok::<(), motif_genome::Error>(())
//! ```
#![deny(missing_docs)]

use std::io::BufRead;
use std::path::{Path, PathBuf};

use motif_core::seqio::SeqRecord;

/// What can go wrong reading peaks or the genome.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A file could not be read.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A BED line is malformed or its window leaves the chromosome.
    #[error("{}:{line}: {msg}", path.display())]
    Line {
        /// The BED file.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// What is wrong.
        msg: String,
    },
}

/// As motif-core's error, file and line kept, so peaks stream wherever
/// sequence records do.
impl From<Error> for motif_core::Error {
    fn from(e: Error) -> Self {
        match e {
            Error::Io { path, source } => Self::Io { path, source },
            Error::Line { path, line, msg } => Self::Parse { path, line, msg },
        }
    }
}

/// Result with [`Error`].
pub type Result<T> = std::result::Result<T, Error>;

/// Streams the sequences of BED/narrowPeak intervals from an indexed genome.
pub struct Peaks {
    bed: PathBuf,
    genome: PathBuf,
    lines: std::io::Lines<Box<dyn BufRead + Send>>,
    line_no: usize,
    width: Option<usize>,
    reader: noodles_fasta::io::IndexedReader<noodles_fasta::io::BufReader<std::fs::File>>,
    lengths: std::collections::HashMap<String, u64>,
    chroms: Chroms,
}

/// Which chromosomes' intervals [`Peaks`] yields (e.g. to hold chromosomes
/// out for validation and testing). Intervals on a chromosome the genome
/// lacks are an error whatever the filter.
#[derive(Debug, Clone, Default)]
pub enum Chroms {
    /// Every interval.
    #[default]
    All,
    /// Only intervals on these chromosomes.
    Only(std::collections::HashSet<String>),
    /// Every interval except those on these chromosomes.
    Except(std::collections::HashSet<String>),
}

impl Chroms {
    /// Whether intervals on `chrom` are kept.
    #[must_use]
    pub fn keeps(&self, chrom: &str) -> bool {
        match self {
            Self::All => true,
            Self::Only(s) => s.contains(chrom),
            Self::Except(s) => !s.contains(chrom),
        }
    }
}

impl std::fmt::Debug for Peaks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Peaks")
            .field("bed", &self.bed)
            .field("genome", &self.genome)
            .finish_non_exhaustive()
    }
}

/// The chromosomes of an indexed genome FASTA and their lengths, in the
/// index's order.
///
/// # Errors
/// If the genome or its index cannot be read.
pub fn chrom_sizes(genome: &Path) -> Result<Vec<(String, u64)>> {
    let reader = noodles_fasta::io::indexed_reader::Builder::default()
        .build_from_path(genome)
        .map_err(|e| Error::Io { path: genome.into(), source: e })?;
    Ok(reader
        .index()
        .as_ref()
        .iter()
        .map(|r| (String::from_utf8_lossy(r.name()).into_owned(), r.length()))
        .collect())
}

impl Peaks {
    /// Opens `bed` (gzip or not) and the indexed `genome`.
    ///
    /// # Errors
    /// If a file or the genome's index cannot be read, or `width` is 0.
    pub fn open(bed: &Path, genome: &Path, width: Option<usize>) -> Result<Self> {
        if width == Some(0) {
            return Err(Error::Line {
                path: bed.into(),
                line: 0,
                msg: "--width must be at least 1".into(),
            });
        }
        let input = motif_core::seqio::open_maybe_gz(bed).map_err(|e| Error::Io {
            path: bed.into(),
            source: std::io::Error::other(e.to_string()),
        })?;
        // Name the file that is missing: the FASTA, or its index beside it.
        let mut fai = genome.as_os_str().to_owned();
        fai.push(".fai");
        let missing = if genome.exists() { std::path::PathBuf::from(fai) } else { genome.into() };
        let reader = noodles_fasta::io::indexed_reader::Builder::default()
            .build_from_path(genome)
            .map_err(|e| Error::Io {
                path: if missing.exists() { genome.into() } else { missing.clone() },
                source: std::io::Error::new(
                    e.kind(),
                    format!("{e} (an indexed FASTA: `samtools faidx` writes the .fai, and the .gzi of a bgzipped one)"),
                ),
            })?;
        let lengths = reader
            .index()
            .as_ref()
            .iter()
            .map(|r| (String::from_utf8_lossy(r.name()).into_owned(), r.length()))
            .collect();
        Ok(Self {
            bed: bed.into(),
            genome: genome.into(),
            lines: input.lines(),
            line_no: 0,
            width,
            reader,
            lengths,
            chroms: Chroms::All,
        })
    }

    /// Yields only the intervals on the chromosomes `chroms` keeps.
    #[must_use]
    pub fn chroms(mut self, chroms: Chroms) -> Self {
        self.chroms = chroms;
        self
    }

    fn err(&self, msg: String) -> Error {
        Error::Line { path: self.bed.clone(), line: self.line_no, msg }
    }

    /// The record of one BED line; `None` when its chromosome is filtered out.
    fn record(&mut self, text: &str) -> Result<Option<SeqRecord>> {
        let f: Vec<&str> = text.split('\t').map(str::trim).collect();
        if f.len() < 3 {
            return Err(self.err(format!("{} fields; BED needs chrom, start and end", f.len())));
        }
        let num = |s: &str, what: &str| -> Result<u64> {
            s.parse::<u64>().map_err(|_| self.err(format!("{what} `{s}` is not a whole number")))
        };
        let (chrom, start, end) = (f[0], num(f[1], "start")?, num(f[2], "end")?);
        if end <= start {
            return Err(self.err(format!("end {end} is not after start {start}")));
        }
        let Some(&chrom_len) = self.lengths.get(chrom) else {
            return Err(
                self.err(format!("chromosome `{chrom}` is not in {}", self.genome.display()))
            );
        };
        if !self.chroms.keeps(chrom) {
            return Ok(None);
        }
        let (from, to) = match self.width {
            None => (start as i64, end as i64),
            Some(w) => {
                // narrowPeak: column 10 is the summit's offset from start (-1: none).
                let summit = f.get(9).and_then(|s| s.parse::<i64>().ok()).filter(|&s| s >= 0);
                let centre = summit.map_or((start + end) as i64 / 2, |s| start as i64 + s);
                let from = centre - (w / 2) as i64;
                (from, from + w as i64)
            }
        };
        if from < 0 || to as u64 > chrom_len {
            return Err(self
                .err(format!("window {chrom}:{from}-{to} runs off {chrom} (length {chrom_len})")));
        }
        let region = noodles_core::Region::new(
            chrom,
            noodles_core::Position::try_from(from as usize + 1).expect("1-based")
                ..=noodles_core::Position::try_from(to as usize).expect("non-empty"),
        );
        let rec = self.reader.query(&region).map_err(|e| Error::Io {
            path: self.genome.clone(),
            source: std::io::Error::new(e.kind(), format!("{chrom}:{from}-{to}: {e}")),
        })?;
        let mut seq: Vec<u8> = rec.sequence().as_ref().to_vec();
        if f.get(5) == Some(&"-") {
            seq.reverse();
            for b in &mut seq {
                *b = match *b {
                    b'A' => b'T',
                    b'C' => b'G',
                    b'G' => b'C',
                    b'T' => b'A',
                    b'a' => b't',
                    b'c' => b'g',
                    b'g' => b'c',
                    b't' => b'a',
                    x => x,
                };
            }
        }
        if let Some((pos, b)) = seq.iter().enumerate().find(|(_, b)| !b"ACGTNacgtn".contains(b)) {
            return Err(self.err(format!(
                "{chrom}:{from}-{to} holds `{}` at {}; sequences are A, C, G, T or N",
                char::from(*b),
                pos + 1
            )));
        }
        let id = match f.get(3) {
            Some(n) if !n.is_empty() && *n != "." => (*n).to_owned(),
            _ => format!("{chrom}:{from}-{to}"),
        };
        let locus = motif_core::seqio::Locus {
            chrom: chrom.to_owned(),
            start: from as u64,
            end: to as u64,
            minus: f.get(5) == Some(&"-"),
        };
        Ok(Some(SeqRecord {
            id,
            seq,
            label: None,
            labels: Vec::new(),
            line: self.line_no,
            locus: Some(locus),
        }))
    }
}

impl Iterator for Peaks {
    type Item = Result<SeqRecord>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let line = match self.lines.next()? {
                Ok(l) => l,
                Err(e) => return Some(Err(Error::Io { path: self.bed.clone(), source: e })),
            };
            self.line_no += 1;
            let t = line.trim_end();
            if t.is_empty()
                || t.starts_with('#')
                || t.starts_with("track")
                || t.starts_with("browser")
            {
                continue;
            }
            match self.record(t) {
                Ok(None) => {}
                r => return r.transpose(),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A two-chromosome genome with its .fai (60-letter lines).
    fn genome(dir: &Path) -> PathBuf {
        let chr1: String = (0..150).map(|i| b"ACGTTGCAAC"[i % 10] as char).collect();
        let chr2 = "GGGGGAAAAACCCCCTTTTT".to_owned();
        let mut fa = String::new();
        let mut fai = String::new();
        let mut offset = 0usize;
        for (name, s) in [("chr1", &chr1), ("chr2", &chr2)] {
            let header = format!(">{name}\n");
            offset += header.len();
            fa.push_str(&header);
            fai.push_str(&format!("{name}\t{}\t{offset}\t60\t61\n", s.len()));
            for chunk in s.as_bytes().chunks(60) {
                fa.push_str(std::str::from_utf8(chunk).unwrap());
                fa.push('\n');
                offset += chunk.len() + 1;
            }
        }
        let p = dir.join("g.fa");
        std::fs::write(&p, fa).unwrap();
        std::fs::write(dir.join("g.fa.fai"), fai).unwrap();
        p
    }

    fn read(bed: &str, width: Option<usize>) -> (tempfile::TempDir, Result<Vec<SeqRecord>>) {
        let d = tempfile::tempdir().unwrap();
        let g = genome(d.path());
        let b = d.path().join("p.bed");
        std::fs::write(&b, bed).unwrap();
        let r = Peaks::open(&b, &g, width).and_then(std::iter::Iterator::collect);
        (d, r)
    }

    #[test]
    fn intervals_summits_strands_and_names() {
        let chr1: Vec<u8> = (0..150).map(|i| b"ACGTTGCAAC"[i % 10]).collect();
        // Whole intervals across line breaks; a name; the - strand.
        let (_d, r) = read("chr1\t55\t70\tpk1\nchr2\t3\t8\t.\t0\t-\n", None);
        let r = r.unwrap();
        assert_eq!(r[0].id, "pk1");
        assert_eq!(r[0].seq, &chr1[55..70]);
        assert_eq!(r[1].id, "chr2:3-8");
        assert_eq!(r[1].seq, b"TTTCC"); // GGAAA reverse-complemented
        // narrowPeak: centred on start + summit; without a summit, on the middle.
        let np = "chr1\t40\t100\tp\t0\t.\t1\t1\t1\t20\nchr1\t40\t100\tq\t0\t.\t1\t1\t1\t-1\n";
        let (_d, r) = read(np, Some(10));
        let r = r.unwrap();
        assert_eq!(r[0].seq, &chr1[55..65]);
        assert_eq!(r[1].seq, &chr1[65..75]);
    }

    #[test]
    fn chromosome_filters() {
        let d = tempfile::tempdir().unwrap();
        let g = genome(d.path());
        let b = d.path().join("p.bed");
        std::fs::write(&b, "chr1\t0\t5\ta\nchr2\t0\t5\tb\nchr1\t5\t9\tc\n").unwrap();
        let ids = |c: Chroms| -> Vec<String> {
            let p = Peaks::open(&b, &g, None).unwrap().chroms(c);
            p.map(|r| r.unwrap().id).collect()
        };
        let set = |s: &str| std::iter::once(s.to_owned()).collect();
        assert_eq!(ids(Chroms::All), ["a", "b", "c"]);
        assert_eq!(ids(Chroms::Only(set("chr2"))), ["b"]);
        assert_eq!(ids(Chroms::Except(set("chr2"))), ["a", "c"]);
        // An unknown chromosome is an error even when filtered out.
        std::fs::write(&b, "chr7\t0\t5\n").unwrap();
        let mut p = Peaks::open(&b, &g, None).unwrap().chroms(Chroms::Only(set("chr2")));
        assert!(p.next().unwrap().unwrap_err().to_string().contains("`chr7`"));
    }

    #[test]
    fn bad_lines_name_the_line() {
        let (_d, r) = read("# comment\nchr1\t10\t20\nchr9\t1\t5\n", None);
        let e = r.unwrap_err().to_string();
        assert!(e.contains("p.bed:3") && e.contains("`chr9`"), "{e}");
        let (_d, r) = read("chr2\t0\t20\n", Some(30));
        let e = r.unwrap_err().to_string();
        assert!(e.contains("p.bed:1") && e.contains("runs off chr2"), "{e}");
        let (_d, r) = read("chr1\tx\t20\n", None);
        assert!(r.unwrap_err().to_string().contains("start `x`"));
        let (_d, r) = read("chr1\t20\t20\n", None);
        assert!(r.unwrap_err().to_string().contains("not after start"));
    }
}
