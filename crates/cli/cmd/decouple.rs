//! `motiftool decouple`: NeuronMotif on one conv layer, resumable per
//! neuron, shardable across processes.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use clap::Args;
use motif_core::motif::{Motif, MotifSet, write_meme};
use motif_core::plugin::{MatcherInput, MotifExtractor, MotifMatcher};
use motif_core::rng::Rng;
use motif_core::rundir::RunDir;
use motif_neuronmotif::Crm;
use motif_neuronmotif::demix::{DemixConfig, accept, demix, ratio};
use motif_neuronmotif::dict::{Dictionary, dictionary};
use motif_neuronmotif::net::Network;
use motif_neuronmotif::sample::{Method, SampleConfig, Samples, sample};
use motif_neuronmotif::segment::{Segment, selected_segments};
use motif_neuronmotif::store::{decode_samples, encode_samples, write_atomic};
use motif_neuronmotif::tree::{
    Anchor, Node, Occurrence, Syntax, lower_matches, occurrences, syntax,
};
use motif_report::{LogoOptions, Page, escape, format_number, logo_svg, render_page};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::EngineArgs;

/// Help after the options.
pub const DECOUPLE_HELP: &str = "Layers are numbered as `motiftool inspect` shows them (0 = first conv). Run them in
order: layer L seeds its genetic algorithm from layer L−1's motifs in the same -o folder.

Writes into -o DIR/layer-L/: neuron-K/{samples.bin, sampling.json, m1/crms.json, …, neuron.json,
crms.meme, segments.meme, dict.meme, neuron.html} for every neuron, then layer.json (settings, the
number of motifs m chosen and the r values behind it), allppm.json (every neuron's CRM PPMs, for
the next layer) and index.html. Re-running the same command resumes: finished neurons are read
back, not recomputed. --shard i/n takes every n-th neuron (from i, 1-based): shards sample and
demix their neurons in one shared folder; a final run without --shard chooses m over all of them
and finishes (with --motifs forced, shards finish their neurons themselves).

Examples:
  motiftool simulate --preset nm-shift -o shift/
  motiftool train --arch stack --layers 3x5:2,1x2 --no-dense --train shift/train.fa --test shift/test.fa -o demo1/
  motiftool decouple demo1/model.onnx --layer 1 --align shift/test.fa -o nm1/
  motiftool decouple model.onnx --layer 0 -o nm/ && motiftool decouple model.onnx --layer 1 -o nm/
  motiftool decouple model.onnx --layer 4 --shard 1/4 -o nm/   # … 2/4, 3/4, 4/4, then without --shard";

/// Arguments of `decouple`.
#[derive(Debug, Args)]
pub struct DecoupleArgs {
    /// The model (ONNX): a chain of stride-1 convs with non-overlapping max pools.
    pub model: PathBuf,
    /// Conv layer to decouple (0 = first, as `motiftool inspect` numbers them).
    #[arg(long)]
    pub layer: usize,
    /// Neurons (channels) to decouple: `0,3,5-9`. Default: all.
    #[arg(long, value_name = "LIST")]
    pub neurons: Option<String>,
    /// Motifs per neuron m (each pool of size P splits clusters into P^m).
    /// Default: NeuronMotif's rule, m = 1, 2, … until the t-test over the
    /// layer's neurons accepts (r = conact/max act against 0.95).
    #[arg(long, value_parser = crate::at_least_one_u32)]
    pub motifs: Option<u32>,
    /// Largest m the rule tries.
    #[arg(long, default_value_t = 4, value_parser = crate::at_least_one_u32)]
    pub max_motifs: u32,
    /// This process's share of the neurons: i/n (1-based).
    #[arg(long, value_name = "i/n")]
    pub shard: Option<String>,
    /// Motif database for the CRMs' and segments' matches. Default: the
    /// bundled JASPAR 2024 CORE vertebrates set.
    #[arg(long)]
    pub db: Option<PathBuf>,
    /// Sequences (FASTA etc.) on which to also show plain activation
    /// alignment (Koo & Eddy) of each neuron, for comparison.
    #[arg(long, value_name = "FILE")]
    pub align: Option<PathBuf>,
    /// Start the genetic algorithm from uniform sequences instead of the
    /// previous layer's motifs.
    #[arg(long)]
    pub no_seed: bool,
    /// Most GA iterations.
    #[arg(long, default_value_t = 200, value_parser = crate::at_least_one)]
    pub max_iter: usize,
    /// GA population (default clamp(⌊RF/20⌋·1000, 2000, 5000)).
    #[arg(long, value_parser = crate::at_least_one)]
    pub population: Option<usize>,
    /// Most samples kept per neuron.
    #[arg(long, default_value_t = 100_000, value_parser = crate::at_least_one)]
    pub pool: usize,
    /// Random seed.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    #[command(flatten)]
    pub engine: EngineArgs,
    /// Hide progress.
    #[arg(long)]
    pub quiet: bool,
    /// Output folder.
    #[arg(short, long, default_value = "motiftool-decouple")]
    pub out: PathBuf,
}

/// What a neuron's finished decoupling holds (neuron.json).
#[derive(Debug, Serialize, Deserialize)]
pub struct NeuronResult {
    /// Layer.
    pub layer: usize,
    /// Neuron.
    pub neuron: usize,
    /// Motifs per neuron m used.
    pub motifs: u32,
    /// How samples were found.
    pub method: Method,
    /// Samples.
    pub samples: usize,
    /// Largest activation.
    pub max_act: f32,
    /// r = max over CRMs of conact / max act.
    pub r: Option<f64>,
    /// The CRMs.
    pub crms: Vec<Crm>,
    /// Database-matching segments (tochen selection).
    pub segments: Vec<Segment>,
    /// Best database match per CRM (whole PPM): (crm, target, name, E, q, offset, reverse).
    pub crm_matches: Vec<serde_json::Value>,
    /// Best database match per segment.
    pub segment_matches: Vec<serde_json::Value>,
    /// The dictionary.
    pub dictionary: Dictionary,
    /// Database match per dictionary motif.
    pub dictionary_matches: Vec<serde_json::Value>,
    /// The syntax.
    pub syntax: Syntax,
    /// Per syntax pair, the gap between the database motifs its dictionary
    /// motifs match on the forward strand (E < 0.05): the gap in the
    /// database motifs' own coordinates, free of segment padding.
    #[serde(default)]
    pub database_gaps: Vec<DatabaseGap>,
    /// Per syntax group, where each tree node's motifs first occur together
    /// in one neuron of a lower layer decoupled into the same folder.
    #[serde(default)]
    pub occurs: Vec<Vec<Occurrence>>,
    /// Seconds: sampling, demixing, dictionary and syntax.
    pub seconds: serde_json::Value,
}

/// A syntax pair's gap measured between matched database motifs.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DatabaseGap {
    /// Syntax group.
    pub group: usize,
    /// Left dictionary entry (0-based).
    pub left: usize,
    /// Right dictionary entry.
    pub right: usize,
    /// The left entry's database motif (id and name).
    pub left_motif: String,
    /// The right entry's database motif.
    pub right_motif: String,
    /// Smallest gap (bp between the end of the left and the start of the right motif).
    pub min: i64,
    /// Largest gap.
    pub max: i64,
}

/// The gaps between database motifs behind `syn`'s pairs: each dictionary
/// entry's best forward-strand match with E < 0.05 anchors it.
fn database_gaps(
    matcher: &dyn MotifMatcher,
    syn: &Syntax,
    dict: &MotifSet,
    db: &MotifSet,
) -> Result<Vec<DatabaseGap>> {
    if dict.motifs.is_empty() || syn.groups.is_empty() {
        return Ok(vec![]);
    }
    let m = matcher.compare(MatcherInput { queries: dict, targets: db })?;
    let anchor = |e: usize| {
        m.iter()
            .filter(|x| x.query_index == e && !x.reverse && x.e_value < 0.05)
            .min_by(|a, b| a.e_value.total_cmp(&b.e_value))
            .map(|x| {
                let t = &db.motifs[x.target_index];
                let name =
                    format!("{} {}", t.id, t.name.as_deref().unwrap_or("")).trim().to_owned();
                (Anchor::of_match(x.offset, t.len()), name)
            })
    };
    let mut out = Vec::new();
    for (gi, g) in syn.groups.iter().enumerate() {
        for p in &g.pairs {
            if let (Some((la, ln)), Some((ra, rn))) = (anchor(p.left), anchor(p.right)) {
                let (min, max) = p.gap_between(la, ra);
                out.push(DatabaseGap {
                    group: gi,
                    left: p.left,
                    right: p.right,
                    left_motif: ln,
                    right_motif: rn,
                    min,
                    max,
                });
            }
        }
    }
    Ok(out)
}

/// Dictionary segments and CRMs of every finished neuron of layers below
/// `layer` in `out`: (layer, neuron, segments, CRMs).
type Lower = Vec<(usize, usize, Vec<Segment>, Vec<Crm>)>;

fn lower_layers(out: &Path, layer: usize) -> Result<Lower> {
    let mut v = Vec::new();
    for l in 0..layer {
        let dir = out.join(format!("layer-{l}"));
        let Ok(rd) = std::fs::read_dir(&dir) else { continue };
        let mut ns: Vec<usize> = rd
            .filter_map(|e| e.ok()?.file_name().to_str()?.strip_prefix("neuron-")?.parse().ok())
            .collect();
        ns.sort_unstable();
        for n in ns {
            if let Some(r) =
                read_json::<NeuronResult>(&dir.join(format!("neuron-{n}")).join("neuron.json"))?
            {
                v.push((l, n, r.dictionary.segments, r.crms));
            }
        }
    }
    Ok(v)
}

fn parse_list(s: &str, n: usize) -> Result<Vec<usize>> {
    let mut out = Vec::new();
    for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (a, b) = match part.split_once('-') {
            Some((a, b)) => (a.trim().parse::<usize>(), b.trim().parse::<usize>()),
            None => (part.parse::<usize>(), part.parse::<usize>()),
        };
        let (Ok(a), Ok(b)) = (a, b) else {
            bail!("--neurons: `{part}` is not a neuron number or range like 3-7");
        };
        if a > b || b >= n {
            bail!("--neurons: `{part}` is outside 0..={} (the layer has {n} neurons)", n - 1);
        }
        out.extend(a..=b);
    }
    out.sort_unstable();
    out.dedup();
    Ok(out)
}

fn parse_shard(s: &str) -> Result<(usize, usize)> {
    let bad = || anyhow::anyhow!("--shard `{s}`: expected i/n with 1 ≤ i ≤ n, e.g. 2/4");
    let (i, n) = s.split_once('/').ok_or_else(bad)?;
    let (i, n) = (
        i.trim().parse::<usize>().map_err(|_| bad())?,
        n.trim().parse::<usize>().map_err(|_| bad())?,
    );
    if i == 0 || n == 0 || i > n {
        return Err(bad());
    }
    Ok((i, n))
}

fn crm_motifs(crms: &[Crm], prefix: &str) -> MotifSet {
    MotifSet {
        motifs: crms
            .iter()
            .map(|c| {
                let mut m = Motif::from_matrix(format!("{prefix}crm{}", c.index), c.ppm_array())
                    .expect("non-empty PPM");
                m.nsites = Some(c.size.max(1) as f64);
                m.name = Some(format!("n={} max={:.3} conact={:.3}", c.size, c.max_act, c.conact));
                m
            })
            .collect(),
        background: [0.25; 4],
        has_background: true,
        warnings: vec![],
    }
}

fn best_matches(
    matcher: &dyn MotifMatcher,
    q: &MotifSet,
    db: &MotifSet,
) -> Result<Vec<serde_json::Value>> {
    if q.motifs.is_empty() {
        return Ok(vec![]);
    }
    let m = matcher.compare(MatcherInput { queries: q, targets: db })?;
    let mut out = Vec::new();
    for (i, qm) in q.motifs.iter().enumerate() {
        if let Some(b) = m.iter().find(|x| x.query_index == i) {
            out.push(json!({"query": qm.id, "target": b.target,
                "name": db.motifs[b.target_index].name, "p": b.p_value, "e": b.e_value, "q": b.q_value,
                "offset": b.offset, "overlap": b.overlap, "reverse": b.reverse}));
        } else {
            out.push(json!({"query": qm.id, "target": null}));
        }
    }
    Ok(out)
}

fn write_json<T: Serialize>(path: &Path, v: &T) -> Result<()> {
    write_atomic(path, serde_json::to_string_pretty(v)?.as_bytes())?;
    Ok(())
}

fn read_json<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<Option<T>> {
    match std::fs::read(path) {
        Ok(b) => Ok(Some(serde_json::from_slice(&b).with_context(|| {
            format!("{}: not a valid result file (delete it to recompute)", path.display())
        })?)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
    }
}

/// Runs `decouple`.
#[allow(clippy::too_many_lines)]
pub fn run(a: &DecoupleArgs) -> Result<()> {
    let t0 = Instant::now();
    let model = super::load_model(&a.model)?;
    let opts = a.engine.options(vec![]);
    let net = Network::open(&model, a.layer, &opts)?;
    let top = net.top().clone();
    let neurons_all = match &a.neurons {
        Some(s) => parse_list(s, top.channels)?,
        None => (0..top.channels).collect(),
    };
    if neurons_all.is_empty() {
        bail!("--neurons selects no neuron");
    }
    let shard = a.shard.as_deref().map(parse_shard).transpose()?;
    let mine: Vec<usize> = match shard {
        Some((i, n)) => neurons_all.iter().copied().skip(i - 1).step_by(n).collect(),
        None => neurons_all.clone(),
    };
    let (db, db_name) = super::matching::database(a.db.as_deref())?;
    let norc_cfg = json!({"norc": true, "dist": "pearson", "thresh": 1.0});
    let both_cfg = json!({"dist": "pearson"});
    let norc = motif_core::plugin::build::<dyn MotifMatcher>("tomtom", &norc_cfg)?;
    let both = motif_core::plugin::build::<dyn MotifMatcher>("tomtom", &both_cfg)?;
    let cfg = SampleConfig {
        max_iter: a.max_iter,
        pool_cap: a.pool,
        population: a.population,
        ..SampleConfig::default()
    };
    // The previous layer's motifs seed the GA.
    let needs_ga = net.window() >= cfg.exhaustive_below;
    let prev: Option<Vec<Vec<Crm>>> = if a.layer > 0 && needs_ga && !a.no_seed {
        let p = a.out.join(format!("layer-{}", a.layer - 1)).join("allppm.json");
        let Some(v) = read_json::<Vec<Vec<Crm>>>(&p)? else {
            bail!(
                "{} not found: decouple layer {} into {} first (NeuronMotif seeds layer {} from it), or pass --no-seed",
                p.display(),
                a.layer - 1,
                a.out.display(),
                a.layer
            );
        };
        let channels = net.layers()[a.layer].in_channels;
        if v.len() != channels {
            bail!(
                "{}: {} neurons, but layer {} reads {channels} channels from layer {}; was it decoupled from another model?",
                p.display(),
                v.len(),
                a.layer,
                a.layer - 1
            );
        }
        Some(v)
    } else {
        None
    };
    // --align is read and run before hours of sampling, so a bad file fails now.
    let extractor_motifs = match &a.align {
        Some(p) => Some(align_motifs(&model, a.layer, p, &a.engine)?),
        None => None,
    };
    let dir = a.out.join(format!("layer-{}", a.layer));
    let mut run = RunDir::create(&dir, "decouple")?.started_at(t0);

    // Settings: a different command in the same folder is refused.
    let model_sha = run.input("model", &a.model)?;
    let settings = json!({"model_sha256": model_sha, "layer": a.layer, "seed": a.seed, "sampling": cfg,
        "seeded": !a.no_seed, "window": net.window()});
    let settings_path = dir.join("settings.json");
    match read_json::<serde_json::Value>(&settings_path)? {
        Some(old) if old != settings => {
            let diff: Vec<String> = settings
                .as_object()
                .expect("object")
                .iter()
                .filter(|(k, v)| old.get(k.as_str()) != Some(*v))
                .map(|(k, v)| {
                    format!("{k}: was {}, now {v}", old.get(k.as_str()).unwrap_or(&json!(null)))
                })
                .collect();
            bail!(
                "{} holds a run with other settings ({}); use another -o folder or delete it",
                dir.display(),
                diff.join("; ")
            );
        }
        Some(_) => {}
        None => write_json(&settings_path, &settings)?,
    }

    let show = !a.quiet;
    if show {
        eprintln!(
            "motiftool: decouple layer {} (`{}`): {} neurons of {} here, {} bp windows, {} on {}",
            a.layer,
            top.node,
            mine.len(),
            top.channels,
            net.window(),
            if needs_ga { "genetic algorithm" } else { "exhaustive sampling" },
            net.engine()
        );
    }
    let ndir = |k: usize| dir.join(format!("neuron-{k}"));

    // 1. Sampling.
    let bar = crate::run::progress_bar(mine.len() as u64, show);
    bar.set_message("sampling");
    let mut sample_s = std::collections::BTreeMap::new();
    for &k in &mine {
        let path = ndir(k).join("samples.bin");
        if path.exists() {
            bar.inc(1);
            continue;
        }
        let t = Instant::now();
        let mut rng = Rng::new(a.seed).fork(k as u64);
        let s = sample(&net, k, prev.as_deref(), &cfg, &mut rng, &mut |it, mean, pool| {
            bar.set_message(format!("neuron {k}: iteration {it}, mean v {mean:.3}, pool {pool}"));
        })?;
        let secs = t.elapsed().as_secs_f64();
        write_atomic(&path, &encode_samples(&s))?;
        write_json(
            &ndir(k).join("sampling.json"),
            &json!({"method": s.method, "samples": s.v.len(), "iterations": s.iterations, "seeded": s.seeded,
                "mean_activation_per_iteration": s.trace, "seconds": secs, "engine": net.engine().to_string()}),
        )?;
        sample_s.insert(k, secs);
        bar.inc(1);
    }
    bar.finish_and_clear();
    let load = |k: usize| -> Result<Samples> {
        let p = ndir(k).join("samples.bin");
        let b = std::fs::read(&p).with_context(|| format!("reading {}", p.display()))?;
        Ok(decode_samples(&b, &p)?)
    };

    // 2. Demixing with m, cached per m.
    let demix_m = |k: usize, m: u32| -> Result<Vec<Crm>> {
        let p = ndir(k).join(format!("m{m}")).join("crms.json");
        if let Some(c) = read_json::<Vec<Crm>>(&p)? {
            return Ok(c);
        }
        let s = load(k)?;
        let mut rng = Rng::new(a.seed).fork(1_000_000 + k as u64).fork(u64::from(m));
        let t = Instant::now();
        let c = demix(
            &net,
            k,
            &s.seqs,
            &s.v,
            &DemixConfig { motifs: m, ..DemixConfig::default() },
            &mut rng,
        )?;
        write_json(&p, &c)?;
        write_json(
            &ndir(k).join(format!("m{m}")).join("time.json"),
            &json!({"seconds": t.elapsed().as_secs_f64()}),
        )?;
        Ok(c)
    };
    let pools_below = net.layers()[..a.layer].iter().any(|l| l.pool > 1);
    let mut r_log = Vec::new();
    let chosen: Option<u32> = match a.motifs {
        Some(m) => Some(m.max(1)),
        None if !pools_below => Some(1),
        None if shard.is_some() => {
            for &k in &mine {
                demix_m(k, 1)?;
            }
            None
        }
        None => {
            let mut chosen = None;
            for m in 1..=a.max_motifs.max(1) {
                let bar = crate::run::progress_bar(mine.len() as u64, show);
                bar.set_message(format!("demixing, m = {m}"));
                let mut r = Vec::new();
                for &k in &mine {
                    if let Some(v) = ratio(&demix_m(k, m)?) {
                        r.push(v);
                    }
                    bar.inc(1);
                }
                bar.finish_and_clear();
                let ok = accept(&r);
                r_log.push(json!({"m": m, "r": r, "accepted": ok}));
                if ok {
                    chosen = Some(m);
                    break;
                }
            }
            Some(chosen.unwrap_or_else(|| {
                eprintln!(
                    "motiftool: note: no m up to --max-motifs {} passed the t-test rule; using m = {}",
                    a.max_motifs, a.max_motifs
                );
                a.max_motifs.max(1)
            }))
        }
    };
    let Some(m) = chosen else {
        eprintln!(
            "motiftool: shard {}: {} neurons sampled and demixed (m = 1) in {}; run without --shard to choose m and finish",
            a.shard.as_deref().unwrap_or(""),
            mine.len(),
            dir.display()
        );
        return Ok(());
    };

    // 3. Per-neuron results.
    let lower = lower_layers(&a.out, a.layer)?;
    let bar = crate::run::progress_bar(mine.len() as u64, show);
    bar.set_message("dictionaries and syntax");
    for &k in &mine {
        let out_json = ndir(k).join("neuron.json");
        if let Some(prev_res) = read_json::<NeuronResult>(&out_json)?
            && prev_res.motifs == m
        {
            bar.inc(1);
            continue;
        }
        let s = load(k)?;
        let crms = demix_m(k, m)?;
        let demix_s =
            read_json::<serde_json::Value>(&ndir(k).join(format!("m{m}")).join("time.json"))?
                .and_then(|v| v["seconds"].as_f64());
        let t_x = Instant::now();
        let segments: Vec<Segment> = crms.iter().flat_map(selected_segments).collect();
        let crm_set = crm_motifs(&crms, "");
        let seg_set =
            motif_neuronmotif::dict::motif_set(&segments.iter().collect::<Vec<_>>(), &crms);
        let crm_matches = best_matches(&*both, &crm_set, &db)?;
        let segment_matches = best_matches(&*both, &seg_set, &db)?;
        let dict = dictionary(&crms, &*norc)?;
        let dict_set = dict.motifs();
        let dictionary_matches = best_matches(&*both, &dict_set, &db)?;
        let syn = syntax(&crms, &dict, &*norc)?;
        let database_gaps = database_gaps(&*norc, &syn, &dict_set, &db)?;
        let sets = lower_matches(
            &lower.iter().map(|(_, _, s, c)| (&s[..], &c[..])).collect::<Vec<_>>(),
            &dict,
            &*norc,
        )?;
        let found: Vec<_> = lower.iter().zip(sets).map(|((l, n, _, _), m)| (*l, *n, m)).collect();
        let occurs = syn.groups.iter().map(|g| occurrences(&g.tree, &found)).collect();
        let dict_s = t_x.elapsed().as_secs_f64();
        let sampling: serde_json::Value =
            read_json(&ndir(k).join("sampling.json"))?.unwrap_or(json!({}));
        let res = NeuronResult {
            layer: a.layer,
            neuron: k,
            motifs: m,
            method: s.method,
            samples: s.v.len(),
            max_act: s.v.iter().copied().fold(0.0, f32::max),
            r: ratio(&crms),
            crms,
            segments,
            crm_matches,
            segment_matches,
            dictionary: dict,
            dictionary_matches,
            syntax: syn,
            database_gaps,
            occurs,
            seconds: json!({"sampling": sampling.get("seconds"), "demixing": demix_s, "dictionary_and_syntax": dict_s}),
        };
        let nd = ndir(k);
        write_atomic(&nd.join("crms.meme"), write_meme(&crm_set).as_bytes())?;
        write_atomic(&nd.join("segments.meme"), write_meme(&seg_set).as_bytes())?;
        write_atomic(&nd.join("dict.meme"), write_meme(&dict_set).as_bytes())?;
        let align = extractor_motifs
            .as_ref()
            .and_then(|(set, src)| set.motifs.get(k).map(|mm| (mm, src.as_str())));
        let align_match = match align {
            Some((mm, _)) => {
                let q = MotifSet {
                    motifs: vec![mm.clone()],
                    background: [0.25; 4],
                    has_background: true,
                    warnings: vec![],
                };
                write_atomic(&nd.join("aligned.meme"), write_meme(&q).as_bytes())?;
                best_matches(&*both, &q, &db)?.pop()
            }
            None => None,
        };
        write_atomic(
            &nd.join("neuron.html"),
            neuron_page(&res, &db_name, align, align_match.as_ref(), &sampling).as_bytes(),
        )?;
        write_json(&out_json, &res)?;
        bar.inc(1);
    }
    bar.finish_and_clear();

    // 4. The layer: merged PPMs (every neuron finished so far), index, manifest.
    let mut all: Vec<Vec<Crm>> = vec![Vec::new(); top.channels];
    let mut rows = Vec::new();
    let mut done = 0;
    for (k, slot) in all.iter_mut().enumerate() {
        if let Some(r) = read_json::<NeuronResult>(&ndir(k).join("neuron.json"))? {
            done += 1;
            slot.clone_from(&r.crms);
            rows.push(r);
        }
    }
    write_json(&dir.join("allppm.json"), &all)?;
    let layer_json = json!({
        "layer": a.layer, "node": top.node, "window": net.window(), "jump": top.jump,
        "neurons": top.channels, "finished": done, "motifs_per_neuron": m, "rule": r_log,
        "engine": net.engine().to_string(), "database": db_name,
        "geometry": net.layers(),
    });
    write_json(&dir.join("layer.json"), &layer_json)?;
    write_atomic(
        &dir.join("index.html"),
        layer_page(a.layer, &top.node, net.window(), m, &rows, &db_name).as_bytes(),
    )?;
    if let Some(p) = &a.align {
        run.input("align", p)?;
    }
    if let Some(p) = &a.db {
        run.input("database", p)?;
    }
    run.set_engine(&net.engine().to_string(), a.engine.on.device_name());
    run.set_seed(a.seed);
    run.set_config(&settings)?;
    // The matchers as built: both strands for database matches, forward
    // only (every p-value reported) for the dictionary and syntax.
    for cfg in [&both_cfg, &norc_cfg] {
        let full = motif_core::plugin::effective_config("tomtom", cfg)?;
        run.plugin("matcher", "tomtom", env!("CARGO_PKG_VERSION"), &full)?;
    }
    run.time("sampling", sample_s.values().sum());
    run.finish(&layer_json)?;
    if show {
        eprintln!(
            "motiftool: layer {}: {done}/{} neurons decoupled (m = {m}) → {}",
            a.layer,
            top.channels,
            dir.join("index.html").display()
        );
    }
    Ok(())
}

/// Koo & Eddy activation alignment of layer `layer`'s neurons on `path`.
fn align_motifs(
    model: &motif_onnx::Model,
    layer: usize,
    path: &Path,
    engine: &EngineArgs,
) -> Result<(MotifSet, String)> {
    let mut v = Vec::new();
    for r in motif_core::seqio::SeqReader::open(path, None)? {
        v.push(r?.seq);
    }
    let Some(len) = v.first().map(Vec::len) else { bail!("{}: no sequences", path.display()) };
    if let Some(bad) = v.iter().find(|s| s.len() != len) {
        bail!(
            "{}: sequences of {len} and {} bp; --align needs one length",
            path.display(),
            bad.len()
        );
    }
    let x = motif_core::onehot::one_hot_batch(&v).map_err(|(i, j, b)| {
        anyhow::anyhow!(
            "{}: sequence {}: letter `{}` at {}",
            path.display(),
            i + 1,
            char::from(b),
            j + 1
        )
    })?;
    let info = motif_core::plugin::find("activation-alignment")?;
    let ex = motif_core::plugin::build::<dyn MotifExtractor>(
        "activation-alignment",
        &info.default_config,
    )?;
    let e = motif_workflow::extract::motifs_of_layer(
        model,
        layer,
        &x,
        &engine.config(),
        &*ex,
        &mut |_| {},
    )?;
    Ok((e.motifs, path.display().to_string()))
}

/// A logo at most about 560 px wide (long CRMs get narrower columns).
fn logo(m: &Motif) -> String {
    let col_width = (560.0 / m.len().max(1) as f32).clamp(6.0, 14.0);
    logo_svg(m, &LogoOptions { col_width, height: 56.0, ..Default::default() })
}

fn match_cell(v: Option<&serde_json::Value>) -> String {
    match v {
        Some(j) if !j["target"].is_null() => format!(
            "{} {} (E = {}, q = {}{})",
            escape(j["target"].as_str().unwrap_or("")),
            escape(j["name"].as_str().unwrap_or("")),
            format_number(j["e"].as_f64().unwrap_or(f64::NAN)),
            format_number(j["q"].as_f64().unwrap_or(f64::NAN)),
            if j["reverse"].as_bool() == Some(true) { ", reverse strand" } else { "" }
        ),
        _ => "no match".into(),
    }
}

/// "N bp" or "a~b bp".
fn bp_range(a: i64, b: i64) -> String {
    if a == b { format!("{a} bp") } else { format!("{a}~{b} bp") }
}

fn tree_html(n: &Node, dict: &MotifSet, gi: usize, r: &NeuronResult) -> String {
    let occurs = |n: &Node| {
        let ms = n.motifs();
        r.occurs
            .get(gi)
            .and_then(|o| o.iter().find(|o| o.motifs == ms))
            .map(|o| {
                format!(
                    "<div class=\"occ\">occurs in layer {} (neuron {})</div>",
                    o.layer, o.neuron
                )
            })
            .unwrap_or_default()
    };
    match n {
        Node::Motif { motif } => format!(
            "<div class=\"leaf\"><b>D{}</b>{}{}</div>",
            motif + 1,
            dict.motifs.get(*motif).map(logo).unwrap_or_default(),
            occurs(n)
        ),
        Node::Join { gap, left, right, pair } => {
            let db = r
                .database_gaps
                .iter()
                .find(|d| d.group == gi && d.left == pair.left && d.right == pair.right)
                .map(|d| {
                    format!(
                        "<br>{} between {} and {}",
                        bp_range(d.min, d.max),
                        escape(&d.left_motif),
                        escape(&d.right_motif)
                    )
                })
                .unwrap_or_default();
            format!(
                "<div class=\"join\"><div class=\"gap\">{} <small>(D{}→D{}, {} CRMs; {} between the informative cores{})</small>{}</div><div class=\"kids\">{}{}</div></div>",
                escape(gap),
                pair.left + 1,
                pair.right + 1,
                pair.n,
                bp_range(pair.core_gap_min, pair.core_gap_max),
                db,
                occurs(n),
                tree_html(left, dict, gi, r),
                tree_html(right, dict, gi, r)
            )
        }
    }
}

fn neuron_page(
    r: &NeuronResult,
    db_name: &str,
    align: Option<(&Motif, &str)>,
    align_match: Option<&serde_json::Value>,
    sampling: &serde_json::Value,
) -> String {
    let crm_set = crm_motifs(&r.crms, "");
    let dict_set = r.dictionary.motifs();
    let mut sections = Vec::new();
    let mut s = String::from(
        "<table><tr><th>CRM</th><th>shifts</th><th>samples</th><th>max v</th><th>conact</th><th>logo</th><th>best match</th></tr>",
    );
    let mut order: Vec<usize> = (0..r.crms.len()).collect();
    order.sort_by(|&a, &b| r.crms[b].max_act.total_cmp(&r.crms[a].max_act));
    for i in order {
        let c = &r.crms[i];
        let _ = write!(
            s,
            "<tr><td>{}</td><td>{:?}</td><td>{}</td><td>{:.3}</td><td>{:.3}</td><td>{}</td><td>{}</td></tr>",
            c.index,
            c.path,
            c.size,
            c.max_act,
            c.conact,
            logo(&crm_set.motifs[i]),
            match_cell(r.crm_matches.get(i))
        );
    }
    s.push_str("</table>");
    sections.push((
        format!("CRMs: {} clusters (one per combination of max-pool shifts)", r.crms.len()),
        s,
    ));
    if let Some((m, src)) = align {
        let s = format!(
            "<p>The same neuron's plain activation alignment on {}: every window whose activation passes half the neuron's maximum, stacked without separating pooling shifts.</p>{}<p>Best match: {}</p>",
            escape(src),
            logo(m),
            match_cell(align_match)
        );
        sections.push(("Activation alignment (Koo & Eddy), for comparison".into(), s));
    }
    let mut s = String::from(
        "<table><tr><th>motif</th><th>from segment</th><th>segments matched</th><th>logo</th><th>best match</th></tr>",
    );
    for (i, e) in r.dictionary.entries.iter().enumerate() {
        let _ = write!(
            s,
            "<tr><td>D{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            i + 1,
            escape(&e.segment.id),
            e.matched,
            logo(&dict_set.motifs[i]),
            match_cell(r.dictionary_matches.get(i))
        );
    }
    s.push_str("</table>");
    let _ = write!(
        s,
        "<p>{} of {} CRMs explained by the dictionary.</p>",
        r.dictionary.explained.len(),
        r.crms.len()
    );
    sections.push(("Motif dictionary".into(), s));
    let mut s = String::new();
    if r.syntax.groups.is_empty() {
        s.push_str("<p>No dictionary motif was placed in a CRM.</p>");
    }
    for (gi, g) in r.syntax.groups.iter().enumerate() {
        let names: Vec<String> = g.motifs.iter().map(|m| format!("D{}", m + 1)).collect();
        let _ = write!(s, "<h3>{} ({} CRMs)</h3>", escape(&names.join(" → ")), g.crms.len());
        s.push_str("<div class=\"tree\">");
        s.push_str(&tree_html(&g.tree, &dict_set, gi, r));
        s.push_str("</div>");
    }
    s.push_str("<p>Gap labels follow NeuronMotif: the distance between the dictionary motifs' starts minus the left motif's length, so they include the segments' padding. The core gap counts between the columns above 1 bit; the database gap between the matched database motifs' aligned columns. \"Occurs in layer\": the first lower layer (decoupled into the same folder) with one neuron whose segments match all of the node's motifs (q < 1e-5).</p>");
    sections.push(("Syntax".into(), format!("<style>.tree .join{{display:inline-block;border-top:2px solid #888;margin:4px;padding:4px;text-align:center}}.kids{{display:flex;gap:8px}}.leaf{{display:inline-block}}</style>{s}")));
    let mut s = String::from("<table><tr><th>segment</th><th>logo</th><th>best match</th></tr>");
    let seg_set =
        motif_neuronmotif::dict::motif_set(&r.segments.iter().collect::<Vec<_>>(), &r.crms);
    for (i, m) in seg_set.motifs.iter().enumerate() {
        let _ = write!(
            s,
            "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
            escape(&m.id),
            logo(m),
            match_cell(r.segment_matches.get(i))
        );
    }
    s.push_str("</table>");
    sections.push((format!("Segments matched against {}", db_name), s));
    let facts = vec![
        (
            "samples".to_owned(),
            format!(
                "{} ({:?}, {} GA iterations)",
                r.samples,
                r.method,
                sampling.get("iterations").and_then(serde_json::Value::as_u64).unwrap_or(0)
            ),
        ),
        ("largest activation".to_owned(), format!("{:.4}", r.max_act)),
        ("motifs per neuron m".to_owned(), r.motifs.to_string()),
        ("r = max conact / max v".to_owned(), r.r.map_or("–".into(), |v| format!("{v:.3}"))),
        ("database".to_owned(), db_name.to_owned()),
        ("seconds".to_owned(), {
            let f = |k: &str| r.seconds[k].as_f64().map_or("–".into(), |v| format!("{v:.2}"));
            format!(
                "sampling {}, demixing {}, dictionary and syntax {}",
                f("sampling"),
                f("demixing"),
                f("dictionary_and_syntax")
            )
        }),
    ];
    render_page(&Page {
        title: format!("NeuronMotif: layer {} neuron {}", r.layer, r.neuron),
        facts,
        sections,
    })
}

fn layer_page(
    layer: usize,
    node: &str,
    window: usize,
    m: u32,
    rows: &[NeuronResult],
    db_name: &str,
) -> String {
    let mut s = String::from(
        "<table><tr><th>neuron</th><th>samples</th><th>CRMs</th><th>dictionary</th><th>syntax</th><th>top dictionary match</th></tr>",
    );
    for r in rows {
        let syn: Vec<String> = r
            .syntax
            .groups
            .iter()
            .enumerate()
            .take(2)
            .map(|(gi, g)| {
                let names: Vec<String> = g.motifs.iter().map(|m| format!("D{}", m + 1)).collect();
                let gaps: Vec<String> = g
                    .pairs
                    .iter()
                    .map(|p| {
                        let db = r
                            .database_gaps
                            .iter()
                            .find(|d| d.group == gi && d.left == p.left && d.right == p.right);
                        match db {
                            Some(d) => format!(
                                "{}; {} between {} and {}",
                                p.label(),
                                bp_range(d.min, d.max),
                                d.left_motif,
                                d.right_motif
                            ),
                            None => p.label(),
                        }
                    })
                    .collect();
                format!("{} [{}]", names.join("→"), gaps.join("; "))
            })
            .collect();
        let _ = write!(
            s,
            "<tr><td><a href=\"neuron-{n}/neuron.html\">{n}</a></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            r.samples,
            r.crms.len(),
            r.dictionary.entries.len(),
            escape(&syn.join(" | ")),
            match_cell(r.dictionary_matches.first()),
            n = r.neuron
        );
    }
    s.push_str("</table>");
    render_page(&Page {
        title: format!("NeuronMotif: layer {layer} (`{node}`)"),
        facts: vec![
            ("window".into(), format!("{window} bp")),
            ("motifs per neuron m".into(), m.to_string()),
            ("neurons finished".into(), rows.len().to_string()),
            ("database".into(), db_name.to_owned()),
        ],
        sections: vec![("Neurons".into(), s)],
    })
}
