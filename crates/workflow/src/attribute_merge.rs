//! `merge` of `attribute --shard i/n` folders into the folder one run
//! writes. Each shard attributed a block of whole chunks (so its engine
//! calls were the single run's): the arrays, scores and regions are
//! concatenated in shard order (streamed; regions read as `discover` reads
//! them), the bigWig is drawn from the
//! shards' per-position rows (`positions.npz`), and the summary and report
//! come from the exact values in each shard's `shard.json` (per-sequence
//! convergence deltas, its top tracks).

use std::io::BufRead;
use std::path::{Path, PathBuf};

use motif_core::npz::{NpzStream, RowReader};
use motif_core::plugin;
use motif_core::rundir::RunDir;
use motif_core::seqio::Locus;
use motif_core::shard::order;
use ndarray::{Array2, ArrayViewD, IxDyn};

use crate::attribute::{Config, ShardFile, Sink, Summary, finish, keep_track, regions_bed};
use crate::regions::read_regions;
use crate::{Event, Result, invalid};

/// One shard's folder, its settings and `shard.json`.
struct Part {
    dir: PathBuf,
    config: Config,
    file: ShardFile,
}

fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T> {
    let bytes = std::fs::read(path).map_err(|e| motif_core::Error::io(path, e))?;
    serde_json::from_slice(&bytes).map_err(|e| invalid(format!("{}: {e}", path.display())))
}

fn read_part(dir: &Path) -> Result<Part> {
    let file: ShardFile = read_json(&dir.join("shard.json"))?;
    let run: serde_json::Value = read_json(&dir.join("run.json"))?;
    if run["workflow"] != "attribute" {
        return Err(invalid(format!("{}: not an `attribute` run", dir.display())));
    }
    let config: Config = serde_json::from_value(run["config"].clone())
        .map_err(|e| invalid(format!("{}: its settings: {e}", dir.join("run.json").display())))?;
    Ok(Part { dir: dir.to_path_buf(), config, file })
}

/// Whether `dir` holds an `attribute` shard's output.
#[must_use]
pub fn is_shard(dir: &Path) -> bool {
    dir.join("shard.json").is_file() && dir.join("run.json").is_file()
}

/// The rows of file `name` of every part, in shard order, into `emit`
/// (each a flattened row).
fn rows_of(
    parts: &[Part],
    name: &str,
    mut emit: impl FnMut(Vec<f32>) -> motif_core::Result<()>,
) -> Result<()> {
    for p in parts {
        let mut r = RowReader::open(&p.dir.join(name))?;
        let mut rows = 0;
        while let Some(row) = r.next_row()? {
            emit(row)?;
            rows += 1;
        }
        if rows != p.file.rows {
            return Err(invalid(format!(
                "{}: {rows} rows where shard.json says {}",
                p.dir.join(name).display(),
                p.file.rows
            )));
        }
    }
    Ok(())
}

/// An array file of the parts concatenated into one stream of
/// `row`-shaped rows.
fn merged_array(parts: &[Part], run: &RunDir, name: &str, row: &[usize]) -> Result<NpzStream> {
    let mut out = NpzStream::new(run.dir(), name, row)?;
    let mut shape = vec![1];
    shape.extend(row);
    rows_of(parts, &format!("{name}.npz"), |v| {
        let a = ArrayViewD::from_shape(IxDyn(&shape), &v)
            .map_err(|e| motif_core::Error::Invalid(format!("{name}.npz: {e}")))?;
        out.push(a)
    })?;
    Ok(out)
}

/// The lines after the first `skip` of `name` in every part, in order.
fn lines_of(parts: &[Part], name: &str, skip: usize, mut emit: impl FnMut(String)) -> Result<()> {
    for p in parts {
        let path = p.dir.join(name);
        let f = std::fs::File::open(&path).map_err(|e| motif_core::Error::io(&path, e))?;
        for l in std::io::BufReader::new(f).lines().skip(skip) {
            emit(l.map_err(|e| motif_core::Error::io(&path, e))?);
        }
    }
    Ok(())
}

/// The shards of `dirs` in order, checked to be one run's blocks, those
/// with sequences only; and the run's settings.
fn checked_parts(dirs: &[PathBuf]) -> Result<(Config, Vec<Part>)> {
    let mut read = dirs.iter().map(|d| read_part(d).map(Some)).collect::<Result<Vec<_>>>()?;
    let at = order(&read.iter().flatten().map(|p| p.file.shard).collect::<Vec<_>>())?;
    let parts: Vec<Part> = at.iter().filter_map(|&k| read[k].take()).collect();
    // Blocks in order, each starting where the one before ended.
    let mut next = 0;
    for p in &parts {
        if p.file.first != next {
            return Err(invalid(format!(
                "{}: shard {} starts at sequence {} where {next} was expected (shards of \
                 different inputs or chunk sizes?)",
                p.dir.display(),
                p.file.shard,
                p.file.first
            )));
        }
        next += p.file.rows;
    }
    let mut config = parts[0].config.clone();
    config.shard = None;
    for p in &parts {
        let mut c = p.config.clone();
        c.shard = None;
        if c != config {
            return Err(invalid(format!(
                "{}: a shard of another run (its settings differ from {}'s)",
                p.dir.display(),
                parts[0].dir.display()
            )));
        }
    }
    // Shards that got no sequence (more shards than chunks) add nothing.
    let parts: Vec<Part> = parts.into_iter().filter(|p| p.file.rows > 0).collect();
    if parts.is_empty() {
        return Err(invalid("no shard attributed any sequence"));
    }
    Ok((config, parts))
}

/// Merges the `attribute --shard` folders `dirs` (any order) into `run`.
///
/// # Errors
/// A folder that is not an attribute shard, shards of different runs or
/// jobs, a shard missing or twice, blocks that do not follow each other, or
/// an input (model, sequences) no longer readable; I/O errors.
pub fn merge(dirs: &[PathBuf], run: &mut RunDir, events: &mut dyn FnMut(Event)) -> Result<Summary> {
    let (config, parts) = checked_parts(dirs)?;
    let first = &parts[0];
    let length = first.file.length;
    if let Some(p) = parts.iter().find(|p| p.file.length != length) {
        return Err(invalid(format!(
            "{}: {} bp sequences where {} has {length} bp",
            p.dir.display(),
            p.file.length,
            first.dir.display()
        )));
    }
    events(Event::Stage { name: "merging", total: None });
    let mut sink = Sink {
        ohe: merged_array(&parts, run, "ohe", &[4, length])?,
        hyp: merged_array(&parts, run, "shap", &[4, length])?,
        projected: if config.projected {
            Some(merged_array(&parts, run, "projected", &[4, length])?)
        } else {
            None
        },
        track: None,
        rows: String::new(),
        tracks: Vec::new(),
        max_delta: 0.0,
        with_convergence: parts[0].file.with_convergence,
        deltas: Vec::new(),
        warned: Vec::new(),
        first_row: 0,
    };
    // scores.tsv: the header once, then the rows in input order.
    let path = parts[0].dir.join("scores.tsv");
    let io = |e| motif_core::Error::io(&path, e);
    std::io::BufReader::new(std::fs::File::open(&path).map_err(io)?)
        .read_line(&mut sink.rows)
        .map_err(io)?;
    lines_of(&parts, "scores.tsv", 1, |l| {
        sink.rows.push_str(&l);
        sink.rows.push('\n');
    })?;
    // Convergence: the deltas in input order, as one run adds them.
    for p in &parts {
        sink.deltas.extend(&p.file.deltas);
        sink.max_delta = sink.max_delta.max(p.file.max_delta);
        sink.warned.extend(p.file.warned.iter().cloned());
    }
    // The report's tracks: each shard kept its best, so the run's best are
    // among them; offered in input order, as one run offers them.
    let mut tracks: Vec<_> = parts.iter().flat_map(|p| p.file.tracks.iter().cloned()).collect();
    tracks.sort_by_key(|t| t.row);
    for t in tracks {
        keep_track(&mut sink, config.tracks, t);
    }
    if config.input.bed.is_some() {
        let mut loci = Vec::new();
        for p in &parts {
            let regions = read_regions(&p.dir.join("regions.bed"), p.file.rows, length)?;
            loci.extend(regions.into_iter().map(|r| Locus {
                chrom: r.chrom,
                start: r.start,
                end: r.start + length as u64,
                minus: r.minus,
            }));
        }
        let mut track = crate::attribute_track::Track::new(run.dir(), length)?;
        rows_of(&parts, "positions.npz", |v| {
            let a = Array2::from_shape_vec((1, length), v)
                .map_err(|e| motif_core::Error::Invalid(format!("positions.npz: {e}")))?;
            track.push(&a).map_err(|e| motif_core::Error::Invalid(e.to_string()))
        })?;
        track.finish(&config, run, &loci, events)?;
        run.write("regions.bed", regions_bed(&loci).as_bytes())?;
    }
    let method_config = plugin::effective_config(&config.method, &config.method_config)?;
    let terms = parts[0].file.target.clone();
    finish(&config, run, sink, terms, length, &method_config, events)
}
