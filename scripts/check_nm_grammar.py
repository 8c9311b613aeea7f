#!/usr/bin/env python3
"""NeuronMotif check (b): a 5-block BatchNorm model trained on a two-motif
grammar (GATA1, then TFEC 6 bp later; decoys: one motif alone, the reverse
order, or another gap). Decouples layers 0-4 in order (each seeded from the
one below), then asks of the last layer's neurons that drive the positive
class: does the dictionary hold both motifs, and does the syntax put TFEC
6 +- 1 bp after GATA1 (measured between the matched database motifs)?

Which neurons drive the positive class is measured independently of
motiftool: a numpy forward pass of the ONNX graph (Conv, BatchNormalization,
Relu, MaxPool, GlobalMaxPool, Flatten, Gemm, Sigmoid) gives each last-layer
neuron's pooled activation on the test set; its contribution is the dense
weight times its mean activation on positives minus negatives. The same
pass's ROC AUC is printed beside motiftool's as a cross-check.

Usage: scripts/check_nm_grammar.py [--workdir DIR] [--top 5] [--engine ort]
(build first: cargo build --release). Exits 1 when the check fails.
Takes about 20 minutes on 2 cores with ort.
"""

import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np
import onnx
from onnx import numpy_helper

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GAP = 6
LAYERS = "16x7:2,16x3:2,16x3:2,16x3:2,16x3"


def run(cmd):
    t = time.time()
    subprocess.run(cmd, check=True)
    return time.time() - t


def read_fasta(path):
    seqs, y = [], []
    with open(path) as f:
        for line in f:
            if line.startswith(">"):
                y.append(float(line.split()[-1]))
            elif line.strip():
                seqs.append(line.strip())
    x = np.zeros((len(seqs), 4, len(seqs[0])), np.float32)
    for n, s in enumerate(seqs):
        for j, c in enumerate(s):
            x[n, "ACGT".index(c), j] = 1.0
    return x, np.array(y)


def forward(model_path, x):
    """The graph's tensors on one-hot NCW input `x` (numpy, no onnxruntime)."""
    m = onnx.load(model_path)
    t = {i.name: numpy_helper.to_array(i).astype(np.float32) for i in m.graph.initializer}
    t[m.graph.input[0].name] = x
    for node in m.graph.node:
        a = {at.name: onnx.helper.get_attribute_value(at) for at in node.attribute}
        i = [t[n] for n in node.input]
        op = node.op_type
        if op == "Conv":
            w = i[1]
            k = w.shape[2]
            L = i[0].shape[2] - k + 1
            assert not a.get("pads") or not any(a["pads"]), "valid convs only"
            y = np.zeros((i[0].shape[0], w.shape[0], L), np.float32)
            for j in range(k):
                y += np.einsum("ncl,oc->nol", i[0][:, :, j : j + L], w[:, :, j])
            if len(i) > 2:
                y += i[2][None, :, None]
        elif op == "BatchNormalization":
            s, b, mu, v = (z[None, :, None] for z in i[1:5])
            y = (i[0] - mu) / np.sqrt(v + a.get("epsilon", 1e-5)) * s + b
        elif op == "Relu":
            y = np.maximum(i[0], 0)
        elif op == "MaxPool":
            p = a["kernel_shape"][0]
            n, c, L = i[0].shape
            y = i[0][:, :, : (L // p) * p].reshape(n, c, L // p, p).max(3)
        elif op == "GlobalMaxPool":
            y = i[0].max(2, keepdims=True)
        elif op == "Flatten":
            y = i[0].reshape(i[0].shape[0], -1)
        elif op == "Gemm":
            w = i[1].T if a.get("transB", 0) else i[1]
            y = i[0] @ w + (i[2] if len(i) > 2 else 0)
        elif op == "Sigmoid":
            y = 1 / (1 + np.exp(-i[0]))
        else:
            raise SystemExit(f"{model_path}: node {node.name or node.output[0]}: {op} not covered")
        t[node.output[0]] = y
    return m, t


def auc(score, y):
    r = np.argsort(np.argsort(score)) + 1
    pos = y == 1
    return (r[pos].sum() - pos.sum() * (pos.sum() + 1) / 2) / (pos.sum() * (~pos).sum())


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--workdir", default="nm-grammar-check")
    ap.add_argument("--bin", default=os.path.join(ROOT, "target/release/motiftool"))
    ap.add_argument("--top", type=int, default=5, help="positive-class neurons checked")
    ap.add_argument("--engine", default="ort")
    ap.add_argument("--seed", default="3", help="simulation and training seed")
    a = ap.parse_args()
    w = a.workdir
    os.makedirs(w, exist_ok=True)
    sim, model_dir, nm = (os.path.join(w, d) for d in ("grammar", "model", "nm"))
    if not os.path.exists(os.path.join(sim, "test.fa")):
        run([a.bin, "simulate", "--preset", "nm-grammar", "--n", "30000", "--len", "82",
             "--seed", a.seed, "-o", sim])
    model = os.path.join(model_dir, "model.onnx")
    if not os.path.exists(model):
        run([a.bin, "train", "--arch", "stack", "--layers", LAYERS, "--bn", "--seed", a.seed,
             "--train", os.path.join(sim, "train.fa"), "--test", os.path.join(sim, "test.fa"),
             "--engine", a.engine, "--quiet", "-o", model_dir])
    truth = os.path.join(sim, "motifs.meme")
    secs = {}
    for layer in range(5):
        secs[layer] = run([a.bin, "decouple", model, "--layer", str(layer), "--db", truth,
                           "--engine", a.engine, "--quiet", "-o", nm])
        n = json.load(open(os.path.join(nm, f"layer-{layer}", "layer.json")))["neurons"]
        print(f"layer {layer}: {secs[layer]:.1f} s for {n} neurons ({secs[layer] / n:.2f} s per neuron)")

    x, y = read_fasta(os.path.join(sim, "test.fa"))
    m, t = forward(model, x)
    gmp = next(n for n in m.graph.node if n.op_type == "GlobalMaxPool")
    act = t[gmp.output[0]][:, :, 0]
    gemm = next(n for n in m.graph.node if n.op_type == "Gemm")
    dense = t[gemm.input[1]]
    wk = dense[0] if dense.shape[0] == 1 else dense[:, 0]
    pos = y == 1
    contrib = wk * (act[pos].mean(0) - act[~pos].mean(0))
    trained = json.load(open(os.path.join(model_dir, "training.json")))
    print(f"test ROC AUC: numpy forward {auc(t[m.graph.output[0].name][:, 0], y):.4f}, "
          f"motiftool {trained['test_auc']['mean']:.4f}")

    print("\nneuron  role      dense w  contribution  dictionary (database match, E)          GATA1→TFEC gap  other pairs")
    rows = []
    for k in np.argsort(-contrib):
        r = json.load(open(os.path.join(nm, "layer-4", f"neuron-{k}", "neuron.json")))
        d = [(x.get("name") or "-", x.get("e")) for x in r["dictionary_matches"]]
        fwd = {x["name"] for x in r["dictionary_matches"]
               if x.get("e") is not None and x["e"] < 0.05 and not x["reverse"]}
        gaps = [(g["min"], g["max"]) for g in r["database_gaps"]
                if g["left_motif"].endswith("GATA1") and g["right_motif"].endswith("TFEC")]
        other = sorted({(g["left_motif"].split()[-1], g["right_motif"].split()[-1], g["min"], g["max"])
                        for g in r["database_gaps"]
                        if not (g["left_motif"].endswith("GATA1") and g["right_motif"].endswith("TFEC"))})
        dtxt = ", ".join(f"{n} {e:.0e}" if e is not None else n for n, e in d)
        gtxt = ", ".join(f"{a}" if a == b else f"{a}~{b}" for a, b in gaps) or "-"
        otxt = "; ".join(f"{l}→{r_} {a}" + ("" if a == b else f"~{b}") for l, r_, a, b in other) or "-"
        role = "-" if contrib[k] <= 0.01 else ("positive" if wk[k] > 0 else "decoys")
        print(f"{k:6d}  {role:8s}  {wk[k]:+7.2f}  {contrib[k]:+12.2f}  {dtxt:40s}  {gtxt:14s}  {otxt}")
        rows.append((k, contrib[k], fwd, gaps))
    top = [r for r in rows if r[1] > 0 and wk[r[0]] > 0][: a.top]
    ok = 0
    for k, c, fwd, gaps in top:
        good = {"GATA1", "TFEC"} <= fwd and any(abs(lo - GAP) <= 1 and abs(hi - GAP) <= 1 for lo, hi in gaps)
        ok += good
    print(f"\ncheck (b): {ok} of the {len(top)} neurons with the largest positive contribution hold "
          f"GATA1 and TFEC (forward, E < 0.05) with TFEC {GAP} ± 1 bp after GATA1")
    sys.exit(0 if top and ok == len(top) else 1)


if __name__ == "__main__":
    main()
