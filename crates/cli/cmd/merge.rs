//! `motiftool merge`: shards' outputs back into one.

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;
use motif_workflow::merge;

use crate::output::Sink;

/// Help after the options.
pub const MERGE_HELP: &str = "\
A long job split with --shard i/n runs as n processes (on one machine or as cluster jobs); each
shard writes its own output, which says which shard it is. merge takes the n outputs, in any order,
checks that they are the whole of one job (each shard once, same columns, row counts one input
gives) and writes what a single run would have written, byte for byte, streaming.

Mergeable now: predict's TSV (rows back in input order).

Examples:
  motiftool predict model.onnx --seqs peaks.fa --shard 1/3 -o part1.tsv   # … 2/3, 3/3
  motiftool merge part1.tsv part2.tsv part3.tsv -o predictions.tsv";

/// Arguments of `merge`.
#[derive(Debug, Args)]
pub struct MergeArgs {
    /// The shards' outputs (any order).
    #[arg(required = true)]
    pub parts: Vec<PathBuf>,
    /// Merged output (written atomically); stdout when absent or `-`.
    #[arg(short = 'o', long = "out")]
    pub out: Option<PathBuf>,
}

/// Runs `merge`.
pub fn run(a: &MergeArgs) -> Result<()> {
    let inputs: Vec<&std::path::Path> = a.parts.iter().map(PathBuf::as_path).collect();
    let mut sink = Sink::open(a.out.as_deref(), &inputs)?;
    let m = merge::merge(&a.parts, &mut sink)?;
    sink.finish()?;
    eprintln!("motiftool: merged {} {} shards: {} rows", m.shards, m.kind, m.rows);
    Ok(())
}
