//! `extract`: one conv layer's filters → motifs, through an extractor
//! plugin, without matching. [`motifs_of_layer`] is the step analyze, prune
//! and decouple share.

use std::path::{Path, PathBuf};
use std::time::Instant;

use motif_core::motif::{MotifSet, write_meme};
use motif_core::plugin::{self, ExtractInput, MotifExtractor};
use motif_core::rundir::RunDir;
use ndarray::{Array3, Axis, Ix3};
use serde::{Deserialize, Serialize};

use crate::engine::EngineConfig;
use crate::input::{SeqInput, random_onehot};
use crate::{Event, Result, invalid};

/// The bundled example model (written by `examples/planted_model.rs`): a
/// DeepBind-style model whose 8 kernels are JASPAR matrices (CTCF, REST,
/// TBP, NRF1, SRF, TP53, HNF1A, GATA1) as log-odds.
pub const EXAMPLE_MODEL: &[u8] = include_bytes!("../../../data/models/planted_jaspar.onnx");
/// How the bundled example model is named in messages and reports.
pub const EXAMPLE_MODEL_NAME: &str = "planted_jaspar.onnx";

/// Settings of `extract` (and the extraction half of `analyze`; their
/// flags but for the sequence file and `--set`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "cli", derive(clap::Args))]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct Config {
    /// The model (ONNX). Default: the bundled example, a DeepBind-style model
    /// whose 8 kernels are JASPAR matrices (CTCF, REST, TBP, NRF1, SRF, TP53,
    /// HNF1A, GATA1) as log-odds, so its report shows what a correct one looks like.
    pub model: Option<PathBuf>,
    /// The sequences (table columns, `--bed/--genome/--width`); default `n`
    /// uniform random sequences of the model's input length (`len` when it
    /// takes any length), seeded by `seed`.
    #[cfg_attr(feature = "cli", command(flatten))]
    pub input: SeqInput,
    /// Conv layer (0 = first).
    #[cfg_attr(feature = "cli", arg(long, default_value_t = 0))]
    pub layer: usize,
    /// Extractor plugin (`motiftool plugins --kind extractor`).
    #[cfg_attr(feature = "cli", arg(long, default_value_t = Config::default().extractor))]
    pub extractor: String,
    /// Extractor settings over its defaults (`motiftool plugins show NAME`;
    /// on the command line `--set key=value`).
    #[cfg_attr(feature = "cli", arg(skip = serde_json::json!({})))]
    pub extractor_config: serde_json::Value,
    /// `--no-trim`: keep each motif's uninformative flanks (the extractor's
    /// `trim.enabled`); by default they are trimmed, since untrimmed filters
    /// match databases poorly.
    #[cfg_attr(feature = "cli", arg(long = "no-trim", action = clap::ArgAction::SetFalse))]
    pub trim: bool,
    /// Random sequences when no sequences are given [default: 5000]; at
    /// most this many from given ones (default: all). 5,000 because a
    /// filter that fires on rare words, such as TBP's TATA box, needs that
    /// many uniform sequences for a stable motif (1,000 gave its planted
    /// match at E from 1e-5 to 0.3 across seeds).
    #[cfg_attr(feature = "cli", arg(long))]
    pub n: Option<usize>,
    /// Length of random sequences for a model that takes any length.
    #[cfg_attr(feature = "cli", arg(long, default_value_t = Config::default().len))]
    pub len: usize,
    /// Seed of the random sequences.
    #[cfg_attr(feature = "cli", arg(long, default_value_t = Config::default().seed))]
    pub seed: u64,
    /// Engine settings.
    #[cfg_attr(feature = "cli", command(flatten))]
    pub engine: EngineConfig,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            model: None,
            input: SeqInput::default(),
            layer: 0,
            extractor: "activation-alignment".into(),
            extractor_config: serde_json::json!({}),
            trim: true,
            n: None,
            len: 101,
            seed: 1,
            engine: EngineConfig::default(),
        }
    }
}

/// A loaded model and how messages name it.
pub struct LoadedModel {
    /// The model.
    pub model: motif_onnx::Model,
    /// Its path, or `bundled planted_jaspar.onnx`.
    pub name: String,
}

impl Config {
    /// Loads the model (or the bundled example).
    ///
    /// # Errors
    /// If the model cannot be read.
    pub fn load_model(&self) -> Result<LoadedModel> {
        Ok(match &self.model {
            Some(p) => {
                LoadedModel { model: motif_onnx::Model::load(p)?, name: p.display().to_string() }
            }
            None => LoadedModel {
                model: motif_onnx::Model::from_bytes(EXAMPLE_MODEL, Path::new(EXAMPLE_MODEL_NAME))?,
                name: format!("bundled {EXAMPLE_MODEL_NAME}"),
            },
        })
    }

    /// The extractor's config as run: its defaults, then `trim`, then
    /// `extractor_config`.
    ///
    /// # Errors
    /// If the extractor is not registered or a setting is not its own.
    pub fn extractor_settings(&self) -> Result<serde_json::Value> {
        let info = plugin::find(&self.extractor)?;
        let mut over = serde_json::json!({});
        if info.default_config.get("trim").is_some() {
            over["trim"] = serde_json::json!({ "enabled": self.trim });
        }
        plugin::merge_config(&mut over, &self.extractor_config);
        Ok(plugin::effective_config(&self.extractor, &over)?)
    }

    /// Records the model (its bytes when bundled) and the sequence files as
    /// the run's inputs.
    ///
    /// # Errors
    /// If an input cannot be hashed.
    pub fn record_inputs(&self, run: &mut RunDir) -> Result<()> {
        match &self.model {
            Some(p) => {
                run.input("model", p)?;
            }
            None => {
                run.input_bytes("model", &format!("bundled {EXAMPLE_MODEL_NAME}"), EXAMPLE_MODEL);
            }
        }
        for (role, p) in self.input.files() {
            run.input(role, p)?;
        }
        Ok(())
    }
}

/// The sequences a layer's motifs are extracted from.
pub struct Sequences {
    /// One-hot, (n, 4, len).
    pub x: Array3<f32>,
    /// Where they came from, for reports.
    pub source: String,
}

/// The one-hot sequences `config` asks for, checked against the model and
/// the layer's receptive field.
///
/// # Errors
/// If they cannot be read, or do not fit the model or layer.
pub fn sequences(config: &Config, model: &LoadedModel) -> Result<Sequences> {
    let st = model.model.structure();
    let layer = layer_of(config.layer, model)?;
    let seq_len = st.input.length;
    let (x, source) = if config.input.is_given() {
        config.input.one_hot(config.n)?
    } else {
        let (n, len) = (config.n.unwrap_or(5000), seq_len.unwrap_or(config.len));
        let x = random_onehot(n, len, config.seed);
        (x, format!("{n} uniform random sequences of {len} bp (seed {})", config.seed))
    };
    let len = x.shape()[2];
    if let Some(l) = seq_len.filter(|&l| l != len) {
        return Err(invalid(format!("the model takes {l} bp sequences; these are {len} bp")));
    }
    if len < layer.receptive_field {
        return Err(invalid(format!(
            "sequences are {len} bp, shorter than conv layer {}'s receptive field ({} bp)",
            config.layer, layer.receptive_field
        )));
    }
    Ok(Sequences { x, source })
}

/// Conv layer `index` of the model, or an error naming the range.
///
/// # Errors
/// If the model has no conv layer or not that many.
pub fn layer_of(index: usize, model: &LoadedModel) -> Result<&motif_onnx::structure::ConvLayer> {
    let st = model.model.structure();
    if st.convs.is_empty() {
        return Err(invalid(format!(
            "{}: no conv layer found; motifs are extracted from conv filters",
            model.name
        )));
    }
    st.convs.get(index).ok_or_else(|| {
        invalid(format!(
            "{}: --layer {index} is out of range (the model has {} conv layers, 0..={})",
            model.name,
            st.convs.len(),
            st.convs.len() - 1
        ))
    })
}

/// Motifs of one conv layer's filters on `x`, and the activation maps.
pub struct Extracted {
    /// One motif per filter.
    pub motifs: MotifSet,
    /// Activations, (n, filters, positions).
    pub act: Array3<f32>,
    /// Engine that ran.
    pub engine: motif_engine::EngineKind,
    /// Device.
    pub device: motif_engine::Device,
    /// Seconds running the model.
    pub inference_s: f64,
    /// Seconds extracting.
    pub extraction_s: f64,
}

/// Runs `model` on `x` for conv layer `layer_index`'s activations and turns
/// its filters into motifs with `extractor`. Emits an `inference` stage
/// advancing by sequences, then `extraction`.
///
/// # Errors
/// If the engine fails or the activations' layout cannot be told.
pub fn motifs_of_layer(
    model: &motif_onnx::Model,
    layer_index: usize,
    x: &Array3<f32>,
    engine: &EngineConfig,
    extractor: &dyn MotifExtractor,
    events: &mut dyn FnMut(Event),
) -> Result<Extracted> {
    let st = model.structure();
    let layer = st
        .convs
        .get(layer_index)
        .ok_or_else(|| invalid(format!("conv layer {layer_index} is out of range")))?;
    let t_inf = Instant::now();
    let tensor = layer.activation_output.clone().unwrap_or_else(|| layer.conv_output.clone());
    let session = motif_engine::open(model, &engine.options(vec![tensor.clone()]))?;
    let f = layer.out_channels;
    events(Event::Stage { name: "inference", total: Some(x.shape()[0] as u64) });
    let mut acts: Vec<Array3<f32>> = Vec::new();
    for chunk in x.axis_chunks_iter(Axis(0), engine.batch()) {
        let out = session.run(chunk)?.remove(0);
        acts.push(to_nfp(out, f, layer.length_axis, &tensor)?);
        events(Event::Advance(chunk.shape()[0] as u64));
    }
    let views: Vec<_> = acts.iter().map(|v| v.view()).collect();
    let act = ndarray::concatenate(Axis(0), &views).map_err(|e| invalid(e.to_string()))?;
    let inference_s = t_inf.elapsed().as_secs_f64();

    events(Event::Stage { name: "extraction", total: Some(f as u64) });
    let w = model.weights(&layer.weight)?;
    let kernels = w
        .to_shape((
            layer.out_channels,
            layer.in_channels,
            w.len() / (layer.out_channels * layer.in_channels),
        ))
        .map_err(|e| invalid(format!("kernel `{}`: {e}", layer.weight)))?
        .to_owned();
    let offset: isize = st
        .convs
        .iter()
        .take(layer_index + 1)
        .map(|c| -((c.padding[0] * (c.input_stride / c.stride.max(1))) as isize))
        .sum();
    let t_ex = Instant::now();
    let input = ExtractInput {
        kernels: kernels.view(),
        x: Some(x.view()),
        activations: Some(act.view()),
        receptive_field: layer.receptive_field,
        stride: layer.input_stride,
        offset,
    };
    let motifs: MotifSet = extractor.extract(&input)?;
    events(Event::Advance(f as u64));
    Ok(Extracted {
        motifs,
        act,
        engine: session.engine(),
        device: session.device(),
        inference_s,
        extraction_s: t_ex.elapsed().as_secs_f64(),
    })
}

/// The activation tensor as (n, filters, positions). `length_axis` is the
/// conv output's; an activation after an exporter's Squeeze or Transpose
/// (tf2onnx) may have its own, found as the one non-unit axis besides the
/// channels.
fn to_nfp(
    t: ndarray::ArrayD<f32>,
    f: usize,
    length_axis: usize,
    name: &str,
) -> Result<Array3<f32>> {
    let shape = t.shape().to_vec();
    let rank = shape.len();
    let fits = |ch: usize, la: usize| {
        ch != la
            && la < rank
            && shape[ch] == f
            && (1..rank).all(|ax| ax == ch || ax == la || shape[ax] == 1)
    };
    let pick =
        (1..rank).filter(|&ch| fits(ch, length_axis)).map(|ch| (ch, length_axis)).next().or_else(
            || {
                let found: Vec<(usize, usize)> = (1..rank)
                    .flat_map(|ch| (1..rank).map(move |la| (ch, la)))
                    .filter(|&(ch, la)| fits(ch, la) && (shape[la] != 1 || rank == 3))
                    .collect();
                match found.as_slice() {
                    [one] => Some(*one),
                    _ => None,
                }
            },
        );
    let Some((ch, length_axis)) = pick else {
        return Err(invalid(format!(
            "tensor `{name}` has shape {shape:?}: cannot tell its {f} channels and its positions apart"
        )));
    };
    let mut perm: Vec<usize> = vec![0, ch, length_axis];
    perm.extend((1..rank).filter(|&ax| ax != ch && ax != length_axis));
    let p = t.permuted_axes(perm);
    let (n, l) = (shape[0], shape[length_axis]);
    p.as_standard_layout()
        .to_shape((n, f, l))
        .map_err(|e| invalid(e.to_string()))?
        .into_dimensionality::<Ix3>()
        .map(|a| a.to_owned())
        .map_err(|e| invalid(e.to_string()))
}

/// One filter's motif in [`Summary`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FilterMotif {
    /// Filter id (`filter3`).
    pub filter: String,
    /// Sites aligned (0: the filter never fired; its motif is left out of
    /// filters.meme).
    pub nsites: Option<f64>,
    /// Width after trimming.
    pub width: usize,
    /// Consensus (most likely base per column).
    pub consensus: String,
}

/// `extract`'s result, summary.json.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Summary {
    /// The model, as messages name it.
    pub model: String,
    /// Conv layer.
    pub layer: usize,
    /// Where the sequences came from.
    pub sequences: String,
    /// Sequences used.
    pub n_sequences: usize,
    /// Every filter's motif.
    pub filters: Vec<FilterMotif>,
}

/// Whether a filter fired at all (a filter that never did has no sites and
/// a uniform matrix: nothing to write or match).
#[must_use]
pub fn is_active(m: &motif_core::motif::Motif) -> bool {
    m.nsites != Some(0.0)
}

/// Runs `extract`: filters.meme (active filters, named `layerL filterK`),
/// summary.json and run.json in `run`.
///
/// # Errors
/// As [`motifs_of_layer`], or if an output cannot be written.
pub fn run(config: &Config, run: &mut RunDir, events: &mut dyn FnMut(Event)) -> Result<Summary> {
    let model = config.load_model()?;
    layer_of(config.layer, &model)?;
    let settings = config.extractor_settings()?;
    let extractor = plugin::build::<dyn MotifExtractor>(&config.extractor, &settings)?;
    let seqs = sequences(config, &model)?;
    let mut e =
        motifs_of_layer(&model.model, config.layer, &seqs.x, &config.engine, &*extractor, events)?;
    for m in &mut e.motifs.motifs {
        m.name = Some(format!("layer{} {}", config.layer, m.id));
    }
    config.record_inputs(run)?;
    run.write("filters.meme", write_meme(&active_set(&e.motifs)).as_bytes())?;
    run.set_engine(&e.engine.to_string(), &e.device.to_string());
    run.set_seed(config.seed);
    run.set_config(config)?;
    run.plugin(
        "extractor",
        &config.extractor,
        plugin::find(&config.extractor)?.version,
        &settings,
    )?;
    run.time("inference", e.inference_s);
    run.time("extraction", e.extraction_s);
    Ok(Summary {
        model: model.name,
        layer: config.layer,
        sequences: seqs.source,
        n_sequences: seqs.x.shape()[0],
        filters: e
            .motifs
            .motifs
            .iter()
            .map(|m| FilterMotif {
                filter: m.id.clone(),
                nsites: m.nsites,
                width: m.len(),
                consensus: m.consensus(),
            })
            .collect(),
    })
}

/// The active filters' motifs.
#[must_use]
pub fn active_set(motifs: &MotifSet) -> MotifSet {
    MotifSet {
        motifs: motifs.motifs.iter().filter(|m| is_active(m)).cloned().collect(),
        background: motifs.background,
        has_background: motifs.has_background,
        warnings: Vec::new(),
    }
}
