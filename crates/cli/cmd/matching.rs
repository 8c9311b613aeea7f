//! `motiftool match`: MEME tomtom's `-text` output, computed in process.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use clap::Args;
use motif_core::motif::{MotifSet, read_motifs};
use motif_tomtom::{
    Config, Database, Distance, MemeRng, TSV_HEADER, check_query, compare_with, tsv_footer,
    tsv_rows,
};

use rayon::prelude::*;

use crate::output::Sink;

/// Queries scored per parallel chunk (bounds memory on large query files).
const CHUNK: usize = 256;

/// Arguments of `match`.
#[derive(Debug, Args)]
#[allow(clippy::struct_excessive_bools, reason = "tomtom's own switches, one flag each")]
pub struct MatchArgs {
    /// Query motifs (MEME, JASPAR, TRANSFAC or HOMER; gzip ok).
    pub query: PathBuf,
    /// Target database (any motif format). Default: the bundled JASPAR 2024
    /// CORE vertebrates non-redundant set (879 motifs; jaspar.elixir.no, CC BY 4.0).
    #[arg(long)]
    pub db: Option<PathBuf>,
    /// Column similarity: pearson, ed (tomtom's default), sandelin, kullback,
    /// allr, blic1, blic5, llr1 (or llr), llr5.
    #[arg(long, default_value = "ed", value_parser = parse_dist)]
    pub dist: Distance,
    /// Minimum number of aligned columns.
    #[arg(long, default_value_t = 1)]
    pub min_overlap: usize,
    /// Only alignments with the shorter motif inside the longer.
    #[arg(long)]
    pub internal: bool,
    /// Report matches up to this q-value (E-value with --evalue).
    #[arg(long, default_value_t = 0.5)]
    pub thresh: f64,
    /// Threshold on E-values instead of q-values (then --thresh may exceed 1).
    #[arg(long)]
    pub evalue: bool,
    /// Do not score reverse complements of the targets.
    #[arg(long)]
    pub norc: bool,
    /// Score only aligned columns (the 2007 paper) instead of complete scores.
    #[arg(long)]
    pub incomplete_scores: bool,
    /// Pseudocount added to queries and targets, spread by the background.
    #[arg(long, default_value_t = 0.1)]
    pub motif_pseudo: f64,
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
    /// Print progress and timing to stderr.
    #[arg(long)]
    pub verbose: bool,
}

fn parse_dist(s: &str) -> std::result::Result<Distance, String> {
    Distance::parse(s).ok_or_else(|| {
        let names: Vec<&str> = Distance::ALL.iter().map(|d| d.name()).collect();
        format!("unknown distance `{s}` (one of {})", names.join(", "))
    })
}

fn warn(msgs: &[String]) {
    for m in msgs {
        eprintln!("motiftool: warning: {m}");
    }
}

/// Reads a motif file for matching: errors name the file; warnings printed.
fn load(path: &Path, what: &str) -> Result<MotifSet> {
    let set = read_motifs(path).with_context(|| format!("reading {what} motifs"))?;
    warn(&set.warnings);
    Ok(set)
}

/// A MEME background file: `letter frequency` lines, `#` comments.
fn read_bfile(path: &Path) -> Result<[f64; 4]> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("{}: cannot read", path.display()))?;
    let mut bg = [None; 4];
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let mut w = line.split_whitespace();
        let (Some(l), Some(v)) = (w.next(), w.next()) else {
            bail!("{}:{}: expected `letter frequency`", path.display(), i + 1);
        };
        let k = match l {
            "A" | "a" => 0,
            "C" | "c" => 1,
            "G" | "g" => 2,
            "T" | "t" => 3,
            _ => continue, // higher-order entries (AA, AC, …) are ignored
        };
        let v: f64 =
            v.parse().ok().filter(|v: &f64| v.is_finite() && *v >= 0.0).with_context(|| {
                format!("{}:{}: `{v}` is not a frequency", path.display(), i + 1)
            })?;
        bg[k] = Some(v);
    }
    let mut out = [0.0; 4];
    for (k, b) in bg.iter().enumerate() {
        out[k] =
            b.with_context(|| format!("{}: no frequency for {}", path.display(), &"ACGT"[k..=k]))?;
    }
    Ok(out)
}

/// Tomtom's options from the flags.
fn config(a: &MatchArgs) -> Result<Config> {
    let bg = match a.bg.as_deref() {
        None | Some("query") => None,
        Some("uniform") => Some([0.25; 4]),
        Some(p) => Some(read_bfile(Path::new(p))?),
    };
    let cfg = Config {
        dist: a.dist,
        min_overlap: a.min_overlap,
        internal: a.internal,
        incomplete_scores: a.incomplete_scores,
        norc: a.norc,
        motif_pseudo: a.motif_pseudo,
        thresh: a.thresh,
        evalue: a.evalue,
        bg,
    };
    cfg.validate()?;
    Ok(cfg)
}

/// Runs `match`.
pub fn run(a: &MatchArgs) -> Result<()> {
    let t0 = Instant::now();
    let queries = load(&a.query, "query")?;
    let targets = match &a.db {
        Some(p) => load(p, "target")?,
        None => motif_workflow::database::bundled()?,
    };
    let cfg = config(a)?;
    precheck(&queries, &targets, &cfg, &a.query)?;
    let db = Database::new(&targets, cfg.background_for(&queries), &cfg)?;
    warn(&db.warnings);
    let t_load = t0.elapsed();
    let mut sink = Sink::open(
        a.out.as_deref(),
        &[a.query.as_path(), a.db.as_deref().unwrap_or(a.query.as_path())],
    )?;
    write_matches(a, &db, &cfg, &queries, &mut sink)?;
    sink.finish()?;
    if a.verbose {
        eprintln!(
            "motiftool: {} queries × {} targets ({}, {} strand(s)) in {:.3} s (reading {:.3} s)",
            queries.motifs.len(),
            db.targets.len(),
            cfg.dist.name(),
            db.strands(),
            t0.elapsed().as_secs_f64(),
            t_load.as_secs_f64()
        );
    }
    Ok(())
}

/// Compares the queries chunk by chunk (the random stream continuing) and
/// writes tomtom's TSV, or JSON, in query order.
fn write_matches(
    a: &MatchArgs,
    db: &Database,
    cfg: &Config,
    queries: &MotifSet,
    sink: &mut Sink,
) -> Result<()> {
    sink.write_all(if a.json { b"[" } else { TSV_HEADER.as_bytes() })?;
    let mut rng = MemeRng::new();
    let mut first = true;
    let bar =
        crate::progress::progress_bar(queries.motifs.len() as u64, a.verbose && a.out.is_some());
    for chunk in queries.motifs.chunks(CHUNK) {
        let results = compare_with(db, chunk, &mut rng)?;
        if a.json {
            for r in &results {
                for h in r.reported(cfg) {
                    let v = serde_json::json!({
                        "query": r.scored.id,
                        "target": db.targets[h.target].id,
                        "offset": h.offset,
                        "p_value": f64::from(h.p_value as f32),
                        "e_value": f64::from(h.e_value as f32),
                        "q_value": f64::from(h.q_value as f32),
                        "overlap": h.overlap,
                        "query_consensus": r.scored.consensus,
                        "target_consensus": db.entry_consensus(h),
                        "orientation": if h.reverse { "-" } else { "+" },
                    });
                    sink.write_all(if first { b"\n" } else { b",\n" })?;
                    first = false;
                    serde_json::to_writer(&mut *sink, &v)?;
                }
            }
        } else {
            // rows formatted in parallel, written in query order
            let texts: Vec<String> = results.par_iter().map(|r| tsv_rows(db, r, cfg)).collect();
            for t in &texts {
                sink.write_all(t.as_bytes())?;
            }
        }
        bar.inc(chunk.len() as u64);
    }
    bar.finish_and_clear();
    if a.json {
        sink.write_all(b"\n]\n")?;
    } else {
        let cmd: Vec<String> = std::env::args()
            .enumerate()
            .map(|(i, s)| if i == 0 { "motiftool".to_owned() } else { s })
            .collect();
        sink.write_all(tsv_footer(&cmd.join(" ")).as_bytes())?;
    }
    Ok(())
}

/// Errors found before any output is written.
fn precheck(queries: &MotifSet, targets: &MotifSet, cfg: &Config, qpath: &Path) -> Result<()> {
    if queries.motifs.is_empty() {
        bail!("{}: no query motifs", qpath.display());
    }
    for q in &queries.motifs {
        check_query(q).with_context(|| qpath.display().to_string())?;
    }
    let log_scores = matches!(cfg.dist, Distance::Kullback | Distance::Allr);
    if cfg.motif_pseudo == 0.0 && log_scores {
        for m in queries.motifs.iter().chain(&targets.motifs) {
            if m.probs.iter().any(|&v| v == 0.0) {
                bail!(
                    "motif `{}` has a zero probability, which `{}` cannot score without a pseudocount (use --motif-pseudo > 0)",
                    m.id,
                    cfg.dist.name()
                );
            }
        }
    }
    Ok(())
}
