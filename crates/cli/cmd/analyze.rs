//! `motiftool analyze` and `motiftool extract`: flags → the workflows'
//! configs ([`motif_workflow::analyze`], [`motif_workflow::extract`]).

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;
use motif_core::rundir::RunDir;
use motif_workflow::{analyze, extract};

use crate::progress::Progress;
use motif_workflow::cli::{config_file, drop_source_if_typed, overlay};

/// The flags `analyze` and `extract` share: the sequence file, the
/// extraction settings, `--set`, `--config`.
#[derive(Debug, Args)]
pub struct ExtractArgs {
    /// Sequences (FASTA, DeepBind .seq, TSV; gzip ok), all one length.
    /// Default: --n uniform random sequences of the model's input length
    /// (--len when the model takes any length), seeded by --seed.
    #[arg(long)]
    pub seqs: Option<PathBuf>,
    #[command(flatten)]
    pub settings: extract::Config,
    /// Extractor config, `key=value` (repeatable), e.g. `threshold=0.7`.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,
    /// Settings from a TOML file, keys as in run.json's `config` (an example
    /// follows); flags given on the command line override it.
    #[arg(long, value_name = "TOML")]
    pub config: Option<PathBuf>,
    /// Hide progress bars.
    #[arg(long)]
    pub quiet: bool,
}

impl ExtractArgs {
    /// These flags laid over `base` (`matches` tell which were typed).
    fn over(&self, mut c: extract::Config, matches: &clap::ArgMatches) -> Result<extract::Config> {
        let mut flags = self.settings.clone();
        flags.input.seqs.clone_from(&self.seqs);
        drop_source_if_typed(&mut c.input, matches);
        let mut c = overlay(&c, &flags, matches)?;
        for s in &self.set {
            motif_core::plugin::apply_set(&mut c.extractor_config, s)?;
        }
        Ok(c)
    }
}

/// Arguments of `analyze`.
#[derive(Debug, Args)]
pub struct AnalyzeArgs {
    #[command(flatten)]
    pub x: ExtractArgs,
    /// Motif database. Default: the bundled JASPAR 2024 CORE vertebrates set.
    #[arg(long)]
    pub db: Option<PathBuf>,
    /// Output folder.
    #[arg(short = 'o', long = "out", default_value = "motiftool-analyze")]
    pub out: PathBuf,
}

/// Arguments of `extract`.
#[derive(Debug, Args)]
pub struct ExtractCmdArgs {
    #[command(flatten)]
    pub x: ExtractArgs,
    /// Output folder.
    #[arg(short = 'o', long = "out", default_value = "motiftool-extract")]
    pub out: PathBuf,
}

/// The analyze config: `--config`'s, then the flags.
fn analyze_config(a: &AnalyzeArgs, matches: &clap::ArgMatches) -> Result<analyze::Config> {
    let mut c: analyze::Config = config_file(a.x.config.as_deref())?;
    c.extract = a.x.over(c.extract, matches)?;
    if a.db.is_some() {
        c.db.clone_from(&a.db);
    }
    Ok(c)
}

/// Runs `analyze`.
pub fn run(a: &AnalyzeArgs, matches: &clap::ArgMatches) -> Result<()> {
    let config = analyze_config(a, matches)?;
    let mut run = RunDir::create(&a.out, "analyze")?;
    let mut progress = Progress::new(a.x.quiet);
    let s = analyze::run(&config, &mut run, &mut |e| progress.event(e))?;
    progress.clear();
    let manifest = run.finish(&s)?;
    let t = |k: &str| manifest.timings_s.get(k).copied().unwrap_or(0.0);
    eprintln!(
        "motiftool: {} filters, {} match a database motif ({}, E < {}) → {} (report.html); inference {:.2} s, extraction {:.2} s, matching {:.2} s, rendering {:.2} s",
        s.filters.len(),
        s.matched(),
        s.policy.describe(),
        s.policy.max_evalue,
        a.out.display(),
        t("inference"),
        t("extraction"),
        t("matching"),
        t("rendering"),
    );
    Ok(())
}

/// Runs `extract`.
pub fn run_extract(a: &ExtractCmdArgs, matches: &clap::ArgMatches) -> Result<()> {
    let config = config_file(a.x.config.as_deref())?;
    let config = a.x.over(config, matches)?;
    let mut run = RunDir::create(&a.out, "extract")?;
    let mut progress = Progress::new(a.x.quiet);
    let s = extract::run(&config, &mut run, &mut |e| progress.event(e))?;
    progress.clear();
    run.finish(&s)?;
    let active = s.filters.iter().filter(|f| f.nsites != Some(0.0)).count();
    eprintln!(
        "motiftool: {} filters ({active} fired) → {} (filters.meme)",
        s.filters.len(),
        a.out.join("").display()
    );
    Ok(())
}
