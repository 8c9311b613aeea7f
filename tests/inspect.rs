use crate::util::*;

fn json(model: &str) -> serde_json::Value {
    serde_json::from_str(&ok(&["inspect", "--json", s(&fixture(model))])).unwrap()
}

fn rf(v: &serde_json::Value) -> Vec<(u64, u64)> {
    v["convs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["receptive_field"].as_u64().unwrap(), c["input_stride"].as_u64().unwrap()))
        .collect()
}

#[test]
fn torch_legacy_ncw() {
    let v = json("torch_legacy_ncw.onnx");
    assert_eq!(v["input"]["layout"], "NCW");
    assert_eq!(v["convs"][0]["out_channels"], 16);
    assert_eq!(v["convs"][0]["width"], 24);
    assert_eq!(v["convs"][0]["post"][1]["op"], "global-max-pool");
    assert_eq!(v["dense"].as_array().unwrap().len(), 2);
    assert_eq!(v["dense"][0]["activation"], "Relu");
    assert_eq!(rf(&v), vec![(24, 1)]);
}

#[test]
fn torch_dynamo_with_external_data() {
    let v = json("torch_dynamo_ncw.onnx");
    assert_eq!(v["external_data"], true);
    assert!(v["opset"].as_i64().unwrap() >= 18);
    assert_eq!(v["input"]["length"], 101);
    assert_eq!(v["convs"][0]["padding"], serde_json::json!([4, 4]));
    assert_eq!(
        v["convs"][0]["post"][1],
        serde_json::json!({"op": "max-pool", "size": 3, "stride": 3})
    );
    // conv(9) → maxpool(3) → conv(5): 9 + 2·1 = 11, then + 4·3 = 23, stride 3
    assert_eq!(rf(&v), vec![(9, 1), (23, 3)]);
}

#[test]
fn keras_tf2onnx_nwc() {
    let v = json("keras_tf2onnx_nwc.onnx");
    assert_eq!(v["input"]["layout"], "NWC");
    let c = &v["convs"];
    assert_eq!(c[0]["spatial_dims"], 2);
    assert_eq!(c[0]["post"][0]["op"], "affine"); // BatchNorm folded into Mul/Add
    assert_eq!(c[1]["dilation"], 2);
    // conv(7) → maxpool(2) → conv(5, dilation 2): 7 + 1 = 8, + 4·2·2 = 24, stride 2
    assert_eq!(rf(&v), vec![(7, 1), (24, 2)]);
    assert_eq!(v["dense"][1]["activation"], "Sigmoid");
}

#[test]
fn explicit_batchnorm_two_blocks() {
    let v = json("bn_two_block.onnx");
    let post: Vec<&str> = v["convs"][1]["post"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["op"].as_str().unwrap())
        .collect();
    assert_eq!(post, ["batch-norm", "activation", "max-pool", "global-avg-pool"]);
    assert_eq!(rf(&v), vec![(5, 1), (10, 2)]);
}

#[test]
fn text_output_names_layers_and_fields() {
    let t = ok(&["inspect", s(&fixture("torch_legacy_ncw.onnx"))]);
    assert!(t.contains("NCW (N, 4, L)"), "{t}");
    assert!(t.contains("Relu → GlobalMaxPool"), "{t}");
    assert!(t.contains("16 → 32"), "{t}");
}

#[test]
fn deepbind_models_both_layouts() {
    for (name, layout) in [("D00409.004_GABPA.onnx", "NCW"), ("D00409.004_GABPA_nwc.onnx", "NWC")] {
        let Some(p) = shared(&format!("deepbind-models/{name}")) else { return };
        let v: serde_json::Value =
            serde_json::from_str(&ok(&["inspect", "--json", s(&p)])).unwrap();
        assert_eq!(v["input"]["layout"], layout);
        assert_eq!(v["reverse_complement"], true);
        assert_eq!(v["convs"][0]["uses"], 2);
        assert_eq!(v["convs"][0]["padding"], serde_json::json!([23, 23]));
        assert_eq!(v["convs"][0]["pad_value"], 0.25);
    }
}

/// The Keras Flatten → softmax family: the head is shown as a softmax, not linear.
#[test]
fn softmax_heads_are_shown() {
    let out = ok(&["inspect", s(&fixture("families/keras_softmax_flatten.onnx"))]);
    let head = out.lines().skip_while(|l| !l.starts_with("dense head")).nth(2).unwrap_or("");
    assert!(head.contains("16 → 2") && head.contains("Softmax"), "{out}");
}

/// inspect follows every family as its framework exported it: residual
/// adds and dilations (BPNet), tf2onnx's reshaped pools, average pooling.
#[test]
fn model_families_are_followed_to_the_last_conv() {
    let json = |name: &str| -> serde_json::Value {
        let p = fixture(&format!("families/{name}.onnx"));
        serde_json::from_str(&ok(&["inspect", "--json", s(&p)])).unwrap()
    };
    let posts = |c: &serde_json::Value| -> Vec<String> {
        c["post"].as_array().unwrap().iter().map(|p| p["op"].as_str().unwrap().to_owned()).collect()
    };
    // BPNet: 21 bp conv, 9 dilated residual blocks (d = 2 … 512), the
    // profile conv of 75: RF 21 + Σ 2d + 74.
    let v = json("torch_bpnet");
    let convs = v["convs"].as_array().unwrap();
    assert_eq!(convs.len(), 11);
    for (i, c) in convs.iter().enumerate().skip(1).take(9) {
        assert_eq!(c["dilation"], 1 << i, "{c}");
        assert_eq!(c["post"][1]["op"], "residual", "{c}");
        assert_eq!(c["post"][1]["skip_from"], i - 1, "{c}");
    }
    assert_eq!(convs[9]["receptive_field"], 21 + 2 * (1022));
    assert_eq!(convs[10]["receptive_field"], 21 + 2 * 1022 + 74);
    assert_eq!(convs[9]["post"].as_array().unwrap().last().unwrap()["op"], "global-avg-pool");
    // NeuronMotif's kind: five blocks, each pooled by 2 (tf2onnx's reshape
    // around the pool followed).
    let v = json("keras_neuronmotif5");
    let convs = v["convs"].as_array().unwrap();
    assert_eq!(convs.len(), 5);
    for c in convs {
        assert!(posts(c).contains(&"max-pool".to_owned()), "{c}");
    }
    assert_eq!(convs[4]["receptive_field"], 82);
    assert_eq!(convs[4]["input_stride"], 16);
    // Average pooling of 180.
    let v = json("keras_avgpool_multitask");
    let post = &v["convs"][1]["post"];
    assert!(
        post.as_array().unwrap().iter().any(|p| p["op"] == "avg-pool" && p["size"] == 180),
        "{post}"
    );
    // The overlapping pool after run-time pads.
    let v = json("torch_pad_pool_multitask");
    let p = &v["convs"][0]["post"];
    assert!(
        p.as_array()
            .unwrap()
            .iter()
            .any(|p| p["op"] == "max-pool" && p["size"] == 50 && p["stride"] == 2),
        "{p}"
    );
    assert_eq!(v["convs"][1]["receptive_field"], 76);
}
