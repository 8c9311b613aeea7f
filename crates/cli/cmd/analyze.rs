//! `motiftool analyze`: filters → motifs → database matches → logos → an
//! HTML report, in one output folder.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use clap::Args;
use motif_core::motif::{MotifSet, write_meme};
use motif_core::plugin::{ExtractInput, MotifExtractor};
use motif_report::{FilterRow, LogoOptions, MatchRow, Report, logo_svg, render_report};
use motif_tomtom::{
    Database, FILTER_MATCHES, MemeRng, TSV_HEADER, compare_with, tsv_footer, tsv_rows,
};
use ndarray::{Array3, Axis, Ix3};
use serde_json::json;

use motif_core::rundir::RunDir;

use super::logo::file_stem;
use crate::EngineArgs;

/// Arguments of `analyze`.
#[derive(Debug, Args)]
pub struct AnalyzeArgs {
    /// The model (ONNX). Default: the bundled example, a DeepBind-style model
    /// whose 8 kernels are JASPAR matrices (CTCF, REST, TBP, NRF1, SRF, TP53,
    /// HNF1A, GATA1) as log-odds, so its report shows what a correct one looks like.
    pub model: Option<PathBuf>,
    /// Sequences (FASTA, DeepBind .seq, TSV; gzip ok), all one length.
    /// Default: --n uniform random sequences of the model's input length
    /// (--len when the model takes any length), seeded by --seed.
    #[arg(long)]
    pub seqs: Option<PathBuf>,
    #[command(flatten)]
    pub columns: crate::ColumnArgs,
    #[command(flatten)]
    pub genome: crate::GenomeArgs,
    /// Motif database. Default: the bundled JASPAR 2024 CORE vertebrates set.
    #[arg(long)]
    pub db: Option<PathBuf>,
    /// Conv layer (0 = first).
    #[arg(long, default_value_t = 0)]
    pub layer: usize,
    /// Output folder.
    #[arg(short = 'o', long = "out", default_value = "motiftool-analyze")]
    pub out: PathBuf,
    /// Extractor plugin (`motiftool plugins --kind extractor`).
    #[arg(long, default_value = "activation-alignment")]
    pub extractor: String,
    /// Extractor config, `key=value` (repeatable), e.g. `threshold=0.7`.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,
    /// Random sequences when no --seqs; at most this many from --seqs.
    #[arg(long)]
    pub n: Option<usize>,
    /// Length of random sequences for a model that takes any length.
    #[arg(long, default_value_t = 101)]
    pub len: usize,
    /// Seed of the random sequences.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    #[command(flatten)]
    pub engine: EngineArgs,
}

/// The bundled example model (written by `examples/planted_model.rs`).
pub const EXAMPLE_MODEL: &[u8] = include_bytes!("../../../data/models/planted_jaspar.onnx");
/// How the bundled example model is named in messages and the report.
pub const EXAMPLE_MODEL_NAME: &str = "planted_jaspar.onnx";

/// Runs `analyze`.
#[allow(clippy::too_many_lines)]
pub fn run(a: &AnalyzeArgs) -> Result<()> {
    let t0 = Instant::now();
    let (model, model_path) = match &a.model {
        Some(p) => (super::load_model(p)?, p.clone()),
        None => (
            motif_onnx::Model::from_bytes(EXAMPLE_MODEL, Path::new(EXAMPLE_MODEL_NAME))?,
            PathBuf::from(format!("bundled {EXAMPLE_MODEL_NAME}")),
        ),
    };
    let model_name = model_path.display().to_string();
    let st = model.structure();
    if st.convs.is_empty() {
        bail!("{model_name}: no conv layer found; analyze extracts motifs from conv filters");
    }
    let Some(layer) = st.convs.get(a.layer) else {
        bail!(
            "{model_name}: --layer {} is out of range (the model has {} conv layers, 0..={})",
            a.layer,
            st.convs.len(),
            st.convs.len() - 1
        );
    };
    // extractor
    let info = motif_core::plugin::find(&a.extractor)?;
    let mut cfg = info.default_config.clone();
    if cfg.get("trim").is_some() {
        cfg["trim"]["enabled"] = json!(true);
    }
    for s in &a.set {
        motif_core::plugin::apply_set(&mut cfg, s)?;
    }
    let extractor = motif_core::plugin::build::<dyn MotifExtractor>(&a.extractor, &cfg)?;

    // sequences, one-hot
    let seq_len = st.input.length;
    let (x, source) = if a.seqs.is_some() || a.genome.bed.is_some() {
        let (recs, p) = a.columns.records(&a.genome, a.seqs.as_deref(), None)?;
        let mut v = Vec::new();
        for r in recs {
            v.push(r?.seq);
            if a.n.is_some_and(|n| v.len() >= n) {
                break;
            }
        }
        let Some(first) = v.first() else {
            bail!("{}: no sequences", p.display());
        };
        let len = first.len();
        if let Some(bad) = v.iter().find(|s| s.len() != len) {
            bail!("analyze needs sequences of one length: found {len} and {} bp", bad.len());
        }
        let x = motif_core::onehot::one_hot_batch(&v).map_err(|(i, j, b)| {
            anyhow::anyhow!("sequence {}: letter `{}` at position {}", i + 1, char::from(b), j + 1)
        })?;
        (x, p.display().to_string())
    } else {
        let (n, len) = (a.n.unwrap_or(1000), seq_len.unwrap_or(a.len));
        let x = super::random_onehot(n, len, a.seed);
        (x, format!("{n} uniform random sequences of {len} bp (seed {})", a.seed))
    };
    let (nseq, len) = (x.shape()[0], x.shape()[2]);
    if let Some(l) = seq_len.filter(|&l| l != len) {
        bail!("the model takes {l} bp sequences; these are {len} bp");
    }
    if len < layer.receptive_field {
        bail!(
            "sequences are {len} bp, shorter than conv layer {}'s receptive field ({} bp)",
            a.layer,
            layer.receptive_field
        );
    }

    let Extracted { mut motifs, act, engine, device, inference_s, extraction_s } =
        extract_layer(&model, a.layer, &x, &a.engine, &*extractor)?;
    let f = layer.out_channels;

    // importance: dense weight × mean of the per-sequence maximum
    let mean_max: Vec<f64> = (0..f)
        .map(|k| {
            let fa = act.index_axis(Axis(1), k);
            fa.outer_iter()
                .map(|r| f64::from(r.iter().copied().fold(f32::NEG_INFINITY, f32::max)))
                .sum::<f64>()
                / act.shape()[0] as f64
        })
        .collect();
    let dense = st.dense.first().filter(|d| d.in_features == f && a.layer + 1 == st.convs.len());
    let (importance, importance_label) = if let Some(d) = dense {
        // Σ over outputs of |w| per filter; (out, in) with transB, else (in, out)
        let dw = model.weights(&d.weight)?;
        let (shape, axis) = if d.transposed {
            ((d.out_features, f), Axis(0))
        } else {
            ((f, d.out_features), Axis(1))
        };
        let wsum = dw
            .to_shape(shape)
            .with_context(|| format!("dense weight `{}`", d.weight))?
            .mapv(|v| f64::from(v).abs())
            .sum_axis(axis);
        (
            wsum.iter().zip(&mean_max).map(|(w, m)| w * m).collect::<Vec<_>>(),
            "|dense weight| × mean per-sequence maximum activation".to_string(),
        )
    } else {
        (
            mean_max,
            "mean per-sequence maximum activation (no dense layer right after this conv layer)"
                .to_string(),
        )
    };

    // matching
    let t_m = Instant::now();
    let (db_set, db_name) = super::matching::database(a.db.as_deref())?;
    let mcfg = FILTER_MATCHES.config();
    // A filter that never fired has no sites and a uniform matrix: nothing to match.
    let active: Vec<bool> = motifs.motifs.iter().map(|m| m.nsites != Some(0.0)).collect();
    for m in &mut motifs.motifs {
        m.name = Some(format!("layer{} {}", a.layer, m.id));
    }
    let matched = MotifSet {
        motifs: motifs
            .motifs
            .iter()
            .zip(&active)
            .filter(|(_, a)| **a)
            .map(|(m, _)| m.clone())
            .collect(),
        background: motifs.background,
        has_background: motifs.has_background,
        warnings: Vec::new(),
    };
    let db = Database::new(&db_set, mcfg.background_for(&matched), &mcfg)?;
    let mut found = compare_with(&db, &matched.motifs, &mut MemeRng::new())?.into_iter();
    let results: Vec<_> = active.iter().map(|&a| if a { found.next() } else { None }).collect();
    let matching_s = t_m.elapsed().as_secs_f64();

    // outputs
    let t_r = Instant::now();
    let mut run = RunDir::create(&a.out, "analyze")?.started_at(t0);
    match &a.model {
        Some(p) => {
            run.input("model", p)?;
        }
        None => run.input_bytes("model", &model_name, EXAMPLE_MODEL),
    }
    let files = [
        ("sequences", &a.seqs),
        ("database", &a.db),
        ("peaks", &a.genome.bed),
        ("genome", &a.genome.genome),
    ];
    for (role, p) in files {
        if let Some(p) = p {
            run.input(role, p)?;
        }
    }
    run.write("filters.meme", write_meme(&matched).as_bytes())?;
    let mut tsv = String::from(TSV_HEADER);
    for r in results.iter().flatten() {
        tsv.push_str(&tsv_rows(&db, r, &mcfg));
    }
    tsv.push_str(&tsv_footer(&format!("motiftool analyze {model_name}")));
    run.write("tomtom.tsv", tsv.as_bytes())?;
    let small = LogoOptions { col_width: 14.0, height: 50.0, ..Default::default() };
    let mut rows = Vec::new();
    let mut summary = Vec::new();
    for (k, (m, r)) in motifs.motifs.iter().zip(&results).enumerate() {
        let svg = logo_svg(m, &LogoOptions { col_width: 16.0, height: 60.0, ..Default::default() });
        run.write(&format!("logos/{}.svg", file_stem(&m.id)), svg.as_bytes())?;
        // the three best targets in tomtom's order (its better strand)
        let mut seen = std::collections::HashSet::new();
        let mut matches = Vec::new();
        let hits = r.as_ref().map_or(&[][..], |r| &r.scored.hits[..]);
        for h in hits.iter().filter(|h| seen.insert(h.target)).take(3) {
            let t = &db.targets[h.target];
            let tm = &db_set.motifs[t.index];
            // columns: the query starts at max(0, −offset), the target at max(0, offset)
            let (ql, tl) = (h.offset.min(0).unsigned_abs() as usize, h.offset.max(0) as usize);
            let cols = (ql + m.len()).max(tl + tm.len());
            let q_svg =
                logo_svg(m, &LogoOptions { lead: tl, columns: Some(cols), ..small.clone() });
            let t_svg = logo_svg(
                tm,
                &LogoOptions { lead: ql, columns: Some(cols), rc: h.reverse, ..small.clone() },
            );
            matches.push(MatchRow {
                target: t.id.clone(),
                name: tm.name.clone(),
                orientation: if h.reverse { '-' } else { '+' },
                offset: h.offset,
                overlap: h.overlap,
                p_value: h.p_value,
                e_value: h.e_value,
                q_value: h.q_value,
                query_svg: q_svg,
                target_svg: t_svg,
            });
        }
        summary.push(json!({
            "filter": m.id, "importance": importance[k], "nsites": m.nsites, "width": m.len(), "active": active[k],
            "consensus": m.consensus(),
            "matches": matches.iter().map(|x| json!({"target": x.target, "name": x.name, "orientation": x.orientation.to_string(),
                "offset": x.offset, "overlap": x.overlap, "p": x.p_value, "E": x.e_value, "q": x.q_value})).collect::<Vec<_>>(),
        }));
        rows.push(FilterRow {
            id: m.id.clone(),
            logo_svg: svg,
            importance: importance[k],
            nsites: m.nsites,
            matches,
        });
    }
    let mut order: Vec<usize> = (0..rows.len()).collect();
    order.sort_by(|&i, &j| importance[j].total_cmp(&importance[i]));
    let rows: Vec<FilterRow> = order.iter().map(|&i| rows[i].clone()).collect();
    let report = Report {
        title: format!(
            "motiftool analyze: {}",
            model_path.file_name().map_or(String::new(), |n| n.to_string_lossy().into_owned())
        ),
        facts: vec![
            ("model".into(), model_name.clone()),
            ("engine".into(), format!("{engine} ({device})")),
            ("sequences".into(), format!("{source}: {nseq} × {len} bp")),
            (
                "layer".into(),
                format!(
                    "conv {} ({} filters, receptive field {} bp)",
                    a.layer, f, layer.receptive_field
                ),
            ),
            ("extractor".into(), format!("{} {}", a.extractor, cfg)),
            (
                "database".into(),
                format!(
                    "{db_name} ({} motifs); tomtom statistics, {}",
                    db.targets.len(),
                    FILTER_MATCHES.describe()
                ),
            ),
        ],
        model_summary: super::inspect::render(st, &model_name, model.has_external_data()),
        importance_label,
        filters: rows,
    };
    run.write("report.html", render_report(&report).as_bytes())?;
    let rendering_s = t_r.elapsed().as_secs_f64();
    run.set_engine(&engine.to_string(), &device.to_string());
    run.set_seed(a.seed);
    run.plugin("extractor", &a.extractor, info.version, &cfg)?;
    run.plugin("matcher", "tomtom", env!("CARGO_PKG_VERSION"), &mcfg)?;
    run.set_match_policy(&FILTER_MATCHES)?;
    for (stage, secs) in [
        ("inference", inference_s),
        ("extraction", extraction_s),
        ("matching", matching_s),
        ("rendering", rendering_s),
    ] {
        run.time(stage, secs);
    }
    run.finish(&summary)?;
    eprintln!(
        "motiftool: {} filters → {} (report.html); inference {inference_s:.2} s, extraction {extraction_s:.2} s, matching {matching_s:.2} s, rendering {rendering_s:.2} s",
        f,
        a.out.display()
    );
    Ok(())
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

/// Runs `model` on `x` for conv layer `layer`'s activations and turns its
/// filters into motifs with `extractor`.
pub fn extract_layer(
    model: &motif_onnx::Model,
    layer_index: usize,
    x: &Array3<f32>,
    engine: &EngineArgs,
    extractor: &dyn MotifExtractor,
) -> Result<Extracted> {
    let st = model.structure();
    let layer = &st.convs[layer_index];
    // activations
    let t_inf = Instant::now();
    let tensor = layer.activation_output.clone().unwrap_or_else(|| layer.conv_output.clone());
    let session = motif_engine::open(model, &engine.options(vec![tensor.clone()]))?;
    let f = layer.out_channels;
    let mut acts: Vec<Array3<f32>> = Vec::new();
    for chunk in x.axis_chunks_iter(Axis(0), engine.batch_size.max(1)) {
        let out = session.run(chunk)?.remove(0);
        acts.push(to_nfp(out, f, layer.length_axis, &tensor)?);
    }
    let views: Vec<_> = acts.iter().map(|v| v.view()).collect();
    let act = ndarray::concatenate(Axis(0), &views)?;
    let inference_s = t_inf.elapsed().as_secs_f64();

    // kernels and geometry
    let w = model.weights(&layer.weight)?;
    let kernels = w
        .to_shape((
            layer.out_channels,
            layer.in_channels,
            w.len() / (layer.out_channels * layer.in_channels),
        ))
        .context("kernel shape")?
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
    let extraction_s = t_ex.elapsed().as_secs_f64();
    Ok(Extracted {
        motifs,
        act,
        engine: session.engine(),
        device: session.device(),
        inference_s,
        extraction_s,
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
        bail!(
            "tensor `{name}` has shape {shape:?}: cannot tell its {f} channels and its positions apart"
        );
    };
    let mut perm: Vec<usize> = vec![0, ch, length_axis];
    perm.extend((1..rank).filter(|&ax| ax != ch && ax != length_axis));
    let p = t.permuted_axes(perm);
    let (n, l) = (shape[0], shape[length_axis]);
    Ok(p.as_standard_layout().to_shape((n, f, l))?.into_dimensionality::<Ix3>()?.to_owned())
}
