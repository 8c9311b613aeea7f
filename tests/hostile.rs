//! Hostile input, table-driven: every case must exit 2 with one stderr line
//! naming the culprit (file, sequence, node or flag), without a panic,
//! leave no output and no temp file, and leave its inputs byte-identical.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use motif_onnx::Dim;
use motif_onnx::build::{Attr, GraphBuilder};

use crate::util::*;

/// One case: the arguments (with `{dir}` standing for its scratch folder,
/// `{fx}` for `data/models`), the text the error line must contain, and the
/// paths (relative to the scratch folder) that must not exist afterwards.
struct Case {
    name: &'static str,
    args: Vec<String>,
    needles: Vec<String>,
    absent: Vec<&'static str>,
}

fn case(name: &'static str, args: &str, needles: &[&str], absent: &[&'static str]) -> Case {
    Case {
        name,
        args: args.split_whitespace().map(str::to_owned).collect(),
        needles: needles.iter().map(|s| (*s).to_owned()).collect(),
        absent: absent.to_vec(),
    }
}

/// Every file under `dir`, with its bytes.
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().filter_map(Result::ok) {
            let p = e.path();
            let ft = std::fs::symlink_metadata(&p).unwrap().file_type();
            if ft.is_dir() {
                stack.push(p);
            } else if ft.is_file() {
                out.insert(p.clone(), std::fs::read(&p).unwrap());
            }
        }
    }
    out
}

/// x (N, 4, `len`) → Conv(`w` of shape `w_dims`, `attrs`) → Relu →
/// GlobalMaxPool → y, written to `dir/name`.
fn conv_model(
    dir: &Path,
    name: &str,
    len: Dim,
    w_dims: &[usize],
    w: &[f32],
    attrs: Vec<(&str, Attr)>,
) {
    let mut g = GraphBuilder::new("hostile");
    g.input("x", &[Dim::Symbol("N".into()), Dim::Fixed(4), len]);
    g.output("y", &[Dim::Symbol("N".into()), Dim::Fixed(3), Dim::Fixed(1)]);
    g.initializer("w", w_dims, w);
    g.node("Conv", &["x", "w"], &["c"], &attrs);
    g.node("Relu", &["c"], &["a"], &[]);
    g.node("GlobalMaxPool", &["a"], &["y"], &[]);
    std::fs::write(dir.join(name), g.to_bytes()).unwrap();
}

/// The scratch folder's inputs: sequence files, models, motifs.
fn prepare(dir: &Path) {
    let seq = "ACGTACGTTGCAACGTAGCTAGCTAGGATCCGATCGATCGTAGCTAGCTAGCTTTAGCGCG";
    let w = |name: &str, text: String| std::fs::write(dir.join(name), text).unwrap();
    w("seqs.fa", format!(">a 1\n{seq}\n>b 0\n{seq}\n"));
    w("letters.fa", ">a 1\nACGTRACGTACGTACGTACGTACGTACGTACGTACGTACGTACGTACGT\n".to_owned());
    w("garbage.meme", "garbage\u{1}\n".to_owned());
    w("empty.meme", String::new());
    w("empty.fa", String::new());
    w("nolab.fa", format!(">a\n{seq}\n>b\n{seq}\n"));
    w("bad.seq", "FoldID EventID seq\n".to_owned());
    w("peaks.csv", format!("id,sequence,label\na,{seq},1\nb,{seq},0\n"));
    w("frac.fa", format!(">a 1\n{seq}\n>b 0.7\n{seq}\n"));
    w("nan.fa", format!(">a 1\n{seq}\n>b NaN\n{seq}\n"));
    w("two.fa", format!(">a 1\n{seq}\n>b 2\n{seq}\n"));
    w("onecls.fa", (0..40).map(|i| format!(">s{i} 1\n{seq}\n")).collect());
    w("short.fa", format!(">a 1\n{}\n", &seq[..10]));
    w("train.fa", (0..40).map(|i| format!(">s{i} {}\n{seq}\n", i % 2)).collect());
    w("test40.fa", (0..4).map(|i| format!(">t{i} {}\n{}\n", i % 2, &seq[..40])).collect());
    std::fs::copy(fixture("torch_legacy_ncw.onnx"), dir.join("model.onnx")).unwrap();
    w(
        "q.meme",
        std::fs::read_to_string(root().join("data/tomtom/reference_queries.meme")).unwrap(),
    );
    let l = || Dim::Symbol("L".into());
    let mut w = vec![0.1f32; 60];
    w[7] = f32::NAN;
    conv_model(dir, "nan_w.onnx", l(), &[3, 4, 5], &w, vec![]);
    w[7] = 0.1;
    w[0] = f32::INFINITY;
    conv_model(dir, "inf_w.onnx", l(), &[3, 4, 5], &w, vec![]);
    conv_model(dir, "zero_kernels.onnx", l(), &[0, 4, 5], &[], vec![]);
    conv_model(dir, "zero_width.onnx", l(), &[3, 4, 0], &[], vec![]);
    conv_model(dir, "huge.onnx", Dim::Fixed(1 << 40), &[3, 4, 5], &[0.1; 60], vec![]);
    let stride0 = vec![("strides", Attr::Ints(vec![0]))];
    conv_model(dir, "stride0.onnx", l(), &[3, 4, 5], &[0.1; 60], stride0);
    // External data that is a FIFO (reading it would block), or a link
    // leading out of the model's folder.
    for sub in ["fifo", "link"] {
        std::fs::create_dir(dir.join(sub)).unwrap();
        std::fs::copy(
            fixture("torch_dynamo_ncw.onnx"),
            dir.join(sub).join("torch_dynamo_ncw.onnx"),
        )
        .unwrap();
    }
    let data = dir.join("fifo/torch_dynamo_ncw.onnx.data");
    let made = std::process::Command::new("mkfifo").arg(&data).status();
    assert!(made.is_ok_and(|s| s.success()), "mkfifo");
    #[cfg(unix)]
    std::os::unix::fs::symlink(
        fixture("torch_dynamo_ncw.onnx.data"),
        dir.join("link/torch_dynamo_ncw.onnx.data"),
    )
    .unwrap();
}

#[allow(clippy::too_many_lines, reason = "one table of hostile inputs, a row per case")]
fn cases() -> Vec<Case> {
    vec![
        // -o equal to an input (by real path)
        case(
            "predict -o = seqs",
            "predict {dir}/model.onnx --seqs {dir}/seqs.fa -o {dir}/seqs.fa",
            &["seqs.fa", "refusing to overwrite"],
            &[],
        ),
        case(
            "predict -o = model via ..",
            "predict {dir}/model.onnx --seqs {dir}/seqs.fa -o {dir}/./model.onnx",
            &["model.onnx", "refusing to overwrite"],
            &[],
        ),
        case(
            "evaluate -o = seqs",
            "evaluate {dir}/model.onnx --seqs {dir}/seqs.fa -o {dir}/seqs.fa",
            &["seqs.fa", "refusing to overwrite"],
            &[],
        ),
        case(
            "shuffle -o = input",
            "shuffle {dir}/seqs.fa -o {dir}/seqs.fa",
            &["seqs.fa", "refusing to overwrite"],
            &[],
        ),
        case(
            "saliency -o = seqs",
            "saliency {dir}/model.onnx --seqs {dir}/seqs.fa -o {dir}/seqs.fa",
            &["seqs.fa", "refusing to overwrite"],
            &[],
        ),
        case(
            "match -o = query",
            "match {dir}/q.meme -o {dir}/q.meme",
            &["q.meme", "refusing to overwrite"],
            &[],
        ),
        case(
            "train --from in -o its folder",
            "train --from {dir}/model.onnx --train {dir}/train.fa -o {dir}",
            &["model.onnx", "refusing to overwrite"],
            &["training.json"],
        ),
        // labels
        case(
            "evaluate label 0.7",
            "evaluate {dir}/model.onnx --seqs {dir}/frac.fa",
            &["frac.fa", "`b`", "0.7"],
            &[],
        ),
        case(
            "evaluate label NaN",
            "evaluate {dir}/model.onnx --seqs {dir}/nan.fa",
            &["nan.fa", "`b`", "NaN"],
            &[],
        ),
        case(
            "evaluate label 2",
            "evaluate {dir}/model.onnx --seqs {dir}/two.fa",
            &["two.fa", "`b`", "label 2"],
            &[],
        ),
        case(
            "train label 0.7",
            "train --train {dir}/frac.fa -o {dir}/t",
            &["frac.fa:3", "`b`", "0.7"],
            &["t"],
        ),
        case(
            "train one class",
            "train --train {dir}/onecls.fa -o {dir}/t",
            &["onecls.fa", "both classes"],
            &["t"],
        ),
        case(
            "train test of another length",
            "train --train {dir}/train.fa --test {dir}/test40.fa --epochs 1 -o {dir}/t",
            &["test40.fa", "40 bp"],
            &["t"],
        ),
        // counts that must be at least 1
        case(
            "train --epochs 0",
            "train --train {dir}/train.fa --epochs 0 -o {dir}/t",
            &["--epochs", "at least 1"],
            &["t"],
        ),
        case(
            "train --kernels 0",
            "train --train {dir}/train.fa --kernels 0 -o {dir}/t",
            &["--kernels", "at least 1"],
            &["t"],
        ),
        case(
            "train --width 0",
            "train --train {dir}/train.fa --width 0 -o {dir}/t",
            &["--width", "at least 1"],
            &["t"],
        ),
        case(
            "train --batch-size 0",
            "train --train {dir}/train.fa --batch-size 0 -o {dir}/t",
            &["--batch-size", "at least 1"],
            &["t"],
        ),
        case(
            "predict --batch-size 0",
            "predict {dir}/model.onnx --seqs {dir}/seqs.fa --batch-size 0 -o {dir}/p.tsv",
            &["--batch-size", "at least 1"],
            &["p.tsv"],
        ),
        case(
            "decouple --population 0",
            "decouple {fx}/bn_two_block.onnx --layer 0 --population 0 -o {dir}/d",
            &["--population", "at least 1"],
            &["d"],
        ),
        case(
            "decouple --pool 0",
            "decouple {fx}/bn_two_block.onnx --layer 0 --pool 0 -o {dir}/d",
            &["--pool", "at least 1"],
            &["d"],
        ),
        case(
            "decouple --motifs 0",
            "decouple {fx}/bn_two_block.onnx --layer 0 --motifs 0 -o {dir}/d",
            &["--motifs", "at least 1"],
            &["d"],
        ),
        case(
            "simulate --n huge",
            "simulate --preset deepprune1 --n 99999999999 -o {dir}/s",
            &["--n 99999999999", "smaller"],
            &["s"],
        ),
        case(
            "shuffle --copies 0",
            "shuffle {dir}/seqs.fa --copies 0 -o {dir}/sh.fa",
            &["--copies", "at least 1"],
            &["sh.fa"],
        ),
        case(
            "shuffle --copies huge",
            "shuffle {dir}/seqs.fa --copies 1000000000 -o {dir}/sh.fa",
            &["--copies", "at most 1000"],
            &["sh.fa"],
        ),
        case(
            "unknown flag",
            "predict {dir}/model.onnx --seqs {dir}/seqs.fa --frobnicate",
            &["--frobnicate"],
            &[],
        ),
        // models
        case("NaN weight: inspect", "inspect {dir}/nan_w.onnx", &["nan_w.onnx", "`w`", "NaN"], &[]),
        case(
            "NaN weight: predict",
            "predict {dir}/nan_w.onnx --seqs {dir}/seqs.fa -o {dir}/p.tsv",
            &["nan_w.onnx", "`w`", "NaN"],
            &["p.tsv"],
        ),
        case(
            "Inf weight: analyze",
            "analyze {dir}/inf_w.onnx -o {dir}/an",
            &["inf_w.onnx", "`w`", "inf"],
            &["an"],
        ),
        case(
            "zero kernels",
            "inspect {dir}/zero_kernels.onnx",
            &["zero_kernels.onnx", "Conv", "at least one kernel"],
            &[],
        ),
        case(
            "zero-width kernel",
            "predict {dir}/zero_width.onnx --seqs {dir}/seqs.fa -o {dir}/p.tsv",
            &["zero_width.onnx", "Conv", "width"],
            &["p.tsv"],
        ),
        case(
            "huge declared length",
            "predict {dir}/huge.onnx --seqs {dir}/seqs.fa -o {dir}/p.tsv",
            &["huge.onnx", "`x`", "1099511627776"],
            &["p.tsv"],
        ),
        case(
            "external data FIFO",
            "inspect {dir}/fifo/torch_dynamo_ncw.onnx",
            &["torch_dynamo_ncw.onnx.data", "not a regular file"],
            &[],
        ),
        case(
            "external data link out",
            "predict {dir}/link/torch_dynamo_ncw.onnx --seqs {dir}/seqs.fa -o {dir}/p.tsv",
            &["torch_dynamo_ncw.onnx.data", "outside the model's folder"],
            &["p.tsv"],
        ),
        case(
            "predict too short",
            "predict {dir}/model.onnx --seqs {dir}/short.fa -o {dir}/p.tsv",
            &["short.fa:1", "`a`", "10 bp are too short", "Conv"],
            &["p.tsv"],
        ),
        case(
            "evaluate too short for pools",
            "evaluate {fx}/bn_two_block.onnx --seqs {dir}/short.fa",
            &["short.fa:1", "`a`", "too short"],
            &[],
        ),
        // Real model families: each command either works or names the node
        // that breaks the pattern its method needs.
        case(
            "prune BPNet (no global pool → dense)",
            "prune {fx}/families/torch_bpnet.onnx --train {dir}/train.fa --test {dir}/train.fa --target-kernels 2 -o {dir}/pr",
            &["torch_bpnet.onnx", "`/fconv/Conv`", "global pooling"],
            &["pr"],
        ),
        case(
            "prune Keras Flatten head",
            "prune {fx}/families/keras_softmax_flatten.onnx --train {dir}/train.fa --test {dir}/train.fa --target-kernels 2 -o {dir}/pr",
            &["keras_softmax_flatten.onnx", "`model/conv2/Conv1D`", "global pooling"],
            &["pr"],
        ),
        case(
            "decouple past a dilated residual block",
            "decouple {fx}/families/torch_bpnet.onnx --layer 2 -o {dir}/dc",
            &["`/rconvs.0/Conv`", "dilation 2"],
            &["dc"],
        ),
        case(
            "decouple past an overlapping pool",
            "decouple {fx}/families/torch_pad_pool_multitask.onnx --layer 1 -o {dir}/dc",
            &["`/pool/MaxPool`", "overlapping pool"],
            &["dc"],
        ),
        case(
            "train a 12-task model on one label",
            "train --from {fx}/families/torch_pad_pool_multitask.onnx --train {dir}/train.fa -o {dir}/tr",
            &["torch_pad_pool_multitask.onnx", "12 outputs", "labels 1"],
            &["tr"],
        ),
        case(
            "a label column that is not there",
            "evaluate {dir}/model.onnx --seqs {dir}/peaks.csv --label-col bound",
            &["peaks.csv:1", "--label-col bound", "id, sequence, label"],
            &[],
        ),
        case(
            "column flags on a FASTA file",
            "predict {dir}/model.onnx --seqs {dir}/seqs.fa --seq-col sequence -o {dir}/p.tsv",
            &["seqs.fa", "--seq-col", "FASTA"],
            &["p.tsv"],
        ),
        case(
            "decouple --align that cannot be read",
            "decouple {fx}/bn_two_block.onnx --layer 0 --align {dir}/nope.fa -o {dir}/dc",
            &["nope.fa"],
            &["dc"],
        ),
        case(
            "decouple --align with a bad letter",
            "decouple {fx}/bn_two_block.onnx --layer 0 --align {dir}/letters.fa -o {dir}/dc",
            &["letters.fa:2", "`R`"],
            &["dc"],
        ),
        case(
            "decouple a layer without the one below",
            "decouple {fx}/families/keras_neuronmotif5.onnx --layer 2 -o {dir}/dc",
            &["layer-1", "allppm.json", "--no-seed"],
            &["dc"],
        ),
        case(
            "match: query not motifs",
            "match {dir}/garbage.meme",
            &["garbage.meme", "not a motif file"],
            &[],
        ),
        case(
            "match: --db missing",
            "match {dir}/q.meme --db {dir}/nope.meme",
            &["nope.meme", "No such file"],
            &[],
        ),
        case("match: unknown distance", "match {dir}/q.meme --dist nope", &["--dist", "nope"], &[]),
        case(
            "logo: empty motif file",
            "logo {dir}/empty.meme -o {dir}/lg",
            &["empty.meme", "no motifs"],
            &["lg"],
        ),
        case(
            "logo: unknown format",
            "logo {dir}/q.meme -o {dir}/lg --format gif",
            &["--format", "gif"],
            &["lg"],
        ),
        case(
            "analyze: layer out of range",
            "analyze {dir}/model.onnx --layer 9 -o {dir}/an",
            &["model.onnx", "--layer 9"],
            &["an"],
        ),
        case(
            "analyze: unknown extractor",
            "analyze {dir}/model.onnx --extractor nope -o {dir}/an",
            &["`nope`", "plugins"],
            &["an"],
        ),
        case(
            "analyze: unknown --set key",
            "analyze {dir}/model.onnx --set nope=1 -o {dir}/an",
            &["`nope`", "threshold"],
            &["an"],
        ),
        case(
            "saliency: neuron layer out of range",
            "saliency {dir}/model.onnx --seqs {dir}/seqs.fa --neuron 5:0 -o {dir}/g.tsv",
            &["layer 5", "1 conv layer"],
            &["g.tsv"],
        ),
        case(
            "saliency: output column out of range",
            "saliency {dir}/model.onnx --seqs {dir}/seqs.fa --output 99 -o {dir}/g.tsv",
            &["--output 99", "1 output column"],
            &["g.tsv"],
        ),
        case(
            "predict: unknown tensor",
            "predict {dir}/model.onnx --seqs {dir}/seqs.fa --output nosuch -o {dir}/p.tsv",
            &["model.onnx", "`nosuch`"],
            &["p.tsv"],
        ),
        case(
            "evaluate: unlabelled sequences",
            "evaluate {dir}/model.onnx --seqs {dir}/nolab.fa",
            &["nolab.fa", "`a`", "no label"],
            &[],
        ),
        case(
            "simulate: unknown preset",
            "simulate --preset nope -o {dir}/s",
            &["`nope`", "deepprune1"],
            &["s"],
        ),
        case(
            "simulate: --len 0",
            "simulate --preset deepprune1 --len 0 -o {dir}/s",
            &["--len", "at least 1"],
            &["s"],
        ),
        case(
            "train: --val-fraction 1.5",
            "train --train {dir}/train.fa --val-fraction 1.5 -o {dir}/t",
            &["--val-fraction", "1.5"],
            &["t"],
        ),
        case(
            "decouple: bad shard",
            "decouple {fx}/bn_two_block.onnx --layer 0 --shard 3/2 -o {dir}/dc",
            &["--shard", "3/2"],
            &["dc"],
        ),
        case(
            "decouple: neuron out of range",
            "decouple {fx}/bn_two_block.onnx --layer 0 --neurons 99 -o {dir}/dc",
            &["--neurons", "99"],
            &["dc"],
        ),
        case("bench: --n 0", "bench {dir}/model.onnx --n 0", &["--n", "at least 1"], &[]),
        case(
            "bench: too short for the model",
            "bench {dir}/model.onnx --len 5 --n 5",
            &["model.onnx", "5 bp are too short"],
            &[],
        ),
        case(
            "predict: .seq without its columns",
            "predict {dir}/model.onnx --seqs {dir}/bad.seq -o {dir}/p.tsv",
            &["bad.seq", "no sequences"],
            &["p.tsv"],
        ),
        case(
            "shuffle: empty file",
            "shuffle {dir}/empty.fa -o {dir}/sh.fa",
            &["empty.fa", "no sequences"],
            &["sh.fa"],
        ),
        case("inspect: a folder", "inspect {dir}/fifo", &["fifo", "Is a directory"], &[]),
        case(
            "prune: --target-kernels 0",
            "prune {dir}/model.onnx --train {dir}/train.fa --test {dir}/train.fa --target-kernels 0 -o {dir}/pr",
            &["--target-kernels", "at least 1"],
            &["pr"],
        ),
        case(
            "stride 0",
            "inspect {dir}/stride0.onnx",
            &["stride0.onnx", "strides", "at least 1"],
            &[],
        ),
    ]
}

#[test]
fn hostile_inputs_are_one_line_errors_and_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    prepare(dir.path());
    let fx = root().join("data/models");
    let before = snapshot(dir.path());
    let mut failures = Vec::new();
    let all = cases();
    for c in &all {
        let args: Vec<String> = c
            .args
            .iter()
            .map(|a| a.replace("{dir}", s(dir.path())).replace("{fx}", s(&fx)))
            .collect();
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = motiftool(&refs);
        let err = String::from_utf8_lossy(&out.stderr).into_owned();
        let mut why = Vec::new();
        if out.status.code() != Some(2) {
            why.push(format!("exit {:?}", out.status.code()));
        }
        if err.trim_end().lines().count() != 1 || !err.starts_with("motiftool: ") {
            why.push("not one `motiftool: …` line".to_owned());
        }
        if err.contains("panicked") {
            why.push("panicked".to_owned());
        }
        for n in &c.needles {
            if !err.contains(n.as_str()) {
                why.push(format!("`{n}` not named"));
            }
        }
        for a in &c.absent {
            if dir.path().join(a).exists() {
                why.push(format!("{a} was written"));
                let _ = std::fs::remove_dir_all(dir.path().join(a));
                let _ = std::fs::remove_file(dir.path().join(a));
            }
        }
        let after = snapshot(dir.path());
        if after != before {
            let changed: Vec<String> = after
                .keys()
                .chain(before.keys())
                .filter(|p| after.get(*p) != before.get(*p))
                .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
                .collect();
            why.push(format!("files changed or left: {changed:?}"));
            // Put the folder back for the next case.
            for p in after.keys().filter(|p| !before.contains_key(*p)) {
                let _ = std::fs::remove_file(p);
            }
            for (p, bytes) in &before {
                std::fs::write(p, bytes).unwrap();
            }
        }
        if !why.is_empty() {
            failures.push(format!("{}: {} — stderr: {}", c.name, why.join(", "), err.trim_end()));
        }
    }
    assert!(all.len() >= 60, "{} cases", all.len());
    assert!(
        failures.is_empty(),
        "{} of {} cases:\n{}",
        failures.len(),
        all.len(),
        failures.join("\n")
    );
}

/// Temp files in `dir` (`.motiftool-*.tmp`).
fn temps(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".motiftool-") && n.ends_with(".tmp"))
        .collect()
}

#[cfg(unix)]
#[test]
fn interrupted_runs_leave_no_temp_file() {
    let dir = tempfile::tempdir().unwrap();
    let seq: String = "ACGTTGCAAGCT".repeat(25);
    let text: String = (0..2000).map(|i| format!(">s{i}\n{seq}\n")).collect();
    let input = dir.path().join("many.fa");
    std::fs::write(&input, text).unwrap();
    for signal in ["INT", "TERM"] {
        let out = dir.path().join("shuffled.fa");
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_motiftool"))
            .args(["shuffle", s(&input), "--copies", "1000", "-o", s(&out)])
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        // Wait until its temp file exists, then signal it.
        let t0 = std::time::Instant::now();
        while temps(dir.path()).is_empty() && t0.elapsed().as_secs() < 20 {
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        assert!(!temps(dir.path()).is_empty(), "no temp file seen");
        std::process::Command::new("kill")
            .args([format!("-{signal}"), child.id().to_string()])
            .status()
            .unwrap();
        let status = child.wait().unwrap();
        assert!(!status.success(), "SIG{signal}: {status:?}");
        assert!(temps(dir.path()).is_empty(), "SIG{signal} left {:?}", temps(dir.path()));
        assert!(!out.exists(), "SIG{signal}: a partial output was moved into place");
    }
}

#[test]
fn a_rerun_removes_stale_temps_of_dead_processes() {
    if !Path::new("/proc/self").exists() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let stale = dir.path().join(".motiftool-4294967295-abc.tmp");
    std::fs::write(&stale, b"half a file").unwrap();
    let out = dir.path().join("p.tsv");
    ok(&[
        "predict",
        s(&fixture("torch_legacy_ncw.onnx")),
        "--seqs",
        s(&fixture("fixture_seqs.fa")),
        "--engine",
        "tract",
        "-o",
        s(&out),
    ]);
    assert!(out.exists());
    assert!(temps(dir.path()).is_empty(), "{:?}", temps(dir.path()));
}
