//! Gapped k-mer vectors of seqlets given as one-hot and hypothetical
//! tracks `(n, len, 4)`, both strands, printed for comparing with
//! modisco-lite (`scripts/discover_parity.py --gkmer`).
//!
//! `cargo run -p motif-discover --example gkmer -- ONEHOT.npy HYP.npy SIGN`

use motif_discover::gkmer::{Scratch, Settings, l2_normalized, seqlet_vector};
use ndarray::{Axis, Ix3};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let a: Vec<String> = std::env::args().collect();
    let [_, x, h, sign] = a.as_slice() else {
        return Err("usage: gkmer ONEHOT.npy HYP.npy SIGN".into());
    };
    let x = motif_core::npz::read(std::path::Path::new(x))?.into_dimensionality::<Ix3>()?;
    let h = motif_core::npz::read(std::path::Path::new(h))?.into_dimensionality::<Ix3>()?;
    let sign: f32 = sign.parse()?;
    let s = Settings::default();
    let mut scratch = Scratch::default();
    let (mut fwd, mut rev) = (Vec::new(), Vec::new());
    for (i, (xs, hs)) in x.axis_iter(Axis(0)).zip(h.axis_iter(Axis(0))).enumerate() {
        for (strand, rc) in [("fwd", false), ("rev", true)] {
            let v = seqlet_vector(xs, hs, rc, sign, &s, &mut scratch);
            let e: Vec<String> = v.iter().map(|(k, x)| format!("{k}:{x:?}")).collect();
            println!("{strand}\t{i}\t{}", e.join(","));
            if rc { rev.push(l2_normalized(&v)) } else { fwd.push(l2_normalized(&v)) }
        }
    }
    let motif_discover::knn::Knn { neighbors, sims } = motif_discover::knn::knn_of(&fwd, &rev, 501);
    // Fine affinities to those neighbours, and round one's filter.
    let (mut rf, mut rr) = (Vec::new(), Vec::new());
    for (xs, hs) in x.axis_iter(Axis(0)).zip(h.axis_iter(Axis(0))) {
        let contrib = &hs * &xs;
        let (f, r) = motif_discover::affinity::representation(hs, contrib.view());
        rf.push(f);
        rr.push(r);
    }
    let fine = motif_discover::affinity::fine_affinity(rf, rr, &neighbors);
    for (i, row) in fine.rows().enumerate() {
        let e: Vec<String> = row.iter().map(|v| format!("{v:?}")).collect();
        println!("fine\t{i}\t{}", e.join(","));
    }
    let (kept, _, _) = motif_discover::affinity::filter_by_correlation(
        &neighbors,
        &motif_discover::affinity::ties(&sims),
        &fine,
        0.15,
    );
    let e: Vec<String> = kept.iter().map(ToString::to_string).collect();
    println!("kept\t{}", e.join(","));
    for (i, (nb, sm)) in neighbors.rows().zip(sims.rows()).enumerate() {
        let e: Vec<String> = nb.iter().zip(sm).map(|(j, v)| format!("{j}:{v:?}")).collect();
        println!("knn\t{i}\t{}", e.join(","));
    }
    Ok(())
}
