use std::collections::HashMap;

use crate::util::{fails, ok, s};

fn read_fasta(path: &std::path::Path) -> Vec<(String, String)> {
    let text = std::fs::read_to_string(path).unwrap();
    let mut out = Vec::new();
    let mut lines = text.lines();
    while let Some(h) = lines.next() {
        out.push((h.trim_start_matches('>').to_owned(), lines.next().unwrap().to_owned()));
    }
    out
}

#[test]
fn deepprune_set_with_truth_that_matches_the_sequences() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("sim");
    let o = out.to_str().unwrap();
    ok(&["simulate", "--preset", "deepprune4", "--n", "200", "--seed", "5", "-o", o]);
    let train = read_fasta(&out.join("train.fa"));
    let test = read_fasta(&out.join("test.fa"));
    assert_eq!((train.len(), test.len()), (200, 200));
    let pos = train.iter().filter(|(h, _)| h.ends_with(" 1")).count();
    assert_eq!(pos, 100);
    // Every positive has one truth row whose site scores as its motif.
    let truth = std::fs::read_to_string(out.join("truth.tsv")).unwrap();
    let seqs: HashMap<String, String> = train
        .iter()
        .chain(&test)
        .map(|(h, s)| (h.split(' ').next().unwrap().to_owned(), s.clone()))
        .collect();
    let motifs = motif_core::motif::read_motifs(&out.join("motifs.meme")).unwrap();
    assert_eq!(motifs.motifs.len(), 4);
    let (mut rows, mut sum_llr, mut sum_kl, mut positive_llr) = (0, 0.0, 0.0, 0);
    for line in truth.lines().skip(1) {
        let f: Vec<&str> = line.split('\t').collect();
        let m = motifs.motifs.iter().find(|m| m.id == f[2]).unwrap();
        let (start, end): (usize, usize) = (f[4].parse().unwrap(), f[5].parse().unwrap());
        assert_eq!(end - start + 1, m.len());
        let site = &seqs[f[1]].as_bytes()[start - 1..end];
        // Log-likelihood ratio of the site under the motif vs uniform: well above 0.
        let llr: f64 = site
            .iter()
            .enumerate()
            .map(|(j, &b)| {
                let k = b"ACGT".iter().position(|&c| c == b).unwrap();
                (m.probs[(k, j)].max(1e-3) / 0.25).log2()
            })
            .sum();
        // Its expectation over sites drawn from the motif: the relative entropy.
        let kl: f64 = (0..m.len())
            .map(|j| {
                (0..4)
                    .map(|k| m.probs[(k, j)])
                    .filter(|&p| p > 0.0)
                    .map(|p| p * (p / 0.25).log2())
                    .sum::<f64>()
            })
            .sum();
        sum_llr += llr;
        sum_kl += kl;
        positive_llr += usize::from(llr > 0.0);
        rows += 1;
    }
    assert_eq!(rows, 200, "one instance per positive in train and test");
    // Sites were drawn from their motifs: mean log-odds near the relative
    // entropy (random 101-bp windows would average below zero).
    assert!(
        sum_llr > 0.8 * sum_kl,
        "mean site log-odds {} vs relative entropy {}",
        sum_llr / 200.0,
        sum_kl / 200.0
    );
    assert!(positive_llr >= 195, "{positive_llr} of 200 sites score above background");
    // Same seed, same data; another seed, other data.
    let again = dir.path().join("again");
    ok(&[
        "simulate",
        "--preset",
        "deepprune4",
        "--n",
        "200",
        "--seed",
        "5",
        "-o",
        again.to_str().unwrap(),
    ]);
    assert_eq!(
        std::fs::read(out.join("train.fa")).unwrap(),
        std::fs::read(again.join("train.fa")).unwrap()
    );
    fails(&["simulate", "--preset", "deepprune9", "-o", o], &["unknown preset `deepprune9`"]);
}

#[test]
fn shuffle_keeps_dinucleotide_counts() {
    fn count(s: &str) -> HashMap<Vec<u8>, usize> {
        let mut m = HashMap::new();
        for w in s.as_bytes().windows(2) {
            *m.entry(w.to_vec()).or_default() += 1;
        }
        m
    }
    let dir = tempfile::tempdir().unwrap();
    let fa = dir.path().join("in.fa");
    std::fs::write(&fa, ">a 1\nACGTTGCAAACGTAGCTAGCTTTAGGCAGCATCGAN\n>b 1\nGGGGCCCCAAAATTTTACGT\n")
        .unwrap();
    let out = dir.path().join("neg.fa");
    ok(&[
        "shuffle",
        fa.to_str().unwrap(),
        "--label",
        "0",
        "--copies",
        "2",
        "-o",
        out.to_str().unwrap(),
    ]);
    let input = read_fasta(&fa);
    let shuffled = read_fasta(&out);
    assert_eq!(shuffled.len(), 4);
    for (k, (h, s)) in shuffled.iter().enumerate() {
        let (ih, is) = &input[k / 2];
        assert!(h.starts_with(ih.split(' ').next().unwrap()) && h.ends_with(" 0"), "{h}");
        assert_eq!(count(s), count(is));
        assert_ne!(s, is);
    }
    fails(&["shuffle", dir.path().join("missing.fa").to_str().unwrap()], &["missing.fa"]);
}

/// `--config run.toml` gives what the same flags give; a flag overrides it.
#[test]
fn simulate_config_file_and_flag_overrides() {
    let dir = tempfile::tempdir().unwrap();
    let toml = dir.path().join("run.toml");
    std::fs::write(&toml, "preset = \"deepprune1\"\nn = 40\nseed = 3\n").unwrap();
    let (a, b, c) = (dir.path().join("a"), dir.path().join("b"), dir.path().join("c"));
    ok(&["simulate", "--config", s(&toml), "-o", s(&a)]);
    ok(&["simulate", "--preset", "deepprune1", "--n", "40", "--seed", "3", "-o", s(&b)]);
    ok(&["simulate", "--config", s(&toml), "--seed", "4", "-o", s(&c)]);
    let fa = |d: &std::path::Path| std::fs::read(d.join("train.fa")).unwrap();
    assert_eq!(fa(&a), fa(&b));
    assert_ne!(fa(&a), fa(&c));
    assert_eq!(read_fasta(&c.join("train.fa")).len(), 40);
    std::fs::write(&toml, "preset = \"deepprune1\"\nsequences = 40\n").unwrap();
    let e = crate::util::motiftool(&["simulate", "--config", s(&toml), "-o", s(&a)]);
    assert_eq!(e.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&e.stderr).contains("sequences"));
}
