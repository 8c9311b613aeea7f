//! prune's report.html: AUC against kernel number, the surviving kernels'
//! dense weights across steps, the final kernels' logos and matches.

use std::fmt::Write as _;

use motif_core::plugin::FILTER_MATCHES;
use motif_prune::{Journal, Record, SummaryRow, Variant};
use motif_report::figures::ChartData;
use motif_report::{ChartOptions, Page, Series, format_number, palette, render_page};

use super::{Claim, Final, RunFacts};
use crate::{Result, invalid};

/// A line chart through the `line-chart` figure plugin.
fn line_chart(series: &[Series], options: ChartOptions) -> Result<String> {
    let data = ChartData { series: series.to_vec(), options };
    let data = serde_json::to_value(&data).map_err(|e| invalid(e.to_string()))?;
    crate::figure("line-chart", &serde_json::json!({}))?.render(&data).map_err(Into::into)
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
    let series: Vec<Series> = variants
        .iter()
        .filter(|v| **v != Variant::Full)
        .enumerate()
        .map(|(i, &v)| {
            let mut rows: Vec<&SummaryRow> = summary.iter().filter(|s| s.variant == v).collect();
            if let Some(f) = full.filter(|_| v != Variant::Baseline) {
                rows.insert(0, f);
            }
            Series {
                label: v.name().into(),
                colour: palette(i).into(),
                points: rows.iter().map(|s| (s.kernels as f64, s.mean)).collect(),
                band: if seeds.len() > 1 {
                    rows.iter().map(|s| (s.kernels as f64, s.min, s.max)).collect()
                } else {
                    Vec::new()
                },
                dashed: v == Variant::Inter,
            }
        })
        .collect();
    let chart = line_chart(
        &series,
        ChartOptions {
            title: "Test AUC against kernel number".into(),
            x_label: "kernels (log2 scale)".into(),
            y_label: if seeds.len() > 1 {
                "test ROC AUC (mean; band: min–max over seeds)".into()
            } else {
                "test ROC AUC".into()
            },
            log2_x: true,
            reverse_x: true,
            ..Default::default()
        },
    )?;
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
        let series: Vec<Series> = last
            .kept
            .iter()
            .enumerate()
            .map(|(i, &k)| Series {
                label: format!("kernel {k}"),
                colour: palette(i).into(),
                points: chain
                    .iter()
                    .filter_map(|r| {
                        r.kept
                            .iter()
                            .position(|&x| x == k)
                            .map(|p| (r.kernels as f64, f64::from(r.dense[p][0])))
                    })
                    .collect(),
                ..Default::default()
            })
            .collect();
        let chart = line_chart(
            &series,
            ChartOptions {
                title: format!("Dense weights of the surviving kernels (seed {seed})"),
                x_label: "kernels (log2 scale)".into(),
                y_label: "dense weight (first output)".into(),
                log2_x: true,
                reverse_x: true,
                ..Default::default()
            },
        )?;
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
