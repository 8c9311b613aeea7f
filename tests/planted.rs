//! Planted truth: a model whose first-layer kernels are known JASPAR PWMs
//! (as log-odds) must give back each planted motif as its filter's top match.

use std::path::Path;

use motif_core::motif::{Motif, read_motifs};
use motif_onnx::build::{Activation, DeepBindSpec, Padding, deepbind};
use ndarray::{Array2, Array3};
use prost::Message;

use crate::util::{ok, root, s};

/// Well-known factors from different families whose own matrix is, in a
/// self-comparison of the bundled database, at least 1000× more similar to
/// itself than to any other entry (so "the top hit" is well defined).
const PLANTED: [&str; 8] = [
    "MA0139.2", // CTCF
    "MA0138.3", // REST
    "MA0108.3", // TBP
    "MA0506.3", // Nrf1
    "MA0083.3", // SRF
    "MA0106.3", // TP53
    "MA0046.3", // HNF1A
    "MA0035.5", // GATA1
];

/// Log-odds kernels (bits against a uniform background, with a 0.01
/// pseudocount), each motif centred in the common width; padding columns
/// are zero and so score nothing.
fn planted_model(motifs: &[&Motif], path: &Path) {
    let width = motifs.iter().map(|m| m.len()).max().unwrap();
    let mut kernels = Array3::<f32>::zeros((motifs.len(), 4, width));
    for (k, m) in motifs.iter().enumerate() {
        let start = (width - m.len()) / 2;
        for i in 0..m.len() {
            for c in 0..4 {
                let p = (m.probs[[c, i]] + 0.01) / 1.04;
                kernels[[k, c, start + i]] = (p / 0.25).log2() as f32;
            }
        }
    }
    let k = motifs.len();
    let spec = DeepBindSpec {
        kernels,
        conv_bias: vec![0.0; k],
        dense: Array2::from_shape_fn((1, k), |(_, j)| 1.0 + j as f32 * 0.1),
        dense_bias: vec![0.0],
        activation: Activation::Relu,
        padding: Padding::Valid,
        length: Some(101),
        sigmoid: true,
    };
    std::fs::write(path, deepbind(&spec).encode_to_vec()).unwrap();
}

fn top_hits(out: &Path) -> Vec<(String, String, f64)> {
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    let mut rows: Vec<(String, String, f64)> = summary
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let top = &f["matches"][0];
            (
                f["filter"].as_str().unwrap().to_owned(),
                top["target"].as_str().unwrap_or("-").to_owned(),
                top["E"].as_f64().unwrap_or(f64::INFINITY),
            )
        })
        .collect();
    rows.sort_by_key(|r| r.0[6..].parse::<usize>().unwrap());
    rows
}

#[test]
fn planted_jaspar_kernels_are_each_filters_top_match() {
    let db = read_motifs(&root().join("data/motifs/JASPAR2024_CORE_vertebrates_nonredundant.meme"))
        .unwrap();
    let motifs: Vec<&Motif> =
        PLANTED.iter().map(|id| db.motifs.iter().find(|m| m.id == *id).unwrap()).collect();
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("planted.onnx");
    planted_model(&motifs, &model);
    for extractor in ["activation-alignment", "top-windows", "kernel-pwm"] {
        let out = dir.path().join(extractor);
        let mut args = vec!["analyze", s(&model), "-o", s(&out), "--extractor", extractor];
        if extractor == "kernel-pwm" {
            args.extend(["--set", "base=2"]);
        }
        ok(&args);
        let hits = top_hits(&out);
        assert_eq!(hits.len(), PLANTED.len());
        for (k, (filter, target, e)) in hits.iter().enumerate() {
            assert_eq!(filter, &format!("filter{k}"));
            assert!(*e < 0.05, "{extractor}: {filter} E = {e}");
            if extractor == "top-windows" {
                // One window per sequence at the maximum gives a sharper matrix than the
                // planted one; CTCF's comes out closer to JASPAR's other CTCF entry. The
                // factor must still be the planted one.
                let name = |id: &str| db.motifs.iter().find(|m| m.id == id).unwrap().name.clone();
                assert_eq!(name(target), motifs[k].name, "{extractor}: {filter}: {hits:?}");
            } else {
                assert_eq!(target, PLANTED[k], "{extractor}: {filter}: {hits:?}");
            }
        }
    }
}
