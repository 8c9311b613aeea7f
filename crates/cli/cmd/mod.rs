//! One module per subcommand.

pub mod analyze;
pub mod bench;
pub mod decouple;
pub mod engines;
pub mod inspect;
pub mod logo;
pub mod matching;
pub mod plugins;
pub mod predict;
pub mod prune;
pub mod report;
pub mod saliency;
pub mod simulate;
pub mod train;

use std::path::Path;

use anyhow::Result;
use ndarray::Array3;

/// Loads a model, naming the file on error.
pub fn load_model(path: &Path) -> Result<motif_onnx::Model> {
    Ok(motif_onnx::Model::load(path)?)
}

/// Random one-hot sequences from a seeded xorshift generator.
pub fn random_onehot(n: usize, len: usize, seed: u64) -> Array3<f32> {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut x = Array3::zeros((n, 4, len));
    for i in 0..n {
        for j in 0..len {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            x[(i, (state >> 62) as usize, j)] = 1.0;
        }
    }
    x
}
