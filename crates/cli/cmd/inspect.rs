//! `motiftool inspect`.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::PathBuf;

use anyhow::Result;
use clap::Args;

/// Arguments of `inspect`.
#[derive(Debug, Args)]
pub struct InspectArgs {
    /// The ONNX model.
    pub model: PathBuf,
    /// Print the structure as JSON.
    #[arg(long)]
    pub json: bool,
    /// Also list every intermediate tensor name (for `predict --output`).
    #[arg(long)]
    pub tensors: bool,
}

/// Runs `inspect`.
pub fn run(a: &InspectArgs) -> Result<()> {
    let model = motif_onnx::Model::load(&a.model)?;
    let s = model.structure();
    let mut out = std::io::stdout().lock();
    if a.json {
        let mut v = serde_json::to_value(s)?;
        v["model"] = a.model.display().to_string().into();
        v["external_data"] = model.has_external_data().into();
        if a.tensors {
            v["tensors"] = model.tensor_names().into();
        }
        writeln!(out, "{}", serde_json::to_string_pretty(&v)?)?;
        return Ok(());
    }
    let mut t = s.summary(&a.model.display().to_string(), model.has_external_data());
    if a.tensors {
        let _ = writeln!(t, "\ntensors");
        for n in model.tensor_names() {
            let _ = writeln!(t, "  {n}");
        }
    }
    out.write_all(t.as_bytes())?;
    Ok(())
}
