//! prune's report.html: AUC against kernel number, the surviving kernels'
//! dense weights across steps, the final kernels' logos and matches.

use std::fmt::Write as _;

use motif_core::plugin::FILTER_MATCHES;
use motif_prune::{Journal, Record, SummaryRow, Variant};
use motif_report::{Page, format_number, render_page};
use serde_json::json;

use super::{Claim, Final, RunFacts};
use crate::Result;

/// Figure `name` (no settings) drawn from `data`, through the registry.
fn figure(name: &str, data: &serde_json::Value) -> Result<String> {
    crate::figure(name, &json!({}))?.render(data).map_err(Into::into)
}

/// What the report draws.
pub(super) struct Inputs<'a> {
    pub facts: &'a RunFacts,
    pub journals: &'a [Journal],
    pub summary: &'a [SummaryRow],
    pub finals: &'a [Final],
    pub claim: Option<&'a Claim>,
    /// Seconds in the steps, and of that training.
    pub seconds: (f64, f64),
}

/// The run's report.html.
#[allow(clippy::too_many_lines, reason = "one page, section by section")]
pub(super) fn page(i: &Inputs<'_>) -> Result<String> {
    let Inputs { facts: a, journals, summary, finals, claim, seconds } = *i;
    let (source, seeds, db_name) = (a.model.as_str(), a.seeds.as_slice(), a.database.as_str());
    let (steps_s, train_s) = seconds;
    let Some(first) = journals.first() else {
        return Ok(render_page(&Page {
            title: format!("motiftool prune: {source}"),
            facts: vec![],
            sections: vec![],
        }));
    };
    let mut facts = vec![
        ("model".to_string(), source.to_string()),
        ("criterion".into(), a.criterion.clone()),
        (
            "kernels".into(),
            format!("{} → {} in {} halvings", first.kernels, first.target, first.steps),
        ),
        ("learning rate".into(), format!("lr_init {} divided by {} per step", a.lr, a.decay)),
        ("seeds".into(), seeds.iter().map(u64::to_string).collect::<Vec<_>>().join(", ")),
        ("engine".into(), first.engine.clone()),
        (
            "time".into(),
            format!(
                "{steps_s:.1} s in the pruning steps, {train_s:.1} s of it training ({:.0} %)",
                100.0 * train_s / steps_s.max(1e-9)
            ),
        ),
    ];
    if let Some(c) = claim {
        facts.push((
            "claim".into(),
            format!(
                "Deepprune at {} kernels: mean test AUC {:.4} vs baseline {:.4} → {}{}",
                c.kernels,
                c.deepprune_mean_auc,
                c.baseline_mean_auc,
                if c.auc_claim_held { "held" } else { "did not hold" },
                c.matching.map_or(String::new(), |m| {
                    let per_seed = c
                        .planted_motifs_matched_per_seed
                        .as_ref()
                        .map(|v| {
                            v.iter()
                                .map(|s| s.motifs.len().to_string())
                                .collect::<Vec<_>>()
                                .join(", ")
                        })
                        .unwrap_or_default();
                    format!(
                        "; final kernels matching a planted motif (E < {}): {m} of {}; \
                             distinct planted motifs matched, per seed: {per_seed}",
                        FILTER_MATCHES.max_evalue, c.final_kernels
                    )
                })
            ),
        ));
    }
    let mut sections = Vec::new();
    // AUC vs kernels
    let mut variants: Vec<Variant> = summary.iter().map(|s| s.variant).collect();
    variants.dedup();
    let full = summary.iter().find(|s| s.variant == Variant::Full);
    let lines: Vec<serde_json::Value> = variants
        .iter()
        .filter(|v| **v != Variant::Full)
        .map(|&v| {
            let mut rows: Vec<&SummaryRow> = summary.iter().filter(|s| s.variant == v).collect();
            if let Some(f) = full.filter(|_| v != Variant::Baseline) {
                rows.insert(0, f);
            }
            let points: Vec<_> =
                rows.iter().map(|s| (s.kernels as f64, s.mean, s.min, s.max)).collect();
            json!({"variant": v.name(), "dashed": v == Variant::Inter, "points": points})
        })
        .collect();
    let chart = figure("auc-curve", &json!({"seeds": seeds.len(), "lines": lines}))?;
    let mut tab = String::from(
        "<table><thead><tr><th>variant</th><th>kernels</th><th>seeds</th><th>mean test AUC</th><th>sd</th><th>min</th><th>max</th></tr></thead><tbody>",
    );
    for s in summary {
        let _ = write!(
            tab,
            "<tr><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{:.4}</td><td class=\"n\">{:.4}</td><td class=\"n\">{:.4}</td><td class=\"n\">{:.4}</td></tr>",
            s.variant, s.kernels, s.n, s.mean, s.sd, s.min, s.max
        );
    }
    tab.push_str("</tbody></table>");
    sections.push(("AUC against kernel number".to_string(), format!("<figure id=\"auc\">{chart}</figure><p>deepprune: pruned and fine-tuned; inter: pruned, before that step's fine-tuning; lottery: survivors reset to their initial weights and retrained at lr_init; baseline: a fresh model of that size.</p>{tab}")));
    // weight trajectories of the final kernels (first seed's run)
    for (j, &seed) in journals.iter().zip(seeds) {
        let Some(last) =
            j.done.last().and_then(|s| s.records.iter().find(|r| r.variant == Variant::Deepprune))
        else {
            continue;
        };
        let mut chain: Vec<&Record> = vec![&j.start];
        chain.extend(
            j.done
                .iter()
                .filter_map(|s| s.records.iter().find(|r| r.variant == Variant::Deepprune)),
        );
        let kernels: Vec<serde_json::Value> = last
            .kept
            .iter()
            .map(|&k| {
                let points: Vec<(f64, f64)> = chain
                    .iter()
                    .filter_map(|r| {
                        r.kept
                            .iter()
                            .position(|&x| x == k)
                            .map(|p| (r.kernels as f64, f64::from(r.dense[p][0])))
                    })
                    .collect();
                json!({"kernel": k, "points": points})
            })
            .collect();
        let chart = figure("weight-trajectories", &json!({"seed": seed, "kernels": kernels}))?;
        let mut t = String::from("<table><thead><tr><th>kernel</th>");
        for r in &chain {
            let _ = write!(t, "<th>{} kernels</th>", r.kernels);
        }
        t.push_str("</tr></thead><tbody>");
        for &k in &last.kept {
            let _ = write!(t, "<tr><td>{k}</td>");
            for r in &chain {
                let w = r
                    .kept
                    .iter()
                    .position(|&x| x == k)
                    .map_or("–".into(), |p| format!("{:.3}", r.dense[p][0]));
                let _ = write!(t, "<td class=\"n\">{w}</td>");
            }
            t.push_str("</tr>");
        }
        t.push_str("</tbody></table>");
        sections.push((
            format!("Surviving kernels' dense weights across steps (seed {seed})"),
            format!("<figure class=\"weights\">{chart}</figure>{t}"),
        ));
        if !a.protocol || seeds.len() > 3 {
            break;
        }
    }
    // final kernels
    let mut f = format!(
        "<p>Activation-aligned motifs of the final kernels on the test sequences (Koo &amp; Eddy, threshold 0.5, trimmed), matched against {} with tomtom statistics ({}).</p><table><thead><tr><th>seed</th><th>kernel</th><th>dense weight</th><th>logo</th><th>consensus</th><th>best match</th><th>E-value</th></tr></thead><tbody>",
        motif_report::escape(db_name),
        FILTER_MATCHES.describe()
    );
    for fin in finals {
        for k in &fin.rows {
            let _ = write!(
                f,
                "<tr class=\"final\"><td title=\"model {}\">{}</td><td>{}</td><td class=\"n\">{:.3}</td><td>{}</td><td><code>{}</code></td><td>{}</td><td class=\"n\">{}</td></tr>",
                motif_report::escape(&fin.model),
                fin.seed,
                k.original,
                k.dense.first().copied().unwrap_or(f32::NAN),
                k.logo,
                motif_report::escape(&k.consensus),
                if k.nsites == Some(0.0) {
                    "<span class=\"none\">never fired</span>".into()
                } else {
                    k.best_target
                        .as_deref()
                        .map_or("<span class=\"none\">none</span>".into(), motif_report::escape)
                },
                k.best_e.map_or("–".into(), format_number)
            );
        }
    }
    f.push_str("</tbody></table>");
    sections.push(("Final kernels".to_string(), f));
    Ok(render_page(&Page { title: format!("motiftool prune: {source}"), facts, sections }))
}
