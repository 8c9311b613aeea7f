//! `attribute`: per-base attributions of a model's prediction by any
//! registered `attributor` plugin (DeepLIFT/DeepSHAP, ISM, saliency,
//! integrated gradients), streamed chunk by chunk into files the next tools
//! read: modisco's `ohe.npz` and `shap.npz` (`(N, 4, L)`, hypothetical
//! contributions), `scores.tsv` (one row per sequence) and `report.html`
//! with the strongest sequences' contribution tracks; for BED input also
//! `regions.bed` (each window on the genome) and `contributions.bw`.

use std::fmt::Write as _;
use std::path::PathBuf;

use motif_core::npz::NpzStream;
use motif_core::plugin::{self, AttributeInput, Attributor, Convergence, PluginKind};
use motif_core::rundir::RunDir;
use motif_core::shard::Shard;
use motif_onnx::autodiff::deeplift::DeepLiftOptions;
use motif_train::attribution::{OutputColumns, TargetModel, output_columns};
use ndarray::{Array2, Array3, Axis};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::engine::EngineConfig;
use crate::input::SeqInput;
use crate::{Event, Result, invalid};

/// Settings of `attribute`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "cli", derive(clap::Args))]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
#[allow(clippy::struct_excessive_bools, reason = "independent command-line switches")]
pub struct Config {
    /// The model (ONNX).
    #[cfg_attr(feature = "cli", arg(default_value = "", hide_default_value = true, required_unless_present = "config", value_parser = crate::cli::path_or_empty()))]
    pub model: PathBuf,
    /// The sequences: table columns, `--bed/--genome/--width`.
    #[cfg_attr(feature = "cli", command(flatten))]
    pub input: SeqInput,
    /// Attribution method: an `attributor` plugin (`motiftool plugins
    /// --kind attributor`): deeplift-shap, ism, saliency,
    /// integrated-gradients.
    #[cfg_attr(feature = "cli", arg(long, default_value_t = Config::default().method))]
    pub method: String,
    /// The method's settings over its defaults (on the command line `--set
    /// key=value`).
    #[cfg_attr(feature = "cli", arg(skip = json!({})))]
    pub method_config: serde_json::Value,
    /// What is explained: `OUTPUT[:INDEX]` (an output's name or number and
    /// a column of it, flattened per sequence), `OUTPUT:sum` (all its
    /// columns), `OUTPUT:profile` (a profile head's logits, mean-centred and
    /// weighted by their softmax, summed: BPNet's convention), or several
    /// such terms joined by `+` (their sum). Default: column 0 of the first
    /// output.
    #[cfg_attr(feature = "cli", arg(long, value_name = "OUTPUT[:INDEX]"))]
    pub target: Option<String>,
    /// `--probabilities`: explain an output ending in Sigmoid or Softmax as
    /// it is, not its logit (the default explains the logit, as DeepLIFT's
    /// authors advise; in --config `logits = false`).
    #[cfg_attr(feature = "cli", arg(long = "probabilities", action = clap::ArgAction::SetFalse))]
    pub logits: bool,
    /// Op types without a DeepLIFT rule to treat through their plain
    /// gradient anyway (comma-separated; recorded in run.json).
    #[cfg_attr(feature = "cli", arg(long, value_delimiter = ',', value_name = "OPS"))]
    pub linearize: Vec<String>,
    /// Warn when a sequence's convergence delta |Δf − Σ contributions|
    /// exceeds this (or its mean exceeds 1% of the mean |Δf|).
    #[cfg_attr(feature = "cli", arg(long, default_value_t = Config::default().max_delta))]
    pub max_delta: f64,
    /// Make a convergence warning an error.
    #[cfg_attr(feature = "cli", arg(long))]
    pub strict: bool,
    /// Sequences attributed per chunk (memory: chunk × references × 4 × L
    /// floats).
    #[cfg_attr(feature = "cli", arg(long, default_value_t = Config::default().chunk, value_parser = crate::cli::at_least_one))]
    pub chunk: usize,
    /// Also write projected.npz: the projected contributions (hypothetical
    /// × one-hot), (N, 4, L), as plotting tools and ChromBPNet's
    /// `projected_shap` hold them.
    #[cfg_attr(feature = "cli", arg(long))]
    pub projected: bool,
    /// Also write contributions.h5 in ChromBPNet's layout (`raw/seq` int8,
    /// `shap/seq` and `projected_shap/seq` float16, (N, 4, L)); built in
    /// memory at the end: 5 bytes × N × 4 × L.
    #[cfg_attr(feature = "cli", arg(long))]
    pub h5: bool,
    /// Sequences drawn as contribution tracks in report.html (the
    /// highest-scoring ones).
    #[cfg_attr(feature = "cli", arg(long, default_value_t = Config::default().tracks))]
    pub tracks: usize,
    /// Random seed (DeepSHAP's reference k of every sequence is drawn from
    /// seed + k).
    #[cfg_attr(feature = "cli", arg(long, default_value_t = Config::default().seed))]
    pub seed: u64,
    /// Engine settings.
    #[cfg_attr(feature = "cli", command(flatten))]
    pub engine: EngineConfig,
    /// This process's share of the sequences, i/n (1-based): a block of
    /// whole chunks (so its engine calls are the single run's), into its own
    /// folder with a `shard.json` beside the usual files; `motiftool merge`
    /// turns the n folders into the folder one run writes.
    #[cfg_attr(feature = "cli", arg(long, value_name = "i/n"))]
    pub shard: Option<Shard>,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            model: PathBuf::new(),
            input: SeqInput::default(),
            method: "deeplift-shap".into(),
            method_config: json!({}),
            target: None,
            logits: true,
            linearize: Vec::new(),
            max_delta: 1e-3,
            strict: false,
            chunk: 64,
            projected: false,
            h5: false,
            tracks: 10,
            seed: 0,
            engine: EngineConfig::default(),
            shard: None,
        }
    }
}

/// The most sequence positions (pairs × length) one engine call takes on
/// the CPU.
const MAX_POSITIONS: usize = 1 << 13;
/// The same on a GPU, where large calls pay (about 1.3 GB of activations
/// for the pair graph of a 32-channel BPNet-like model).
const MAX_POSITIONS_GPU: usize = 1 << 18;

/// One term of the target.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TargetTerm {
    /// The model output.
    pub output: String,
    /// The tensor read (the output, or its logit).
    pub tensor: String,
    /// Column (flattened per sequence); `None` for a profile score.
    pub column: Option<usize>,
    /// A profile head's score (BPNet's convention): the mean-centred
    /// logits of every position and strand weighted by their softmax,
    /// summed.
    #[serde(default)]
    pub profile: bool,
}

/// A parsed `--target`.
#[derive(Debug, Clone, PartialEq)]
pub struct Target {
    /// One weight per output column (every output's, in order).
    pub weights: Vec<f32>,
    /// Outputs whose profile score is added.
    pub profiles: Vec<usize>,
    /// The terms, as written.
    pub terms: Vec<TargetTerm>,
    /// A note on a default choice.
    pub note: Option<String>,
}

/// What a run did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// Sequences attributed.
    pub sequences: usize,
    /// Their length.
    pub length: usize,
    /// The attributor.
    pub method: String,
    /// The target: the sum of these columns.
    pub target: Vec<TargetTerm>,
    /// Worst and mean convergence delta over all pairs (methods with
    /// references or a baseline).
    pub convergence: Option<ConvergenceSummary>,
    /// Op types linearized on request.
    pub linearized: Vec<String>,
}

/// Convergence over the run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConvergenceSummary {
    /// The largest delta.
    pub max_delta: f64,
    /// The mean of the sequences' mean deltas.
    pub mean_delta: f64,
    /// Sequences over the threshold.
    pub warned: usize,
}

/// Parses `--target` against the model's outputs.
///
/// # Errors
/// If a term names no output, a column out of range, or an output of
/// several columns without saying which.
pub fn parse_target(spec: Option<&str>, outputs: &[OutputColumns]) -> Result<Target> {
    let total: usize = outputs.iter().map(|o| o.columns).sum();
    let mut weights = vec![0f32; total];
    let mut profiles = Vec::new();
    let mut terms = Vec::new();
    let names: Vec<&str> = outputs.iter().map(|o| o.output.as_str()).collect();
    let mut note = None;
    let spec = if let Some(s) = spec {
        s.to_owned()
    } else {
        let first = outputs.first().ok_or_else(|| invalid("the model has no output"))?;
        if first.columns > 1 {
            note = Some(format!(
                "explaining column 0 of output `{}`'s {} (choose with --target {}:INDEX or {}:sum)",
                first.output, first.columns, first.output, first.output
            ));
        }
        format!("{}:0", first.output)
    };
    for term in spec.split('+').map(str::trim) {
        let (o, col) = match term.rsplit_once(':') {
            Some((o, c)) if names.contains(&o) || o.parse::<usize>().is_ok() => (o, Some(c)),
            _ => (term, None),
        };
        let k = names.iter().position(|n| *n == o).or_else(|| o.parse::<usize>().ok());
        let Some(k) = k.filter(|&k| k < outputs.len()) else {
            return Err(invalid(format!(
                "--target `{term}`: no output `{o}` (outputs: {})",
                names.join(", ")
            )));
        };
        let out = &outputs[k];
        let offset: usize = outputs[..k].iter().map(|o| o.columns).sum();
        if col == Some("profile") {
            if out.logit {
                return Err(invalid(format!(
                    "--target `{term}`: a profile score reads logits; `{}` ends in a softmax or sigmoid \
                     (its logit `{}` is read with the default, not with --probabilities)",
                    out.output, out.tensor
                )));
            }
            profiles.push(k);
            terms.push(TargetTerm {
                output: out.output.clone(),
                tensor: out.tensor.clone(),
                column: None,
                profile: true,
            });
            continue;
        }
        let cols: Vec<usize> = match col {
            Some("sum") => (0..out.columns).collect(),
            Some(c) => {
                let c: usize = c.parse().map_err(|_| {
                    invalid(format!("--target `{term}`: `{c}` is not a column number or `sum`"))
                })?;
                if c >= out.columns {
                    return Err(invalid(format!(
                        "--target `{term}`: output `{}` has {} column(s)",
                        out.output, out.columns
                    )));
                }
                vec![c]
            }
            None if out.columns == 1 => vec![0],
            None => {
                return Err(invalid(format!(
                    "--target `{term}`: output `{}` has {} columns; say which ({}:INDEX) or {}:sum",
                    out.output, out.columns, out.output, out.output
                )));
            }
        };
        for c in cols {
            weights[offset + c] += 1.0;
            terms.push(TargetTerm {
                output: out.output.clone(),
                tensor: out.tensor.clone(),
                column: Some(c),
                profile: false,
            });
        }
    }
    Ok(Target { weights, profiles, terms, note })
}

/// A sequence kept for the report's tracks.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Track {
    /// The sequence's row in the run.
    pub(crate) row: usize,
    pub(crate) id: String,
    #[serde(with = "serde_bytes_as_text")]
    pub(crate) seq: Vec<u8>,
    pub(crate) score: f32,
    pub(crate) projected: Vec<f64>,
}

/// Sequences as text in `shard.json`.
mod serde_bytes_as_text {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(b: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&String::from_utf8_lossy(b))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        Ok(String::deserialize(d)?.into_bytes())
    }
}

/// The run's state between chunks.
pub(crate) struct Sink {
    pub(crate) ohe: NpzStream,
    pub(crate) hyp: NpzStream,
    pub(crate) projected: Option<NpzStream>,
    /// Per-position projected sums, for the bigWig of BED input.
    pub(crate) track: Option<crate::attribute_track::Track>,
    pub(crate) rows: String,
    pub(crate) tracks: Vec<Track>,
    pub(crate) max_delta: f64,
    pub(crate) with_convergence: bool,
    /// Each sequence's mean convergence delta, in row order.
    pub(crate) deltas: Vec<f64>,
    /// The sequences over the convergence threshold: (row, id).
    pub(crate) warned: Vec<(usize, String)>,
    /// The run's row of this run's first sequence (a shard's block start).
    pub(crate) first_row: usize,
}

/// What a shard adds to its folder (`shard.json`) for `merge`: the exact
/// per-sequence values its summary and report are made of.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct ShardFile {
    pub(crate) shard: Shard,
    /// The run's row of the shard's first sequence.
    pub(crate) first: usize,
    pub(crate) rows: usize,
    pub(crate) length: usize,
    pub(crate) target: Vec<TargetTerm>,
    pub(crate) with_convergence: bool,
    pub(crate) deltas: Vec<f64>,
    pub(crate) max_delta: f64,
    pub(crate) warned: Vec<(usize, String)>,
    pub(crate) tracks: Vec<Track>,
}

impl ShardFile {
    /// A shard that got no sequence.
    fn empty(shard: Shard, first: usize) -> Self {
        Self {
            shard,
            first,
            rows: 0,
            length: 0,
            target: Vec::new(),
            with_convergence: false,
            deltas: Vec::new(),
            max_delta: 0.0,
            warned: Vec::new(),
            tracks: Vec::new(),
        }
    }
}

/// Runs `attribute` into `run`: `ohe.npz`, `shap.npz`, `scores.tsv`,
/// `report.html`.
///
/// # Errors
/// If the model, sequences or method are unusable (naming the file,
/// sequence, node or flag), or under `strict` a convergence check fails.
pub fn run(config: &Config, run: &mut RunDir, events: &mut dyn FnMut(Event)) -> Result<Summary> {
    if config.model.as_os_str().is_empty() {
        return Err(invalid("no model: give MODEL, or `model` in --config"));
    }
    let model = motif_onnx::Model::load(&config.model)?;
    if !plugin::all()?.iter().any(|p| p.name == config.method && p.kind == PluginKind::Attributor) {
        return Err(invalid(format!(
            "--method `{}`: no attributor plugin of that name (see `motiftool plugins --kind attributor`)",
            config.method
        )));
    }
    let method_config = plugin::effective_config(&config.method, &config.method_config)?;
    let attributor = plugin::build::<dyn Attributor>(&config.method, &method_config)?;
    let (count, _) = count_records(&config.input)?;
    // A shard takes a block of whole chunks: each of its engine calls is the
    // one a single run makes, so its numbers are the single run's, bit for
    // bit (batch shapes can move the last bits of an engine's sums).
    let block = config.shard.map_or(0..count, |s| s.block(count, config.chunk));
    let (records, source) = config.input.records(None)?;
    let records = records.skip(block.start).take(block.len());
    if let Some(s) = config.shard
        && block.is_empty()
    {
        // More shards than chunks: nothing to do, and merge knows it.
        let file = ShardFile::empty(s, block.start);
        run.write_json("shard.json", &file)?;
        run.set_config(config)?;
        return Ok(Summary {
            sequences: 0,
            length: 0,
            method: config.method.clone(),
            target: Vec::new(),
            convergence: None,
            linearized: config.linearize.clone(),
        });
    }
    let mut target = None;
    let mut sink: Option<Sink> = None;
    events(Event::Stage { name: "attributing", total: Some(block.len() as u64) });
    let mut chunk: Vec<(String, Vec<u8>)> = Vec::with_capacity(config.chunk);
    let mut loci = Vec::new();
    let mut length = None;
    let mut records = records.peekable();
    while let Some(rec) = records.next() {
        let rec = rec?;
        let len = *length.get_or_insert(rec.seq.len());
        if rec.seq.len() != len {
            return Err(invalid(format!(
                "{}:{}: sequence `{}` is {} bp, the first was {len}: attributions are one (N, 4, L) \
                 array, so every sequence needs one length (with --bed, --width sets it)",
                source.display(),
                rec.line,
                rec.id,
                rec.seq.len()
            )));
        }
        if let Some(l) = rec.locus {
            loci.push(l);
        }
        chunk.push((rec.id, rec.seq));
        if chunk.len() == config.chunk || records.peek().is_none() {
            if target.is_none() {
                let t = prepare(config, &model, len, events)?;
                sink = Some(Sink::new(run, len, t.2, config, block.start)?);
                target = Some(t);
            }
            let (tm, _, _) = target.as_ref().expect("prepared");
            let s = sink.as_mut().expect("opened");
            attribute_chunk(config, &*attributor, tm, &chunk, &source, s, events)?;
            events(Event::Advance(chunk.len() as u64));
            chunk.clear();
        }
    }
    let (Some((tm, terms, _)), Some(mut sink), Some(length)) = (target, sink, length) else {
        return Err(invalid(format!("{}: no sequences", source.display())));
    };
    if let Some((engine, device)) = tm.engine() {
        run.set_engine(&engine, &device);
    }
    if let Some(mut track) = sink.track.take() {
        if config.shard.is_some() {
            // The bigWig needs the neighbouring windows: merge writes it.
            track.save(&run.path("positions.npz"))?;
        } else {
            track.finish(config, run, &loci, events)?;
        }
    }
    if !loci.is_empty() {
        run.write("regions.bed", regions_bed(&loci).as_bytes())?;
    }
    if let Some(shard) = config.shard {
        let file = ShardFile {
            shard,
            first: sink.first_row,
            rows: sink.ohe.rows(),
            length,
            target: terms.clone(),
            with_convergence: sink.with_convergence,
            deltas: sink.deltas.clone(),
            max_delta: sink.max_delta,
            warned: sink.warned.clone(),
            tracks: sink.tracks.clone(),
        };
        run.write_json("shard.json", &file)?;
    }
    finish(config, run, sink, terms, length, &method_config, events)
}

/// The windows' genome coordinates, one BED6 row per sequence in input
/// order (0-based, half-open; name = row number), for `discover` to place
/// seqlets on the genome.
pub(crate) fn regions_bed(loci: &[motif_core::seqio::Locus]) -> String {
    let mut s =
        String::from("# the windows of ohe.npz/shap.npz in row order: 0-based, half-open\n");
    for (i, l) in loci.iter().enumerate() {
        let strand = if l.minus { '-' } else { '+' };
        let _ = writeln!(s, "{}\t{}\t{}\t{i}\t0\t{strand}", l.chrom, l.start, l.end);
    }
    s
}

/// Counts the records (for the progress bar), checking them on the way.
fn count_records(input: &SeqInput) -> Result<(usize, PathBuf)> {
    let (records, source) = input.records(None)?;
    let mut n = 0;
    for r in records {
        r?;
        n += 1;
    }
    Ok((n, source))
}

/// The target model for sequences of `len`, the target's terms, and
/// whether the method reports convergence.
fn prepare(
    config: &Config,
    model: &motif_onnx::Model,
    len: usize,
    events: &mut dyn FnMut(Event),
) -> Result<(TargetModel, Vec<TargetTerm>, bool)> {
    if let Some(l) = model.structure().input.length
        && l != len
    {
        return Err(invalid(format!(
            "{}: the model takes {l} bp, the sequences are {len} bp",
            config.model.display()
        )));
    }
    let outputs = output_columns(model, len, config.logits)?;
    let Target { weights, profiles, terms, note } =
        parse_target(config.target.as_deref(), &outputs)?;
    if let Some(n) = note {
        events(Event::Note(n));
    }
    for o in outputs.iter().filter(|o| o.logit && terms.iter().any(|t| t.output == o.output)) {
        events(Event::Note(format!(
            "output `{}` ends in a sigmoid/softmax: explaining its logit `{}` (--probabilities: the output itself)",
            o.output, o.tensor
        )));
    }
    let deeplift = DeepLiftOptions { linearize: config.linearize.clone(), ..Default::default() };
    let opts = config.engine.options(vec![]);
    // A pair graph holds some forty tensors of the batch's size: calls of at
    // most MAX_POSITIONS positions keep them in cache, which measured 1.5-2x
    // faster than batches of 64 (200 and 2,114 bp, ort, 2 threads), and
    // memory small whatever the length. A GPU wants large calls.
    let cap = match config.engine.device {
        crate::engine::DeviceName::Cpu => MAX_POSITIONS,
        crate::engine::DeviceName::Cuda => MAX_POSITIONS_GPU,
    };
    let batch = config.engine.batch().min(cap / len.max(1)).max(1);
    let tm = TargetModel::new(model, &outputs, weights, &profiles, opts, batch, deeplift)?;
    if config.method == "ism" {
        let fast =
            config.method_config.get("fast").and_then(serde_json::Value::as_bool) != Some(false);
        if fast && config.engine.device == crate::engine::DeviceName::Cuda {
            events(Event::Note(
                "ism: on a GPU every mutant is predicted whole, in large batches (fast ISM's window \
                 gathering runs on the CPU, and measured 20x slower there than on the CPU alone)"
                    .into(),
            ));
        } else if fast && !tm.fast_ism_available(len)? {
            events(Event::Note(
                "ism: no convolution of this model can be recomputed locally; every mutant is predicted whole".into(),
            ));
        } else if fast {
            events(Event::Note(
                "ism: recomputing only the spans each substitution changes (fast ISM)".into(),
            ));
        }
    }
    let reports = matches!(config.method.as_str(), "deeplift-shap" | "integrated-gradients");
    Ok((tm, terms, reports))
}

impl Sink {
    fn new(
        run: &RunDir,
        len: usize,
        with_convergence: bool,
        config: &Config,
        first_row: usize,
    ) -> Result<Self> {
        let mut rows = String::from("id\tprediction\tsum_projected");
        if with_convergence {
            rows.push_str("\tmax_delta\tmean_delta\tmean_abs_df");
        }
        rows.push('\n');
        Ok(Self {
            ohe: NpzStream::new(run.dir(), "ohe.npz", &[4, len])?,
            hyp: NpzStream::new(run.dir(), "shap.npz", &[4, len])?,
            track: if config.input.bed.is_some() {
                Some(crate::attribute_track::Track::new(run.dir(), len)?)
            } else {
                None
            },
            projected: if config.projected {
                Some(NpzStream::new(run.dir(), "projected.npz", &[4, len])?)
            } else {
                None
            },
            rows,
            tracks: Vec::new(),
            max_delta: 0.0,
            with_convergence,
            deltas: Vec::new(),
            warned: Vec::new(),
            first_row,
        })
    }
}

/// Attributes one chunk and writes its rows.
fn attribute_chunk(
    config: &Config,
    attributor: &dyn Attributor,
    tm: &TargetModel,
    chunk: &[(String, Vec<u8>)],
    source: &std::path::Path,
    sink: &mut Sink,
    events: &mut dyn FnMut(Event),
) -> Result<()> {
    let seqs: Vec<&[u8]> = chunk.iter().map(|(_, s)| s.as_slice()).collect();
    let x = motif_core::onehot::one_hot_batch(&seqs).map_err(|(k, pos, b)| {
        invalid(format!(
            "{}: sequence `{}`: letter `{}` at {}",
            source.display(),
            chunk[k].0,
            char::from(b),
            pos + 1
        ))
    })?;
    let first = sink.first_row + sink.ohe.rows();
    let out = attributor.attribute(&AttributeInput {
        model: tm,
        x: x.view(),
        first,
        seed: config.seed,
    })?;
    // modisco's one-hot: N columns all zero.
    let ohe = x.mapv(|v| if v == 1.0 { 1.0 } else { 0.0 });
    sink.ohe.push(ohe.view().into_dyn())?;
    sink.hyp.push(out.hypothetical.view().into_dyn())?;
    let projected: Array3<f32> = &out.hypothetical * &x;
    if let Some(p) = sink.projected.as_mut() {
        p.push(projected.view().into_dyn())?;
    }
    let per_pos: Array2<f32> = projected.sum_axis(Axis(1));
    if let Some(t) = sink.track.as_mut() {
        t.push(&per_pos)?;
    }
    let mut bad = Vec::new();
    for (i, (id, seq)) in chunk.iter().enumerate() {
        let total: f64 = per_pos.row(i).iter().map(|&v| f64::from(v)).sum();
        let _ = write!(sink.rows, "{id}\t{:.6e}\t{total:.6e}", out.prediction[i]);
        if let Some(c) = out.convergence.as_ref().map(|c| c[i]) {
            let _ = write!(
                sink.rows,
                "\t{:.3e}\t{:.3e}\t{:.6e}",
                c.max_delta, c.mean_delta, c.mean_abs_df
            );
            sink.max_delta = sink.max_delta.max(c.max_delta);
            sink.deltas.push(c.mean_delta);
            if over(&c, config.max_delta) {
                bad.push((first + i, id.clone()));
            }
        }
        sink.rows.push('\n');
        let track = Track {
            row: first + i,
            id: id.clone(),
            seq: seq.clone(),
            score: out.prediction[i],
            projected: per_pos.row(i).iter().map(|&v| f64::from(v)).collect(),
        };
        keep_track(sink, config.tracks, track);
    }
    if !bad.is_empty() {
        let msg = format!(
            "{} sequence(s) with convergence deltas over {:e} (or a mean over 1% of |Δf|), e.g. {}: \
             an op may be treated wrongly",
            bad.len(),
            config.max_delta,
            bad.iter().take(5).map(|(_, id)| id.as_str()).collect::<Vec<_>>().join(", ")
        );
        if config.strict {
            return Err(invalid(format!("--strict: {msg}")));
        }
        events(Event::Warning(msg));
        sink.warned.extend(bad);
    }
    Ok(())
}

/// tangermeme's two criteria: an absolute delta, or a mean delta over 1%
/// of the mean |Δf|.
fn over(c: &Convergence, max_delta: f64) -> bool {
    c.max_delta > max_delta || c.mean_delta / c.mean_abs_df.max(1e-12) > 0.01
}

/// Keeps the `k` highest-scoring sequences for the report (offered in row
/// order).
pub(crate) fn keep_track(sink: &mut Sink, k: usize, track: Track) {
    if k == 0 {
        return;
    }
    if sink.tracks.len() == k {
        let (at, low) = sink
            .tracks
            .iter()
            .enumerate()
            .min_by(|a, b| a.1.score.total_cmp(&b.1.score))
            .map(|(i, t)| (i, t.score))
            .expect("k > 0");
        if track.score <= low {
            return;
        }
        sink.tracks.remove(at);
    }
    sink.tracks.push(track);
}

pub(crate) fn finish(
    config: &Config,
    run: &mut RunDir,
    mut sink: Sink,
    terms: Vec<TargetTerm>,
    length: usize,
    method_config: &serde_json::Value,
    events: &mut dyn FnMut(Event),
) -> Result<Summary> {
    let n = sink.ohe.rows();
    if config.h5 {
        crate::attribute_h5::write(
            &run.path("contributions.h5"),
            &mut sink.ohe,
            &mut sink.hyp,
            length,
        )?;
    }
    sink.ohe.finish(&run.path("ohe.npz"))?;
    sink.hyp.finish(&run.path("shap.npz"))?;
    if let Some(p) = sink.projected {
        p.finish(&run.path("projected.npz"))?;
    }
    run.write("scores.tsv", sink.rows.as_bytes())?;
    let convergence = sink.with_convergence.then(|| ConvergenceSummary {
        max_delta: sink.max_delta,
        // Added in row order from +0, as the deltas came.
        mean_delta: sink.deltas.iter().fold(0.0, |a, d| a + d) / n.max(1) as f64,
        warned: sink.warned.len(),
    });
    let summary = Summary {
        sequences: n,
        length,
        method: config.method.clone(),
        target: terms,
        convergence,
        linearized: config.linearize.clone(),
    };
    let mut tracks = sink.tracks;
    tracks.sort_by(|a, b| b.score.total_cmp(&a.score));
    run.write("report.html", report(config, &summary, &tracks)?.as_bytes())?;
    run.input("model", &config.model)?;
    for (role, p) in config.input.files() {
        run.input(role, p)?;
    }
    run.set_seed(config.seed);
    run.set_config(config)?;
    run.plugin("attributor", &config.method, plugin::find(&config.method)?.version, method_config)?;
    if let Some(c) = &summary.convergence {
        events(Event::Note(format!(
            "convergence: max delta {:.2e}, mean {:.2e} over {n} sequences",
            c.max_delta, c.mean_delta
        )));
    }
    Ok(summary)
}

/// report.html: the run's facts and the strongest sequences' tracks.
fn report(config: &Config, s: &Summary, tracks: &[Track]) -> Result<String> {
    let target: Vec<String> = s
        .target
        .iter()
        .map(|t| match t.column {
            Some(c) => format!("{}:{c} ({})", t.output, t.tensor),
            None => format!("{}:profile ({}, softmax-weighted logits)", t.output, t.tensor),
        })
        .collect();
    let mut facts = vec![
        ("model".to_string(), config.model.display().to_string()),
        ("method".into(), s.method.clone()),
        ("target".into(), target.join(" + ")),
        ("sequences".into(), format!("{} of {} bp", s.sequences, s.length)),
    ];
    if let Some(c) = &s.convergence {
        facts.push((
            "convergence".into(),
            format!(
                "max delta {:.2e}, mean {:.2e}; {} sequence(s) over the threshold",
                c.max_delta, c.mean_delta, c.warned
            ),
        ));
    }
    let fig = crate::figure("contribution-track", &json!({}))?;
    let mut body = String::from(
        "<p>Projected contributions (hypothetical × one-hot) of the highest-scoring sequences: \
         letters above the line push the prediction up, those below push it down.</p>",
    );
    for t in tracks {
        let data = json!({
            "title": format!("{} (prediction {})", t.id, motif_report::format_number(f64::from(t.score))),
            "sequence": String::from_utf8_lossy(&t.seq),
            "scores": t.projected,
        });
        let _ = write!(
            body,
            "<p><b>{}</b> · target {}</p><div class=\"track\" style=\"overflow-x:auto\">{}</div>",
            motif_report::escape(&t.id),
            motif_report::format_number(f64::from(t.score)),
            fig.render(&data)?
        );
    }
    let page = motif_report::Page {
        title: format!("motiftool attribute: {}", config.model.display()),
        facts,
        sections: vec![("Contribution tracks".into(), body)],
    };
    Ok(motif_report::render_page(&page))
}
