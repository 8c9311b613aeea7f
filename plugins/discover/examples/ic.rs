//! Information content per position of a PPM `(len, 4)` (npy) against a
//! uniform background, printed for comparing with modisco-lite's
//! `compute_per_position_ic`.
//!
//! `cargo run -p motif-discover --example ic -- PPM.npy`

use ndarray::Ix2;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args().nth(1).ok_or("usage: ic PPM.npy")?;
    let p = motif_core::npz::read(std::path::Path::new(&path))?.into_dimensionality::<Ix2>()?;
    let p = p.mapv(f64::from);
    for v in motif_discover::motif::per_position_ic(p.view(), &[0.25; 4], 0.001) {
        println!("{v:?}");
    }
    Ok(())
}
