//! `predict` and `evaluate`: a model run over a sequence file or genome
//! intervals of any size. Records are grouped by length into batches (a
//! batch has one length), batches run in parallel for engines that gain from
//! it, and results come out in input order; memory holds a few batches, not
//! the file.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::Write;
use std::path::{Path, PathBuf};

use motif_core::seqio::{SeqFormat, SeqRecord};
use motif_core::shard::Shard;
use motif_engine::Session;
use ndarray::Axis;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::engine::EngineConfig;
use crate::input::{Records, SeqInput};
use crate::{Event, Result, invalid};

/// A sequence file format, when not taken from the name or content.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// FASTA.
    Fasta,
    /// DeepBind `.seq`.
    Seq,
    /// seq<TAB>label, or a table with a header row.
    Tsv,
    /// Comma-separated table with a header row.
    Csv,
}

impl Format {
    fn reader(self) -> SeqFormat {
        match self {
            Self::Fasta => SeqFormat::Fasta,
            Self::Seq => SeqFormat::DeepBind,
            Self::Tsv => SeqFormat::Tsv,
            Self::Csv => SeqFormat::Csv,
        }
    }
}

/// Settings of `predict` and `evaluate` (their flags, but for the sequence
/// file, which each command names itself).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "cli", derive(clap::Args))]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct Config {
    /// The ONNX model.
    #[cfg_attr(feature = "cli", arg(default_value = "", hide_default_value = true, required_unless_present = "config", value_parser = crate::cli::path_or_empty()))]
    pub model: PathBuf,
    /// The sequences: table columns, `--bed/--genome/--width`.
    #[cfg_attr(feature = "cli", command(flatten))]
    pub input: SeqInput,
    /// Sequence file format (default: from the file name, else sniffed).
    #[cfg_attr(feature = "cli", arg(long, value_enum))]
    pub format: Option<Format>,
    /// Labels by id (`id label` per line) for files whose records carry none.
    #[cfg_attr(feature = "cli", arg(long))]
    pub labels: Option<PathBuf>,
    /// Tensors to write: graph outputs by default; any intermediate tensor
    /// by name (see `motiftool inspect --tensors`). Repeat for several.
    #[cfg_attr(feature = "cli", arg(long = "output", value_name = "TENSOR"))]
    pub outputs: Vec<String>,
    /// Engine settings.
    #[cfg_attr(feature = "cli", command(flatten))]
    pub engine: EngineConfig,
    /// This process's share of the sequences, i/n (1-based): a block of
    /// the batches a single run forms (each length's sequences in input
    /// order, `--batch-size` at a time; batches ordered by their first
    /// sequence), so that its engine calls are the single run's. The TSV
    /// then starts with a `#shard<TAB>i/n<TAB>FIRST<TAB>of=N<TAB>batch=B`
    /// line and an `index` column (each row's sequence in the input);
    /// `motiftool merge` joins the shards into the single run's file
    /// (predict; evaluate does not shard).
    #[cfg_attr(feature = "cli", arg(long, value_name = "i/n"))]
    pub shard: Option<Shard>,
}

impl Config {
    /// The file the sequences come from (`seqs`, else `bed`).
    #[must_use]
    pub fn source(&self) -> &Path {
        self.input.seqs.as_deref().or(self.input.bed.as_deref()).unwrap_or(Path::new("-"))
    }

    /// The files read (an output equal to one is refused).
    #[must_use]
    pub fn inputs(&self) -> Vec<&Path> {
        let mut v = vec![self.model.as_path(), self.source()];
        v.extend(self.labels.as_deref());
        v.extend(self.input.genome.as_deref());
        v
    }

    fn records(&self) -> Result<Records> {
        let (r, _) = self.input.records(self.format.map(Format::reader))?;
        let Some(l) = &self.labels else { return Ok(r) };
        let labels = motif_core::seqio::read_labels(l)?;
        Ok(Box::new(r.map(move |rec| {
            rec.map(|mut rec| {
                motif_core::seqio::fill_label(&mut rec, &labels);
                rec
            })
        })))
    }

    fn open(&self) -> Result<(motif_onnx::Model, Box<dyn Session>)> {
        let model = motif_onnx::Model::load(&self.model)?;
        let session = motif_engine::open(&model, &self.engine.options(self.outputs.clone()))?;
        Ok((model, session))
    }
}

/// One sequence's results.
pub struct Scored {
    /// Record id.
    pub id: String,
    /// Its label, if any.
    pub label: Option<f32>,
    /// Each requested tensor's values for this sequence, flattened.
    pub outputs: Vec<Vec<f32>>,
}

type Batch = Vec<(usize, SeqRecord)>;

/// Runs every record of `records` through `session`, calling `emit` in
/// input order; a `scoring` stage advances by sequences. Returns how many.
///
/// # Errors
/// On a record of a length the model does not take (naming the file, line
/// and sequence), an invalid letter, an engine failure, or `emit`'s error.
pub fn stream(
    session: &dyn Session,
    model: &motif_onnx::Model,
    source: &Path,
    records: impl Iterator<Item = motif_core::Result<SeqRecord>>,
    batch_size: usize,
    events: &mut dyn FnMut(Event),
    mut emit: impl FnMut(Scored) -> Result<()>,
) -> Result<usize> {
    let batch_size = batch_size.max(1);
    let parallel = if session.parallel_batches() { rayon::current_num_threads() } else { 1 };
    events(Event::Stage { name: "scoring", total: None });
    let mut buckets: HashMap<usize, Batch> = HashMap::new();
    let mut ready: Vec<Batch> = Vec::new();
    let mut done: BTreeMap<usize, Scored> = BTreeMap::new();
    let mut next = 0usize;
    let mut total = 0usize;
    let mut checked = HashSet::new();
    let mut flush = |ready: &mut Vec<Batch>,
                     done: &mut BTreeMap<usize, Scored>,
                     next: &mut usize,
                     events: &mut dyn FnMut(Event)|
     -> Result<()> {
        let results: Vec<Result<Vec<(usize, Scored)>>> = if parallel > 1 {
            ready.par_drain(..).map(|b| score_batch(session, b)).collect()
        } else {
            ready.drain(..).map(|b| score_batch(session, b)).collect()
        };
        for r in results {
            for (i, s) in r? {
                done.insert(i, s);
            }
        }
        let before = *next;
        while let Some(s) = done.remove(next) {
            emit(s)?;
            *next += 1;
        }
        events(Event::Advance((*next - before) as u64));
        Ok(())
    };
    for (i, rec) in records.enumerate() {
        let rec = rec?;
        if !buckets.contains_key(&rec.seq.len()) && checked.insert(rec.seq.len()) {
            model.check_length(rec.seq.len()).map_err(|e| {
                invalid(format!("{}:{}: sequence `{}`: {e}", source.display(), rec.line, rec.id))
            })?;
        }
        total += 1;
        let b = buckets.entry(rec.seq.len()).or_default();
        b.push((i, rec));
        if b.len() >= batch_size {
            let full = std::mem::take(b);
            ready.push(full);
            if ready.len() >= parallel {
                flush(&mut ready, &mut done, &mut next, events)?;
            }
        }
    }
    ready.extend(buckets.into_values().filter(|b| !b.is_empty()));
    flush(&mut ready, &mut done, &mut next, events)?;
    if next != total {
        return Err(invalid(format!("internal error: {next} of {total} sequences emitted")));
    }
    Ok(total)
}

fn score_batch(session: &dyn Session, batch: Batch) -> Result<Vec<(usize, Scored)>> {
    let seqs: Vec<&[u8]> = batch.iter().map(|(_, r)| r.seq.as_slice()).collect();
    let x = motif_core::onehot::one_hot_batch(&seqs).map_err(|(i, p, b)| {
        invalid(format!(
            "sequence `{}`: invalid letter `{}` at position {}",
            batch[i].1.id,
            char::from(b),
            p + 1
        ))
    })?;
    let len = seqs[0].len();
    let outs = session
        .run(x.view())
        .map_err(|e| invalid(format!("running {} sequences of length {len}: {e}", seqs.len())))?;
    let n = batch.len();
    for (o, name) in outs.iter().zip(session.output_names()) {
        if o.ndim() == 0 || o.shape()[0] != n {
            return Err(invalid(format!(
                "output `{name}` has shape {:?}; expected the batch ({n}) first",
                o.shape()
            )));
        }
    }
    Ok(batch
        .into_iter()
        .enumerate()
        .map(|(k, (i, rec))| {
            let outputs =
                outs.iter().map(|o| o.index_axis(Axis(0), k).iter().copied().collect()).collect();
            (i, Scored { id: rec.id, label: rec.label, outputs })
        })
        .collect())
}

/// The first word of a shard's TSV (predict's, saliency's, match's),
/// before the shard (`i/n`), where its block starts and the whole input's
/// size (`of=N`; predict and saliency add `batch=B`).
pub const SHARD_LINE: &str = "#shard";

/// Numbers a single run's batches as its sequences come: each length's
/// sequences in input order, `size` at a time, batches numbered by their
/// first sequence.
struct Batches {
    size: usize,
    /// per length: sequences seen and its open batch
    open: HashMap<usize, (usize, usize)>,
    count: usize,
}

impl Batches {
    fn new(size: usize) -> Self {
        Self { size: size.max(1), open: HashMap::new(), count: 0 }
    }

    /// The batch of the next sequence (of length `len`), and whether the
    /// sequence opens it.
    fn next(&mut self, len: usize) -> (usize, bool) {
        let (seen, at) = self.open.entry(len).or_insert((0, 0));
        let opens = *seen % self.size == 0;
        if opens {
            *at = self.count;
            self.count += 1;
        }
        *seen += 1;
        (*at, opens)
    }
}

/// What a predict or saliency shard takes: a block of the batches a single
/// run forms ([`Batches`]; for one length, a contiguous block of the file),
/// and what its shard line says.
pub(crate) struct ShardPlan {
    shard: Shard,
    batches: std::ops::Range<usize>,
    /// The first sequence of its first batch (the number of sequences when
    /// that is past the last batch).
    first: usize,
    total: usize,
    size: usize,
}

impl ShardPlan {
    /// The plan of `shard` for sequences of these lengths (input order),
    /// run `size` at a time. Memory: one number per batch.
    pub(crate) fn new<E>(
        shard: Shard,
        size: usize,
        lengths: impl IntoIterator<Item = std::result::Result<usize, E>>,
    ) -> std::result::Result<Self, E> {
        let mut b = Batches::new(size);
        let (mut firsts, mut total) = (Vec::new(), 0usize);
        for len in lengths {
            if b.next(len?).1 {
                firsts.push(total);
            }
            total += 1;
        }
        let batches = shard.block(b.count, 1);
        let first = firsts.get(batches.start).copied().unwrap_or(total);
        Ok(Self { shard, batches, first, total, size: b.size })
    }

    /// The shard line (without its newline).
    pub(crate) fn line(&self) -> String {
        format!(
            "{SHARD_LINE}\t{}\t{}\tof={}\tbatch={}",
            self.shard, self.first, self.total, self.size
        )
    }

    /// Says, sequence after sequence (by length, input order), whether the
    /// shard takes it.
    pub(crate) fn picker(&self) -> impl FnMut(usize) -> bool + Send + 'static {
        let mut b = Batches::new(self.size);
        let block = self.batches.clone();
        move |len| block.contains(&b.next(len).0)
    }
}

/// How a predict or evaluate run went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scoring {
    /// Sequences scored.
    pub sequences: usize,
    /// Engine that ran.
    pub engine: String,
    /// Device.
    pub device: String,
}

/// Runs `predict`, writing one TSV row per sequence (input order) to `out`:
/// id, label (`NA` when none), then each output's values (`name`, or
/// `name:j` for an output of several values).
///
/// # Errors
/// As [`stream`], if output sizes differ between sequences, or on a write
/// error (a closed pipe included, as `Error::Io`).
pub fn predict(
    config: &Config,
    out: &mut dyn Write,
    events: &mut dyn FnMut(Event),
) -> Result<Scoring> {
    let (model, session) = config.open()?;
    // With a shard, the input indices of the records read but not yet
    // written, in order (the rows' first column).
    let pending = std::sync::Arc::new(std::sync::Mutex::new(std::collections::VecDeque::new()));
    let records: Records = match config.shard {
        None => config.records()?,
        Some(shard) => {
            // A pass for the lengths (checking every record), then the shard's.
            let lengths = config.records()?.map(|r| r.map(|r| r.seq.len()));
            let plan = ShardPlan::new(shard, config.engine.batch(), lengths)?;
            writeln!(out, "{}", plan.line())?;
            let mut take = plan.picker();
            let read = std::sync::Arc::clone(&pending);
            Box::new(config.records()?.enumerate().filter_map(move |(i, r)| match r {
                Ok(rec) if !take(rec.seq.len()) => None,
                Ok(rec) => {
                    read.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push_back(i);
                    Some(Ok(rec))
                }
                Err(e) => Some(Err(e)),
            }))
        }
    };
    let index = config.shard.map(|_| "index\t").unwrap_or_default();
    let names: Vec<String> = session.output_names().to_vec();
    let mut widths: Option<Vec<usize>> = None;
    let n = stream(
        session.as_ref(),
        &model,
        config.source(),
        records,
        config.engine.batch(),
        events,
        |s| {
            if widths.is_none() {
                let w: Vec<usize> = s.outputs.iter().map(Vec::len).collect();
                let mut cols = vec!["id".to_owned(), "label".to_owned()];
                for (name, &k) in names.iter().zip(&w) {
                    if k == 1 {
                        cols.push(name.clone());
                    } else {
                        cols.extend((0..k).map(|j| format!("{name}:{j}")));
                    }
                }
                writeln!(out, "{index}{}", cols.join("\t"))?;
                widths = Some(w);
            }
            let widths = widths.as_deref().unwrap_or_default();
            let mut line = match config.shard {
                Some(_) => {
                    let i = pending
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner)
                        .pop_front()
                        .ok_or_else(|| invalid("internal error: a row without its sequence"))?;
                    format!("{i}\t{}", s.id)
                }
                None => s.id,
            };
            line.push('\t');
            line.push_str(&s.label.map_or_else(|| "NA".to_owned(), |l| l.to_string()));
            for (o, &w) in s.outputs.iter().zip(widths) {
                if o.len() != w {
                    return Err(invalid(format!(
                        "output sizes differ between sequences ({} vs {w}); write one length per file",
                        o.len()
                    )));
                }
                for v in o {
                    line.push('\t');
                    line.push_str(&v.to_string());
                }
            }
            writeln!(out, "{line}")?;
            Ok(())
        },
    )?;
    Ok(Scoring {
        sequences: n,
        engine: session.engine().to_string(),
        device: session.device().to_string(),
    })
}

/// `evaluate`'s result (its `--json`; keys in this order).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evaluation {
    /// Device.
    pub device: String,
    /// Engine.
    pub engine: String,
    /// The model.
    pub model: String,
    /// Sequences.
    pub n: usize,
    /// Negatives.
    pub negatives: usize,
    /// Positives.
    pub positives: usize,
    /// Area under the precision-recall curve.
    pub pr_auc: f64,
    /// Area under the ROC curve.
    pub roc_auc: f64,
    /// The sequence file.
    pub seqs: String,
}

/// Runs `evaluate`: ROC AUC and PR AUC of value `score_index` of the first
/// output against the 0/1 labels.
///
/// # Errors
/// As [`stream`]; a sequence without a label or with a label other than 0
/// or 1 (naming it); a score index past the output.
pub fn evaluate(
    config: &Config,
    score_index: usize,
    events: &mut dyn FnMut(Event),
) -> Result<Evaluation> {
    if let Some(s) = config.shard {
        return Err(invalid(format!(
            "--shard {s}: evaluate needs every sequence for its AUCs (shard `predict` instead)"
        )));
    }
    let (model, session) = config.open()?;
    let records = config.records()?;
    let source = config.source();
    let (mut scores, mut labels) = (Vec::new(), Vec::new());
    let mut missing = None;
    let n =
        stream(session.as_ref(), &model, source, records, config.engine.batch(), events, |s| {
            let Some(y) = s.label else {
                missing.get_or_insert(s.id);
                return Ok(());
            };
            let Some(&v) = s.outputs[0].get(score_index) else {
                return Err(invalid(format!(
                    "--score-index {score_index} but the output has {} values",
                    s.outputs[0].len()
                )));
            };
            if y != 0.0 && y != 1.0 {
                return Err(invalid(format!(
                    "{}: sequence `{}` has label {y}; evaluate needs labels 0 or 1",
                    source.display(),
                    s.id
                )));
            }
            scores.push(v);
            labels.push(y == 1.0);
            Ok(())
        })?;
    if let Some(id) = missing {
        return Err(invalid(format!(
            "{}: sequence `{id}` has no label (give `>id label` headers, a labelled .seq/.tsv, or --labels FILE)",
            source.display()
        )));
    }
    let positives = labels.iter().filter(|&&y| y).count();
    Ok(Evaluation {
        device: session.device().to_string(),
        engine: session.engine().to_string(),
        model: config.model.display().to_string(),
        n,
        negatives: n - positives,
        positives,
        pr_auc: motif_core::metrics::pr_auc(&scores, &labels)?,
        roc_auc: motif_core::metrics::roc_auc(&scores, &labels)?,
        seqs: source.display().to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The sequences `shard` takes and where its block starts.
    fn shard_rows(lengths: &[usize], size: usize, shard: Shard) -> (Vec<usize>, usize) {
        let plan = ShardPlan::new(shard, size, lengths.iter().map(|&l| Ok::<_, ()>(l))).unwrap();
        assert!(plan.line().ends_with(&format!("\tof={}\tbatch={size}", lengths.len())));
        let mut take = plan.picker();
        ((0..lengths.len()).filter(|&i| take(lengths[i])).collect(), plan.first)
    }

    /// Shards partition the sequences into the single run's batches: for
    /// one length, contiguous blocks of whole batches; for mixed lengths,
    /// each length's sequences of a shard are whole batches of that length.
    #[test]
    fn shard_rows_are_whole_batches_of_the_single_run() {
        let one = vec![101; 10];
        for n in 1..=4 {
            for i in 1..=n {
                let s = Shard::new(i, n).unwrap();
                let block = s.block(10, 3);
                assert_eq!(shard_rows(&one, 3, s), (block.clone().collect(), block.start));
            }
        }
        let mixed: Vec<usize> = (0..40).map(|i| [90, 101, 101, 80][i * 7 % 4]).collect();
        for n in 1..=5 {
            let mut all: Vec<usize> = Vec::new();
            for i in 1..=n {
                let (rows, first) = shard_rows(&mixed, 4, Shard::new(i, n).unwrap());
                assert!(rows.first().is_none_or(|&r| r == first));
                // ranks within each length: groups of 4 from multiples of 4
                let mut by_len: HashMap<usize, Vec<usize>> = HashMap::new();
                for &r in &rows {
                    let rank = mixed[..r].iter().filter(|&&l| l == mixed[r]).count();
                    by_len.entry(mixed[r]).or_default().push(rank);
                }
                for (l, ranks) in by_len {
                    let total = mixed.iter().filter(|&&m| m == l).count();
                    for g in ranks.chunks(4) {
                        assert_eq!(g[0] % 4, 0, "length {l}: {ranks:?}");
                        let want: Vec<usize> = (g[0]..(g[0] + 4).min(total)).collect();
                        assert_eq!(g, want.as_slice(), "length {l}: {ranks:?}");
                    }
                }
                all.extend(rows);
            }
            all.sort_unstable();
            assert_eq!(all, (0..40).collect::<Vec<_>>(), "{n} shards cover every sequence once");
        }
    }
}
