//! `motiftool predict` and `motiftool evaluate`.

use std::io::Write as _;
use std::path::PathBuf;

use anyhow::Result;
use clap::Args;
use motif_workflow::cli::settings_with_input;
use motif_workflow::predict;

use crate::output::Sink;
use crate::progress::Progress;

/// Shared help on sequence inputs.
pub const SEQ_HELP: &str = "\
Sequence files (gzip or not, detected from content):
  FASTA       `>id label` headers (the label is optional), sequence on one or more lines
  DeepBind    `.seq` table: FoldID EventID seq Bound (header optional)
  TSV / CSV   seq<TAB>label per line, or a table with a header row: the sequence column is the
              one named seq/sequence (--seq-col NAME), labels `label`, `y`, `target`, `bound`
              or `class` (--label-col NAME, repeatable for several tasks), ids `id`/`name`
              (--id-col NAME)
The format follows the file name (.fa/.fasta, .seq, .tsv/.txt, .csv) or is sniffed; --format overrides.
Letters A, C, G, T (any case) are one-hot encoded in that order; N becomes 0.25 in every channel;
any other letter is an error naming the file and line. Sequences of different lengths are fine:
they are grouped by length into batches (each batch one length), and results keep input order.
Large files stream with bounded memory.";

/// Arguments of `predict`.
#[derive(Debug, Args)]
pub struct PredictArgs {
    /// Sequences (FASTA, DeepBind .seq, TSV or CSV; .gz fine); or --bed
    /// with --genome.
    #[arg(long, required_unless_present_any = ["bed", "config"])]
    pub seqs: Option<PathBuf>,
    #[command(flatten)]
    pub settings: predict::Config,
    #[command(flatten)]
    pub file: crate::ConfigFile,
    /// Output file (written atomically): predict's TSV, evaluate's report;
    /// stdout when absent or `-`.
    #[arg(short = 'o', long = "out")]
    pub out: Option<PathBuf>,
}

/// Arguments of `evaluate`.
#[derive(Debug, Args)]
pub struct EvaluateArgs {
    #[command(flatten)]
    pub predict: PredictArgs,
    /// Which value of the output is the score (column of the first output).
    #[arg(long, default_value_t = 0)]
    pub score_index: usize,
    /// Print as JSON.
    #[arg(long)]
    pub json: bool,
}

impl PredictArgs {
    /// `--config`'s settings, then the flags typed.
    fn config(&self, matches: &clap::ArgMatches) -> Result<predict::Config> {
        let (file, seqs) = (self.file.config.as_deref(), self.seqs.as_deref());
        let flags = self.settings.clone();
        Ok(settings_with_input(file, flags, seqs, |c| &mut c.input, matches)?)
    }
}

/// Runs `predict`.
pub fn run_predict(a: &PredictArgs, matches: &clap::ArgMatches) -> Result<()> {
    let config = a.config(matches)?;
    let mut sink = Sink::open(a.out.as_deref(), &config.inputs())?;
    let mut progress = Progress::new(false);
    let s = predict::predict(&config, &mut sink, &mut |e| progress.event(e))?;
    progress.clear();
    sink.finish()?;
    eprintln!("motiftool: scored {} sequences with {} on {}", s.sequences, s.engine, s.device);
    Ok(())
}

/// Runs `evaluate`.
pub fn run_evaluate(a: &EvaluateArgs, matches: &clap::ArgMatches) -> Result<()> {
    let config = a.predict.config(matches)?;
    // -o writes the report to a file (atomically) instead of stdout.
    let mut out = Sink::open(a.predict.out.as_deref(), &config.inputs())?;
    let mut progress = Progress::new(false);
    let e = predict::evaluate(&config, a.score_index, &mut |ev| progress.event(ev))?;
    progress.clear();
    if a.json {
        writeln!(out, "{}", serde_json::to_string_pretty(&e)?)?;
    } else {
        writeln!(out, "sequences  {} ({} positive, {} negative)", e.n, e.positives, e.negatives)?;
        writeln!(out, "ROC AUC    {:.4}", e.roc_auc)?;
        writeln!(out, "PR AUC     {:.4}", e.pr_auc)?;
        writeln!(out, "engine     {} on {}", e.engine, e.device)?;
    }
    out.finish()
}
