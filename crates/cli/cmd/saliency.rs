//! `motiftool saliency`.

use std::io::Write;
use std::path::PathBuf;

use std::collections::BTreeMap;

use anyhow::{Result, bail};
use clap::Args;
use motif_train::saliency::{Target, input_gradients};
use ndarray::{Array1, Array2, Axis};

use crate::EngineArgs;
use crate::output::Sink;

/// Arguments of `saliency`.
#[derive(Debug, Args)]
pub struct SaliencyArgs {
    /// The model (ONNX).
    pub model: PathBuf,
    /// Sequences (FASTA, DeepBind .seq, TSV or CSV; .gz fine); or --bed
    /// with --genome.
    #[arg(long, required_unless_present = "bed")]
    pub seqs: Option<PathBuf>,
    #[command(flatten)]
    pub columns: crate::ColumnArgs,
    #[command(flatten)]
    pub genome: crate::GenomeArgs,
    /// Gradient of output column K (default 0), counted as `predict` writes
    /// them: every output flattened per sequence, in order (BPNet: the
    /// profile's positions, then the counts).
    #[arg(long, value_name = "K", conflicts_with = "neuron")]
    pub output: Option<usize>,
    /// Gradient of a conv neuron: LAYER:CHANNEL (see `motiftool inspect`);
    /// the channel's most active position in each sequence.
    #[arg(long, value_name = "LAYER:CHANNEL")]
    pub neuron: Option<String>,
    #[command(flatten)]
    pub engine: EngineArgs,
    /// Output TSV (written atomically); stdout when absent or `-`.
    #[arg(short, long)]
    pub out: Option<PathBuf>,
}

/// Help after the options.
pub const SALIENCY_HELP: &str =
    "Writes one row per sequence position: id, pos (1-based), base, the gradient for A, C, G
and T, and gradient × input (the gradient at the observed base; N spreads 0.25 over all four).

Examples:
  motiftool saliency model.onnx --seqs test.fa -o saliency.tsv
  motiftool saliency model.onnx --seqs test.fa --neuron 0:3 -o neuron3.tsv";

fn parse_neuron(s: &str) -> Result<Target> {
    let Some((l, c)) = s.split_once(':') else {
        bail!("--neuron `{s}`: expected LAYER:CHANNEL, e.g. 0:3");
    };
    let parse = |v: &str, what: &str| {
        v.trim()
            .parse::<usize>()
            .map_err(|_| anyhow::anyhow!("--neuron `{s}`: {what} `{v}` is not a number"))
    };
    Ok(Target::Neuron { layer: parse(l, "layer")?, channel: parse(c, "channel")? })
}

/// Runs `saliency`.
pub fn run(a: &SaliencyArgs) -> Result<()> {
    let model = super::load_model(&a.model)?;
    let target = match &a.neuron {
        Some(s) => parse_neuron(s)?,
        None => Target::Output(a.output.unwrap_or(0)),
    };
    let mut ids = Vec::new();
    let mut seqs = Vec::new();
    let (records, source) = a.columns.records(&a.genome, a.seqs.as_deref(), None)?;
    for rec in records {
        let rec = rec?;
        ids.push(rec.id);
        seqs.push(rec.seq);
    }
    if seqs.is_empty() {
        bail!("{}: no sequences", source.display());
    }
    let opts = a.engine.options(vec![]);
    // Sequences of each length together (the gradient graph has fixed shapes).
    let mut by_len: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for (i, s) in seqs.iter().enumerate() {
        by_len.entry(s.len()).or_default().push(i);
    }
    // Per sequence: the gradient (4, L) and gradient × input (L).
    let mut grads: Vec<Option<(Array2<f32>, Array1<f32>)>> = vec![None; seqs.len()];
    for idx in by_len.values() {
        let group: Vec<&[u8]> = idx.iter().map(|&i| seqs[i].as_slice()).collect();
        let x = motif_core::onehot::one_hot_batch(&group).map_err(|(k, pos, b)| {
            anyhow::anyhow!(
                "{}: sequence `{}`: letter `{}` at {}",
                source.display(),
                ids[idx[k]],
                char::from(b),
                pos + 1
            )
        })?;
        let g = input_gradients(&model, &x, target, &opts, a.engine.batch())?;
        let gx = (&g * &x).sum_axis(Axis(1));
        for (k, &i) in idx.iter().enumerate() {
            grads[i] = Some((g.index_axis(Axis(0), k).to_owned(), gx.row(k).to_owned()));
        }
    }
    let mut inputs = vec![a.model.as_path()];
    inputs.extend(a.seqs.as_deref());
    inputs.extend(a.genome.inputs());
    let mut out = Sink::open(a.out.as_deref(), &inputs)?;
    writeln!(out, "id\tpos\tbase\tA\tC\tG\tT\tgrad_x_input")?;
    for (i, id) in ids.iter().enumerate() {
        let (g, gx) = grads[i].as_ref().expect("every sequence computed");
        for (j, &b) in seqs[i].iter().enumerate() {
            let gi: Vec<f32> = (0..4).map(|c| g[(c, j)]).collect();
            let gx = gx[j];
            writeln!(
                out,
                "{id}\t{}\t{}\t{:.6e}\t{:.6e}\t{:.6e}\t{:.6e}\t{:.6e}",
                j + 1,
                char::from(b),
                gi[0],
                gi[1],
                gi[2],
                gi[3],
                gx
            )?;
        }
    }
    out.finish()?;
    Ok(())
}
