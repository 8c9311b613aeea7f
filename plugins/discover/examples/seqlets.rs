//! Calls seqlets on modisco's inputs and prints them, for comparing with
//! modisco-lite (`scripts/discover_parity.py`).
//!
//! `cargo run --release -p motif-discover --example seqlets -- OHE.npz SHAP.npz [WINDOW]`

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let a: Vec<String> = std::env::args().collect();
    let [_, ohe, shap, rest @ ..] = a.as_slice() else {
        return Err("usage: seqlets OHE.npz SHAP.npz [WINDOW]".into());
    };
    let x = motif_core::npz::read(std::path::Path::new(ohe))?;
    let h = motif_core::npz::read(std::path::Path::new(shap))?;
    let (n, l) = (x.shape()[0], x.shape()[2]);
    let width: usize = rest.first().map_or(Ok(400), |w| w.parse())?;
    let width = width.min(l) / 2 * 2;
    let (c0, c1) = (l / 2 - width / 2, l / 2 + width / 2);
    let mut contrib = Vec::with_capacity(n * (c1 - c0) * 4);
    for i in 0..n {
        for p in c0..c1 {
            for b in 0..4 {
                contrib.push(x[[i, b, p]] * h[[i, b, p]]);
            }
        }
    }
    let contrib = motif_core::plugin::DenseContributions::new(&contrib, n, c1 - c0)?;
    let called =
        motif_discover::seqlets::call(&contrib, &motif_discover::seqlets::Settings::default());
    println!("thresholds\t{:?}\t{:?}", called.thresholds.0, called.thresholds.1);
    println!("null\t{:?}\t{:?}\t{:?}", called.null.0, called.null.1, called.null.2);
    println!("sign_threshold\t{:?}", called.sign_threshold);
    for (sign, set) in [("+", &called.positive), ("-", &called.negative)] {
        for s in set {
            println!("{sign}\t{}\t{}\t{}", s.example, s.start, s.end);
        }
    }
    Ok(())
}
