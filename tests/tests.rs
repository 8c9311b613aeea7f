//! Integration tests of the `motiftool` binary on the fixtures in `data/`.

/// Shared helpers: running the binary, fixture paths.
mod util;

/// attribute: files, convergence, ISM against predict, engines, bad input.
mod attribution;
/// Bad input: each gives one line on stderr naming the file, exit code 2, no output file.
mod bad_input;
/// report.html in headless Chromium.
mod browser;
/// The Snakemake workflow end to end on tiny data, against single runs.
mod cluster;
/// discover: planted motifs found where they were planted; bad input.
mod discovery;
/// Sequences cut from a plain and a bgzipped genome by every command.
mod genome;
/// Hostile input across every command, table-driven.
mod hostile;
/// inspect on every fixture kind.
mod inspect;
/// match: tomtom's output format, JSON, the bundled database, bad motif input.
mod matching;
/// A model with known JASPAR PWMs as kernels gives them back.
mod planted;
/// The plugin registry as the binary sees it.
mod plugins;
/// predict/evaluate against expected outputs; tract and ort agree.
mod predict;
/// prune: steps, files, report, resume, bad input.
mod pruning;
// NeuronMotif (decouple)
mod neuronmotif;
/// simulate and shuffle.
mod simulate;
/// train and saliency.
mod training;
/// Workflows as typed configs and results: --config, extract, report.
mod workflows;
