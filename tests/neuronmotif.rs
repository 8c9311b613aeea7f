//! `motiftool decouple` (NeuronMotif) on models trained here.

use std::path::Path;

use crate::util::{fails, fixture, ok, s};

fn ppm(rows: &serde_json::Value) -> Vec<[f64; 4]> {
    rows.as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let v: Vec<f64> = r.as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).collect();
            [v[0], v[1], v[2], v[3]]
        })
        .collect()
}

/// Largest information content (bits) of any `w`-column window.
fn best_window_ic(p: &[[f64; 4]], w: usize) -> f64 {
    let ic: Vec<f64> = p
        .iter()
        .map(|c| 2.0 + c.iter().filter(|&&x| x > 0.0).map(|&x| x * x.log2()).sum::<f64>())
        .collect();
    ic.windows(w).map(|x| x.iter().sum::<f64>()).fold(0.0, f64::max)
}

/// Check (a): conv → max pool 2 → conv trained on ZEB1 at two starts 1 bp
/// apart. The layer-1 neuron decouples into two CRMs, one per pooling
/// shift, each matching the planted PWM (E < 0.05) at offsets 1 bp apart,
/// while plain activation alignment of the same neuron stacks both shifts
/// into a less informative motif. Resuming rewrites nothing.
#[test]
fn shifted_copies_are_demixed() {
    let dir = tempfile::tempdir().unwrap();
    let sim = dir.path().join("shift");
    ok(&["simulate", "--preset", "nm-shift", "--seed", "1", "-o", s(&sim)]);
    let model_dir = dir.path().join("demo1");
    ok(&[
        "train",
        "--arch",
        "stack",
        "--layers",
        "8x5:2,1x2",
        "--no-dense",
        "--lr",
        "0.01",
        "--train",
        s(&sim.join("train.fa")),
        "--engine",
        "tract",
        "--quiet",
        "-o",
        s(&model_dir),
    ]);
    let model = model_dir.join("model.onnx");
    let out = dir.path().join("nm");
    let truth = sim.join("motifs.meme");
    let test_fa = sim.join("test.fa");
    let args = [
        "decouple",
        s(&model),
        "--layer",
        "1",
        "--align",
        s(&test_fa),
        "--db",
        s(&truth),
        "--engine",
        "tract",
        "--quiet",
        "-o",
        s(&out),
    ];
    ok(&args);
    let nd = out.join("layer-1/neuron-0");
    let r: serde_json::Value =
        serde_json::from_slice(&std::fs::read(nd.join("neuron.json")).unwrap()).unwrap();
    assert_eq!(r["motifs"], 1, "one shift variable per pool: m = 1");
    let crms = r["crms"].as_array().unwrap();
    assert_eq!(crms.len(), 2, "pool 2 → two CRMs: {crms:?}");
    let mut offsets = Vec::new();
    for (c, m) in crms.iter().zip(r["crm_matches"].as_array().unwrap()) {
        assert!(m["target"].as_str().unwrap().starts_with("MA0103"), "{m}");
        assert!(m["e"].as_f64().unwrap() < 0.05, "{m}");
        assert_eq!(m["reverse"], false);
        offsets.push(m["offset"].as_i64().unwrap());
        assert!(c["conact"].as_f64().unwrap() > 0.0);
    }
    offsets.sort_unstable();
    assert_eq!(offsets[1] - offsets[0], 1, "the two copies sit 1 bp apart: {offsets:?}");
    // The activation alignment of the same neuron is a blur of both shifts.
    let html = std::fs::read_to_string(nd.join("neuron.html")).unwrap();
    assert!(html.contains("Activation alignment (Koo &amp; Eddy)"));
    assert!(html.matches("<svg").count() >= 3);
    let meme = std::fs::read_to_string(nd.join("crms.meme")).unwrap();
    assert_eq!(meme.matches("MOTIF").count(), 2);
    let w = 6;
    let crm_ic: Vec<f64> = crms.iter().map(|c| best_window_ic(&ppm(&c["ppm"]), w)).collect();
    let aligned = motif_core::motif::read_motifs(&nd.join("aligned.meme")).unwrap();
    let a = &aligned.motifs[0].probs;
    let a_rows: Vec<[f64; 4]> =
        (0..a.ncols()).map(|j| [a[(0, j)], a[(1, j)], a[(2, j)], a[(3, j)]]).collect();
    let a_ic = best_window_ic(&a_rows, w);
    assert!(crm_ic.iter().all(|&c| c > a_ic + 1.0), "CRMs {crm_ic:?} vs alignment {a_ic}");
    // `report` redraws the layer's pages from the typed results alone.
    let index = std::fs::read(out.join("layer-1/index.html")).unwrap();
    let page = std::fs::read(nd.join("neuron.html")).unwrap();
    std::fs::remove_file(nd.join("neuron.html")).unwrap();
    std::fs::remove_file(out.join("layer-1/index.html")).unwrap();
    ok(&["report", s(&out.join("layer-1"))]);
    assert_eq!(std::fs::read(nd.join("neuron.html")).unwrap(), page);
    assert_eq!(std::fs::read(out.join("layer-1/index.html")).unwrap(), index);
    // Resume: nothing is recomputed, outputs are identical.
    let before = std::fs::read(nd.join("neuron.json")).unwrap();
    let stamp = std::fs::metadata(nd.join("samples.bin")).unwrap().modified().unwrap();
    ok(&args);
    assert_eq!(std::fs::read(nd.join("neuron.json")).unwrap(), before);
    assert_eq!(std::fs::metadata(nd.join("samples.bin")).unwrap().modified().unwrap(), stamp);
    // Shards write mergeable per-neuron outputs; other settings are refused.
    let mut other = args.to_vec();
    other.extend(["--seed", "9"]);
    fails(&other, &["other settings", "seed"]);
}

/// Layer by layer with the genetic algorithm seeded from the layer below;
/// two shards then a merging run give exactly the single run's results,
/// and the merge reuses the shards' samples.
#[test]
fn seeded_layers_and_shards_merge() {
    let dir = tempfile::tempdir().unwrap();
    let model = chain_model(dir.path(), 2);
    let run = |out: &Path, layer: &str, extra: &[&str]| {
        let mut a = vec![
            "decouple",
            s(&model),
            "--layer",
            layer,
            "--engine",
            "tract",
            "--population",
            "300",
            "--max-iter",
            "6",
            "--quiet",
            "-o",
            s(out),
        ];
        a.extend(extra);
        ok(&a);
    };
    let (one, sharded) = (dir.path().join("one"), dir.path().join("sharded"));
    for out in [&one, &sharded] {
        run(out, "0", &[]);
    }
    run(&one, "1", &[]);
    run(&sharded, "1", &["--shard", "1/2"]);
    run(&sharded, "1", &["--shard", "2/2"]);
    let read = |p: std::path::PathBuf| {
        std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
    };
    let json =
        |p: std::path::PathBuf| -> serde_json::Value { serde_json::from_slice(&read(p)).unwrap() };
    let l1 = |out: &Path, k: usize| out.join(format!("layer-1/neuron-{k}"));
    for k in 0..2 {
        assert!(l1(&sharded, k).join("m1/crms.json").exists(), "shards demix their neurons");
        assert!(!l1(&sharded, k).join("neuron.json").exists(), "m is chosen over all neurons");
        let sj = json(l1(&one, k).join("sampling.json"));
        assert_eq!(sj["method"], "genetic", "11 bp window: {sj}");
        assert_eq!(sj["seeded"], true, "seeded from layer 0: {sj}");
    }
    let stamp = std::fs::metadata(l1(&sharded, 1).join("samples.bin")).unwrap().modified().unwrap();
    run(&sharded, "1", &[]);
    assert_eq!(
        std::fs::metadata(l1(&sharded, 1).join("samples.bin")).unwrap().modified().unwrap(),
        stamp,
        "the merge reuses the shards' samples"
    );
    for k in 0..2 {
        assert_eq!(
            read(l1(&one, k).join("samples.bin")),
            read(l1(&sharded, k).join("samples.bin"))
        );
        let (mut a, mut b) =
            (json(l1(&one, k).join("neuron.json")), json(l1(&sharded, k).join("neuron.json")));
        a["seconds"] = serde_json::Value::Null;
        b["seconds"] = serde_json::Value::Null;
        assert_eq!(a, b, "neuron {k}");
    }
    assert_eq!(json(one.join("layer-1/allppm.json")), json(sharded.join("layer-1/allppm.json")));
    let layer = json(sharded.join("layer-1/layer.json"));
    assert_eq!(layer["finished"], 2);
    // summary.json is the layer's result; run.json records the matchers as
    // built: both strands for database matches, forward only for the
    // dictionary and syntax; and the registered decoupler with the m chosen.
    assert_eq!(json(sharded.join("layer-1/summary.json")), layer);
    let run = json(sharded.join("layer-1/run.json"));
    assert_eq!(run["workflow"], "decouple");
    let plugins = run["plugins"].as_array().unwrap();
    let matchers: Vec<&serde_json::Value> =
        plugins.iter().filter(|p| p["kind"] == "matcher").collect();
    let norc: Vec<bool> = matchers.iter().map(|p| p["config"]["norc"].as_bool().unwrap()).collect();
    assert_eq!(norc, [false, true]);
    assert_eq!(matchers[1]["config"]["thresh"], 1.0);
    assert_eq!(matchers[0]["config"]["dist"], "pearson");
    let decoupler: Vec<&serde_json::Value> =
        plugins.iter().filter(|p| p["kind"] == "decoupler").collect();
    assert_eq!(decoupler.len(), 1, "{plugins:?}");
    assert_eq!(decoupler[0]["name"], "neuronmotif");
    assert_eq!(decoupler[0]["config"]["motifs"], layer["motifs_per_neuron"]);
}

/// Bad input names what is wrong before any work.
#[test]
fn decouple_refuses_what_the_method_does_not_cover() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("o");
    let m = fixture("bn_two_block.onnx");
    fails(&["decouple", s(&m), "--layer", "5", "-o", s(&out)], &["layer 5", "2 conv layer"]);
    fails(
        &["decouple", s(&m), "--layer", "1", "--neurons", "9", "-o", s(&out)],
        &["--neurons", "9"],
    );
    fails(&["decouple", s(&m), "--layer", "1", "--shard", "3/2", "-o", s(&out)], &["--shard"]);
    // Layer 1 (11 bp: the genetic algorithm) needs layer 0's motifs for seeding.
    let chain = chain_model(dir.path(), 2);
    fails(&["decouple", s(&chain), "--layer", "1", "-o", s(&out)], &["allppm.json", "layer 0"]);
    // An overlapping pool.
    let bad = chain_model(dir.path(), 3);
    fails(&["decouple", s(&bad), "--layer", "1", "-o", s(&out)], &["overlapping pool", "MaxPool"]);
}

/// conv (width 7) → ReLU → max pool (size `pool`, stride 2) → conv (width 3).
pub(crate) fn chain_model(dir: &Path, pool: i64) -> std::path::PathBuf {
    use motif_onnx::Dim;
    use motif_onnx::build::{Attr, GraphBuilder};
    let mut g = GraphBuilder::new("overlap");
    g.input("x", &[Dim::Symbol("N".into()), Dim::Fixed(4), Dim::Symbol("L".into())]);
    // Varied weights (a fixed sine pattern), so channels differ.
    let w = |n: usize, k: f32| -> Vec<f32> { (0..n).map(|i| (i as f32 * k).sin() * 0.5).collect() };
    g.initializer("w1", &[3, 4, 7], &w(84, 1.7));
    g.initializer("w2", &[2, 3, 3], &w(18, 2.3));
    g.node("Conv", &["x", "w1"], &["c1"], &[("kernel_shape", Attr::Ints(vec![7]))]);
    g.node("Relu", &["c1"], &["r1"], &[]);
    g.node(
        "MaxPool",
        &["r1"],
        &["p1"],
        &[("kernel_shape", Attr::Ints(vec![pool])), ("strides", Attr::Ints(vec![2]))],
    );
    g.node("Conv", &["p1", "w2"], &["c2"], &[("kernel_shape", Attr::Ints(vec![3]))]);
    g.node("GlobalMaxPool", &["c2"], &["y"], &[]);
    g.output_any("y");
    let p = dir.join(format!("chain{pool}.onnx"));
    std::fs::write(&p, g.to_bytes()).unwrap();
    p
}

/// NeuronMotif's own kind of model, as Keras + tf2onnx export it (5 blocks
/// of valid conv, BatchNorm as Mul/Add, ReLU and max pool 2; NWC input):
/// layers 0–4 decouple end to end, each seeded from the one below, with
/// CRMs as wide as each layer's receptive field.
#[test]
fn keras_five_block_model_decouples_layers_0_to_4() {
    let dir = tempfile::tempdir().unwrap();
    let model = fixture("families/keras_neuronmotif5.onnx");
    let out = dir.path().join("nm");
    for (layer, window) in [(0, 7), (1, 12), (2, 22), (3, 42), (4, 82)] {
        let l = layer.to_string();
        ok(&[
            "decouple",
            s(&model),
            "--layer",
            &l,
            "--neurons",
            "0,1",
            "--engine",
            "tract",
            "--population",
            "300",
            "--max-iter",
            "5",
            "--pool",
            "3000",
            "--quiet",
            "-o",
            s(&out),
        ]);
        let mut widths = Vec::new();
        for n in [0, 1] {
            let p = out.join(format!("layer-{layer}/neuron-{n}/neuron.json"));
            let v: serde_json::Value =
                serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap();
            assert_eq!(v["layer"], layer);
            for c in v["crms"].as_array().unwrap() {
                widths.push(c["ppm"].as_array().unwrap().len());
            }
        }
        assert!(!widths.is_empty(), "layer {layer}: no CRM");
        assert!(widths.iter().all(|&w| w == window), "layer {layer}: {widths:?}");
    }
}
