//! Line charts as SVG: labelled axes, ticks, a legend, optional shaded
//! bands (spread over seeds) and a log2 x axis (kernel numbers).

use std::fmt::Write;

use crate::logo::escape;

/// One line.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Series {
    /// Legend label.
    pub label: String,
    /// CSS colour.
    pub colour: String,
    /// Points (x, y), drawn in order.
    pub points: Vec<(f64, f64)>,
    /// A shaded band (x, low, high) around the line, e.g. min–max over seeds.
    pub band: Vec<(f64, f64, f64)>,
    /// Dashed line.
    pub dashed: bool,
}

/// Axes and size.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ChartOptions {
    /// Title above the plot.
    pub title: String,
    /// X axis label.
    pub x_label: String,
    /// Y axis label.
    pub y_label: String,
    /// X on a log2 scale.
    pub log2_x: bool,
    /// Larger x values on the left (kernels shrinking to the right).
    pub reverse_x: bool,
    /// X ticks; empty: the distinct x values of the points.
    pub x_ticks: Vec<f64>,
    /// Plot width and height in px (without margins).
    pub size: (f64, f64),
}

impl Default for ChartOptions {
    fn default() -> Self {
        Self {
            title: String::new(),
            x_label: String::new(),
            y_label: String::new(),
            log2_x: false,
            reverse_x: false,
            x_ticks: Vec::new(),
            size: (520.0, 300.0),
        }
    }
}

/// A colour per series index (colour-blind-safe palette, Okabe–Ito).
#[must_use]
pub fn palette(i: usize) -> &'static str {
    const P: [&str; 8] =
        ["#0072b2", "#d55e00", "#009e73", "#cc79a7", "#e69f00", "#56b4e9", "#000000", "#f0e442"];
    P[i % P.len()]
}

/// About five round ticks covering [lo, hi].
fn nice_ticks(lo: f64, hi: f64) -> Vec<f64> {
    let span = (hi - lo).max(1e-12);
    let raw = span / 5.0;
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 2.5, 5.0, 10.0]
        .iter()
        .map(|m| m * mag)
        .find(|s| span / s <= 6.0)
        .unwrap_or(mag * 10.0);
    let first = (lo / step).ceil() * step;
    let mut t = Vec::new();
    let mut v = first;
    while v <= hi + step * 1e-9 {
        t.push(if v.abs() < step * 1e-9 { 0.0 } else { v });
        v += step;
    }
    t
}

fn fmt_tick(v: f64) -> String {
    if v == v.round() && v.abs() < 1e6 {
        format!("{v:.0}")
    } else {
        let s = format!("{v:.3}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

/// The chart as a standalone `<svg>` element.
#[must_use]
#[allow(clippy::too_many_lines, reason = "one SVG chart: axes, ticks, bands, series, legend")]
pub fn line_chart(series: &[Series], o: &ChartOptions) -> String {
    let (w, h) = o.size;
    let (ml, mr, mt, mb) = (64.0, 170.0, 34.0, 48.0);
    let xs = |v: f64| if o.log2_x { v.max(1e-12).log2() } else { v };
    let all_x: Vec<f64> = series.iter().flat_map(|s| s.points.iter().map(|p| p.0)).collect();
    let all_y: Vec<f64> = series
        .iter()
        .flat_map(|s| s.points.iter().map(|p| p.1).chain(s.band.iter().flat_map(|b| [b.1, b.2])))
        .filter(|v| v.is_finite())
        .collect();
    let (mut x0, mut x1) = all_x
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| (a.min(xs(v)), b.max(xs(v))));
    let (mut y0, mut y1) =
        all_y.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| (a.min(v), b.max(v)));
    if !x0.is_finite() {
        (x0, x1) = (0.0, 1.0);
    }
    if !y0.is_finite() {
        (y0, y1) = (0.0, 1.0);
    }
    if x1 - x0 < 1e-12 {
        (x0, x1) = (x0 - 1.0, x1 + 1.0);
    }
    let pad = ((y1 - y0) * 0.08).max(1e-3);
    let (y0, y1) = (y0 - pad, y1 + pad);
    let px = |v: f64| {
        let f = (xs(v) - x0) / (x1 - x0);
        ml + if o.reverse_x { 1.0 - f } else { f } * w
    };
    let py = |v: f64| mt + (1.0 - (v - y0) / (y1 - y0)) * h;
    let mut s = String::new();
    let _ = write!(
        s,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{tw}\" height=\"{th}\" viewBox=\"0 0 {tw} {th}\" font-family=\"sans-serif\" font-size=\"12\" role=\"img\" aria-label=\"{title}\">\
         <title>{title}</title><rect width=\"100%\" height=\"100%\" fill=\"white\"/>\
         <text x=\"{cx}\" y=\"20\" text-anchor=\"middle\" font-size=\"14\" font-weight=\"bold\">{title}</text>",
        tw = ml + w + mr,
        th = mt + h + mb,
        cx = ml + w / 2.0,
        title = escape(&o.title)
    );
    // axes, grid, ticks
    for t in nice_ticks(y0, y1) {
        let y = py(t);
        let _ = write!(
            s,
            "<line x1=\"{ml}\" x2=\"{}\" y1=\"{y:.1}\" y2=\"{y:.1}\" stroke=\"#e5e5e5\"/>\
             <text x=\"{}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>",
            ml + w,
            ml - 6.0,
            y + 4.0,
            fmt_tick(t)
        );
    }
    let mut ticks = if o.x_ticks.is_empty() { all_x.clone() } else { o.x_ticks.clone() };
    ticks.sort_by(f64::total_cmp);
    ticks.dedup();
    for t in ticks {
        let x = px(t);
        let _ = write!(
            s,
            "<line x1=\"{x:.1}\" x2=\"{x:.1}\" y1=\"{}\" y2=\"{}\" stroke=\"#444\"/>\
             <text x=\"{x:.1}\" y=\"{}\" text-anchor=\"middle\">{}</text>",
            mt + h,
            mt + h + 5.0,
            mt + h + 18.0,
            fmt_tick(t)
        );
    }
    let _ = write!(
        s,
        "<rect x=\"{ml}\" y=\"{mt}\" width=\"{w}\" height=\"{h}\" fill=\"none\" stroke=\"#444\"/>\
         <text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>\
         <text transform=\"translate(16 {}) rotate(-90)\" text-anchor=\"middle\">{}</text>",
        ml + w / 2.0,
        mt + h + 40.0,
        escape(&o.x_label),
        mt + h / 2.0,
        escape(&o.y_label)
    );
    // bands, then lines and points
    for se in series {
        if se.band.len() > 1 {
            let mut b = se.band.clone();
            b.sort_by(|a, c| a.0.total_cmp(&c.0));
            let mut d = String::new();
            for (k, p) in b.iter().enumerate() {
                let _ =
                    write!(d, "{}{:.1},{:.1} ", if k == 0 { "M" } else { "L" }, px(p.0), py(p.2));
            }
            for p in b.iter().rev() {
                let _ = write!(d, "L{:.1},{:.1} ", px(p.0), py(p.1));
            }
            let _ = write!(
                s,
                "<path d=\"{d}Z\" fill=\"{}\" fill-opacity=\"0.15\" stroke=\"none\"/>",
                se.colour
            );
        }
    }
    for se in series {
        let pts: Vec<String> = se
            .points
            .iter()
            .filter(|p| p.1.is_finite())
            .map(|p| format!("{:.1},{:.1}", px(p.0), py(p.1)))
            .collect();
        let dash = if se.dashed { " stroke-dasharray=\"5 3\"" } else { "" };
        let _ = write!(
            s,
            "<polyline class=\"series\" data-label=\"{}\" points=\"{}\" fill=\"none\" stroke=\"{}\" stroke-width=\"2\"{dash}/>",
            escape(&se.label),
            pts.join(" "),
            se.colour
        );
        for p in se.points.iter().filter(|p| p.1.is_finite()) {
            let _ = write!(
                s,
                "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"3\" fill=\"{}\"><title>{}: {} → {:.4}</title></circle>",
                px(p.0),
                py(p.1),
                se.colour,
                escape(&se.label),
                fmt_tick(p.0),
                p.1
            );
        }
    }
    // legend
    for (k, se) in series.iter().enumerate() {
        let y = mt + 10.0 + 18.0 * k as f64;
        let x = ml + w + 14.0;
        let dash = if se.dashed { " stroke-dasharray=\"5 3\"" } else { "" };
        let _ = write!(
            s,
            "<line x1=\"{x}\" x2=\"{}\" y1=\"{y}\" y2=\"{y}\" stroke=\"{}\" stroke-width=\"2\"{dash}/>\
             <text x=\"{}\" y=\"{}\">{}</text>",
            x + 22.0,
            se.colour,
            x + 28.0,
            y + 4.0,
            escape(&se.label)
        );
    }
    s.push_str("</svg>");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_round_and_cover_the_range() {
        assert_eq!(nice_ticks(0.0, 1.0), [0.0, 0.2, 0.4, 0.600_000_000_000_000_1, 0.8, 1.0]);
        let t = nice_ticks(0.71, 0.96);
        assert!(t.first().unwrap() >= &0.71 && t.last().unwrap() <= &0.96 && t.len() >= 3, "{t:?}");
    }

    #[test]
    fn chart_has_labels_series_legend_and_log_axis() {
        let s = vec![
            Series {
                label: "deepprune".into(),
                colour: palette(0).into(),
                points: vec![(256.0, 0.9), (64.0, 0.92), (4.0, 0.95)],
                band: vec![(256.0, 0.88, 0.91), (64.0, 0.9, 0.93), (4.0, 0.94, 0.96)],
                dashed: false,
            },
            Series {
                label: "baseline <4>".into(),
                colour: palette(1).into(),
                points: vec![(4.0, 0.8)],
                ..Default::default()
            },
        ];
        let o = ChartOptions {
            title: "Test AUC".into(),
            x_label: "kernels".into(),
            y_label: "AUC".into(),
            log2_x: true,
            reverse_x: true,
            ..Default::default()
        };
        let svg = line_chart(&s, &o);
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert_eq!(svg.matches("class=\"series\"").count(), 2);
        assert!(
            svg.contains("baseline &lt;4&gt;")
                && svg.contains(">kernels<")
                && svg.contains(">AUC<")
        );
        assert!(svg.contains("fill-opacity"));
        // log2, reversed: 256 at the left edge, 4 at the right, 64 one third in
        let x = |label: &str| {
            let i = svg.find(&format!(">{label}</text>")).unwrap();
            let j = svg[..i].rfind("x=\"").unwrap() + 3;
            svg[j..].split('"').next().unwrap().parse::<f64>().unwrap()
        };
        let (a, b, c) = (x("256"), x("64"), x("4"));
        assert!(a < b && b < c);
        assert!(((b - a) / (c - a) - 1.0 / 3.0).abs() < 0.01, "{a} {b} {c}");
    }
}
