#!/usr/bin/env python3
"""motiftool attribute against tangermeme 1.6 and Captum 0.9 on the same PyTorch models.

For each model (PyTorch, seeded random weights; one nn.Module per nonlinearity, as the
reference tools require) the script exports ONNX with the legacy exporter, draws one-hot
sequences and their dinucleotide shuffles with tangermeme (the same (N, K, 4, L) reference
tensor is given to every tool), runs `motiftool attribute`, and compares:

  deeplift-shap   hypothetical contributions vs tangermeme.deep_lift_shap(hypothetical=True)
                  and vs Captum DeepLift(multiply_by_inputs=False) run per reference, with
                  tangermeme's hypothetical formula applied to each reference's multipliers.
                  Captum is run on a twin with a no-op multiply between each ReLU and the
                  MaxPool it feeds: Captum 0.9 mis-attributes a ReLU module feeding a MaxPool
                  module directly (its sums then miss f(x) - f(r)); the plain model's
                  completeness gap is printed too.
  ism             centred deltas vs tangermeme.saturation_mutagenesis(hypothetical=True)
  saliency        corrected gradient vs tangermeme.saliency(hypothetical=True)
  ig              projected scores vs Captum IntegratedGradients (zero baseline, 50
                  Gauss-Legendre steps), in fp64

ISM, integrated gradients and the profile score subtract or sum many nearly equal fp32
numbers, so both tools sit ~1e-4 to 1e-2 from the exact value: those are compared against
the reference tool run in fp64, and pass within max(1e-4, 2x the reference tool's own fp32
error), which is printed as the floor.

Every comparison is max |ours - theirs| / max |theirs|; fp32 throughout; the script fails
(exit 1) when one exceeds 1e-4. Models:

  koo        Koo & Eddy-style 200 bp multi-task CNN: Conv1d(4,32,19) ReLU MaxPool1d(25)
             Conv1d(32,16,3) ReLU MaxPool1d(2) Linear(64,32) ReLU Linear(32,12); target task 3
  bpnet      BPNet-like 1000 bp: Conv1d(4,32,21) ReLU, three dilated residual blocks
             (Conv1d(32,32,3,dilation 2,4,8) ReLU + skip), counts head: mean over length,
             Linear(32,1); target 0
  profile    the bpnet trunk with a profile head Conv1d(32,2,25) cropped to 200 positions,
             explained as bpnet-lite's ProfileWrapper (mean-centred logits times their softmax,
             the scaling registered as a Rescale op) against `--target y:profile`; tangermeme only
  deepbind   DeepBind-style both strands: pad with 0.25, Conv1d(4,16,11) ReLU, global max
             (MaxPool1d(L)), Linear(16,8) ReLU Linear(8,1) per strand, strand max as
             stack + MaxPool1d(2); 101 bp

Needs: pip install torch tangermeme==1.6.0 captum==0.9.0 onnx numpy  (in a virtualenv).
Usage: scripts/attribution_parity.py [--bin target/release/motiftool] [--out DIR] [--n 16]
"""
import argparse
import copy
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import torch
from torch import nn

torch.set_num_threads(2)
TOL = 1e-4


class Noop(nn.Module):
    """x * 1: separates a ReLU module from the MaxPool module after it (for Captum)."""

    def forward(self, x):
        return x * 1.0


class Koo(nn.Module):
    def __init__(self, noop=False):
        super().__init__()
        self.c1, self.r1 = nn.Conv1d(4, 32, 19, padding=9), nn.ReLU()
        self.n1 = Noop() if noop else nn.Identity()
        self.p1 = nn.MaxPool1d(25)
        self.c2, self.r2 = nn.Conv1d(32, 16, 3, padding=1), nn.ReLU()
        self.n2 = Noop() if noop else nn.Identity()
        self.p2 = nn.MaxPool1d(2)
        self.f1, self.r3, self.f2 = nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 12)

    def forward(self, x):
        h = self.p1(self.n1(self.r1(self.c1(x))))
        h = self.p2(self.n2(self.r2(self.c2(h))))
        return self.f2(self.r3(self.f1(h.flatten(1))))


class BPNet(nn.Module):
    DILATIONS = (2, 4, 8)

    def __init__(self, noop=False):
        super().__init__()
        self.c0, self.r0 = nn.Conv1d(4, 32, 21, padding=10), nn.ReLU()
        self.convs = nn.ModuleList(nn.Conv1d(32, 32, 3, padding=d, dilation=d) for d in self.DILATIONS)
        self.relus = nn.ModuleList(nn.ReLU() for _ in self.DILATIONS)
        self.head = nn.Linear(32, 1)

    def forward(self, x):
        h = self.r0(self.c0(x))
        for c, r in zip(self.convs, self.relus):
            h = h + r(c(h))
        return self.head(h.mean(dim=-1))


class Strand(nn.Module):
    def __init__(self, noop, length):
        super().__init__()
        self.conv, self.relu = nn.Conv1d(4, 16, 11), nn.ReLU()
        self.n1 = Noop() if noop else nn.Identity()
        self.gmax = nn.MaxPool1d(length + 10)
        self.f1, self.r2, self.f2 = nn.Linear(16, 8), nn.ReLU(), nn.Linear(8, 1)

    def forward(self, x):
        h = nn.functional.pad(x, (10, 10), value=0.25)
        h = self.gmax(self.n1(self.relu(self.conv(h)))).flatten(1)
        return self.f2(self.r2(self.f1(h)))


class DeepBind(nn.Module):
    """Both strands through the same weights, held by two modules (Captum refuses a
    module called twice; tangermeme 1.6 would not mind)."""

    def __init__(self, noop=False, length=101):
        super().__init__()
        self.fwd, self.rev = Strand(noop, length), Strand(noop, length)
        self.rev.load_state_dict(self.fwd.state_dict())
        self.n2 = Noop() if noop else nn.Identity()
        self.smax = nn.MaxPool1d(2)

    def forward(self, x):
        both = torch.stack([self.fwd(x), self.rev(torch.flip(x, (-1, -2)))], dim=-1)
        return self.smax(self.n2(both.flatten(1).unsqueeze(1))).flatten(1)


class BPNetProfile(BPNet):
    """BPNet's profile head: logits (N, 2, 200) from a Conv1d(32, 2, 25) cropped to the centre."""

    def __init__(self, noop=False):
        super().__init__(noop)
        self.pconv = nn.Conv1d(32, 2, 25, padding=12)

    def forward(self, x):
        h = self.r0(self.c0(x))
        for c, r in zip(self.convs, self.relus):
            h = h + r(c(h))
        p = self.pconv(h)
        trim = (p.shape[-1] - 200) // 2
        return p[:, :, trim:trim + 200]


class _ProfileLogitScaling(nn.Module):
    """bpnet-lite's: logits times their softmax (registered with tangermeme as Rescale)."""

    def forward(self, logits):
        return logits * torch.softmax(logits, dim=-1)


class ProfileWrapper(nn.Module):
    """bpnet-lite's ProfileWrapper: flattened logits, mean-centred, softmax-weighted, summed."""

    def __init__(self, model):
        super().__init__()
        self.model, self.flatten, self.scaling = model, nn.Flatten(), _ProfileLogitScaling()

    def forward(self, x):
        z = self.flatten(self.model(x))
        z = z - z.mean(dim=-1, keepdim=True)
        return self.scaling(z).sum(dim=-1, keepdim=True)


class SoftmaxNet(nn.Module):
    """An internal softmax over channels (tangermeme 1.6's exact rule; Captum's is defective, so
    only tangermeme is compared), then a conv, ReLU and mean pooling."""

    def __init__(self, noop=False):
        super().__init__()
        self.c1, self.sm = nn.Conv1d(4, 16, 11, padding=5), nn.Softmax(dim=1)
        self.c2, self.r2 = nn.Conv1d(16, 8, 5), nn.ReLU()
        self.head = nn.Linear(8, 1)

    def forward(self, x):
        h = self.r2(self.c2(self.sm(2.0 * self.c1(x))))
        return self.head(h.mean(dim=-1))


MODELS = {"koo": (Koo, 200, 3), "bpnet": (BPNet, 1000, 0), "deepbind": (DeepBind, 101, 0),
          "profile": (BPNetProfile, 1000, "profile"), "softmax": (SoftmaxNet, 200, "softmax")}


def seeded(cls, seed):
    torch.manual_seed(seed)
    m = cls()
    # Larger biases than the default so many units sit near their kinks.
    with torch.no_grad():
        for p in m.parameters():
            p.mul_(1.5)
    if hasattr(m, "rev"):
        m.rev.load_state_dict(m.fwd.state_dict())
    torch.manual_seed(seed)
    twin = cls(noop=True)
    twin.load_state_dict(m.state_dict())
    return m.eval(), twin.eval()


def onehot(n, length, rng):
    x = np.zeros((n, 4, length), dtype=np.float32)
    idx = rng.integers(0, 4, size=(n, length))
    for i in range(n):
        x[i, idx[i], np.arange(length)] = 1.0
    return x


def write_fasta(path, x):
    with open(path, "w") as f:
        for i, s in enumerate(x):
            f.write(f">s{i}\n{''.join('ACGT'[k] for k in s.argmax(0))}\n")


def rel(a, b):
    return float(np.abs(a - b).max() / max(np.abs(b).max(), 1e-12))


def motiftool(bin_, onnx, fasta, out, *args):
    cmd = [bin_, "attribute", onnx, "--seqs", fasta, "-o", out, "--quiet", "--batch-size", "64", *args]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"motiftool failed: {' '.join(cmd)}\n{r.stderr}")
    return np.load(os.path.join(out, "shap.npz"))["arr_0"]


def compare(name, bin_, work, n, k):
    from captum.attr import DeepLift, IntegratedGradients
    from tangermeme.deep_lift_shap import deep_lift_shap
    from tangermeme.ersatz import dinucleotide_shuffle
    from tangermeme.saliency import saliency
    from tangermeme.saturation_mutagenesis import saturation_mutagenesis

    cls, length, target = MODELS[name]
    model, twin = seeded(cls, 7)
    rng = np.random.default_rng(11)
    x = onehot(n, length, rng)
    X = torch.from_numpy(x)
    refs = dinucleotide_shuffle(X, n=k, random_state=0).float()  # (N, K, 4, L)
    d = os.path.join(work, name)
    os.makedirs(d, exist_ok=True)
    onnx = os.path.join(d, "model.onnx")
    torch.onnx.export(model, X[:1], onnx, input_names=["x"], output_names=["y"], opset_version=17,
                      dynamic_axes={"x": {0: "n"}, "y": {0: "n"}}, dynamo=False)
    fasta = os.path.join(d, "seqs.fa")
    write_fasta(fasta, x)
    np.save(os.path.join(d, "refs.npy"), refs.numpy())
    tgt = f"y:{target}"
    rows = {}
    if target == "profile":
        # bpnet-lite's profile convention; Captum has no way to register the scaling op.
        from tangermeme.deep_lift_shap import _nonlinear
        ours = motiftool(bin_, onnx, fasta, os.path.join(d, "dls"), "--target", tgt,
                         "--set", f"references={os.path.join(d, 'refs.npy')}")
        # The scaling's secant divides a difference of nearly equal fp32 numbers where a
        # logit barely changes: both tools sit ~1e-3 from the exact value there, so the
        # reference is tangermeme in fp64 and the floor tangermeme's own fp32 run.
        kw = dict(target=0, hypothetical=True, batch_size=64, warning_threshold=1e9,
                  additional_nonlinear_ops={_ProfileLogitScaling: _nonlinear})
        t64 = deep_lift_shap(ProfileWrapper(copy.deepcopy(model).double()), X.double(),
                             references=refs.double(), **kw).numpy()
        t32 = deep_lift_shap(ProfileWrapper(model), X, references=refs, **kw).numpy()
        rows["deeplift-shap vs tangermeme fp64 (profile)"] = rel(ours, t64)
        scores = np.genfromtxt(os.path.join(d, "dls", "scores.tsv"), names=True, dtype=None, encoding=None)
        return rows, {"motiftool_max_delta": float(np.max(scores["max_delta"])), "floor": rel(t32, t64)}

    if target == "softmax":
        ours = motiftool(bin_, onnx, fasta, os.path.join(d, "dls"), "--target", "y:0",
                         "--set", f"references={os.path.join(d, 'refs.npy')}")
        kw = dict(target=0, hypothetical=True, batch_size=64, warning_threshold=1e9)
        t64 = deep_lift_shap(copy.deepcopy(model).double(), X.double(), references=refs.double(),
                             **kw).numpy()
        t32 = deep_lift_shap(model, X, references=refs, **kw).numpy()
        rows["deeplift-shap vs tangermeme (softmax)"] = rel(ours, t32)
        rows["deeplift-shap vs tangermeme fp64 (softmax)"] = rel(ours, t64)
        scores = np.genfromtxt(os.path.join(d, "dls", "scores.tsv"), names=True, dtype=None, encoding=None)
        return rows, {"motiftool_max_delta": float(np.max(scores["max_delta"])), "floor": rel(t32, t64)}

    ours = motiftool(bin_, onnx, fasta, os.path.join(d, "dls"), "--target", tgt,
                     "--set", f"references={os.path.join(d, 'refs.npy')}")
    tm = deep_lift_shap(model, X, target=target, references=refs, hypothetical=True,
                        batch_size=64, warning_threshold=1e9).numpy()
    rows["deeplift-shap vs tangermeme"] = rel(ours, tm)
    # Captum, reference by reference, on the twin with no-op multiplies.
    def captum_h(net):
        # One sequence per call: Captum 0.9's MaxPool rule reads batch element 0
        # where a pooled input does not change (captum #1276), which a batch of
        # one makes right.
        dl = DeepLift(net, multiply_by_inputs=False)
        h = np.zeros_like(x)
        gaps = []
        for kk in range(k):
            r = refs[:, kk]
            m = np.concatenate([dl.attribute(X[i:i + 1], baselines=r[i:i + 1], target=target)
                                .detach().numpy() for i in range(len(x))])
            rr = r.numpy()
            h += m - (rr * m).sum(1, keepdims=True)
            with torch.no_grad():
                df = (net(X) - net(r))[:, target].numpy()
            gaps.append(np.abs(((x - rr) * m).sum((1, 2)) - df).max())
        return h / k, max(gaps)
    cap, cap_gap = captum_h(twin)
    rows["deeplift-shap vs Captum (no-op twin)"] = rel(ours, cap)
    plain_gap = captum_h(model)[1]
    info = {"captum_plain_completeness_gap": float(plain_gap),
            "captum_twin_completeness_gap": float(cap_gap)}
    # Our completeness on the same pairs.
    scores = np.genfromtxt(os.path.join(d, "dls", "scores.tsv"), names=True, dtype=None, encoding=None)
    info["motiftool_max_delta"] = float(np.max(scores["max_delta"]))

    # ISM subtracts two nearly equal outputs: in fp32 both tools sit ~1e-4 (relative to
    # the largest effect) from the exact value when |f| is much larger than the effects.
    # Compared against tangermeme in fp64; the floor is tangermeme's own fp32 run.
    ours = motiftool(bin_, onnx, fasta, os.path.join(d, "ism"), "--target", tgt, "--method", "ism")
    t64 = saturation_mutagenesis(copy.deepcopy(model).double(), X.double(), target=target,
                                 hypothetical=True, batch_size=64).numpy()
    t32 = saturation_mutagenesis(model, X, target=target, hypothetical=True, batch_size=64).numpy()
    rows["ism vs tangermeme (fp64)"] = rel(ours, t64)
    info["ism_floor"] = rel(t32, t64)

    ours = motiftool(bin_, onnx, fasta, os.path.join(d, "sal"), "--target", tgt, "--method", "saliency")
    tm = saliency(model, X, target=target, hypothetical=True, batch_size=64).numpy()
    rows["saliency vs tangermeme"] = rel(ours, tm)

    ours = motiftool(bin_, onnx, fasta, os.path.join(d, "ig"), "--target", tgt,
                     "--method", "integrated-gradients")
    # 50 gradients summed: compared against Captum in fp64, the floor Captum's own fp32.
    def ig(net, inp):
        return IntegratedGradients(net).attribute(inp, target=target, n_steps=50,
                                                  method="gausslegendre").detach().numpy()
    ig64 = ig(copy.deepcopy(model).double(), X.double())
    rows["integrated-gradients vs Captum (fp64)"] = rel(ours * x, ig64)
    info["ig_floor"] = rel(ig(model, X), ig64)
    return rows, info


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bin", default="target/release/motiftool")
    ap.add_argument("--out", default=None)
    ap.add_argument("--n", type=int, default=16)
    ap.add_argument("--k", type=int, default=10)
    ap.add_argument("--models", default="koo,bpnet,deepbind,profile,softmax")
    a = ap.parse_args()
    work = a.out or tempfile.mkdtemp(prefix="attribution-parity-")
    import captum
    import tangermeme
    print(f"torch {torch.__version__}, tangermeme {tangermeme.__version__}, captum {captum.__version__}; "
          f"{a.n} sequences x {a.k} references; work dir {work}")
    print(f"{'model':<9} {'comparison':<38} {'max rel diff':>12}  ok")
    failed = False
    report = {}
    for name in a.models.split(","):
        rows, info = compare(name, a.bin, work, a.n, a.k)
        report[name] = {"rows": rows, **info}
        for r, v in rows.items():
            floor = {"ism": info.get("ism_floor"), "int": info.get("ig_floor")}.get(r[:3], info.get("floor"))
            tol = max(TOL, 2 * floor) if floor is not None else TOL
            failed |= not v <= tol
            print(f"{name:<9} {r:<38} {v:12.2e}  {'yes' if v <= tol else 'NO'}")
        if "ism_floor" not in info:
            print(f"{name:<9} floor: tangermeme fp32 vs fp64 {info['floor']:.2e}; completeness: "
                  f"motiftool max delta {info['motiftool_max_delta']:.2e}")
            continue
        print(f"{name:<9} floors: ism tangermeme fp32 vs fp64 {info['ism_floor']:.2e}, "
              f"integrated gradients Captum fp32 vs fp64 {info['ig_floor']:.2e}")
        print(f"{name:<9} completeness: motiftool max delta {info['motiftool_max_delta']:.2e}; Captum "
              f"{info['captum_twin_completeness_gap']:.2e} (no-op twin), "
              f"{info['captum_plain_completeness_gap']:.2e} (ReLU feeding MaxPool directly)")
    with open(os.path.join(work, "parity.json"), "w") as f:
        json.dump(report, f, indent=2)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
