//! Where a workflow's sequences come from: a sequence file (FASTA, DeepBind
//! `.seq`, TSV/CSV; gzip ok), intervals cut from an indexed genome, or
//! seeded random sequences.

use std::path::{Path, PathBuf};

use motif_core::seqio::{Columns, SeqFormat, SeqReader, SeqRecord};
use ndarray::Array3;
use serde::{Deserialize, Serialize};

use crate::{Result, invalid};

/// A stream of sequence records, whatever their source.
pub type Records = Box<dyn Iterator<Item = motif_core::Result<SeqRecord>> + Send>;

/// The sequences of a run (the table-column and `--bed/--genome/--width`
/// flags; each command declares its own sequence file flag).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "cli", derive(clap::Args))]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct SeqInput {
    /// Sequence file (FASTA, DeepBind .seq, TSV/CSV with a header; gzip ok).
    #[cfg_attr(feature = "cli", arg(skip))]
    pub seqs: Option<PathBuf>,
    /// Table column holding the sequences (default: the one named `seq` or
    /// `sequence`, else the one column of the first row that holds DNA).
    #[cfg_attr(feature = "cli", arg(long, value_name = "NAME"))]
    pub seq_col: Option<String>,
    /// Table column holding a 0/1 label; repeat for several tasks (default:
    /// the one named `label`, `y`, `target`, `bound` or `class`).
    #[cfg_attr(feature = "cli", arg(long = "label-col", value_name = "NAME"))]
    pub label_cols: Vec<String>,
    /// Table column holding the sequence ids (default: `id` or `name`).
    #[cfg_attr(feature = "cli", arg(long, value_name = "NAME"))]
    pub id_col: Option<String>,
    /// Intervals (BED or narrowPeak, gzip ok) to cut from --genome instead
    /// of a sequence file.
    #[cfg_attr(feature = "cli", arg(long, value_name = "FILE", requires = "genome"))]
    pub bed: Option<PathBuf>,
    /// Indexed genome FASTA for --bed (`.fai` beside it; bgzipped: `.gzi` too).
    #[cfg_attr(feature = "cli", arg(long, value_name = "FASTA", requires = "bed"))]
    pub genome: Option<PathBuf>,
    /// Window width for --bed: centred on the narrowPeak summit, else on the
    /// interval's middle (default: each interval as it is).
    #[cfg_attr(feature = "cli", arg(long, value_name = "BP", requires = "bed", value_parser = crate::cli::at_least_one))]
    pub width: Option<usize>,
}

impl SeqInput {
    /// Whether any sequences were given.
    #[must_use]
    pub fn is_given(&self) -> bool {
        self.seqs.is_some() || self.bed.is_some()
    }

    /// The reader's column settings.
    #[must_use]
    pub fn columns(&self) -> Columns {
        Columns {
            seq: self.seq_col.clone(),
            labels: self.label_cols.clone(),
            id: self.id_col.clone(),
        }
    }

    /// The files read, with their role in run.json.
    #[must_use]
    pub fn files(&self) -> Vec<(&'static str, &Path)> {
        let mut out = Vec::new();
        if let Some(p) = &self.seqs {
            out.push(("sequences", p.as_path()));
        }
        if let Some(p) = &self.bed {
            out.push(("peaks", p.as_path()));
        }
        if let Some(p) = &self.genome {
            out.push(("genome", p.as_path()));
        }
        out
    }

    /// The records of `bed` cut from `genome`, if given, else of `seqs`
    /// (read as `format`, else by name and content), and the file they
    /// come from.
    ///
    /// # Errors
    /// If both or neither source is given, or a file cannot be opened.
    pub fn records(&self, format: Option<SeqFormat>) -> Result<(Records, PathBuf)> {
        match (&self.bed, &self.genome, &self.seqs) {
            (Some(bed), Some(fasta), None) => {
                let peaks = motif_genome::Peaks::open(bed, fasta, self.width)?;
                let recs = peaks.map(|r| r.map_err(motif_core::Error::from));
                Ok((Box::new(recs), bed.clone()))
            }
            (Some(_), None, _) => Err(invalid("--bed needs --genome FASTA")),
            (Some(_), _, Some(s)) => Err(invalid(format!(
                "--bed and --seqs {} both give sequences; choose one",
                s.display()
            ))),
            (None, _, Some(s)) => Ok((Box::new(self.open(s, format)?), s.clone())),
            (None, _, None) => {
                Err(invalid("no sequences: give --seqs FILE, or --bed FILE with --genome FASTA"))
            }
        }
    }

    /// Opens `path` with these columns (`format`: else from the name or content).
    ///
    /// # Errors
    /// If the file cannot be opened or the columns are not in its header.
    pub fn open(&self, path: &Path, format: Option<SeqFormat>) -> Result<SeqReader> {
        Ok(SeqReader::open(path, format)?.with_columns(self.columns())?)
    }

    /// Up to `limit` sequences, one-hot, all one length, and a description
    /// of where they came from.
    ///
    /// # Errors
    /// If there are none, they differ in length, or a letter is not DNA.
    pub fn one_hot(&self, limit: Option<usize>) -> Result<(Array3<f32>, String)> {
        let (recs, p) = self.records(None)?;
        let mut v = Vec::new();
        for r in recs {
            v.push(r?.seq);
            if limit.is_some_and(|n| v.len() >= n) {
                break;
            }
        }
        let Some(first) = v.first() else {
            return Err(invalid(format!("{}: no sequences", p.display())));
        };
        let len = first.len();
        if let Some(bad) = v.iter().find(|s| s.len() != len) {
            return Err(invalid(format!(
                "{}: the sequences must be of one length: found {len} and {} bp",
                p.display(),
                bad.len()
            )));
        }
        let x = motif_core::onehot::one_hot_batch(&v).map_err(|(i, j, b)| {
            invalid(format!(
                "{}: sequence {}: letter `{}` at position {}",
                p.display(),
                i + 1,
                char::from(b),
                j + 1
            ))
        })?;
        Ok((x, p.display().to_string()))
    }
}

/// `n` uniform random one-hot sequences of `len` bp, from the project's one
/// seeded generator ([`motif_core::rng::Rng`]; the sequences analyze and
/// extract draw when given none).
#[must_use]
pub fn random_onehot(n: usize, len: usize, seed: u64) -> Array3<f32> {
    let mut rng = motif_core::rng::Rng::new(seed);
    let mut x = Array3::zeros((n, 4, len));
    for i in 0..n {
        for j in 0..len {
            x[(i, rng.below(4), j)] = 1.0;
        }
    }
    x
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_sequences_are_one_hot_and_seeded() {
        let a = random_onehot(20, 30, 3);
        assert_eq!(a.dim(), (20, 4, 30));
        assert!(a.sum_axis(ndarray::Axis(1)).iter().all(|&s| s == 1.0));
        assert_eq!(a, random_onehot(20, 30, 3));
        assert_ne!(a, random_onehot(20, 30, 4));
        // every letter is drawn
        let counts = a.sum_axis(ndarray::Axis(0)).sum_axis(ndarray::Axis(1));
        assert!(counts.iter().all(|&c| c > 100.0), "{counts}");
    }

    #[test]
    fn sequences_of_two_lengths_are_refused_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("s.fa");
        std::fs::write(&p, ">a\nACGT\n>b\nACG\n").unwrap();
        let input = SeqInput { seqs: Some(p), ..SeqInput::default() };
        let e = input.one_hot(None).unwrap_err().to_string();
        assert!(e.contains("s.fa") && e.contains("4 and 3 bp"), "{e}");
        let (x, _) = input.one_hot(Some(1)).unwrap();
        assert_eq!(x.dim(), (1, 4, 4));
    }

    #[test]
    fn no_source_is_an_error() {
        let e = SeqInput::default().records(None).err().unwrap().to_string();
        assert!(e.contains("--seqs"), "{e}");
    }

    #[test]
    fn config_is_strict() {
        let e = toml::from_str::<SeqInput>("seqs = \"a.fa\"\nsequences = 1").unwrap_err();
        assert!(e.to_string().contains("sequences"), "{e}");
    }
}
