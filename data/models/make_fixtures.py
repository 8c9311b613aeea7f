#!/usr/bin/env python3
"""Makes the tiny model fixtures in data/models/ and their expected outputs.

Each fixture is a real export from the tool users have:
  torch_legacy_ncw.onnx     PyTorch legacy exporter (TorchScript), opset 17, NCW input;
                            DeepBind-like: Conv1d(4,16,24) → ReLU → global max → Linear(16,32) → ReLU → Linear(32,1)
  torch_dynamo_ncw.onnx     PyTorch dynamo exporter, opset 18, weights in torch_dynamo_ncw.onnx.data, fixed length 101;
                            Conv1d(4,8,9,pad 4) → BatchNorm1d → ReLU → MaxPool1d(3) → Conv1d(8,8,5) → ReLU
                            → global max → Linear(8,1); the exporter folds the BatchNorm into the conv
  keras_tf2onnx_nwc.onnx    Keras (TensorFlow 2.15) through tf2onnx 1.16, opset 13, NWC input (N, L, 4);
                            Conv1D(8,7) → BatchNormalization → ReLU → MaxPool1D(2) → Conv1D(6,5,dilation 2) → ReLU
                            → GlobalMaxPool1D → Dense(4, relu) → Dense(1, sigmoid)
  bn_two_block.onnx         hand-built with onnx.helper, opset 17: two blocks of
                            Conv → BatchNormalization → Relu → MaxPool(2, stride 2), then GlobalAveragePool → Gemm

Weights are random (seeded), BatchNorm statistics non-trivial. Expected outputs for the
sequences in fixture_seqs.fa come from the framework that made each model (PyTorch,
Keras, or a numpy reference for the hand-built graph), so they check the ONNX import
and both engines against an independent computation. Written to expected_outputs.tsv.

Needs: torch (with onnxscript) for the PyTorch fixtures, tensorflow-cpu 2.15 + tf2onnx 1.16
for the Keras one, numpy and onnx. Run with --only torch|keras|hand to make a subset
(they usually live in separate virtual environments).
"""
import argparse
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
SEED = 7


def fixture_seqs():
    """12 sequences: 8 of 101 bp, 4 of 60 bp (mixed lengths), a few N's and lowercase letters."""
    rng = np.random.default_rng(SEED)
    seqs = []
    for i in range(12):
        n = 101 if i < 8 else 60
        s = "".join(rng.choice(list("ACGT"), size=n))
        if i == 2:
            s = s[:10] + "NNNN" + s[14:]
        if i == 3:
            s = s.lower()
        seqs.append((f"s{i}", s, i % 2))
    return seqs


def one_hot(s):
    x = np.zeros((4, len(s)), dtype=np.float32)
    for j, c in enumerate(s.upper()):
        if c == "N":
            x[:, j] = 0.25
        else:
            x["ACGT".index(c), j] = 1.0
    return x


def write_seqs(seqs):
    with open(os.path.join(HERE, "fixture_seqs.fa"), "w") as f:
        for i, s, y in seqs:
            f.write(f">{i} {y}\n{s}\n")


def torch_models(seqs):
    import torch
    from torch import nn

    torch.manual_seed(SEED)

    class DeepBindLike(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv1d(4, 16, 24)
            self.fc1 = nn.Linear(16, 32)
            self.fc2 = nn.Linear(32, 1)

        def forward(self, x):
            h = torch.relu(self.conv(x))
            h = torch.amax(h, dim=2)
            return self.fc2(torch.relu(self.fc1(h)))

    class TwoBlock(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv1d(4, 8, 9, padding=4)
            self.bn1 = nn.BatchNorm1d(8)
            self.pool1 = nn.MaxPool1d(3)
            self.conv2 = nn.Conv1d(8, 8, 5)
            self.fc = nn.Linear(8, 1)

        def forward(self, x):
            h = self.pool1(torch.relu(self.bn1(self.conv1(x))))
            h = torch.relu(self.conv2(h))
            return self.fc(torch.amax(h, dim=2))

    a = DeepBindLike().eval()
    b = TwoBlock()
    with torch.no_grad():
        b.bn1.running_mean.uniform_(-0.5, 0.5)
        b.bn1.running_var.uniform_(0.5, 2.0)
        b.bn1.weight.uniform_(0.5, 1.5)
        b.bn1.bias.uniform_(-0.2, 0.2)
    b.eval()

    x = torch.from_numpy(np.stack([one_hot(s) for _, s, _ in seqs[:8]]))
    torch.onnx.export(
        a, (x,), os.path.join(HERE, "torch_legacy_ncw.onnx"), dynamo=False, opset_version=17,
        input_names=["x"], output_names=["score"], dynamic_axes={"x": {0: "N", 2: "L"}, "score": {0: "N"}},
    )
    # The exporter specialises the length of this model to 101 (a fixed-length model, as
    # many are); sequences of other lengths get no expected value (nan).
    prog = torch.onnx.export(b, (x,), dynamo=True, opset_version=18, input_names=["x"], output_names=["score"],
                             dynamic_shapes=({0: torch.export.Dim("N", min=1, max=100000)},))
    prog.save(os.path.join(HERE, "torch_dynamo_ncw.onnx"), external_data=True)
    out = {}
    for name, m in [("torch_legacy_ncw", a), ("torch_dynamo_ncw", b)]:
        rows = []
        for i, s, _ in seqs:
            if name == "torch_dynamo_ncw" and len(s) != 101:
                rows.append(float("nan"))
                continue
            with torch.no_grad():
                rows.append(float(m(torch.from_numpy(one_hot(s)[None]))[0, 0]))
        out[name] = rows
    return out


def keras_model(seqs):
    import tensorflow as tf
    import tf2onnx

    tf.random.set_seed(SEED)
    inp = tf.keras.Input(shape=(None, 4), name="x")
    h = tf.keras.layers.Conv1D(8, 7, name="conv1")(inp)
    h = tf.keras.layers.BatchNormalization(name="bn1")(h)
    h = tf.keras.layers.ReLU()(h)
    h = tf.keras.layers.MaxPool1D(2)(h)
    h = tf.keras.layers.Conv1D(6, 5, dilation_rate=2, activation="relu", name="conv2")(h)
    h = tf.keras.layers.GlobalMaxPool1D()(h)
    h = tf.keras.layers.Dense(4, activation="relu", name="dense1")(h)
    out = tf.keras.layers.Dense(1, activation="sigmoid", name="dense2")(h)
    model = tf.keras.Model(inp, out)
    bn = model.get_layer("bn1")
    rng = np.random.default_rng(SEED)
    gamma, beta, mean, var = bn.get_weights()
    bn.set_weights([rng.uniform(0.5, 1.5, 8), rng.uniform(-0.2, 0.2, 8), rng.uniform(-0.3, 0.3, 8), rng.uniform(0.5, 2, 8)])
    spec = (tf.TensorSpec((None, None, 4), tf.float32, name="x"),)
    tf2onnx.convert.from_keras(model, input_signature=spec, opset=13,
                               output_path=os.path.join(HERE, "keras_tf2onnx_nwc.onnx"))
    rows = [float(model(one_hot(s).T[None], training=False).numpy()[0, 0]) for _, s, _ in seqs]
    return {"keras_tf2onnx_nwc": rows}


def hand_model(seqs):
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(SEED + 1)
    w1 = rng.normal(0, 0.5, (6, 4, 5)).astype(np.float32)
    b1 = rng.normal(0, 0.1, 6).astype(np.float32)
    w2 = rng.normal(0, 0.3, (5, 6, 3)).astype(np.float32)
    b2 = rng.normal(0, 0.1, 5).astype(np.float32)
    bn = lambda c: [rng.uniform(0.5, 1.5, c).astype(np.float32), rng.uniform(-0.2, 0.2, c).astype(np.float32),
                    rng.uniform(-0.3, 0.3, c).astype(np.float32), rng.uniform(0.5, 2, c).astype(np.float32)]
    s1, s2 = bn(6), bn(5)
    fw = rng.normal(0, 0.5, (2, 5)).astype(np.float32)
    fb = rng.normal(0, 0.1, 2).astype(np.float32)
    inits = [numpy_helper.from_array(a, n) for a, n in [
        (w1, "w1"), (b1, "b1"), (w2, "w2"), (b2, "b2"), (fw, "fw"), (fb, "fb"),
        *[(a, f"bn1_{k}") for a, k in zip(s1, "sbmv")], *[(a, f"bn2_{k}") for a, k in zip(s2, "sbmv")]]]
    nodes = []
    prev = "x"
    for i, w in ((1, "w1"), (2, "w2")):
        nodes += [
            helper.make_node("Conv", [prev, w, f"b{i}"], [f"conv{i}"], name=f"conv{i}", kernel_shape=[w1.shape[2] if i == 1 else w2.shape[2]]),
            helper.make_node("BatchNormalization", [f"conv{i}", f"bn{i}_s", f"bn{i}_b", f"bn{i}_m", f"bn{i}_v"], [f"bn{i}"], name=f"bn{i}", epsilon=1e-5),
            helper.make_node("Relu", [f"bn{i}"], [f"relu{i}"], name=f"relu{i}"),
            helper.make_node("MaxPool", [f"relu{i}"], [f"pool{i}"], name=f"pool{i}", kernel_shape=[2], strides=[2]),
        ]
        prev = f"pool{i}"
    nodes += [
        helper.make_node("GlobalAveragePool", [prev], ["gap"], name="gap"),
        helper.make_node("Flatten", ["gap"], ["flat"], name="flatten"),
        helper.make_node("Gemm", ["flat", "fw", "fb"], ["y"], name="dense", transB=1),
    ]
    graph = helper.make_graph(nodes, "bn_two_block", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 4, "L"])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 2])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="make_fixtures.py")
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, os.path.join(HERE, "bn_two_block.onnx"))

    def conv(x, w, b):
        k = w.shape[2]
        out = np.stack([np.einsum("oc,cl->ol", w[:, :, j], x[:, j:x.shape[1] - k + 1 + j]) for j in range(k)]).sum(0)
        return out + b[:, None]

    def bnorm(x, p):
        s, b, m, v = p
        return (x - m[:, None]) / np.sqrt(v[:, None] + 1e-5) * s[:, None] + b[:, None]

    def pool(x):
        n = x.shape[1] // 2
        return x[:, : 2 * n].reshape(x.shape[0], n, 2).max(2)

    rows0, rows1 = [], []
    for _, s, _ in seqs:
        h = pool(np.maximum(bnorm(conv(one_hot(s).astype(np.float64), w1, b1), s1), 0))
        h = pool(np.maximum(bnorm(conv(h, w2, b2), s2), 0))
        y = fw @ h.mean(1) + fb
        rows0.append(float(y[0]))
        rows1.append(float(y[1]))
    return {"bn_two_block": rows0, "bn_two_block:1": rows1}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", choices=["torch", "keras", "hand"], action="append")
    args = ap.parse_args()
    only = set(args.only or ["torch", "keras", "hand"])
    seqs = fixture_seqs()
    write_seqs(seqs)
    path = os.path.join(HERE, "expected_outputs.tsv")
    table = {}
    if os.path.exists(path):
        with open(path) as f:
            header = f.readline().rstrip("\n").split("\t")
            cols = list(zip(*[line.rstrip("\n").split("\t") for line in f]))
            for name, col in zip(header[1:], cols[1:]):
                table[name] = [float(v) for v in col]
    if "torch" in only:
        table.update(torch_models(seqs))
    if "keras" in only:
        table.update(keras_model(seqs))
    if "hand" in only:
        table.update(hand_model(seqs))
    names = sorted(table)
    with open(path, "w") as f:
        f.write("id\t" + "\t".join(names) + "\n")
        for k, (i, _, _) in enumerate(seqs):
            f.write(i + "\t" + "\t".join(f"{table[n][k]:.7g}" for n in names) + "\n")
    print(f"wrote {len(names)} columns to {path}", file=sys.stderr)


if __name__ == "__main__":
    main()
