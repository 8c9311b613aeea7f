//! Continuous-Jaccard alignment of every row of X (children) against
//! every row of Y (parents), and `l1` of every X row, printed for
//! comparing with modisco-lite (`scripts/discover_parity.py --align`).
//!
//! `cargo run -p motif-discover --example align -- X.npy Y.npy PAD`

use motif_discover::affinity::{align_cj, l1};
use ndarray::{Axis, Ix3};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let a: Vec<String> = std::env::args().collect();
    let [_, x, y, pad] = a.as_slice() else { return Err("usage: align X.npy Y.npy PAD".into()) };
    let x = motif_core::npz::read(std::path::Path::new(x))?.into_dimensionality::<Ix3>()?;
    let y = motif_core::npz::read(std::path::Path::new(y))?.into_dimensionality::<Ix3>()?;
    let pad: usize = pad.parse()?;
    for (l, parent) in y.axis_iter(Axis(0)).enumerate() {
        for (i, child) in x.axis_iter(Axis(0)).enumerate() {
            let (score, offset) = align_cj(child, parent, pad);
            println!("{l}\t{i}\t{score:?}\t{offset}");
        }
    }
    for (i, child) in x.axis_iter(Axis(0)).enumerate() {
        let v: Vec<String> = l1(child).iter().map(|v| format!("{v:?}")).collect();
        println!("l1\t{i}\t{}", v.join(","));
    }
    Ok(())
}
