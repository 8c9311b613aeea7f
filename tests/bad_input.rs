use std::path::Path;

use motif_onnx::pb;
use prost::Message;

use crate::util::*;

fn predict_fails(model: &Path, seqs: &Path, dir: &Path, needles: &[&str]) {
    let out = dir.join("out.tsv");
    for engine in ["tract", "ort"] {
        if engine == "ort" && !ort_usable() {
            continue;
        }
        fails(
            &["predict", s(model), "--seqs", s(seqs), "--engine", engine, "-o", s(&out)],
            needles,
        );
        no_output_left(&out);
    }
}

#[test]
fn truncated_and_corrupt_onnx() {
    let dir = tempfile::tempdir().unwrap();
    let bytes = std::fs::read(fixture("torch_legacy_ncw.onnx")).unwrap();
    let trunc = dir.path().join("trunc.onnx");
    std::fs::write(&trunc, &bytes[..bytes.len() / 2 + 7]).unwrap();
    fails(&["inspect", s(&trunc)], &["trunc.onnx"]);
    predict_fails(&trunc, &fixture("fixture_seqs.fa"), dir.path(), &["trunc.onnx"]);
    let garbage = dir.path().join("garbage.onnx");
    std::fs::write(&garbage, b"\xff\xfe this is not protobuf at all \x00\x01\x02").unwrap();
    fails(&["inspect", s(&garbage)], &["garbage.onnx", "not a valid ONNX model"]);
}

fn tensor(name: &str, dims: &[i64], v: &[f32]) -> pb::TensorProto {
    motif_onnx::tensor::from_f32(name, &dims.iter().map(|&d| d as usize).collect::<Vec<_>>(), v)
}

fn input(name: &str, dims: &[Option<i64>]) -> pb::ValueInfoProto {
    use pb::tensor_shape_proto::{Dimension, dimension::Value};
    pb::ValueInfoProto {
        name: Some(name.into()),
        r#type: Some(pb::TypeProto {
            value: Some(pb::type_proto::Value::TensorType(pb::type_proto::Tensor {
                elem_type: Some(1),
                shape: Some(pb::TensorShapeProto {
                    dim: dims
                        .iter()
                        .map(|d| Dimension {
                            value: Some(d.map_or(Value::DimParam("N".into()), Value::DimValue)),
                            ..Default::default()
                        })
                        .collect(),
                }),
            })),
            denotation: None,
        }),
        ..Default::default()
    }
}

fn node(op: &str, inputs: &[&str], out: &str) -> pb::NodeProto {
    pb::NodeProto {
        op_type: Some(op.into()),
        name: Some(format!("{out}_node")),
        input: inputs.iter().map(|s| (*s).to_owned()).collect(),
        output: vec![out.into()],
        ..Default::default()
    }
}

/// x (N, channels, L) → Conv(3 kernels of width 5) → `middle_op` → GlobalMaxPool → y
fn model_bytes(channels: i64, middle_op: &str) -> Vec<u8> {
    let w = tensor("w", &[3, channels, 5], &vec![0.1; 3 * channels as usize * 5]);
    pb::ModelProto {
        ir_version: Some(8),
        opset_import: vec![pb::OperatorSetIdProto {
            domain: Some(String::new()),
            version: Some(17),
        }],
        graph: Some(pb::GraphProto {
            name: Some("g".into()),
            node: vec![
                node("Conv", &["x", "w"], "c"),
                node(middle_op, &["c"], "a"),
                node("GlobalMaxPool", &["a"], "y"),
            ],
            initializer: vec![w],
            input: vec![input("x", &[None, Some(channels), None])],
            output: vec![input("y", &[None, Some(3), Some(1)])],
            ..Default::default()
        }),
        ..Default::default()
    }
    .encode_to_vec()
}

#[test]
fn op_no_engine_supports() {
    let dir = tempfile::tempdir().unwrap();
    let ok_model = dir.path().join("relu.onnx");
    std::fs::write(&ok_model, model_bytes(4, "Relu")).unwrap();
    // the well-formed variant runs (so the failure below is the op's)
    assert!(
        ok(&[
            "predict",
            s(&ok_model),
            "--seqs",
            s(&fixture("fixture_seqs.fa")),
            "--engine",
            "tract"
        ])
        .contains("y:2")
    );
    let bad = dir.path().join("frobnicate.onnx");
    std::fs::write(&bad, model_bytes(4, "Frobnicate")).unwrap();
    let inspected = ok(&["inspect", s(&bad)]);
    assert!(
        inspected.contains("Frobnicate") && inspected.contains("not recognised"),
        "{inspected}"
    );
    predict_fails(
        &bad,
        &fixture("fixture_seqs.fa"),
        dir.path(),
        &["frobnicate.onnx", "Frobnicate"],
    );
}

#[test]
fn wrong_alphabet_size_or_rank() {
    let dir = tempfile::tempdir().unwrap();
    let five = dir.path().join("five.onnx");
    std::fs::write(&five, model_bytes(5, "Relu")).unwrap();
    fails(&["inspect", s(&five)], &["five.onnx", "expected 4 channels"]);
    predict_fails(
        &five,
        &fixture("fixture_seqs.fa"),
        dir.path(),
        &["five.onnx", "expected 4 channels"],
    );
    let mut m = pb::ModelProto::decode(model_bytes(4, "Relu").as_slice()).unwrap();
    m.graph.as_mut().unwrap().input = vec![input("x", &[None, Some(4), Some(1), None])];
    let rank4 = dir.path().join("rank4.onnx");
    std::fs::write(&rank4, m.encode_to_vec()).unwrap();
    fails(&["inspect", s(&rank4)], &["rank4.onnx", "rank 4"]);
}

#[test]
fn bad_sequence_files() {
    let dir = tempfile::tempdir().unwrap();
    let model = fixture("torch_legacy_ncw.onnx");
    let empty = dir.path().join("empty.fa");
    std::fs::write(&empty, "").unwrap();
    predict_fails(&model, &empty, dir.path(), &["empty.fa", "no sequences"]);
    let binary = dir.path().join("binary.fa");
    std::fs::write(
        &binary,
        [0x7f, b'E', b'L', b'F', 2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0x3e],
    )
    .unwrap();
    predict_fails(&model, &binary, dir.path(), &["binary.fa", "binary"]);
    let letters = dir.path().join("letters.fa");
    std::fs::write(
        &letters,
        ">a 1\nACGTACGTACGTACGTACGTACGTAC\n>b 0\nACGTACGTACGTACGTACGTACGTRC\n",
    )
    .unwrap();
    predict_fails(&model, &letters, dir.path(), &["letters.fa:4", "`R` at position 25"]);
    let missing = dir.path().join("missing.fa");
    predict_fails(&model, &missing, dir.path(), &["missing.fa", "No such file"]);
    predict_fails(
        &dir.path().join("nope.onnx"),
        &fixture("fixture_seqs.fa"),
        dir.path(),
        &["nope.onnx", "No such file"],
    );
}

#[test]
fn wrong_length_for_fixed_length_model() {
    let dir = tempfile::tempdir().unwrap();
    // the dynamo fixture takes 101 bp only; the fixture file also has 60 bp sequences
    predict_fails(
        &fixture("torch_dynamo_ncw.onnx"),
        &fixture("fixture_seqs.fa"),
        dir.path(),
        &["torch_dynamo_ncw.onnx", "60"],
    );
}

#[test]
fn analyze_a_model_without_conv_layers() {
    use motif_onnx::Dim;
    use motif_onnx::build::{Attr, GraphBuilder};
    let dir = tempfile::tempdir().unwrap();
    let mut g = GraphBuilder::new("dense_only");
    g.input("x", &[Dim::Symbol("N".into()), Dim::Fixed(4), Dim::Fixed(20)]);
    g.output("y", &[Dim::Symbol("N".into()), Dim::Fixed(1)]);
    g.initializer("w", &[1, 80], &[0.01; 80]).initializer("b", &[1], &[0.0]);
    g.node("Flatten", &["x"], &["flat"], &[("axis", Attr::Int(1))]);
    g.node("Gemm", &["flat", "w", "b"], &["y"], &[("transB", Attr::Int(1))]);
    let model = dir.path().join("dense_only.onnx");
    std::fs::write(&model, g.to_bytes()).unwrap();
    let out = dir.path().join("run");
    fails(&["analyze", s(&model), "-o", s(&out)], &["dense_only.onnx", "no conv layer"]);
    assert!(!out.exists());
}
