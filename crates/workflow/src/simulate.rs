//! `simulate`: benchmark data with known truth (Deepprune's sets 1–5, Koo &
//! Eddy's 12-TF set, NeuronMotif's shift and grammar checks), written as
//! labelled FASTA, the planted instances and the motifs planted.

use std::fmt::Write as _;
use std::path::PathBuf;

use motif_core::motif::{MotifSet, write_meme};
use motif_core::rundir::RunDir;
use motif_sim::{Preset, simulate};
use serde::{Deserialize, Serialize};

use crate::{Event, Result, invalid};

/// Everything is held in memory (a few bytes per base): sizes that cannot
/// fit are refused rather than aborted while allocating.
const MAX_BASES: u128 = 2_000_000_000;

/// Settings of `simulate` (the `simulate` command's flags, and the keys of
/// its `--config` file).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "cli", derive(clap::Args))]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct Config {
    /// Which data set: `deepprune1` … `deepprune5` (Deepprune's simulated
    /// sets: 2, 2, 2, 4, 8 motifs; one instance per positive at a random
    /// position; i.i.d. uniform negatives; train and test of equal size) or
    /// `koo-eddy` (Koo & Eddy's 12-TF multi-label set: 1–5 instances per
    /// sequence on either strand, split 70/10/20), or NeuronMotif's checks
    /// `nm-shift` and `nm-grammar` (see below).
    #[cfg_attr(feature = "cli", arg(long, default_value = "", hide_default_value = true))]
    pub preset: String,
    /// Motif database to take the motifs from. Default: the bundled JASPAR
    /// 2024 set (the IDs each preset uses are listed below).
    #[cfg_attr(feature = "cli", arg(long))]
    pub motifs: Option<PathBuf>,
    /// Sequences: per split for Deepprune (train and test each), in all for
    /// Koo & Eddy. Default 10000 / 25000.
    #[cfg_attr(feature = "cli", arg(long))]
    pub n: Option<usize>,
    /// Sequence length. Default 101 (Deepprune) / 200 (Koo & Eddy).
    #[cfg_attr(feature = "cli", arg(long))]
    pub len: Option<usize>,
    /// Plant Deepprune motifs on a random strand (default: forward only).
    #[cfg_attr(feature = "cli", arg(long))]
    pub both_strands: bool,
    /// Random seed.
    #[cfg_attr(feature = "cli", arg(long, default_value_t = Config::default().seed))]
    pub seed: u64,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            preset: String::new(),
            motifs: None,
            n: None,
            len: None,
            both_strands: false,
            seed: 1,
        }
    }
}

/// A planted motif.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Planted {
    /// Its id.
    pub id: String,
    /// Its name.
    pub name: Option<String>,
}

/// One split's sizes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SplitSize {
    /// `train`, `valid`, `test`.
    pub name: String,
    /// Sequences.
    pub sequences: usize,
    /// Sequences with at least one positive label.
    pub positives: usize,
}

/// `simulate`'s result (simulate.json and summary.json).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    /// The preset.
    pub preset: String,
    /// The database the motifs came from.
    pub motif_database: String,
    /// The motifs planted.
    pub motifs: Vec<Planted>,
    /// Class names, one per label.
    pub classes: Vec<String>,
    /// Sequences (as configured).
    pub n: usize,
    /// Length.
    pub len: usize,
    /// Seed.
    pub seed: u64,
    /// Whether motifs were planted on both strands.
    pub both_strands: bool,
    /// The splits.
    pub splits: Vec<SplitSize>,
    /// Notes (e.g. a newer JASPAR version used).
    pub notes: Vec<String>,
    /// motiftool's version.
    pub motiftool: String,
}

/// Runs `simulate` into `run`: `<split>.fa` per split, truth.tsv,
/// motifs.meme and simulate.json. Notes come as events.
///
/// # Errors
/// On an unknown preset, sizes out of range, a database without the
/// preset's motifs, or a file that cannot be written.
pub fn run(config: &Config, run: &mut RunDir, events: &mut dyn FnMut(Event)) -> Result<Summary> {
    if config.preset.is_empty() {
        return Err(invalid(
            "no preset: give --preset NAME or `preset` in --config (deepprune1 … deepprune5, koo-eddy, nm-shift, nm-grammar)",
        ));
    }
    let preset = Preset::parse(&config.preset)?;
    let (db, db_name) = crate::database::load(config.motifs.as_deref())?;
    let n = config.n.unwrap_or(preset.default_n());
    let len = config.len.unwrap_or(preset.default_len());
    if n < 2 {
        return Err(invalid("--n must be at least 2"));
    }
    if len == 0 {
        return Err(invalid("--len must be at least 1"));
    }
    let bases = n as u128 * len as u128 * 2;
    if bases > MAX_BASES {
        return Err(invalid(format!(
            "--n {n} × --len {len}: {bases} bases in all is more than the {MAX_BASES} simulate holds in memory; use a smaller --n or --len"
        )));
    }
    if let Some(p) = &config.motifs {
        run.input("motifs", p)?;
    }
    let ds = simulate(preset, &db, &db_name, n, len, config.seed, config.both_strands)?;
    for note in &ds.notes {
        events(Event::Note(format!("note: {note}")));
    }
    let mut truth = String::from("split\tid\tmotif_id\tmotif_name\tstart\tend\tstrand\n");
    for split in &ds.splits {
        let mut fa = Vec::with_capacity(split.seqs.len() * (len + 24));
        for q in &split.seqs {
            let labels: Vec<String> = q.labels.iter().map(u8::to_string).collect();
            fa.extend_from_slice(format!(">{} {}\n", q.id, labels.join(" ")).as_bytes());
            fa.extend_from_slice(&q.seq);
            fa.push(b'\n');
            for i in &q.instances {
                let m = &ds.motifs[i.motif];
                let _ = writeln!(
                    truth,
                    "{}\t{}\t{}\t{}\t{}\t{}\t{}",
                    split.name,
                    q.id,
                    m.id,
                    m.name.as_deref().unwrap_or(""),
                    i.start + 1,
                    i.start + m.len(),
                    i.strand
                );
            }
        }
        run.write(&format!("{}.fa", split.name), &fa)?;
    }
    run.write("truth.tsv", truth.as_bytes())?;
    let set = MotifSet {
        motifs: ds.motifs.clone(),
        background: [0.25; 4],
        has_background: true,
        warnings: vec![],
    };
    run.write("motifs.meme", write_meme(&set).as_bytes())?;
    let summary = Summary {
        preset: preset.name(),
        motif_database: db_name,
        motifs: ds
            .motifs
            .iter()
            .map(|m| Planted { id: m.id.clone(), name: m.name.clone() })
            .collect(),
        classes: ds.classes.clone(),
        n,
        len,
        seed: config.seed,
        both_strands: config.both_strands || preset == Preset::KooEddy,
        splits: ds
            .splits
            .iter()
            .map(|s| SplitSize {
                name: s.name.to_owned(),
                sequences: s.seqs.len(),
                positives: s.seqs.iter().filter(|q| q.labels.contains(&1)).count(),
            })
            .collect(),
        notes: ds.notes.clone(),
        motiftool: env!("CARGO_PKG_VERSION").into(),
    };
    run.write_json("simulate.json", &summary)?;
    run.set_seed(config.seed);
    run.set_config(config)?;
    Ok(summary)
}
