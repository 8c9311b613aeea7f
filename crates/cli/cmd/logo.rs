//! `motiftool logo`: one information-content logo per motif.

use anyhow::Result;
use motif_workflow::logo;

/// Runs `logo`.
pub fn run(config: &logo::Config) -> Result<()> {
    let mut bars = crate::progress::Progress::new(false);
    let files = logo::run(config, &mut |e| bars.event(e))?;
    bars.clear();
    eprintln!("motiftool: {} logos in {}", files.len(), config.out.display());
    Ok(())
}
