use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::util::*;

const MODELS: [&str; 4] =
    ["torch_legacy_ncw", "torch_dynamo_ncw", "keras_tf2onnx_nwc", "bn_two_block"];

fn expected() -> HashMap<String, Vec<(String, f64)>> {
    let text = std::fs::read_to_string(fixture("expected_outputs.tsv")).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split('\t').collect();
    let mut cols: HashMap<String, Vec<(String, f64)>> = HashMap::new();
    for l in lines {
        let f: Vec<&str> = l.split('\t').collect();
        for (name, v) in header[1..].iter().zip(&f[1..]) {
            cols.entry((*name).to_owned()).or_default().push((f[0].to_owned(), v.parse().unwrap()));
        }
    }
    cols
}

/// The fixture sequences the model accepts (the dynamo export has a fixed length of 101).
fn seqs_for(model: &str, dir: &tempfile::TempDir) -> PathBuf {
    let all = fixture("fixture_seqs.fa");
    if model != "torch_dynamo_ncw" {
        return all;
    }
    let text = std::fs::read_to_string(&all).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let kept: Vec<String> = lines
        .chunks(2)
        .filter(|c| c[1].len() == 101)
        .map(|c| format!("{}\n{}\n", c[0], c[1]))
        .collect();
    let p = dir.path().join("len101.fa");
    std::fs::write(&p, kept.concat()).unwrap();
    p
}

fn predict(
    model: &Path,
    seqs: &Path,
    engine: &str,
    extra: &[&str],
) -> (Vec<String>, Vec<(String, Vec<f64>)>) {
    let mut args = vec!["predict", s(model), "--seqs", s(seqs), "--engine", engine];
    args.extend_from_slice(extra);
    parse_tsv(&ok(&args))
}

fn engines() -> Vec<&'static str> {
    if ort_usable() { vec!["tract", "ort"] } else { vec!["tract"] }
}

#[test]
fn fixtures_match_the_framework_that_made_them() {
    let exp = expected();
    let dir = tempfile::tempdir().unwrap();
    for engine in engines() {
        for m in MODELS {
            let (header, rows) =
                predict(&fixture(&format!("{m}.onnx")), &seqs_for(m, &dir), engine, &[]);
            let width = header.len() - 2;
            for k in 0..width {
                let col = if k == 0 { m.to_owned() } else { format!("{m}:{k}") };
                let want: HashMap<_, _> = exp[&col].iter().cloned().collect();
                for (id, vals) in &rows {
                    let w = want[id];
                    assert!(!w.is_nan(), "{m}: {id} has no expected value");
                    assert!(
                        (vals[k] - w).abs() <= 1e-4 * (1.0 + w.abs()),
                        "{m} on {engine}: {id} col {k}: {} vs {w}",
                        vals[k]
                    );
                }
            }
            let ids: Vec<&str> = rows.iter().map(|r| r.0.as_str()).collect();
            let mut sorted = ids.clone();
            sorted.sort_by_key(|i| i[1..].parse::<u32>().unwrap());
            assert_eq!(ids, sorted, "{m}: input order kept across length groups");
        }
    }
}

fn max_abs_diff(a: &[(String, Vec<f64>)], b: &[(String, Vec<f64>)]) -> f64 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .flat_map(|(x, y)| {
            assert_eq!(x.0, y.0);
            x.1.iter().zip(&y.1).map(|(p, q)| (p - q).abs())
        })
        .fold(0.0, f64::max)
}

#[test]
fn tract_and_ort_agree_on_fixtures_and_deepbind_models() {
    if !ort_usable() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut cases: Vec<(PathBuf, PathBuf)> =
        MODELS.iter().map(|m| (fixture(&format!("{m}.onnx")), seqs_for(m, &dir))).collect();
    if let Some(seqs) = shared("encode/GABPA_GM12878_B.seq.gz") {
        for m in [
            "D00409.004_GABPA.onnx",
            "D00409.004_GABPA_nwc.onnx",
            "D00736.002_ARID3A.onnx",
            "D00328.003_CTCF_selex.onnx",
        ] {
            cases.push((shared(&format!("deepbind-models/{m}")).unwrap(), seqs.clone()));
        }
    }
    for (model, seqs) in cases {
        let a = predict(&model, &seqs, "tract", &[]).1;
        let b = predict(&model, &seqs, "ort", &[]).1;
        let d = max_abs_diff(&a, &b);
        assert!(d <= 1e-5, "{}: tract and ort differ by {d}", model.display());
    }
}

#[test]
fn deepbind_auc_matches_reference() {
    let cases = [
        ("D00409.004_GABPA.onnx", "GABPA_GM12878_B.seq.gz", 0.9794),
        ("D00409.004_GABPA_nwc.onnx", "GABPA_GM12878_B.seq.gz", 0.9794),
        ("D00736.002_ARID3A.onnx", "ARID3A_K562_B.seq.gz", 0.8848),
    ];
    for (m, d, want) in cases {
        let (Some(model), Some(seqs)) =
            (shared(&format!("deepbind-models/{m}")), shared(&format!("encode/{d}")))
        else {
            eprintln!("../shared not present; skipped");
            return;
        };
        for engine in engines() {
            let out =
                ok(&["evaluate", s(&model), "--seqs", s(&seqs), "--engine", engine, "--json"]);
            let v: serde_json::Value = serde_json::from_str(&out).unwrap();
            let auc = v["roc_auc"].as_f64().unwrap();
            assert!((auc - want).abs() <= 0.0005, "{m} on {engine}: AUC {auc}, reference {want}");
            assert_eq!(v["n"], 1000);
        }
    }
}

#[test]
fn ctcf_score_matches_deepbind_tool() {
    let Some(model) = shared("deepbind-models/D00328.003_CTCF_selex.onnx") else { return };
    let dir = tempfile::tempdir().unwrap();
    let seqs = dir.path().join("ctcf.tsv");
    std::fs::write(&seqs, "TACCACTAGGGGGCGCCACC\n").unwrap();
    for engine in engines() {
        let (_, rows) = predict(&model, &seqs, engine, &[]);
        assert!((rows[0].1[0] - 17.682_623).abs() < 1e-4, "{engine}: {}", rows[0].1[0]);
    }
}

#[test]
fn intermediate_tensors_are_consistent() {
    // pre-activation conv map → Relu → global max = the pooled scores
    let model = fixture("torch_legacy_ncw.onnx");
    let dir = tempfile::tempdir().unwrap();
    let seqs101 = seqs_for("torch_dynamo_ncw", &dir);
    for engine in engines() {
        let (h, rows) = predict(
            &model,
            &seqs101,
            engine,
            &["--output", "/conv/Conv_output_0", "--output", "/ReduceMax_output_0"],
        );
        // 16 kernels × (101 − 24 + 1) positions, then 16 pooled scores
        let positions = 101 - 24 + 1;
        assert_eq!(h.len(), 2 + 16 * positions + 16);
        for (_, v) in &rows {
            for k in 0..16 {
                let map = &v[k * positions..(k + 1) * positions];
                let want = map.iter().fold(0.0f64, |m, &x| m.max(x.max(0.0)));
                let got = v[16 * positions + k];
                assert!(
                    (got - want).abs() < 1e-5,
                    "{engine}: kernel {k}: pooled {got} vs max relu {want}"
                );
            }
        }
    }
}

#[test]
fn evaluate_fixture_prints_aucs() {
    let out = ok(&[
        "evaluate",
        s(&fixture("bn_two_block.onnx")),
        "--seqs",
        s(&fixture("fixture_seqs.fa")),
        "--engine",
        "tract",
    ]);
    assert!(out.contains("ROC AUC") && out.contains("PR AUC"), "{out}");
}

/// The model families real users export (data/models/families, made by
/// PyTorch and Keras + tf2onnx): predict on every engine gives the
/// framework's own outputs.
#[test]
fn model_families_predict_the_frameworks_outputs() {
    let dir = root().join("data/models/families");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(Result::ok)
        .filter_map(|e| e.file_name().to_str()?.strip_suffix(".onnx").map(str::to_owned))
        .collect();
    names.sort();
    assert!(names.len() >= 5, "{names:?}");
    let table = |p: &std::path::Path| -> Vec<Vec<f64>> {
        let text = std::fs::read_to_string(p).unwrap();
        text.lines()
            .skip(1)
            .map(|l| l.split('\t').skip(1).map(|v| v.parse().unwrap()).collect())
            .collect()
    };
    for name in &names {
        let model = dir.join(format!("{name}.onnx"));
        let seqs = dir.join(format!("{name}.seqs.fa"));
        // Outputs in graph order: the profile (when there is one) then the rest.
        let mut want: Vec<Vec<f64>> = table(&dir.join(format!("{name}.expected.tsv")));
        let profile = dir.join(format!("{name}.profile.tsv"));
        if profile.exists() {
            want = table(&profile)
                .into_iter()
                .zip(want)
                .map(|(mut p, c)| {
                    p.extend(c);
                    p
                })
                .collect();
        }
        for engine in engines() {
            let (_, rows) = predict(&model, &seqs, engine, &[]);
            assert_eq!(rows.len(), want.len(), "{name} on {engine}");
            for ((id, got), w) in rows.iter().zip(&want) {
                assert_eq!(got.len(), w.len(), "{name} on {engine}: {id}");
                for (k, (a, b)) in got.iter().zip(w).enumerate() {
                    assert!(
                        (a - b).abs() <= 1e-4 + 1e-4 * b.abs(),
                        "{name} on {engine}: {id} value {k}: {a} vs the framework's {b}"
                    );
                }
            }
        }
    }
}

/// A CSV with a header row (columns by name, any order) gives the same
/// scores as the FASTA holding the same sequences; evaluate reads the
/// label column it is told to.
#[test]
fn tables_with_headers_read_like_fasta() {
    let dir = tempfile::tempdir().unwrap();
    let fasta = std::fs::read_to_string(fixture("fixture_seqs.fa")).unwrap();
    let lines: Vec<&str> = fasta.lines().collect();
    let mut csv = String::from("chrom,peak,bound,sequence\n");
    for pair in lines.chunks(2) {
        let mut h = pair[0][1..].split_whitespace();
        let (id, label) = (h.next().unwrap(), h.next().unwrap());
        csv.push_str(&format!("chr1,{id},{label},{}\n", pair[1]));
    }
    let table = dir.path().join("peaks.csv");
    std::fs::write(&table, csv).unwrap();
    let model = fixture("torch_legacy_ncw.onnx");
    let (_, a) = predict(&model, &fixture("fixture_seqs.fa"), "tract", &[]);
    let (_, b) = predict(&model, &table, "tract", &["--id-col", "peak"]);
    assert_eq!(a, b);
    let e1 = ok(&[
        "evaluate",
        s(&model),
        "--seqs",
        s(&fixture("fixture_seqs.fa")),
        "--engine",
        "tract",
        "--json",
    ]);
    let e2 = ok(&[
        "evaluate",
        s(&model),
        "--seqs",
        s(&table),
        "--label-col",
        "bound",
        "--engine",
        "tract",
        "--json",
    ]);
    let auc = |t: &str| serde_json::from_str::<serde_json::Value>(t).unwrap()["roc_auc"].clone();
    assert_eq!(auc(&e1), auc(&e2));
}

/// Peaks cut from an indexed genome (`--bed` narrowPeak, `--genome`,
/// `--width`, centred on the summit) score like the same windows written
/// out as FASTA; the - strand is reverse-complemented.
#[test]
fn bed_intervals_from_an_indexed_genome() {
    let dir = tempfile::tempdir().unwrap();
    let chrom: String =
        (0..700u64).map(|i| b"ACGT"[((i * 2_654_435_761) >> 9) as usize % 4] as char).collect();
    let mut fa = String::from(">chr7\n");
    for c in chrom.as_bytes().chunks(50) {
        fa.push_str(std::str::from_utf8(c).unwrap());
        fa.push('\n');
    }
    std::fs::write(dir.path().join("g.fa"), &fa).unwrap();
    std::fs::write(dir.path().join("g.fa.fai"), "chr7\t700\t6\t50\t51\n").unwrap();
    let peaks = "chr7\t100\t400\tpA\t0\t.\t5\t1\t1\t150\nchr7\t300\t600\tpB\t0\t-\t5\t1\t1\t-1\n";
    std::fs::write(dir.path().join("p.narrowPeak"), peaks).unwrap();
    let rc = |s: &str| -> String {
        s.chars()
            .rev()
            .map(|c| match c {
                'A' => 'T',
                'C' => 'G',
                'G' => 'C',
                _ => 'A',
            })
            .collect()
    };
    // pA: summit 100 + 150 = 250 → [200, 301); pB: middle 450 → [400, 501), reversed.
    let want = format!(">pA\n{}\n>pB\n{}\n", &chrom[200..301], rc(&chrom[400..501]));
    std::fs::write(dir.path().join("want.fa"), want).unwrap();
    let model = fixture("torch_legacy_ncw.onnx");
    let (_, a) = predict(&model, &dir.path().join("want.fa"), "tract", &[]);
    let (np, genome) = (dir.path().join("p.narrowPeak"), dir.path().join("g.fa"));
    let args = [
        "predict",
        s(&model),
        "--bed",
        s(&np),
        "--genome",
        s(&genome),
        "--width",
        "101",
        "--engine",
        "tract",
    ];
    let (_, b) = parse_tsv(&ok(&args));
    assert_eq!(a, b);
    // A window off the chromosome names the BED line.
    std::fs::write(dir.path().join("off.bed"), "chr7\t650\t700\n").unwrap();
    fails(
        &[
            "predict",
            s(&model),
            "--bed",
            s(&dir.path().join("off.bed")),
            "--genome",
            s(&dir.path().join("g.fa")),
            "--width",
            "101",
        ],
        &["off.bed:1", "runs off chr7"],
    );
    fails(&["predict", s(&model), "--bed", s(&dir.path().join("off.bed"))], &["--genome"]);
}

/// `predict --config run.toml` scores as the same flags do; a typed
/// `--seqs` replaces the file's source.
#[test]
fn predict_takes_a_config_file() {
    let dir = tempfile::tempdir().unwrap();
    let toml = dir.path().join("run.toml");
    let model = fixture("torch_legacy_ncw.onnx");
    let seqs = fixture("fixture_seqs.fa");
    std::fs::write(
        &toml,
        format!(
            "model = {:?}\n[input]\nbed = \"nope.bed\"\ngenome = \"nope.fa\"\n[engine]\nengine = \"tract\"\n",
            model.display().to_string()
        ),
    )
    .unwrap();
    let by_flags = ok(&["predict", s(&model), "--seqs", s(&seqs), "--engine", "tract"]);
    let by_file = ok(&["predict", "--config", s(&toml), "--seqs", s(&seqs)]);
    assert_eq!(by_file, by_flags);
    let e = crate::util::motiftool(&["predict", "--config", s(&toml)]);
    assert_eq!(e.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&e.stderr).contains("nope"), "the file's source is used");
}

/// `--shard i/n` runs (blocks of whole batches) merged by `motiftool
/// merge` (given in any order) are byte-identical to one run, for one
/// shard, shards that split the batches and more shards than batches; a
/// missing or foreign shard is refused by name; evaluate refuses to shard.
#[test]
fn sharded_predict_merges_to_one_run_byte_for_byte() {
    let dir = tempfile::tempdir().unwrap();
    let model = fixture("torch_legacy_ncw.onnx");
    let seqs = fixture("fixture_seqs.fa");
    let args = ["predict", s(&model), "--seqs", s(&seqs), "--engine", "tract", "--batch-size", "2"];
    let n_seqs = std::fs::read_to_string(&seqs).unwrap().matches('>').count();
    shards_merge_to_one_run(dir.path(), &args, &[1, 3, n_seqs + 2]);
    let part = |i: usize, n: usize| dir.path().join(format!("predict{i}of{n}.tsv"));
    for n in [1, 3, n_seqs + 2] {
        let first = std::fs::read_to_string(part(1, n)).unwrap();
        let line = format!("#shard\t1/{n}\t0\tof={n_seqs}\tbatch=2\nindex\tid\t");
        assert!(
            first.starts_with(&line) || first == line[..line.find("index").unwrap()],
            "{first}"
        );
    }
    let parts: Vec<PathBuf> = (1..=3).map(|i| part(i, 3)).collect();
    fails(&["merge", s(&parts[0]), s(&parts[2])], &["missing shard(s): 2/3"]);
    let foreign = dir.path().join("foreign.tsv");
    ok(&[&args[..], &["--shard", "1/2", "-o", s(&foreign)]].concat());
    fails(&["merge", s(&parts[1]), s(&parts[2]), s(&foreign)], &["different jobs"]);
    fails(&["merge", s(&seqs)], &["fixture_seqs.fa", "not a shard"]);
    fails(
        &["merge", s(&parts[0]), s(&parts[1]), s(&parts[2]), "-o", s(&parts[1])],
        &["refusing to overwrite an input"],
    );
    // Mixed lengths, interleaved: each shard holds whole batches of the
    // single run (per length), so its rows interleave with other shards'.
    let mixed_dir = dir.path().join("mixed");
    std::fs::create_dir(&mixed_dir).unwrap();
    let mixed = interleaved_lengths(&mixed_dir);
    let args =
        ["predict", s(&model), "--seqs", s(&mixed), "--engine", "tract", "--batch-size", "3"];
    shards_merge_to_one_run(&mixed_dir, &args, &[2, 3, 5]);
    // batches of 3 by length, numbered by first row: {0,2,3} {1,4,6} {5,7,8} {9} {10,11};
    // the first of 2 shards holds the first two
    let first = std::fs::read_to_string(mixed_dir.join("predict1of2.tsv")).unwrap();
    let rows: Vec<&str> = first.lines().skip(2).map(|l| l.split('\t').next().unwrap()).collect();
    assert_eq!(rows, ["0", "1", "2", "3", "4", "6"], "{first}");
    fails(&["predict", s(&model), "--seqs", s(&seqs), "--shard", "4/3"], &["--shard", "i/n"]);
    fails(
        &["evaluate", s(&model), "--seqs", s(&seqs), "--shard", "1/2"],
        &["--shard 1/2", "evaluate"],
    );
}

/// `saliency --shard i/n`: whole batches of the single run per shard (rows
/// per position, led by the sequence's index), merged byte for byte, with
/// lengths interleaved.
#[test]
fn sharded_saliency_merges_to_one_run_byte_for_byte() {
    let dir = tempfile::tempdir().unwrap();
    let model = fixture("torch_legacy_ncw.onnx");
    let mixed = interleaved_lengths(dir.path());
    let args =
        ["saliency", s(&model), "--seqs", s(&mixed), "--engine", "tract", "--batch-size", "3"];
    shards_merge_to_one_run(dir.path(), &args, &[2, 3, 6]);
}

/// The fixture sequences (eight of 101 bp, four of 60 bp) with the lengths
/// interleaved.
fn interleaved_lengths(dir: &Path) -> PathBuf {
    let text = std::fs::read_to_string(fixture("fixture_seqs.fa")).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let recs: Vec<&[&str]> = lines.chunks(2).collect();
    let order = [0, 8, 1, 2, 9, 3, 10, 4, 5, 11, 6, 7];
    let mixed = dir.join("mixed.fa");
    std::fs::write(&mixed, order.map(|k| format!("{}\n{}\n", recs[k][0], recs[k][1])).concat())
        .unwrap();
    mixed
}

/// Runs `args` once and as `n` shards (`{command}{i}of{n}.tsv` in `dir`)
/// for each `n` of `counts`, and checks that merging the shards (given in
/// reverse order) writes the single run's file byte for byte.
fn shards_merge_to_one_run(dir: &Path, args: &[&str], counts: &[usize]) {
    let whole = dir.join(format!("{}.tsv", args[0]));
    ok(&[args, &["-o", s(&whole)]].concat());
    for &n in counts {
        let parts: Vec<PathBuf> = (1..=n)
            .map(|i| {
                let p = dir.join(format!("{}{i}of{n}.tsv", args[0]));
                ok(&[args, &["--shard", &format!("{i}/{n}"), "-o", s(&p)]].concat());
                p
            })
            .collect();
        let merged = dir.join(format!("{}-merged{n}.tsv", args[0]));
        let mut merge = vec!["merge"];
        merge.extend(parts.iter().rev().map(|p| s(p)));
        merge.extend(["-o", s(&merged)]);
        ok(&merge);
        assert!(std::fs::read(&merged).unwrap() == std::fs::read(&whole).unwrap(), "{args:?}: {n}");
    }
}
