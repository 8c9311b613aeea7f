//! `motiftool logo`: one information-content logo per motif.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use clap::{Args, ValueEnum};
use motif_core::motif::read_motifs;
use motif_report::{LogoOptions, logo_png, logo_svg};

use crate::output::Sink;

/// Arguments of `logo`.
#[derive(Debug, Args)]
pub struct LogoArgs {
    /// Motifs (MEME, JASPAR, TRANSFAC or HOMER; gzip ok).
    pub motifs: PathBuf,
    /// Output folder (created); one file per motif, named after its id.
    #[arg(short = 'o', long = "out")]
    pub out: PathBuf,
    /// Draw reverse complements.
    #[arg(long)]
    pub rc: bool,
    /// Image format.
    #[arg(long, value_enum, default_value_t = Format::Svg)]
    pub format: Format,
    /// Pixels per column.
    #[arg(long, default_value_t = 24.0)]
    pub col_width: f32,
    /// Pixels for 2 bits.
    #[arg(long, default_value_t = 100.0)]
    pub height: f32,
}

/// `--format`.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Format {
    /// Scalable vector graphics.
    Svg,
    /// Portable network graphics.
    Png,
}

/// Writes `bytes` to `path` atomically.
pub fn write_file(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut sink = Sink::open(Some(path), &[])?;
    sink.write_all(bytes).with_context(|| format!("writing {}", path.display()))?;
    sink.finish()
}

/// Runs `logo`.
pub fn run(a: &LogoArgs) -> Result<()> {
    if !(a.col_width >= 4.0 && a.col_width <= 500.0 && a.height >= 10.0 && a.height <= 2000.0) {
        bail!("--col-width must be in 4..=500 and --height in 10..=2000 pixels");
    }
    let set = read_motifs(&a.motifs)?;
    if set.motifs.is_empty() {
        bail!("{}: no motifs", a.motifs.display());
    }
    for w in &set.warnings {
        eprintln!("motiftool: warning: {w}");
    }
    std::fs::create_dir_all(&a.out)
        .with_context(|| format!("{}: cannot create the folder", a.out.display()))?;
    let o =
        LogoOptions { col_width: a.col_width, height: a.height, rc: a.rc, ..Default::default() };
    let mut seen = std::collections::HashMap::new();
    for m in &set.motifs {
        let mut stem = motif_report::file_stem(&m.id);
        let n = seen.entry(stem.clone()).or_insert(0usize);
        *n += 1;
        if *n > 1 {
            stem = format!("{stem}_{n}");
        }
        if a.rc {
            stem.push_str("_rc");
        }
        match a.format {
            Format::Svg => {
                write_file(&a.out.join(format!("{stem}.svg")), logo_svg(m, &o).as_bytes())?;
            }
            Format::Png => {
                let png = logo_png(m, &o).map_err(|e| anyhow::anyhow!("motif `{}`: {e}", m.id))?;
                write_file(&a.out.join(format!("{stem}.png")), &png)?;
            }
        }
    }
    eprintln!("motiftool: {} logos in {}", set.motifs.len(), a.out.display());
    Ok(())
}
