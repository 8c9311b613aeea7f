//! `motiftool`: open up trained DNA-sequence CNNs.
//!
//! The binary is a thin layer over the library crates: argument parsing,
//! progress, atomic output files and exit codes (0 success, 2 error).

use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};
use motif_workflow::engine::EngineConfig;

mod cmd;
mod output;
mod plugins;
mod progress;
mod run;

/// Open up trained DNA-sequence CNNs: import any ONNX export and see its
/// structure; predict, evaluate, train and take saliency; extract filter
/// motifs and match them (tomtom's statistics); prune kernels (Deepprune);
/// decouple deeper neurons into motifs (NeuronMotif).
#[derive(Debug, Parser)]
#[command(name = "motiftool", version, propagate_version = true, max_term_width = 100)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Show a model's structure: input layout, conv layers with what follows
    /// each, receptive fields and strides, dense head, outputs.
    #[command(
        after_help = "Example:\n  motiftool inspect data/models/torch_legacy_ncw.onnx\n  motiftool inspect model.onnx --json"
    )]
    Inspect(cmd::inspect::InspectArgs),
    /// Score sequences; writes one TSV row per sequence (input order).
    #[command(after_help = cmd::predict::SEQ_HELP)]
    Predict(cmd::predict::PredictArgs),
    /// ROC AUC and PR AUC of a model on labelled sequences.
    #[command(after_help = cmd::predict::SEQ_HELP)]
    Evaluate(cmd::predict::EvaluateArgs),
    /// List the inference engines and whether each is usable here.
    Engines(cmd::engines::EnginesArgs),
    /// List registered plugins, or show one (`motiftool plugins show NAME`).
    Plugins(cmd::plugins::PluginsArgs),
    /// Compare motifs against a database with MEME tomtom's statistics
    /// (p, E, q); prints tomtom's `-text` TSV.
    #[command(
        after_help = "Examples:\n  motiftool match filters.meme                      # vs bundled JASPAR 2024, tomtom defaults\n  motiftool match filters.meme --db db.meme --dist pearson --min-overlap 5 --evalue --thresh 10\n  motiftool match q.meme --json -o matches.json"
    )]
    Match(cmd::matching::MatchArgs),
    /// The main job: extract each conv filter's motif, match it against a
    /// database (tomtom statistics), draw logos, and write an HTML report.
    #[command(
        after_help = "Writes report.html, filters.meme, tomtom.tsv, logos/, summary.json and run.json into -o DIR (default motiftool-analyze/).\n\nExamples:\n  motiftool analyze                                  # the bundled example model, bundled JASPAR\n  motiftool analyze model.onnx -o out/\n  motiftool analyze model.onnx --seqs test.fa --db db.meme --layer 0 -o out/\n  motiftool analyze model.onnx --extractor top-windows -o out/\n  motiftool analyze model.onnx --set threshold=0.7 -o out/"
    )]
    Analyze(cmd::analyze::AnalyzeArgs),
    /// Extract each conv filter's motif (no matching): filters.meme for
    /// `motiftool match`, tomtom or any MEME-format tool.
    #[command(
        after_help = "Writes filters.meme, summary.json and run.json into -o DIR (default motiftool-extract/).\n\nExamples:\n  motiftool extract model.onnx --seqs test.fa -o filters/\n  motiftool extract model.onnx --layer 1 --extractor top-windows --set windows=200 -o filters/"
    )]
    Extract(cmd::analyze::ExtractCmdArgs),
    /// Redraw a run's HTML report from its summary.json, without
    /// recomputing anything (after a motiftool upgrade, or to restyle).
    #[command(after_help = "Example:\n  motiftool report motiftool-analyze/")]
    Report(cmd::report::ReportArgs),
    /// Draw information-content logos (SVG or PNG), one file per motif.
    #[command(
        after_help = "Examples:\n  motiftool logo filters.meme -o logos/\n  motiftool logo db.meme -o logos/ --rc --format png"
    )]
    Logo(cmd::logo::LogoArgs),
    /// Measure forward throughput (sequences/s) of each usable engine.
    Bench(cmd::bench::BenchArgs),
    /// Simulated benchmark data with known truth: Deepprune's data sets 1–5
    /// and Koo & Eddy's 12-TF set
    #[command(after_help = cmd::simulate::simulate_help())]
    Simulate(cmd::simulate::SimulateArgs),
    /// Dinucleotide-shuffled copies of sequences (Altschul–Erickson: exact
    /// dinucleotide counts), e.g. negatives for ChIP-seq peaks
    #[command(
        after_help = "Examples:\n  motiftool shuffle peaks.fa --label 0 -o negatives.fa\n  motiftool shuffle GABPA_AC.seq.gz --copies 2 --seed 7 -o neg.fa"
    )]
    Shuffle(cmd::simulate::ShuffleArgs),
    /// Train a model (a fresh DeepBind-style net, or continue any ONNX
    /// model) on labelled sequences through the engines: BCE, Adam, early
    /// stopping on validation loss
    #[command(after_help = cmd::train::TRAIN_HELP)]
    Train(cmd::train::TrainArgs),
    /// Deepprune: halve the kernels behind the dense layer with a criterion
    /// plugin, fine-tuning after each step; variants, the paper's protocol
    /// over seeds, and a report
    #[command(after_help = cmd::prune::PRUNE_HELP)]
    Prune(cmd::prune::PruneArgs),
    /// NeuronMotif: decouple a deeper conv layer's neurons into motifs, a
    /// motif dictionary and motif syntax (sampling, demixing per max-pool
    /// shift, PPMs, matching)
    #[command(after_help = cmd::decouple::DECOUPLE_HELP)]
    Decouple(cmd::decouple::DecoupleArgs),
    /// Input gradients per sequence: d(output or conv neuron)/d(one-hot
    /// input), and gradient × input
    #[command(after_help = cmd::saliency::SALIENCY_HELP)]
    Saliency(cmd::saliency::SaliencyArgs),
}

/// A count flag that must be at least 1 (`--epochs 0`, `--batch-size 0` …
/// are refused by name rather than dividing by zero later).
///
/// # Errors
/// If `s` is not a whole number of at least 1.
pub fn at_least_one(s: &str) -> Result<usize, String> {
    match s.parse::<usize>() {
        Ok(0) => Err("must be at least 1".into()),
        Ok(v) => Ok(v),
        Err(e) => Err(e.to_string()),
    }
}

/// Like [`at_least_one`], for `u32` flags.
///
/// # Errors
/// As [`at_least_one`], or above `u32::MAX`.
pub fn at_least_one_u32(s: &str) -> Result<u32, String> {
    at_least_one(s).and_then(|v| u32::try_from(v).map_err(|e| e.to_string()))
}

/// Columns of a sequence table with a header row (TSV or CSV).
#[derive(Debug, Clone, Default, Args)]
pub struct ColumnArgs {
    /// Table column holding the sequences (default: the one named `seq` or
    /// `sequence`).
    #[arg(long, value_name = "NAME")]
    pub seq_col: Option<String>,
    /// Table column holding a 0/1 label; repeat for several tasks (default:
    /// the one named `label`, `y`, `target`, `bound` or `class`).
    #[arg(long = "label-col", value_name = "NAME")]
    pub label_cols: Vec<String>,
    /// Table column holding the sequence ids (default: `id` or `name`).
    #[arg(long, value_name = "NAME")]
    pub id_col: Option<String>,
}

/// Sequences cut from a genome: `--bed` intervals from an indexed `--genome`.
#[derive(Debug, Clone, Default, Args)]
pub struct GenomeArgs {
    /// Intervals (BED or narrowPeak, gzip ok) to cut from --genome instead
    /// of a sequence file.
    #[arg(long, value_name = "FILE", requires = "genome")]
    pub bed: Option<std::path::PathBuf>,
    /// Indexed genome FASTA for --bed (`.fai` beside it; bgzipped: `.gzi` too).
    #[arg(long, value_name = "FASTA", requires = "bed")]
    pub genome: Option<std::path::PathBuf>,
    /// Window width for --bed: centred on the narrowPeak summit, else on the
    /// interval's middle (default: each interval as it is).
    #[arg(long, value_name = "BP", requires = "bed", value_parser = at_least_one)]
    pub width: Option<usize>,
}

/// Labelled training data cut from a genome: bound intervals (label 1) and
/// background intervals (label 0), split into sets by chromosome.
#[derive(Debug, Clone, Default, Args)]
pub struct PeakArgs {
    /// Bound intervals (BED or narrowPeak, gzip ok) cut from --genome with
    /// label 1; repeatable. Add background with --nonpeaks or --train.
    #[arg(long, value_name = "FILE", requires = "genome")]
    pub peaks: Vec<std::path::PathBuf>,
    /// Background intervals (e.g. GC-matched regions without a peak) cut
    /// from --genome with label 0; repeatable.
    #[arg(long, value_name = "FILE", requires = "genome")]
    pub nonpeaks: Vec<std::path::PathBuf>,
    /// Indexed genome FASTA for --peaks/--nonpeaks (`.fai` beside it;
    /// bgzipped: `.gzi` too).
    #[arg(long, value_name = "FASTA")]
    pub genome: Option<std::path::PathBuf>,
    /// Window width: centred on the narrowPeak summit, else on the
    /// interval's middle (default: each interval as it is; all must then
    /// have one length). `--width` of predict and analyze; here named apart
    /// from the kernel width.
    #[arg(long, value_name = "BP", requires = "genome", value_parser = at_least_one)]
    pub peak_width: Option<usize>,
    /// Chromosomes whose intervals form the validation set instead
    /// (comma-separated, e.g. chr8,chr9).
    #[arg(long, value_name = "CHROMS", value_delimiter = ',', requires = "genome")]
    pub valid_chroms: Vec<String>,
    /// Chromosomes whose intervals form the test set instead
    /// (comma-separated, e.g. chr1,chr2).
    #[arg(long, value_name = "CHROMS", value_delimiter = ',', requires = "genome")]
    pub test_chroms: Vec<String>,
}

impl PeakArgs {
    /// The labelled data of `train`/`valid`/`test` files read with
    /// `columns`, and these intervals, laid over `base` (a config file's):
    /// what is given here replaces the file's.
    #[must_use]
    pub fn over(
        &self,
        files: (&[std::path::PathBuf], Option<&std::path::PathBuf>, &[std::path::PathBuf]),
        columns: &ColumnArgs,
        mut base: motif_workflow::labelled::LabelledData,
    ) -> motif_workflow::labelled::LabelledData {
        let (train, valid, test) = files;
        if !train.is_empty() {
            base.train = train.to_vec();
        }
        if valid.is_some() {
            base.valid = valid.cloned();
        }
        if !test.is_empty() {
            base.test = test.to_vec();
        }
        if columns.seq_col.is_some() {
            base.seq_col.clone_from(&columns.seq_col);
        }
        if !columns.label_cols.is_empty() {
            base.label_cols.clone_from(&columns.label_cols);
        }
        if columns.id_col.is_some() {
            base.id_col.clone_from(&columns.id_col);
        }
        if self.genome.is_some() {
            base.genome.clone_from(&self.genome);
            base.peaks.clone_from(&self.peaks);
            base.nonpeaks.clone_from(&self.nonpeaks);
            base.peak_width = self.peak_width;
        }
        if !self.valid_chroms.is_empty() {
            base.valid_chroms.clone_from(&self.valid_chroms);
        }
        if !self.test_chroms.is_empty() {
            base.test_chroms.clone_from(&self.test_chroms);
        }
        base
    }

    /// The files these flags read.
    #[must_use]
    pub fn inputs(&self) -> Vec<&std::path::Path> {
        self.peaks
            .iter()
            .chain(&self.nonpeaks)
            .chain(&self.genome)
            .map(std::path::PathBuf::as_path)
            .collect()
    }
}

impl GenomeArgs {
    /// The files these flags read (an output equal to one is refused).
    #[must_use]
    pub fn inputs(&self) -> Vec<&std::path::Path> {
        self.bed.iter().chain(&self.genome).map(std::path::PathBuf::as_path).collect()
    }
}

/// A stream of sequence records, whatever their source.
pub type Records = motif_workflow::input::Records;

impl ColumnArgs {
    /// As the reader's settings.
    #[must_use]
    pub fn columns(&self) -> motif_core::seqio::Columns {
        motif_core::seqio::Columns {
            seq: self.seq_col.clone(),
            labels: self.label_cols.clone(),
            id: self.id_col.clone(),
        }
    }

    /// The records of `--bed` cut from `--genome`, if given, else `seqs`
    /// read with these columns (and `format`), and the file they come from.
    ///
    /// # Errors
    /// If both or neither source is given, or a file cannot be opened.
    pub fn records(
        &self,
        genome: &GenomeArgs,
        seqs: Option<&std::path::Path>,
        format: Option<motif_core::seqio::SeqFormat>,
    ) -> anyhow::Result<(Records, std::path::PathBuf)> {
        Ok(self.over(genome, seqs, motif_workflow::input::SeqInput::default()).records(format)?)
    }

    /// These flags, `--bed/--genome/--width` and `--seqs` laid over `base`
    /// (a config file's input): a source given here replaces the file's.
    #[must_use]
    pub fn over(
        &self,
        genome: &GenomeArgs,
        seqs: Option<&std::path::Path>,
        mut base: motif_workflow::input::SeqInput,
    ) -> motif_workflow::input::SeqInput {
        if seqs.is_some() || genome.bed.is_some() {
            base.seqs = seqs.map(std::path::Path::to_path_buf);
            base.bed.clone_from(&genome.bed);
            base.genome.clone_from(&genome.genome);
            base.width = genome.width;
        }
        if self.seq_col.is_some() {
            base.seq_col.clone_from(&self.seq_col);
        }
        if !self.label_cols.is_empty() {
            base.label_cols.clone_from(&self.label_cols);
        }
        if self.id_col.is_some() {
            base.id_col.clone_from(&self.id_col);
        }
        base
    }

    /// Opens `path` with these columns (`format`: else from the name or content).
    ///
    /// # Errors
    /// If the file cannot be opened or the columns are not in its header.
    pub fn open(
        &self,
        path: &std::path::Path,
        format: Option<motif_core::seqio::SeqFormat>,
    ) -> anyhow::Result<motif_core::seqio::SeqReader> {
        Ok(motif_core::seqio::SeqReader::open(path, format)?.with_columns(self.columns())?)
    }
}

/// `--engine`, `--device`, `--threads`: the one set of engine flags,
/// flattened into every command that runs a model. Unset flags keep the
/// config's value (`--config`), else its default.
#[derive(Debug, Clone, Copy, Default, Args)]
pub struct EngineSelect {
    /// Inference engine: `auto` = ort when its library loads, else tract
    /// [default: auto].
    #[arg(long, value_enum)]
    pub engine: Option<EngineOpt>,
    /// Device: `cuda` needs the ort engine with onnxruntime-gpu; never falls
    /// back to CPU silently [default: cpu].
    #[arg(long, value_enum)]
    pub device: Option<DeviceOpt>,
    /// Threads (ort intra-op threads; tract runs batches in parallel). Default: all cores.
    #[arg(long)]
    pub threads: Option<usize>,
}

/// The engine flags and `--batch-size`, sequences per engine call.
#[derive(Debug, Clone, Default, Args)]
pub struct EngineArgs {
    /// `--engine`, `--device`, `--threads`.
    #[command(flatten)]
    pub on: EngineSelect,
    /// Sequences per engine call [default: 512].
    #[arg(long, value_parser = at_least_one)]
    pub batch_size: Option<usize>,
}

/// `--engine`.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum EngineOpt {
    /// ort if usable, else tract.
    Auto,
    /// tract (pure Rust, CPU).
    Tract,
    /// ONNX Runtime.
    Ort,
}

/// `--device`.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum DeviceOpt {
    /// CPU.
    Cpu,
    /// CUDA GPU.
    Cuda,
}

impl EngineSelect {
    /// These flags laid over `base`.
    #[must_use]
    pub fn over(&self, mut base: EngineConfig) -> EngineConfig {
        use motif_workflow::engine::{DeviceName, EngineName};
        if let Some(e) = self.engine {
            base.engine = match e {
                EngineOpt::Auto => EngineName::Auto,
                EngineOpt::Tract => EngineName::Tract,
                EngineOpt::Ort => EngineName::Ort,
            };
        }
        if let Some(d) = self.device {
            base.device = match d {
                DeviceOpt::Cpu => DeviceName::Cpu,
                DeviceOpt::Cuda => DeviceName::Cuda,
            };
        }
        if self.threads.is_some() {
            base.threads = self.threads;
        }
        base
    }

    /// The device asked for, as run.json records it.
    #[must_use]
    pub fn device_name(&self) -> &'static str {
        self.over(EngineConfig::default()).device.name()
    }

    /// Session options computing `outputs` (empty: the graph's).
    fn options(&self, outputs: Vec<String>) -> motif_engine::SessionOptions {
        self.over(EngineConfig::default()).options(outputs)
    }
}

impl EngineArgs {
    /// These flags laid over `base`.
    #[must_use]
    pub fn over(&self, base: EngineConfig) -> EngineConfig {
        let mut c = self.on.over(base);
        if let Some(b) = self.batch_size {
            c.batch_size = b;
        }
        c
    }

    /// As a config over the defaults.
    #[must_use]
    pub fn config(&self) -> EngineConfig {
        self.over(EngineConfig::default())
    }

    /// Sequences per engine call.
    #[must_use]
    pub fn batch(&self) -> usize {
        self.config().batch()
    }

    fn options(&self, outputs: Vec<String>) -> motif_engine::SessionOptions {
        self.on.options(outputs)
    }
}

fn main() -> ExitCode {
    // SIGINT, SIGTERM, SIGHUP: remove this run's temp files, then exit as a
    // killed process would (128 + SIGINT). Finished outputs are untouched.
    let _ = ctrlc::set_handler(|| {
        motif_core::fsio::remove_live_temps();
        std::process::exit(130);
    });
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => return flag_error(&e),
    };
    if let Some(t) = cli_threads(&cli) {
        let _ = rayon::ThreadPoolBuilder::new().num_threads(t).build_global();
    }
    let result = match cli.command {
        Command::Inspect(a) => cmd::inspect::run(&a),
        Command::Predict(a) => cmd::predict::run_predict(&a),
        Command::Evaluate(a) => cmd::predict::run_evaluate(&a),
        Command::Engines(a) => cmd::engines::run(&a),
        Command::Plugins(a) => cmd::plugins::run(&a),
        Command::Bench(a) => cmd::bench::run(&a),
        Command::Match(a) => cmd::matching::run(&a),
        Command::Logo(a) => cmd::logo::run(&a),
        Command::Analyze(a) => cmd::analyze::run(&a),
        Command::Extract(a) => cmd::analyze::run_extract(&a),
        Command::Report(a) => cmd::report::run(&a),
        Command::Simulate(a) => cmd::simulate::run_simulate(&a),
        Command::Shuffle(a) => cmd::simulate::run_shuffle(&a),
        Command::Train(a) => cmd::train::run(&a),
        Command::Prune(a) => cmd::prune::run_cmd(&a),
        Command::Decouple(a) => cmd::decouple::run(&a),
        Command::Saliency(a) => cmd::saliency::run(&a),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("motiftool: {}", one_line(&chain_text(&e)));
            ExitCode::from(2)
        }
    }
}

/// Help and version go to stdout as clap prints them; a bad flag or value
/// is one line, `motiftool: …`, exit code 2.
fn flag_error(e: &clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    match e.kind() {
        ErrorKind::DisplayHelp
        | ErrorKind::DisplayVersion
        | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            let _ = e.print();
            if e.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            }
        }
        _ => {
            // clap's message, up to its usage or tip, on one line (a
            // missing argument is named on the line after the first).
            let text = e.render().to_string();
            let lines: Vec<&str> = text
                .lines()
                .map(str::trim)
                .skip_while(|l| l.is_empty())
                .take_while(|l| !l.is_empty() && !l.starts_with("Usage:") && !l.starts_with("tip:"))
                .collect();
            let msg = lines.join(" ");
            let msg = msg.trim_start_matches("error: ");
            eprintln!(
                "motiftool: {} (see --help)",
                if msg.is_empty() { "invalid arguments" } else { msg }
            );
            ExitCode::from(2)
        }
    }
}

fn cli_threads(cli: &Cli) -> Option<usize> {
    match &cli.command {
        Command::Predict(a) => a.engine.on.threads,
        Command::Evaluate(a) => a.predict.engine.on.threads,
        Command::Bench(a) => a.threads,
        Command::Match(a) => a.threads,
        Command::Analyze(a) => a.x.engine.on.threads,
        Command::Extract(a) => a.x.engine.on.threads,
        Command::Train(a) => a.fit.on.threads,
        Command::Prune(a) => a.fit.on.threads,
        Command::Decouple(a) => a.engine.on.threads,
        Command::Saliency(a) => a.engine.on.threads,
        _ => None,
    }
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// An error and its causes, `outer: inner`, leaving out a cause whose text
/// the message already holds (library errors often print their source).
fn chain_text(e: &anyhow::Error) -> String {
    let mut out = String::new();
    for c in e.chain() {
        let t = c.to_string();
        if out.contains(&t) {
            continue;
        }
        if !out.is_empty() {
            out.push_str(": ");
        }
        out.push_str(&t);
    }
    out
}

/// Error messages are one line: engines sometimes put newlines in theirs.
fn one_line(s: &str) -> String {
    s.split('\n').map(str::trim).filter(|l| !l.is_empty()).collect::<Vec<_>>().join(" | ")
}

#[cfg(test)]
mod tests {
    /// Every subcommand's flags are well formed (unique names, valid
    /// requirements): clap checks this when a command is built.
    #[test]
    fn cli_is_well_formed() {
        use clap::CommandFactory;
        super::Cli::command().debug_assert();
    }
}
