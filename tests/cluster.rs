//! The Snakemake workflow (`workflow/Snakefile`) end to end on tiny data with
//! `snakemake --cores 2`: the Deepprune protocol one job per seed, NeuronMotif
//! two layers in shards, attribution then discovery, predictions in shards;
//! every merged result against the same work done by one process. Skipped
//! where Snakemake is missing, unless MOTIFTOOL_REQUIRE_SNAKEMAKE is set
//! (`.ci/run` installs it and sets it); `SNAKEMAKE` names the executable.

use std::path::Path;
use std::process::Command;

use crate::util::{fixture, ok, root, s};

fn snakemake() -> Option<String> {
    crate::util::external_tool(
        "SNAKEMAKE",
        "snakemake",
        "MOTIFTOOL_REQUIRE_SNAKEMAKE",
        "Snakemake workflow test",
    )
}

fn read(p: &Path) -> Vec<u8> {
    std::fs::read(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn json(p: &Path) -> serde_json::Value {
    serde_json::from_slice(&read(p)).unwrap()
}

const PRUNE_ARGS: &str = "--kernels 4 --width 10 --target-kernels 2 --epochs 2 --batch-size 64";
const NM_ARGS: &str = "--population 300 --max-iter 6";

/// Every section of the workflow on tiny inputs.
fn tiny_config(sim: &Path, chain: &Path) -> String {
    format!(
        "motiftool: {bin}
results: results
engine: tract
prune:
  seeds: [3, 4]
  args: \"{PRUNE_ARGS}\"
  threads: 1
  sets:
    sim:
      train: {train}
      test: {test}
      truth: {truth}
decouple:
  models:
    chain: {chain}
  layers: [0, 1]
  shards: 2
  args: \"{NM_ARGS}\"
  threads: 1
discover:
  shards: 2
  attribute_args: \"--method deeplift-shap --chunk 32\"
  discover_args: \"-w 60\"
  threads: 2
  runs:
    planted:
      model: {planted}
      seqs: {test}
predict:
  shards: 3
  threads: 1
  runs:
    fixture:
      model: {legacy}
      seqs: {seqs}
",
        bin = env!("CARGO_BIN_EXE_motiftool"),
        train = s(&sim.join("train.fa")),
        test = s(&sim.join("test.fa")),
        truth = s(&sim.join("motifs.meme")),
        chain = s(chain),
        planted = s(&root().join("data/models/planted_jaspar.onnx")),
        legacy = s(&fixture("torch_legacy_ncw.onnx")),
        seqs = s(&fixture("fixture_seqs.fa")),
    )
}

#[test]
fn snakemake_runs_every_section_and_matches_single_runs() {
    let Some(smk) = snakemake() else { return };
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let sim = d.join("sim");
    ok(&[
        "simulate",
        "--preset",
        "deepprune4",
        "--n",
        "300",
        "--len",
        "101",
        "--seed",
        "5",
        "-o",
        s(&sim),
    ]);
    let chain = crate::neuronmotif::chain_model(d, 2);
    let cfg = d.join("config.yaml");
    std::fs::write(&cfg, tiny_config(&sim, &chain)).unwrap();
    let snakefile = root().join("workflow/Snakefile");
    let out = Command::new(&smk)
        .args(["-s", s(&snakefile), "--configfile", s(&cfg), "--cores", "2", "-d", s(d)])
        .args(["--quiet", "rules"])
        .output()
        .expect("run snakemake");
    assert!(
        out.status.success(),
        "snakemake failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let res = d.join("results");

    single_prune_and_decouple_match(d, &sim, &chain, &res);
    single_discover_and_predict_match(d, &sim, &res);
}

/// The protocol's table and layer 1's PPMs and samples, as one process.
fn single_prune_and_decouple_match(d: &Path, sim: &Path, chain: &Path, res: &Path) {
    // Deepprune: one job per seed, then the table; as one process.
    let single = d.join("prune-single");
    let mut a = vec!["prune", "--protocol", "--seeds", "3,4"];
    a.extend(PRUNE_ARGS.split(' '));
    let (train, test, truth) = (sim.join("train.fa"), sim.join("test.fa"), sim.join("motifs.meme"));
    a.extend(["--train", s(&train), "--test", s(&test), "--truth", s(&truth)]);
    a.extend(["--engine", "tract", "--quiet", "-o", s(&single)]);
    ok(&a);
    for f in ["protocol.csv", "protocol.json"] {
        assert!(read(&res.join("prune/sim").join(f)) == read(&single.join(f)), "prune {f}");
    }

    // NeuronMotif: layer 1 in two shards, finished, seeded from layer 0.
    let nm = d.join("nm-single");
    for layer in ["0", "1"] {
        let mut a = vec!["decouple", s(chain), "--layer", layer];
        a.extend(NM_ARGS.split(' '));
        a.extend(["--engine", "tract", "--quiet", "-o", s(&nm)]);
        ok(&a);
    }
    let wf = res.join("neuronmotif/chain");
    assert_eq!(json(&wf.join("layer-1/allppm.json")), json(&nm.join("layer-1/allppm.json")));
    for k in 0..2 {
        let n = format!("layer-1/neuron-{k}");
        assert!(read(&wf.join(&n).join("samples.bin")) == read(&nm.join(&n).join("samples.bin")));
        let (mut a, mut b) =
            (json(&wf.join(&n).join("neuron.json")), json(&nm.join(&n).join("neuron.json")));
        a["seconds"] = serde_json::Value::Null;
        b["seconds"] = serde_json::Value::Null;
        assert_eq!(a, b, "neuron {k}");
    }
    assert_eq!(json(&wf.join("layer-1/layer.json"))["finished"], 2);
}

/// The attribution and discovery files, and the merged predictions, as
/// one process.
fn single_discover_and_predict_match(d: &Path, sim: &Path, res: &Path) {
    let test = sim.join("test.fa");
    // Attribution in two shards, merged, then discovery: the same files as
    // the commands run by hand in one process.
    let attr = d.join("attr-single");
    let planted = root().join("data/models/planted_jaspar.onnx");
    ok(&[
        "attribute",
        s(&planted),
        "--seqs",
        s(&test),
        "--method",
        "deeplift-shap",
        "--chunk",
        "32",
    ]
    .into_iter()
    .chain(["--engine", "tract", "--quiet", "-o", s(&attr)])
    .collect::<Vec<_>>());
    let wd = res.join("discover/planted");
    for f in ["ohe.npz", "shap.npz"] {
        assert!(read(&wd.join("attribution").join(f)) == read(&attr.join(f)), "attribute {f}");
    }
    let motifs = d.join("motifs-single");
    ok(&["discover", "--from", s(&attr), "-w", "60", "--quiet", "-o", s(&motifs)]);
    assert!(
        read(&wd.join("motifs/modisco_results.h5")) == read(&motifs.join("modisco_results.h5")),
        "discover results file"
    );

    // Predictions: three shards merged = one run.
    let whole = d.join("predict-single.tsv");
    let (model, seqs) = (fixture("torch_legacy_ncw.onnx"), fixture("fixture_seqs.fa"));
    ok(&["predict", s(&model), "--seqs", s(&seqs), "--engine", "tract", "-o", s(&whole)]);
    assert!(read(&res.join("predict/fixture.tsv")) == read(&whole), "merged predictions");
}
