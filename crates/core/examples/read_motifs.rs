//! Reads a motif file and reports how many motifs it holds and how long
//! reading took (best of 20): `cargo run --release -p motif-core --example
//! read_motifs -- data/motifs/JASPAR2024_CORE_vertebrates_nonredundant.meme`.

use std::time::Instant;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args().nth(1).ok_or("usage: read_motifs FILE")?;
    let mut best = f64::INFINITY;
    let mut n = 0;
    for _ in 0..20 {
        let t = Instant::now();
        n = motif_core::motif::read_motifs(std::path::Path::new(&path))?.motifs.len();
        best = best.min(t.elapsed().as_secs_f64());
    }
    println!("{n} motifs in {:.2} ms (best of 20)", best * 1e3);
    Ok(())
}
