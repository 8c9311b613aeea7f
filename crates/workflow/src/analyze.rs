//! `analyze`, the main job: a conv layer's filters → motifs → database
//! matches under the filter [`MatchPolicy`] → logos → an HTML report, in one
//! run folder. [`render`] draws the report from the typed [`Summary`] alone,
//! so `motiftool report` can redraw any run without recomputing.

use std::path::PathBuf;
use std::time::Instant;

use motif_core::motif::{MotifSet, write_meme};
use motif_core::plugin::{self, FILTER_MATCHES, MatchPolicy, MotifExtractor, QueryMatches};
use motif_core::rundir::RunDir;
use motif_report::{FilterRow, MatchRow, Report, file_stem, render_report};
use ndarray::{Array3, Axis};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::extract::{self, Extracted, LoadedModel};
use crate::{Event, Result, invalid};

/// Settings of `analyze`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct Config {
    /// Model, sequences, layer, extractor and engine (the `[extract]` table).
    pub extract: extract::Config,
    /// Motif database (any motif format); default the bundled JASPAR 2024
    /// CORE vertebrates non-redundant set.
    pub db: Option<PathBuf>,
}

/// One database match of a filter, with the target's matrix for its logo.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FilterMatch {
    /// Target id.
    pub target: String,
    /// Target name (e.g. the TF).
    pub name: Option<String>,
    /// `+`, or `-` when the target was reverse-complemented.
    pub orientation: char,
    /// Target column = filter column + offset (on the target's strand).
    pub offset: i32,
    /// Aligned columns.
    pub overlap: usize,
    /// p-value.
    #[serde(rename = "p")]
    pub p_value: f64,
    /// E-value.
    #[serde(rename = "E")]
    pub e_value: f64,
    /// q-value.
    #[serde(rename = "q")]
    pub q_value: f64,
    /// The target's probabilities, one `[A, C, G, T]` per column (forward).
    pub columns: Vec<[f64; 4]>,
}

/// One filter's result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Filter {
    /// Filter id (`filter3`).
    pub filter: String,
    /// Importance (see [`Summary::importance_label`]).
    pub importance: f64,
    /// Sites aligned; 0 when the filter never fired.
    pub nsites: Option<f64>,
    /// Motif width.
    pub width: usize,
    /// Whether the filter fired (inactive filters are not matched).
    pub active: bool,
    /// Consensus.
    pub consensus: String,
    /// The motif's probabilities, one `[A, C, G, T]` per column.
    pub columns: Vec<[f64; 4]>,
    /// The three best targets, best first (each target's better strand).
    pub matches: Vec<FilterMatch>,
}

impl Filter {
    /// The best match, when it is one under `policy`.
    #[must_use]
    pub fn called(&self, policy: &MatchPolicy) -> Option<&FilterMatch> {
        self.matches.first().filter(|m| policy.calls(m.e_value))
    }
}

/// `analyze`'s result: summary.json, and all the report needs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Summary {
    /// The model, as messages name it.
    pub model: String,
    /// Its structure (`motiftool inspect`'s text).
    pub model_summary: String,
    /// Engine that ran.
    pub engine: String,
    /// Device.
    pub device: String,
    /// Where the sequences came from.
    pub sequences: String,
    /// Sequences used.
    pub n_sequences: usize,
    /// Their length.
    pub length: usize,
    /// Conv layer.
    pub layer: usize,
    /// Its receptive field (bp).
    pub receptive_field: usize,
    /// Extractor plugin.
    pub extractor: String,
    /// Its config as run.
    pub extractor_config: serde_json::Value,
    /// The database, as messages name it.
    pub database: String,
    /// Motifs the matcher kept from it.
    pub database_motifs: usize,
    /// When a filter's best hit counts as a match.
    pub policy: MatchPolicy,
    /// What the importance values are.
    pub importance_label: String,
    /// Every filter, in model order.
    pub filters: Vec<Filter>,
}

impl Summary {
    /// Filters whose best hit is a match under the policy.
    #[must_use]
    pub fn matched(&self) -> usize {
        self.filters.iter().filter(|f| f.called(&self.policy).is_some()).count()
    }
}

/// Runs `analyze` into `run`: filters.meme, tomtom.tsv, logos/, report.html;
/// summary.json and run.json when the caller finishes `run`.
///
/// # Errors
/// If the model, sequences or database cannot be read or do not fit, or an
/// output cannot be written.
pub fn run(config: &Config, run: &mut RunDir, events: &mut dyn FnMut(Event)) -> Result<Summary> {
    let xc = &config.extract;
    let model = xc.load_model()?;
    let layer = extract::layer_of(xc.layer, &model)?.clone();
    let settings = xc.extractor_settings()?;
    let extractor = plugin::build::<dyn MotifExtractor>(&xc.extractor, &settings)?;
    let seqs = extract::sequences(xc, &model)?;
    let Extracted { mut motifs, act, engine, device, inference_s, extraction_s } =
        extract::motifs_of_layer(&model.model, xc.layer, &seqs.x, &xc.engine, &*extractor, events)?;
    let (importance, importance_label) = importance(&model, xc.layer, &act)?;

    events(Event::Stage { name: "matching", total: None });
    let t_m = Instant::now();
    let (db_set, db_name) = crate::database::load(config.db.as_deref())?;
    for m in &mut motifs.motifs {
        m.name = Some(format!("layer{} {}", xc.layer, m.id));
    }
    let matched = extract::active_set(&motifs);
    let matcher = FILTER_MATCHES.matcher()?;
    let mut prepared = matcher.prepare(&db_set, matched.background)?;
    for w in prepared.warnings() {
        events(Event::Warning(format!("{db_name}: {w}")));
    }
    let found = prepared.compare(&matched.motifs)?;
    let matching = t_m.elapsed().as_secs_f64();

    events(Event::Stage { name: "rendering", total: None });
    let t_r = Instant::now();
    run.set_config(config)?;
    xc.record_inputs(run)?;
    if let Some(p) = &config.db {
        run.input("database", p)?;
    }
    run.write("filters.meme", write_meme(&matched).as_bytes())?;
    let tsv = prepared.tsv(&found, &db_set, &format!("motiftool analyze {}", model.name));
    run.write("tomtom.tsv", tsv.as_bytes())?;
    let mut found = found.into_iter();
    let mut filters = Vec::new();
    for (k, m) in motifs.motifs.iter().enumerate() {
        let active = extract::is_active(m);
        let hits = if active { found.next() } else { None };
        filters.push(Filter {
            filter: m.id.clone(),
            importance: importance[k],
            nsites: m.nsites,
            width: m.len(),
            active,
            consensus: m.consensus(),
            columns: m.columns(),
            matches: hits.map(|h| top_matches(&h, &db_set, 3)).unwrap_or_default(),
        });
    }
    let st = model.model.structure();
    let summary = Summary {
        model_summary: st.summary(&model.name, model.model.has_external_data()),
        model: model.name,
        engine: engine.to_string(),
        device: device.to_string(),
        sequences: seqs.source,
        n_sequences: seqs.x.shape()[0],
        length: seqs.x.shape()[2],
        layer: xc.layer,
        receptive_field: layer.receptive_field,
        extractor: xc.extractor.clone(),
        extractor_config: settings.clone(),
        database: db_name,
        database_motifs: prepared.len(),
        policy: FILTER_MATCHES,
        importance_label,
        filters,
    };
    let logo = crate::figure("logo", &json!({"col-width": 16.0, "height": 60.0}))?;
    for f in &summary.filters {
        let svg = logo.render(&json!({"id": f.filter, "columns": f.columns}))?;
        run.write(&format!("logos/{}.svg", file_stem(&f.filter)), svg.as_bytes())?;
    }
    run.write("report.html", render(&summary)?.as_bytes())?;
    let rendering = t_r.elapsed().as_secs_f64();

    run.set_engine(&summary.engine, &summary.device);
    run.set_seed(xc.seed);
    run.plugin("extractor", &xc.extractor, plugin::find(&xc.extractor)?.version, &settings)?;
    run.set_match_policy(&FILTER_MATCHES)?;
    for (stage, secs) in [
        ("inference", inference_s),
        ("extraction", extraction_s),
        ("matching", matching),
        ("rendering", rendering),
    ] {
        run.time(stage, secs);
    }
    Ok(summary)
}

/// The best `n` targets of one filter (each target's better strand).
fn top_matches(q: &QueryMatches, db: &MotifSet, n: usize) -> Vec<FilterMatch> {
    q.best_per_target()
        .take(n)
        .map(|h| {
            let t = &db.motifs[h.target];
            FilterMatch {
                target: t.id.clone(),
                name: t.name.clone(),
                orientation: if h.reverse { '-' } else { '+' },
                offset: h.offset,
                overlap: h.overlap,
                p_value: h.p_value,
                e_value: h.e_value,
                q_value: h.q_value,
                columns: t.columns(),
            }
        })
        .collect()
}

/// Each filter's importance: |dense weight| × the mean per-sequence maximum
/// activation when a dense layer reads this (last) conv layer, else the mean
/// per-sequence maximum; and what it is, in words.
fn importance(model: &LoadedModel, layer: usize, act: &Array3<f32>) -> Result<(Vec<f64>, String)> {
    let st = model.model.structure();
    let f = act.shape()[1];
    let mean_max: Vec<f64> = (0..f)
        .map(|k| {
            let fa = act.index_axis(Axis(1), k);
            fa.outer_iter()
                .map(|r| f64::from(r.iter().copied().fold(f32::NEG_INFINITY, f32::max)))
                .sum::<f64>()
                / act.shape()[0] as f64
        })
        .collect();
    let dense = st.dense.first().filter(|d| d.in_features == f && layer + 1 == st.convs.len());
    let Some(d) = dense else {
        return Ok((
            mean_max,
            "mean per-sequence maximum activation (no dense layer right after this conv layer)"
                .into(),
        ));
    };
    // Σ over outputs of |w| per filter; (out, in) with transB, else (in, out)
    let dw = model.model.weights(&d.weight)?;
    let (shape, axis) =
        if d.transposed { ((d.out_features, f), Axis(0)) } else { ((f, d.out_features), Axis(1)) };
    let wsum = dw
        .to_shape(shape)
        .map_err(|e| invalid(format!("dense weight `{}`: {e}", d.weight)))?
        .mapv(|v| f64::from(v).abs())
        .sum_axis(axis);
    Ok((
        wsum.iter().zip(&mean_max).map(|(w, m)| w * m).collect(),
        "|dense weight| × mean per-sequence maximum activation".into(),
    ))
}

/// The report, from the summary alone.
///
/// # Errors
/// If a stored matrix is not a probability matrix (a hand-edited summary).
pub fn render(s: &Summary) -> Result<String> {
    let logo = crate::figure("logo", &json!({"col-width": 16.0, "height": 60.0}))?;
    let aligned = crate::figure("aligned-logos", &json!({"col-width": 14.0, "height": 50.0}))?;
    let mut rows = Vec::new();
    for f in &s.filters {
        let mut matches = Vec::new();
        for x in &f.matches {
            matches.push(MatchRow {
                target: x.target.clone(),
                name: x.name.clone(),
                orientation: x.orientation,
                offset: x.offset,
                overlap: x.overlap,
                p_value: x.p_value,
                e_value: x.e_value,
                q_value: x.q_value,
                aligned_svg: aligned.render(&json!({
                    "query_id": f.filter, "query": f.columns,
                    "target_id": x.target, "target": x.columns,
                    "offset": x.offset, "reverse": x.orientation == '-',
                }))?,
            });
        }
        let draw = |rc: bool| logo.render(&json!({"id": f.filter, "columns": f.columns, "rc": rc}));
        rows.push(FilterRow {
            id: f.filter.clone(),
            logo_svg: draw(false)?,
            logo_rc_svg: draw(true)?,
            called: f.called(&s.policy).is_some(),
            importance: f.importance,
            nsites: f.nsites,
            matches,
        });
    }
    let mut order: Vec<usize> = (0..rows.len()).collect();
    order.sort_by(|&i, &j| s.filters[j].importance.total_cmp(&s.filters[i].importance));
    let rows: Vec<FilterRow> = order.iter().map(|&i| rows[i].clone()).collect();
    let file = s.model.rsplit(['/', '\\']).next().unwrap_or(&s.model);
    let report = Report {
        title: format!("motiftool analyze: {file}"),
        policy: format!("{}, E < {}", s.policy.describe(), s.policy.max_evalue),
        facts: vec![
            ("model".into(), s.model.clone()),
            ("engine".into(), format!("{} ({})", s.engine, s.device)),
            ("sequences".into(), format!("{}: {} × {} bp", s.sequences, s.n_sequences, s.length)),
            (
                "layer".into(),
                format!(
                    "conv {} ({} filters, receptive field {} bp)",
                    s.layer,
                    s.filters.len(),
                    s.receptive_field
                ),
            ),
            ("extractor".into(), format!("{} {}", s.extractor, s.extractor_config)),
            (
                "database".into(),
                format!(
                    "{} ({} motifs); tomtom statistics, {}",
                    s.database,
                    s.database_motifs,
                    s.policy.describe()
                ),
            ),
        ],
        model_summary: s.model_summary.clone(),
        importance_label: s.importance_label.clone(),
        filters: rows,
    };
    Ok(render_report(&report))
}
