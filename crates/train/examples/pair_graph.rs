//! Writes the DeepLIFT pair graph of a model for `n` pairs of `len` bp, to
//! inspect or profile it with other tools.
//!
//! `cargo run -p motif-train --example pair_graph -- MODEL.onnx N LEN OUT.onnx [TARGET [K]]`
//! (N pairs; K references per input row: the input takes N / K rows)

use motif_onnx::autodiff::deeplift::{DeepLiftOptions, deeplift_model};
use prost::Message;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let a: Vec<String> = std::env::args().collect();
    let [_, model, n, len, out, rest @ ..] = a.as_slice() else {
        return Err("usage: pair_graph MODEL.onnx N LEN OUT.onnx [TARGET [K]]".into());
    };
    let m = motif_onnx::Model::load(std::path::Path::new(model))?;
    let s = m.structure();
    let (n, len): (usize, usize) = (n.parse()?, len.parse()?);
    let shape = match s.input.layout {
        motif_onnx::Layout::Ncw => vec![n, 4, len],
        motif_onnx::Layout::Nwc => vec![n, len, 4],
    };
    let target = rest.first().cloned().unwrap_or_else(|| s.outputs[0].name.clone());
    let g = deeplift_model(
        m.proto(),
        &[(&s.input.name, &shape)],
        &s.input.name,
        &target,
        &DeepLiftOptions {
            references_per_input: rest.get(1).map_or(Ok(1), |k| k.parse())?,
            ..DeepLiftOptions::default()
        },
    )?;
    std::fs::write(out, g.encode_to_vec())?;
    Ok(())
}
