#!/usr/bin/env python3
"""Writes the benchmark models of attribution_vs_tangermeme.py and sequences for them into DIR:
koo.onnx + koo.fa (Koo-style 200 bp, 12 tasks) and bpnet.onnx + bpnet.fa (BPNet-like 2,114 bp),
for scripts/gpu_check.sh and other checks that run without PyTorch.

Needs: pip install torch onnx numpy.
Usage: scripts/bench/export_models.py DIR [--koo N] [--bpnet N]
"""
import argparse
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from attribution_vs_tangermeme import CASES  # noqa: E402
from attribution_parity import onehot, seeded, write_fasta  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("dir")
    ap.add_argument("--koo", type=int, default=1000)
    ap.add_argument("--bpnet", type=int, default=64)
    a = ap.parse_args()
    os.makedirs(a.dir, exist_ok=True)
    for name, n in (("koo", a.koo), ("bpnet", a.bpnet)):
        cls, length, _, _ = CASES[name]
        model, _ = seeded(cls, 3)
        x = onehot(n, length, np.random.default_rng(5))
        X = torch.from_numpy(x)
        torch.onnx.export(model, X[:1], os.path.join(a.dir, f"{name}.onnx"), input_names=["x"],
                          output_names=["y"], opset_version=17,
                          dynamic_axes={"x": {0: "n"}, "y": {0: "n"}}, dynamo=False)
        write_fasta(os.path.join(a.dir, f"{name}.fa"), x)
        print(f"{name}: {n} sequences of {length} bp")


if __name__ == "__main__":
    main()
