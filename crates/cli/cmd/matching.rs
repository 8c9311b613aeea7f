//! `motiftool match`: MEME tomtom's `-text` output, computed in process
//! (the `match` workflow over the registered `tomtom` matcher).

use std::io::Write as _;
use std::path::PathBuf;

use anyhow::Result;
use clap::Args;
use motif_workflow::cli::settings;
use motif_workflow::matching::{self, Background};

use crate::output::Sink;

/// Arguments of `match`.
#[derive(Debug, Args)]
pub struct MatchArgs {
    /// Query motifs (MEME, JASPAR, TRANSFAC or HOMER; gzip ok).
    #[arg(default_value = "", hide_default_value = true, required_unless_present = "config", value_parser = motif_workflow::cli::path_or_empty())]
    pub query: PathBuf,
    /// Target database (any motif format). Default: the bundled JASPAR 2024
    /// CORE vertebrates non-redundant set (879 motifs; jaspar.elixir.no, CC BY 4.0).
    #[arg(long)]
    pub db: Option<PathBuf>,
    /// The tomtom matcher's options.
    #[command(flatten)]
    pub tomtom: motif_tomtom::Config,
    #[command(flatten)]
    pub file: crate::ConfigFile,
    /// Background: a MEME background file (`A 0.3` lines), `uniform`, or
    /// `query` (the query file's letter frequencies, the default). Only
    /// allr, blic* and llr* use it, as in tomtom.
    #[arg(long)]
    pub bg: Option<String>,
    /// Write JSON (one object per reported match) instead of tomtom's TSV.
    #[arg(long)]
    pub json: bool,
    /// Output file (atomic); default stdout.
    #[arg(short, long)]
    pub out: Option<PathBuf>,
    /// Threads (default: all cores).
    #[arg(long)]
    pub threads: Option<usize>,
    /// Compare only shard i of n: a contiguous block of the queries, each
    /// matched as in the whole run (same q-values). The TSV starts with a
    /// `#shard` line; `motiftool merge` joins the n shards into the whole
    /// run's file.
    #[arg(long, value_name = "i/n")]
    pub shard: Option<motif_core::shard::Shard>,
    /// Print progress and timing to stderr.
    #[arg(long)]
    pub verbose: bool,
}

impl MatchArgs {
    /// `--config`'s settings, then the flags typed.
    fn config(&self, matches: &clap::ArgMatches) -> Result<matching::Config> {
        let command = table_command(std::env::args().skip(1));
        let flags = matching::Config {
            query: self.query.clone(),
            db: self.db.clone(),
            matcher: serde_json::to_value(&self.tomtom)?,
            background: self.bg.as_deref().map(Background::parse).unwrap_or_default(),
            json: self.json,
            command,
            shard: self.shard,
        };
        let mut c = settings(self.file.config.as_deref(), &flags, matches)?;
        c.command = flags.command;
        if self.bg.is_some() {
            c.background = flags.background;
        }
        Ok(c)
    }
}

/// The command line the TSV footer names: the one that computes the table,
/// so without where it was written (`-o`), which block of it (`--shard`)
/// or how (`--threads`, `--verbose`): the same for a single run and for
/// its shards.
fn table_command(args: impl Iterator<Item = String>) -> String {
    const VALUED: [&str; 4] = ["-o", "--out", "--shard", "--threads"];
    let mut words = vec!["motiftool".to_owned()];
    let mut args = args.peekable();
    while let Some(a) = args.next() {
        if VALUED.contains(&a.as_str()) {
            args.next();
        } else if a != "--verbose"
            && !a.starts_with("-o")
            && !VALUED.iter().any(|f| a.starts_with(&format!("{f}=")))
        {
            words.push(a);
        }
    }
    words.join(" ")
}

/// Runs `match`.
pub fn run(a: &MatchArgs, matches: &clap::ArgMatches) -> Result<()> {
    let config = a.config(matches)?;
    let inputs = [config.query.as_path(), config.db.as_deref().unwrap_or(config.query.as_path())];
    let mut sink = Sink::open(a.out.as_deref(), &inputs)?;
    let mut bars = crate::progress::Progress::new(!(a.verbose && a.out.is_some()));
    let m = matching::run(&config, &mut |e| bars.event(e))?;
    bars.clear();
    sink.write_all(m.text.as_bytes())?;
    sink.finish()?;
    if a.verbose {
        eprintln!(
            "motiftool: {} queries × {} targets ({}, {} strand(s)) in {:.3} s (reading {:.3} s)",
            m.queries,
            m.targets,
            m.matcher["dist"].as_str().unwrap_or_default(),
            if m.matcher["norc"] == true { 1 } else { 2 },
            m.seconds,
            m.seconds_reading
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_footer_leaves_out_the_output_and_the_shard() {
        let args = |s: &str| s.split(' ').map(str::to_owned).collect::<Vec<_>>().into_iter();
        for line in [
            "match q.meme --dist pearson -o out.tsv --shard 2/3 --threads 4",
            "match q.meme --shard=2/3 --verbose --dist pearson --out=out.tsv --threads=2",
            "match -oout.tsv q.meme --dist pearson",
            "match q.meme --out out.tsv --dist pearson",
        ] {
            assert_eq!(
                table_command(args(line)),
                "motiftool match q.meme --dist pearson",
                "{line}"
            );
        }
    }
}
