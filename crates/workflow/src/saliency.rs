//! `saliency`: input gradients per sequence, d(output or conv neuron) /
//! d(one-hot input), and gradient × input, written as one TSV row per
//! sequence position.
//!
//! With a shard (`--shard i/n`) a run takes the batches `predict`'s shard
//! takes (whole batches of the single run, each length on its own); its
//! TSV starts with predict's shard line and an `index` column (each row's
//! sequence in the input), and `motiftool merge` writes the single run's
//! file.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;

use motif_core::shard::Shard;
use motif_train::saliency::{Target, input_gradients};
use ndarray::{Array1, Array2, Axis};
use serde::{Deserialize, Serialize};

use crate::engine::EngineConfig;
use crate::input::SeqInput;
use crate::{Event, Result, invalid};

/// What the gradient is taken of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Of {
    /// Output column K, counted as `predict` writes them (every output
    /// flattened per sequence, in order).
    Output(usize),
    /// A conv neuron: layer and channel, at its most active position in
    /// each sequence.
    Neuron {
        /// Conv layer.
        layer: usize,
        /// Channel.
        channel: usize,
    },
}

/// Settings of `saliency` (its flags but for the sequence file and the
/// target, which the command declares as `--output`/`--neuron`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "cli", derive(clap::Args))]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct Config {
    /// The model (ONNX).
    #[cfg_attr(feature = "cli", arg(default_value = "", hide_default_value = true, required_unless_present = "config", value_parser = crate::cli::path_or_empty()))]
    pub model: PathBuf,
    /// The sequences: table columns, `--bed/--genome/--width`.
    #[cfg_attr(feature = "cli", command(flatten))]
    pub input: SeqInput,
    /// The gradient's target; default output 0.
    #[cfg_attr(feature = "cli", arg(skip = Of::Output(0)))]
    pub of: Of,
    /// Engine settings.
    #[cfg_attr(feature = "cli", command(flatten))]
    pub engine: EngineConfig,
    /// This process's share of the sequences, i/n (1-based): whole batches
    /// of the single run, as `predict --shard` takes them. The TSV starts
    /// with a `#shard` line and an `index` column (the row's sequence);
    /// `motiftool merge` joins the shards into the single run's file.
    #[cfg_attr(feature = "cli", arg(long, value_name = "i/n"))]
    pub shard: Option<Shard>,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            model: PathBuf::new(),
            input: SeqInput::default(),
            of: Of::Output(0),
            engine: EngineConfig::default(),
            shard: None,
        }
    }
}

/// `LAYER:CHANNEL` → [`Of::Neuron`].
///
/// # Errors
/// If `s` is not two numbers separated by `:` (naming `--neuron`).
pub fn parse_neuron(s: &str) -> Result<Of> {
    let Some((l, c)) = s.split_once(':') else {
        return Err(invalid(format!("--neuron `{s}`: expected LAYER:CHANNEL, e.g. 0:3")));
    };
    let parse = |v: &str, what: &str| {
        v.trim()
            .parse::<usize>()
            .map_err(|_| invalid(format!("--neuron `{s}`: {what} `{v}` is not a number")))
    };
    Ok(Of::Neuron { layer: parse(l, "layer")?, channel: parse(c, "channel")? })
}

/// The TSV's header line.
pub const HEADER: &str = "id\tpos\tbase\tA\tC\tG\tT\tgrad_x_input";

/// Runs `saliency`, writing to `out` the header `id pos base A C G T
/// grad_x_input` and one row per sequence position (input order); returns
/// the sequences done.
///
/// # Errors
/// If there are no sequences, a letter is not DNA, the target is out of
/// range, or the gradient cannot be built or run.
pub fn run(config: &Config, out: &mut dyn Write, events: &mut dyn FnMut(Event)) -> Result<usize> {
    let model = motif_onnx::Model::load(&config.model)?;
    let target = match config.of {
        Of::Output(k) => Target::Output(k),
        Of::Neuron { layer, channel } => Target::Neuron { layer, channel },
    };
    let (mut ids, mut seqs) = (Vec::new(), Vec::new());
    let (records, source) = config.input.records(None)?;
    for rec in records {
        let rec = rec?;
        ids.push(rec.id);
        seqs.push(rec.seq);
    }
    if seqs.is_empty() {
        return Err(invalid(format!("{}: no sequences", source.display())));
    }
    // With a shard: its sequences only, each row led by the sequence's index.
    let mut index: Option<Vec<usize>> = None;
    if let Some(shard) = config.shard {
        let lengths = seqs.iter().map(|s| Ok::<_, crate::Error>(s.len()));
        let plan = crate::predict::ShardPlan::new(shard, config.engine.batch(), lengths)?;
        writeln!(out, "{}", plan.line())?;
        let mut take = plan.picker();
        let picked: Vec<usize> = (0..seqs.len()).filter(|&i| take(seqs[i].len())).collect();
        ids = picked.iter().map(|&i| std::mem::take(&mut ids[i])).collect();
        seqs = picked.iter().map(|&i| std::mem::take(&mut seqs[i])).collect();
        index = Some(picked);
    }
    let opts = config.engine.options(vec![]);
    // Sequences of each length together (the gradient graph has fixed shapes).
    let mut by_len: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for (i, s) in seqs.iter().enumerate() {
        by_len.entry(s.len()).or_default().push(i);
    }
    events(Event::Stage { name: "gradients", total: Some(seqs.len() as u64) });
    // Per sequence: the gradient (4, L) and gradient × input (L).
    let mut grads: Vec<Option<(Array2<f32>, Array1<f32>)>> = vec![None; seqs.len()];
    for idx in by_len.values() {
        let group: Vec<&[u8]> = idx.iter().map(|&i| seqs[i].as_slice()).collect();
        let x = motif_core::onehot::one_hot_batch(&group).map_err(|(k, pos, b)| {
            invalid(format!(
                "{}: sequence `{}`: letter `{}` at {}",
                source.display(),
                ids[idx[k]],
                char::from(b),
                pos + 1
            ))
        })?;
        let g = input_gradients(&model, &x, target, &opts, config.engine.batch())?;
        let gx = (&g * &x).sum_axis(Axis(1));
        for (k, &i) in idx.iter().enumerate() {
            grads[i] = Some((g.index_axis(Axis(0), k).to_owned(), gx.row(k).to_owned()));
        }
        events(Event::Advance(idx.len() as u64));
    }
    writeln!(out, "{}{HEADER}", if index.is_some() { "index\t" } else { "" })?;
    for (k, ((id, seq), gr)) in ids.iter().zip(&seqs).zip(&grads).enumerate() {
        let Some((g, gx)) = gr else {
            return Err(invalid(format!("internal error: no gradient for `{id}`")));
        };
        let lead = index.as_ref().map_or_else(String::new, |ix| format!("{}\t", ix[k]));
        for (j, &b) in seq.iter().enumerate() {
            writeln!(
                out,
                "{lead}{id}\t{}\t{}\t{:.6e}\t{:.6e}\t{:.6e}\t{:.6e}\t{:.6e}",
                j + 1,
                char::from(b),
                g[(0, j)],
                g[(1, j)],
                g[(2, j)],
                g[(3, j)],
                gx[j]
            )?;
        }
    }
    Ok(seqs.len())
}
