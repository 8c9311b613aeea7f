#!/usr/bin/env python3
"""Discovery on the attributions of trained real-style models: motiftool's patterns against
modisco-lite's on the same attributions (scripts/discover_compare.py's table), for

* a Koo-style CNN (conv 19 → max-pool 25 → conv → pool → dense, 12 sigmoid tasks) trained on
  `motiftool simulate --preset koo-eddy` (12 JASPAR TFs, 1–5 instances per sequence), explained
  at the sum of its task logits;
* a DeepBind-style CNN (conv 15 → ReLU → global max pool → dense 32 → one logit) trained on
  `motiftool simulate --preset deepprune4` (CTCF, GATA1, SRF, TP53 against uniform negatives).
  (The BPNet-like mean-pooled model of the attribution checks barely learns this task.)

Each is trained with PyTorch (Adam 3e-3, BCE; the test AUC is printed), exported to ONNX, attributed by
`motiftool attribute` (DeepLIFT/DeepSHAP, 20 shuffles) on the positive test sequences, and then
both discovery tools run on the same ohe.npz/shap.npz.

Needs: pip install torch onnx numpy modisco-lite h5py; cargo build --release (motiftool) and
cargo build --release -p motif-discover --examples.
Usage: scripts/discover_models.py [--work DIR] [--n 12000] [--epochs 40]
"""
import argparse
import os
import subprocess
import sys

import numpy as np
import torch
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from attribution_parity import Koo  # noqa: E402


class DeepBindStyle(nn.Module):
    def __init__(self):
        super().__init__()
        self.c, self.r = nn.Conv1d(4, 32, 15, padding=7), nn.ReLU()
        self.f1, self.r2, self.f2 = nn.Linear(32, 32), nn.ReLU(), nn.Linear(32, 1)

    def forward(self, x):
        return self.f2(self.r2(self.f1(self.r(self.c(x)).amax(dim=-1))))


def read_fasta(path):
    ids, seqs, labels = [], [], []
    for line in open(path):
        if line.startswith(">"):
            f = line[1:].split()
            ids.append(f[0])
            labels.append([float(v) for v in f[1:]])
            seqs.append("")
        else:
            seqs[-1] += line.strip()
    x = np.zeros((len(seqs), 4, len(seqs[0])), dtype=np.float32)
    for i, s in enumerate(seqs):
        for j, c in enumerate(s.upper()):
            k = "ACGT".find(c)
            if k >= 0:
                x[i, k, j] = 1
    return ids, x, np.array(labels, dtype=np.float32)


def train(model, x, y, epochs, seed):
    torch.manual_seed(seed)
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    X, Y = torch.from_numpy(x), torch.from_numpy(y)
    for e in range(epochs):
        perm = torch.randperm(len(X))
        total = 0.0
        for k in range(0, len(X), 64):
            b = perm[k:k + 64]
            opt.zero_grad()
            loss = nn.functional.binary_cross_entropy_with_logits(model(X[b]), Y[b])
            loss.backward()
            opt.step()
            total += float(loss.detach()) * len(b)
        if (e + 1) % 10 == 0 or e + 1 == epochs:
            print(f"  epoch {e + 1}: loss {total / len(X):.4f}", flush=True)
    return model


def run(cmd):
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"{' '.join(cmd)}: {r.stderr[-2000:]}")
    return r.stdout


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--work", default="/tmp/discover-models")
    ap.add_argument("--n", type=int, default=12000)
    ap.add_argument("--epochs", type=int, default=40)
    ap.add_argument("--motiftool", default="target/release/motiftool")
    a = ap.parse_args()
    torch.set_num_threads(2)
    ok = True
    for name, preset, cls, outputs in (("koo", "koo-eddy", Koo, 12), ("deepbind", "deepprune4", DeepBindStyle, 1)):
        work = os.path.join(a.work, name)
        sim = os.path.join(work, "sim")
        os.makedirs(work, exist_ok=True)
        print(f"{name}: simulating {preset}", flush=True)
        run([a.motiftool, "simulate", "--preset", preset, "--n", str(a.n), "--len", "200", "--seed", "2",
             "-o", sim, *(["--both-strands"] if preset.startswith("deepprune") else [])])
        _, x, y = read_fasta(os.path.join(sim, "train.fa"))
        y = y[:, :outputs]
        model = train(cls(), x, y, a.epochs, 1)
        model.eval()
        onnx = os.path.join(work, f"{name}.onnx")
        torch.onnx.export(model, torch.from_numpy(x[:1]), onnx, input_names=["x"], output_names=["y"],
                          opset_version=17, dynamic_axes={"x": {0: "n"}, "y": {0: "n"}}, dynamo=False)
        ids, xt, yt = read_fasta(os.path.join(sim, "test.fa"))
        keep = yt.sum(axis=1) > 0
        with open(os.path.join(work, "positives.fa"), "w") as f:
            for i in np.flatnonzero(keep):
                f.write(f">{ids[i]}\n{''.join('ACGT'[k] for k in xt[i].argmax(0))}\n")
        from sklearn.metrics import roc_auc_score
        with torch.no_grad():
            p = model(torch.from_numpy(xt)).numpy()
        aucs = [roc_auc_score(yt[:, j], p[:, j]) for j in range(outputs) if 0 < yt[:, j].sum() < len(yt)]
        print(f"  test AUC (mean over {len(aucs)} tasks): {np.mean(aucs):.3f}", flush=True)
        attr = os.path.join(work, "attr")
        target = ["--target", "y:sum"] if outputs > 1 else []
        run([a.motiftool, "attribute", onnx, "--seqs", os.path.join(work, "positives.fa"), "-o", attr,
             "--quiet", *target])
        print(f"{name}: attributed {int(keep.sum())} positive test sequences; comparing discovery", flush=True)
        r = subprocess.run([sys.executable, os.path.join(os.path.dirname(__file__), "discover_compare.py"),
                            "--ohe", os.path.join(attr, "ohe.npz"), "--shap", os.path.join(attr, "shap.npz"),
                            "--window", "200", "--work", os.path.join(work, "compare")],
                           capture_output=True, text=True)
        print(r.stdout, r.stderr[-2000:] if r.returncode not in (0, 1) else "", flush=True)
        ok &= r.returncode == 0
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
