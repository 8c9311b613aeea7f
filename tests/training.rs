use crate::util::{fails, fixture, ok};

#[test]
fn train_writes_a_model_and_a_log() {
    let dir = tempfile::tempdir().unwrap();
    let sim = dir.path().join("sim");
    ok(&[
        "simulate",
        "--preset",
        "deepprune1",
        "--n",
        "300",
        "--seed",
        "2",
        "-o",
        sim.to_str().unwrap(),
    ]);
    let out = dir.path().join("run");
    let train = sim.join("train.fa");
    let test = sim.join("test.fa");
    ok(&[
        "train",
        "--arch",
        "deepbind",
        "--kernels",
        "4",
        "--width",
        "8",
        "--epochs",
        "3",
        "--batch-size",
        "64",
        "--train",
        train.to_str().unwrap(),
        "--test",
        test.to_str().unwrap(),
        "--engine",
        "tract",
        "--quiet",
        "-o",
        out.to_str().unwrap(),
    ]);
    let log: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("training.json")).unwrap()).unwrap();
    assert_eq!(log["log"].as_array().unwrap().len(), 3);
    assert_eq!(log["sequences"]["train"], 270);
    assert_eq!(log["sequences"]["valid"], 30);
    assert!(log["test_auc"]["mean"].as_f64().unwrap() > 0.0);
    // The trained model is an ordinary ONNX model: inspect and predict read it.
    let model = out.join("model.onnx");
    let inspected = ok(&["inspect", model.to_str().unwrap()]);
    assert!(inspected.contains('4'), "{inspected}");
    let pred = ok(&[
        "predict",
        model.to_str().unwrap(),
        "--seqs",
        test.to_str().unwrap(),
        "--engine",
        "tract",
    ]);
    assert_eq!(pred.lines().count(), 301);
    // Continue training it.
    let more = dir.path().join("more");
    ok(&[
        "train",
        "--from",
        model.to_str().unwrap(),
        "--epochs",
        "1",
        "--train",
        train.to_str().unwrap(),
        "--engine",
        "tract",
        "--quiet",
        "-o",
        more.to_str().unwrap(),
    ]);
    assert!(more.join("model.onnx").exists());
}

#[test]
fn train_rejects_unlabelled_and_ragged_data() {
    let dir = tempfile::tempdir().unwrap();
    let fa = dir.path().join("x.fa");
    std::fs::write(&fa, ">a 1\nACGTACGTAC\n>b\nACGTACGTAA\n").unwrap();
    let out = dir.path().join("o");
    fails(
        &["train", "--train", fa.to_str().unwrap(), "-o", out.to_str().unwrap()],
        &["x.fa:3", "`b` has no label"],
    );
    std::fs::write(&fa, ">a 1\nACGTACGTAC\n>b 0\nACGTACG\n").unwrap();
    fails(
        &["train", "--train", fa.to_str().unwrap(), "-o", out.to_str().unwrap()],
        &["x.fa:3", "has 7 bp"],
    );
    assert!(!out.join("model.onnx").exists());
}

#[test]
fn saliency_rows_and_errors() {
    let model = fixture("torch_legacy_ncw.onnx");
    let seqs = fixture("fixture_seqs.fa");
    let tsv = ok(&[
        "saliency",
        model.to_str().unwrap(),
        "--seqs",
        seqs.to_str().unwrap(),
        "--engine",
        "tract",
    ]);
    let bases: usize = std::fs::read_to_string(&seqs)
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with('>'))
        .map(|l| l.trim().len())
        .sum();
    assert_eq!(tsv.lines().count(), bases + 1);
    assert!(tsv.starts_with("id\tpos\tbase\tA\tC\tG\tT\tgrad_x_input"));
    // gradient × input is the gradient at the observed base
    for line in tsv.lines().skip(1).take(200) {
        let f: Vec<&str> = line.split('\t').collect();
        let k = "ACGT".find(f[2]).unwrap();
        assert_eq!(f[3 + k], f[7], "{line}");
    }
    fails(
        &["saliency", model.to_str().unwrap(), "--seqs", seqs.to_str().unwrap(), "--neuron", "5:0"],
        &["layer 5"],
    );
    fails(
        &["saliency", model.to_str().unwrap(), "--seqs", seqs.to_str().unwrap(), "--neuron", "0"],
        &["LAYER:CHANNEL"],
    );
}
