//! One module per subcommand.

pub mod analyze;
pub mod bench;
pub mod engines;
pub mod inspect;
pub mod logo;
pub mod matching;
pub mod plugins;
pub mod predict;

use std::path::Path;

use anyhow::Result;

/// Loads a model, naming the file on error.
pub fn load_model(path: &Path) -> Result<motif_onnx::Model> {
    Ok(motif_onnx::Model::load(path)?)
}
