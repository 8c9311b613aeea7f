use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn fixture(name: &str) -> PathBuf {
    root().join("data/models").join(name)
}

/// `../shared/data/...` when present (CI has it beside the checkout).
pub fn shared(rel: &str) -> Option<PathBuf> {
    let p = root().join("../shared/data").join(rel);
    p.exists().then_some(p)
}

pub fn motiftool(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_motiftool")).args(args).output().expect("run motiftool")
}

pub fn ok(args: &[&str]) -> String {
    let out = motiftool(args);
    assert!(
        out.status.success(),
        "motiftool {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Whether the ort engine is usable here; CI sets MOTIFTOOL_REQUIRE_ORT=1 so that a
/// missing library fails instead of skipping.
pub fn ort_usable() -> bool {
    let out = ok(&["engines", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let usable = v.as_array().unwrap().iter().any(|e| e["engine"] == "ort" && e["usable"] == true);
    if !usable {
        assert!(
            std::env::var("MOTIFTOOL_REQUIRE_ORT").is_err(),
            "ort is required but unusable: {out}"
        );
        eprintln!("ort unusable here; ort checks skipped");
    }
    usable
}

pub fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Parses a predict TSV into (header, rows of id → values).
pub fn parse_tsv(text: &str) -> (Vec<String>, Vec<(String, Vec<f64>)>) {
    let mut lines = text.lines();
    let header: Vec<String> = lines.next().unwrap().split('\t').map(str::to_owned).collect();
    let rows = lines
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            (f[0].to_owned(), f[2..].iter().map(|v| v.parse().unwrap()).collect())
        })
        .collect();
    (header, rows)
}
