//! The analyze report: one self-contained HTML file (inline CSS and SVG).

use std::fmt::Write;

use crate::logo::escape;

/// One database match of a filter.
#[derive(Debug, Clone)]
pub struct MatchRow {
    /// Target id.
    pub target: String,
    /// Target name (e.g. the TF), if known.
    pub name: Option<String>,
    /// `+` or `-` (target strand).
    pub orientation: char,
    /// Offset (target column = query column + offset).
    pub offset: i32,
    /// Aligned columns.
    pub overlap: usize,
    /// p-value.
    pub p_value: f64,
    /// E-value.
    pub e_value: f64,
    /// q-value.
    pub q_value: f64,
    /// The filter's logo, aligned to the target (SVG).
    pub query_svg: String,
    /// The target's logo on the matched strand, aligned (SVG).
    pub target_svg: String,
}

/// One filter's row.
#[derive(Debug, Clone)]
pub struct FilterRow {
    /// Filter id (`filter<j>`).
    pub id: String,
    /// Its logo (SVG).
    pub logo_svg: String,
    /// Importance value.
    pub importance: f64,
    /// Sites (windows) the motif was built from; `Some(0)` marks a filter that
    /// never fired (shown as inactive, not matched).
    pub nsites: Option<f64>,
    /// Best matches, best first.
    pub matches: Vec<MatchRow>,
}

/// Everything the report shows.
#[derive(Debug, Clone)]
pub struct Report {
    /// Page title.
    pub title: String,
    /// Key facts (label, value) shown at the top.
    pub facts: Vec<(String, String)>,
    /// The model summary (`motiftool inspect` text).
    pub model_summary: String,
    /// What "importance" means for this model.
    pub importance_label: String,
    /// One row per filter, in the order to show.
    pub filters: Vec<FilterRow>,
}

fn num(v: f64) -> String {
    if v == 0.0 {
        "0".into()
    } else if v.abs() < 1e-3 || v.abs() >= 1e4 {
        format!("{v:.2e}")
    } else {
        format!("{v:.3}")
    }
}

const CSS: &str = "body{font-family:system-ui,sans-serif;margin:24px;color:#222}\
table{border-collapse:collapse}td,th{border-bottom:1px solid #ddd;padding:6px 8px;vertical-align:top;text-align:left}\
th{background:#f4f4f4;position:sticky;top:0}pre{background:#f7f7f7;padding:10px;overflow:auto;font-size:12px}\
.m{margin-bottom:10px}.m div{font-size:12px}.n{font-variant-numeric:tabular-nums}.none{color:#888}\
dl{display:grid;grid-template-columns:max-content auto;gap:2px 12px}dt{font-weight:600}";

/// Renders the report as one HTML document.
#[must_use]
pub fn render_report(r: &Report) -> String {
    let mut s = String::new();
    let _ = write!(
        s,
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{t}</title><style>{CSS}</style></head><body><h1>{t}</h1><dl>",
        t = escape(&r.title)
    );
    for (k, v) in &r.facts {
        let _ = write!(s, "<dt>{}</dt><dd>{}</dd>", escape(k), escape(v));
    }
    let _ = write!(
        s,
        "</dl><details><summary>Model structure</summary><pre>{}</pre></details>\
         <h2>Filters</h2><p>Importance: {}. Matches: best three by p-value (tomtom statistics).</p>\
         <table id=\"filters\"><thead><tr><th>filter</th><th>logo</th><th>importance</th><th>sites</th><th>top matches (filter above, target below, aligned)</th></tr></thead><tbody>",
        escape(&r.model_summary),
        escape(&r.importance_label)
    );
    for f in &r.filters {
        let _ = write!(
            s,
            "<tr class=\"filter\" id=\"{id}\"><td>{id}</td><td>{logo}</td><td class=\"n\">{imp}</td><td class=\"n\">{sites}</td><td>",
            id = escape(&f.id),
            logo = f.logo_svg,
            imp = num(f.importance),
            sites = f.nsites.map_or("–".into(), |n| format!("{n:.0}"))
        );
        if f.nsites == Some(0.0) {
            s.push_str(
                "<span class=\"none\">inactive: no sites on these sequences, not matched</span>",
            );
        } else if f.matches.is_empty() {
            s.push_str("<span class=\"none\">no match</span>");
        }
        for m in &f.matches {
            let name = m.name.as_deref().map(|n| format!(" {}", escape(n))).unwrap_or_default();
            let _ = write!(
                s,
                "<div class=\"m\"><div><b>{}</b>{name} ({}) p={} E={} q={} offset {} overlap {}</div>{}<br>{}</div>",
                escape(&m.target),
                m.orientation,
                num(m.p_value),
                num(m.e_value),
                num(m.q_value),
                m.offset,
                m.overlap,
                m.query_svg,
                m.target_svg
            );
        }
        s.push_str("</td></tr>");
    }
    s.push_str("</tbody></table></body></html>\n");
    s
}

/// A report page: a title, key facts, then sections of ready HTML (figures,
/// tables), all in one self-contained file.
#[derive(Debug, Clone, Default)]
pub struct Page {
    /// Page title.
    pub title: String,
    /// Key facts (label, value) at the top.
    pub facts: Vec<(String, String)>,
    /// Sections: heading and HTML body (already escaped where needed).
    pub sections: Vec<(String, String)>,
}

/// Renders a [`Page`].
#[must_use]
pub fn render_page(p: &Page) -> String {
    let mut s = String::new();
    let _ = write!(
        s,
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{t}</title><style>{CSS}</style></head><body><h1>{t}</h1><dl>",
        t = escape(&p.title)
    );
    for (k, v) in &p.facts {
        let _ = write!(s, "<dt>{}</dt><dd>{}</dd>", escape(k), escape(v));
    }
    s.push_str("</dl>");
    for (h, body) in &p.sections {
        let _ = write!(s, "<h2>{}</h2>{body}", escape(h));
    }
    s.push_str("</body></html>\n");
    s
}

/// A number as the reports print it (3 decimals, or scientific when tiny).
#[must_use]
pub fn format_number(v: f64) -> String {
    num(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_row_per_filter_and_escaped_text() {
        let row = |id: &str, n: f64| FilterRow {
            id: id.into(),
            logo_svg: "<svg></svg>".into(),
            importance: 0.5,
            nsites: Some(n),
            matches: vec![],
        };
        let r = Report {
            title: "a <model>".into(),
            facts: vec![("engine".into(), "tract".into())],
            model_summary: "conv & pool".into(),
            importance_label: "x".into(),
            filters: vec![row("filter0", 12.0), row("filter1", 0.0)],
        };
        let h = render_report(&r);
        assert_eq!(h.matches("<tr class=\"filter\"").count(), 2);
        assert!(h.contains("a &lt;model&gt;") && h.contains("conv &amp; pool"));
        assert!(h.contains("no match") && h.contains("inactive"));
    }
}
