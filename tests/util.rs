use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn fixture(name: &str) -> PathBuf {
    root().join("data/models").join(name)
}

/// `../shared/data/...` when present (CI has it beside the checkout) and
/// not hidden by `MOTIFTOOL_NO_SHARED` (CI's second pass, as on a fresh
/// clone); says so on stderr when it is not used.
pub fn shared(rel: &str) -> Option<PathBuf> {
    let p = root().join("../shared/data").join(rel);
    let hidden = std::env::var_os("MOTIFTOOL_NO_SHARED").is_some();
    if hidden || !p.exists() {
        eprintln!("../shared/data/{rel} not used (absent or MOTIFTOOL_NO_SHARED): check skipped");
        return None;
    }
    Some(p)
}

pub fn motiftool(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_motiftool")).args(args).output().expect("run motiftool")
}

/// Asserts exit code 2 and a single stderr line `motiftool: …` containing
/// every one of `needles`, without a panic.
pub fn fails(args: &[&str], needles: &[&str]) {
    let out = motiftool(args);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
    assert_eq!(err.trim_end().lines().count(), 1, "{args:?}: not one line: {err}");
    assert!(err.starts_with("motiftool: "), "{err}");
    for n in needles {
        assert!(err.contains(n), "{args:?}: `{n}` not in: {err}");
    }
    assert!(!err.contains("panicked"), "{err}");
}

/// Asserts that `out` was not written and no temp file was left beside it.
pub fn no_output_left(out: &Path) {
    assert!(!out.exists(), "partial output left behind: {}", out.display());
    let leftovers: Vec<_> = std::fs::read_dir(out.parent().unwrap())
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| {
            let n = e.file_name().to_string_lossy().into_owned();
            n.starts_with(".motiftool-") || n.ends_with(".tmp")
        })
        .collect();
    assert!(leftovers.is_empty(), "temp file left: {leftovers:?}");
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

/// Whether the ort engine is usable here; CI sets `MOTIFTOOL_REQUIRE_ORT=1` so that a
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

/// The executable `$ENV` names (else `default`) when it runs `--version`;
/// otherwise `None` with a line saying `what` is skipped, or a failure when
/// `$REQUIRE` is set (CI installs the tool and sets it).
pub fn external_tool(env: &str, default: &str, require: &str, what: &str) -> Option<String> {
    let exe = std::env::var(env).unwrap_or_else(|_| default.into());
    let found = Command::new(&exe).arg("--version").output().is_ok_and(|o| o.status.success());
    if !found {
        assert!(std::env::var(require).is_err(), "{what} needs `{exe}`, which does not run");
        eprintln!("`{exe}` not found; {what} skipped");
    }
    found.then_some(exe)
}
