//! Writes `data/models/planted_jaspar.onnx`, the bundled example model: a
//! DeepBind-style network (conv → ReLU → global max pool → dense → sigmoid,
//! 101 bp input) whose 8 kernels are JASPAR 2024 matrices as log2 odds
//! (`motif_pwm::log_odds_kernels`, pseudocount 0.01, width 21). Its motifs
//! are known, so `motiftool analyze` on it shows what a correct report looks
//! like, and the test suite checks each comes back as its filter's top match.
//!
//! ```sh
//! cargo run --example planted_model [-- OUT.onnx]
//! ```

use std::path::PathBuf;

use motif_core::motif::{Motif, read_motifs};
use motif_onnx::build::{Activation, DeepBindSpec, Padding, deepbind};
use ndarray::Array2;
use prost::Message;

/// Well-known factors from different families, each at least 1000× more
/// similar to itself than to any other entry of the bundled database in a
/// self-comparison (tomtom statistics, pearson, min overlap 5).
pub const PLANTED: [&str; 8] = [
    "MA0139.2", // CTCF
    "MA0138.3", // REST
    "MA0108.3", // TBP
    "MA0506.3", // Nrf1
    "MA0083.3", // SRF
    "MA0106.3", // TP53
    "MA0046.3", // HNF1A
    "MA0035.5", // GATA1
];

/// Kernel width: the widest planted motif (REST, 21 bp).
pub const WIDTH: usize = 21;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let out = std::env::args_os()
        .nth(1)
        .map_or_else(|| root.join("data/models/planted_jaspar.onnx"), PathBuf::from);
    let db = read_motifs(&root.join("data/motifs/JASPAR2024_CORE_vertebrates_nonredundant.meme"))?;
    let motifs: Vec<&Motif> = PLANTED
        .iter()
        .map(|id| db.motifs.iter().find(|m| m.id == *id).ok_or(format!("{id} not in the database")))
        .collect::<Result<_, _>>()?;
    let k = motifs.len();
    let spec = DeepBindSpec {
        kernels: motif_pwm::log_odds_kernels(&motifs, WIDTH, 0.01),
        conv_bias: vec![0.0; k],
        // distinct weights so that the report's importance ranking is not a tie
        dense: Array2::from_shape_fn((1, k), |(_, j)| 1.0 - j as f32 * 0.1),
        dense_bias: vec![0.0],
        activation: Activation::Relu,
        padding: Padding::Valid,
        length: Some(101),
        sigmoid: true,
    };
    let tmp = out.with_extension("onnx.tmp");
    std::fs::write(&tmp, deepbind(&spec).encode_to_vec())?;
    std::fs::rename(&tmp, &out)?;
    println!("{}: {k} kernels of width {WIDTH} ({})", out.display(), PLANTED.join(", "));
    Ok(())
}
