#!/usr/bin/env python3
"""DeepLIFT/DeepSHAP throughput: motiftool attribute against tangermeme 1.6, in one run.

Both tools run their defaults: 20 dinucleotide shuffles per sequence, hypothetical
contributions, fp32, two CPU threads (torch.set_num_threads(2); motiftool --threads 2).
tangermeme is timed in-process around deep_lift_shap alone (model built, imports done);
motiftool as a whole process (start-up, reading, graph building, writing the npz files
included). Throughput is sequence x reference pairs per second; the median of RUNS runs
of each, alternating.

Models (seeded random weights, exported with PyTorch's legacy exporter):
  koo    Koo & Eddy-style 200 bp, 12 tasks (scripts/attribution_parity.py's Koo); task 3
  bpnet  BPNet-like 2,114 bp: Conv1d(4,32,21) ReLU, six dilated residual blocks
         (Conv1d(32,32,3, dilation 2..64) ReLU + skip), counts head mean + Linear(32,1)

Needs: pip install torch tangermeme==1.6.0 onnx numpy; a release build.
Usage: scripts/bench/attribution_vs_tangermeme.py [--runs 3] [--engines ort,tract]
"""
import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np
import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from attribution_parity import BPNet, Koo, onehot, seeded, write_fasta  # noqa: E402

torch.set_num_threads(2)


class BPNetBench(BPNet):
    """The parity script's BPNet with six dilated blocks (dilation 2..64)."""

    DILATIONS = (2, 4, 8, 16, 32, 64)


CASES = {"koo": (Koo, 200, 3, 256), "bpnet": (BPNetBench, 2114, 0, 16)}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bin", default="target/release/motiftool")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--engines", default="ort,tract")
    ap.add_argument("--cases", default="koo,bpnet")
    a = ap.parse_args()
    from tangermeme.deep_lift_shap import deep_lift_shap

    work = tempfile.mkdtemp(prefix="attr-bench-")
    print(f"torch {torch.__version__}; 20 references per sequence; median of {a.runs} runs; 2 threads")
    print(f"{'model':<6} {'pairs':>6} {'tool':<18} {'seconds':>8} {'pairs/s':>9} {'vs tangermeme':>14}")
    for name in a.cases.split(","):
        cls, length, target, n = CASES[name]
        model, _ = seeded(cls, 3)
        x = onehot(n, length, np.random.default_rng(5))
        X = torch.from_numpy(x)
        onnx = os.path.join(work, f"{name}.onnx")
        torch.onnx.export(model, X[:1], onnx, input_names=["x"], output_names=["y"], opset_version=17,
                          dynamic_axes={"x": {0: "n"}, "y": {0: "n"}}, dynamo=False)
        fasta = os.path.join(work, f"{name}.fa")
        write_fasta(fasta, x)
        pairs = n * 20
        times = {"tangermeme": []}
        for e in a.engines.split(","):
            times[f"motiftool ({e})"] = []
        for _ in range(a.runs):
            t0 = time.perf_counter()
            deep_lift_shap(model, X, target=target, hypothetical=True, random_state=0,
                           warning_threshold=1e9)
            times["tangermeme"].append(time.perf_counter() - t0)
            for e in a.engines.split(","):
                out = os.path.join(work, f"{name}-{e}")
                cmd = [a.bin, "attribute", onnx, "--seqs", fasta, "--target", f"y:{target}", "-o", out,
                       "--quiet", "--engine", e, "--threads", "2"]
                t0 = time.perf_counter()
                r = subprocess.run(cmd, capture_output=True, text=True)
                dt = time.perf_counter() - t0
                if r.returncode != 0:
                    sys.exit(f"{' '.join(cmd)}: {r.stderr}")
                times[f"motiftool ({e})"].append(dt)
        base = statistics.median(times["tangermeme"])
        for tool, ts in times.items():
            m = statistics.median(ts)
            print(f"{name:<6} {pairs:>6} {tool:<18} {m:8.2f} {pairs / m:9.1f} {base / m:13.2f}x")


if __name__ == "__main__":
    main()
