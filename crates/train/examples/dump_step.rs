//! Writes a DeepBind train-step graph for profiling, e.g. with
//! onnxruntime's profiler:
//! `cargo run --release -p motif-train --example dump_step -- step.onnx 256 24 256`
//! (output, kernels, width, batch; 101 bp).
use motif_onnx::autodiff::train::{Adam, TrainSpec, default_params, train_step_model};
use prost::Message;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let arg = |i: usize, d: usize| args.get(i).and_then(|s| s.parse().ok()).unwrap_or(d);
    let out = args.get(1).cloned().unwrap_or_else(|| "step.onnx".into());
    let (k, w, b) = (arg(2, 256), arg(3, 24), arg(4, 256));
    let p = motif_train::glorot_deepbind(k, w, 1, motif_onnx::build::Activation::Relu, None, 1);
    let (params, dense) = default_params(&p);
    let spec = TrainSpec {
        input: ("x".into(), vec![b, 4, 101]),
        output: "y".into(),
        params,
        regularized: dense,
        l1: 0.0,
        l2: 0.0,
        mask: None,
        adam: Adam::default(),
    };
    let bytes = train_step_model(&p, &spec).expect("train step").encode_to_vec();
    std::fs::write(&out, bytes).expect("write");
    eprintln!("wrote {out}");
}
