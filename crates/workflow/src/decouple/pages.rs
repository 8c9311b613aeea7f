//! The HTML pages of a decoupling run, drawn from its typed results alone
//! (so `motiftool report` can redraw them).

use std::fmt::Write as _;

use motif_core::motif::{Motif, MotifSet};
use motif_neuronmotif::Crm;
use motif_neuronmotif::tree::Node;
use motif_report::figures::bp_range;
use motif_report::{Page, escape, format_number, render_page};
use serde_json::json;

use crate::Result;

use super::results::{BestMatch, LayerSummary, NeuronResult, Sampling};

/// A uniform motif of `len` columns (at least one), for a CRM whose matrix
/// cannot be one (never from demixing; a hand-edited file).
fn uniform(id: &str, len: usize) -> Motif {
    Motif::from_matrix(id, ndarray::Array2::from_elem((4, len.max(1)), 0.25))
        .expect("a uniform matrix is a motif")
}

/// The CRMs as motifs (`crmK`), site counts and activations in the name.
#[must_use]
pub fn crm_motifs(crms: &[Crm], prefix: &str) -> MotifSet {
    MotifSet {
        motifs: crms
            .iter()
            .map(|c| {
                let mut m = Motif::from_matrix(format!("{prefix}crm{}", c.index), c.ppm_array())
                    .unwrap_or_else(|_| uniform(&format!("{prefix}crm{}", c.index), c.ppm.len()));
                m.nsites = Some(c.size.max(1) as f64);
                m.name = Some(format!("n={} max={:.3} conact={:.3}", c.size, c.max_act, c.conact));
                m
            })
            .collect(),
        background: [0.25; 4],
        has_background: true,
        warnings: vec![],
    }
}

/// A logo at most about 560 px wide (long CRMs get narrower columns).
fn logo(m: &Motif) -> Result<String> {
    let col_width = (560.0 / m.len().max(1) as f32).clamp(6.0, 14.0);
    draw_logo(m, &json!({"col-width": col_width, "height": 56.0}))
}

fn match_cell(v: Option<&BestMatch>) -> String {
    match v {
        Some(BestMatch { target: Some(t), hit: Some(h), .. }) => format!(
            "{} {} (E = {}, q = {}{})",
            escape(t),
            escape(h.name.as_deref().unwrap_or("")),
            format_number(h.e),
            format_number(h.q),
            if h.reverse { ", reverse strand" } else { "" }
        ),
        _ => "no match".into(),
    }
}

/// `m` drawn by the `logo` figure plugin with `style`.
fn draw_logo(m: &Motif, style: &serde_json::Value) -> Result<String> {
    Ok(crate::figure("logo", style)?.render(&json!({"id": m.id, "columns": m.columns()}))?)
}

/// Syntax group `gi` of `r` drawn by the `syntax-tree` figure plugin.
fn tree_html(tree: &Node, dict: &MotifSet, gi: usize, r: &NeuronResult) -> Result<String> {
    let dictionary: Vec<_> =
        dict.motifs.iter().map(|m| json!({"id": m.id, "columns": m.columns()})).collect();
    let data = json!({
        "tree": tree,
        "dictionary": dictionary,
        "occurs": r.occurs.get(gi).cloned().unwrap_or_default(),
        "database_gaps": r.database_gaps.iter().filter(|d| d.group == gi).collect::<Vec<_>>(),
    });
    Ok(crate::figure("syntax-tree", &json!({}))?.render(&data)?)
}

/// A neuron's page (neuron.html): CRMs, the activation alignment when
/// asked for, dictionary, syntax trees, segments.
///
/// # Errors
/// If a logo cannot be drawn (the `logo` figure missing from the registry).
#[allow(clippy::too_many_lines, reason = "one page, section by section")]
pub fn neuron_page(
    r: &NeuronResult,
    db_name: &str,
    aligned: Option<&Motif>,
    sampling: Option<&Sampling>,
) -> Result<String> {
    let crm_set = crm_motifs(&r.crms, "");
    let dict_set = r.dictionary.motifs();
    let mut sections = Vec::new();
    let mut s = String::from(
        "<table><tr><th>CRM</th><th>shifts</th><th>samples</th><th>max v</th><th>conact</th><th>logo</th><th>best match</th></tr>",
    );
    let mut order: Vec<usize> = (0..r.crms.len()).collect();
    order.sort_by(|&a, &b| r.crms[b].max_act.total_cmp(&r.crms[a].max_act));
    for i in order {
        let c = &r.crms[i];
        let _ = write!(
            s,
            "<tr><td>{}</td><td>{:?}</td><td>{}</td><td>{:.3}</td><td>{:.3}</td><td>{}</td><td>{}</td></tr>",
            c.index,
            c.path,
            c.size,
            c.max_act,
            c.conact,
            logo(&crm_set.motifs[i])?,
            match_cell(r.crm_matches.get(i))
        );
    }
    s.push_str("</table>");
    sections.push((
        format!("CRMs: {} clusters (one per combination of max-pool shifts)", r.crms.len()),
        s,
    ));
    if let (Some(m), Some(a)) = (aligned, &r.aligned) {
        let (src, align_match) = (&a.source, a.best.as_ref());
        let s = format!(
            "<p>The same neuron's plain activation alignment on {}: every window whose activation passes half the neuron's maximum, stacked without separating pooling shifts.</p>{}<p>Best match: {}</p>",
            escape(src),
            logo(m)?,
            match_cell(align_match)
        );
        sections.push(("Activation alignment (Koo & Eddy), for comparison".into(), s));
    }
    let mut s = String::from(
        "<table><tr><th>motif</th><th>from segment</th><th>segments matched</th><th>logo</th><th>best match</th></tr>",
    );
    for (i, e) in r.dictionary.entries.iter().enumerate() {
        let _ = write!(
            s,
            "<tr><td>D{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            i + 1,
            escape(&e.segment.id),
            e.matched,
            logo(&dict_set.motifs[i])?,
            match_cell(r.dictionary_matches.get(i))
        );
    }
    s.push_str("</table>");
    let _ = write!(
        s,
        "<p>{} of {} CRMs explained by the dictionary.</p>",
        r.dictionary.explained.len(),
        r.crms.len()
    );
    sections.push(("Motif dictionary".into(), s));
    let mut s = String::new();
    if r.syntax.groups.is_empty() {
        s.push_str("<p>No dictionary motif was placed in a CRM.</p>");
    }
    for (gi, g) in r.syntax.groups.iter().enumerate() {
        let names: Vec<String> = g.motifs.iter().map(|m| format!("D{}", m + 1)).collect();
        let _ = write!(s, "<h3>{} ({} CRMs)</h3>", escape(&names.join(" → ")), g.crms.len());
        s.push_str("<div class=\"tree\">");
        s.push_str(&tree_html(&g.tree, &dict_set, gi, r)?);
        s.push_str("</div>");
    }
    s.push_str("<p>Gap labels follow NeuronMotif: the distance between the dictionary motifs' starts minus the left motif's length, so they include the segments' padding. The core gap counts between the columns above 1 bit; the database gap between the matched database motifs' aligned columns. \"Occurs in layer\": the first lower layer (decoupled into the same folder) with one neuron whose segments match all of the node's motifs (q < 1e-5).</p>");
    sections.push(("Syntax".into(), format!("<style>.tree .join{{display:inline-block;border-top:2px solid #888;margin:4px;padding:4px;text-align:center}}.kids{{display:flex;gap:8px}}.leaf{{display:inline-block}}</style>{s}")));
    let mut s = String::from("<table><tr><th>segment</th><th>logo</th><th>best match</th></tr>");
    let seg_set =
        motif_neuronmotif::dict::motif_set(&r.segments.iter().collect::<Vec<_>>(), &r.crms);
    for (i, m) in seg_set.motifs.iter().enumerate() {
        let _ = write!(
            s,
            "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
            escape(&m.id),
            logo(m)?,
            match_cell(r.segment_matches.get(i))
        );
    }
    s.push_str("</table>");
    sections.push((format!("Segments matched against {db_name}"), s));
    let facts = vec![
        (
            "samples".to_owned(),
            format!(
                "{} ({:?}, {} GA iterations)",
                r.samples,
                r.method,
                sampling.map_or(0, |s| s.iterations)
            ),
        ),
        ("largest activation".to_owned(), format!("{:.4}", r.max_act)),
        ("motifs per neuron m".to_owned(), r.motifs.to_string()),
        ("r = max conact / max v".to_owned(), r.r.map_or("–".into(), |v| format!("{v:.3}"))),
        ("database".to_owned(), db_name.to_owned()),
        ("seconds".to_owned(), {
            let f = |v: Option<f64>| v.map_or("–".into(), |v| format!("{v:.2}"));
            format!(
                "sampling {}, demixing {}, dictionary and syntax {}",
                f(r.seconds.sampling),
                f(r.seconds.demixing),
                f(Some(r.seconds.dictionary_and_syntax))
            )
        }),
    ];
    Ok(render_page(&Page {
        title: format!("NeuronMotif: layer {} neuron {}", r.layer, r.neuron),
        facts,
        sections,
    }))
}

/// Most CRM logos shown per neuron on the layer's index.
const INDEX_CRMS: usize = 6;

/// A neuron's CRMs as small logos, strongest (largest activation) first,
/// with their count: the `crm-logos` figure plugin.
fn crm_logos(r: &NeuronResult) -> Result<String> {
    let set = crm_motifs(&r.crms, "");
    let crms: Vec<_> = r
        .crms
        .iter()
        .zip(&set.motifs)
        .map(|(c, m)| json!({"id": m.id, "index": c.index, "max_act": c.max_act, "columns": m.columns()}))
        .collect();
    let data = json!({"crms": crms, "limit": INDEX_CRMS});
    Ok(crate::figure("crm-logos", &json!({}))?.render(&data)?)
}

/// The layer's index (index.html): one row per finished neuron.
///
/// # Errors
/// If a logo cannot be drawn.
pub fn layer_page(summary: &LayerSummary, rows: &[NeuronResult]) -> Result<String> {
    let mut s = String::from(
        "<table><tr><th>neuron</th><th>samples</th><th>CRMs (strongest first)</th><th>dictionary</th><th>syntax</th><th>top dictionary match</th></tr>",
    );
    for r in rows {
        let syn: Vec<String> = r
            .syntax
            .groups
            .iter()
            .enumerate()
            .take(2)
            .map(|(gi, g)| {
                let names: Vec<String> = g.motifs.iter().map(|m| format!("D{}", m + 1)).collect();
                let gaps: Vec<String> = g
                    .pairs
                    .iter()
                    .map(|p| {
                        let db = r
                            .database_gaps
                            .iter()
                            .find(|d| d.group == gi && d.left == p.left && d.right == p.right);
                        match db {
                            Some(d) => format!(
                                "{}; {} between {} and {}",
                                p.label(),
                                bp_range(d.min, d.max),
                                d.left_motif,
                                d.right_motif
                            ),
                            None => p.label(),
                        }
                    })
                    .collect();
                format!("{} [{}]", names.join("→"), gaps.join("; "))
            })
            .collect();
        let _ = write!(
            s,
            "<tr><td><a href=\"neuron-{n}/neuron.html\">{n}</a></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            r.samples,
            crm_logos(r)?,
            r.dictionary.entries.len(),
            escape(&syn.join(" | ")),
            match_cell(r.dictionary_matches.first()),
            n = r.neuron
        );
    }
    s.push_str("</table>");
    Ok(render_page(&Page {
        title: format!("NeuronMotif: layer {} (`{}`)", summary.layer, summary.node),
        facts: vec![
            ("window".into(), format!("{} bp", summary.window)),
            ("motifs per neuron m".into(), summary.motifs_per_neuron.to_string()),
            ("neurons finished".into(), rows.len().to_string()),
            ("database".into(), summary.database.clone()),
        ],
        sections: vec![("Neurons".into(), s)],
    }))
}
