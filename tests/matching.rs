use std::path::{Path, PathBuf};

use crate::util::*;

fn tomtom_fixture(name: &str) -> PathBuf {
    root().join("data/tomtom").join(name)
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

const GOOD: &str = "MEME version 4\n\nALPHABET= ACGT\n\nMOTIF m1\nletter-probability matrix: alength= 4 w= 3 nsites= 10\n 1 0 0 0\n 0 1 0 0\n 0 0 0 1\n";

/// Default database (bundled JASPAR), tomtom's header, row format and footer.
#[test]
fn tsv_is_tomtoms_format() {
    let q = tomtom_fixture("reference_queries.meme");
    let t = ok(&[
        "match",
        s(&q),
        "--dist",
        "pearson",
        "--min-overlap",
        "5",
        "--evalue",
        "--thresh",
        "10",
    ]);
    let mut lines = t.lines();
    assert_eq!(
        lines.next().unwrap(),
        "Query_ID\tTarget_ID\tOptimal_offset\tp-value\tE-value\tq-value\tOverlap\tQuery_consensus\tTarget_consensus\tOrientation"
    );
    // first rows are tomtom's own for Q000 (q-values too: Q000 is first in both runs)
    assert_eq!(
        lines.next().unwrap(),
        "Q000_MA1117.2_rc\tMA1122.2\t-4\t0.000243475\t0.214015\t0.424952\t8\tGTTACGCGGGAATT\tGGCGGGAA\t+"
    );
    let body: Vec<&str> = t.lines().skip(1).take_while(|l| !l.is_empty()).collect();
    assert!(body.len() > 100);
    for l in &body {
        assert_eq!(l.split('\t').count(), 10, "{l}");
    }
    let footer: Vec<&str> = t.lines().skip(1 + body.len()).collect();
    assert_eq!(footer.len(), 4, "{footer:?}");
    assert_eq!(footer[0], "");
    assert!(footer[1].starts_with("# motiftool match"), "{footer:?}");
    assert!(footer[2].contains("tomtom-output-format.html"));
    assert!(footer[3].starts_with("# motiftool match ") && footer[3].contains("--dist pearson"));
}

#[test]
fn json_output_and_thresholds() {
    let dir = tempfile::tempdir().unwrap();
    let q = tomtom_fixture("reference_queries.meme");
    let out = dir.path().join("m.json");
    ok(&["match", s(&q), "--dist", "pearson", "--json", "-o", s(&out)]);
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    let rows = v.as_array().unwrap();
    assert!(!rows.is_empty());
    for r in rows {
        // default threshold: q ≤ 0.5
        assert!(r["q_value"].as_f64().unwrap() <= 0.5, "{r}");
        for k in [
            "query",
            "target",
            "offset",
            "p_value",
            "e_value",
            "overlap",
            "orientation",
            "target_consensus",
        ] {
            assert!(r.get(k).is_some(), "{k} missing in {r}");
        }
    }
    // q-value thresholds above 1 need --evalue, as in tomtom
    let e = motiftool(&["match", s(&q), "--thresh", "5"]);
    assert_eq!(e.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&e.stderr).contains("--evalue")
            || String::from_utf8_lossy(&e.stderr).contains("evalue")
    );
    // a background file is refused with pearson (tomtom: never used)
    let e = motiftool(&["match", s(&q), "--dist", "pearson", "--bg", "uniform"]);
    assert_eq!(e.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&e.stderr).contains("not allowed"));
    // ... and used by allr
    ok(&["match", s(&q), "--dist", "allr", "--bg", "uniform", "--norc", "--incomplete-scores"]);
}

/// Every distance runs end to end on a small database.
#[test]
fn every_distance_runs() {
    let q = tomtom_fixture("reference_queries.meme");
    for d in ["pearson", "ed", "sandelin", "kullback", "allr", "blic1", "blic5", "llr1", "llr5"] {
        let t = ok(&["match", s(&q), "--dist", d, "--evalue", "--thresh", "1e9", "--internal"]);
        assert_eq!(t.lines().filter(|l| l.starts_with("Q000")).count(), 879, "{d}");
    }
}

fn fails_without_output(args: &[&str], out: &Path, needles: &[&str]) {
    fails(args, needles);
    no_output_left(out);
}

#[test]
fn bad_motif_input() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let out = d.join("out.tsv");
    let o = s(&out);
    let good = write(d, "good.meme", GOOD);
    let empty = write(d, "empty.meme", "");
    fails_without_output(&["match", s(&empty), "-o", o], &out, &["empty.meme"]);
    let nomotif = write(d, "nomotif.meme", "MEME version 4\n\nALPHABET= ACGT\n");
    fails_without_output(&["match", s(&nomotif), "-o", o], &out, &["nomotif.meme", "no motifs"]);
    let zero = write(
        d,
        "zero.meme",
        "MEME version 4\n\nMOTIF z\nletter-probability matrix: alength= 4 w= 0\n",
    );
    fails_without_output(&["match", s(&zero), "-o", o], &out, &["zero.meme", "no rows"]);
    let neg = write(d, "neg.meme", &GOOD.replace(" 0 1 0 0", " 0 1.2 -0.2 0"));
    fails_without_output(&["match", s(&neg), "-o", o], &out, &["neg.meme:8", "-0.2"]);
    let nan = write(d, "nan.meme", &GOOD.replace(" 0 1 0 0", " 0 NaN 0 1"));
    fails_without_output(&["match", s(&nan), "-o", o], &out, &["nan.meme:8", "NaN"]);
    let rna = write(d, "rna.meme", &GOOD.replace("ALPHABET= ACGT", "ALPHABET= ACGU"));
    fails_without_output(&["match", s(&rna), "-o", o], &out, &["rna.meme:3", "not DNA"]);
    let protein = write(d, "protein.meme", &GOOD.replace("alength= 4", "alength= 20"));
    fails_without_output(&["match", s(&protein), "-o", o], &out, &["protein.meme", "alength"]);
    // a bad database is named as such
    fails_without_output(&["match", s(&good), "--db", s(&empty), "-o", o], &out, &["empty.meme"]);
}

#[test]
fn repaired_input_warns() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // rows summing to 2: renormalised with a warning naming file and line
    let q = write(d, "q.meme", &GOOD.replace(" 0 1 0 0", " 0 2 0 0"));
    // a database with a duplicated id: the copy is dropped, as tomtom does
    let db_text = format!(
        "{GOOD}\nMOTIF m2\nletter-probability matrix: alength= 4 w= 2 nsites= 5\n 0.1 0.2 0.3 0.4\n 0.4 0.3 0.2 0.1\n\nMOTIF m1\nletter-probability matrix: alength= 4 w= 2\n 1 0 0 0\n 0 0 0 1\n"
    );
    let db = write(d, "db.meme", &db_text);
    let o = motiftool(&["match", s(&q), "--db", s(&db), "--evalue", "--thresh", "1e9"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{err}");
    assert!(err.contains("q.meme:8") && err.contains("renormalised"), "{err}");
    assert!(err.contains("`m1`") && err.contains("dropped"), "{err}");
    assert!(err.contains("unreliable"), "{err}");
    let t = String::from_utf8(o.stdout).unwrap();
    let rows: Vec<&str> = t.lines().skip(1).take_while(|l| !l.is_empty()).collect();
    assert_eq!(rows.len(), 2, "{t}");
    // the query matches its own (first) copy perfectly: offset 0, overlap 3, +
    assert!(rows[0].starts_with("m1\tm1\t0\t"), "{t}");
    assert!(rows[0].ends_with("\t3\tACT\tACT\t+"), "{t}");
}

#[test]
fn logo_writes_one_svg_or_png_per_motif() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("logos");
    let q = tomtom_fixture("reference_queries.meme");
    ok(&["logo", q.to_str().unwrap(), "-o", out.to_str().unwrap()]);
    let n = std::fs::read_dir(&out).unwrap().count();
    assert_eq!(n, 7);
    let svg = std::fs::read_to_string(out.join("Q001_MA1936.2.svg")).unwrap();
    assert!(svg.starts_with("<svg") && svg.contains("<path fill=\"#0000ff\""), "C in blue");
    ok(&["logo", q.to_str().unwrap(), "-o", out.to_str().unwrap(), "--rc", "--format", "png"]);
    let png = std::fs::read(out.join("Q001_MA1936.2_rc.png")).unwrap();
    assert_eq!(&png[1..4], b"PNG");
    // 7 SVG + 7 PNG, no temp files
    assert_eq!(std::fs::read_dir(&out).unwrap().count(), 14);
    fails(&["logo", "/nonexistent.meme", "-o", out.to_str().unwrap()], &["/nonexistent.meme"]);
}

#[test]
fn analyze_writes_a_report_for_a_bundled_model() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    let model = fixture("torch_legacy_ncw.onnx");
    ok(&["analyze", model.to_str().unwrap(), "-o", out.to_str().unwrap(), "--n", "300"]);
    for f in ["report.html", "filters.meme", "tomtom.tsv", "summary.json", "run.json"] {
        assert!(out.join(f).exists(), "{f} missing");
    }
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    let n = summary["filters"].as_array().unwrap().len();
    assert_eq!(html.matches("<tr class=\"filter\"").count(), n);
    assert_eq!(std::fs::read_dir(out.join("logos")).unwrap().count(), n);
    // no model: the bundled example, recorded with its checksum
    let ex = dir.path().join("example");
    ok(&["analyze", "-o", ex.to_str().unwrap(), "--n", "200"]);
    let run: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(ex.join("run.json")).unwrap()).unwrap();
    assert_eq!(run["inputs"][0]["path"], "bundled planted_jaspar.onnx");
    assert_eq!(run["inputs"][0]["sha256"].as_str().unwrap().len(), 64);
    // bad input: layer out of range, sequences shorter than the filter
    fails(
        &["analyze", model.to_str().unwrap(), "--layer", "7", "-o", out.to_str().unwrap()],
        &["--layer 7"],
    );
    let short = dir.path().join("short.fa");
    std::fs::write(&short, ">a\nACGT\n").unwrap();
    let out2 = dir.path().join("run2");
    fails(
        &[
            "analyze",
            model.to_str().unwrap(),
            "--seqs",
            short.to_str().unwrap(),
            "-o",
            out2.to_str().unwrap(),
        ],
        &["shorter than"],
    );
    assert!(!out2.exists());
}

/// Top match (target name, E) of each filter in an analyze run's summary.json.
fn top_matches(out: &std::path::Path) -> Vec<(String, f64)> {
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    summary["filters"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| {
            let m = f["matches"].get(0)?;
            Some((m["name"].as_str()?.to_owned(), m["E"].as_f64()?))
        })
        .collect()
}

/// The real DeepBind models (when `../shared` is beside the checkout): the
/// GABPA model has a filter whose top match is an ETS-class motif with E <
/// 0.05; the CTCF model has a filter whose top match is CTCF.
#[test]
fn analyze_finds_the_factor_in_real_deepbind_models() {
    let (Some(gabpa), Some(seqs), Some(ctcf)) = (
        shared("deepbind-models/D00409.004_GABPA.onnx"),
        shared("encode/GABPA_GM12878_B.seq.gz"),
        shared("deepbind-models/D00328.003_CTCF_selex.onnx"),
    ) else {
        eprintln!("../shared not found; real-model check skipped");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("gabpa");
    ok(&["analyze", s(&gabpa), "--seqs", s(&seqs), "--n", "1000", "-o", s(&out)]);
    let ets =
        ["GABP", "ELK", "ELF", "ETS", "ETV", "ERG", "FLI1", "FEV", "SPI", "EHF", "ERF", "SPDEF"];
    let is_ets =
        |n: &str| n.split("::").any(|p| ets.iter().any(|e| p.to_uppercase().starts_with(e)));
    let tops = top_matches(&out);
    assert!(tops.iter().any(|(n, e)| is_ets(n) && *e < 0.05), "GABPA model: {tops:?}");
    let out = dir.path().join("ctcf");
    ok(&["analyze", s(&ctcf), "-o", s(&out)]);
    let tops = top_matches(&out);
    assert!(tops.iter().any(|(n, _)| n == "CTCF"), "CTCF model: {tops:?}");
}

/// `match --config run.toml` (matcher options in `[matcher]`) gives what
/// the same flags give; a typed flag overrides the file.
#[test]
fn match_takes_a_config_file() {
    let dir = tempfile::tempdir().unwrap();
    let toml = dir.path().join("run.toml");
    let q = tomtom_fixture("reference_queries.meme");
    std::fs::write(
        &toml,
        format!(
            "query = {:?}\n[matcher]\ndist = \"pearson\"\nmin-overlap = 5\n",
            q.display().to_string()
        ),
    )
    .unwrap();
    let rows =
        |out: String| out.lines().filter(|l| !l.starts_with('#')).collect::<Vec<_>>().join("\n");
    let by_file = rows(ok(&["match", "--config", s(&toml)]));
    let by_flags = rows(ok(&["match", s(&q), "--dist", "pearson", "--min-overlap", "5"]));
    assert_eq!(by_file, by_flags);
    let ed = rows(ok(&["match", "--config", s(&toml), "--dist", "ed"]));
    assert_eq!(ed, rows(ok(&["match", s(&q), "--min-overlap", "5"])));
    assert_ne!(ed, by_flags);
}

/// `--shard i/n` compares blocks of the queries; `motiftool merge` joins
/// them into the single run's file byte for byte (q-values included: each
/// shard skips the random draws of the queries before it), also with more
/// shards than queries. A missing shard is refused; so is --json.
#[test]
fn sharded_match_merges_to_one_run_byte_for_byte() {
    let dir = tempfile::tempdir().unwrap();
    let q = tomtom_fixture("reference_queries.meme");
    let args = ["match", s(&q), "--dist", "pearson", "--thresh", "1"];
    let whole = ok(&args);
    let single = dir.path().join("single.tsv");
    ok(&[&args[..], &["-o", s(&single)]].concat());
    assert_eq!(std::fs::read_to_string(&single).unwrap(), whole, "-o is not part of the table");
    assert!(whole.lines().filter(|l| !l.is_empty() && !l.starts_with('#')).count() > 20);
    for n in [3usize, 9] {
        let parts: Vec<PathBuf> = (1..=n)
            .map(|i| {
                let p = dir.path().join(format!("part{i}of{n}.tsv"));
                let shard = format!("{i}/{n}");
                ok(&[&args[..], &["--shard", &shard, "--threads", "1", "-o", s(&p)]].concat());
                p
            })
            .collect();
        let first = std::fs::read_to_string(&parts[0]).unwrap();
        assert!(first.starts_with(&format!("#shard\t1/{n}\t0\t")), "{first}");
        let merged = dir.path().join(format!("merged{n}.tsv"));
        let mut rev: Vec<&str> = parts.iter().map(|p| s(p)).collect();
        rev.reverse();
        ok(&[&["merge"], &rev[..], &["-o", s(&merged)]].concat());
        assert!(std::fs::read_to_string(&merged).unwrap() == whole, "{n} shards merged differ");
        if n == 3 {
            fails(&["merge", s(&parts[0]), s(&parts[2])], &["missing shard(s): 2/3"]);
        }
    }
    fails(&[&args[..], &["--shard", "1/2", "--json"]].concat(), &["--shard 1/2", "drop --json"]);
}
