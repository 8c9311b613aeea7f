//! `discover`: motifs from attributions, as TF-MoDISco-lite finds them
//! (`motif_discover::pipeline`), named by the database with tomtom's exact
//! statistics, in the files the ecosystem reads.
//!
//! Input: modisco's `ohe.npz` + `shap.npz` (`(N, 4, L)`, hypothetical
//! contributions, any tool's), an `attribute` run folder (`--from`, which
//! also gives `regions.bed` for BED input), or a model with sequences
//! (attributed first into `attribution/`). Output: `modisco_results.h5`
//! (modisco-lite's schema: `modisco report`, `modisco meme` read it),
//! `patterns.meme` / `patterns.cwm.meme` / `patterns.hcwm.meme` (trimmed
//! PFM, CWM and hypothetical CWM of every positive and negative pattern),
//! `seqlets.tsv` and `seqlets.fa` (every pattern's seqlets; with genome
//! coordinates and `seqlets.bed` when the windows' regions are known),
//! `matches.tsv` (tomtom's text of the trimmed PFMs against the database),
//! `report.html` and `summary.json`.

use std::fmt::Write as _;
use std::path::PathBuf;

use motif_core::motif::{Motif, MotifSet, write_meme};
use motif_core::plugin::{self, MatchPolicy};
use motif_core::rundir::RunDir;
use motif_discover::modisco_h5::{self, PatternRecord};
use motif_discover::pattern::{Pattern, Site, Track, Tracks};
use motif_discover::pipeline::{self, Discovery, Found, Stage};
use ndarray::{Array2, s};
use serde::{Deserialize, Serialize};

use crate::engine::EngineConfig;
use crate::input::SeqInput;
use crate::regions::{Region, read_regions, read3};
use crate::{Event, Result, invalid};

/// Settings of `discover`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "cli", derive(clap::Args))]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct Config {
    /// A model (ONNX) to attribute first, with --seqs or --bed/--genome
    /// (instead of --ohe/--shap or --from).
    #[cfg_attr(feature = "cli", arg(default_value = "", hide_default_value = true, value_parser = crate::cli::path_or_empty()))]
    pub model: PathBuf,
    /// The model's sequences.
    #[cfg_attr(feature = "cli", command(flatten))]
    pub input: SeqInput,
    /// An `attribute` run folder: its ohe.npz, shap.npz and, when present,
    /// regions.bed.
    #[cfg_attr(feature = "cli", arg(long, value_name = "DIR", conflicts_with_all = ["ohe", "shap"]))]
    pub from: Option<PathBuf>,
    /// One-hot sequences, (N, 4, L) `.npz` (`arr_0`) or `.npy`.
    #[cfg_attr(feature = "cli", arg(long, value_name = "NPZ", requires = "shap"))]
    pub ohe: Option<PathBuf>,
    /// Hypothetical contributions, (N, 4, L), as modisco reads them.
    #[cfg_attr(feature = "cli", arg(long, value_name = "NPZ", requires = "ohe"))]
    pub shap: Option<PathBuf>,
    /// The windows on the genome, one BED row per input row in order (as
    /// `attribute` writes regions.bed for BED input): seqlets get genome
    /// coordinates and seqlets.bed is written.
    #[cfg_attr(feature = "cli", arg(long, value_name = "BED"))]
    pub regions: Option<PathBuf>,
    /// Attribution method when attributing a model first.
    #[cfg_attr(feature = "cli", arg(long, default_value_t = Config::default().method))]
    pub method: String,
    /// What the model's attributions explain (as `attribute --target`).
    #[cfg_attr(feature = "cli", arg(long, value_name = "OUTPUT[:INDEX]"))]
    pub target: Option<String>,
    /// Central columns of each sequence analysed (modisco's `-w`; even, at
    /// most the sequence length).
    #[cfg_attr(feature = "cli", arg(short = 'w', long, default_value_t = Config::default().window))]
    pub window: usize,
    /// Seqlets kept per metacluster, in calling order (modisco's `-n`).
    #[cfg_attr(feature = "cli", arg(short = 'n', long, default_value_t = Config::default().max_seqlets))]
    pub max_seqlets: usize,
    /// Leiden runs per clustering (modisco's `-l`); the best modularity is
    /// kept.
    #[cfg_attr(feature = "cli", arg(short = 'l', long, default_value_t = Config::default().leiden_runs, value_parser = crate::cli::at_least_one))]
    pub leiden_runs: usize,
    /// Seqlet caller: a `seqlet-caller` plugin (`motiftool plugins --kind
    /// seqlet-caller`).
    #[cfg_attr(feature = "cli", arg(long, default_value_t = Config::default().seqlet_caller))]
    pub seqlet_caller: String,
    /// Seqlet similarity: an `affinity` plugin.
    #[cfg_attr(feature = "cli", arg(long, default_value_t = Config::default().affinity))]
    pub affinity: String,
    /// Clustering of seqlets and of patterns' seqlets: a `clustering`
    /// plugin.
    #[cfg_attr(feature = "cli", arg(long, default_value_t = Config::default().clustering))]
    pub clustering: String,
    /// Seqlet core window (modisco's `-z`).
    #[cfg_attr(feature = "cli", arg(long, default_value_t = Config::default().seqlet_window, value_parser = crate::cli::at_least_one))]
    pub seqlet_window: usize,
    /// Seqlet flank each side (modisco's `-f`).
    #[cfg_attr(feature = "cli", arg(long, default_value_t = Config::default().seqlet_flank))]
    pub seqlet_flank: usize,
    /// Target FDR of the seqlet threshold (modisco's CLI: 0.05).
    #[cfg_attr(feature = "cli", arg(long, default_value_t = Config::default().fdr))]
    pub fdr: f64,
    /// Patterns are trimmed to the columns whose summed |CWM| reaches this
    /// fraction of the largest (the rule of modisco's reports and `FiNeMo`).
    #[cfg_attr(feature = "cli", arg(long, default_value_t = Config::default().trim_threshold))]
    pub trim_threshold: f64,
    /// Motif database the trimmed patterns are matched against (default:
    /// the bundled JASPAR 2024 set).
    #[cfg_attr(feature = "cli", arg(long, value_name = "MOTIFS"))]
    pub db: Option<PathBuf>,
    /// Database matches listed per pattern in the report and summary.
    #[cfg_attr(feature = "cli", arg(long, default_value_t = Config::default().top_matches))]
    pub top_matches: usize,
    /// Seed: Leiden run r uses seed 100·(r + seed) (0: modisco's seeds);
    /// the attribution, when a model is given, uses it too.
    #[cfg_attr(feature = "cli", arg(long, default_value_t = Config::default().seed))]
    pub seed: u64,
    /// Engine settings (when attributing a model first).
    #[cfg_attr(feature = "cli", command(flatten))]
    pub engine: EngineConfig,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            model: PathBuf::new(),
            input: SeqInput::default(),
            from: None,
            ohe: None,
            shap: None,
            regions: None,
            method: "deeplift-shap".into(),
            target: None,
            window: 400,
            max_seqlets: 20_000,
            leiden_runs: 2,
            seqlet_caller: "modisco-seqlets".into(),
            affinity: "continuous-jaccard".into(),
            clustering: "leiden".into(),
            seqlet_window: 20,
            seqlet_flank: 5,
            fdr: 0.05,
            trim_threshold: 0.3,
            db: None,
            top_matches: 3,
            seed: 0,
            engine: EngineConfig::default(),
        }
    }
}

/// A database match of a pattern.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PatternMatch {
    /// Target id.
    pub target: String,
    /// Target name, if the database gives one.
    pub name: Option<String>,
    /// tomtom's p-value.
    pub p_value: f64,
    /// E-value.
    pub e_value: f64,
    /// q-value.
    pub q_value: f64,
    /// Target column = query column + offset.
    pub offset: i32,
    /// `+` or `-` (the target reverse-complemented).
    pub orientation: String,
}

/// One discovered pattern.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PatternSummary {
    /// `pos_patterns.pattern_0`, as modisco names it.
    pub name: String,
    /// +1 or −1.
    pub sign: i8,
    /// Seqlets.
    pub seqlets: usize,
    /// Columns (untrimmed).
    pub length: usize,
    /// The trimmed columns `[start, end)`.
    pub trim: (usize, usize),
    /// Consensus of the trimmed PPM (IUPAC-free: the most frequent base,
    /// lower case below 0.5).
    pub consensus: String,
    /// Trimmed PPM, rows ACGT per column.
    pub ppm: Vec<[f64; 4]>,
    /// Trimmed CWM.
    pub cwm: Vec<[f64; 4]>,
    /// Seqlet counts of its subpatterns, largest first.
    pub subpatterns: Vec<usize>,
    /// Best database matches (tomtom p/E/q), best first.
    pub matches: Vec<PatternMatch>,
}

/// Seqlet calling facts (for the threshold diagnostics).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeqletSummary {
    /// Positive seqlets called.
    pub positive: usize,
    /// Negative seqlets called.
    pub negative: usize,
    /// Window-sum thresholds (positive, negative).
    pub thresholds: (f64, f64),
    /// The Laplace null: location and the two scales.
    pub null: (f64, f64, f64),
    /// |core sum| a seqlet needs to be given a sign.
    pub sign_threshold: f64,
    /// Histogram of the window sums: bin edges.
    pub histogram_edges: Vec<f64>,
    /// Counts per bin.
    pub histogram_counts: Vec<u64>,
}

/// What a run found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// Windows analysed.
    pub sequences: usize,
    /// Their length before cropping.
    pub length: usize,
    /// Columns analysed.
    pub window: usize,
    /// Seqlet calling.
    pub seqlets: SeqletSummary,
    /// Whether each metacluster ran (more than 100 seqlets).
    pub metaclusters_run: (bool, bool),
    /// Every pattern, positive then negative.
    pub patterns: Vec<PatternSummary>,
    /// The database matched against.
    pub database: String,
}

/// Every file a run writes (checked against the inputs before any work).
const OUTPUTS: [&str; 10] = [
    "modisco_results.h5",
    "patterns.meme",
    "patterns.cwm.meme",
    "patterns.hcwm.meme",
    "seqlets.tsv",
    "seqlets.fa",
    "seqlets.bed",
    "matches.tsv",
    "report.html",
    "summary.json",
];

/// Where the attributions come from.
struct Inputs {
    ohe: PathBuf,
    shap: PathBuf,
    regions: Option<PathBuf>,
}

/// Runs `discover` into `run`.
///
/// # Errors
/// If an input is unusable (naming the file and what is wrong), the
/// attribution fails, or an output cannot be written.
pub fn run(config: &Config, run: &mut RunDir, events: &mut dyn FnMut(Event)) -> Result<Summary> {
    if config.window == 0 || config.window % 2 == 1 {
        return Err(invalid(format!("--window {}: must be even and positive", config.window)));
    }
    let inputs = inputs(config, run, events)?;
    if let Some(r) = &inputs.regions {
        run.input("regions", r)?;
    }
    for out in OUTPUTS {
        run.check_writable(out)?;
    }
    events(Event::Stage { name: "reading attributions", total: None });
    let x = read3(&inputs.ohe)?;
    let h = read3(&inputs.shap)?;
    let (n, _, length) = x.dim();
    if let Some(bad) = h.iter().position(|v| !v.is_finite()) {
        let (i, rest) = (bad / (4 * length), bad % (4 * length));
        return Err(invalid(format!(
            "{}: sequence {i} has a non-finite contribution at base {}, position {}",
            inputs.shap.display(),
            rest / length,
            rest % length
        )));
    }
    let tracks = Tracks::from_modisco(x, h, config.window).map_err(|e| {
        invalid(format!("{} / {}: {e}", inputs.ohe.display(), inputs.shap.display()))
    })?;
    let regions = match &inputs.regions {
        Some(p) => Some(read_regions(p, n, length)?),
        None => None,
    };
    let settings = pipeline::Settings {
        max_seqlets_per_metacluster: config.max_seqlets,
        ..pipeline::Settings::default()
    };
    let plugins = build_plugins(config, run)?;
    events(Event::Stage { name: "discovering", total: None });
    let found = pipeline::discover(&tracks, &settings, &plugins, &mut |stage| {
        events(Event::Detail(describe(&stage)));
        if let Stage::Seqlets { positive, negative } = stage {
            events(Event::Note(format!("{positive} positive and {negative} negative seqlets")));
        }
    })?;
    write_outputs(config, run, &tracks, &found, regions.as_deref(), n, length, events)
}

/// The seqlet caller, affinity and clustering plugins, built through the
/// registry and recorded in run.json: the flags set the default plugins'
/// settings (`modisco-seqlets`: window, flank, FDR; `leiden`: runs, seed);
/// another plugin of the kind runs with its defaults.
fn build_plugins(config: &Config, run: &mut RunDir) -> Result<pipeline::Plugins> {
    use motif_core::plugin::{GraphClusterer, SeqletAffinity, SeqletCaller};
    let settings = |name: &str, defaults: serde_json::Value| -> Result<serde_json::Value> {
        let over = if plugin::find(name)?.name == name { defaults } else { serde_json::json!({}) };
        Ok(plugin::effective_config(name, &over)?)
    };
    let caller_cfg = settings(
        &config.seqlet_caller,
        if config.seqlet_caller == "modisco-seqlets" {
            serde_json::json!({"window": config.seqlet_window, "flank": config.seqlet_flank, "target-fdr": config.fdr})
        } else {
            serde_json::json!({})
        },
    )?;
    let cluster_cfg = settings(
        &config.clustering,
        if config.clustering == "leiden" {
            serde_json::json!({"runs": config.leiden_runs, "seed": config.seed})
        } else {
            serde_json::json!({})
        },
    )?;
    let affinity_cfg = settings(&config.affinity, serde_json::json!({}))?;
    let kind_check = |name: &str, kind: plugin::PluginKind, flag: &str| -> Result<()> {
        if plugin::find(name)?.kind == kind {
            Ok(())
        } else {
            Err(invalid(format!(
                "--{flag} `{name}` is not a {} plugin (see `motiftool plugins --kind {}`)",
                kind.name(),
                kind.name()
            )))
        }
    };
    kind_check(&config.seqlet_caller, plugin::PluginKind::SeqletCaller, "seqlet-caller")?;
    kind_check(&config.affinity, plugin::PluginKind::Affinity, "affinity")?;
    kind_check(&config.clustering, plugin::PluginKind::Clustering, "clustering")?;
    let plugins = pipeline::Plugins {
        caller: plugin::build::<dyn SeqletCaller>(&config.seqlet_caller, &caller_cfg)?,
        affinity: plugin::build::<dyn SeqletAffinity>(&config.affinity, &affinity_cfg)?,
        clustering: plugin::build::<dyn GraphClusterer>(&config.clustering, &cluster_cfg)?,
    };
    for (kind, name, cfg) in [
        ("seqlet-caller", &config.seqlet_caller, &caller_cfg),
        ("affinity", &config.affinity, &affinity_cfg),
        ("clustering", &config.clustering, &cluster_cfg),
    ] {
        run.plugin(kind, name, plugin::find(name)?.version, cfg)?;
    }
    Ok(plugins)
}

/// One line for the progress bar.
fn describe(s: &Stage) -> String {
    let sign = |v: i8| if v > 0 { "positive" } else { "negative" };
    match s {
        Stage::Seqlets { positive, negative } => {
            format!("{positive} positive, {negative} negative seqlets")
        }
        Stage::Round { sign: g, round, seqlets } => {
            format!("{} metacluster: round {round} clustering {seqlets} seqlets", sign(*g))
        }
        Stage::Clusters { sign: g, clusters, patterns } => {
            format!("{}: {clusters} clusters → {patterns} patterns", sign(*g))
        }
        Stage::Merging { sign: g, patterns } => {
            format!("{}: subclustering and merging {patterns} patterns", sign(*g))
        }
        Stage::Done { sign: g, patterns } => format!("{}: {patterns} final patterns", sign(*g)),
    }
}

/// The attribution files: given, from a run folder, or made by
/// attributing the model into `attribution/`.
fn inputs(config: &Config, run: &mut RunDir, events: &mut dyn FnMut(Event)) -> Result<Inputs> {
    let given = [
        !config.model.as_os_str().is_empty(),
        config.from.is_some(),
        config.ohe.is_some() || config.shap.is_some(),
    ];
    if given.iter().filter(|&&g| g).count() != 1 {
        return Err(invalid(
            "give exactly one input: --ohe/--shap, --from DIR (an attribute run), or MODEL with \
             --seqs or --bed/--genome",
        ));
    }
    if let Some(dir) = &config.from {
        let (ohe, shap) = (dir.join("ohe.npz"), dir.join("shap.npz"));
        for p in [&ohe, &shap] {
            if !p.exists() {
                return Err(invalid(format!(
                    "--from {}: no {} (an `attribute` run folder has ohe.npz and shap.npz)",
                    dir.display(),
                    p.file_name().map(|f| f.to_string_lossy()).unwrap_or_default()
                )));
            }
        }
        let bed = dir.join("regions.bed");
        let regions = config.regions.clone().or_else(|| bed.exists().then_some(bed));
        run.input("ohe", &ohe)?;
        run.input("shap", &shap)?;
        return Ok(Inputs { ohe, shap, regions });
    }
    if let (Some(ohe), Some(shap)) = (&config.ohe, &config.shap) {
        run.input("ohe", ohe)?;
        run.input("shap", shap)?;
        return Ok(Inputs {
            ohe: ohe.clone(),
            shap: shap.clone(),
            regions: config.regions.clone(),
        });
    }
    if config.ohe.is_some() != config.shap.is_some() {
        return Err(invalid("--ohe and --shap go together"));
    }
    if !config.input.is_given() {
        return Err(invalid(format!(
            "{}: give its sequences with --seqs or --bed/--genome",
            config.model.display()
        )));
    }
    let acfg = crate::attribute::Config {
        model: config.model.clone(),
        input: config.input.clone(),
        method: config.method.clone(),
        target: config.target.clone(),
        seed: config.seed,
        engine: config.engine,
        ..crate::attribute::Config::default()
    };
    let sub = run.path("attribution");
    let mut arun = RunDir::create(&sub, "attribute")?;
    let summary = crate::attribute::run(&acfg, &mut arun, events)?;
    arun.finish(&summary)?;
    events(Event::Note(format!(
        "attributed {} sequences of {} bp with {} → {}",
        summary.sequences,
        summary.length,
        summary.method,
        sub.display()
    )));
    let bed = sub.join("regions.bed");
    Ok(Inputs {
        ohe: sub.join("ohe.npz"),
        shap: sub.join("shap.npz"),
        regions: config.regions.clone().or_else(|| bed.exists().then_some(bed)),
    })
}

/// `[start, end)` of the columns whose summed |CWM| reaches `frac` of the
/// largest (the whole pattern if none).
fn trim(p: &Pattern, frac: f64) -> (usize, usize) {
    motif_discover::motif::trim_bounds(p.cwm().view(), frac).unwrap_or((0, p.len()))
}

/// Rows `[a, b)` of a `(len, 4)` matrix as a `(4, b − a)` one.
fn columns(m: &Array2<f64>, (a, b): (usize, usize)) -> Array2<f64> {
    m.slice(s![a..b, ..]).t().to_owned()
}

/// A motif of raw values (CWM): MEME files hold them as they are.
fn raw_motif(id: &str, m: Array2<f64>) -> Motif {
    Motif { id: id.to_owned(), name: None, probs: m, nsites: None, evalue: None, url: None }
}

/// The exported files, filled pattern by pattern.
struct Exports {
    pfm: MotifSet,
    cwm: MotifSet,
    hcwm: MotifSet,
    rows: String,
    bed: String,
    fasta: String,
}

impl Exports {
    fn new(genome: bool) -> Self {
        Self {
            pfm: MotifSet::default(),
            cwm: MotifSet::default(),
            hcwm: MotifSet::default(),
            rows: String::from(if genome {
                "pattern\texample\tstart\tend\tstrand\tchrom\tchrom_start\tchrom_end\n"
            } else {
                "pattern\texample\tstart\tend\tstrand\n"
            }),
            bed: String::from(
                "# seqlets of every pattern on the genome: 0-based, half-open; name = pattern.seqlet\n",
            ),
            fasta: String::new(),
        }
    }

    /// Adds pattern `name`'s trimmed matrices and seqlets; its summary.
    fn add(
        &mut self,
        name: &str,
        sign: i8,
        f: &Found,
        tracks: &Tracks,
        frac: f64,
        genome: Option<(&[Region], u64, u64)>,
    ) -> PatternSummary {
        let p = &f.pattern;
        let t = trim(p, frac);
        let ppm = p.ppm();
        let mut probs = columns(&ppm, t);
        for mut col in probs.columns_mut() {
            let s: f64 = col.sum();
            if s > 0.0 {
                col /= s;
            } else {
                col.fill(0.25);
            }
        }
        let mut m = raw_motif(name, probs);
        m.nsites = Some(p.seqlets.len() as f64);
        self.pfm.motifs.push(m);
        self.cwm.motifs.push(raw_motif(name, columns(&p.cwm(), t)));
        self.hcwm.motifs.push(raw_motif(name, columns(&p.hcwm(), t)));
        let rows = |a: Array2<f64>| -> Vec<[f64; 4]> {
            a.slice(s![t.0..t.1, ..]).rows().into_iter().map(|r| [r[0], r[1], r[2], r[3]]).collect()
        };
        let ppm_rows = rows(ppm);
        let consensus = ppm_rows
            .iter()
            .map(|r| {
                let b = (0..4).fold(0, |m, k| if r[k] > r[m] { k } else { m });
                let c = b"ACGT"[b] as char;
                if r[b] >= 0.5 { c } else { c.to_ascii_lowercase() }
            })
            .collect();
        for (k, s) in p.seqlets.iter().enumerate() {
            let strand = if s.revcomp { '-' } else { '+' };
            let _ = write!(self.rows, "{name}\t{}\t{}\t{}\t{strand}", s.example, s.start, s.end);
            let seq = bases(tracks, s);
            if let Some((r, offset, length)) = genome {
                let (chrom, a, b, st) = on_genome(&r[s.example], offset, length, s);
                let _ = writeln!(self.rows, "\t{chrom}\t{a}\t{b}");
                let _ = writeln!(self.bed, "{chrom}\t{a}\t{b}\t{name}.{k}\t0\t{st}");
                let _ =
                    writeln!(self.fasta, ">{name}.{k} {chrom}:{a}-{b}({st}) example={}", s.example);
            } else {
                self.rows.push('\n');
                let _ = writeln!(
                    self.fasta,
                    ">{name}.{k} example={} window={}-{}({strand})",
                    s.example, s.start, s.end
                );
            }
            let _ = writeln!(self.fasta, "{seq}");
        }
        PatternSummary {
            name: name.to_owned(),
            sign,
            seqlets: p.seqlets.len(),
            length: p.len(),
            trim: t,
            consensus,
            ppm: ppm_rows,
            cwm: rows(p.cwm()),
            subpatterns: f.subpatterns.iter().map(|q| q.seqlets.len()).collect(),
            matches: Vec::new(),
        }
    }
}

#[allow(clippy::too_many_arguments, reason = "the run's pieces, passed once")]
fn write_outputs(
    config: &Config,
    run: &mut RunDir,
    tracks: &Tracks,
    d: &Discovery,
    regions: Option<&[Region]>,
    n: usize,
    length: usize,
    events: &mut dyn FnMut(Event),
) -> Result<Summary> {
    events(Event::Stage { name: "writing", total: None });
    let groups: [(&str, i8, Option<&Vec<Found>>); 2] =
        [("pos_patterns", 1, d.positive.as_ref()), ("neg_patterns", -1, d.negative.as_ref())];
    let records = |set: Option<&Vec<Found>>| {
        set.map(|v| {
            v.iter()
                .map(|f| PatternRecord::of(&f.pattern, &f.subpatterns, tracks))
                .collect::<Vec<_>>()
        })
    };
    let (pos, neg) = (records(d.positive.as_ref()), records(d.negative.as_ref()));
    modisco_h5::write(
        &run.path("modisco_results.h5"),
        config.window,
        pos.as_deref(),
        neg.as_deref(),
    )
    .map_err(|e| invalid(e.to_string()))?;
    drop((pos, neg));
    let offset = (length / 2 - config.window / 2) as u64;
    let mut ex = Exports::new(regions.is_some());
    let mut summaries = Vec::new();
    for (group, sign, set) in groups {
        for (i, f) in set.into_iter().flatten().enumerate() {
            let name = format!("{group}.pattern_{i}");
            let at = regions.map(|r| (r, offset, length as u64));
            summaries.push(ex.add(&name, sign, f, tracks, config.trim_threshold, at));
        }
    }
    let Exports { pfm, cwm, hcwm, rows: seqlet_rows, bed, fasta } = ex;
    run.write("patterns.meme", write_meme(&pfm).as_bytes())?;
    run.write("patterns.cwm.meme", write_meme(&cwm).as_bytes())?;
    run.write("patterns.hcwm.meme", write_meme(&hcwm).as_bytes())?;
    run.write("seqlets.tsv", seqlet_rows.as_bytes())?;
    run.write("seqlets.fa", fasta.as_bytes())?;
    if regions.is_some() {
        run.write("seqlets.bed", bed.as_bytes())?;
    }
    let (db, db_name) = crate::database::load(config.db.as_deref())?;
    if !pfm.motifs.is_empty() {
        events(Event::Stage { name: "matching", total: Some(pfm.motifs.len() as u64) });
        let (text, per) = annotate(&pfm, &db, config.top_matches)?;
        run.write("matches.tsv", text.as_bytes())?;
        for (s, m) in summaries.iter_mut().zip(per) {
            s.matches = m;
        }
        events(Event::Advance(pfm.motifs.len() as u64));
    }
    let called = &d.called;
    let (edges, counts) = window_histogram(tracks, config.seqlet_window, 80, called.thresholds);
    let summary = Summary {
        sequences: n,
        length,
        window: config.window,
        seqlets: SeqletSummary {
            positive: called.seqlets.iter().filter(|q| q.sign > 0).count(),
            negative: called.seqlets.iter().filter(|q| q.sign < 0).count(),
            thresholds: called.thresholds,
            null: called.null,
            sign_threshold: called.sign_threshold,
            histogram_edges: edges,
            histogram_counts: counts,
        },
        metaclusters_run: (d.positive.is_some(), d.negative.is_some()),
        patterns: summaries,
        database: db_name,
    };
    run.write("report.html", crate::discover_report::render(&summary, tracks, d)?.as_bytes())?;
    run.set_seed(config.seed);
    run.set_config(config)?;
    Ok(summary)
}

/// The seqlet's bases in its orientation (N where the one-hot is empty).
fn bases(tracks: &Tracks, s: &Site) -> String {
    tracks
        .rows(s, Track::Sequence)
        .rows()
        .into_iter()
        .map(|r| (0..4).find(|&b| r[b] > 0.5).map_or('N', |b| b"ACGT"[b] as char))
        .collect()
}

/// A seqlet's genome interval and strand: window row `s.example` starts
/// `offset` columns into its region (`length` long).
fn on_genome(r: &Region, offset: u64, length: u64, s: &Site) -> (String, u64, u64, char) {
    let (a, b, strand) = r.place(length, offset + s.start as u64, offset + s.end as u64, s.revcomp);
    (r.chrom.clone(), a, b, strand)
}

/// tomtom (Pearson, min overlap 5, as modisco's reports call it) of the
/// trimmed PFMs against the database: the TSV, and each query's best
/// `top` matches.
fn annotate(
    queries: &MotifSet,
    db: &MotifSet,
    top: usize,
) -> Result<(String, Vec<Vec<PatternMatch>>)> {
    let over = serde_json::json!({"dist": "pearson", "min-overlap": 5, "thresh": 0.5});
    let matcher = plugin::build::<dyn plugin::MotifMatcher>(MatchPolicy::MATCHER, &over)?;
    let mut prepared = matcher.prepare(db, [0.25; 4])?;
    let results = prepared.compare(&queries.motifs).map_err(|e| invalid(e.to_string()))?;
    let (head, foot) = prepared.tsv_frame("motiftool discover");
    let text = format!("{head}{}{foot}", prepared.tsv_rows(&results, db));
    let per = results
        .iter()
        .map(|r| {
            r.best_per_target()
                .filter(|h| h.reported)
                .take(top)
                .map(|h| PatternMatch {
                    target: db.motifs[h.target].id.clone(),
                    name: db.motifs[h.target].name.clone(),
                    p_value: h.p_value,
                    e_value: h.e_value,
                    q_value: h.q_value,
                    offset: h.offset,
                    orientation: if h.reverse { "-".into() } else { "+".into() },
                })
                .collect()
        })
        .collect();
    Ok((text, per))
}

/// Histogram of every window's summed contribution (the values the seqlet
/// thresholds were fitted to) over the range around the thresholds (three
/// times each, within the data); values outside go to the end bins.
fn window_histogram(
    tracks: &Tracks,
    w: usize,
    bins: usize,
    (tp, tn): (f64, f64),
) -> (Vec<f64>, Vec<u64>) {
    let (n, len) = (tracks.n(), tracks.len());
    if len < w || w == 0 {
        return (Vec::new(), Vec::new());
    }
    let mut sums = Vec::with_capacity(n * (len - w + 1));
    for i in 0..n {
        let per: Vec<f64> =
            (0..len).map(|l| (0..4).map(|b| f64::from(tracks.contrib(i, l, b))).sum()).collect();
        let mut acc: f64 = per[..w].iter().sum();
        sums.push(acc);
        for l in w..len {
            acc += per[l] - per[l - w];
            sums.push(acc);
        }
    }
    let (min, max) =
        sums.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| (a.min(v), b.max(v)));
    let lo = if tn.is_finite() { min.max(3.0 * tn.min(0.0)) } else { min };
    let hi = if tp.is_finite() { max.min(3.0 * tp.max(0.0)) } else { max };
    if hi.partial_cmp(&lo) != Some(std::cmp::Ordering::Greater) {
        return (vec![lo, hi], vec![sums.len() as u64]);
    }
    let step = (hi - lo) / bins as f64;
    let mut counts = vec![0u64; bins];
    for v in sums {
        let k = ((v - lo) / step).clamp(0.0, (bins - 1) as f64) as usize;
        counts[k] += 1;
    }
    ((0..=bins).map(|k| lo + step * k as f64).collect(), counts)
}
