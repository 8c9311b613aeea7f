//! `match`: query motifs against a database through the registered
//! `tomtom` matcher, as MEME tomtom's `-text` TSV or as JSON.
//!
//! The database is prepared once and the queries compared in chunks (the
//! matcher's random stream continues across them, so the q-values are those
//! of one comparison of the whole file). The whole table is built before it
//! is returned, so a query that cannot be scored fails the run before any
//! output exists.
//!
//! With a shard (`--shard i/n`) a run compares its contiguous block of the
//! query file, the matcher skipping the queries before it (their random
//! draws), so each query's row is the one the whole run writes. The TSV
//! then starts with a `#shard<TAB>i/n<TAB>FIRST<TAB>QUERIES<TAB>of=N` line, and
//! `motiftool merge` joins the shards into the whole run's file.

use std::path::{Path, PathBuf};
use std::time::Instant;

use motif_core::motif::{MotifSet, read_motifs};
use motif_core::plugin::{self, MatchPolicy, QueryMatches};
use motif_core::shard::Shard;
use serde::{Deserialize, Serialize};

use crate::predict::SHARD_LINE;
use crate::{Event, Result, invalid};

/// Queries compared per call (bounds the memory of every hit of a chunk).
pub const CHUNK: usize = 256;

/// The letter background of the matcher's log-odds scores.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Background {
    /// The query file's letter frequencies (tomtom's default).
    #[default]
    Query,
    /// A, C, G, T at 0.25.
    Uniform,
    /// A MEME background file (`A 0.3` lines).
    File(PathBuf),
}

impl Background {
    /// `query`, `uniform`, or a file's path.
    #[must_use]
    pub fn parse(s: &str) -> Self {
        match s {
            "query" => Self::Query,
            "uniform" => Self::Uniform,
            p => Self::File(PathBuf::from(p)),
        }
    }

    /// The frequencies, or `None` for the queries' own.
    ///
    /// # Errors
    /// If the background file cannot be read or lacks a letter.
    pub fn frequencies(&self) -> Result<Option<[f64; 4]>> {
        match self {
            Self::Query => Ok(None),
            Self::Uniform => Ok(Some([0.25; 4])),
            Self::File(p) => read_background(p).map(Some),
        }
    }
}

/// Settings of `match`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct Config {
    /// Query motifs (MEME, JASPAR, TRANSFAC or HOMER; gzip ok).
    pub query: PathBuf,
    /// Target database; `None`: the bundled JASPAR set.
    pub db: Option<PathBuf>,
    /// The `tomtom` matcher's config (its documented defaults where unset);
    /// its `bg` is set from [`Config::background`].
    pub matcher: serde_json::Value,
    /// The letter background.
    pub background: Background,
    /// JSON (one object per reported match) instead of tomtom's TSV.
    pub json: bool,
    /// The command line the TSV footer names.
    pub command: String,
    /// Compare only this shard's block of the queries (TSV only).
    pub shard: Option<Shard>,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            query: PathBuf::new(),
            db: None,
            matcher: serde_json::json!({}),
            background: Background::Query,
            json: false,
            command: "motiftool match".into(),
            shard: None,
        }
    }
}

/// What `match` did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Matched {
    /// Query motifs compared (this shard's, with a shard).
    pub queries: usize,
    /// Targets kept.
    pub targets: usize,
    /// Matches reported.
    pub reported: usize,
    /// The matcher's config as built (defaults filled in).
    pub matcher: serde_json::Value,
    /// Seconds reading and preparing, then in all.
    pub seconds_reading: f64,
    /// Seconds in all.
    pub seconds: f64,
    /// The table (TSV or JSON text).
    #[serde(skip)]
    pub text: String,
}

/// Runs `match`; warnings about the inputs come as [`Event::Warning`].
///
/// # Errors
/// Unreadable motif files, no query motif, a bad background file or
/// matcher config, or a query the matcher cannot score.
pub fn run(config: &Config, events: &mut dyn FnMut(Event)) -> Result<Matched> {
    let t0 = Instant::now();
    let queries = read(&config.query, events)?;
    if queries.motifs.is_empty() {
        return Err(invalid(format!("{}: no query motifs", config.query.display())));
    }
    if let (Some(s), true) = (config.shard, config.json) {
        return Err(invalid(format!(
            "--shard {s}: shards are written as tomtom's TSV, which `motiftool merge` joins; \
             drop --json"
        )));
    }
    let targets = match &config.db {
        Some(p) => read(p, events)?,
        None => crate::database::bundled()?,
    };
    let mut over = config.matcher.clone();
    if let (Some(bg), Some(map)) = (config.background.frequencies()?, over.as_object_mut()) {
        map.insert("bg".into(), serde_json::json!(bg));
    }
    let name = MatchPolicy::MATCHER;
    let full = plugin::effective_config(name, &over)?;
    let matcher = plugin::build::<dyn plugin::MotifMatcher>(name, &over)?;
    let mut prepared = matcher
        .prepare(&targets, queries.background)
        .map_err(|e| invalid(format!("{}: {e}", config.query.display())))?;
    for w in prepared.warnings() {
        events(Event::Warning(w.clone()));
    }
    let seconds_reading = t0.elapsed().as_secs_f64();
    let (head, foot) = prepared.tsv_frame(&config.command);
    let block = config.shard.map_or(0..queries.motifs.len(), |s| s.block(queries.motifs.len(), 1));
    let mut text = match config.shard {
        Some(s) => format!(
            "{SHARD_LINE}\t{s}\t{}\t{}\tof={}\n{head}",
            block.start,
            block.len(),
            queries.motifs.len()
        ),
        None if config.json => String::from("["),
        None => head,
    };
    prepared.skip(block.start);
    let mine = &queries.motifs[block];
    let mut reported = 0;
    events(Event::Stage { name: "matching", total: Some(mine.len() as u64) });
    for chunk in mine.chunks(CHUNK) {
        let results = prepared
            .compare(chunk)
            .map_err(|e| invalid(format!("{}: {e}", config.query.display())))?;
        reported += results.iter().map(|r| r.reported().count()).sum::<usize>();
        if config.json {
            push_json(&mut text, &results, &targets, &*prepared)?;
        } else {
            text.push_str(&prepared.tsv_rows(&results, &targets));
        }
        events(Event::Advance(chunk.len() as u64));
    }
    if config.json {
        text.push_str("\n]\n");
    } else {
        text.push_str(&foot);
    }
    Ok(Matched {
        queries: mine.len(),
        targets: prepared.len(),
        reported,
        matcher: full,
        seconds_reading,
        seconds: t0.elapsed().as_secs_f64(),
        text,
    })
}

/// A motif file, its warnings sent as events.
fn read(path: &Path, events: &mut dyn FnMut(Event)) -> Result<MotifSet> {
    let set = read_motifs(path)?;
    for w in &set.warnings {
        events(Event::Warning(w.clone()));
    }
    Ok(set)
}

/// One JSON object per reported hit, appended after `[` or a previous one.
/// Values are printed at single precision, as tomtom's text does.
fn push_json(
    text: &mut String,
    results: &[QueryMatches],
    targets: &MotifSet,
    prepared: &dyn plugin::PreparedTargets,
) -> Result<()> {
    for r in results {
        for h in r.reported() {
            let v = serde_json::json!({
                "query": r.query,
                "target": targets.motifs[h.target].id,
                "offset": h.offset,
                "p_value": f64::from(h.p_value as f32),
                "e_value": f64::from(h.e_value as f32),
                "q_value": f64::from(h.q_value as f32),
                "overlap": h.overlap,
                "query_consensus": r.consensus,
                "target_consensus": prepared.target_consensus(h),
                "orientation": if h.reverse { "-" } else { "+" },
            });
            text.push_str(if text.len() == 1 { "\n" } else { ",\n" });
            text.push_str(&serde_json::to_string(&v).map_err(|e| invalid(e.to_string()))?);
        }
    }
    Ok(())
}

/// A MEME background file: `letter frequency` lines, `#` comments;
/// higher-order entries (`AA 0.1`) are ignored.
///
/// # Errors
/// If the file cannot be read, a line is not `letter frequency`, a
/// frequency is not a finite number ≥ 0, or a letter has none.
pub fn read_background(path: &Path) -> Result<[f64; 4]> {
    let text = std::fs::read_to_string(path).map_err(|e| motif_core::Error::io(path, e))?;
    let mut bg = [None; 4];
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let mut w = line.split_whitespace();
        let (Some(l), Some(v)) = (w.next(), w.next()) else {
            return Err(invalid(format!(
                "{}:{}: expected `letter frequency`",
                path.display(),
                i + 1
            )));
        };
        let Some(k) = ["A", "C", "G", "T"].iter().position(|b| b.eq_ignore_ascii_case(l)) else {
            continue;
        };
        let f = v.parse::<f64>().ok().filter(|v| v.is_finite() && *v >= 0.0).ok_or_else(|| {
            invalid(format!("{}:{}: `{v}` is not a frequency", path.display(), i + 1))
        })?;
        bg[k] = Some(f);
    }
    let mut out = [0.0; 4];
    for (k, b) in bg.iter().enumerate() {
        out[k] = b.ok_or_else(|| {
            invalid(format!("{}: no frequency for {}", path.display(), &"ACGT"[k..=k]))
        })?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    // Links the matcher into the test binary (it registers at link time).
    use motif_tomtom as _;

    use super::*;

    #[test]
    fn background_files_parse_or_name_the_line() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("bg");
        std::fs::write(&p, "# order 0\nA 0.3\nc 0.2\nG 0.2\nT 0.3\nAA 0.1\n").unwrap();
        assert_eq!(read_background(&p).unwrap(), [0.3, 0.2, 0.2, 0.3]);
        std::fs::write(&p, "A 0.3\nC -1\n").unwrap();
        let e = read_background(&p).unwrap_err().to_string();
        assert!(e.contains("bg:2") && e.contains("`-1`"), "{e}");
        std::fs::write(&p, "A 0.3\nC 0.2\nG 0.5\n").unwrap();
        assert!(read_background(&p).unwrap_err().to_string().contains("no frequency for T"));
        std::fs::write(&p, "A\n").unwrap();
        assert!(read_background(&p).unwrap_err().to_string().contains("bg:1"));
    }

    /// The run's table is the matcher's table of the whole file compared at
    /// once: tomtom's TSV, or one JSON object per reported row.
    #[test]
    fn the_table_is_the_matchers_table_of_the_whole_file() {
        let q =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/tomtom/reference_queries.meme");
        let cfg = Config { query: q.clone(), ..Config::default() };
        let m = run(&cfg, &mut |_| {}).unwrap();
        let set = read_motifs(&q).unwrap();
        let db = crate::database::bundled().unwrap();
        let matcher =
            plugin::build::<dyn plugin::MotifMatcher>("tomtom", &serde_json::json!({})).unwrap();
        let mut prepared = matcher.prepare(&db, set.background).unwrap();
        let all = prepared.compare(&set.motifs).unwrap();
        assert_eq!(m.text, prepared.tsv(&all, &db, "motiftool match"));
        assert_eq!(m.reported, all.iter().map(|r| r.reported().count()).sum::<usize>());
        assert!(m.reported > 0 && m.queries == set.motifs.len());
        // shards: blocks of the queries whose rows are the whole run's
        let n = 3;
        let mut rows = String::new();
        for i in 1..=n {
            let shard = Some(Shard::new(i, n).unwrap());
            let part = run(&Config { shard, ..cfg.clone() }, &mut |_| {}).unwrap().text;
            let (line, rest) = part.split_once('\n').unwrap();
            let block = Shard::new(i, n).unwrap().block(set.motifs.len(), 1);
            let (a, k, all) = (block.start, block.len(), set.motifs.len());
            assert_eq!(line, format!("#shard\t{i}/{n}\t{a}\t{k}\tof={all}"));
            let (head, foot) = prepared.tsv_frame("motiftool match");
            rows += rest.strip_prefix(&head).unwrap().strip_suffix(&foot).unwrap();
        }
        let (head, foot) = prepared.tsv_frame("motiftool match");
        assert_eq!(head + &rows + &foot, m.text, "the shards' rows are the whole run's");
        let shard = Some(Shard::new(1, 2).unwrap());
        let e = run(&Config { json: true, shard, ..cfg.clone() }, &mut |_| {}).unwrap_err();
        assert!(e.to_string().contains("drop --json"), "{e}");
        let j = run(&Config { json: true, ..cfg }, &mut |_| {}).unwrap();
        let v: serde_json::Value = serde_json::from_str(&j.text).unwrap();
        assert_eq!(v.as_array().unwrap().len(), m.reported);
    }
}
