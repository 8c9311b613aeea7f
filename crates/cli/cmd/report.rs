//! `motiftool report RUN_DIR`: the run's HTML redrawn from its typed
//! summary.json, nothing recomputed.

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;

/// Arguments of `report`.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// A run folder holding run.json and summary.json (for decouple, a
    /// `layer-L` folder).
    pub run_dir: PathBuf,
}

/// Runs `report`.
pub fn run(a: &ReportArgs) -> Result<()> {
    let r = motif_workflow::report::redraw(&a.run_dir)?;
    if r.neuron_pages > 0 {
        eprintln!("motiftool: {} and {} neuron pages redrawn", r.page.display(), r.neuron_pages);
    } else {
        eprintln!("motiftool: {} redrawn", r.page.display());
    }
    Ok(())
}
