//! `shuffle`: dinucleotide-shuffled copies of sequences (Altschul–Erickson:
//! exact dinucleotide counts), streamed as FASTA, e.g. negatives for
//! ChIP-seq peaks.

use std::io::Write;

use motif_core::rng::Rng;
use serde::{Deserialize, Serialize};

use crate::input::SeqInput;
use crate::{Event, Result, invalid};

/// Settings of `shuffle` (its flags but for the sequence file).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "cli", derive(clap::Args))]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct Config {
    /// The sequences: table columns, `--bed/--genome/--width`.
    #[cfg_attr(feature = "cli", command(flatten))]
    pub input: SeqInput,
    /// Shuffled copies per sequence (1 to 1000).
    #[cfg_attr(feature = "cli", arg(long, default_value_t = 1, value_parser = crate::cli::one_to_thousand))]
    pub copies: usize,
    /// Label written into each output header (e.g. 0 for negatives).
    #[cfg_attr(feature = "cli", arg(long))]
    pub label: Option<String>,
    /// Random seed.
    #[cfg_attr(feature = "cli", arg(long, default_value_t = 1))]
    pub seed: u64,
}

impl Default for Config {
    fn default() -> Self {
        Self { input: SeqInput::default(), copies: 1, label: None, seed: 1 }
    }
}

/// Writes each sequence's shuffled copies to `out` as FASTA (`>id_shuf`,
/// or `>id_shufK` for several copies, then the label); returns the number
/// of input sequences. One random stream per (sequence, copy), so the
/// output does not depend on how the input is read.
///
/// # Errors
/// A copy count outside 1 to 1000, unreadable or empty input, or a failed
/// write.
pub fn run(config: &Config, out: &mut dyn Write, events: &mut dyn FnMut(Event)) -> Result<u64> {
    let copies = config.copies;
    if !(1..=1000).contains(&copies) {
        return Err(invalid(format!("--copies {copies}: must be 1 to 1000")));
    }
    let (reader, source) = config.input.records(None)?;
    let rng = Rng::new(config.seed);
    let mut n = 0u64;
    events(Event::Stage { name: "shuffling", total: None });
    for rec in reader {
        let rec = rec?;
        for c in 0..copies {
            let mut r = rng.fork(n * copies as u64 + c as u64);
            let s = motif_sim::shuffle::dinucleotide_shuffle(&rec.seq, &mut r);
            let suffix = if copies > 1 { format!("_shuf{}", c + 1) } else { "_shuf".into() };
            match &config.label {
                Some(l) => writeln!(out, ">{}{suffix} {l}", rec.id)?,
                None => writeln!(out, ">{}{suffix}", rec.id)?,
            }
            out.write_all(&s)?;
            writeln!(out)?;
        }
        n += 1;
        events(Event::Advance(1));
    }
    if n == 0 {
        return Err(invalid(format!("{}: no sequences", source.display())));
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each copy keeps the dinucleotide counts; the output is deterministic.
    #[test]
    fn copies_keep_dinucleotides_and_repeat_given_the_seed() {
        let d = tempfile::tempdir().unwrap();
        let fa = d.path().join("s.fa");
        std::fs::write(&fa, ">a\nACGTTGCAACGGTACCATGA\n>b\nGGGTTTAAACCC\n").unwrap();
        let input = SeqInput { seqs: Some(fa), ..SeqInput::default() };
        let c = Config { input, copies: 2, label: Some("0".into()), seed: 3 };
        let mut out = Vec::new();
        assert_eq!(run(&c, &mut out, &mut |_| {}).unwrap(), 2);
        let text = String::from_utf8(out.clone()).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], ">a_shuf1 0");
        assert_eq!(lines[6], ">b_shuf2 0");
        let pairs = |s: &str| {
            let mut v: Vec<&[u8]> = s.as_bytes().windows(2).collect();
            v.sort_unstable();
            v.iter().map(|w| w.to_vec()).collect::<Vec<_>>()
        };
        assert_eq!(pairs(lines[1]), pairs("ACGTTGCAACGGTACCATGA"));
        assert_eq!(pairs(lines[7]), pairs("GGGTTTAAACCC"));
        let mut again = Vec::new();
        run(&c, &mut again, &mut |_| {}).unwrap();
        assert_eq!(again, out);
        let e = run(&Config { copies: 0, ..c }, &mut Vec::new(), &mut |_| {}).unwrap_err();
        assert!(e.to_string().contains("--copies"), "{e}");
    }
}
