//! `motiftool engines`.

use std::io::Write as _;

use anyhow::Result;
use clap::Args;

/// Arguments of `engines`.
#[derive(Debug, Args)]
pub struct EnginesArgs {
    /// Print as JSON.
    #[arg(long)]
    pub json: bool,
}

/// Runs `engines`.
pub fn run(a: &EnginesArgs) -> Result<()> {
    let list = motif_engine::engines();
    let mut out = std::io::stdout().lock();
    if a.json {
        writeln!(out, "{}", serde_json::to_string_pretty(&list)?)?;
        return Ok(());
    }
    for e in &list {
        let devices: Vec<String> = e.devices.iter().map(ToString::to_string).collect();
        writeln!(
            out,
            "{:<6} {:<10} {:<9} {}",
            e.engine.to_string(),
            if e.usable { "usable" } else { "unusable" },
            if devices.is_empty() { "-".to_owned() } else { devices.join(",") },
            e.detail
        )?;
    }
    let auto = if list.iter().any(|e| e.engine == motif_engine::EngineKind::Ort && e.usable) {
        "ort"
    } else {
        "tract"
    };
    writeln!(out, "--engine auto uses {auto}")?;
    Ok(())
}
