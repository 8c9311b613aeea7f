//! `motiftool report RUN_DIR`: the run's HTML redrawn from its typed
//! summary.json, nothing recomputed.

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::Args;
use motif_core::rundir::Manifest;

/// Arguments of `report`.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// A run folder holding run.json and summary.json (for decouple, a
    /// `layer-L` folder).
    pub run_dir: PathBuf,
}

fn read<T: serde::de::DeserializeOwned>(p: &std::path::Path) -> Result<T> {
    let text =
        std::fs::read_to_string(p).with_context(|| format!("{}: cannot read", p.display()))?;
    serde_json::from_str(&text).with_context(|| {
        format!(
            "{}: not a run file this motiftool can read (from an older version? rerun the command)",
            p.display()
        )
    })
}

/// Runs `report`.
pub fn run(a: &ReportArgs) -> Result<()> {
    let manifest: Manifest = read(&a.run_dir.join("run.json"))?;
    match manifest.workflow.as_str() {
        "analyze" => {
            let s: motif_workflow::analyze::Summary = read(&a.run_dir.join("summary.json"))?;
            let html = motif_workflow::analyze::render(&s)?;
            let out = a.run_dir.join("report.html");
            motif_core::fsio::write_atomic(&out, html.as_bytes())
                .with_context(|| format!("{}: cannot write", out.display()))?;
            eprintln!("motiftool: {} redrawn", out.display());
        }
        "prune" => {
            motif_workflow::prune::redraw(&a.run_dir)?;
            eprintln!("motiftool: {} redrawn", a.run_dir.join("report.html").display());
        }
        "decouple" => {
            let n = motif_workflow::decouple::redraw(&a.run_dir)?;
            eprintln!(
                "motiftool: {} and {n} neuron pages redrawn",
                a.run_dir.join("index.html").display()
            );
        }
        w => bail!(
            "{}: a `{w}` run has no HTML report to redraw (its results are in summary.json); `report` redraws analyze, prune and decouple runs",
            a.run_dir.display()
        ),
    }
    Ok(())
}
