#!/usr/bin/env python3
"""Training throughput of motiftool (tract and ort) against PyTorch CPU, in one run.

The net is Deepprune's DeepBind-style model: Conv1d(4 -> K, width W, 'same' padding), ReLU,
global max pool, Linear(K -> 1), sigmoid; binary cross-entropy, Adam (Keras defaults), batch 256,
on simulated 101-bp sequences (`motiftool simulate --preset deepprune4`). Throughput is training
sequences per second per epoch (forward + backward + update), the median over epochs after the
first. PyTorch runs only where `import torch` works; otherwise the script says so.

    python3 scripts/bench/train_throughput.py [--kernels 256] [--width 24] [--n 10000] [--epochs 3]
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def run_motiftool(exe, engine, args, data, out):
    cmd = [exe, "train", "--arch", "deepbind", "--kernels", str(args.kernels), "--width",
           str(args.width), "--epochs", str(args.epochs), "--patience", "100000",
           "--batch-size", str(args.batch), "--train", os.path.join(data, "train.fa"),
           "--engine", engine, "--quiet", "-o", out]
    subprocess.run(cmd, check=True)
    log = json.load(open(os.path.join(out, "training.json")))["log"]
    rates = [e["train_seqs_per_s"] for e in log[1:]] or [log[0]["train_seqs_per_s"]]
    return statistics.median(rates), len(log)


def read_fasta(path):
    seqs, labels = [], []
    with open(path) as f:
        for line in f:
            if line.startswith(">"):
                labels.append(float(line.split()[1]))
            else:
                seqs.append(line.strip())
    return seqs, labels


def run_torch(args, data):
    try:
        import torch
    except Exception as e:  # noqa: BLE001 (any import failure means: not available)
        return None, f"PyTorch not available here ({type(e).__name__}: {str(e)[:120]})"
    import numpy as np
    torch.manual_seed(1)
    torch.set_num_threads(args.threads or os.cpu_count())
    seqs, labels = read_fasta(os.path.join(data, "train.fa"))
    # Keras' validation_split: the last 10 % are held out, as motiftool does.
    n_train = len(seqs) - len(seqs) // 10
    lut = {c: i for i, c in enumerate("ACGT")}
    x = np.zeros((n_train, 4, len(seqs[0])), dtype=np.float32)
    for i, s in enumerate(seqs[:n_train]):
        for j, c in enumerate(s):
            x[i, lut[c], j] = 1.0
    x = torch.from_numpy(x)
    y = torch.tensor(labels[:n_train]).unsqueeze(1)
    model = torch.nn.Sequential(
        torch.nn.Conv1d(4, args.kernels, args.width, padding="same"),
        torch.nn.ReLU(),
        torch.nn.AdaptiveMaxPool1d(1),
        torch.nn.Flatten(),
        torch.nn.Linear(args.kernels, 1),
    )
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-7)
    loss_fn = torch.nn.BCEWithLogitsLoss()
    rates = []
    for _ in range(args.epochs):
        order = torch.randperm(n_train)
        t0 = time.perf_counter()
        for k in range(0, n_train, args.batch):
            idx = order[k:k + args.batch]
            opt.zero_grad()
            loss = loss_fn(model(x[idx]), y[idx])
            loss.backward()
            opt.step()
        rates.append(n_train / (time.perf_counter() - t0))
    return statistics.median(rates[1:] or rates), f"PyTorch {torch.__version__}, {torch.get_num_threads()} threads"


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--motiftool", default=os.path.join(ROOT, "target", "release", "motiftool"))
    p.add_argument("--kernels", type=int, default=256)
    p.add_argument("--width", type=int, default=24)
    p.add_argument("--n", type=int, default=10000, help="training sequences (10 %% held out)")
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--batch", type=int, default=256)
    p.add_argument("--threads", type=int, default=0)
    p.add_argument("--json", help="also write the results here")
    args = p.parse_args()
    if not os.path.exists(args.motiftool):
        sys.exit(f"{args.motiftool} not found: run `cargo build --release` first")
    with tempfile.TemporaryDirectory() as tmp:
        data = os.path.join(tmp, "data")
        subprocess.run([args.motiftool, "simulate", "--preset", "deepprune4", "--n", str(args.n),
                        "-o", data], check=True, capture_output=True)
        results = {}
        for engine in ["tract", "ort"]:
            try:
                results[engine] = run_motiftool(args.motiftool, engine, args, data, os.path.join(tmp, engine))[0]
            except subprocess.CalledProcessError as e:
                print(f"motiftool {engine}: failed ({e})", file=sys.stderr)
        torch_rate, torch_note = run_torch(args, data)
    print(f"training throughput, DeepBind {args.kernels}x{args.width}, 101 bp, batch {args.batch}, "
          f"{os.cpu_count()} CPU cores (sequences/s, median epoch)")
    for name, rate in list(results.items()) + ([("pytorch", torch_rate)] if torch_rate else []):
        ratio = f"  {rate / torch_rate:.2f}x PyTorch" if torch_rate else ""
        print(f"  {name:8} {rate:10.0f}{ratio}")
    print(f"  ({torch_note})")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"motiftool": results, "pytorch": torch_rate, "pytorch_note": torch_note,
                       "kernels": args.kernels, "width": args.width, "n": args.n}, f, indent=2)


if __name__ == "__main__":
    main()
