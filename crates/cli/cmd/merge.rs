//! `motiftool merge`: shards' outputs back into one.

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;
use motif_workflow::merge;

use motif_core::rundir::RunDir;

use crate::output::Sink;
use crate::progress::Progress;

/// Help after the options.
pub const MERGE_HELP: &str = "\
A long job split with --shard i/n runs as n processes (on one machine or as cluster jobs); each
shard writes its own output, which says which shard it is. merge takes the n outputs, in any order,
checks that they are the whole of one job (each shard once, same columns, row counts one input
gives) and writes what a single run would have written, byte for byte, streaming.

Mergeable now: predict's and saliency's TSV (rows back in input order), match's TSV (tomtom's
table of the whole query file, footer once) and attribute's folders (-o a folder: ohe.npz,
shap.npz, projected.npz, scores.tsv, regions.bed, contributions.bw and .h5, summary and report, as
one run writes them).

Examples:
  motiftool predict model.onnx --seqs peaks.fa --shard 1/3 -o part1.tsv   # … 2/3, 3/3
  motiftool merge part1.tsv part2.tsv part3.tsv -o predictions.tsv
  motiftool match seqlets.meme --shard 1/4 -o m1.tsv   # … 4/4
  motiftool merge m1.tsv m2.tsv m3.tsv m4.tsv -o matches.tsv
  motiftool attribute model.onnx --bed peaks.bed --genome hg38.fa --shard 1/2 -o attr.1   # … 2/2
  motiftool merge attr.1 attr.2 -o attr";

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
    if a.parts.iter().all(|p| p.is_dir()) {
        return merge_folders(a);
    }
    let inputs: Vec<&std::path::Path> = a.parts.iter().map(PathBuf::as_path).collect();
    let mut sink = Sink::open(a.out.as_deref(), &inputs)?;
    let m = merge::merge(&a.parts, &mut sink)?;
    sink.finish()?;
    let unit = if m.kind == "match" { "queries" } else { "sequences" };
    eprintln!(
        "motiftool: merged {} {} shards: {} {unit}, {} rows",
        m.shards, m.kind, m.items, m.rows
    );
    Ok(())
}

/// Merges `attribute --shard` folders into the folder `-o`.
fn merge_folders(a: &MergeArgs) -> Result<()> {
    let Some(out) = a.out.as_deref().filter(|o| o.as_os_str() != "-") else {
        anyhow::bail!("merging shard folders: give the merged folder with -o");
    };
    if let Some(p) = a.parts.iter().find(|p| !motif_workflow::attribute_merge::is_shard(p)) {
        anyhow::bail!("{}: not a shard's output (no shard.json and run.json)", p.display());
    }
    if a.parts.iter().any(|p| motif_core::fsio::same_file(p, out)) {
        anyhow::bail!("-o {}: that is one of the shards; choose another folder", out.display());
    }
    let mut run = RunDir::create(out, "attribute")?;
    let mut progress = Progress::new(false);
    let s = motif_workflow::attribute_merge::merge(&a.parts, &mut run, &mut |e| progress.event(e))?;
    progress.clear();
    run.finish(&s)?;
    eprintln!(
        "motiftool: merged {} attribute shards: {} sequences → {}",
        a.parts.len(),
        s.sequences,
        out.display()
    );
    Ok(())
}
