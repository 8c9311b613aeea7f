use super::*;
use crate::pb::{
    AttributeProto, GraphProto, ModelProto, NodeProto, OperatorSetIdProto, TensorShapeProto,
    TypeProto, type_proto,
};
use crate::tensor::from_f32;

fn vi(name: &str, dims: &[Option<usize>]) -> ValueInfoProto {
    use crate::pb::tensor_shape_proto::Dimension;
    ValueInfoProto {
        name: Some(name.into()),
        r#type: Some(TypeProto {
            value: Some(type_proto::Value::TensorType(type_proto::Tensor {
                elem_type: Some(1),
                shape: Some(TensorShapeProto {
                    dim: dims
                        .iter()
                        .map(|d| Dimension {
                            value: Some(match d {
                                Some(n) => DimValue::DimValue(*n as i64),
                                None => DimValue::DimParam("N".into()),
                            }),
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

fn ints(name: &str, v: &[i64]) -> AttributeProto {
    AttributeProto {
        name: Some(name.into()),
        ints: v.to_vec(),
        r#type: Some(7),
        ..Default::default()
    }
}

fn node(op: &str, inputs: &[&str], output: &str, attrs: Vec<AttributeProto>) -> NodeProto {
    NodeProto {
        op_type: Some(op.into()),
        name: Some(output.into()),
        input: inputs.iter().map(|s| (*s).to_owned()).collect(),
        output: vec![output.into()],
        attribute: attrs,
        ..Default::default()
    }
}

/// conv(5) → relu → maxpool(2) → conv(2) → global max → gemm
fn two_layer() -> ModelProto {
    let w1 = from_f32("w1", &[3, 4, 5], &[0.1; 60]);
    let w2 = from_f32("w2", &[2, 3, 2], &[0.1; 12]);
    let fc = from_f32("fc", &[1, 2], &[1.0, 1.0]);
    ModelProto {
        ir_version: Some(8),
        opset_import: vec![OperatorSetIdProto { domain: Some(String::new()), version: Some(13) }],
        graph: Some(GraphProto {
            node: vec![
                node("Conv", &["x", "w1"], "c1", vec![ints("kernel_shape", &[5])]),
                node("Relu", &["c1"], "r1", vec![]),
                node(
                    "MaxPool",
                    &["r1"],
                    "p1",
                    vec![ints("kernel_shape", &[2]), ints("strides", &[2])],
                ),
                node("Conv", &["p1", "w2"], "c2", vec![]),
                node("Relu", &["c2"], "r2", vec![]),
                node("GlobalMaxPool", &["r2"], "g", vec![]),
                node("Flatten", &["g"], "f", vec![]),
                node(
                    "Gemm",
                    &["f", "fc"],
                    "y",
                    vec![AttributeProto {
                        name: Some("transB".into()),
                        i: Some(1),
                        r#type: Some(2),
                        ..Default::default()
                    }],
                ),
            ],
            initializer: vec![w1, w2, fc],
            input: vec![vi("x", &[None, Some(4), None])],
            output: vec![vi("y", &[None, Some(1)])],
            ..Default::default()
        }),
        ..Default::default()
    }
}

#[test]
fn receptive_field_of_conv_pool_conv() {
    let s = Structure::recognise(&two_layer(), std::path::Path::new("t.onnx")).unwrap();
    assert_eq!(s.input.layout, Layout::Ncw);
    assert_eq!(s.convs.len(), 2);
    assert_eq!((s.convs[0].receptive_field, s.convs[0].input_stride), (5, 1));
    assert_eq!((s.convs[1].receptive_field, s.convs[1].input_stride), (8, 2));
    assert_eq!(
        s.convs[0].post,
        vec![PostOp::Activation { onnx_op: "Relu".into() }, PostOp::MaxPool { size: 2, stride: 2 }]
    );
    assert_eq!(s.convs[0].activation_output.as_deref(), Some("r1"));
    assert_eq!(s.convs[0].pooled_output.as_deref(), Some("p1"));
    assert_eq!(s.pooled_scores(), Some("g"));
    assert_eq!(s.dense.len(), 1);
    assert_eq!((s.dense[0].in_features, s.dense[0].out_features), (2, 1));
    assert!(s.notes.is_empty(), "{:?}", s.notes);
}

#[test]
fn nwc_through_unsqueeze_transpose_conv2d() {
    // tf2onnx style: (N, L, 4) → Unsqueeze(1) → (N,1,L,4) → Transpose(0,3,1,2) → (N,4,1,L) → Conv (1×3)
    let mut m = two_layer();
    let g = m.graph.as_mut().unwrap();
    g.input = vec![vi("x", &[None, Some(101), Some(4)])];
    g.initializer[0] = from_f32("w1", &[3, 4, 1, 3], &[0.1; 36]);
    g.node = vec![
        node("Unsqueeze", &["x"], "u", vec![ints("axes", &[1])]),
        node("Transpose", &["u"], "t", vec![ints("perm", &[0, 3, 1, 2])]),
        node(
            "Conv",
            &["t", "w1"],
            "c1",
            vec![ints("kernel_shape", &[1, 3]), ints("strides", &[1, 2])],
        ),
        node(
            "MaxPool",
            &["c1"],
            "p1",
            vec![ints("kernel_shape", &[1, 4]), ints("strides", &[1, 4])],
        ),
        node("Squeeze", &["p1"], "sq", vec![ints("axes", &[2])]),
        node("ReduceMax", &["sq"], "g", vec![ints("axes", &[2])]),
    ];
    let s = Structure::recognise(&m, std::path::Path::new("k.onnx")).unwrap();
    assert_eq!(s.input.layout, Layout::Nwc);
    assert_eq!(s.input.length, Some(101));
    let c = &s.convs[0];
    assert_eq!((c.width, c.stride, c.spatial_dims, c.length_axis), (3, 2, 2, 3));
    assert_eq!(c.post, vec![PostOp::MaxPool { size: 4, stride: 4 }, PostOp::GlobalMaxPool]);
    assert_eq!(s.pooled_scores(), Some("g"));
}

#[test]
fn wrong_alphabet_and_rank_are_errors() {
    let mut m = two_layer();
    m.graph.as_mut().unwrap().input = vec![vi("x", &[None, Some(5), Some(100)])];
    let e = Structure::recognise(&m, std::path::Path::new("a.onnx")).unwrap_err().to_string();
    assert!(e.contains("a.onnx") && e.contains("expected 4 channels"), "{e}");
    m.graph.as_mut().unwrap().input = vec![vi("x", &[None, Some(4)])];
    let e = Structure::recognise(&m, std::path::Path::new("a.onnx")).unwrap_err().to_string();
    assert!(e.contains("rank 2"), "{e}");
}

#[test]
fn shared_weights_are_one_layer_and_rc_is_seen() {
    let mut m = two_layer();
    let g = m.graph.as_mut().unwrap();
    g.initializer.push(crate::pb::TensorProto {
        name: Some("st".into()),
        dims: vec![2],
        data_type: Some(7),
        int64_data: vec![-1, -1],
        ..Default::default()
    });
    g.initializer.push(crate::pb::TensorProto {
        name: Some("en".into()),
        dims: vec![2],
        data_type: Some(7),
        int64_data: vec![i64::MIN, i64::MIN],
        ..Default::default()
    });
    g.initializer.push(crate::pb::TensorProto {
        name: Some("ax".into()),
        dims: vec![2],
        data_type: Some(7),
        int64_data: vec![1, 2],
        ..Default::default()
    });
    g.initializer.push(crate::pb::TensorProto {
        name: Some("sp".into()),
        dims: vec![2],
        data_type: Some(7),
        int64_data: vec![-1, -1],
        ..Default::default()
    });
    g.node.truncate(3);
    g.node.push(node("Slice", &["x", "st", "en", "ax", "sp"], "xr", vec![]));
    g.node.push(node("Conv", &["xr", "w1"], "c1r", vec![]));
    g.node.push(node("Relu", &["c1r"], "r1r", vec![]));
    let s = Structure::recognise(&m, std::path::Path::new("t.onnx")).unwrap();
    assert!(s.reverse_complement);
    assert_eq!(s.convs.len(), 1);
    assert_eq!(s.convs[0].uses, 2);
    assert_eq!(s.convs[0].post.len(), 2, "{:?}", s.convs[0].post);
}
