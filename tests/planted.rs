//! Planted truth: a model whose first-layer kernels are known JASPAR PWMs
//! (as log-odds) must give back each planted motif as its filter's top match.

use std::path::Path;

use motif_core::motif::{Motif, read_motifs};

use crate::util::{fixture, ok, root, s};

/// The kernels of the bundled `planted_jaspar.onnx`, in order (see
/// `examples/planted_model.rs`, which writes it).
const PLANTED: [&str; 8] = [
    "MA0139.2", "MA0138.3", "MA0108.3", "MA0506.3", "MA0083.3", "MA0106.3", "MA0046.3", "MA0035.5",
];

fn top_hits(out: &Path) -> Vec<(String, String, f64)> {
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    let mut rows: Vec<(String, String, f64)> = summary["filters"]
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
    // the bundled model holds exactly these matrices as log2 odds
    let model = fixture("planted_jaspar.onnx");
    let onnx = motif_onnx::Model::load(&model).unwrap();
    let kernels = onnx.weights("conv.weight").unwrap();
    let expected = motif_pwm::log_odds_kernels(&motifs, 21, 0.01);
    assert_eq!(kernels.shape(), expected.shape());
    assert!(kernels.iter().zip(&expected).all(|(a, b)| (a - b).abs() < 1e-6));
    // Every extractor, on the default 5,000 random sequences of three seeds:
    // the planted motifs must come back whatever the draw.
    let dir = tempfile::tempdir().unwrap();
    for (extractor, seed) in ["activation-alignment", "top-windows", "kernel-pwm"]
        .into_iter()
        .flat_map(|x| ["1", "2", "3"].map(|seed| (x, seed)))
    {
        let out = dir.path().join(format!("{extractor}-{seed}"));
        let mut args =
            vec!["analyze", s(&model), "-o", s(&out), "--extractor", extractor, "--seed", seed];
        if extractor == "kernel-pwm" {
            args.extend(["--set", "base=2"]);
        }
        ok(&args);
        let hits = top_hits(&out);
        assert_eq!(hits.len(), PLANTED.len());
        for (k, (filter, target, e)) in hits.iter().enumerate() {
            assert_eq!(filter, &format!("filter{k}"));
            assert!(*e < 0.05, "{extractor} seed {seed}: {filter} E = {e}");
            if extractor == "top-windows" {
                // One window per sequence at the maximum gives a sharper matrix than the
                // planted one; CTCF's comes out closer to JASPAR's other CTCF entry. The
                // factor must still be the planted one.
                let name = |id: &str| db.motifs.iter().find(|m| m.id == id).unwrap().name.clone();
                assert_eq!(name(target), motifs[k].name, "{extractor} seed {seed}: {hits:?}");
            } else {
                assert_eq!(target, PLANTED[k], "{extractor} seed {seed}: {filter}: {hits:?}");
            }
        }
    }
}
