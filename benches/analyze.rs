//! Speed of `motiftool analyze` end to end: the bundled 16-filter model
//! (`data/models/torch_legacy_ncw.onnx`) on 1,000 × 101 bp sequences,
//! matched against the bundled 879 JASPAR motifs. The target is ≤ 3 s on 2
//! cores (release). Each engine that works here is timed: the median of 5
//! runs of the release binary after a warm-up, whole process wall time and
//! its parts as the run reports them in `run.json` (inference, extraction,
//! matching, rendering).
//!
//! `cargo bench --bench analyze [-- MODEL [SEQS]]`; with the shared ENCODE
//! sets beside the checkout it also runs on 1,000 real GABPA sequences.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

const TARGET_S: f64 = 3.0;
const RUNS: usize = 5;
const PARTS: [&str; 4] = ["inference", "extraction", "matching", "rendering"];

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// One run: (wall seconds, parts from run.json), or None when the engine is unusable.
fn run(model: &Path, seqs: Option<&Path>, engine: &str, out: &Path) -> Option<(f64, Vec<f64>)> {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_motiftool"));
    cmd.arg("analyze").arg(model).args(["--n", "1000", "--engine", engine, "-o"]).arg(out);
    if let Some(s) = seqs {
        cmd.arg("--seqs").arg(s);
    }
    let t = Instant::now();
    let o = cmd.output().expect("run motiftool");
    let wall = t.elapsed().as_secs_f64();
    if !o.status.success() {
        eprintln!("  {engine}: {}", String::from_utf8_lossy(&o.stderr).trim());
        return None;
    }
    let run: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("run.json")).unwrap()).unwrap();
    let parts = PARTS.iter().map(|p| run["timings_s"][p].as_f64().unwrap()).collect();
    Some((wall, parts))
}

fn bench(label: &str, model: &Path, seqs: Option<&Path>) {
    println!("{label}");
    println!(
        "  {:<6} {:>8} {:>10} {:>11} {:>9} {:>10}  vs target {TARGET_S} s",
        "engine", "wall s", "inference", "extraction", "matching", "rendering"
    );
    let dir = tempfile::tempdir().unwrap();
    for engine in ["tract", "ort"] {
        let out = dir.path().join(engine);
        if run(model, seqs, engine, &out).is_none() {
            continue;
        }
        let runs: Vec<_> = (0..RUNS).filter_map(|_| run(model, seqs, engine, &out)).collect();
        let wall = median(runs.iter().map(|r| r.0).collect());
        let parts: Vec<f64> =
            (0..PARTS.len()).map(|i| median(runs.iter().map(|r| r.1[i]).collect())).collect();
        println!(
            "  {engine:<6} {wall:>8.3} {:>10.3} {:>11.3} {:>9.3} {:>10.3}  {:.2}× under",
            parts[0],
            parts[1],
            parts[2],
            parts[3],
            TARGET_S / wall
        );
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with("--")).collect();
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    println!("motiftool analyze, median of {RUNS} runs, {} threads", rayon::current_num_threads());
    if let Some(model) = args.first() {
        bench(model, Path::new(model), args.get(1).map(Path::new));
        return;
    }
    let model = root.join("data/models/torch_legacy_ncw.onnx");
    bench("16 filters, 1000 random × 101 bp, 879 motifs", &model, None);
    let gabpa = root.join("../shared/data/encode/GABPA_GM12878_B.seq.gz");
    if gabpa.exists() {
        bench("16 filters, 1000 ENCODE GABPA × 101 bp, 879 motifs", &model, Some(&gabpa));
    }
}
