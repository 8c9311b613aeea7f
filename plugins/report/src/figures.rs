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
}
