//! `motiftool predict` and `motiftool evaluate`.

use std::io::Write as _;
use std::path::PathBuf;

use anyhow::{Result, bail};
use clap::{Args, ValueEnum};
use motif_core::seqio::SeqFormat;

use crate::EngineArgs;
use crate::output::Sink;

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

/// `--format`.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum FormatOpt {
    /// FASTA.
    Fasta,
    /// DeepBind `.seq`.
    Seq,
    /// seq<TAB>label, or a table with a header row.
    Tsv,
    /// Comma-separated table with a header row.
    Csv,
}

/// Arguments of `predict`.
#[derive(Debug, Args)]
pub struct PredictArgs {
    /// The ONNX model.
    pub model: PathBuf,
    /// Sequences (FASTA, DeepBind .seq, TSV or CSV; .gz fine); or --bed
    /// with --genome.
    #[arg(long, required_unless_present = "bed")]
    pub seqs: Option<PathBuf>,
    /// Labels by id (`id label` per line) for files whose records carry none.
    #[arg(long)]
    pub labels: Option<PathBuf>,
    /// Sequence file format (default: from the file name, else sniffed).
    #[arg(long, value_enum)]
    pub format: Option<FormatOpt>,
    /// Tensors to write: graph outputs by default; any intermediate tensor
    /// by name (see `motiftool inspect --tensors`). Repeat for several.
    #[arg(long = "output", value_name = "TENSOR")]
    pub outputs: Vec<String>,
    #[command(flatten)]
    pub columns: crate::ColumnArgs,
    #[command(flatten)]
    pub genome: crate::GenomeArgs,
    /// Output file (written atomically): predict's TSV, evaluate's report;
    /// stdout when absent or `-`.
    #[arg(short = 'o', long = "out")]
    pub out: Option<PathBuf>,
    #[command(flatten)]
    pub engine: EngineArgs,
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

fn reader(a: &PredictArgs) -> Result<crate::Records> {
    let format = a.format.map(|f| match f {
        FormatOpt::Fasta => SeqFormat::Fasta,
        FormatOpt::Seq => SeqFormat::DeepBind,
        FormatOpt::Tsv => SeqFormat::Tsv,
        FormatOpt::Csv => SeqFormat::Csv,
    });
    let (r, _) = a.columns.records(&a.genome, a.seqs.as_deref(), format)?;
    let Some(l) = &a.labels else { return Ok(r) };
    let labels = motif_core::seqio::read_labels(l)?;
    Ok(Box::new(r.map(move |rec| {
        rec.map(|mut rec| {
            motif_core::seqio::fill_label(&mut rec, &labels);
            rec
        })
    })))
}

/// The file the sequences come from (`--seqs`, else `--bed`).
fn source(a: &PredictArgs) -> &std::path::Path {
    a.seqs.as_deref().or(a.genome.bed.as_deref()).unwrap_or(std::path::Path::new("-"))
}

/// The files `predict` reads (an output equal to one is refused).
fn inputs(a: &PredictArgs) -> Vec<&std::path::Path> {
    let mut v = vec![a.model.as_path(), source(a)];
    v.extend(a.labels.as_deref());
    v.extend(a.genome.genome.as_deref());
    v
}

fn session(a: &PredictArgs) -> Result<(motif_onnx::Model, Box<dyn motif_engine::Session>)> {
    let model = super::load_model(&a.model)?;
    let session = motif_engine::open(&model, &a.engine.options(a.outputs.clone()))?;
    Ok((model, session))
}

/// Runs `predict`.
pub fn run_predict(a: &PredictArgs) -> Result<()> {
    let (model, session) = session(a)?;
    let records = reader(a)?;
    let mut sink = Sink::open(a.out.as_deref(), &inputs(a))?;
    let names: Vec<String> = session.output_names().to_vec();
    let mut header_done = false;
    let mut widths: Vec<usize> = Vec::new();
    let n = crate::run::stream(
        session.as_ref(),
        &model,
        source(a),
        records,
        a.engine.batch(),
        |s| {
            if !header_done {
                widths = s.outputs.iter().map(Vec::len).collect();
                let mut cols = vec!["id".to_owned(), "label".to_owned()];
                for (name, &w) in names.iter().zip(&widths) {
                    if w == 1 {
                        cols.push(name.clone());
                    } else {
                        cols.extend((0..w).map(|j| format!("{name}:{j}")));
                    }
                }
                writeln!(sink, "{}", cols.join("\t"))?;
                header_done = true;
            }
            let mut line = s.id;
            line.push('\t');
            line.push_str(&s.label.map_or_else(|| "NA".to_owned(), |l| l.to_string()));
            for (o, &w) in s.outputs.iter().zip(&widths) {
                if o.len() != w {
                    bail!(
                        "output sizes differ between sequences ({} vs {w}); write one length per file",
                        o.len()
                    );
                }
                for v in o {
                    line.push('\t');
                    line.push_str(&v.to_string());
                }
            }
            writeln!(sink, "{line}")?;
            Ok(())
        },
    )?;
    sink.finish()?;
    eprintln!("motiftool: scored {n} sequences with {} on {}", session.engine(), session.device());
    Ok(())
}

/// Runs `evaluate`.
pub fn run_evaluate(a: &EvaluateArgs) -> Result<()> {
    let p = &a.predict;
    let (model, session) = session(p)?;
    let records = reader(p)?;
    // -o writes the report to a file (atomically) instead of stdout.
    let mut out = Sink::open(p.out.as_deref(), &inputs(p))?;
    let (mut scores, mut labels) = (Vec::new(), Vec::new());
    let mut missing = None;
    let n =
        crate::run::stream(session.as_ref(), &model, source(p), records, p.engine.batch(), |s| {
            let Some(y) = s.label else {
                missing.get_or_insert(s.id);
                return Ok(());
            };
            let Some(&v) = s.outputs[0].get(a.score_index) else {
                bail!(
                    "--score-index {} but the output has {} values",
                    a.score_index,
                    s.outputs[0].len()
                );
            };
            if y != 0.0 && y != 1.0 {
                bail!(
                    "{}: sequence `{}` has label {y}; evaluate needs labels 0 or 1",
                    source(p).display(),
                    s.id
                );
            }
            scores.push(v);
            labels.push(y == 1.0);
            Ok(())
        })?;
    if let Some(id) = missing {
        bail!(
            "{}: sequence `{id}` has no label (give `>id label` headers, a labelled .seq/.tsv, or --labels FILE)",
            source(p).display()
        );
    }
    let roc = motif_core::metrics::roc_auc(&scores, &labels)?;
    let pr = motif_core::metrics::pr_auc(&scores, &labels)?;
    let pos = labels.iter().filter(|&&y| y).count();
    if a.json {
        let v = serde_json::json!({
            "model": p.model.display().to_string(),
            "seqs": source(p).display().to_string(),
            "engine": session.engine(),
            "device": session.device(),
            "n": n, "positives": pos, "negatives": n - pos,
            "roc_auc": roc, "pr_auc": pr,
        });
        writeln!(out, "{}", serde_json::to_string_pretty(&v)?)?;
    } else {
        writeln!(out, "sequences  {n} ({pos} positive, {} negative)", n - pos)?;
        writeln!(out, "ROC AUC    {roc:.4}")?;
        writeln!(out, "PR AUC     {pr:.4}")?;
        writeln!(out, "engine     {} on {}", session.engine(), session.device())?;
    }
    out.finish()
}
