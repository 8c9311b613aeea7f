//! The report works in a real browser: headless Chromium opens `report.html`,
//! renders one row per filter, decodes every image and logs no errors.
//! Skipped where Chromium is missing, unless MOTIFTOOL_REQUIRE_CHROMIUM is set
//! (`.ci/run` installs Debian's `chromium` and sets it).

use std::process::Command;

use crate::util::{fixture, ok, root, s};

pub(crate) fn chromium() -> Option<String> {
    crate::util::external_tool(
        "CHROMIUM",
        "chromium",
        "MOTIFTOOL_REQUIRE_CHROMIUM",
        "browser check",
    )
}

/// The first filter's forward and reverse-complement logo display, before
/// and after clicking "show reverse-complement logos".
const TOGGLE: &str = "(() => { const d = () => [...document.querySelectorAll('tr.filter')[0].querySelectorAll('.fwd,.rev')].map(e => getComputedStyle(e).display).join(' '); const a = d(); document.getElementById('rc').click(); return a + ' | ' + d(); })()";

#[test]
fn report_renders_in_headless_chromium() {
    let Some(exe) = chromium() else { return };
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    ok(&["analyze", s(&fixture("planted_jaspar.onnx")), "-o", s(&out)]);
    // kept for a person to look at: target/tmp/report-screenshot.png
    let shot = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("report-screenshot.png");
    let res = Command::new("python3")
        .arg(root().join("scripts/check_report.py"))
        .args([s(&out.join("report.html")), "--rows", "8", "--screenshot", s(&shot)])
        // the reverse-complement switch swaps the logos, without a script
        .args(["--before-shot", TOGGLE])
        .args(["--chromium", &exe])
        .output()
        .expect("run python3");
    let report = String::from_utf8_lossy(&res.stdout);
    assert!(res.status.success(), "{report}\n{}", String::from_utf8_lossy(&res.stderr));
    let v: serde_json::Value = serde_json::from_str(&report).unwrap();
    assert_eq!(v["rows"], 8);
    assert_eq!(v["before_shot"], "inline none | none inline", "{report}");
    // the page opens with the count of filters matching a known motif: the
    // 8 planted JASPAR kernels
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(html.contains("<b>8 of 8</b> filters match a known motif"), "headline");
    assert_eq!(v["console_errors"].as_array().unwrap().len(), 0);
    // each filter: its logo plus filter/target pairs for up to 3 matches
    assert!(v["svgs"].as_u64().unwrap() >= 8 * 3, "{report}");
    let png = std::fs::read(&shot).unwrap();
    assert_eq!(&png[1..4], b"PNG");
}

/// attribute's report: every contribution track draws, nothing is logged.
#[test]
fn attribution_report_renders_in_headless_chromium() {
    let Some(exe) = chromium() else { return };
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("attr");
    let fam = fixture("families");
    ok(&[
        "attribute",
        s(&fam.join("torch_twin_strands.onnx")),
        "--seqs",
        s(&fam.join("torch_twin_strands.seqs.fa")),
        "--set",
        "n-shuffles=3",
        "-o",
        s(&out),
        "--quiet",
    ]);
    let shot = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("attribution-screenshot.png");
    let res = Command::new("python3")
        .arg(root().join("scripts/check_report.py"))
        .args([s(&out.join("report.html")), "--screenshot", s(&shot), "--chromium", &exe])
        .output()
        .expect("run python3");
    let report = String::from_utf8_lossy(&res.stdout);
    assert!(res.status.success(), "{report}\n{}", String::from_utf8_lossy(&res.stderr));
    let v: serde_json::Value = serde_json::from_str(&report).unwrap();
    assert_eq!(v["console_errors"].as_array().unwrap().len(), 0, "{report}");
    assert!(v["svgs"].as_u64().unwrap() >= 8, "{report}");
}
