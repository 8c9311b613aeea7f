//! `discover`'s report.html: the seqlet-threshold diagnostics (window sums,
//! the Laplace null and where the thresholds fell), and per pattern its
//! CWM and PFM logos on both strands, seqlet and subpattern counts, and the
//! best database matches with tomtom's p, E and q.

use std::fmt::Write as _;

use motif_discover::pattern::Tracks;
use motif_discover::pipeline::Discovery;
use motif_report::{Series, escape, format_number};
use serde_json::json;

use crate::Result;
use crate::discover::{PatternSummary, Summary};

/// The whole page.
///
/// # Errors
/// If a figure cannot be drawn (a non-finite value).
pub fn render(s: &Summary, _tracks: &Tracks, _d: &Discovery) -> Result<String> {
    let q = &s.seqlets;
    let facts = vec![
        (
            "windows".to_string(),
            format!("{} of {} bp, central {} analysed", s.sequences, s.length, s.window),
        ),
        (
            "seqlets".into(),
            format!(
                "{} positive, {} negative (window-sum thresholds {} and {}; core sum beyond ±{} to get a sign)",
                q.positive,
                q.negative,
                format_number(q.thresholds.0),
                format_number(q.thresholds.1),
                format_number(q.sign_threshold)
            ),
        ),
        (
            "patterns".into(),
            format!(
                "{} positive, {} negative{}",
                s.patterns.iter().filter(|p| p.sign > 0).count(),
                s.patterns.iter().filter(|p| p.sign < 0).count(),
                match s.metaclusters_run {
                    (true, true) => String::new(),
                    (false, false) => " (neither metacluster had more than 100 seqlets)".into(),
                    (true, false) => " (the negative metacluster had 100 seqlets or fewer)".into(),
                    (false, true) => " (the positive metacluster had 100 seqlets or fewer)".into(),
                }
            ),
        ),
        ("database".into(), s.database.clone()),
    ];
    let mut sections = vec![("Seqlet thresholds".to_string(), thresholds(s)?)];
    for (sign, title) in [(1, "Positive patterns"), (-1, "Negative patterns")] {
        let list: Vec<&PatternSummary> = s.patterns.iter().filter(|p| p.sign == sign).collect();
        let body = if list.is_empty() { "<p>None.</p>".to_string() } else { patterns(&list)? };
        sections.push((title.to_string(), body));
    }
    let page = motif_report::Page { title: "motiftool discover".into(), facts, sections };
    Ok(motif_report::render_page(&page))
}

/// The window-sum histogram as a density, the fitted Laplace null on each
/// side of its mode, and the two thresholds.
fn thresholds(s: &Summary) -> Result<String> {
    let q = &s.seqlets;
    let (edges, counts) = (&q.histogram_edges, &q.histogram_counts);
    if counts.is_empty() || edges.len() != counts.len() + 1 {
        return Ok("<p>No windows.</p>".into());
    }
    let total: u64 = counts.iter().sum();
    let width = edges[1] - edges[0];
    let density: Vec<(f64, f64)> = counts
        .iter()
        .enumerate()
        .map(|(k, &c)| {
            (f64::midpoint(edges[k], edges[k + 1]), c as f64 / (total as f64 * width.max(1e-300)))
        })
        .collect();
    let (mu, lp, ln) = q.null;
    let above: u64 = counts
        .iter()
        .enumerate()
        .filter(|(k, _)| f64::midpoint(edges[*k], edges[*k + 1]) >= mu)
        .map(|(_, c)| c)
        .sum();
    let p_up = above as f64 / total.max(1) as f64;
    let null: Vec<(f64, f64)> = density
        .iter()
        .map(|&(x, _)| {
            let y = if x >= mu {
                p_up * lp * (-lp * (x - mu)).exp()
            } else {
                (1.0 - p_up) * ln * (-ln * (mu - x)).exp()
            };
            (x, if y.is_finite() { y } else { 0.0 })
        })
        .collect();
    let top = density.iter().chain(&null).fold(0.0_f64, |m, p| m.max(p.1));
    let mut series = vec![
        Series {
            label: "window sums".into(),
            colour: motif_report::palette(0).into(),
            points: density,
            ..Default::default()
        },
        Series {
            label: "Laplace null".into(),
            colour: motif_report::palette(1).into(),
            points: null,
            dashed: true,
            ..Default::default()
        },
    ];
    let marks = [("positive threshold", q.thresholds.0), ("negative threshold", q.thresholds.1)];
    for (k, (label, t)) in marks.into_iter().enumerate() {
        if t.is_finite() {
            series.push(Series {
                label: label.into(),
                colour: motif_report::palette(2 + k).into(),
                points: vec![(t, 0.0), (t, top)],
                ..Default::default()
            });
        }
    }
    let (a, b) = (edges[0], edges[edges.len() - 1]);
    let ticks: Vec<f64> = (0..=6).map(|k| a + (b - a) * f64::from(k) / 6.0).collect();
    let fig = crate::figure("line-chart", &json!({}))?;
    let chart = fig.render(&json!({
        "series": series,
        "options": {
            "title": "Summed contribution of every window",
            "x_label": "window sum",
            "y_label": "density",
            "x_ticks": ticks,
        }
    }))?;
    Ok(format!(
        "<p>Each seqlet starts as a window whose summed contribution passes a threshold fitted \
         against a Laplace null (mode {}, rates {} and {}) at the target FDR; the thresholds are \
         the vertical lines.</p>{chart}",
        format_number(mu),
        format_number(lp),
        format_number(ln)
    ))
}

/// One table row per pattern.
fn patterns(list: &[&PatternSummary]) -> Result<String> {
    let cwm = crate::figure("cwm-logo", &json!({"col-width": 12.0, "height": 70.0}))?;
    let pfm = crate::figure("logo", &json!({"col-width": 12.0, "height": 60.0}))?;
    let mut b = String::from(
        "<table><tr><th>pattern</th><th>seqlets</th><th>CWM (forward, reverse)</th>\
         <th>PFM (forward, reverse)</th><th>best matches (tomtom p, E, q)</th></tr>",
    );
    for p in list {
        let mut logos = String::new();
        for rc in [false, true] {
            logos.push_str(&cwm.render(
                &json!({"title": if rc { "rc" } else { "fwd" }, "columns": p.cwm, "rc": rc}),
            )?);
        }
        let mut pfms = String::new();
        for rc in [false, true] {
            pfms.push_str(&pfm.render(&json!({"id": p.name, "columns": p.ppm, "rc": rc}))?);
        }
        let mut m = String::new();
        for x in &p.matches {
            let _ = write!(
                m,
                "{}{} ({}) p={} E={} q={}<br>",
                escape(&x.target),
                x.name.as_deref().map(|n| format!(" {}", escape(n))).unwrap_or_default(),
                escape(&x.orientation),
                format_number(x.p_value),
                format_number(x.e_value),
                format_number(x.q_value)
            );
        }
        if m.is_empty() {
            m.push_str("none reported");
        }
        let subs: Vec<String> = p.subpatterns.iter().map(ToString::to_string).collect();
        let _ = write!(
            b,
            "<tr><td><b>{}</b><br><code>{}</code><br>columns {}–{} of {}</td><td>{}<br><small>subpatterns: {}</small></td>\
             <td style=\"white-space:nowrap\">{logos}</td><td style=\"white-space:nowrap\">{pfms}</td><td>{m}</td></tr>",
            escape(&p.name),
            escape(&p.consensus),
            p.trim.0 + 1,
            p.trim.1,
            p.length,
            p.seqlets,
            subs.join(", ")
        );
    }
    b.push_str("</table>");
    Ok(b)
}
