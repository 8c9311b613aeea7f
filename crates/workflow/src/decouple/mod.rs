//! `decouple`: NeuronMotif on one conv layer, resumable per neuron and
//! shardable across processes. Each neuron is sampled (exhaustively or by
//! the genetic algorithm seeded from the layer below), demixed into CRMs per
//! max-pool shift with m motifs per neuron (chosen by NeuronMotif's t-test
//! rule over the layer), and turned into a motif dictionary and syntax,
//! with database matches under the `tomtom` matcher.
//!
//! A layer's folder is `OUT/layer-L` ([`layer_dir`]); its resume journal
//! (`neurons.journal`, the run folder's [`Journal`]) records each neuron's
//! sampling, demixing and results as they are written, so a rerun of the
//! same settings resumes and other settings are refused, naming them. Typed results: [`results`]; pages: [`pages`].

pub mod pages;
pub mod results;

use std::path::{Path, PathBuf};
use std::time::Instant;

use motif_core::motif::{MotifSet, write_meme};
use motif_core::plugin::{
    self, DecoupleInput, FILTER_MATCHES, MatcherInput, MotifExtractor, MotifMatcher,
    NeuronDecoupler,
};
use motif_core::rng::Rng;
use motif_core::rundir::{Journal, RunDir};
use motif_core::shard::Shard;
use motif_neuronmotif::Crm;
use motif_neuronmotif::demix::{accept, ratio};
use motif_neuronmotif::dict::dictionary;
use motif_neuronmotif::net::Network;
use motif_neuronmotif::sample::{SampleConfig, Samples, sample};
use motif_neuronmotif::segment::{Segment, selected_segments};
use motif_neuronmotif::store::{decode_samples, encode_samples};
use motif_neuronmotif::tree::{Anchor, Syntax, lower_matches, occurrences, syntax};
use serde::{Deserialize, Serialize};

use self::pages::{crm_motifs, layer_page, neuron_page};
use self::results::{
    Aligned, BestMatch, DatabaseGap, DemixTime, LayerSummary, MatchStats, NeuronResult, RuleStep,
    Sampling, Seconds, Settings,
};
use crate::engine::EngineConfig;
use crate::{Error, Event, Result, invalid};

/// Settings of `decouple` (the `decouple` command's flags, and the keys of
/// its `--config` file).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "cli", derive(clap::Args))]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct Config {
    /// The model (ONNX): a chain of stride-1 convs with non-overlapping max
    /// pools (or give `model` in --config).
    #[cfg_attr(feature = "cli", arg(default_value = "", hide_default_value = true, value_parser = crate::cli::path_or_empty()))]
    pub model: PathBuf,
    /// Conv layer to decouple (0 = first, as `motiftool inspect` numbers
    /// them; or give `layer` in --config).
    #[cfg_attr(feature = "cli", arg(long, default_value_t = 0, hide_default_value = true))]
    pub layer: usize,
    /// Neurons (channels) to decouple: `0,3,5-9`. Default: all.
    #[cfg_attr(feature = "cli", arg(long, value_name = "LIST"))]
    pub neurons: Option<String>,
    /// Motifs per neuron m (each pool of size P splits clusters into P^m).
    /// Default: NeuronMotif's rule, m = 1, 2, … until the t-test over the
    /// layer's neurons accepts (r = conact/max act against 0.95).
    #[cfg_attr(feature = "cli", arg(long, value_parser = crate::cli::at_least_one_u32))]
    pub motifs: Option<u32>,
    /// Largest m the rule tries.
    #[cfg_attr(feature = "cli", arg(long, default_value_t = Config::default().max_motifs, value_parser = crate::cli::at_least_one_u32))]
    pub max_motifs: u32,
    /// This process's share of the neurons: i/n (1-based).
    #[cfg_attr(feature = "cli", arg(long, value_name = "i/n"))]
    pub shard: Option<Shard>,
    /// Motif database for the CRMs' and segments' matches. Default: the
    /// bundled JASPAR 2024 CORE vertebrates set.
    #[cfg_attr(feature = "cli", arg(long))]
    pub db: Option<PathBuf>,
    /// Sequences (FASTA etc.) on which to also show plain activation
    /// alignment (Koo & Eddy) of each neuron, for comparison.
    #[cfg_attr(feature = "cli", arg(long, value_name = "FILE"))]
    pub align: Option<PathBuf>,
    /// `--no-seed`: start the genetic algorithm from uniform sequences
    /// instead of the layer below's motifs (in --config: `seeded = false`).
    #[cfg_attr(feature = "cli", arg(long = "no-seed", action = clap::ArgAction::SetFalse))]
    pub seeded: bool,
    /// Most GA iterations.
    #[cfg_attr(feature = "cli", arg(long, default_value_t = Config::default().max_iter, value_parser = crate::cli::at_least_one))]
    pub max_iter: usize,
    /// GA population (default clamp(⌊RF/20⌋·1000, 2000, 5000)).
    #[cfg_attr(feature = "cli", arg(long, value_parser = crate::cli::at_least_one))]
    pub population: Option<usize>,
    /// Most samples kept per neuron.
    #[cfg_attr(feature = "cli", arg(long, default_value_t = Config::default().pool, value_parser = crate::cli::at_least_one))]
    pub pool: usize,
    /// Random seed.
    #[cfg_attr(feature = "cli", arg(long, default_value_t = Config::default().seed))]
    pub seed: u64,
    /// Engine settings.
    #[cfg_attr(feature = "cli", command(flatten))]
    pub engine: EngineConfig,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            model: PathBuf::new(),
            layer: 0,
            neurons: None,
            motifs: None,
            max_motifs: 4,
            shard: None,
            db: None,
            align: None,
            seeded: true,
            max_iter: 200,
            population: None,
            pool: 100_000,
            seed: 1,
            engine: EngineConfig::default(),
        }
    }
}

/// The folder of layer `layer`'s run under the output folder `out`.
#[must_use]
pub fn layer_dir(out: &Path, layer: usize) -> PathBuf {
    out.join(format!("layer-{layer}"))
}

/// How a decoupling run ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// A shard sampled and demixed its neurons with m = 1; a run without a
    /// shard chooses m over all neurons and finishes.
    Shard {
        /// Neurons this shard handled.
        neurons: usize,
    },
    /// The layer's results (every neuron finished so far).
    Layer(LayerSummary),
}

/// The plan `run` announces before sampling, for the caller to show.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    /// The layer's Conv node.
    pub node: String,
    /// Neurons of this run.
    pub neurons: usize,
    /// Neurons of the layer.
    pub channels: usize,
    /// Window (bp).
    pub window: usize,
    /// Sampling by the genetic algorithm (else exhaustive).
    pub genetic: bool,
    /// Engine that runs.
    pub engine: String,
}

/// Runs `decouple` into `run` (a [`layer_dir`]); the layer below is read
/// from the same output folder. Emits a `plan` note, then `sampling`,
/// `demixing` and `dictionaries` stages.
///
/// # Errors
/// If the model is not a decouplable chain, a setting is out of range, the
/// folder holds a run with other settings, or a file cannot be written.
#[allow(
    clippy::too_many_lines,
    reason = "the layer's steps in order: plan, sampling, m, neurons, layer files"
)]
pub fn run(config: &Config, run: &mut RunDir, events: &mut dyn FnMut(Event)) -> Result<Outcome> {
    if config.model.as_os_str().is_empty() {
        return Err(invalid("no model: give MODEL, or `model` in --config"));
    }
    let model = motif_onnx::Model::load(&config.model)?;
    let net = Network::open(&model, config.layer, &config.engine.options(vec![]))?;
    let top = net.top().clone();
    let all = match &config.neurons {
        Some(s) => parse_list(s, top.channels)?,
        None => (0..top.channels).collect(),
    };
    if all.is_empty() {
        return Err(invalid("--neurons selects no neuron"));
    }
    let shard = config.shard;
    let mine: Vec<usize> = match shard {
        Some(s) => s.select(all.iter().copied()).collect(),
        None => all.clone(),
    };
    let (db, db_name) = crate::database::load(config.db.as_deref())?;
    let m = Matchers::new()?;
    let cfg = SampleConfig {
        max_iter: config.max_iter,
        pool_cap: config.pool,
        population: config.population,
        ..SampleConfig::default()
    };
    let out = run.dir().parent().map(Path::to_path_buf).unwrap_or_default();
    let needs_ga = net.window() >= cfg.exhaustive_below;
    let prev = seeds(config, &net, &out, needs_ga)?;
    // --align is read and run before hours of sampling, so a bad file fails now.
    let aligned = match &config.align {
        Some(p) => Some(align_motifs(&model, config.layer, p, &config.engine)?),
        None => None,
    };
    let model_sha256 = run.input("model", &config.model)?;
    let settings = Settings {
        model_sha256,
        layer: config.layer,
        seed: config.seed,
        sampling: cfg.clone(),
        seeded: config.seeded,
        window: net.window(),
    };
    let journal = std::cell::RefCell::new(run.journal("neurons", &settings)?);
    events(Event::Note(format!(
        "decouple layer {} (`{}`): {} neurons of {} here, {} bp windows, {} on {}",
        config.layer,
        top.node,
        mine.len(),
        top.channels,
        net.window(),
        if needs_ga { "genetic algorithm" } else { "exhaustive sampling" },
        net.engine()
    )));
    let ctx = Ctx { config, net: &net, dir: run.dir().to_path_buf(), journal };

    let sampling_s = ctx.sample_all(&mine, prev.as_deref(), &cfg, events)?;
    let Some(motifs) = ctx.choose_m(&mine, shard.is_some(), events)? else {
        return Ok(Outcome::Shard { neurons: mine.len() });
    };
    let (m_chosen, rule) = motifs;
    let lower = lower_layers(&out, config.layer)?;
    events(Event::Stage { name: "dictionaries", total: Some(mine.len() as u64) });
    for &k in &mine {
        ctx.finish_neuron(k, m_chosen, &lower, &m, (&db, &db_name), aligned.as_ref())?;
        events(Event::Advance(1));
    }

    // The layer: merged PPMs (every neuron finished so far), index, manifest.
    let mut ppms: Vec<Vec<Crm>> = vec![Vec::new(); top.channels];
    let mut rows = Vec::new();
    for (k, slot) in ppms.iter_mut().enumerate() {
        if let Some(r) = read_json::<NeuronResult>(&ctx.neuron_dir(k).join("neuron.json"))? {
            slot.clone_from(&r.crms);
            rows.push(r);
        }
    }
    run.write_json("allppm.json", &ppms)?;
    let summary = LayerSummary {
        layer: config.layer,
        node: top.node.clone(),
        window: net.window(),
        jump: top.jump,
        neurons: top.channels,
        finished: rows.len(),
        motifs_per_neuron: m_chosen,
        rule,
        engine: net.engine().to_string(),
        database: db_name.clone(),
        geometry: net.layers().to_vec(),
    };
    run.write_json("layer.json", &summary)?;
    run.write("index.html", layer_page(&summary, &rows)?.as_bytes())?;
    if let Some(p) = &config.align {
        run.input("align", p)?;
    }
    if let Some(p) = &config.db {
        run.input("database", p)?;
    }
    run.set_engine(&net.engine().to_string(), config.engine.device.name());
    run.set_seed(config.seed);
    run.set_config(&settings)?;
    // The matchers as built: both strands for database matches, forward
    // only (every p-value reported) for the dictionary and syntax.
    for c in [Matchers::both_config(), Matchers::norc_config()] {
        let full = plugin::effective_config("tomtom", &c)?;
        run.plugin("matcher", "tomtom", plugin::find("tomtom")?.version, &full)?;
    }
    let full = plugin::effective_config("neuronmotif", &decoupler_config(m_chosen))?;
    run.plugin("decoupler", "neuronmotif", plugin::find("neuronmotif")?.version, &full)?;
    run.time("sampling", sampling_s);
    Ok(Outcome::Layer(summary))
}

/// Redraws a layer folder's pages (index.html and every finished neuron's
/// neuron.html) from its typed results alone; returns the neurons drawn.
///
/// # Errors
/// If a result file is missing or unreadable, or a page cannot be written.
pub fn redraw(dir: &Path) -> Result<usize> {
    let Some(summary) = read_json::<LayerSummary>(&dir.join("summary.json"))? else {
        return Err(invalid(format!("{}: no summary.json", dir.display())));
    };
    let mut rows = Vec::new();
    for k in 0..summary.neurons {
        let nd = dir.join(format!("neuron-{k}"));
        let Some(r) = read_json::<NeuronResult>(&nd.join("neuron.json"))? else { continue };
        let sampling: Option<Sampling> = read_json(&nd.join("sampling.json"))?;
        let aligned = match &r.aligned {
            Some(_) => motif_core::motif::read_motifs(&nd.join("aligned.meme"))?.motifs.pop(),
            None => None,
        };
        let page = neuron_page(&r, &summary.database, aligned.as_ref(), sampling.as_ref())?;
        write(&nd.join("neuron.html"), page.as_bytes())?;
        rows.push(r);
    }
    write(&dir.join("index.html"), layer_page(&summary, &rows)?.as_bytes())?;
    Ok(rows.len())
}

/// The `neuronmotif` decoupler's config for `m` motifs per neuron.
fn decoupler_config(m: u32) -> serde_json::Value {
    serde_json::json!({ "motifs": m })
}

/// The two tomtom matchers NeuronMotif uses.
struct Matchers {
    /// Both strands, tomtom's threshold: database matches.
    both: Box<dyn MotifMatcher>,
    /// Forward strand, every p-value reported: dictionary and syntax.
    norc: Box<dyn MotifMatcher>,
}

impl Matchers {
    fn both_config() -> serde_json::Value {
        serde_json::json!({"dist": "pearson"})
    }

    fn norc_config() -> serde_json::Value {
        serde_json::json!({"norc": true, "dist": "pearson", "thresh": 1.0})
    }

    fn new() -> Result<Self> {
        Ok(Self {
            both: plugin::build::<dyn MotifMatcher>("tomtom", &Self::both_config())?,
            norc: plugin::build::<dyn MotifMatcher>("tomtom", &Self::norc_config())?,
        })
    }
}

/// The previous layer's motifs that seed the genetic algorithm.
fn seeds(
    config: &Config,
    net: &Network,
    out: &Path,
    needs_ga: bool,
) -> Result<Option<Vec<Vec<Crm>>>> {
    if config.layer == 0 || !needs_ga || !config.seeded {
        return Ok(None);
    }
    let p = layer_dir(out, config.layer - 1).join("allppm.json");
    let Some(v) = read_json::<Vec<Vec<Crm>>>(&p)? else {
        return Err(invalid(format!(
            "{} not found: decouple layer {} into {} first (NeuronMotif seeds layer {} from it), or pass --no-seed",
            p.display(),
            config.layer - 1,
            out.display(),
            config.layer
        )));
    };
    let channels = net.layers()[config.layer].in_channels;
    if v.len() != channels {
        return Err(invalid(format!(
            "{}: {} neurons, but layer {} reads {channels} channels from layer {}; was it decoupled from another model?",
            p.display(),
            v.len(),
            config.layer,
            config.layer - 1
        )));
    }
    Ok(Some(v))
}

/// What every step of one layer's run needs.
struct Ctx<'a> {
    config: &'a Config,
    net: &'a Network,
    dir: PathBuf,
    /// The layer's resume journal (`neurons.journal`): `sampled/K`,
    /// `demixed/K/mM` and `finished/K` (with m) once their files are written.
    journal: std::cell::RefCell<Journal>,
}

impl Ctx<'_> {
    fn done<T: for<'de> Deserialize<'de>>(&self, key: &str) -> Option<T> {
        self.journal.borrow().get(key)
    }

    fn record<T: Serialize>(&self, key: &str, value: &T) -> Result<()> {
        Ok(self.journal.borrow_mut().record(key, value)?)
    }

    fn neuron_dir(&self, k: usize) -> PathBuf {
        self.dir.join(format!("neuron-{k}"))
    }

    /// Samples every neuron of `mine` that has no samples yet; seconds spent.
    fn sample_all(
        &self,
        mine: &[usize],
        prev: Option<&[Vec<Crm>]>,
        cfg: &SampleConfig,
        events: &mut dyn FnMut(Event),
    ) -> Result<f64> {
        events(Event::Stage { name: "sampling", total: Some(mine.len() as u64) });
        let mut total = 0.0;
        for &k in mine {
            let path = self.neuron_dir(k).join("samples.bin");
            let key = format!("sampled/{k}");
            if self.done::<bool>(&key).is_some() {
                events(Event::Advance(1));
                continue;
            }
            let t = Instant::now();
            let mut rng = Rng::new(self.config.seed).fork(k as u64);
            let s = sample(self.net, k, prev, cfg, &mut rng, &mut |it, mean, pool| {
                events(Event::Detail(format!(
                    "neuron {k}: iteration {it}, mean v {mean:.3}, pool {pool}"
                )));
            })?;
            let secs = t.elapsed().as_secs_f64();
            write(&path, &encode_samples(&s))?;
            let info = Sampling {
                method: s.method,
                samples: s.v.len(),
                iterations: s.iterations,
                seeded: s.seeded,
                mean_activation_per_iteration: s.trace,
                seconds: secs,
                engine: self.net.engine().to_string(),
            };
            write_json(&self.neuron_dir(k).join("sampling.json"), &info)?;
            self.record(&key, &true)?;
            total += secs;
            events(Event::Advance(1));
        }
        Ok(total)
    }

    fn load(&self, k: usize) -> Result<Samples> {
        let p = self.neuron_dir(k).join("samples.bin");
        let b = std::fs::read(&p).map_err(|e| motif_core::Error::io(&p, e))?;
        Ok(decode_samples(&b, &p)?)
    }

    /// Neuron `k`'s CRMs with `m` motifs per neuron, cached per m.
    fn demix_m(&self, k: usize, m: u32) -> Result<Vec<Crm>> {
        let dir = self.neuron_dir(k).join(format!("m{m}"));
        let p = dir.join("crms.json");
        let key = format!("demixed/{k}/m{m}");
        if self.done::<bool>(&key).is_some() {
            return read_json::<Vec<Crm>>(&p)?.ok_or_else(|| {
                invalid(format!(
                    "{}: missing; delete {} to recompute",
                    p.display(),
                    key_file(&self.dir)
                ))
            });
        }
        let s = self.load(k)?;
        let mut rng = Rng::new(self.config.seed).fork(1_000_000 + k as u64).fork(u64::from(m));
        let t = Instant::now();
        let decoupler = plugin::build::<dyn NeuronDecoupler>("neuronmotif", &decoupler_config(m))?;
        let input =
            DecoupleInput { network: self.net, neuron: k, samples: &s.seqs, activation: &s.v };
        let c = decoupler.decouple(&input, &mut rng)?;
        write_json(&p, &c)?;
        write_json(&dir.join("time.json"), &DemixTime { seconds: t.elapsed().as_secs_f64() })?;
        self.record(&key, &true)?;
        Ok(c)
    }

    /// m, and the rule's steps when it chose m; `None` for a shard that
    /// leaves the choice to the merging run.
    fn choose_m(
        &self,
        mine: &[usize],
        sharded: bool,
        events: &mut dyn FnMut(Event),
    ) -> Result<Option<(u32, Vec<RuleStep>)>> {
        let c = self.config;
        let pools_below = self.net.layers()[..c.layer].iter().any(|l| l.pool > 1);
        if let Some(m) = c.motifs {
            return Ok(Some((m.max(1), vec![])));
        }
        if !pools_below {
            return Ok(Some((1, vec![])));
        }
        if sharded {
            events(Event::Stage { name: "demixing", total: Some(mine.len() as u64) });
            for &k in mine {
                self.demix_m(k, 1)?;
                events(Event::Advance(1));
            }
            return Ok(None);
        }
        let mut rule = Vec::new();
        for m in 1..=c.max_motifs.max(1) {
            events(Event::Stage { name: "demixing", total: Some(mine.len() as u64) });
            events(Event::Detail(format!("m = {m}")));
            let mut r = Vec::new();
            for &k in mine {
                if let Some(v) = ratio(&self.demix_m(k, m)?) {
                    r.push(v);
                }
                events(Event::Advance(1));
            }
            let ok = accept(&r);
            rule.push(RuleStep { m, r, accepted: ok });
            if ok {
                return Ok(Some((m, rule)));
            }
        }
        let m = c.max_motifs.max(1);
        events(Event::Note(format!(
            "note: no m up to --max-motifs {m} passed the t-test rule; using m = {m}"
        )));
        Ok(Some((m, rule)))
    }

    /// Neuron `k`'s dictionary, syntax, matches and pages (skipped when
    /// finished with this m).
    fn finish_neuron(
        &self,
        k: usize,
        m: u32,
        lower: &Lower,
        matchers: &Matchers,
        (db, db_name): (&MotifSet, &str),
        aligned: Option<&(MotifSet, String)>,
    ) -> Result<()> {
        let nd = self.neuron_dir(k);
        let out_json = nd.join("neuron.json");
        let key = format!("finished/{k}");
        if self.done::<u32>(&key) == Some(m) {
            return Ok(());
        }
        let s = self.load(k)?;
        let crms = self.demix_m(k, m)?;
        let demixing =
            read_json::<DemixTime>(&nd.join(format!("m{m}")).join("time.json"))?.map(|t| t.seconds);
        let t_x = Instant::now();
        let (both, norc) = (&*matchers.both, &*matchers.norc);
        let segments: Vec<Segment> = crms.iter().flat_map(selected_segments).collect();
        let crm_set = crm_motifs(&crms, "");
        let seg_set =
            motif_neuronmotif::dict::motif_set(&segments.iter().collect::<Vec<_>>(), &crms);
        let crm_matches = best_matches(both, &crm_set, db)?;
        let segment_matches = best_matches(both, &seg_set, db)?;
        let dict = dictionary(&crms, norc)?;
        let dict_set = dict.motifs();
        let dictionary_matches = best_matches(both, &dict_set, db)?;
        let syn = syntax(&crms, &dict, norc)?;
        let database_gaps = database_gaps(norc, &syn, &dict_set, db)?;
        let sets = lower_matches(
            &lower.iter().map(|(_, _, s, c)| (&s[..], &c[..])).collect::<Vec<_>>(),
            &dict,
            norc,
        )?;
        let found: Vec<_> = lower.iter().zip(sets).map(|((l, n, _, _), m)| (*l, *n, m)).collect();
        let occurs = syn.groups.iter().map(|g| occurrences(&g.tree, &found)).collect();
        let dictionary_and_syntax = t_x.elapsed().as_secs_f64();
        let sampling: Option<Sampling> = read_json(&nd.join("sampling.json"))?;
        let res = NeuronResult {
            layer: self.config.layer,
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
            seconds: Seconds {
                sampling: sampling.as_ref().map(|s| s.seconds),
                demixing,
                dictionary_and_syntax,
            },
            aligned: None,
        };
        write(&nd.join("crms.meme"), write_meme(&crm_set).as_bytes())?;
        write(&nd.join("segments.meme"), write_meme(&seg_set).as_bytes())?;
        write(&nd.join("dict.meme"), write_meme(&dict_set).as_bytes())?;
        let mut res = res;
        let mut align = None;
        if let Some(mm) = aligned.and_then(|(set, _)| set.motifs.get(k)) {
            let q = MotifSet {
                motifs: vec![mm.clone()],
                background: [0.25; 4],
                has_background: true,
                warnings: vec![],
            };
            write(&nd.join("aligned.meme"), write_meme(&q).as_bytes())?;
            let best = best_matches(both, &q, db)?.pop();
            align = Some(mm);
            res.aligned = aligned.map(|(_, src)| Aligned { source: src.clone(), best });
        }
        let page = neuron_page(&res, db_name, align, sampling.as_ref())?;
        write(&nd.join("neuron.html"), page.as_bytes())?;
        write_json(&out_json, &res)?;
        self.record(&key, &m)
    }
}

/// The gaps between database motifs behind `syn`'s pairs: each dictionary
/// entry's best forward-strand match that the match policy calls
/// ([`FILTER_MATCHES`]'s E threshold) anchors it.
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
            .filter(|x| x.query_index == e && !x.reverse && FILTER_MATCHES.calls(x.e_value))
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
        let dir = layer_dir(out, l);
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

/// `0,3,5-9` → the neurons, checked against the layer's `n`.
fn parse_list(s: &str, n: usize) -> Result<Vec<usize>> {
    let mut out = Vec::new();
    for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (a, b) = match part.split_once('-') {
            Some((a, b)) => (a.trim().parse::<usize>(), b.trim().parse::<usize>()),
            None => (part.parse::<usize>(), part.parse::<usize>()),
        };
        let (Ok(a), Ok(b)) = (a, b) else {
            return Err(invalid(format!(
                "--neurons: `{part}` is not a neuron number or range like 3-7"
            )));
        };
        if a > b || b >= n {
            return Err(invalid(format!(
                "--neurons: `{part}` is outside 0..={} (the layer has {n} neurons)",
                n - 1
            )));
        }
        out.extend(a..=b);
    }
    out.sort_unstable();
    out.dedup();
    Ok(out)
}

/// The best reported match of each query (`target: null` for none).
fn best_matches(matcher: &dyn MotifMatcher, q: &MotifSet, db: &MotifSet) -> Result<Vec<BestMatch>> {
    if q.motifs.is_empty() {
        return Ok(vec![]);
    }
    let m = matcher.compare(MatcherInput { queries: q, targets: db })?;
    Ok(q.motifs
        .iter()
        .enumerate()
        .map(|(i, qm)| match m.iter().find(|x| x.query_index == i) {
            Some(b) => BestMatch {
                query: qm.id.clone(),
                target: Some(b.target.clone()),
                hit: Some(MatchStats {
                    name: db.motifs[b.target_index].name.clone(),
                    p: b.p_value,
                    e: b.e_value,
                    q: b.q_value,
                    offset: b.offset,
                    overlap: b.overlap,
                    reverse: b.reverse,
                }),
            },
            None => BestMatch { query: qm.id.clone(), target: None, hit: None },
        })
        .collect())
}

/// The journal's file in a layer folder, for messages.
fn key_file(dir: &Path) -> String {
    dir.join("neurons.journal").display().to_string()
}

fn write(path: &Path, bytes: &[u8]) -> Result<()> {
    motif_core::fsio::write_atomic(path, bytes)
        .map_err(|e| Error::Core(motif_core::Error::io(path, e)))
}

fn write_json<T: Serialize>(path: &Path, v: &T) -> Result<()> {
    let text = serde_json::to_string_pretty(v).map_err(|e| invalid(e.to_string()))?;
    write(path, text.as_bytes())
}

/// A result file, or `None` when it does not exist yet.
///
/// # Errors
/// If it exists but cannot be read or parsed (the message says to delete it).
pub fn read_json<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<Option<T>> {
    match std::fs::read(path) {
        Ok(b) => serde_json::from_slice(&b).map(Some).map_err(|e| {
            invalid(format!(
                "{}: not a valid result file (delete it to recompute): {e}",
                path.display()
            ))
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(motif_core::Error::io(path, e).into()),
    }
}

/// Koo & Eddy activation alignment of layer `layer`'s neurons on `path`.
fn align_motifs(
    model: &motif_onnx::Model,
    layer: usize,
    path: &Path,
    engine: &EngineConfig,
) -> Result<(MotifSet, String)> {
    let input = crate::input::SeqInput { seqs: Some(path.to_path_buf()), ..Default::default() };
    let (x, _) = input.one_hot(None)?;
    let ex = plugin::build::<dyn MotifExtractor>(
        "activation-alignment",
        &plugin::find("activation-alignment")?.default_config,
    )?;
    let e = crate::extract::motifs_of_layer(model, layer, &x, engine, &*ex, &mut |_| {})?;
    Ok((e.motifs, path.display().to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn neuron_lists_parse_or_name_the_flag() {
        assert_eq!(parse_list("0, 3,5-7,3", 9).unwrap(), vec![0, 3, 5, 6, 7]);
        let e = parse_list("2-9", 9).unwrap_err().to_string();
        assert!(e.contains("--neurons") && e.contains("2-9") && e.contains("0..=8"), "{e}");
        assert!(parse_list("x", 3).unwrap_err().to_string().contains("`x`"));
    }

    #[test]
    fn config_defaults_are_the_flags_defaults_and_strict() {
        let c: Config = toml::from_str("model = \"m.onnx\"\nlayer = 2\n").unwrap();
        assert_eq!(
            (c.max_motifs, c.max_iter, c.pool, c.seed, c.seeded),
            (4, 200, 100_000, 1, true)
        );
        assert!(toml::from_str::<Config>("model = \"m.onnx\"\nlayers = 2\n").is_err());
    }
}
