//! `motiftool logo`: one information-content logo per motif.

use std::path::PathBuf;

use anyhow::Result;
use clap::{Args, ValueEnum};
use motif_workflow::logo;

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

/// Runs `logo`.
pub fn run(a: &LogoArgs) -> Result<()> {
    let config = logo::Config {
        motifs: a.motifs.clone(),
        out: a.out.clone(),
        rc: a.rc,
        format: match a.format {
            Format::Svg => logo::Format::Svg,
            Format::Png => logo::Format::Png,
        },
        col_width: a.col_width,
        height: a.height,
    };
    let mut bars = crate::progress::Progress::new(false);
    let files = logo::run(&config, &mut |e| bars.event(e))?;
    bars.clear();
    eprintln!("motiftool: {} logos in {}", files.len(), a.out.display());
    Ok(())
}
