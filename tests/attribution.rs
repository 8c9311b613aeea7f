use std::path::Path;

use crate::util::*;

fn family(name: &str) -> std::path::PathBuf {
    fixture("families").join(name)
}

fn array(p: &Path) -> ndarray::ArrayD<f32> {
    motif_core::npz::read(p).unwrap_or_else(|e| panic!("{e}"))
}

fn attribute(dir: &Path, name: &str, extra: &[&str]) -> std::path::PathBuf {
    let out = dir.join(name);
    let model = family("torch_twin_strands.onnx");
    let seqs = family("torch_twin_strands.seqs.fa");
    let mut args = vec!["attribute", s(&model), "--seqs", s(&seqs), "-o", s(&out), "--quiet"];
    args.extend_from_slice(extra);
    ok(&args);
    out
}

/// DeepSHAP on a two-strand export: modisco's files, complete per pair,
/// the report draws the tracks, run.json names the attributor, and chunk
/// and batch sizes change nothing.
#[test]
fn deeplift_shap_writes_modisco_files_and_converges() {
    let dir = tempfile::tempdir().unwrap();
    let out = attribute(dir.path(), "a", &["--set", "n-shuffles=4", "--engine", "tract"]);
    let ohe = array(&out.join("ohe.npz"));
    let shap = array(&out.join("shap.npz"));
    assert_eq!(ohe.shape(), &[8, 4, 101]);
    assert_eq!(shap.shape(), &[8, 4, 101]);
    let fa = std::fs::read_to_string(family("torch_twin_strands.seqs.fa")).unwrap();
    let first: Vec<u8> = fa.lines().nth(1).unwrap().bytes().collect();
    for (l, &b) in first.iter().enumerate() {
        let c = b"ACGT".iter().position(|&x| x == b).unwrap();
        assert_eq!(ohe[[0, c, l]], 1.0);
    }
    assert!(shap.iter().any(|v| v.abs() > 1e-4), "all-zero attributions");
    let scores = std::fs::read_to_string(out.join("scores.tsv")).unwrap();
    let mut lines = scores.lines();
    let header: Vec<&str> = lines.next().unwrap().split('\t').collect();
    assert_eq!(
        header,
        ["id", "prediction", "sum_projected", "max_delta", "mean_delta", "mean_abs_df"]
    );
    for l in lines {
        let f: Vec<f64> = l.split('\t').skip(1).map(|v| v.parse().unwrap()).collect();
        assert!(f[2] < 1e-4, "convergence delta {l}");
        assert!(f[4] > 1e-3, "references that change nothing: {l}");
    }
    let run: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("run.json")).unwrap()).unwrap();
    assert!(run.to_string().contains("deeplift-shap"), "{run}");
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert_eq!(html.matches("<div class=\"track\"").count(), 8);
    // Chunks of 3 and batches of 5 pairs: the same attributions.
    let again = attribute(
        dir.path(),
        "b",
        &[
            "--set",
            "n-shuffles=4",
            "--engine",
            "tract",
            "--chunk",
            "3",
            "--batch-size",
            "5",
            "--projected",
            "--h5",
        ],
    );
    let shap2 = array(&again.join("shap.npz"));
    // --projected: hypothetical × one-hot.
    assert_eq!(array(&again.join("projected.npz")), &shap2 * &ohe);
    // --h5: ChromBPNet's layout, read back by an HDF5 reader.
    let h5 = hdf5_pure::File::open(again.join("contributions.h5")).unwrap();
    let f16s = |name: &str| -> Vec<f32> {
        let ds = h5.dataset(name).unwrap();
        assert_eq!(ds.shape().unwrap(), [8, 4, 101], "{name}");
        let raw = ds.read_raw().unwrap();
        raw.chunks(2).map(|b| half::f16::from_le_bytes([b[0], b[1]]).to_f32()).collect()
    };
    let raw = h5.dataset("raw/seq").unwrap().read_i8().unwrap();
    assert_eq!(
        raw.iter().map(|&v| f32::from(v)).collect::<Vec<_>>(),
        ohe.iter().copied().collect::<Vec<_>>()
    );
    for (name, want) in [("shap/seq", shap2.clone()), ("projected_shap/seq", &shap2 * &ohe)] {
        for (got, want) in f16s(name).iter().zip(want.iter()) {
            assert_eq!(*got, half::f16::from_f32(*want).to_f32(), "{name}");
        }
    }
    assert!(!out.join("projected.npz").exists());
    let worst = shap.iter().zip(shap2.iter()).map(|(a, b)| (a - b).abs()).fold(0f32, f32::max);
    assert!(worst < 1e-6, "chunking changed the attributions by {worst}");
    // Another seed, other references.
    let other =
        attribute(dir.path(), "c", &["--set", "n-shuffles=4", "--engine", "tract", "--seed", "5"]);
    assert_ne!(array(&other.join("shap.npz")), shap);
}

/// ISM's raw deltas are the predicted effects of the substitutions, as
/// `predict` gives them for the mutated sequences.
#[test]
fn ism_is_predict_on_each_mutant() {
    let dir = tempfile::tempdir().unwrap();
    let fa = std::fs::read_to_string(family("torch_twin_strands.seqs.fa")).unwrap();
    let seq: Vec<u8> = fa.lines().nth(1).unwrap().bytes().collect();
    let one = dir.path().join("one.fa");
    std::fs::write(&one, format!(">s0\n{}\n", String::from_utf8_lossy(&seq))).unwrap();
    let out = dir.path().join("ism");
    let model = family("torch_twin_strands.onnx");
    ok(&[
        "attribute",
        s(&model),
        "--seqs",
        s(&one),
        "-o",
        s(&out),
        "--quiet",
        "--method",
        "ism",
        "--set",
        "center=false",
        "--probabilities",
    ]);
    let d = array(&out.join("shap.npz"));
    // Mutants of a few positions, predicted directly.
    let edits = [(0usize, 0usize), (3, 50), (1, 100), (2, 7)];
    let mut mutants = format!(">ref\n{}\n", String::from_utf8_lossy(&seq));
    for (c, l) in edits {
        let mut m = seq.clone();
        m[l] = b"ACGT"[c];
        mutants.push_str(&format!(">m{c}_{l}\n{}\n", String::from_utf8_lossy(&m)));
    }
    let mf = dir.path().join("mutants.fa");
    std::fs::write(&mf, mutants).unwrap();
    let (_, rows) = parse_tsv(&ok(&["predict", s(&model), "--seqs", s(&mf)]));
    let f0 = rows[0].1[0];
    for (k, (c, l)) in edits.iter().enumerate() {
        let want = rows[k + 1].1[0] - f0;
        let got = f64::from(d[[0, *c, *l]]);
        if seq[*l] == b"ACGT"[*c] {
            assert_eq!(got, 0.0);
        } else {
            assert!((got - want).abs() < 2e-6, "edit {c}@{l}: ism {got}, predict {want}");
        }
    }
}

/// tract and ort give the same attributions.
#[test]
fn engines_agree_on_attributions() {
    if !ort_usable() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    for method in ["deeplift-shap", "saliency"] {
        let t = attribute(
            dir.path(),
            &format!("{method}-t"),
            &["--method", method, "--engine", "tract"],
        );
        let o =
            attribute(dir.path(), &format!("{method}-o"), &["--method", method, "--engine", "ort"]);
        let (a, b) = (array(&t.join("shap.npz")), array(&o.join("shap.npz")));
        let scale = a.iter().fold(0f32, |m, v| m.max(v.abs()));
        let worst = a.iter().zip(b.iter()).map(|(x, y)| (x - y).abs()).fold(0f32, f32::max);
        assert!(worst <= 1e-5 * scale.max(1.0), "{method}: tract and ort differ by {worst}");
    }
}

/// Bad input: one line naming the file, sequence, output or node; exit 2.
#[test]
fn bad_attribution_input_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let model = family("torch_pad_pool_multitask.onnx");
    let seqs = family("torch_pad_pool_multitask.seqs.fa");
    let out = dir.path().join("x");
    let o = s(&out);
    // Sequences of two lengths (8 of 200 bp, 2 of 151 bp).
    fails(&["attribute", s(&model), "--seqs", s(&seqs), "-o", o], &["s8", "151 bp", "one length"]);
    let twin = family("torch_twin_strands.onnx");
    let tseqs = family("torch_twin_strands.seqs.fa");
    let (m, q) = (s(&twin), s(&tseqs));
    fails(&["attribute", m, "--seqs", q, "-o", o, "--target", "nope"], &["no output `nope`", "y"]);
    fails(&["attribute", m, "--seqs", q, "-o", o, "--target", "y:3"], &["`y` has 1 column"]);
    fails(
        &["attribute", m, "--seqs", q, "-o", o, "--method", "shapley"],
        &["--method `shapley`", "no attributor plugin"],
    );
    fails(&["attribute", m, "--seqs", q, "-o", o, "--set", "n-shuffles=0"], &["n-shuffles"]);
    assert!(!out.join("shap.npz").exists());
    // A softmax explained as a probability: the softmax rule, complete.
    let soft = family("keras_softmax_flatten.onnx");
    let sseqs = family("keras_softmax_flatten.seqs.fa");
    ok(&[
        "attribute",
        s(&soft),
        "--seqs",
        s(&sseqs),
        "-o",
        o,
        "--probabilities",
        "--target",
        "0:1",
        "--quiet",
    ]);
    let scores = std::fs::read_to_string(out.join("scores.tsv")).unwrap();
    for l in scores.lines().skip(1) {
        let f: Vec<f64> = l.split('\t').skip(1).map(|v| v.parse().unwrap()).collect();
        assert!(f[2] < 1e-5, "convergence delta through the softmax: {l}");
    }
}

/// BPNet's profile score (softmax-weighted mean-centred logits) and the
/// counts as one target: complete per pair, and named in summary.json.
#[test]
fn profile_and_counts_targets_converge() {
    let dir = tempfile::tempdir().unwrap();
    let model = family("torch_bpnet.onnx");
    let fa = std::fs::read_to_string(family("torch_bpnet.seqs.fa")).unwrap();
    let seqs = dir.path().join("s.fa");
    std::fs::write(&seqs, fa.lines().take(8).map(|l| format!("{l}\n")).collect::<String>())
        .unwrap();
    for (name, target) in [("p", "profile:profile"), ("pc", "profile:profile+counts:1")] {
        let out = dir.path().join(name);
        ok(&[
            "attribute",
            s(&model),
            "--seqs",
            s(&seqs),
            "-o",
            s(&out),
            "--quiet",
            "--target",
            target,
            "--set",
            "n-shuffles=3",
        ]);
        let scores = std::fs::read_to_string(out.join("scores.tsv")).unwrap();
        for l in scores.lines().skip(1) {
            let f: Vec<f64> = l.split('\t').skip(1).map(|v| v.parse().unwrap()).collect();
            assert!(f[2] < 1e-4 * (1.0 + f[4]), "{target}: convergence {l}");
        }
        let summary = std::fs::read_to_string(out.join("summary.json")).unwrap();
        assert!(summary.contains("\"profile\": true"), "{summary}");
    }
    let o = dir.path().join("x");
    fails(
        &["attribute", s(&model), "--seqs", s(&seqs), "-o", s(&o), "--target", "profile:400"],
        &["`profile` has 400 column(s)"],
    );
}

/// ISM recomputing only the changed spans of the convolutional trunk
/// (BPNet's dilated residual blocks; a conv, BatchNorm and an overlapping
/// pool; two conv blocks with BatchNorm) equals predicting every mutant
/// whole.
#[test]
fn fast_ism_equals_brute_force() {
    let dir = tempfile::tempdir().unwrap();
    let bp = std::fs::read_to_string(family("torch_bpnet.seqs.fa")).unwrap();
    let bp_seqs = dir.path().join("bp.fa");
    std::fs::write(&bp_seqs, bp.lines().take(4).map(|l| format!("{l}\n")).collect::<String>())
        .unwrap();
    let pp = std::fs::read_to_string(family("torch_pad_pool_multitask.seqs.fa")).unwrap();
    let pp_seqs = dir.path().join("pp.fa");
    std::fs::write(&pp_seqs, pp.lines().take(4).map(|l| format!("{l}\n")).collect::<String>())
        .unwrap();
    let fx = std::fs::read_to_string(fixture("fixture_seqs.fa")).unwrap();
    let fx_seqs = dir.path().join("fx.fa");
    std::fs::write(&fx_seqs, fx.lines().take(4).map(|l| format!("{l}\n")).collect::<String>())
        .unwrap();
    for (model, seqs, target) in [
        (family("torch_bpnet.onnx"), &bp_seqs, "counts:1"),
        (family("torch_pad_pool_multitask.onnx"), &pp_seqs, "y:5"),
        (fixture("bn_two_block.onnx"), &fx_seqs, "0:0"),
    ] {
        let mut runs = Vec::new();
        for fast in ["true", "false"] {
            let out = dir.path().join(format!("ism-{fast}"));
            let err = crate::util::motiftool(&[
                "attribute",
                s(&model),
                "--seqs",
                s(seqs),
                "-o",
                s(&out),
                "--method",
                "ism",
                "--set",
                "center=false",
                "--set",
                &format!("fast={fast}"),
                "--target",
                target,
            ]);
            assert!(err.status.success(), "{}", String::from_utf8_lossy(&err.stderr));
            if fast == "true" {
                let note = String::from_utf8_lossy(&err.stderr);
                assert!(
                    note.contains("fast ISM"),
                    "{}: fast path not taken: {note}",
                    model.display()
                );
            }
            runs.push(array(&out.join("shap.npz")));
        }
        let scale = runs[1].iter().fold(0f32, |m, v| m.max(v.abs()));
        let worst =
            runs[0].iter().zip(runs[1].iter()).map(|(a, b)| (a - b).abs()).fold(0f32, f32::max);
        assert!(
            scale > 0.0 && worst <= 1e-5 * scale.max(1e-3),
            "{}: fast vs brute {worst} (scale {scale})",
            model.display()
        );
    }
}
