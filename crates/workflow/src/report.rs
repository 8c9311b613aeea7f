//! `report`: a run folder's HTML redrawn from its typed results (run.json
//! names the workflow, summary.json and the workflow's result files hold
//! the rest), nothing recomputed, so a report change never needs a rerun.

use std::path::{Path, PathBuf};

use motif_core::rundir::Manifest;

use crate::{Error, Result, invalid};

/// What was redrawn.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Redrawn {
    /// The page written (report.html, or a decouple layer's index.html).
    pub page: PathBuf,
    /// Neuron pages also redrawn (decouple).
    pub neuron_pages: usize,
}

/// Redraws the report of the run in `dir`.
///
/// # Errors
/// If run.json or a result file is missing or from another version, the
/// workflow has no HTML report (train, simulate, extract), or a page cannot
/// be written.
pub fn redraw(dir: &Path) -> Result<Redrawn> {
    let manifest: Manifest = read(&dir.join("run.json"))?;
    match manifest.workflow.as_str() {
        "analyze" => {
            let s: crate::analyze::Summary = read(&dir.join("summary.json"))?;
            let html = crate::analyze::render(&s)?;
            let page = dir.join("report.html");
            motif_core::fsio::write_atomic(&page, html.as_bytes())
                .map_err(|e| motif_core::Error::io(&page, e))?;
            Ok(Redrawn { page, neuron_pages: 0 })
        }
        "prune" => {
            crate::prune::redraw(dir)?;
            Ok(Redrawn { page: dir.join("report.html"), neuron_pages: 0 })
        }
        "decouple" => {
            let n = crate::decouple::redraw(dir)?;
            Ok(Redrawn { page: dir.join("index.html"), neuron_pages: n })
        }
        w => Err(invalid(format!(
            "{}: a `{w}` run has no HTML report to redraw (its results are in summary.json); `report` redraws analyze, prune and decouple runs",
            dir.display()
        ))),
    }
}

/// A run file, or an error naming it.
fn read<T: serde::de::DeserializeOwned>(p: &Path) -> Result<T> {
    let text = std::fs::read_to_string(p).map_err(|e| motif_core::Error::io(p, e))?;
    serde_json::from_str(&text).map_err(|_| {
        Error::Invalid(format!(
            "{}: not a run file this motiftool can read (from an older version? rerun the command)",
            p.display()
        ))
    })
}
