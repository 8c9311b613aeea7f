//! `motiftool logo`: one information-content logo per motif.

use anyhow::Result;
use clap::Args;
use motif_workflow::cli::settings;
use motif_workflow::logo;

/// Arguments of `logo`.
#[derive(Debug, Args)]
pub struct LogoArgs {
    #[command(flatten)]
    pub settings: logo::Config,
    #[command(flatten)]
    pub file: crate::ConfigFile,
}

/// Runs `logo`.
pub fn run(a: &LogoArgs, matches: &clap::ArgMatches) -> Result<()> {
    let config = settings(a.file.config.as_deref(), &a.settings, matches)?;
    let mut bars = crate::progress::Progress::new(false);
    let files = logo::run(&config, &mut |e| bars.event(e))?;
    bars.clear();
    eprintln!("motiftool: {} logos in {}", files.len(), config.out.display());
    Ok(())
}
