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
    /// The filter's logo above the target's on the matched strand, aligned
    /// (the `aligned-logos` figure).
    pub aligned_svg: String,
}

/// One filter's row.
#[derive(Debug, Clone)]
pub struct FilterRow {
    /// Filter id (`filter<j>`).
    pub id: String,
    /// Its logo (SVG).
    pub logo_svg: String,
    /// Its reverse complement's logo (SVG).
    pub logo_rc_svg: String,
    /// Whether its best match is a match under the report's policy.
    pub called: bool,
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
    /// When a best hit counts as a match, in words (`pearson, min overlap
    /// 5, E < 0.05`), for the headline.
    pub policy: String,
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

/// The analyze page's own rules: the headline, faded rows whose best hit is
/// not a match, and the reverse-complement switch (CSS only, no script).
const ANALYZE_CSS: &str = ".headline{font-size:1.25em;background:#eef6ee;border-left:6px solid #3a7d44;padding:10px 14px;margin:12px 0}\
.headline.few{background:#fbf3e6;border-color:#c27c0e}\
tr[data-called=no] td{opacity:.45}tr[data-called=no]:hover td{opacity:1}\
.rev{display:none}#rc:checked~table .fwd{display:none}#rc:checked~table .rev{display:inline}\
details.al summary{cursor:pointer;color:#555;font-size:13px}td.best b{font-weight:600}";

/// Renders the analyze report as one HTML document: a headline (how many
/// filters match a known motif under the policy), the compact filter table
/// (logo, best match, E, q; rows without a match faded; forward or
/// reverse-complement logos), each filter's aligned matches on demand,
/// then the run's facts and the model.
#[must_use]
pub fn render_report(r: &Report) -> String {
    let mut s = String::new();
    let _ = write!(
        s,
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{t}</title><style>{CSS}{ANALYZE_CSS}</style></head><body><h1>{t}</h1>",
        t = escape(&r.title)
    );
    let total = r.filters.len();
    let active = r.filters.iter().filter(|f| f.nsites != Some(0.0)).count();
    let called = r.filters.iter().filter(|f| f.called).count();
    let _ = write!(
        s,
        "<p class=\"headline{few}\" id=\"headline\"><b>{called} of {total}</b> filters match a known motif ({policy}){inactive}.</p>",
        few = if 2 * called < active { " few" } else { "" },
        policy = escape(&r.policy),
        inactive = if active < total {
            format!("; {} never fired on these sequences", total - active)
        } else {
            String::new()
        }
    );
    let _ = write!(
        s,
        "<input type=\"checkbox\" id=\"rc\"><label for=\"rc\"> show reverse-complement logos</label>\
         <table id=\"filters\"><thead><tr><th>filter</th><th>logo</th><th>best match</th><th>E</th><th>q</th><th>importance</th><th>sites</th><th>aligned matches</th></tr></thead><tbody>"
    );
    for f in &r.filters {
        filter_row(&mut s, f);
    }
    let _ = write!(
        s,
        "</tbody></table><p>Importance: {}. Best match: the best of each filter's hits by p-value (tomtom statistics); \
         faded rows have none under the policy. Aligned matches: the three best targets, the filter above, the target below.</p><dl>",
        escape(&r.importance_label)
    );
    for (k, v) in &r.facts {
        let _ = write!(s, "<dt>{}</dt><dd>{}</dd>", escape(k), escape(v));
    }
    let _ = writeln!(
        s,
        "</dl><details><summary>Model structure</summary><pre>{}</pre></details></body></html>",
        escape(&r.model_summary)
    );
    s
}

fn filter_row(s: &mut String, f: &FilterRow) {
    let _ = write!(
        s,
        "<tr class=\"filter\" id=\"{id}\" data-called=\"{c}\"><td>{id}</td><td><span class=\"fwd\">{logo}</span><span class=\"rev\">{rc}</span></td>",
        id = escape(&f.id),
        c = if f.called { "yes" } else { "no" },
        logo = f.logo_svg,
        rc = f.logo_rc_svg,
    );
    match f.matches.first() {
        _ if f.nsites == Some(0.0) => s.push_str(
            "<td colspan=\"3\"><span class=\"none\">inactive: no sites on these sequences, not matched</span></td>",
        ),
        None => s.push_str("<td colspan=\"3\"><span class=\"none\">no match</span></td>"),
        Some(m) => {
            let name = m.name.as_deref().map(|n| format!(" {}", escape(n))).unwrap_or_default();
            let _ = write!(
                s,
                "<td class=\"best\"><b>{}</b>{name} ({})</td><td class=\"n\">{}</td><td class=\"n\">{}</td>",
                escape(&m.target),
                m.orientation,
                num(m.e_value),
                num(m.q_value)
            );
        }
    }
    let _ = write!(
        s,
        "<td class=\"n\">{}</td><td class=\"n\">{}</td><td>",
        num(f.importance),
        f.nsites.map_or("–".into(), |n| format!("{n:.0}"))
    );
    if !f.matches.is_empty() {
        let _ = write!(s, "<details class=\"al\"><summary>{} targets</summary>", f.matches.len());
        for m in &f.matches {
            let name = m.name.as_deref().map(|n| format!(" {}", escape(n))).unwrap_or_default();
            let _ = write!(
                s,
                "<div class=\"m\"><div><b>{}</b>{name} ({}) p={} E={} q={} offset {} overlap {}</div>{}</div>",
                escape(&m.target),
                m.orientation,
                num(m.p_value),
                num(m.e_value),
                num(m.q_value),
                m.offset,
                m.overlap,
                m.aligned_svg
            );
        }
        s.push_str("</details>");
    }
    s.push_str("</td></tr>");
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
            logo_rc_svg: "<svg id=\"rc\"></svg>".into(),
            called: false,
            importance: 0.5,
            nsites: Some(n),
            matches: vec![],
        };
        let hit = MatchRow {
            target: "MA0035.5".into(),
            name: Some("GATA1".into()),
            orientation: '-',
            offset: 1,
            overlap: 9,
            p_value: 1e-9,
            e_value: 1e-6,
            q_value: 2e-6,
            aligned_svg: String::new(),
        };
        let called = FilterRow { called: true, matches: vec![hit], ..row("filter2", 30.0) };
        let r = Report {
            title: "a <model>".into(),
            policy: "pearson, min overlap 5, E < 0.05".into(),
            facts: vec![("engine".into(), "tract".into())],
            model_summary: "conv & pool".into(),
            importance_label: "x".into(),
            filters: vec![called, row("filter0", 12.0), row("filter1", 0.0)],
        };
        let h = render_report(&r);
        assert_eq!(h.matches("<tr class=\"filter\"").count(), 3);
        assert!(h.contains("a &lt;model&gt;") && h.contains("conv &amp; pool"));
        assert!(h.contains("no match") && h.contains("inactive"));
        // the headline counts matches under the policy, and inactive filters
        assert!(h.contains("<b>1 of 3</b> filters match a known motif"), "{h}");
        assert!(h.contains("1 never fired"));
        // unmatched rows fade; the best match shows its E and q
        assert_eq!(h.matches("data-called=\"no\"").count(), 2);
        assert!(h.contains("<b>MA0035.5</b> GATA1 (-)</td><td class=\"n\">1.00e-6</td>"), "{h}");
        assert_eq!(h.matches("class=\"rev\"").count(), 3, "a reverse-complement logo per filter");
    }
}
