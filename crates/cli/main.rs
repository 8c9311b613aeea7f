//! `motiftool`: open up trained DNA-sequence CNNs.
//!
//! The binary is a thin layer over the library crates: argument parsing,
//! progress, atomic output files and exit codes (0 success, 2 error).

use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};

mod args;
mod cmd;
mod output;
mod plugins;
mod progress;

pub use args::{ConfigFile, EngineSelect, at_least_one, at_least_one_u32};

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
        after_help = "Writes report.html, filters.meme, tomtom.tsv, logos/, summary.json and run.json into -o DIR (default motiftool-analyze/).\n\nExamples:\n  motiftool analyze                                  # the bundled example model, bundled JASPAR\n  motiftool analyze model.onnx -o out/\n  motiftool analyze model.onnx --seqs test.fa --db db.meme --layer 0 -o out/\n  motiftool analyze model.onnx --extractor top-windows -o out/\n  motiftool analyze model.onnx --set threshold=0.7 -o out/\n  motiftool analyze --config run.toml -o out/\n\nA config file (--config) holds the keys of run.json's `config`, e.g.\n  db = \"db.meme\"\n  [extract]\n  model = \"model.onnx\"\n  layer = 0\n  extractor = \"top-windows\"\n  [extract.input]\n  seqs = \"test.fa\"\n  [extract.engine]\n  engine = \"ort\""
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
    Train(Box<cmd::train::TrainArgs>),
    /// Deepprune: halve the kernels behind the dense layer with a criterion
    /// plugin, fine-tuning after each step; variants, the paper's protocol
    /// over seeds, and a report
    #[command(after_help = cmd::prune::PRUNE_HELP)]
    Prune(Box<cmd::prune::PruneArgs>),
    /// NeuronMotif: decouple a deeper conv layer's neurons into motifs, a
    /// motif dictionary and motif syntax (sampling, demixing per max-pool
    /// shift, PPMs, matching)
    #[command(after_help = cmd::decouple::DECOUPLE_HELP)]
    Decouple(cmd::decouple::DecoupleArgs),
    /// Input gradients per sequence: d(output or conv neuron)/d(one-hot
    /// input), and gradient × input
    #[command(after_help = cmd::saliency::SALIENCY_HELP)]
    Saliency(cmd::saliency::SaliencyArgs),
    /// Per-base attributions (DeepLIFT/DeepSHAP, in-silico mutagenesis,
    /// saliency, integrated gradients) as modisco-ready ohe.npz/shap.npz and
    /// a report
    #[command(after_help = cmd::attribute::ATTRIBUTE_HELP)]
    Attribute(Box<cmd::attribute::AttributeArgs>),
    /// Motif discovery from attributions as TF-MoDISco does it (seqlets →
    /// patterns, modisco's results file), patterns named with tomtom's
    /// statistics, and a report
    #[command(after_help = cmd::discover::DISCOVER_HELP)]
    Discover(Box<cmd::discover::DiscoverArgs>),
    /// Motif hits in sequences or peaks: log-odds with exact p-values (as
    /// FIMO) or CWMs fitted to attributions (as Fi-NeMo); hits.tsv,
    /// hits.bed and per-sequence counts
    #[command(after_help = cmd::hits::HITS_HELP)]
    Hits(Box<cmd::hits::HitsArgs>),
    /// Shards' outputs (`--shard i/n`) back into one, byte for byte as a
    /// single run writes it
    #[command(after_help = cmd::merge::MERGE_HELP)]
    Merge(cmd::merge::MergeArgs),
}

/// glibc's allocator hands large blocks back to the kernel as soon as they
/// are freed and maps them again on the next request: for the many
/// same-sized tensors of a batched computation (fast ISM's windows, the
/// pair graph's batches) that doubled run time in page faults. Keep freed
/// memory (up to 256 MiB above the peak) and serve blocks up to 32 MiB from
/// the heap; peak memory is unchanged.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)]
fn keep_freed_memory() {
    // SAFETY: mallopt only sets allocator parameters; called before any
    // other thread exists.
    unsafe {
        libc::mallopt(libc::M_TRIM_THRESHOLD, 256 << 20);
        libc::mallopt(libc::M_MMAP_THRESHOLD, 32 << 20);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn keep_freed_memory() {}

fn main() -> ExitCode {
    keep_freed_memory();
    // SIGINT, SIGTERM, SIGHUP: remove this run's temp files, then exit as a
    // killed process would (128 + SIGINT). Finished outputs are untouched.
    let _ = ctrlc::set_handler(|| {
        motif_core::fsio::remove_live_temps();
        std::process::exit(130);
    });
    // The matches too: they tell which flags were typed (over --config).
    let parsed =
        Cli::command().try_get_matches().and_then(|m| Cli::from_arg_matches(&m).map(|c| (c, m)));
    let (cli, matches) = match parsed {
        Ok(p) => p,
        Err(e) => return flag_error(&e),
    };
    let sub = matches.subcommand().map_or(&matches, |(_, m)| m);
    // Every command names its thread count `--threads` (id `threads`).
    if let Some(&t) = sub.try_get_one::<usize>("threads").ok().flatten() {
        let _ = rayon::ThreadPoolBuilder::new().num_threads(t).build_global();
    }
    let result = match cli.command {
        Command::Inspect(a) => cmd::inspect::run(&a),
        Command::Predict(a) => cmd::predict::run_predict(&a, sub),
        Command::Evaluate(a) => cmd::predict::run_evaluate(&a, sub),
        Command::Engines(a) => cmd::engines::run(&a),
        Command::Plugins(a) => cmd::plugins::run(&a),
        Command::Bench(a) => cmd::bench::run(&a, sub),
        Command::Match(a) => cmd::matching::run(&a, sub),
        Command::Logo(a) => cmd::logo::run(&a, sub),
        Command::Analyze(a) => cmd::analyze::run(&a, sub),
        Command::Extract(a) => cmd::analyze::run_extract(&a, sub),
        Command::Report(a) => cmd::report::run(&a),
        Command::Simulate(a) => cmd::simulate::run_simulate(&a, sub),
        Command::Shuffle(a) => cmd::simulate::run_shuffle(&a, sub),
        Command::Train(a) => cmd::train::run(&a, sub),
        Command::Prune(a) => cmd::prune::run_cmd(&a, sub),
        Command::Decouple(a) => cmd::decouple::run(&a, sub),
        Command::Saliency(a) => cmd::saliency::run(&a, sub),
        Command::Attribute(a) => cmd::attribute::run(&a, sub),
        Command::Discover(a) => cmd::discover::run(&a, sub),
        Command::Hits(a) => cmd::hits::run(&a, sub),
        Command::Merge(a) => cmd::merge::run(&a),
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
    /// The config file shown in `analyze --help` is a valid analyze config.
    #[test]
    fn analyze_help_config_example_parses() {
        use clap::CommandFactory;
        let cmd = super::Cli::command();
        let help = cmd
            .find_subcommand("analyze")
            .and_then(|c| c.get_after_help())
            .map(ToString::to_string)
            .unwrap_or_default();
        let (_, example) = help.split_once("e.g.\n").expect("an example in the help");
        let toml: String = example.lines().map(|l| format!("{}\n", l.trim())).collect();
        let c: motif_workflow::analyze::Config = toml::from_str(&toml).expect("valid config");
        assert_eq!(c.extract.extractor, "top-windows");
        assert!(c.extract.input.seqs.is_some() && c.db.is_some());
    }

    /// Every subcommand's flags are well formed (unique names, valid
    /// requirements): clap checks this when a command is built.
    #[test]
    fn cli_is_well_formed() {
        use clap::CommandFactory;
        super::Cli::command().debug_assert();
    }
}
