//! `hits`: where motifs sit in sequences or peaks.
//!
//! Two methods: `log-odds` scans sequences with motifs' log-odds scores
//! against a background and keeps windows by their exact p-value (q-values
//! by Benjamini–Hochberg over every window scanned), as MEME's FIMO does;
//! `cwm` fits a region's attributions by discovered CWMs as Fi-NeMo does
//! (`motif_hits::cwm`). Motifs come from any motif file (`--motifs`) or a
//! modisco results file (`--modisco`: trimmed PPMs for `log-odds`, CWMs
//! for `cwm`). Writes `hits.tsv` and `hits.bed` (0-based, half-open, said
//! in the header), `counts.tsv` (hits per sequence and motif) and
//! `summary.json`.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use motif_core::rundir::RunDir;
use motif_hits::cwm::{CwmMotif, Solver, fit};
use motif_hits::logodds::{LogOdds, q_values};
use ndarray::{Array2, Array3, s};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::input::SeqInput;
use crate::regions::{Region, read_regions, read3};
use crate::{Event, Result, invalid};

/// The hit caller.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
#[serde(rename_all = "kebab-case")]
pub enum Method {
    /// Log-odds scores with exact p-values (FIMO's statistics).
    #[default]
    LogOdds,
    /// CWMs fitted to attributions (Fi-NeMo's).
    Cwm,
}

/// Settings of `hits`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "cli", derive(clap::Args))]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct Config {
    /// `log-odds` (sequences + motif probabilities, p-values) or `cwm`
    /// (attributions + a modisco results file's CWMs).
    #[cfg_attr(feature = "cli", arg(long, value_enum, default_value_t = Method::LogOdds))]
    pub method: Method,
    /// Motifs (MEME, JASPAR, TRANSFAC or HOMER) for `log-odds`.
    #[cfg_attr(feature = "cli", arg(long, value_name = "FILE"))]
    pub motifs: Option<PathBuf>,
    /// A modisco results file (motiftool discover's or modisco-lite's):
    /// its patterns trimmed by --trim-threshold.
    #[cfg_attr(feature = "cli", arg(long, value_name = "H5"))]
    pub modisco: Option<PathBuf>,
    /// Sequences to scan (`--seqs`, or --bed/--genome).
    #[cfg_attr(feature = "cli", command(flatten))]
    pub input: SeqInput,
    /// An `attribute` run folder (ohe.npz, shap.npz, regions.bed).
    #[cfg_attr(feature = "cli", arg(long, value_name = "DIR"))]
    pub from: Option<PathBuf>,
    /// One-hot sequences (N, 4, L).
    #[cfg_attr(feature = "cli", arg(long, value_name = "NPZ"))]
    pub ohe: Option<PathBuf>,
    /// Hypothetical contributions (N, 4, L), for `cwm`.
    #[cfg_attr(feature = "cli", arg(long, value_name = "NPZ"))]
    pub shap: Option<PathBuf>,
    /// The windows on the genome (one BED row per input row).
    #[cfg_attr(feature = "cli", arg(long, value_name = "BED"))]
    pub regions: Option<PathBuf>,
    /// `log-odds` background: `motifs` (the motif file's, uniform when it
    /// states none), `uniform`, or a MEME background file.
    #[cfg_attr(feature = "cli", arg(long, default_value_t = Config::default().bg))]
    pub bg: String,
    /// Largest p-value kept (`log-odds`).
    #[cfg_attr(feature = "cli", arg(long, default_value_t = Config::default().thresh))]
    pub thresh: f64,
    /// Pseudocount spread by the background (`log-odds`, FIMO's 0.1).
    #[cfg_attr(feature = "cli", arg(long, default_value_t = Config::default().pseudocount))]
    pub pseudocount: f64,
    /// Penalty and least similarity of a CWM hit (`cwm`, Fi-NeMo's 0.7).
    #[cfg_attr(feature = "cli", arg(long, default_value_t = Config::default().lambda))]
    pub lambda: f64,
    /// Modisco patterns are trimmed to the columns whose summed |CWM|
    /// reaches this fraction of the largest.
    #[cfg_attr(feature = "cli", arg(long, default_value_t = Config::default().trim_threshold))]
    pub trim_threshold: f64,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            method: Method::LogOdds,
            motifs: None,
            modisco: None,
            input: SeqInput::default(),
            from: None,
            ohe: None,
            shap: None,
            regions: None,
            bg: "motifs".into(),
            thresh: 1e-4,
            pseudocount: 0.1,
            lambda: 0.7,
            trim_threshold: 0.3,
        }
    }
}

/// What a run found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// The method.
    pub method: Method,
    /// Sequences (or regions) scanned.
    pub sequences: usize,
    /// Motifs, and hits of each.
    pub motifs: Vec<(String, usize)>,
    /// Hits in all.
    pub hits: usize,
    /// Windows scored (`log-odds`: the tests q-values count).
    pub tests: usize,
    /// Regions whose fit did not reach the tolerance (`cwm`).
    pub unconverged: usize,
}

/// A motif for either method.
struct Named {
    name: String,
    ppm: Vec<[f64; 4]>,
    nsites: f64,
    /// Full CWM and trimmed columns (modisco input).
    cwm: Option<(Array2<f64>, (usize, usize))>,
}

/// A hit row before formatting.
struct Row {
    seq: usize,
    start: usize,
    end: usize,
    motif: usize,
    reverse: bool,
    values: Vec<f64>,
}

/// Runs `hits` into `run`.
///
/// # Errors
/// If an input is missing or unusable (naming the file and what is wrong).
pub fn run(config: &Config, run: &mut RunDir, events: &mut dyn FnMut(Event)) -> Result<Summary> {
    for out in ["hits.tsv", "hits.bed", "counts.tsv", "summary.json"] {
        run.check_writable(out)?;
    }
    let (motifs, file_bg) = load_motifs(config, run)?;
    if motifs.is_empty() {
        return Err(invalid("no motifs: the motif file holds none"));
    }
    let (names, seqs, loci, contrib) = sequences(config, run)?;
    events(Event::Stage { name: "scanning", total: Some(seqs.len() as u64) });
    let (rows, tests, unconverged, columns) = match config.method {
        Method::LogOdds => {
            let (rows, tests) = scan_logodds(config, &motifs, file_bg, &seqs)?;
            (rows, tests, 0, "score\tp_value\tq_value")
        }
        Method::Cwm => {
            let (x, h) = contrib.expect("read above");
            let (rows, unconverged) = scan_cwm(config, &motifs, &x, &h, events)?;
            (rows, 0, unconverged, "coefficient\tcoefficient_global\tsimilarity\timportance")
        }
    };
    events(Event::Advance(seqs.len() as u64));
    write(run, &names, &motifs, &rows, loci.as_deref(), seqs.first().map_or(0, Vec::len), columns)?;
    let mut per = vec![0usize; motifs.len()];
    for r in &rows {
        per[r.motif] += 1;
    }
    run.set_config(config)?;
    Ok(Summary {
        method: config.method,
        sequences: seqs.len(),
        motifs: motifs.iter().map(|m| m.name.clone()).zip(per).collect(),
        hits: rows.len(),
        tests,
        unconverged,
    })
}

/// What is scanned: names, bases (0–3, 4 = N), loci, and for `cwm` the
/// one-hot and hypothetical arrays.
type Scanned = (Vec<String>, Vec<Vec<u8>>, Option<Vec<Region>>, Option<(Array3<f32>, Array3<f32>)>);

/// Reads the sequences (and attributions) to scan.
fn sequences(config: &Config, run: &mut RunDir) -> Result<Scanned> {
    let (ohe, shap, regions) = attribution_files(config);
    let out = if config.method == Method::Cwm
        || config.input.seqs.is_none() && config.input.bed.is_none()
    {
        let ohe = ohe.ok_or_else(|| {
            invalid("give the sequences: --seqs or --bed/--genome, or --ohe (with --shap for --method cwm), or --from DIR")
        })?;
        run.input("ohe", &ohe)?;
        let x = read3(&ohe)?;
        let h = match (&shap, config.method) {
            (Some(p), Method::Cwm) => {
                run.input("shap", p)?;
                let h = read3(p)?;
                if h.dim() != x.dim() {
                    return Err(invalid(format!(
                        "{}: shape {:?}, but {} is {:?}",
                        p.display(),
                        h.dim(),
                        ohe.display(),
                        x.dim()
                    )));
                }
                Some(h)
            }
            (None, Method::Cwm) => {
                return Err(invalid("--method cwm needs attributions: --shap or --from DIR"));
            }
            _ => None,
        };
        let (n, _, len) = x.dim();
        let seqs: Vec<Vec<u8>> = (0..n)
            .map(|i| {
                (0..len)
                    .map(|l| (0..4).find(|&b| x[(i, b, l)] > 0.5).map_or(4, |b| b as u8))
                    .collect()
            })
            .collect();
        let loci = match &regions {
            Some(r) => {
                run.input("regions", r)?;
                Some(read_regions(r, n, len)?)
            }
            None => None,
        };
        let names = (0..n).map(|i| format!("row{i}")).collect();
        let contrib = h.map(|h| (x, h));
        (names, seqs, loci, contrib)
    } else {
        let (records, source) = config.input.records(None)?;
        for (role, p) in config.input.files() {
            run.input(role, p)?;
        }
        let (mut names, mut seqs, mut loci) = (Vec::new(), Vec::new(), Vec::new());
        for r in records {
            let r = r?;
            names.push(r.id.clone());
            seqs.push(
                r.seq
                    .iter()
                    .map(|&b| {
                        b"ACGT"
                            .iter()
                            .position(|&c| c == b.to_ascii_uppercase())
                            .map_or(4, |k| k as u8)
                    })
                    .collect(),
            );
            loci.push(r.locus.map(|l| Region { chrom: l.chrom, start: l.start, minus: l.minus }));
        }
        if seqs.is_empty() {
            return Err(invalid(format!("{}: no sequences", source.display())));
        }
        let loci = loci.iter().all(Option::is_some).then(|| loci.into_iter().flatten().collect());
        (names, seqs, loci, None)
    };
    Ok(out)
}

/// Log-odds hits of every motif in every sequence, with q-values; the
/// windows scored.
fn scan_logodds(
    config: &Config,
    motifs: &[Named],
    file_bg: Option<[f64; 4]>,
    seqs: &[Vec<u8>],
) -> Result<(Vec<Row>, usize)> {
    let bg = background(config, file_bg)?;
    let prepared: Vec<LogOdds> =
        motifs.par_iter().map(|m| LogOdds::new(&m.ppm, m.nsites, bg, config.pseudocount)).collect();
    let per: Vec<(Vec<Row>, usize)> = seqs
        .par_iter()
        .enumerate()
        .map(|(i, s)| {
            let mut rows = Vec::new();
            let mut tests = 0;
            for (k, m) in prepared.iter().enumerate() {
                let (hits, t) = m.scan(s, config.thresh);
                tests += t;
                rows.extend(hits.into_iter().map(|h| Row {
                    seq: i,
                    start: h.start,
                    end: h.start + m.len(),
                    motif: k,
                    reverse: h.reverse,
                    values: vec![h.score, h.p_value],
                }));
            }
            (rows, tests)
        })
        .collect();
    let tests: usize = per.iter().map(|p| p.1).sum();
    let mut rows: Vec<Row> = per.into_iter().flat_map(|p| p.0).collect();
    let p: Vec<f64> = rows.iter().map(|r| r.values[1]).collect();
    for (r, q) in rows.iter_mut().zip(q_values(&p, tests)) {
        r.values.push(q);
    }
    Ok((rows, tests))
}

/// CWM hits in every region; how many fits did not converge.
fn scan_cwm(
    config: &Config,
    motifs: &[Named],
    x: &Array3<f32>,
    h: &Array3<f32>,
    events: &mut dyn FnMut(Event),
) -> Result<(Vec<Row>, usize)> {
    let n = x.dim().0;
    let mut cm: Vec<CwmMotif> = Vec::new();
    let mut of: Vec<usize> = Vec::new();
    for (k, m) in motifs.iter().enumerate() {
        let Some((cwm, mask)) = &m.cwm else {
            return Err(invalid(
                "--method cwm needs CWMs: give --modisco (a modisco results file)",
            ));
        };
        cm.extend(CwmMotif::both_strands(&m.name, cwm.view(), *mask, config.lambda));
        of.extend([k, k]);
    }
    let solver = Solver::default();
    let per: Vec<(Vec<Row>, bool)> = (0..n)
        .into_par_iter()
        .map(|i| {
            let onehot = x.slice(s![i, .., ..]).t().mapv(f64::from);
            let c = &onehot * &h.slice(s![i, .., ..]).t().mapv(f64::from);
            let (hits, f) = fit(c.view(), onehot.view(), &cm, &solver);
            let rows = hits
                .into_iter()
                .map(|t| Row {
                    seq: i,
                    start: t.start,
                    end: t.end,
                    motif: of[t.motif],
                    reverse: cm[t.motif].reverse,
                    values: vec![t.coefficient, t.coefficient_global, t.similarity, t.importance],
                })
                .collect();
            (rows, f.converged)
        })
        .collect();
    let unconverged = per.iter().filter(|p| !p.1).count();
    if unconverged > 0 {
        events(Event::Warning(format!(
            "{unconverged} region(s) did not converge within 10,000 steps: their hits may be incomplete"
        )));
    }
    let rows = per.into_iter().flat_map(|p| p.0).collect();
    Ok((rows, unconverged))
}

fn write(
    run: &RunDir,
    names: &[String],
    motifs: &[Named],
    rows: &[Row],
    loci: Option<&[Region]>,
    len: usize,
    columns: &str,
) -> Result<()> {
    let mut order: Vec<&Row> = rows.iter().collect();
    order.sort_by_key(|r| (r.seq, r.start, r.motif, r.reverse));
    let mut tsv = format!(
        "# coordinates 0-based, half-open{}\nsequence\tstart\tend\tmotif\tstrand\t{columns}{}\n",
        if loci.is_some() { "; chrom_start/chrom_end on the genome" } else { "" },
        if loci.is_some() { "\tchrom\tchrom_start\tchrom_end" } else { "" }
    );
    let mut bed = String::from("# motif hits: 0-based, half-open\n");
    for r in &order {
        let strand = if r.reverse { '-' } else { '+' };
        let vals: Vec<String> = r.values.iter().map(|v| format!("{v:.6e}")).collect();
        let _ = write!(
            tsv,
            "{}\t{}\t{}\t{}\t{strand}\t{}",
            names[r.seq],
            r.start,
            r.end,
            motifs[r.motif].name,
            vals.join("\t")
        );
        let (chrom, a, b, st) = if let Some(l) = loci {
            let region = &l[r.seq];
            let (a, b, st) = region.place(len as u64, r.start as u64, r.end as u64, r.reverse);
            let _ = writeln!(tsv, "\t{}\t{a}\t{b}", region.chrom);
            (region.chrom.clone(), a, b, st)
        } else {
            tsv.push('\n');
            (names[r.seq].clone(), r.start as u64, r.end as u64, strand)
        };
        let _ = writeln!(bed, "{chrom}\t{a}\t{b}\t{}\t0\t{st}", motifs[r.motif].name);
    }
    let mut counts = String::from("sequence");
    for m in motifs {
        let _ = write!(counts, "\t{}", m.name);
    }
    counts.push('\n');
    let mut table = vec![vec![0usize; motifs.len()]; names.len()];
    for r in rows {
        table[r.seq][r.motif] += 1;
    }
    for (name, row) in names.iter().zip(&table) {
        counts.push_str(name);
        for c in row {
            let _ = write!(counts, "\t{c}");
        }
        counts.push('\n');
    }
    run.write("hits.tsv", tsv.as_bytes())?;
    run.write("hits.bed", bed.as_bytes())?;
    run.write("counts.tsv", counts.as_bytes())?;
    Ok(())
}

/// ohe, shap and regions from the flags or a run folder.
fn attribution_files(c: &Config) -> (Option<PathBuf>, Option<PathBuf>, Option<PathBuf>) {
    match &c.from {
        Some(d) => {
            let bed = d.join("regions.bed");
            (
                Some(d.join("ohe.npz")),
                Some(d.join("shap.npz")),
                c.regions.clone().or_else(|| bed.exists().then_some(bed)),
            )
        }
        None => (c.ohe.clone(), c.shap.clone(), c.regions.clone()),
    }
}

/// The log-odds background.
fn background(c: &Config, file: Option<[f64; 4]>) -> Result<[f64; 4]> {
    match c.bg.as_str() {
        "motifs" => Ok(file.unwrap_or([0.25; 4])),
        "uniform" => Ok([0.25; 4]),
        p => crate::matching::read_background(Path::new(p)),
    }
}

/// The motifs and, for a motif file that states one, its background.
fn load_motifs(c: &Config, run: &mut RunDir) -> Result<(Vec<Named>, Option<[f64; 4]>)> {
    match (&c.motifs, &c.modisco) {
        (Some(p), None) => {
            run.input("motifs", p)?;
            let set = motif_core::motif::read_motifs(p)?;
            let named = set
                .motifs
                .iter()
                .map(|m| Named {
                    name: m.id.clone(),
                    ppm: m.probs.columns().into_iter().map(|c| [c[0], c[1], c[2], c[3]]).collect(),
                    nsites: m.nsites.unwrap_or(20.0),
                    cwm: None,
                })
                .collect();
            Ok((named, set.has_background.then_some(set.background)))
        }
        (None, Some(p)) => {
            run.input("modisco", p)?;
            Ok((read_modisco(p, c.trim_threshold)?, None))
        }
        _ => Err(invalid("give the motifs: --motifs FILE or --modisco RESULTS.h5 (one of them)")),
    }
}

/// Patterns of a modisco results file: trimmed PPM, seqlet count, CWM.
fn read_modisco(p: &Path, frac: f64) -> Result<Vec<Named>> {
    let bad = |e: String| invalid(format!("{}: {e}", p.display()));
    let f = hdf5_pure::File::open(p).map_err(|e| bad(format!("not a readable HDF5 file ({e})")))?;
    let mut out = Vec::new();
    for group in ["pos_patterns", "neg_patterns"] {
        for i in 0.. {
            let base = format!("{group}/pattern_{i}");
            let Ok(seq) = f.dataset(&format!("{base}/sequence")) else { break };
            let read = |d: hdf5_pure::Dataset| -> Result<Array2<f64>> {
                let shape = d.shape().map_err(|e| bad(format!("{base}: {e}")))?;
                let v = d.read_f64().map_err(|e| bad(format!("{base}: {e}")))?;
                if shape.len() != 2 || shape[1] != 4 {
                    return Err(bad(format!("{base}: expected (L, 4) matrices, got {shape:?}")));
                }
                Array2::from_shape_vec((shape[0] as usize, 4), v).map_err(|e| bad(e.to_string()))
            };
            let ppm = read(seq)?;
            let cwm = read(
                f.dataset(&format!("{base}/contrib_scores"))
                    .map_err(|e| bad(format!("{base}: {e}")))?,
            )?;
            let n = f
                .dataset(&format!("{base}/seqlets/n_seqlets"))
                .and_then(|d| d.read_i64())
                .ok()
                .and_then(|v| v.first().copied())
                .unwrap_or(20);
            let (a, b) =
                motif_discover::motif::trim_bounds(cwm.view(), frac).unwrap_or((0, cwm.nrows()));
            let rows: Vec<[f64; 4]> = ppm
                .slice(s![a..b, ..])
                .rows()
                .into_iter()
                .map(|r| {
                    let t: f64 = r.sum();
                    if t > 0.0 { [r[0] / t, r[1] / t, r[2] / t, r[3] / t] } else { [0.25; 4] }
                })
                .collect();
            out.push(Named {
                name: format!("{group}.pattern_{i}"),
                ppm: rows,
                nsites: n as f64,
                cwm: Some((cwm, (a, b))),
            });
        }
    }
    if out.is_empty() {
        return Err(bad("no pos_patterns/pattern_0 or neg_patterns/pattern_0: not a modisco results file, or no patterns".into()));
    }
    Ok(out)
}
