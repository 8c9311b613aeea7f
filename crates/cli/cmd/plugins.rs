//! `motiftool plugins`.

use std::io::Write as _;

use anyhow::Result;
use clap::{Args, Subcommand};
use motif_core::plugin::{self, PluginKind};

/// Arguments of `plugins`.
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct PluginsArgs {
    /// Only plugins of this kind (criterion, extractor, matcher, decoupler, figure).
    #[arg(long)]
    pub kind: Option<String>,
    /// Print as JSON.
    #[arg(long)]
    pub json: bool,
    #[command(subcommand)]
    pub show: Option<ShowCmd>,
}

/// `plugins show NAME`.
#[derive(Debug, Subcommand)]
pub enum ShowCmd {
    /// Print a plugin's docs, version, status and default config.
    Show {
        /// Plugin name.
        name: String,
    },
}

/// Runs `plugins`.
pub fn run(a: &PluginsArgs) -> Result<()> {
    let mut out = std::io::stdout().lock();
    if let Some(ShowCmd::Show { name }) = &a.show {
        let p = plugin::find(name)?;
        writeln!(out, "{} ({}, version {}, {:?})\n", p.name, p.kind.name(), p.version, p.status)?;
        writeln!(out, "{}\n", p.docs.trim_end())?;
        writeln!(out, "default config (TOML):\n{}", toml_of(&p.default_config))?;
        return Ok(());
    }
    let kind = a.kind.as_deref().map(PluginKind::parse).transpose()?;
    let list: Vec<_> =
        plugin::all()?.into_iter().filter(|p| kind.is_none_or(|k| p.kind == k)).collect();
    if a.json {
        writeln!(out, "{}", serde_json::to_string_pretty(&list)?)?;
        return Ok(());
    }
    let kinds: Vec<PluginKind> = kind.map_or_else(|| PluginKind::ALL.to_vec(), |k| vec![k]);
    for k in kinds {
        let of_kind: Vec<_> = list.iter().filter(|p| p.kind == k).collect();
        writeln!(out, "{} — {}", k.name(), k.summary())?;
        if of_kind.is_empty() {
            writeln!(out, "  (none registered)")?;
        }
        for p in of_kind {
            writeln!(out, "  {:<22} {}  [{}]", p.name, p.summary, p.version)?;
        }
    }
    if list.is_empty() {
        writeln!(out, "\nNo plugins are registered in this build.")?;
    }
    Ok(())
}

fn toml_of(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::Object(m) if m.is_empty() => "(no options)".into(),
        serde_json::Value::Object(m) => {
            m.iter().map(|(k, v)| format!("{k} = {v}")).collect::<Vec<_>>().join("\n")
        }
        other => other.to_string(),
    }
}
