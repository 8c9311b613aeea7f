//! `discover` on attributions of simulated data with known truth: the
//! `simulate` preset's planted JASPAR motifs (positions in truth.tsv) get
//! the contributions an ideal model would give them (the motif's
//! probability above background at each planted base, noise elsewhere);
//! discovery must find each motif as a pattern named by the database, with
//! its seqlets on the planted sites, and do it the same way twice.

use std::collections::HashMap;
use std::path::Path;

use ndarray::Array3;

use crate::util::{fails, motiftool, ok};

/// A tiny deterministic generator (xorshift64*) for the noise.
struct Rng(u64);

impl Rng {
    fn uniform(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// A planted instance: sequence id, motif id, `[start, end)`, minus strand.
#[derive(Debug, Clone)]
struct Planted {
    id: String,
    motif: String,
    start: usize,
    end: usize,
}

fn read_fasta(p: &Path) -> Vec<(String, Vec<u8>)> {
    let text = std::fs::read_to_string(p).unwrap();
    let mut out: Vec<(String, Vec<u8>)> = Vec::new();
    for line in text.lines() {
        if let Some(h) = line.strip_prefix('>') {
            out.push((h.split_whitespace().next().unwrap().to_owned(), Vec::new()));
        } else if let Some(last) = out.last_mut() {
            last.1.extend(line.trim().bytes());
        }
    }
    out
}

fn write_npz(path: &Path, a: &Array3<f32>) {
    let dir = path.parent().unwrap();
    let (_, c, l) = a.dim();
    let mut s = motif_core::npz::NpzStream::new(dir, "arr_0", &[c, l]).unwrap();
    s.push(a.view().into_dyn()).unwrap();
    s.finish(path).unwrap();
}

/// The planted sites of `motif` as (row, start, end).
fn sites_of(
    planted: &[Planted],
    row_of: &HashMap<&str, usize>,
    motif: &str,
) -> Vec<(usize, usize, usize)> {
    planted
        .iter()
        .filter(|p| p.motif == motif)
        .map(|p| (row_of[p.id.as_str()], p.start, p.end))
        .collect()
}

/// Simulates `preset` and writes ohe.npz/shap.npz of its training
/// sequences; returns the planted instances.
fn simulated_attributions(dir: &Path, preset: &str, n: &str, len: &str) -> Vec<Planted> {
    let sim = dir.join("sim");
    ok(&[
        "simulate",
        "--preset",
        preset,
        "--n",
        n,
        "--len",
        len,
        "--both-strands",
        "--seed",
        "3",
        "-o",
        sim.to_str().unwrap(),
    ]);
    let seqs = read_fasta(&sim.join("train.fa"));
    let motifs = motif_core::motif::read_motifs(&sim.join("motifs.meme")).unwrap();
    let by_id: HashMap<&str, &motif_core::motif::Motif> =
        motifs.motifs.iter().map(|m| (m.id.as_str(), m)).collect();
    let truth = std::fs::read_to_string(sim.join("truth.tsv")).unwrap();
    let row_of: HashMap<&str, usize> =
        seqs.iter().enumerate().map(|(i, (id, _))| (id.as_str(), i)).collect();
    let l = seqs[0].1.len();
    let mut x = Array3::<f32>::zeros((seqs.len(), 4, l));
    let mut h = Array3::<f32>::zeros((seqs.len(), 4, l));
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    for (i, (_, s)) in seqs.iter().enumerate() {
        for (p, &b) in s.iter().enumerate() {
            if let Some(k) = b"ACGT".iter().position(|&c| c == b.to_ascii_uppercase()) {
                x[(i, k, p)] = 1.0;
            }
            for k in 0..4 {
                h[(i, k, p)] = ((rng.uniform() - 0.5) * 0.04) as f32;
            }
        }
    }
    let mut planted = Vec::new();
    for line in truth.lines().skip(1) {
        let f: Vec<&str> = line.split('\t').collect();
        if f[0] != "train" {
            continue;
        }
        let (i, m) = (row_of[f[1]], by_id[f[2]]);
        // truth.tsv is 1-based and inclusive.
        let (first, last): (usize, usize) = (f[4].parse().unwrap(), f[5].parse().unwrap());
        let (start, end) = (first - 1, last);
        let minus = f[6] == "-";
        let w = m.probs.ncols();
        assert_eq!(end - start, w);
        for k in 0..w {
            // Column k of the motif sits at start + k (plus strand) or, on
            // the minus strand, complemented at end − 1 − k.
            let (pos, comp) = if minus { (end - 1 - k, true) } else { (start + k, false) };
            for b in 0..4 {
                let pb = m.probs[(if comp { 3 - b } else { b }, k)];
                h[(i, b, pos)] += (pb - 0.25) as f32;
            }
        }
        planted.push(Planted { id: f[1].to_owned(), motif: f[2].to_owned(), start, end });
    }
    write_npz(&dir.join("ohe.npz"), &x);
    write_npz(&dir.join("shap.npz"), &h);
    planted
}

/// deepprune4's CTCF, GATA1, SRF and TP53, one per positive sequence on
/// either strand: each comes back as a positive pattern whose best
/// database match (tomtom q) is the planted JASPAR motif, with its seqlets
/// on planted sites of that motif and most sites found; the same files
/// again on a second run; modisco's results file and the MEME exports are
/// there.
#[test]
fn planted_motifs_are_found_where_they_were_planted() {
    let dir = tempfile::tempdir().unwrap();
    let planted = simulated_attributions(dir.path(), "deepprune4", "1600", "200");

    let out = dir.path().join("found");
    let (ohe, shap) = (dir.path().join("ohe.npz"), dir.path().join("shap.npz"));
    let args = |o: &Path| -> Vec<String> {
        ["discover", "--ohe", ohe.to_str().unwrap(), "--shap", shap.to_str().unwrap(), "-w", "200"]
            .iter()
            .map(ToString::to_string)
            .chain(["-o".into(), o.to_str().unwrap().into(), "--quiet".into()])
            .collect()
    };
    let a: Vec<String> = args(&out);
    ok(&a.iter().map(String::as_str).collect::<Vec<_>>());
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    let patterns = summary["patterns"].as_array().unwrap();
    let seqlets = std::fs::read_to_string(out.join("seqlets.tsv")).unwrap();
    // The planted instances by sequence row (train.fa order = ohe rows).
    let seqs = read_fasta(&dir.path().join("sim/train.fa"));
    let row_of: HashMap<&str, usize> =
        seqs.iter().enumerate().map(|(i, (id, _))| (id.as_str(), i)).collect();
    for motif in ["MA0139.2", "MA0035.5", "MA0083.3", "MA0106.3"] {
        let sites = sites_of(&planted, &row_of, motif);
        // The largest pattern whose best match is this motif.
        let p = patterns
            .iter()
            .filter(|p| p["sign"] == 1)
            .find(|p| p["matches"][0]["target"] == motif)
            .unwrap_or_else(|| panic!("no pattern matches {motif}: {summary:#}"));
        assert!(p["matches"][0]["q_value"].as_f64().unwrap() < 0.05, "{p:#}");
        let name = p["name"].as_str().unwrap();
        let mine: Vec<(usize, usize, usize)> = seqlets
            .lines()
            .filter(|l| l.starts_with(&format!("{name}\t")))
            .map(|l| {
                let f: Vec<usize> =
                    l.split('\t').skip(1).take(3).map(|v| v.parse().unwrap()).collect();
                (f[0], f[1], f[2])
            })
            .collect();
        let overlaps = |a: &(usize, usize, usize), b: &(usize, usize, usize)| {
            a.0 == b.0 && a.1 < b.2 && b.1 < a.2
        };
        let on_site = mine.iter().filter(|s| sites.iter().any(|t| overlaps(s, t))).count();
        assert!(
            on_site * 10 >= mine.len() * 9,
            "{motif}: {on_site} of {} seqlets of {name} on a planted site",
            mine.len()
        );
        // Sites far enough from the ends for a 50-column pattern around
        // them (modisco drops seqlets whose expansion leaves the window).
        // modisco-lite 3 on these attributions finds 134/155 TP53, 129/148
        // CTCF, 116/160 SRF and 91/124 GATA1 interior sites, as we do.
        let interior: Vec<&(usize, usize, usize)> =
            sites.iter().filter(|t| t.1 >= 25 && t.2 + 25 <= 200).collect();
        let found = interior
            .iter()
            .filter(|t| {
                seqlets.lines().skip(1).any(|l| {
                    let f: Vec<usize> =
                        l.split('\t').skip(1).take(3).map(|v| v.parse().unwrap()).collect();
                    overlaps(&(f[0], f[1], f[2]), t)
                })
            })
            .count();
        assert!(
            found * 10 >= interior.len() * 7,
            "{motif}: {found} of {} interior sites in some pattern",
            interior.len()
        );
    }
    for f in [
        "modisco_results.h5",
        "patterns.meme",
        "patterns.cwm.meme",
        "patterns.hcwm.meme",
        "report.html",
        "matches.tsv",
        "seqlets.fa",
    ] {
        assert!(out.join(f).metadata().unwrap().len() > 0, "{f}");
    }
    let meme = motif_core::motif::read_motifs(&out.join("patterns.meme")).unwrap();
    assert_eq!(meme.motifs.len(), patterns.len());
    hits_land_on_planted_sites(dir.path(), &out, &planted, &row_of, patterns);
    report_renders(&out.join("report.html"), patterns.len());
    // Deterministic: a second run writes the same patterns and seqlets;
    // given the windows' regions (every third on the minus strand), it
    // places each seqlet on the genome.
    let again = dir.path().join("again");
    let bed = dir.path().join("regions.bed");
    let region = |i: usize| (1000 * i as u64, i % 3 == 2);
    write_regions(&bed, seqs.len(), region);
    let mut b: Vec<String> = args(&again);
    b.extend(["--regions".into(), bed.to_str().unwrap().into()]);
    ok(&b.iter().map(String::as_str).collect::<Vec<_>>());
    for f in ["patterns.meme", "modisco_results.h5"] {
        assert_eq!(
            std::fs::read(out.join(f)).unwrap(),
            std::fs::read(again.join(f)).unwrap(),
            "{f}"
        );
    }
    seqlets_on_the_genome(&again, &seqlets, region);
}

/// A BED file of `n` 200 bp windows, window `i` at `region(i)` (start,
/// minus strand).
fn write_regions(bed: &Path, n: usize, region: impl Fn(usize) -> (u64, bool)) {
    let text: String = (0..n)
        .map(|i| {
            let (start, minus) = region(i);
            format!("chrS\t{start}\t{}\tw{i}\t0\t{}\n", start + 200, if minus { '-' } else { '+' })
        })
        .collect();
    std::fs::write(bed, text).unwrap();
}

/// `again`'s seqlets.tsv is `seqlets` with each seqlet's genome interval
/// added (window `i` at `region(i)`: start, minus strand, 200 bp), and
/// seqlets.bed holds the same intervals with the seqlet's genome strand.
fn seqlets_on_the_genome(again: &Path, seqlets: &str, region: impl Fn(usize) -> (u64, bool)) {
    let placed = std::fs::read_to_string(again.join("seqlets.tsv")).unwrap();
    let beds = std::fs::read_to_string(again.join("seqlets.bed")).unwrap();
    assert!(beds.starts_with("# ") && beds.contains("0-based, half-open"), "{beds}");
    let bed_rows: Vec<&str> = beds.lines().filter(|l| !l.starts_with('#')).collect();
    assert_eq!(placed.lines().count(), seqlets.lines().count());
    assert_eq!(bed_rows.len(), seqlets.lines().count() - 1);
    for ((plain, line), bed_row) in seqlets.lines().zip(placed.lines()).skip(1).zip(&bed_rows) {
        let f: Vec<&str> = line.split('\t').collect();
        assert_eq!(f[..5].join("\t"), plain, "same seqlet, coordinates added");
        let (i, a, e): (usize, u64, u64) =
            (f[1].parse().unwrap(), f[2].parse().unwrap(), f[3].parse().unwrap());
        let (start, minus) = region(i);
        let want = if minus { (start + 200 - e, start + 200 - a) } else { (start + a, start + e) };
        assert_eq!((f[5], f[6].parse().unwrap(), f[7].parse().unwrap()), ("chrS", want.0, want.1));
        let strand = if (f[4] == "-") == minus { "+" } else { "-" };
        let b: Vec<&str> = bed_row.split('\t').collect();
        assert_eq!((b[0], b[1], b[2], b[5]), ("chrS", f[6], f[7], strand), "{bed_row}");
    }
}

/// report.html in headless Chromium: no console errors, and per pattern
/// its four logos (CWM and PFM, both strands) plus the threshold chart.
fn report_renders(report: &Path, patterns: usize) {
    let Some(exe) = crate::browser::chromium() else { return };
    let shot = Path::new(env!("CARGO_TARGET_TMPDIR")).join("discover-screenshot.png");
    let res = std::process::Command::new("python3")
        .arg(crate::util::root().join("scripts/check_report.py"))
        .args([
            report.to_str().unwrap(),
            "--screenshot",
            shot.to_str().unwrap(),
            "--chromium",
            &exe,
        ])
        .output()
        .expect("run python3");
    let out = String::from_utf8_lossy(&res.stdout);
    assert!(res.status.success(), "{out}\n{}", String::from_utf8_lossy(&res.stderr));
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["console_errors"].as_array().unwrap().len(), 0, "{out}");
    assert!(v["svgs"].as_u64().unwrap() as usize > 4 * patterns, "{out}");
}

/// `hits` on the planted data: CWM hits of the discovered patterns and
/// log-odds hits of the planted matrices against the truth.
fn hits_land_on_planted_sites(
    dir: &Path,
    out: &Path,
    planted: &[Planted],
    row_of: &HashMap<&str, usize>,
    patterns: &[serde_json::Value],
) {
    let (ohe, shap) = (dir.join("ohe.npz"), dir.join("shap.npz"));
    // Hits of the discovered CWMs in the same attributions (Fi-NeMo's
    // fit) land on planted sites and find most interior ones; log-odds
    // hits of the planted JASPAR matrices in the sequences (p ≤ 1e-4) find
    // the long motifs' sites.
    let hc = dir.join("cwm_hits");
    let h5 = out.join("modisco_results.h5");
    ok(&[
        "hits",
        "--method",
        "cwm",
        "--ohe",
        ohe.to_str().unwrap(),
        "--shap",
        shap.to_str().unwrap(),
        "--modisco",
        h5.to_str().unwrap(),
        "-o",
        hc.to_str().unwrap(),
        "--quiet",
    ]);
    let hits_of = |file: &Path| -> Vec<(String, usize, usize, usize)> {
        std::fs::read_to_string(file)
            .unwrap()
            .lines()
            .filter(|l| !l.starts_with('#') && !l.starts_with("sequence"))
            .map(|l| {
                let f: Vec<&str> = l.split('\t').collect();
                let row =
                    f[0].strip_prefix("row").map_or_else(|| row_of[f[0]], |r| r.parse().unwrap());
                (f[3].to_owned(), row, f[1].parse().unwrap(), f[2].parse().unwrap())
            })
            .collect()
    };
    let cwm_hits = hits_of(&hc.join("hits.tsv"));
    let ll = dir.join("logodds_hits");
    let sim = dir.join("sim");
    ok(&[
        "hits",
        "--seqs",
        sim.join("train.fa").to_str().unwrap(),
        "--motifs",
        sim.join("motifs.meme").to_str().unwrap(),
        "-o",
        ll.to_str().unwrap(),
        "--quiet",
    ]);
    let lo_hits = hits_of(&ll.join("hits.tsv"));
    assert!(
        std::fs::read_to_string(ll.join("hits.bed"))
            .unwrap()
            .starts_with("# motif hits: 0-based, half-open")
    );
    assert_eq!(std::fs::read_to_string(ll.join("counts.tsv")).unwrap().lines().count(), 1601);
    for motif in ["MA0139.2", "MA0035.5", "MA0083.3", "MA0106.3"] {
        let sites = sites_of(planted, row_of, motif);
        let name =
            patterns.iter().find(|p| p["sign"] == 1 && p["matches"][0]["target"] == motif).unwrap()
                ["name"]
                .as_str()
                .unwrap()
                .to_owned();
        let near = |h: &(String, usize, usize, usize), t: &(usize, usize, usize)| {
            h.1 == t.0 && h.2 < t.2 && t.1 < h.3
        };
        let mine: Vec<_> = cwm_hits.iter().filter(|h| h.0 == name).collect();
        let on = mine.iter().filter(|h| sites.iter().any(|t| near(h, t))).count();
        assert!(
            on * 10 >= mine.len() * 9,
            "{motif}: {on} of {} CWM hits on planted sites",
            mine.len()
        );
        let interior: Vec<_> = sites.iter().filter(|t| t.1 >= 25 && t.2 + 25 <= 200).collect();
        let found = interior.iter().filter(|t| mine.iter().any(|h| near(h, t))).count();
        assert!(
            found * 10 >= interior.len() * 8,
            "{motif}: {found} of {} interior sites hit",
            interior.len()
        );
        if motif != "MA0035.5" {
            // GATA1's 7 columns cannot reach p ≤ 1e-4 but at a perfect site.
            let lo: Vec<_> = lo_hits.iter().filter(|h| h.0 == motif).collect();
            let found = sites.iter().filter(|t| lo.iter().any(|h| near(h, t))).count();
            assert!(
                found * 10 >= sites.len() * 8,
                "{motif}: {found} of {} sites by log-odds",
                sites.len()
            );
        }
    }
}

/// Bad input: one line naming what is wrong, exit 2, nothing written.
#[test]
fn discover_refuses_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let mut x = Array3::<f32>::zeros((3, 4, 50));
    for i in 0..3 {
        for p in 0..50 {
            x[(i, p % 4, p)] = 1.0;
        }
    }
    write_npz(&d.join("ohe.npz"), &x);
    write_npz(&d.join("shap.npz"), &x);
    write_npz(&d.join("short.npz"), &Array3::zeros((3, 4, 40)));
    let (ohe, shap, short) = (d.join("ohe.npz"), d.join("shap.npz"), d.join("short.npz"));
    let (ohe, shap, short) =
        (ohe.to_str().unwrap(), shap.to_str().unwrap(), short.to_str().unwrap());
    let out = d.join("out");
    let o = out.to_str().unwrap();
    fails(
        &["discover", "--ohe", ohe, "--shap", shap, "-w", "31", "-o", o],
        &["--window 31", "even"],
    );
    fails(
        &["discover", "--ohe", ohe, "--shap", shap, "-w", "60", "-o", o],
        &["window 60", "longer"],
    );
    fails(
        &["discover", "--ohe", ohe, "--shap", short, "-w", "20", "-o", o],
        &["short.npz", "shape"],
    );
    fails(
        &["discover", "--from", d.join("nowhere").to_str().unwrap(), "-o", o],
        &["--from", "ohe.npz"],
    );
    std::fs::write(d.join("regions.bed"), "chr1\t0\t50\nchr1\t50\t100\n").unwrap();
    fails(
        &[
            "discover",
            "--ohe",
            ohe,
            "--shap",
            shap,
            "-w",
            "20",
            "--regions",
            d.join("regions.bed").to_str().unwrap(),
            "-o",
            o,
        ],
        &["regions.bed", "2 regions for 3"],
    );
    let mut nan = x.clone();
    nan[(1, 2, 7)] = f32::NAN;
    write_npz(&d.join("nan.npz"), &nan);
    fails(
        &[
            "discover",
            "--ohe",
            ohe,
            "--shap",
            d.join("nan.npz").to_str().unwrap(),
            "-w",
            "20",
            "-o",
            o,
        ],
        &["nan.npz", "sequence 1", "position 7"],
    );
    assert!(!out.join("summary.json").exists());
    // An output that would overwrite an input is refused.
    std::fs::create_dir_all(d.join("o2")).unwrap();
    std::fs::copy(d.join("shap.npz"), d.join("o2/seqlets.tsv")).unwrap();
    fails(
        &[
            "discover",
            "--ohe",
            ohe,
            "--shap",
            d.join("o2/seqlets.tsv").to_str().unwrap(),
            "-w",
            "20",
            "-o",
            d.join("o2").to_str().unwrap(),
        ],
        &["seqlets.tsv"],
    );
    // Too few seqlets: a run with no patterns, said plainly.
    let r = motiftool(&["discover", "--ohe", ohe, "--shap", shap, "-w", "20", "-o", o, "--quiet"]);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let err = String::from_utf8_lossy(&r.stderr);
    assert!(err.contains("0 positive and 0 negative patterns"), "{err}");
}
