//! Labelled training, validation and test data: sequence files (FASTA
//! `>id label`, DeepBind `.seq`, TSV/CSV; gzip ok) and intervals cut from an
//! indexed genome (`peaks` labelled 1, `nonpeaks` 0), split by chromosome.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use motif_core::rng::Rng;
use motif_genome::Chroms;
use motif_train::Data;
use ndarray::{Array2, Array3};
use serde::{Deserialize, Serialize};

use crate::input::{Records, SeqInput};
use crate::{Result, invalid};

/// Where a run's labelled sequences come from (the training commands'
/// data flags).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "cli", derive(clap::Args))]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct LabelledData {
    /// Labelled training sequences (FASTA `>id label`, DeepBind .seq, TSV;
    /// .gz fine). Repeat to combine files, e.g. positives and shuffled
    /// negatives: several files are shuffled together with --seed.
    #[cfg_attr(feature = "cli", arg(long = "train", value_name = "FILE", required_unless_present_any = ["peaks", "config"]))]
    pub train: Vec<PathBuf>,
    /// Validation sequences (train only). Default: --valid-chroms, else the
    /// last --val-fraction of the training data, as Keras'
    /// `validation_split`.
    #[cfg_attr(feature = "cli", arg(long, value_name = "FILE", conflicts_with = "valid_chroms"))]
    pub valid: Option<PathBuf>,
    /// Labelled test sequences (repeatable); or --test-chroms.
    #[cfg_attr(feature = "cli", arg(long = "test", value_name = "FILE"))]
    pub test: Vec<PathBuf>,
    /// Table column holding the sequences (default: the one named `seq` or
    /// `sequence`).
    #[cfg_attr(feature = "cli", arg(long, value_name = "NAME"))]
    pub seq_col: Option<String>,
    /// Table column holding a 0/1 label; repeat for several tasks (default:
    /// the one named `label`, `y`, `target`, `bound` or `class`).
    #[cfg_attr(feature = "cli", arg(long = "label-col", value_name = "NAME"))]
    pub label_cols: Vec<String>,
    /// Table column holding the sequence ids (default: `id` or `name`).
    #[cfg_attr(feature = "cli", arg(long, value_name = "NAME"))]
    pub id_col: Option<String>,
    /// Bound intervals (BED or narrowPeak, gzip ok) cut from --genome with
    /// label 1; repeatable. Add background with --nonpeaks or --train.
    #[cfg_attr(feature = "cli", arg(long, value_name = "FILE", requires = "genome"))]
    pub peaks: Vec<PathBuf>,
    /// Background intervals (e.g. GC-matched regions without a peak) cut
    /// from --genome with label 0; repeatable.
    #[cfg_attr(feature = "cli", arg(long, value_name = "FILE", requires = "genome"))]
    pub nonpeaks: Vec<PathBuf>,
    /// Indexed genome FASTA for --peaks/--nonpeaks (`.fai` beside it;
    /// bgzipped: `.gzi` too).
    #[cfg_attr(feature = "cli", arg(long, value_name = "FASTA"))]
    pub genome: Option<PathBuf>,
    /// Window width: centred on the narrowPeak summit, else on the
    /// interval's middle (default: each interval as it is; all must then
    /// have one length).
    #[cfg_attr(feature = "cli", arg(long, value_name = "BP", requires = "genome", value_parser = crate::cli::at_least_one))]
    pub peak_width: Option<usize>,
    /// Chromosomes whose intervals form the validation set instead
    /// (comma-separated, e.g. chr8,chr9).
    #[cfg_attr(
        feature = "cli",
        arg(long, value_name = "CHROMS", value_delimiter = ',', requires = "genome")
    )]
    pub valid_chroms: Vec<String>,
    /// Chromosomes whose intervals form the test set instead
    /// (comma-separated, e.g. chr1,chr2).
    #[cfg_attr(
        feature = "cli",
        arg(long, value_name = "CHROMS", value_delimiter = ',', requires = "genome")
    )]
    pub test_chroms: Vec<String>,
}

/// Which set of the genome's intervals.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Split {
    /// Every chromosome not held out.
    Train,
    /// `valid-chroms`.
    Valid,
    /// `test-chroms`.
    Test,
}

/// Labelled records and the file they come from.
pub type Source = (PathBuf, Records);

/// What training.json records of the genome input.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GenomeSummary {
    /// The genome FASTA.
    pub fasta: String,
    /// Bound interval files.
    pub peaks: Vec<String>,
    /// Background interval files.
    pub nonpeaks: Vec<String>,
    /// Window width.
    pub width: Option<usize>,
    /// Validation chromosomes.
    pub valid_chroms: Vec<String>,
    /// Test chromosomes.
    pub test_chroms: Vec<String>,
}

fn names(v: &[PathBuf]) -> Vec<String> {
    v.iter().map(|p| p.display().to_string()).collect()
}

impl LabelledData {
    fn columns(&self) -> SeqInput {
        SeqInput {
            seq_col: self.seq_col.clone(),
            label_cols: self.label_cols.clone(),
            id_col: self.id_col.clone(),
            ..SeqInput::default()
        }
    }

    /// The records of `paths` read with these columns.
    ///
    /// # Errors
    /// If a file cannot be opened.
    pub fn files(&self, paths: &[PathBuf]) -> Result<Vec<Source>> {
        let cols = self.columns();
        paths
            .iter()
            .map(|p| -> Result<Source> { Ok((p.clone(), Box::new(cols.open(p, None)?))) })
            .collect()
    }

    /// The genome intervals of `split`: each `peaks` file (label 1), then
    /// each `nonpeaks` file (label 0). Empty for a held-out split whose
    /// chromosomes were not given.
    ///
    /// # Errors
    /// If the genome or a BED file cannot be opened.
    pub fn genome_sources(&self, split: Split) -> Result<Vec<Source>> {
        let Some(fasta) = &self.genome else {
            return Ok(Vec::new());
        };
        if self.peaks.is_empty() && self.nonpeaks.is_empty() {
            return Err(invalid(format!(
                "--genome {} without --peaks or --nonpeaks",
                fasta.display()
            )));
        }
        let set = |v: &[String]| v.iter().cloned().collect::<HashSet<_>>();
        let chroms = match split {
            Split::Train => Chroms::Except(&set(&self.valid_chroms) | &set(&self.test_chroms)),
            Split::Valid if self.valid_chroms.is_empty() => return Ok(Vec::new()),
            Split::Valid => Chroms::Only(set(&self.valid_chroms)),
            Split::Test if self.test_chroms.is_empty() => return Ok(Vec::new()),
            Split::Test => Chroms::Only(set(&self.test_chroms)),
        };
        let labelled =
            self.peaks.iter().map(|p| (p, 1.0)).chain(self.nonpeaks.iter().map(|p| (p, 0.0)));
        let mut out: Vec<Source> = Vec::new();
        for (bed, label) in labelled {
            let peaks =
                motif_genome::Peaks::open(bed, fasta, self.peak_width)?.chroms(chroms.clone());
            let recs = peaks.map(move |r| {
                let mut rec = r.map_err(motif_core::Error::from)?;
                rec.labels = vec![label];
                rec.label = Some(label);
                Ok(rec)
            });
            out.push((bed.clone(), Box::new(recs)));
        }
        Ok(out)
    }

    /// The data of `split`: the split's files, then its genome intervals.
    ///
    /// # Errors
    /// If a file cannot be opened.
    pub fn sources(&self, split: Split) -> Result<Vec<Source>> {
        let files: &[PathBuf] = match split {
            Split::Train => &self.train,
            Split::Valid => self.valid.as_slice(),
            Split::Test => &self.test,
        };
        let mut out = self.files(files)?;
        out.extend(self.genome_sources(split)?);
        Ok(out)
    }

    /// Every file read, with its role in run.json.
    #[must_use]
    pub fn inputs(&self) -> Vec<(&'static str, &Path)> {
        let mut v: Vec<(&'static str, &Path)> = Vec::new();
        v.extend(self.train.iter().map(|p| ("train", p.as_path())));
        v.extend(self.valid.iter().map(|p| ("valid", p.as_path())));
        v.extend(self.test.iter().map(|p| ("test", p.as_path())));
        let genome = self.peaks.iter().chain(&self.nonpeaks).chain(&self.genome);
        v.extend(genome.map(|p| ("genome", p.as_path())));
        v
    }

    /// The genome settings, when intervals are cut from a genome.
    #[must_use]
    pub fn genome_summary(&self) -> Option<GenomeSummary> {
        self.genome.as_ref().map(|g| GenomeSummary {
            fasta: g.display().to_string(),
            peaks: names(&self.peaks),
            nonpeaks: names(&self.nonpeaks),
            width: self.peak_width,
            valid_chroms: self.valid_chroms.clone(),
            test_chroms: self.test_chroms.clone(),
        })
    }
}

/// The files of `sources`, comma-separated.
#[must_use]
pub fn source_names(sources: &[Source]) -> String {
    sources.iter().map(|(p, _)| p.display().to_string()).collect::<Vec<_>>().join(", ")
}

/// Training data from `sources` (several are shuffled together with
/// `seed`), and their file names for messages.
///
/// # Errors
/// As [`load_sources`].
pub fn load_training(sources: Vec<Source>, seed: u64) -> Result<(Data, String)> {
    let names = source_names(&sources);
    let several = sources.len() > 1;
    let (mut data, _) = load_sources(sources)?;
    if several {
        let mut order: Vec<usize> = (0..data.len()).collect();
        Rng::new(seed).fork(u64::MAX).shuffle(&mut order);
        data = data.select(&order);
    }
    Ok((data, names))
}

/// Labelled sequences of one length from several sources, and their ids.
///
/// # Errors
/// If there are none, or a record has another length, no label, another
/// number of labels, a label other than 0 or 1, or a letter that is not
/// DNA (each naming the file, line and sequence).
pub fn load_sources(sources: Vec<Source>) -> Result<(Data, Vec<String>)> {
    let mut seqs: Vec<Vec<u8>> = Vec::new();
    let mut labels: Vec<Vec<f32>> = Vec::new();
    let mut ids = Vec::new();
    let mut len = None;
    let mut outs = None;
    let names = source_names(&sources);
    for (p, records) in sources {
        for rec in records {
            let rec = rec?;
            let at = format!("{}:{}: sequence `{}`", p.display(), rec.line, rec.id);
            let l = *len.get_or_insert(rec.seq.len());
            if rec.seq.len() != l {
                return Err(invalid(format!("{at} has {} bp, earlier ones {l}", rec.seq.len())));
            }
            if rec.labels.is_empty() {
                return Err(invalid(format!("{at} has no label")));
            }
            let k = *outs.get_or_insert(rec.labels.len());
            if rec.labels.len() != k {
                return Err(invalid(format!(
                    "{at} has {} labels, earlier ones {k}",
                    rec.labels.len()
                )));
            }
            if let Some(bad) = rec.labels.iter().find(|&&v| v != 0.0 && v != 1.0) {
                return Err(invalid(format!("{at} has label {bad}; training needs labels 0 or 1")));
            }
            ids.push(rec.id);
            seqs.push(rec.seq);
            labels.push(rec.labels);
        }
    }
    let (Some(_), Some(outs)) = (len, outs) else {
        return Err(invalid(format!(
            "{}: no sequences",
            if names.is_empty() { "training data" } else { &names }
        )));
    };
    let x: Array3<f32> = motif_core::onehot::one_hot_batch(&seqs).map_err(|(i, pos, b)| {
        invalid(format!(
            "sequence `{}`: letter `{}` at {} is not A, C, G, T or N",
            ids[i],
            char::from(b),
            pos + 1
        ))
    })?;
    let y = Array2::from_shape_fn((labels.len(), outs), |(i, j)| labels[i][j]);
    Ok((Data { x, y }, ids))
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::test_file as write;

    #[test]
    fn loads_labels_and_names_the_line_of_a_bad_record() {
        let dir = tempfile::tempdir().unwrap();
        let a = write(dir.path(), "a.fa", ">s1 1\nACGT\n>s2 0\nACGA\n");
        let d = LabelledData { train: vec![a.clone()], ..Default::default() };
        let (data, ids) = load_sources(d.sources(Split::Train).unwrap()).unwrap();
        assert_eq!(ids, ["s1", "s2"]);
        assert_eq!(data.y.column(0).to_vec(), [1.0, 0.0]);
        let b = write(dir.path(), "b.fa", ">s1 1\nACGT\n>s2 2\nACGA\n");
        let d = LabelledData { train: vec![b], ..Default::default() };
        let e = load_sources(d.sources(Split::Train).unwrap()).unwrap_err().to_string();
        assert!(e.contains("b.fa:3") && e.contains("`s2`") && e.contains("label 2"), "{e}");
        // several files are shuffled together, reproducibly
        let c = write(dir.path(), "c.fa", ">t1 0\nTTTT\n>t2 1\nGGGG\n");
        let d = LabelledData { train: vec![a, c], ..Default::default() };
        let (x, _) = load_training(d.sources(Split::Train).unwrap(), 3).unwrap();
        let (y, _) = load_training(d.sources(Split::Train).unwrap(), 3).unwrap();
        assert_eq!(x.x, y.x);
        assert_eq!(x.len(), 4);
    }

    #[test]
    fn held_out_splits_without_chromosomes_are_empty() {
        let d = LabelledData::default();
        assert!(d.genome_sources(Split::Valid).unwrap().is_empty());
        assert!(d.genome_summary().is_none());
    }
}
