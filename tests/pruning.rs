use std::path::Path;

use crate::util::{fails, ok, s};

/// Simulated data (deepprune data set 4: four motifs) and an 8-kernel model
/// trained on it, in `dir`.
fn setup(dir: &Path) -> (String, String, String, String) {
    let sim = dir.join("sim");
    ok(&["simulate", "--preset", "deepprune4", "--n", "600", "--seed", "3", "-o", s(&sim)]);
    let run = dir.join("full");
    let (train, test) = (sim.join("train.fa"), sim.join("test.fa"));
    ok(&[
        "train",
        "--arch",
        "deepbind",
        "--kernels",
        "8",
        "--width",
        "12",
        "--epochs",
        "4",
        "--batch-size",
        "64",
        "--lr",
        "0.01",
        "--train",
        s(&train),
        "--engine",
        "tract",
        "--quiet",
        "-o",
        s(&run),
    ]);
    (
        s(&run.join("model.onnx")).to_owned(),
        s(&train).to_owned(),
        s(&test).to_owned(),
        s(&sim.join("motifs.meme")).to_owned(),
    )
}

#[test]
fn prune_writes_smaller_models_metrics_and_a_report_and_resumes() {
    let dir = tempfile::tempdir().unwrap();
    let (model, train, test, truth) = setup(dir.path());
    let out = dir.path().join("p");
    let args = [
        "prune",
        &model,
        "--train",
        &train,
        "--test",
        &test,
        "--criterion",
        "score",
        "--target-kernels",
        "2",
        "--variant",
        "deepprune,baseline",
        "--epochs",
        "2",
        "--batch-size",
        "64",
        "--engine",
        "tract",
        "--truth",
        &truth,
        "--quiet",
        "-o",
        s(&out),
    ];
    let table = ok(&args);
    assert!(table.starts_with("variant\tkernels"), "{table}");
    for v in ["full\t8", "deepprune\t4", "deepprune\t2", "inter\t2", "baseline\t2"] {
        assert!(table.contains(v), "{v} missing: {table}");
    }
    let j: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("prune.json")).unwrap()).unwrap();
    assert_eq!(j["finished"], true);
    assert_eq!(j["done"].as_array().unwrap().len(), 2);
    let m: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("step-2/metrics.json")).unwrap()).unwrap();
    let dp = m["records"].as_array().unwrap().iter().find(|r| r["variant"] == "deepprune").unwrap();
    assert_eq!(dp["kernels"], 2);
    assert_eq!(dp["kept"].as_array().unwrap().len(), 2);
    assert!(dp["test_auc"].as_f64().unwrap() > 0.5 && dp["val_auc"].as_f64().is_some());
    // the pruned model is an ordinary, smaller model with 2 kernels
    let small = out.join("step-2/deepprune.onnx");
    let info: serde_json::Value =
        serde_json::from_str(&ok(&["inspect", s(&small), "--json"])).unwrap();
    assert_eq!(info["convs"][0]["out_channels"], 2);
    assert!(std::fs::metadata(&small).unwrap().len() < std::fs::metadata(&model).unwrap().len());
    ok(&["evaluate", s(&small), "--seqs", &test, "--engine", "tract"]);
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(html.contains("Test AUC against kernel number"), "no AUC figure");
    assert!(html.contains("Dense weights of the surviving kernels"), "no weight figure");
    assert_eq!(html.matches("class=\"final\"").count(), 2, "final kernels");
    assert!(html.matches("<svg").count() >= 4);
    // run.json: the typed manifest, with every input hashed
    let run: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("run.json")).unwrap()).unwrap();
    assert_eq!(run["workflow"], "prune");
    let roles: Vec<&str> =
        run["inputs"].as_array().unwrap().iter().map(|i| i["role"].as_str().unwrap()).collect();
    assert_eq!(roles, ["model", "truth", "train", "test"]);
    assert!(
        run["inputs"].as_array().unwrap().iter().all(|i| i["sha256"].as_str().unwrap().len() == 64)
    );
    assert_eq!(run["plugins"][0]["name"], "score");
    assert_eq!(run["engine"], "tract");
    assert!(run["timings_s"]["total"].as_f64().unwrap() > 0.0);
    // the same command again: nothing is retrained
    let again = crate::util::motiftool(&args);
    assert!(again.status.success());
    assert_eq!(String::from_utf8_lossy(&again.stdout), table);
    let err = String::from_utf8_lossy(&again.stderr);
    assert!(!err.contains("epochs,"), "retrained: {err}");
    // a different command in the same folder is refused
    let mut other = args.to_vec();
    other[7] = "weight";
    fails(&other, &["other settings", "criterion"]);
}

#[test]
fn bad_prune_input_fails_before_training() {
    let dir = tempfile::tempdir().unwrap();
    let (model, train, test, _) = setup(dir.path());
    let out = dir.path().join("bad");
    let o = s(&out);
    let base = |m: &str, tr: &str, te: &str| {
        vec![
            "prune".to_owned(),
            m.to_owned(),
            "--train".into(),
            tr.to_owned(),
            "--test".into(),
            te.to_owned(),
            "--engine".into(),
            "tract".into(),
            "--quiet".into(),
            "-o".into(),
            o.to_owned(),
        ]
    };
    let run = |v: Vec<String>, extra: &[&str], needles: &[&str]| {
        let mut args: Vec<&str> = v.iter().map(String::as_str).collect();
        args.extend_from_slice(extra);
        fails(&args, needles);
        assert!(!out.join("prune.json").exists(), "{args:?} started a run");
    };
    run(
        base(&model, &train, &test),
        &["--target-kernels", "16"],
        &["larger than the model's 8 kernels"],
    );
    run(base(&model, &train, &test), &["--target-kernels", "3"], &["not 3·2^k"]);
    let conv_only = dir.path().join("conv_only.onnx");
    {
        use motif_onnx::Dim;
        use motif_onnx::build::{Attr, GraphBuilder};
        let mut g = GraphBuilder::new("conv_only");
        g.input("x", &[Dim::Symbol("N".into()), Dim::Fixed(4), Dim::Fixed(101)]);
        g.output("r", &[Dim::Symbol("N".into()), Dim::Fixed(3), Dim::Fixed(97)]);
        g.initializer("w", &[3, 4, 5], &[0.1; 60]);
        g.node("Conv", &["x", "w"], &["c"], &[("kernel_shape", Attr::Ints(vec![5]))]);
        g.node("Relu", &["c"], &["r"], &[]);
        std::fs::write(&conv_only, g.to_bytes()).unwrap();
    }
    run(
        base(s(&conv_only), &train, &test),
        &[],
        &["conv_only.onnx", "not followed by global pooling"],
    );
    let labels = |name: &str, f: &dyn Fn(usize) -> &'static str| {
        let p = dir.path().join(name);
        let text = std::fs::read_to_string(&test).unwrap();
        let mut o = String::new();
        for (i, l) in text.lines().enumerate() {
            if l.starts_with('>') {
                let id = l.split_whitespace().next().unwrap();
                o.push_str(&format!("{id} {}\n", f(i / 2)));
            } else {
                o.push_str(l);
                o.push('\n');
            }
        }
        std::fs::write(&p, o).unwrap();
        s(&p).to_owned()
    };
    let three = labels("three.fa", &|i| {
        if i == 5 {
            "2"
        } else if i % 2 == 0 {
            "1"
        } else {
            "0"
        }
    });
    run(
        base(&model, &three, &test),
        &[],
        &["three.fa:11", "sequence `test_000006` has label 2", "labels 0 or 1"],
    );
    let ones = labels("ones.fa", &|_| "1");
    run(base(&model, &train, &ones), &[], &["test set", "are labelled 1"]);
    run(base(&model, &train, &test), &["--variant", "lottery"], &["--init"]);
    run(base(&model, &train, &test), &["--criterion", "nope"], &["no plugin named `nope`"]);
}

#[test]
fn protocol_runs_every_variant_per_seed_into_one_table() {
    let dir = tempfile::tempdir().unwrap();
    let sim = dir.path().join("sim");
    ok(&["simulate", "--preset", "deepprune4", "--n", "400", "--seed", "5", "-o", s(&sim)]);
    let out = dir.path().join("proto");
    let (train, test, truth) = (sim.join("train.fa"), sim.join("test.fa"), sim.join("motifs.meme"));
    let args = [
        "prune",
        "--protocol",
        "--seeds",
        "3,4",
        "--kernels",
        "4",
        "--width",
        "10",
        "--target-kernels",
        "2",
        "--epochs",
        "2",
        "--batch-size",
        "64",
        "--train",
        s(&train),
        "--test",
        s(&test),
        "--truth",
        s(&truth),
        "--engine",
        "tract",
        "--quiet",
        "-o",
        s(&out),
    ];
    ok(&args);
    let csv = std::fs::read_to_string(out.join("protocol.csv")).unwrap();
    let rows: Vec<Vec<&str>> = csv.lines().skip(1).map(|l| l.split(',').collect()).collect();
    assert_eq!(csv.lines().next().unwrap(), "seed,variant,step,kernels,test_auc,val_auc,epochs");
    for seed in ["3", "4"] {
        let mine: Vec<(&str, &str)> =
            rows.iter().filter(|r| r[0] == seed).map(|r| (r[1], r[3])).collect();
        assert_eq!(
            mine,
            [
                ("full", "4"),
                ("inter", "2"),
                ("deepprune", "2"),
                ("lottery", "2"),
                ("baseline", "2")
            ],
            "seed {seed}: {csv}"
        );
        // the full model was trained in the run
        let full = rows.iter().find(|r| r[0] == seed && r[1] == "full").unwrap();
        assert_eq!(full[6], "2", "{csv}");
    }
    let j: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("protocol.json")).unwrap()).unwrap();
    let summary = j["summary"].as_array().unwrap();
    let dp = summary.iter().find(|r| r["variant"] == "deepprune" && r["kernels"] == 2).unwrap();
    assert_eq!(dp["n"], 2);
    let aucs: Vec<f64> =
        rows.iter().filter(|r| r[1] == "deepprune").map(|r| r[4].parse().unwrap()).collect();
    let mean = aucs.iter().sum::<f64>() / 2.0;
    assert!((dp["mean"].as_f64().unwrap() - mean).abs() < 1e-6);
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(html.contains("min–max over seeds") && html.contains("lottery"), "report");
    let claim: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("summary.json")).unwrap()).unwrap();
    assert_eq!(claim["claim"]["seeds"], 2);
    assert_eq!(claim["claim"]["final_kernels"], 4);
    // `report` redraws the protocol's page from summary.json and the
    // journals alone: the same bytes
    std::fs::remove_file(out.join("report.html")).unwrap();
    crate::util::ok(&["report", out.to_str().unwrap()]);
    assert_eq!(std::fs::read_to_string(out.join("report.html")).unwrap(), html);

    // The same protocol as two shards (a seed each) into one folder, then a
    // run without --shard: the table is the single run's, byte for byte.
    let sharded = dir.path().join("sharded");
    let with = |extra: &[&'static str]| {
        let mut a: Vec<&str> = args.to_vec();
        *a.last_mut().unwrap() = s(&sharded);
        a.extend_from_slice(extra);
        a
    };
    ok(&with(&["--shard", "2/2"]));
    assert!(sharded.join("seed-4/prune.json").exists() && !sharded.join("seed-3").exists());
    assert!(!sharded.join("protocol.csv").exists(), "a shard writes no table");
    ok(&with(&["--shard", "1/2"]));
    ok(&with(&[]));
    for f in ["protocol.csv", "protocol.json"] {
        assert!(
            std::fs::read(sharded.join(f)).unwrap() == std::fs::read(out.join(f)).unwrap(),
            "{f}: the sharded run differs from the single run"
        );
    }
    let mut single = args.to_vec();
    single.retain(|a| *a != "--protocol");
    single.extend_from_slice(&["--shard", "1/2"]);
    crate::util::fails(&single, &["--shard 1/2", "--protocol"]);
}
