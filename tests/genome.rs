//! Sequences cut from an indexed genome, plain and bgzipped, for every
//! command that reads sequences: the windows are the ones a FASTA of the
//! same intervals gives, and train/prune split peaks by chromosome.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::util::{fails, fixture, ok, parse_tsv, s};

const MOTIF: &[u8] = b"TGACGTCA";
const WIDTH: usize = 101;
/// Chromosome length: three of them span several 64 KiB bgzf blocks.
const CHROM: usize = 40_000;

/// A seeded genome of three chromosomes; peaks (the motif planted at the
/// summit) and non-peaks (no motif) every 400 bp on each.
struct Genome {
    dir: tempfile::TempDir,
    chroms: Vec<(String, Vec<u8>)>,
}

impl Genome {
    fn new() -> Self {
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let mut chroms = Vec::new();
        for name in ["chr1", "chr2", "chr3"] {
            let mut seq: Vec<u8> = (0..CHROM).map(|_| b"ACGT"[(next() % 4) as usize]).collect();
            for p in peak_summits() {
                let at = p - MOTIF.len() / 2;
                seq[at..at + MOTIF.len()].copy_from_slice(MOTIF);
            }
            chroms.push((name.to_owned(), seq));
        }
        let g = Self { dir: tempfile::tempdir().unwrap(), chroms };
        g.write_fasta();
        g.write_beds();
        g
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// `g.fa` with its `.fai` (60-letter lines), and `g.fa.gz` bgzipped with
    /// its `.fai` and `.gzi`, as `samtools faidx` writes them.
    fn write_fasta(&self) {
        let (mut fa, mut fai) = (Vec::new(), String::new());
        for (name, seq) in &self.chroms {
            fa.extend_from_slice(format!(">{name}\n").as_bytes());
            fai.push_str(&format!("{name}\t{}\t{}\t60\t61\n", seq.len(), fa.len()));
            for line in seq.chunks(60) {
                fa.extend_from_slice(line);
                fa.push(b'\n');
            }
        }
        std::fs::write(self.path("g.fa"), &fa).unwrap();
        std::fs::write(self.path("g.fa.fai"), &fai).unwrap();
        let mut w = noodles_bgzf::io::Writer::new(Vec::new());
        w.write_all(&fa).unwrap();
        let gz = w.finish().unwrap();
        std::fs::write(self.path("g.fa.gz"), &gz).unwrap();
        std::fs::write(self.path("g.fa.gz.fai"), &fai).unwrap();
        let gzi = gzi(&gz);
        assert!(gzi.len() > 8 + 16, "the test genome should span several bgzf blocks");
        std::fs::write(self.path("g.fa.gz.gzi"), gzi).unwrap();
    }

    /// `peaks.narrowPeak` (summit in column 10; every other one on the -
    /// strand) and `nonpeaks.bed`, named by chromosome and index.
    fn write_beds(&self) {
        let (mut peaks, mut nonpeaks) = (String::new(), String::new());
        for (name, _) in &self.chroms {
            for (i, summit) in peak_summits().enumerate() {
                let (start, strand) = (summit - 150, if i % 2 == 1 { '-' } else { '+' });
                peaks.push_str(&format!(
                    "{name}\t{start}\t{}\t{name}_p{i}\t0\t{strand}\t5\t1\t1\t150\n",
                    start + 300
                ));
                let mid = summit + 200;
                nonpeaks.push_str(&format!("{name}\t{}\t{}\t{name}_n{i}\n", mid - 50, mid + 51));
            }
        }
        std::fs::write(self.path("peaks.narrowPeak"), peaks).unwrap();
        std::fs::write(self.path("nonpeaks.bed"), nonpeaks).unwrap();
    }

    /// The peaks' --width windows as FASTA, as the commands should cut them.
    fn peaks_fasta(&self) -> PathBuf {
        let mut fa = String::new();
        for (name, seq) in &self.chroms {
            for (i, summit) in peak_summits().enumerate() {
                let from = summit - WIDTH / 2;
                let mut w = seq[from..from + WIDTH].to_vec();
                if i % 2 == 1 {
                    w.reverse();
                    for b in &mut w {
                        *b = match *b {
                            b'A' => b'T',
                            b'C' => b'G',
                            b'G' => b'C',
                            _ => b'A',
                        };
                    }
                }
                fa.push_str(&format!(">{name}_p{i}\n{}\n", String::from_utf8(w).unwrap()));
            }
        }
        let p = self.path("peaks.fa");
        std::fs::write(&p, fa).unwrap();
        p
    }
}

fn peak_summits() -> impl Iterator<Item = usize> {
    (1..CHROM / 400 - 1).map(|k| k * 400)
}

/// The `.gzi` of a bgzf file: the count, then (compressed, uncompressed)
/// offsets of every block after the first, little-endian u64s.
fn gzi(gz: &[u8]) -> Vec<u8> {
    let (mut c, mut u) = (0usize, 0u64);
    let mut pairs = Vec::new();
    while c < gz.len() {
        let bsize = u16::from_le_bytes([gz[c + 16], gz[c + 17]]) as usize + 1;
        let isize = u32::from_le_bytes(gz[c + bsize - 4..c + bsize].try_into().unwrap());
        c += bsize;
        u += u64::from(isize);
        if c < gz.len() && isize > 0 {
            pairs.push((c as u64, u));
        }
    }
    // The last pair starts the empty end-of-file block.
    let mut out = (pairs.len() as u64).to_le_bytes().to_vec();
    for (c, u) in pairs {
        out.extend(c.to_le_bytes());
        out.extend(u.to_le_bytes());
    }
    out
}

fn bed_args<'a>(g: &'a Genome, genome: &'a Path) -> Vec<String> {
    vec![
        "--bed".into(),
        s(&g.path("peaks.narrowPeak")).into(),
        "--genome".into(),
        s(genome).into(),
        "--width".into(),
        WIDTH.to_string(),
    ]
}

fn run(args: &[String]) -> String {
    ok(&args.iter().map(String::as_str).collect::<Vec<_>>())
}

/// predict, saliency and shuffle on --bed windows of a plain and of a
/// bgzipped genome equal the same commands on a FASTA of the windows.
#[test]
fn bed_windows_for_predict_saliency_and_shuffle() {
    let g = Genome::new();
    let fasta = g.peaks_fasta();
    let model = fixture("torch_legacy_ncw.onnx");
    let m = s(&model).to_owned();
    for (cmd, extra) in [
        (vec!["predict", &m], vec!["--engine", "tract"]),
        (vec!["saliency", &m], vec!["--engine", "tract"]),
        (vec!["shuffle"], vec!["--seed", "3", "--copies", "2"]),
    ] {
        let mut from_fasta: Vec<String> = cmd.iter().map(|&a| a.to_owned()).collect();
        if cmd[0] == "shuffle" {
            from_fasta.push(s(&fasta).into());
        } else {
            from_fasta.extend(["--seqs".into(), s(&fasta).into()]);
        }
        from_fasta.extend(extra.iter().map(|&a| a.to_owned()));
        let want = run(&from_fasta);
        assert!(want.lines().count() > 10, "{cmd:?}: {want}");
        for genome in ["g.fa", "g.fa.gz"] {
            let mut args: Vec<String> = cmd.iter().map(|&a| a.to_owned()).collect();
            args.extend(bed_args(&g, &g.path(genome)));
            args.extend(extra.iter().map(|&a| a.to_owned()));
            assert_eq!(run(&args), want, "{cmd:?} on {genome}");
        }
    }
    let (_, rows) = parse_tsv(&run(&{
        let mut a = vec!["predict".to_owned(), m.clone()];
        a.extend(bed_args(&g, &g.path("g.fa.gz")));
        a
    }));
    assert_eq!(rows.len(), 3 * peak_summits().count());
    assert_eq!(rows[1].0, "chr1_p1");
}

/// train with --peaks/--nonpeaks from a bgzipped genome: chromosomes held
/// out for validation and test give exactly their intervals, the planted
/// motif is learnt, and prune reads the same flags.
#[test]
fn train_and_prune_split_peaks_by_chromosome() {
    let g = Genome::new();
    let out = g.path("run");
    let gz = g.path("g.fa.gz");
    let (p, n) = (g.path("peaks.narrowPeak"), g.path("nonpeaks.bed"));
    let genome_args =
        ["--peaks", s(&p), "--nonpeaks", s(&n), "--genome", s(&gz), "--peak-width", "101"];
    let mut args = vec!["train", "--arch", "deepbind", "--kernels", "16", "--width", "12"];
    args.extend(genome_args);
    args.extend([
        "--valid-chroms",
        "chr2",
        "--test-chroms",
        "chr3",
        "--epochs",
        "30",
        "--lr",
        "0.01",
        "--batch-size",
        "16",
        "--engine",
        "tract",
        "--seed",
        "5",
        "--quiet",
        "-o",
        s(&out),
    ]);
    ok(&args);
    let log: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("training.json")).unwrap()).unwrap();
    let per_chrom = 2 * peak_summits().count();
    assert_eq!(log["sequences"]["train"], per_chrom, "{log}");
    assert_eq!(log["sequences"]["valid"], per_chrom);
    assert_eq!(log["sequences"]["length"], WIDTH);
    assert_eq!(log["test_auc"]["sequences"], per_chrom);
    let auc = log["test_auc"]["mean"].as_f64().unwrap();
    assert!(
        auc > 0.9,
        "held-out chromosome AUC {auc}: the planted motif was not learnt; {}",
        log["log"]
    );
    assert_eq!(log["genome"]["test_chroms"][0], "chr3");
    // The run folder: training.json is its summary; run.json hashes the
    // interval files and the genome.
    let read = |f: &str| -> serde_json::Value {
        serde_json::from_str(&std::fs::read_to_string(out.join(f)).unwrap()).unwrap()
    };
    assert_eq!(read("summary.json"), log);
    let run = read("run.json");
    assert_eq!(run["workflow"], "train");
    assert_eq!(run["inputs"].as_array().unwrap().len(), 3, "{run}");
    assert!(run["inputs"][2]["path"].as_str().unwrap().ends_with("g.fa.gz"));

    // prune: the same flags; its validation set is always --val-fraction.
    let model = out.join("model.onnx");
    let mut args = vec!["prune", s(&model)];
    args.extend(genome_args);
    fails(
        &[&args[..], &["--valid-chroms", "chr2", "--test-chroms", "chr3"]].concat(),
        &["--valid-chroms"],
    );
    let pruned = g.path("pruned");
    args.extend([
        "--test-chroms",
        "chr3",
        "--target-kernels",
        "2",
        "--epochs",
        "1",
        "--batch-size",
        "32",
        "--engine",
        "tract",
        "--quiet",
        "-o",
        s(&pruned),
    ]);
    let table = ok(&args);
    assert!(table.starts_with("variant\tkernels"), "{table}");
    // A peak on a chromosome the genome lacks names the line.
    std::fs::write(g.path("bad.bed"), "chr9\t100\t201\n").unwrap();
    let bad = g.path("bad.bed");
    fails(
        &[
            "train",
            "--peaks",
            s(&bad),
            "--nonpeaks",
            s(&n),
            "--genome",
            s(&gz),
            "-o",
            s(&g.path("never")),
        ],
        &["bad.bed:1", "`chr9`"],
    );
    assert!(!g.path("never").join("model.onnx").exists());
}

/// attribute --bed: the bigWig holds each window's per-base projected
/// contributions in genome orientation (minus-strand windows turned back),
/// and where windows overlap the boundary is the midpoint of their summits.
#[test]
fn attribute_bed_writes_a_bigwig_of_projected_contributions() {
    let g = Genome::new();
    let model = fixture("torch_legacy_ncw.onnx");
    let out = g.path("attr");
    // 501 bp windows every 400 bp: neighbours overlap by 101 bp.
    let width = 501;
    ok(&[
        "attribute",
        s(&model),
        "--bed",
        s(&g.path("peaks.narrowPeak")),
        "--genome",
        s(&g.path("g.fa.gz")),
        "--width",
        &width.to_string(),
        "--method",
        "saliency",
        "--projected",
        "--engine",
        "tract",
        "-o",
        s(&out),
        "--quiet",
    ]);
    let proj = motif_core::npz::read(&out.join("projected.npz")).unwrap();
    let per_base = proj.sum_axis(ndarray::Axis(1)); // (N, L)
    let sections = motif_core::bigwig::read(&out.join("contributions.bw")).unwrap();
    let mut track: std::collections::HashMap<(String, u32), f32> = std::collections::HashMap::new();
    for (c, start, values) in sections {
        for (k, v) in values.into_iter().enumerate() {
            assert!(
                track.insert((c.clone(), start + k as u32), v).is_none(),
                "a base written twice"
            );
        }
    }
    let summits: Vec<usize> = peak_summits().collect();
    for (ci, (name, _)) in g.chroms.iter().enumerate() {
        for (i, &summit) in summits.iter().enumerate() {
            let row = per_base.index_axis(ndarray::Axis(0), ci * summits.len() + i);
            let from = summit - width / 2;
            // Bases within 200 of this summit belong to it.
            for off in [0usize, 100, 250, 449, 500] {
                let pos = from + off;
                let owner = (pos + 200).saturating_sub(summits[0]) / 400;
                if owner != i || pos < from {
                    continue;
                }
                // Minus-strand windows (odd i) were reverse-complemented.
                let k = if i % 2 == 1 { width - 1 - off } else { off };
                let got = track.get(&(name.clone(), pos as u32)).copied();
                assert_eq!(got, Some(row[k]), "{name}:{pos} (window {i}, offset {off})");
            }
        }
    }
    // Nothing outside the windows.
    assert!(!track.contains_key(&("chr1".to_string(), 0)));
}

/// attribute --bed in three shards (DeepSHAP with convergence, projected
/// contributions, the HDF5 file), merged by `motiftool merge` given in any
/// order: every file is the single run's, byte for byte, the bigWig across
/// shard boundaries included; folders of another run or a missing shard are
/// refused by name.
#[test]
fn sharded_attribute_merges_to_one_run_byte_for_byte() {
    let g = Genome::new();
    let model = fixture("torch_legacy_ncw.onnx");
    let genome = g.path("g.fa.gz");
    let attribute = |out: &Path, extra: &[&str]| {
        let mut a = vec!["attribute".to_owned(), s(&model).to_owned()];
        a.extend(bed_args(&g, &genome));
        for x in ["--set", "n-shuffles=3", "--projected", "--h5", "--tracks", "4"] {
            a.push(x.into());
        }
        for x in ["--engine", "tract", "--quiet", "-o", s(out)] {
            a.push(x.into());
        }
        a.extend(extra.iter().map(|x| (*x).to_owned()));
        run(&a);
    };
    let single = g.path("single");
    attribute(&single, &["--chunk", "4"]);
    let parts: Vec<PathBuf> = (1..=3)
        .map(|i| {
            let p = g.path(&format!("part{i}"));
            attribute(&p, &["--chunk", "4", "--shard", &format!("{i}/3")]);
            p
        })
        .collect();
    assert!(parts[0].join("shard.json").exists() && !parts[0].join("contributions.bw").exists());
    let merged = g.path("merged");
    ok(&["merge", s(&parts[2]), s(&parts[0]), s(&parts[1]), "-o", s(&merged)]);
    for f in [
        "ohe.npz",
        "shap.npz",
        "projected.npz",
        "scores.tsv",
        "regions.bed",
        "contributions.bw",
        "contributions.h5",
        "summary.json",
        "report.html",
    ] {
        let (a, b) =
            (std::fs::read(merged.join(f)).unwrap(), std::fs::read(single.join(f)).unwrap());
        assert!(
            a == b,
            "{f}: the merged shards differ from one run{}",
            if f.ends_with(".tsv") {
                let (a, b) = (String::from_utf8_lossy(&a), String::from_utf8_lossy(&b));
                let d = a.lines().zip(b.lines()).find(|(x, y)| x != y);
                format!(": {d:?}")
            } else {
                String::new()
            }
        );
    }
    crate::util::fails(
        &["merge", s(&parts[0]), s(&parts[1]), "-o", s(&g.path("m2"))],
        &["missing shard(s): 3/3"],
    );
    let other = g.path("other");
    attribute(&other, &["--chunk", "4", "--shard", "3/3", "--seed", "7"]);
    crate::util::fails(
        &["merge", s(&parts[0]), s(&parts[1]), s(&other), "-o", s(&g.path("m3"))],
        &["other", "another run"],
    );
    // More shards than chunks: the first is empty, and the merge is still
    // the single run (one chunk of every window).
    let one_chunk = ["--chunk", "1000"];
    let (whole, empty, full) = (g.path("whole"), g.path("empty"), g.path("full"));
    attribute(&whole, &one_chunk);
    attribute(&empty, &[&one_chunk[..], &["--shard", "1/2"]].concat());
    attribute(&full, &[&one_chunk[..], &["--shard", "2/2"]].concat());
    assert!(!empty.join("shap.npz").exists());
    let merged = g.path("merged2");
    ok(&["merge", s(&empty), s(&full), "-o", s(&merged)]);
    for f in ["shap.npz", "scores.tsv", "contributions.bw", "report.html"] {
        assert!(
            std::fs::read(merged.join(f)).unwrap() == std::fs::read(whole.join(f)).unwrap(),
            "{f}: merged with an empty shard"
        );
    }
}
