//! Mutation fuzzing of motiftool's parsers, on stable Rust and two cores.
//!
//! `motiftool-fuzz TARGET SECONDS [SEED]` mutates the seed inputs of TARGET
//! (files under `data/`) for SECONDS: bit flips, byte inserts, deletions,
//! duplicated and spliced chunks, truncation, interesting values. Each input
//! is parsed under `catch_unwind`; a panic saves the input to
//! `fuzz/crashes/TARGET-<n>` and counts as a finding. Overflow checks and
//! debug assertions are on (see Cargo.toml), so arithmetic overflow panics.
//!
//! Targets: `onnx` (model import, with the bytes of an external-data file
//! mutated too), `motifs` (MEME, JASPAR, TRANSFAC, HOMER), `seqs` (FASTA,
//! DeepBind .seq, TSV, CSV), `bed` (BED/narrowPeak against a small indexed
//! genome).

use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// xorshift64*: deterministic given the seed.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        if n == 0 { 0 } else { (self.next() % n as u64) as usize }
    }
}

const INTERESTING: &[&[u8]] = &[
    b"0",
    b"-1",
    b"4294967296",
    b"99999999999999999999",
    b"NaN",
    b"inf",
    b"-inf",
    b"1e308",
    b"\n",
    b"\t",
    b",",
    b">",
    b"\"",
    b"\x00",
    b"\xff",
    b"MOTIF",
    b"letter-probability matrix:",
    b"ACGTN",
    b"  ",
    b"#",
    b"chr1",
];

fn mutate(rng: &mut Rng, corpus: &[Vec<u8>], input: &[u8]) -> Vec<u8> {
    let mut v = input.to_vec();
    for _ in 0..1 + rng.below(4) {
        let n = v.len();
        match rng.below(8) {
            0 if n > 0 => {
                let i = rng.below(n);
                v[i] ^= 1 << rng.below(8);
            }
            1 => {
                let i = rng.below(n + 1);
                v.insert(i, rng.next() as u8);
            }
            2 if n > 0 => {
                let i = rng.below(n);
                let len = 1 + rng.below((n - i).min(64));
                v.drain(i..i + len);
            }
            3 if n > 0 => {
                let i = rng.below(n);
                let len = 1 + rng.below((n - i).min(256));
                let chunk = v[i..i + len].to_vec();
                let at = rng.below(v.len() + 1);
                v.splice(at..at, chunk);
            }
            4 => {
                let other = &corpus[rng.below(corpus.len())];
                if !other.is_empty() {
                    let i = rng.below(other.len());
                    let len = 1 + rng.below((other.len() - i).min(512));
                    let at = rng.below(v.len() + 1);
                    v.splice(at..at, other[i..i + len].iter().copied());
                }
            }
            5 if n > 0 => v.truncate(rng.below(n)),
            6 => {
                let s = INTERESTING[rng.below(INTERESTING.len())];
                let at = rng.below(v.len() + 1);
                if rng.below(2) == 0 && at < v.len() {
                    let end = (at + s.len()).min(v.len());
                    v.splice(at..end, s.iter().copied());
                } else {
                    v.splice(at..at, s.iter().copied());
                }
            }
            _ if n > 0 => {
                // Replace a byte with a digit, a common way into numbers.
                let i = rng.below(n);
                v[i] = b'0' + rng.below(10) as u8;
            }
            _ => v.push(rng.next() as u8),
        }
    }
    v
}

fn files(root: &Path, rel: &[&str]) -> Vec<Vec<u8>> {
    rel.iter().filter_map(|r| std::fs::read(root.join(r)).ok()).collect()
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (Some(target), Some(secs)) = (args.get(1), args.get(2).and_then(|s| s.parse::<u64>().ok()))
    else {
        eprintln!("usage: motiftool-fuzz onnx|motifs|seqs|bed SECONDS [SEED]");
        std::process::exit(2);
    };
    let seed = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(1u64);
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let corpus: Vec<Vec<u8>> = match target.as_str() {
        "onnx" => files(
            &root.join("data/models"),
            &[
                "torch_legacy_ncw.onnx",
                "torch_dynamo_ncw.onnx",
                "keras_tf2onnx_nwc.onnx",
                "bn_two_block.onnx",
                "families/torch_pad_pool_multitask.onnx",
                "families/keras_neuronmotif5.onnx",
            ],
        ),
        "motifs" => {
            let mut c = files(&root.join("data/tomtom"), &["reference_queries.meme"]);
            c.push(b">MA0001.1 X\nA [ 1 2 3 ]\nC [ 4 5 6 ]\nG [ 1 1 1 ]\nT [ 0 0 9 ]\n".to_vec());
            c.push(b"ID x\nP0 A C G T\n01 1 2 3 4\n02 4 3 2 1\nXX\n//\n".to_vec());
            c.push(b">ACGT\tname\t5.0\n0.1\t0.2\t0.3\t0.4\n0.4\t0.3\t0.2\t0.1\n".to_vec());
            c
        }
        "seqs" => {
            let mut c = files(&root.join("data/models"), &["fixture_seqs.fa"]);
            c.push(
                b"FoldID EventID seq Bound\nA seq_1 ACGTACGTAC 1\nA seq_2 ACGTNNGTAC 0\n".to_vec(),
            );
            c.push(b"seq\tlabel\nACGTACGT\t1\nacgtacgt\t0\n".to_vec());
            c.push(b"id,sequence,a,b\nx,ACGTAC,1,0\n\"y,z\",ACGTAA,0,1\n".to_vec());
            c
        }
        "bed" => vec![
            b"chr1\t10\t60\tp1\t0\t+\t1\t1\t1\t5\nchr1\t0\t100\t.\t0\t-\n".to_vec(),
            b"track name=x\n#c\nchr2\t1\t30\n".to_vec(),
        ],
        t => {
            eprintln!("unknown target `{t}`");
            std::process::exit(2);
        }
    };
    assert!(!corpus.is_empty(), "no seed inputs for {target}");
    let work = std::env::temp_dir().join(format!("motiftool-fuzz-{target}-{}", std::process::id()));
    std::fs::create_dir_all(&work).expect("work folder");
    // The BED target reads a small indexed genome.
    let genome = work.join("g.fa");
    let chr1: String = (0..300).map(|i| b"ACGTTGCAAC"[i % 10] as char).collect();
    let mut fa = format!(">chr1\n");
    let off1 = fa.len();
    for c in chr1.as_bytes().chunks(60) {
        fa.push_str(std::str::from_utf8(c).unwrap());
        fa.push('\n');
    }
    let off2 = fa.len() + 6;
    fa.push_str(">chr2\nGGGGGAAAAACCCCCTTTTTGGGGGAAAAACCCCC\n");
    std::fs::write(&genome, fa).unwrap();
    std::fs::write(
        work.join("g.fa.fai"),
        format!("chr1\t300\t{off1}\t60\t61\nchr2\t35\t{off2}\t35\t36\n"),
    )
    .unwrap();
    let crashes = root.join("fuzz/crashes");
    let mut rng = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
    std::panic::set_hook(Box::new(|_| {}));
    let t0 = Instant::now();
    let (mut runs, mut found) = (0u64, 0u64);
    while t0.elapsed() < Duration::from_secs(secs) {
        let base = &corpus[rng.below(corpus.len())];
        let input = mutate(&mut rng, &corpus, base);
        let r = std::panic::catch_unwind(AssertUnwindSafe(|| {
            run_one(target, &input, &work, &genome, &mut rng)
        }));
        runs += 1;
        if let Err(p) = r {
            found += 1;
            let msg = p
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| p.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                .unwrap_or_default();
            std::fs::create_dir_all(&crashes).unwrap();
            let path = crashes.join(format!("{target}-{found}"));
            std::fs::write(&path, &input).unwrap();
            println!("panic: {} ({})", msg.lines().next().unwrap_or(""), path.display());
        }
    }
    let _ = std::fs::remove_dir_all(&work);
    println!("{target}: {runs} inputs in {} s, {found} panics", t0.elapsed().as_secs());
    if found > 0 {
        std::process::exit(1);
    }
}

fn run_one(target: &str, input: &[u8], work: &Path, genome: &Path, rng: &mut Rng) {
    match target {
        "onnx" => {
            // Half the time the model's external data is a mutated file too.
            let model = work.join("m.onnx");
            std::fs::write(&model, input).unwrap();
            let data = work.join("torch_dynamo_ncw.onnx.data");
            if rng.below(2) == 0 {
                let mut d = vec![0u8; rng.below(4096)];
                d.iter_mut().for_each(|b| *b = rng.next() as u8);
                std::fs::write(&data, d).unwrap();
            } else {
                let _ = std::fs::remove_file(&data);
            }
            if let Ok(m) = motif_onnx::Model::from_bytes(input, &model) {
                let _ = m.check_length(1 + rng.below(300));
                let _ = m.to_bytes_for_outputs(&[]);
            }
        }
        "motifs" => {
            let p = Path::new("fuzz.txt");
            let text = String::from_utf8_lossy(input);
            let _ = motif_core::motif::parse_meme(&text, p);
            let _ = motif_core::motif::parse_jaspar(&text, p);
            let _ = motif_core::motif::parse_transfac(&text, p);
            let _ = motif_core::motif::parse_homer(&text, p);
            let f = work.join("m.txt");
            std::fs::write(&f, input).unwrap();
            let _ = motif_core::motif::read_motifs(&f);
        }
        "seqs" => {
            for name in ["s.fa", "s.seq", "s.tsv", "s.csv", "s.txt"] {
                let f = work.join(name);
                std::fs::write(&f, input).unwrap();
                if let Ok(r) = motif_core::seqio::SeqReader::open(&f, None) {
                    for rec in r.take(10_000) {
                        if rec.is_err() {
                            break;
                        }
                    }
                }
            }
        }
        "bed" => {
            let f = work.join("p.bed");
            std::fs::write(&f, input).unwrap();
            let width = [None, Some(1), Some(10), Some(1000)][rng.below(4)];
            if let Ok(p) = motif_genome::Peaks::open(&f, genome, width) {
                for rec in p.take(10_000) {
                    if rec.is_err() {
                        break;
                    }
                }
            }
        }
        _ => unreachable!(),
    }
}
