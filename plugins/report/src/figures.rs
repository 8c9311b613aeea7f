//! The report figures as `Figure` plugins: workflows draw through the
//! registry (`plugin::build::<dyn Figure>(name, style)` then
//! `render(data)`), so a plugin crate can add or replace a figure. Each
//! figure's style is its strict config; its data is a strict serde struct,
//! passed as JSON.

use motif_core::motif::Motif;
use motif_core::plugin::{Configured, Figure, Status};
use motif_core::{Error, Result};
use serde::{Deserialize, Serialize};

use crate::chart::{ChartOptions, Series, line_chart};
use crate::escape;
use crate::logo::{LogoOptions, logo_svg};

fn data<T: serde::de::DeserializeOwned>(figure: &str, data: &serde_json::Value) -> Result<T> {
    T::deserialize(data)
        .map_err(|e| Error::Config { plugin: figure.to_owned(), msg: e.to_string() })
}

/// Size and axis of a logo.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct LogoStyle {
    /// Pixels per column; default 24.
    pub col_width: f32,
    /// Pixels for 2 bits; default 100.
    pub height: f32,
    /// Draw the bits axis; default true.
    pub axis: bool,
}

impl Default for LogoStyle {
    fn default() -> Self {
        Self { col_width: 24.0, height: 100.0, axis: true }
    }
}

impl LogoStyle {
    fn options(self) -> LogoOptions {
        LogoOptions {
            col_width: self.col_width,
            height: self.height,
            axis: self.axis,
            ..Default::default()
        }
    }
}

/// What the `logo` figure draws.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogoData {
    /// The motif's id (the logo's title).
    #[serde(default)]
    pub id: String,
    /// Probabilities, one `[A, C, G, T]` per column.
    pub columns: Vec<[f64; 4]>,
    /// Draw the reverse complement.
    #[serde(default)]
    pub rc: bool,
}

/// `logo`: one information-content logo.
#[derive(Debug, Clone, Copy, Default)]
pub struct LogoFigure {
    style: LogoStyle,
}

impl Configured for LogoFigure {
    type Config = LogoStyle;

    fn from_config(style: LogoStyle) -> Result<Self> {
        if !(style.col_width > 0.0 && style.height > 0.0) {
            return Err(Error::Config {
                plugin: "logo".into(),
                msg: "col-width and height must be positive".into(),
            });
        }
        Ok(Self { style })
    }
}

impl Figure for LogoFigure {
    fn render(&self, d: &serde_json::Value) -> Result<String> {
        let d: LogoData = data("logo", d)?;
        Ok(logo_svg(
            &Motif::from_columns(d.id.as_str(), &d.columns)?,
            &LogoOptions { rc: d.rc, ..self.style.options() },
        ))
    }
}

motif_core::register_plugin!(Figure, LogoFigure, name: "logo",
    summary: "an information-content sequence logo (SVG)",
    status: Status::Stable("0.1.0"));

/// What the `aligned-logos` figure draws: a motif and a database match.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlignedData {
    /// The query's id (its logo's title).
    #[serde(default)]
    pub query_id: String,
    /// The query's columns.
    pub query: Vec<[f64; 4]>,
    /// The target's id.
    #[serde(default)]
    pub target_id: String,
    /// The target's columns (forward strand).
    pub target: Vec<[f64; 4]>,
    /// Target column = query column + offset (on the target's matched strand).
    pub offset: i32,
    /// The target matched on its reverse complement.
    pub reverse: bool,
}

/// `aligned-logos`: a query above a target, aligned as the matcher aligned
/// them.
#[derive(Debug, Clone, Copy, Default)]
pub struct AlignedLogos {
    style: LogoStyle,
}

impl Configured for AlignedLogos {
    type Config = LogoStyle;

    fn from_config(style: LogoStyle) -> Result<Self> {
        LogoFigure::from_config(style).map(|l| Self { style: l.style })
    }
}

impl Figure for AlignedLogos {
    fn render(&self, d: &serde_json::Value) -> Result<String> {
        let d: AlignedData = data("aligned-logos", d)?;
        let (q, t) = (
            Motif::from_columns(d.query_id.as_str(), &d.query)?,
            Motif::from_columns(d.target_id.as_str(), &d.target)?,
        );
        // columns: the query starts at max(0, −offset), the target at max(0, offset)
        let (ql, tl) = (d.offset.min(0).unsigned_abs() as usize, d.offset.max(0) as usize);
        let cols = (ql + q.len()).max(tl + t.len());
        let o = self.style.options();
        let q_svg = logo_svg(&q, &LogoOptions { lead: tl, columns: Some(cols), ..o.clone() });
        let t_svg =
            logo_svg(&t, &LogoOptions { lead: ql, columns: Some(cols), rc: d.reverse, ..o });
        Ok(format!("{q_svg}<br>{t_svg}"))
    }
}

motif_core::register_plugin!(Figure, AlignedLogos, name: "aligned-logos",
    summary: "a motif above its database match, aligned as matched (two SVG logos)",
    status: Status::Stable("0.1.0"));

/// What the `line-chart` figure draws.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChartData {
    /// The lines.
    pub series: Vec<Series>,
    /// Title and axes.
    pub options: ChartOptions,
}

/// `line-chart`: lines with optional bands, log2 or linear x (AUC against
/// kernel number, dense-weight trajectories).
#[derive(Debug, Clone, Copy, Default)]
pub struct LineChart;

/// `line-chart` takes no settings.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoSettings {}

impl Configured for LineChart {
    type Config = NoSettings;

    fn from_config(_: NoSettings) -> Result<Self> {
        Ok(Self)
    }
}

impl Figure for LineChart {
    fn render(&self, d: &serde_json::Value) -> Result<String> {
        let d: ChartData = data("line-chart", d)?;
        Ok(line_chart(&d.series, &d.options))
    }
}

motif_core::register_plugin!(Figure, LineChart, name: "line-chart",
    summary: "a line chart with optional bands and a log2 x axis (SVG)",
    status: Status::Stable("0.1.0"));

/// One variant's test AUC at each kernel number: (kernels, mean, min, max)
/// over seeds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AucLine {
    /// The variant (`deepprune`, `inter`, `lottery`, `baseline` …).
    pub variant: String,
    /// Drawn dashed (a model before fine-tuning).
    #[serde(default)]
    pub dashed: bool,
    /// (kernels, mean, min, max).
    pub points: Vec<(f64, f64, f64, f64)>,
}

/// What the `auc-curve` figure draws.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AucData {
    /// Seeds the means are over (a band min–max when more than one).
    pub seeds: usize,
    /// One line per variant.
    pub lines: Vec<AucLine>,
}

/// `auc-curve`: Deepprune's test AUC against kernel number, one line per
/// variant (log2 x, kernels shrinking to the right).
#[derive(Debug, Clone, Copy, Default)]
pub struct AucCurve;

impl Configured for AucCurve {
    type Config = NoSettings;

    fn from_config(_: NoSettings) -> Result<Self> {
        Ok(Self)
    }
}

impl Figure for AucCurve {
    fn render(&self, d: &serde_json::Value) -> Result<String> {
        let d: AucData = data("auc-curve", d)?;
        let bands = d.seeds > 1;
        let series: Vec<Series> = d
            .lines
            .iter()
            .enumerate()
            .map(|(i, l)| Series {
                label: l.variant.clone(),
                colour: crate::chart::palette(i).into(),
                points: l.points.iter().map(|p| (p.0, p.1)).collect(),
                band: if bands {
                    l.points.iter().map(|p| (p.0, p.2, p.3)).collect()
                } else {
                    vec![]
                },
                dashed: l.dashed,
            })
            .collect();
        let options = ChartOptions {
            title: "Test AUC against kernel number".into(),
            x_label: "kernels (log2 scale)".into(),
            y_label: if bands {
                "test ROC AUC (mean; band: min–max over seeds)".into()
            } else {
                "test ROC AUC".into()
            },
            log2_x: true,
            reverse_x: true,
            ..Default::default()
        };
        Ok(line_chart(&series, &options))
    }
}

motif_core::register_plugin!(Figure, AucCurve, name: "auc-curve",
    summary: "test AUC against kernel number, one line per pruning variant (SVG)",
    status: Status::Stable("0.1.0"));

/// One surviving kernel's dense weight at each kernel number.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KernelWeights {
    /// The kernel's index in the unpruned model.
    pub kernel: usize,
    /// (kernels in the model, the kernel's dense weight).
    pub points: Vec<(f64, f64)>,
}

/// What the `weight-trajectories` figure draws.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WeightData {
    /// The run's seed (in the title).
    pub seed: u64,
    /// One line per surviving kernel.
    pub kernels: Vec<KernelWeights>,
}

/// `weight-trajectories`: the surviving kernels' dense weights across
/// Deepprune's steps.
#[derive(Debug, Clone, Copy, Default)]
pub struct WeightTrajectories;

impl Configured for WeightTrajectories {
    type Config = NoSettings;

    fn from_config(_: NoSettings) -> Result<Self> {
        Ok(Self)
    }
}

impl Figure for WeightTrajectories {
    fn render(&self, d: &serde_json::Value) -> Result<String> {
        let d: WeightData = data("weight-trajectories", d)?;
        let series: Vec<Series> = d
            .kernels
            .iter()
            .enumerate()
            .map(|(i, k)| Series {
                label: format!("kernel {}", k.kernel),
                colour: crate::chart::palette(i).into(),
                points: k.points.clone(),
                ..Default::default()
            })
            .collect();
        let options = ChartOptions {
            title: format!("Dense weights of the surviving kernels (seed {})", d.seed),
            x_label: "kernels (log2 scale)".into(),
            y_label: "dense weight (first output)".into(),
            log2_x: true,
            reverse_x: true,
            ..Default::default()
        };
        Ok(line_chart(&series, &options))
    }
}

motif_core::register_plugin!(Figure, WeightTrajectories, name: "weight-trajectories",
    summary: "the surviving kernels' dense weights across pruning steps (SVG)",
    status: Status::Stable("0.1.0"));

/// A dictionary motif the `syntax-tree` figure draws at a leaf.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DictEntry {
    /// The motif's id (the logo's title).
    pub id: String,
    /// Probabilities, one `[A, C, G, T]` per column.
    pub columns: Vec<[f64; 4]>,
}

/// The pair of dictionary motifs at a junction of the tree (NeuronMotif's
/// gap statistics; other keys are ignored).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TreePair {
    /// Left entry (0-based).
    pub left: usize,
    /// Right entry.
    pub right: usize,
    /// CRMs contributing.
    pub n: usize,
    /// Smallest gap between the two motifs' informative cores.
    #[serde(default)]
    pub core_gap_min: i64,
    /// Largest core gap.
    #[serde(default)]
    pub core_gap_max: i64,
}

/// A node of the syntax tree: a dictionary motif, or two sub-trees and the
/// gap between them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum TreeNode {
    /// A dictionary motif.
    Motif {
        /// Entry (0-based).
        motif: usize,
    },
    /// Two adjacent sub-trees.
    Join {
        /// The gap label.
        gap: String,
        /// The pair at the junction.
        pair: TreePair,
        /// Left sub-tree.
        left: Box<TreeNode>,
        /// Right sub-tree.
        right: Box<TreeNode>,
    },
}

impl TreeNode {
    fn motifs(&self) -> Vec<usize> {
        match self {
            Self::Motif { motif } => vec![*motif],
            Self::Join { left, right, .. } => {
                let mut v = left.motifs();
                v.extend(right.motifs());
                v
            }
        }
    }
}

/// Where a sub-tree's motifs occur together in a lower layer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TreeOccurrence {
    /// The sub-tree's entries, left to right.
    pub motifs: Vec<usize>,
    /// The layer.
    pub layer: usize,
    /// The first such neuron of that layer.
    pub neuron: usize,
}

/// The gap between the database motifs two entries match.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TreeDatabaseGap {
    /// Left entry.
    pub left: usize,
    /// Right entry.
    pub right: usize,
    /// The left entry's database motif.
    pub left_motif: String,
    /// The right entry's database motif.
    pub right_motif: String,
    /// Smallest gap (bp).
    pub min: i64,
    /// Largest gap.
    pub max: i64,
}

/// What the `syntax-tree` figure draws: one syntax group.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SyntaxTreeData {
    /// The tree.
    pub tree: TreeNode,
    /// The neuron's dictionary.
    pub dictionary: Vec<DictEntry>,
    /// Sub-trees found in lower layers.
    #[serde(default)]
    pub occurs: Vec<TreeOccurrence>,
    /// Gaps between matched database motifs.
    #[serde(default)]
    pub database_gaps: Vec<TreeDatabaseGap>,
}

/// `syntax-tree`: a NeuronMotif syntax tree as nested HTML boxes, each
/// leaf a dictionary logo, each junction its gap label and statistics.
#[derive(Debug, Clone, Copy, Default)]
pub struct SyntaxTree;

impl Configured for SyntaxTree {
    type Config = NoSettings;

    fn from_config(_: NoSettings) -> Result<Self> {
        Ok(Self)
    }
}

/// "N bp" or "a~b bp".
#[must_use]
pub fn bp_range(a: i64, b: i64) -> String {
    if a == b { format!("{a} bp") } else { format!("{a}~{b} bp") }
}

/// A dictionary motif's logo at a leaf (width fitted to the page).
fn leaf_logo(e: &DictEntry) -> Result<String> {
    let m = Motif::from_columns(e.id.as_str(), &e.columns)?;
    let col_width = (560.0 / m.len().max(1) as f32).clamp(6.0, 14.0);
    let style = LogoStyle { col_width, height: 56.0, ..LogoStyle::default() };
    Ok(logo_svg(&m, &style.options()))
}

impl SyntaxTree {
    fn node(d: &SyntaxTreeData, n: &TreeNode) -> Result<String> {
        let occurs = |n: &TreeNode| {
            let ms = n.motifs();
            d.occurs
                .iter()
                .find(|o| o.motifs == ms)
                .map(|o| {
                    format!(
                        "<div class=\"occ\">occurs in layer {} (neuron {})</div>",
                        o.layer, o.neuron
                    )
                })
                .unwrap_or_default()
        };
        match n {
            TreeNode::Motif { motif } => Ok(format!(
                "<div class=\"leaf\"><b>D{}</b>{}{}</div>",
                motif + 1,
                d.dictionary.get(*motif).map(leaf_logo).transpose()?.unwrap_or_default(),
                occurs(n)
            )),
            TreeNode::Join { gap, left, right, pair } => {
                let db = d
                    .database_gaps
                    .iter()
                    .find(|g| g.left == pair.left && g.right == pair.right)
                    .map(|g| {
                        format!(
                            "<br>{} between {} and {}",
                            bp_range(g.min, g.max),
                            escape(&g.left_motif),
                            escape(&g.right_motif)
                        )
                    })
                    .unwrap_or_default();
                Ok(format!(
                    "<div class=\"join\"><div class=\"gap\">{} <small>(D{}→D{}, {} CRMs; {} between the informative cores{})</small>{}</div><div class=\"kids\">{}{}</div></div>",
                    escape(gap),
                    pair.left + 1,
                    pair.right + 1,
                    pair.n,
                    bp_range(pair.core_gap_min, pair.core_gap_max),
                    db,
                    occurs(n),
                    Self::node(d, left)?,
                    Self::node(d, right)?
                ))
            }
        }
    }
}

impl Figure for SyntaxTree {
    fn render(&self, d: &serde_json::Value) -> Result<String> {
        let d: SyntaxTreeData = data("syntax-tree", d)?;
        Self::node(&d, &d.tree)
    }
}

motif_core::register_plugin!(Figure, SyntaxTree, name: "syntax-tree",
    summary: "a NeuronMotif syntax tree: dictionary logos joined by their gaps (HTML with SVG logos)",
    status: Status::Stable("0.1.0"));

/// One CRM the `crm-logos` figure draws.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CrmEntry {
    /// Its id (the logo's title).
    pub id: String,
    /// Its index within the neuron.
    pub index: usize,
    /// The largest activation of its samples (the order, strongest first).
    pub max_act: f32,
    /// Probabilities, one `[A, C, G, T]` per column.
    pub columns: Vec<[f64; 4]>,
}

/// What the `crm-logos` figure draws: one neuron's CRMs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CrmLogosData {
    /// The CRMs, in the neuron's order.
    pub crms: Vec<CrmEntry>,
    /// At most this many logos (the strongest).
    pub limit: usize,
}

/// `crm-logos`: a neuron's CRMs as a row of small logos, strongest first,
/// with their count (NeuronMotif's layer index).
#[derive(Debug, Clone, Copy, Default)]
pub struct CrmLogos;

impl Configured for CrmLogos {
    type Config = NoSettings;

    fn from_config(_: NoSettings) -> Result<Self> {
        Ok(Self)
    }
}

impl Figure for CrmLogos {
    fn render(&self, d: &serde_json::Value) -> Result<String> {
        use std::fmt::Write as _;
        let d: CrmLogosData = data("crm-logos", d)?;
        let mut order: Vec<usize> = (0..d.crms.len()).collect();
        order.sort_by(|&a, &b| d.crms[b].max_act.total_cmp(&d.crms[a].max_act));
        let mut s = format!(
            "<div class=\"crms\" style=\"display:flex;flex-wrap:wrap;gap:2px 8px;align-items:center;max-width:560px\"><small>{} CRMs</small>",
            d.crms.len()
        );
        for &i in order.iter().take(d.limit) {
            let c = &d.crms[i];
            let m = Motif::from_columns(c.id.as_str(), &c.columns)?;
            let col_width = (240.0 / m.len().max(1) as f32).clamp(3.0, 9.0);
            let style = LogoStyle { col_width, height: 30.0, axis: false };
            let _ = write!(
                s,
                "<div title=\"CRM {} (max v {:.3})\">{}</div>",
                c.index,
                c.max_act,
                logo_svg(&m, &style.options())
            );
        }
        if d.crms.len() > d.limit {
            let _ =
                write!(s, "<small>… {} more on the neuron's page</small>", d.crms.len() - d.limit);
        }
        s.push_str("</div>");
        Ok(s)
    }
}

motif_core::register_plugin!(Figure, CrmLogos, name: "crm-logos",
    summary: "a neuron's CRMs as small logos, strongest first (HTML with SVG logos)",
    status: Status::Stable("0.1.0"));

/// Size of a contribution track.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct TrackStyle {
    /// Pixels per position; default 10.
    pub col_width: f32,
    /// Pixels from the largest negative to the largest positive score;
    /// default 80.
    pub height: f32,
}

impl Default for TrackStyle {
    fn default() -> Self {
        Self { col_width: 10.0, height: 80.0 }
    }
}

/// What the `contribution-track` figure draws: one sequence's per-base
/// scores.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrackData {
    /// Title (the sequence's id).
    #[serde(default)]
    pub title: String,
    /// The bases.
    pub sequence: String,
    /// One score per base (attribution, gradient × input).
    pub scores: Vec<f64>,
}

/// `contribution-track`: a sequence's bases scaled by their contribution,
/// positive above the line and negative upside down below it.
#[derive(Debug, Clone, Copy, Default)]
pub struct ContributionTrack {
    style: TrackStyle,
}

impl Configured for ContributionTrack {
    type Config = TrackStyle;

    fn from_config(style: TrackStyle) -> Result<Self> {
        if !(style.col_width > 0.0 && style.height > 0.0) {
            return Err(Error::Config {
                plugin: "contribution-track".into(),
                msg: "col-width and height must be positive".into(),
            });
        }
        Ok(Self { style })
    }
}

impl Figure for ContributionTrack {
    fn render(&self, d: &serde_json::Value) -> Result<String> {
        let d: TrackData = data("contribution-track", d)?;
        let o = crate::TrackOptions { col_width: self.style.col_width, height: self.style.height };
        crate::contribution_svg(&d.title, d.sequence.as_bytes(), &d.scores, &o)
            .map_err(|msg| Error::Config { plugin: "contribution-track".into(), msg })
    }
}

motif_core::register_plugin!(Figure, ContributionTrack, name: "contribution-track",
    summary: "a sequence's bases scaled by their contribution scores (attributions; SVG)",
    status: Status::Stable("0.1.0"));

/// What the `cwm-logo` figure draws: a signed matrix.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CwmData {
    /// Title.
    #[serde(default)]
    pub title: String,
    /// Values, one `[A, C, G, T]` per column (negative allowed).
    pub columns: Vec<[f64; 4]>,
    /// Draw the reverse complement.
    #[serde(default)]
    pub rc: bool,
}

/// `cwm-logo`: a logo of a contribution weight matrix.
#[derive(Debug, Clone, Copy, Default)]
pub struct CwmLogo {
    style: TrackStyle,
}

impl Configured for CwmLogo {
    type Config = TrackStyle;

    fn from_config(style: TrackStyle) -> Result<Self> {
        if !(style.col_width > 0.0 && style.height > 0.0) {
            return Err(Error::Config {
                plugin: "cwm-logo".into(),
                msg: "col-width and height must be positive".into(),
            });
        }
        Ok(Self { style })
    }
}

impl Figure for CwmLogo {
    fn render(&self, d: &serde_json::Value) -> Result<String> {
        let d: CwmData = data("cwm-logo", d)?;
        let o = crate::TrackOptions { col_width: self.style.col_width, height: self.style.height };
        crate::signed_logo_svg(&d.title, &d.columns, d.rc, &o)
            .map_err(|msg| Error::Config { plugin: "cwm-logo".into(), msg })
    }
}

motif_core::register_plugin!(Figure, CwmLogo, name: "cwm-logo",
    summary: "a logo of a signed matrix (a pattern's CWM: letters above and below zero; SVG)",
    status: Status::Stable("0.1.0"));

#[cfg(test)]
mod tests {
    use motif_core::plugin;

    use super::*;

    fn cols() -> Vec<[f64; 4]> {
        vec![[0.7, 0.1, 0.1, 0.1], [0.1, 0.1, 0.1, 0.7], [0.25; 4]]
    }

    /// Through the registry, each figure draws what the functions draw.
    #[test]
    fn figures_draw_through_the_registry() {
        let logo =
            plugin::build::<dyn Figure>("logo", &serde_json::json!({"height": 60.0})).unwrap();
        let svg = logo.render(&serde_json::json!({"columns": cols(), "rc": true})).unwrap();
        let o = LogoOptions { height: 60.0, rc: true, ..Default::default() };
        assert_eq!(svg, logo_svg(&Motif::from_columns("", &cols()).unwrap(), &o));
        let al = plugin::build::<dyn Figure>("aligned-logos", &serde_json::json!({})).unwrap();
        let two = al
            .render(&serde_json::json!({"query": cols(), "target": cols(), "offset": -1, "reverse": false}))
            .unwrap();
        assert_eq!(two.matches("<svg").count(), 2);
        let chart = plugin::build::<dyn Figure>("line-chart", &serde_json::json!({})).unwrap();
        let data = ChartData {
            series: vec![Series {
                label: "a".into(),
                points: vec![(1.0, 0.5), (2.0, 0.7)],
                ..Default::default()
            }],
            options: ChartOptions::default(),
        };
        let svg = chart.render(&serde_json::to_value(&data).unwrap()).unwrap();
        assert_eq!(svg, line_chart(&data.series, &data.options));
        // The named charts are line charts with their own labels; bands
        // only over several seeds.
        let auc = plugin::build::<dyn Figure>("auc-curve", &serde_json::json!({})).unwrap();
        let pts = [(8.0, 0.9, 0.85, 0.95), (4.0, 0.8, 0.7, 0.9)];
        let one = auc
            .render(&serde_json::json!({"seeds": 1, "lines": [{"variant": "deepprune", "points": pts}]}))
            .unwrap();
        let three = auc
            .render(&serde_json::json!({"seeds": 3, "lines": [{"variant": "deepprune", "points": pts}]}))
            .unwrap();
        assert!(one.contains("Test AUC against kernel number") && one.contains("deepprune"));
        assert!(three.contains("min–max over seeds") && !one.contains("min–max"));
        let w = plugin::build::<dyn Figure>("weight-trajectories", &serde_json::json!({})).unwrap();
        let svg = w
            .render(&serde_json::json!({"seed": 4, "kernels": [{"kernel": 7, "points": [[8.0, 0.5], [4.0, 0.7]]}]}))
            .unwrap();
        assert!(svg.contains("(seed 4)") && svg.contains("kernel 7"), "{svg}");
        let e = w.render(&serde_json::json!({"seed": 4})).unwrap_err().to_string();
        assert!(e.contains("weight-trajectories") && e.contains("kernels"), "{e}");
        // strict data: a misspelt key is an error naming the figure
        let e = logo.render(&serde_json::json!({"colums": cols()})).unwrap_err().to_string();
        assert!(e.contains("logo") && e.contains("colums"), "{e}");
    }

    /// A contribution track: heights follow |score| / max, positive letters
    /// above the zero line, negative ones below; bad data names the figure.
    #[test]
    fn contribution_tracks_scale_letters_by_score() {
        let f = plugin::build::<dyn Figure>(
            "contribution-track",
            &serde_json::json!({"height": 100.0}),
        )
        .unwrap();
        let svg = f
            .render(&serde_json::json!({"title": "s1", "sequence": "ACNT", "scores": [1.0, -0.5, 3.0, 0.0]}))
            .unwrap();
        // A (positive, full half-height), C (negative, half of that); N and
        // the zero-score T are not drawn.
        assert_eq!(svg.matches("<path fill=").count(), 2, "{svg}");
        assert!(svg.contains("fill=\"#008000\"") && svg.contains("fill=\"#0000ff\""));
        assert!(!svg.contains("fill=\"#ff0000\""), "{svg}");
        assert!(svg.contains("<title>s1</title>") && svg.contains("max |score| 3"), "{svg}");
        // The y coordinates: the zero line is at 16 + 50 = 66; A spans
        // above it (66 - 50·1/3 … 66), C below (66 … 66 + 50·0.5/3).
        let ys = |fill: &str| -> Vec<f64> {
            let start = svg.find(&format!("fill=\"{fill}\" d=\"")).unwrap();
            let d = &svg[start..svg[start..].find("\"/>").unwrap() + start];
            d.split(|c: char| c.is_ascii_alphabetic())
                .filter_map(|p| p.split_whitespace().nth(1).and_then(|y| y.parse().ok()))
                .collect()
        };
        let (a, c) = (ys("#008000"), ys("#0000ff"));
        let range =
            |v: &[f64]| v.iter().fold((f64::MAX, f64::MIN), |(lo, hi), &y| (lo.min(y), hi.max(y)));
        let ((alo, ahi), (clo, chi)) = (range(&a), range(&c));
        assert!(alo >= 66.0 - 50.0 / 3.0 - 0.05 && ahi <= 66.05 && ahi > 65.5, "{a:?}");
        assert!(clo >= 65.95 && chi <= 66.0 + 25.0 / 3.0 + 0.05 && clo < 66.5, "{c:?}");
        let e = f
            .render(&serde_json::json!({"sequence": "AC", "scores": [1.0]}))
            .unwrap_err()
            .to_string();
        assert!(e.contains("contribution-track") && e.contains("2 bases but 1 scores"), "{e}");
    }

    /// NeuronMotif's figures: CRMs strongest first up to the limit; a tree
    /// with its leaves' logos, the junction's statistics and the database gap.
    #[test]
    fn neuronmotif_figures_draw_crms_and_trees() {
        let crm = |i: usize, v: f32| serde_json::json!({"id": format!("crm{i}"), "index": i, "max_act": v, "columns": cols()});
        let f = plugin::build::<dyn Figure>("crm-logos", &serde_json::json!({})).unwrap();
        let html = f
            .render(
                &serde_json::json!({"crms": [crm(0, 0.5), crm(1, 2.0), crm(2, 1.0)], "limit": 2}),
            )
            .unwrap();
        let (one, zero) =
            (html.find("CRM 1 (").unwrap(), html.find("CRM 0 (").unwrap_or(usize::MAX));
        assert!(html.contains("3 CRMs") && html.find("CRM 2 (").unwrap() > one, "{html}");
        assert_eq!(zero, usize::MAX, "over the limit: {html}");
        assert!(html.contains("1 more on the neuron's page"));
        let t = plugin::build::<dyn Figure>("syntax-tree", &serde_json::json!({})).unwrap();
        let pair = serde_json::json!({"left": 0, "right": 1, "n": 7, "core_gap_min": 2, "core_gap_max": 4, "mean": 3.0});
        let data = serde_json::json!({
            "tree": {"gap": "g<5", "pair": pair, "left": {"motif": 0}, "right": {"motif": 1}},
            "dictionary": [{"id": "d1", "columns": cols()}, {"id": "d2", "columns": cols()}],
            "database_gaps": [{"left": 0, "right": 1, "left_motif": "MA1", "right_motif": "MA2", "min": 3, "max": 3}],
        });
        let html = t.render(&data).unwrap();
        assert!(html.contains("<b>D1</b><svg") && html.contains("<b>D2</b><svg"), "{html}");
        assert!(html.contains("g&lt;5") && html.contains("D1→D2, 7 CRMs; 2~4 bp"), "{html}");
        assert!(html.contains("3 bp between MA1 and MA2"), "{html}");
    }
}
