//! Writes a modisco results file of two positive patterns (one with two
//! subpatterns) and one negative, from seqlets of simulated attributions,
//! for checking that modisco-lite's own tools read it
//! (`scripts/discover_parity.py --h5`).
//!
//! `cargo run -p motif-discover --example modisco_h5 -- OUT.h5`

use motif_discover::modisco_h5::{PatternRecord, SeqletRecord, write};
use ndarray::Array2;

fn seqlet(k: usize, len: usize, rc: bool) -> SeqletRecord {
    let mut sequence = Array2::<f32>::zeros((len, 4));
    let mut contrib = Array2::<f32>::zeros((len, 4));
    let mut hypothetical = Array2::<f32>::zeros((len, 4));
    for l in 0..len {
        let b = (l * 7 + k) % 4;
        sequence[(l, b)] = 1.0;
        for c in 0..4 {
            hypothetical[(l, c)] = ((l + c + k) % 5) as f32 * 0.01;
        }
        contrib[(l, b)] = hypothetical[(l, b)];
    }
    SeqletRecord {
        example: k,
        start: 10 + k,
        end: 10 + k + len,
        revcomp: rc,
        sequence,
        contrib,
        hypothetical,
    }
}

fn pattern(seqlets: Vec<SeqletRecord>, subpatterns: Vec<PatternRecord>) -> PatternRecord {
    let len = seqlets[0].sequence.nrows();
    let mean = |pick: fn(&SeqletRecord) -> &Array2<f32>| {
        let mut m = Array2::<f64>::zeros((len, 4));
        for q in &seqlets {
            m += &pick(q).mapv(f64::from);
        }
        m / seqlets.len() as f64
    };
    PatternRecord {
        sequence: mean(|q| &q.sequence),
        contrib: mean(|q| &q.contrib),
        hypothetical: mean(|q| &q.hypothetical),
        seqlets,
        subpatterns,
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let out = std::env::args().nth(1).ok_or("usage: modisco_h5 OUT.h5")?;
    let a: Vec<SeqletRecord> = (0..6).map(|k| seqlet(k, 30, k % 2 == 1)).collect();
    let subs = vec![pattern(a[..3].to_vec(), vec![]), pattern(a[3..].to_vec(), vec![])];
    let pos =
        vec![pattern(a, subs), pattern((6..9).map(|k| seqlet(k, 30, false)).collect(), vec![])];
    let neg = vec![pattern((9..13).map(|k| seqlet(k, 30, true)).collect(), vec![])];
    write(std::path::Path::new(&out), 400, Some(&pos), Some(&neg))?;
    Ok(())
}
