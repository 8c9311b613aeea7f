//! The workflows as configs and typed results: `--config run.toml` with
//! flags over it, `extract` against analyze's motifs, and `report`
//! redrawing a run's HTML from summary.json alone.

use crate::util::{fails, fixture, ok, s};

fn read(p: &std::path::Path) -> String {
    std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn json(p: &std::path::Path) -> serde_json::Value {
    serde_json::from_str(&read(p)).unwrap()
}

#[test]
fn a_config_file_sets_what_flags_do_and_flags_override_it() {
    let dir = tempfile::tempdir().unwrap();
    let model = fixture("torch_legacy_ncw.onnx");
    let toml = dir.path().join("run.toml");
    std::fs::write(
        &toml,
        format!(
            "db = \"{}\"\n[extract]\nmodel = \"{}\"\nn = 150\nseed = 9\nextractor = \"top-windows\"\n[extract.engine]\nengine = \"tract\"\nbatch-size = 64\n",
            s(&crate::util::root().join("data/tomtom/reference_queries.meme")),
            s(&model)
        ),
    )
    .unwrap();
    // the same run from the file and from flags
    let by_file = dir.path().join("file");
    ok(&["analyze", "--config", s(&toml), "--seed", "4", "-o", s(&by_file), "--quiet"]);
    let by_flags = dir.path().join("flags");
    ok(&[
        "analyze",
        s(&model),
        "--db",
        s(&crate::util::root().join("data/tomtom/reference_queries.meme")),
        "--n",
        "150",
        "--seed",
        "4",
        "--extractor",
        "top-windows",
        "--engine",
        "tract",
        "--batch-size",
        "64",
        "-o",
        s(&by_flags),
        "--quiet",
    ]);
    for f in ["filters.meme", "tomtom.tsv", "report.html"] {
        assert_eq!(read(&by_file.join(f)), read(&by_flags.join(f)), "{f}");
    }
    let run = json(&by_file.join("run.json"));
    assert_eq!(run["config"]["extract"]["seed"], 4, "the flag overrides the file");
    assert_eq!(run["config"]["extract"]["n"], 150);
    assert_eq!(run["config"]["extract"]["engine"]["batch-size"], 64);
    assert_eq!(run["engine"], "tract");
    assert_eq!(
        json(&by_file.join("run.json"))["config"],
        json(&by_flags.join("run.json"))["config"]
    );
    // a misspelt key is one line naming the file and the key
    std::fs::write(&toml, "[extract]\nlayr = 1\n").unwrap();
    fails(
        &["analyze", "--config", s(&toml), "-o", s(&dir.path().join("x"))],
        &["run.toml", "layr"],
    );
    assert!(!dir.path().join("x").exists());
}

#[test]
fn extract_writes_the_motifs_analyze_matches() {
    let dir = tempfile::tempdir().unwrap();
    let model = fixture("torch_legacy_ncw.onnx");
    let a = dir.path().join("a");
    let x = dir.path().join("x");
    ok(&["analyze", s(&model), "--n", "200", "--engine", "tract", "-o", s(&a), "--quiet"]);
    ok(&["extract", s(&model), "--n", "200", "--engine", "tract", "-o", s(&x), "--quiet"]);
    assert_eq!(read(&a.join("filters.meme")), read(&x.join("filters.meme")));
    assert!(!x.join("tomtom.tsv").exists(), "extract does not match");
    let summary = json(&x.join("summary.json"));
    let filters = summary["filters"].as_array().unwrap();
    assert_eq!(filters.len(), json(&a.join("summary.json"))["filters"].as_array().unwrap().len());
    assert_eq!(json(&x.join("run.json"))["workflow"], "extract");
    // untrimmed motifs are as wide as the receptive field
    let u = dir.path().join("u");
    ok(&[
        "extract",
        s(&model),
        "--n",
        "200",
        "--engine",
        "tract",
        "--no-trim",
        "-o",
        s(&u),
        "--quiet",
    ]);
    let w: Vec<u64> = json(&u.join("summary.json"))["filters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["width"].as_u64().unwrap())
        .collect();
    let rf = w[0];
    assert!(w.iter().all(|&v| v == rf), "{w:?}");
    assert!(filters.iter().any(|f| f["width"].as_u64().unwrap() < rf), "trimmed by default");
}

#[test]
fn report_redraws_the_html_from_the_summary_alone() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    ok(&["analyze", "--n", "200", "--engine", "tract", "-o", s(&out), "--quiet"]);
    let html = read(&out.join("report.html"));
    // nothing else is read: the model, sequences and database are not needed
    std::fs::remove_file(out.join("report.html")).unwrap();
    std::fs::remove_file(out.join("filters.meme")).unwrap();
    ok(&["report", s(&out)]);
    assert_eq!(read(&out.join("report.html")), html);
    // a summary of another shape is an error naming the file
    std::fs::write(out.join("summary.json"), "[]").unwrap();
    fails(&["report", s(&out)], &["summary.json"]);
    fails(&["report", s(&dir.path().join("nothing"))], &["run.json"]);
}

#[test]
fn train_and_decouple_take_config_files_too() {
    let dir = tempfile::tempdir().unwrap();
    let sim = dir.path().join("sim");
    ok(&["simulate", "--preset", "nm-shift", "--n", "300", "--seed", "2", "-o", s(&sim)]);
    let toml = dir.path().join("train.toml");
    std::fs::write(
        &toml,
        format!(
            "arch = \"stack\"\nlayers = \"3x5:2,1x2\"\nno-dense = true\n[data]\ntrain = [\"{}\"]\ntest = [\"{}\"]\n[fit]\nepochs = 2\nbatch-size = 64\n[engine]\nengine = \"tract\"\n",
            s(&sim.join("train.fa")),
            s(&sim.join("test.fa"))
        ),
    )
    .unwrap();
    let out = dir.path().join("model");
    ok(&["train", "--config", s(&toml), "--seed", "3", "--quiet", "-o", s(&out)]);
    let run = json(&out.join("run.json"));
    assert_eq!(run["config"]["fit"]["epochs"], 2);
    assert_eq!(run["config"]["seed"], 3, "the flag overrides the file's default");
    assert_eq!(json(&out.join("training.json"))["log"].as_array().unwrap().len(), 2);
    fails(&["report", s(&out)], &["`train` run has no HTML report"]);
    // decouple from a file naming the model and layer
    let dc = dir.path().join("dc.toml");
    std::fs::write(
        &dc,
        format!(
            "model = \"{}\"\nlayer = 0\n[engine]\nengine = \"tract\"\n",
            s(&out.join("model.onnx"))
        ),
    )
    .unwrap();
    let nm = dir.path().join("nm");
    ok(&["decouple", "--config", s(&dc), "--quiet", "-o", s(&nm)]);
    assert_eq!(json(&nm.join("layer-0/summary.json"))["neurons"], 3);
    // a misspelt key in a nested table names it
    std::fs::write(&toml, "[fit]\nepoch = 2\n").unwrap();
    fails(
        &["train", "--config", s(&toml), "-o", s(&dir.path().join("x"))],
        &["train.toml", "epoch"],
    );
    // decouple without a model anywhere says where to give one
    fails(&["decouple", "--layer", "0", "-o", s(&dir.path().join("y"))], &["no model"]);
}
