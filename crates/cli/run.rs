//! Streaming a sequence file through a session: records are grouped by
//! length into batches (a batch has one length), batches run (in parallel
//! for engines that gain from it), and results come out in input order.
//! Memory holds a few batches, not the file.

use std::collections::{BTreeMap, HashMap};

use anyhow::{Context, Result, bail};
use motif_core::seqio::SeqRecord;
use motif_engine::Session;
use ndarray::Axis;
use rayon::prelude::*;

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

/// Runs every record of `records` through `session`, calling `emit` in input order.
pub fn stream(
    session: &dyn Session,
    model: &motif_onnx::Model,
    source: &std::path::Path,
    records: impl Iterator<Item = motif_core::Result<SeqRecord>>,
    batch_size: usize,
    mut emit: impl FnMut(Scored) -> Result<()>,
) -> Result<usize> {
    let batch_size = batch_size.max(1);
    let parallel = if session.parallel_batches() { rayon::current_num_threads() } else { 1 };
    let progress = indicatif::ProgressBar::new_spinner().with_message("sequences scored");
    progress.set_style(
        indicatif::ProgressStyle::with_template("{spinner} {pos} {msg} ({per_sec})")
            .expect("template"),
    );
    let mut buckets: HashMap<usize, Batch> = HashMap::new();
    let mut ready: Vec<Batch> = Vec::new();
    let mut done: BTreeMap<usize, Scored> = BTreeMap::new();
    let mut next = 0usize;
    let mut total = 0usize;
    let mut checked = std::collections::HashSet::new();
    let mut flush = |ready: &mut Vec<Batch>,
                     done: &mut BTreeMap<usize, Scored>,
                     next: &mut usize|
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
        while let Some(s) = done.remove(next) {
            emit(s)?;
            *next += 1;
            progress.inc(1);
        }
        Ok(())
    };
    for (i, rec) in records.enumerate() {
        let rec = rec?;
        if !buckets.contains_key(&rec.seq.len()) && checked.insert(rec.seq.len()) {
            model.check_length(rec.seq.len()).with_context(|| {
                format!("{}:{}: sequence `{}`", source.display(), rec.line, rec.id)
            })?;
        }
        total += 1;
        let b = buckets.entry(rec.seq.len()).or_default();
        b.push((i, rec));
        if b.len() >= batch_size {
            let full = std::mem::take(b);
            ready.push(full);
            if ready.len() >= parallel {
                flush(&mut ready, &mut done, &mut next)?;
            }
        }
    }
    ready.extend(buckets.into_values().filter(|b| !b.is_empty()));
    flush(&mut ready, &mut done, &mut next)?;
    progress.finish_and_clear();
    if next != total {
        bail!("internal error: {next} of {total} sequences emitted");
    }
    Ok(total)
}

fn score_batch(session: &dyn Session, batch: Batch) -> Result<Vec<(usize, Scored)>> {
    let seqs: Vec<&[u8]> = batch.iter().map(|(_, r)| r.seq.as_slice()).collect();
    let x = motif_core::onehot::one_hot_batch(&seqs).map_err(|(i, p, b)| {
        anyhow::anyhow!(
            "sequence `{}`: invalid letter `{}` at position {}",
            batch[i].1.id,
            char::from(b),
            p + 1
        )
    })?;
    let len = seqs[0].len();
    let outs = session
        .run(x.view())
        .with_context(|| format!("running {} sequences of length {len}", seqs.len()))?;
    let n = batch.len();
    for (o, name) in outs.iter().zip(session.output_names()) {
        if o.ndim() == 0 || o.shape()[0] != n {
            bail!("output `{name}` has shape {:?}; expected the batch ({n}) first", o.shape());
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

/// A progress bar on stderr for `len` items (hidden when `show` is false
/// or stderr is not a terminal).
pub fn progress_bar(len: u64, show: bool) -> indicatif::ProgressBar {
    if !show {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(len);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{bar:40} {pos}/{len} queries ({per_sec}, eta {eta})",
        )
        .expect("a valid template"),
    );
    bar
}
