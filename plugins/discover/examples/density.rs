//! The density-adapted matrix of a kNN affinity table, printed as
//! `row col value` for comparing with modisco-lite
//! (`scripts/discover_parity.py --density`).
//!
//! `cargo run -p motif-discover --example density -- AFFINITY.npy NEIGHBORS.npy PERPLEXITY`

use motif_core::plugin::Table;
use motif_discover::density::density_adapted;
use ndarray::Ix2;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let a: Vec<String> = std::env::args().collect();
    let [_, aff, nb, perplexity] = a.as_slice() else {
        return Err("usage: density AFFINITY.npy NEIGHBORS.npy PERPLEXITY".into());
    };
    let aff = motif_core::npz::read(std::path::Path::new(aff))?.into_dimensionality::<Ix2>()?;
    let nb = motif_core::npz::read(std::path::Path::new(nb))?.into_dimensionality::<Ix2>()?;
    let affinity = Table::from_rows(aff.rows().into_iter().map(|r| r.mapv(f64::from).to_vec()));
    let neighbors = Table::from_rows(
        nb.rows().into_iter().map(|r| r.iter().map(|&v| v as u32).collect::<Vec<_>>()),
    );
    let (mut affinity, mut neighbors) = (affinity, neighbors);
    let m = density_adapted(&mut affinity, &mut neighbors, perplexity.parse()?);
    for i in 0..m.n() {
        for p in m.indptr[i]..m.indptr[i + 1] {
            println!("{i}\t{}\t{:?}", m.indices[p], m.data[p]);
        }
    }
    Ok(())
}
