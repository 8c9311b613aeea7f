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

Model families in families/ (one fixture each, mirroring export shapes that published DNA models have).
Each writes <name>.onnx, its own sequences <name>.seqs.fa (8 random uppercase ACGT
sequences of the fixture's input length, `>id label` with labels 0/1 alternating; the
dynamic-length models get 2 more of a second length) and <name>.expected.tsv
(`id<TAB>out0<TAB>out1...`, one column per output element, flattened row-major, %.7g),
computed by the framework itself (PyTorch eval() under no_grad, Keras model(x, training=False)),
one sequence at a time. The script also runs each export with onnxruntime and checks it
against the framework to 1e-4 (max abs difference printed). Weights are seeded random,
biases non-zero, BatchNorm gamma/beta/running statistics non-trivial.
  torch_pad_pool_multitask.onnx  PyTorch legacy exporter (TorchScript, dynamo=False), opset 17, NCW
                            input x (N, 4, L), N and L dynamic; output y (N, 12). Conv1d(4,8,19)
                            → BatchNorm1d → ReLU → F.pad(h, (left, right)) with TF-"same" pads for
                            the pool computed from L' = h.shape[-1] at run time (total =
                            ((L'+1)//2 - 1)*2 + 50 - L', left = total//2, right = total - left:
                            24/24 for even L', 24/25 for odd), so the Pad's pads input is
                            Shape → Gather → arithmetic → Concat, not an initializer →
                            MaxPool1d(50, stride 2) (overlapping) → Conv1d(8,8,5) → ReLU
                            → global max → Linear(8,12) → Sigmoid (12 tasks).
                            Sequences: 8 of 200 bp, 2 of 151 bp.
  keras_softmax_flatten.onnx     Keras through tf2onnx, opset 13, NWC input x (N, 200, 4), fixed length;
                            Conv1D(8,11,valid) → MaxPool1D(4,4) → Conv1D(8,5,valid) → Flatten
                            → Dense(16, relu) → Dense(2, softmax). Sequences: 8 of 200 bp.
  keras_avgpool_multitask.onnx   Keras through tf2onnx, opset 13, NWC input x (N, 220, 4), fixed length;
                            Conv1D(8,9,relu) → Conv1D(8,5,relu) → AveragePooling1D(180, strides 1)
                            → Flatten → Dense(8, relu) → Dense(3, sigmoid). Sequences: 8 of 220 bp.
  torch_bpnet.onnx          PyTorch legacy exporter (dynamo=False), opset 17, NCW input x (N, 4, L),
                            N and L dynamic; BPNet-style: Conv1d(4,8,21,pad 10) → ReLU, 9 residual
                            blocks x = x + ReLU(Conv1d(8,8,3,dilation d,pad d)(x)) for d = 2..512,
                            profile head Conv1d(8,2,75,pad 37) cropped to the central 200 positions
                            with trim = (h.shape[-1] - 200)//2 computed at run time (Shape/Gather/
                            arithmetic → Slice), count head mean over length → Linear(8,2).
                            Outputs profile (N, 2, 200) and counts (N, 2). Sequences: 8 of 300 bp
                            (narrower than the last blocks' padding of 512), 2 of 260 bp.
                            <name>.expected.tsv holds counts; profile (400 columns, channel-major)
                            is in torch_bpnet.profile.tsv.
  keras_neuronmotif5.onnx   Keras through tf2onnx, opset 13, NWC input x (N, 132, 4), fixed length;
                            NeuronMotif-style: 5 blocks of Conv1D(8, w, valid) → BatchNormalization
                            → ReLU → MaxPool1D(2) with w = 7,3,3,3,3 (length 132 → 63 → 30 → 14 → 6
                            → 2), then Flatten → Dense(1, sigmoid). Sequences: 8 of 132 bp.
  torch_twin_strands.onnx   PyTorch legacy exporter (dynamo=False), opset 17, NCW input x (N, 4, L), N and L
                            dynamic; DeepBind-style on both strands with tied weights: two Strand modules
                            with equal weights (the exporter stores them once and reads them through
                            Identity nodes), each F.pad(x, 10, value 0.25) → Conv1d(4,16,11) → ReLU →
                            global max (amax) → Linear(16,8) → ReLU → Linear(8,1); the reverse strand
                            is torch.flip(x, (1, 2)); output sigmoid(torch.maximum(fwd, rev)).
                            Sequences: 8 of 101 bp.
Run alone with --only twin_strands|pad_pool|softmax_flatten|avgpool|bpnet|neuronmotif (or the groups
torch_families / keras_families); these choices leave fixture_seqs.fa and expected_outputs.tsv
alone. The family fixtures were made with (pip, PyPI) in two virtual environments:
  torch venv: torch 2.15.0 (run on CPU), onnx 1.23.2, onnxscript 0.7.2, onnxruntime 1.32.0, numpy 2.4.6
  keras venv: tensorflow-cpu 2.15.1 (keras 2.15.0), tf2onnx 1.16.1, onnx 1.17.0, onnxruntime 1.26.0,
              numpy 1.26.4, protobuf 3.20.3
  e.g. python make_fixtures.py --only torch_families   (torch venv)
       TF_CPP_MIN_LOG_LEVEL=2 python make_fixtures.py --only keras_families   (keras venv)
"""
import argparse
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
# The model families real users export (one folder, so tests over data/models/*.onnx
# take them in when each command supports them).
FAMILY_DIR = os.path.join(HERE, "families")
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


# ---------------------------------------------------------------------------------------
# Model families: each fixture has its own sequences and expected outputs.

def family_seqs(seed, length, second_length=None):
    """8 uppercase ACGT sequences of `length` (+2 of `second_length`), labels 0/1 alternating."""
    rng = np.random.default_rng(seed)
    lengths = [length] * 8 + ([second_length] * 2 if second_length else [])
    return [(f"s{i}", "".join(rng.choice(list("ACGT"), size=n)), i % 2) for i, n in enumerate(lengths)]


def write_family(name, seqs, outputs, extra=None):
    """outputs: one flat float vector per sequence → <name>.expected.tsv; extra: {suffix: rows}."""
    with open(os.path.join(FAMILY_DIR, f"{name}.seqs.fa"), "w") as f:
        for i, s, y in seqs:
            f.write(f">{i} {y}\n{s}\n")
    for suffix, rows in [("expected", outputs), *sorted((extra or {}).items())]:
        width = len(rows[0])
        assert all(len(r) == width for r in rows)
        with open(os.path.join(FAMILY_DIR, f"{name}.{suffix}.tsv"), "w") as f:
            f.write("id\t" + "\t".join(f"out{k}" for k in range(width)) + "\n")
            for (i, _, _), r in zip(seqs, rows):
                f.write(i + "\t" + "\t".join(f"{float(v):.7g}" for v in r) + "\n")


def check_ort(name, seqs, framework, layout):
    """Runs <name>.onnx with onnxruntime one sequence at a time; framework: per-output lists of
    arrays (one per sequence, with the batch axis). Returns the max abs difference."""
    import onnxruntime as ort

    sess = ort.InferenceSession(os.path.join(FAMILY_DIR, f"{name}.onnx"), providers=["CPUExecutionProvider"])
    iname = sess.get_inputs()[0].name
    worst = 0.0
    for k, (_, s, _) in enumerate(seqs):
        x = one_hot(s)[None]
        if layout == "NWC":
            x = np.ascontiguousarray(x.transpose(0, 2, 1))
        got = sess.run(None, {iname: x})
        for g, want in zip(got, framework):
            assert g.shape == want[k].shape, (name, g.shape, want[k].shape)
            worst = max(worst, float(np.abs(g - want[k]).max()))
    print(f"{name}: onnxruntime vs framework max abs diff {worst:.3g}", file=sys.stderr)
    assert worst < 1e-4, (name, worst)
    return worst


def randomize_keras(model, rng, dense_gain):
    """Seeded weights for every layer: scaled normal kernels, non-zero biases, non-trivial BN."""
    import tensorflow as tf

    for layer in model.layers:
        ws = layer.get_weights()
        if not ws:
            continue
        if isinstance(layer, tf.keras.layers.BatchNormalization):
            c = ws[0].shape[0]
            layer.set_weights([rng.uniform(0.5, 1.5, c), rng.uniform(-0.2, 0.2, c),
                               rng.uniform(-0.3, 0.3, c), rng.uniform(0.5, 2.0, c)])
            continue
        kernel, bias = ws
        fan_in = int(np.prod(kernel.shape[:-1]))
        gain = dense_gain if isinstance(layer, tf.keras.layers.Dense) else 1.2
        layer.set_weights([rng.normal(0, gain / np.sqrt(fan_in), kernel.shape).astype(np.float32),
                           rng.normal(0, 0.1, bias.shape).astype(np.float32)])


def keras_family(name, model, seqs, rng, dense_gain=1.2):
    import tensorflow as tf
    import tf2onnx

    randomize_keras(model, rng, dense_gain)
    length = model.input_shape[1]
    spec = (tf.TensorSpec((None, length, 4), tf.float32, name="x"),)
    tf2onnx.convert.from_keras(model, input_signature=spec, opset=13, output_path=os.path.join(FAMILY_DIR, f"{name}.onnx"))
    outs = [model(one_hot(s).T[None], training=False).numpy() for _, s, _ in seqs]
    check_ort(name, seqs, [outs], "NWC")
    write_family(name, seqs, [o.reshape(-1) for o in outs])


def keras_softmax_flatten():
    import tensorflow as tf

    L = tf.keras.layers
    tf.random.set_seed(SEED)
    inp = tf.keras.Input(shape=(200, 4), name="x")
    h = L.Conv1D(8, 11, padding="valid", name="conv1")(inp)
    h = L.MaxPool1D(pool_size=4, strides=4, name="pool1")(h)
    h = L.Conv1D(8, 5, padding="valid", name="conv2")(h)
    h = L.Flatten(name="flatten")(h)
    h = L.Dense(16, activation="relu", name="dense1")(h)
    out = L.Dense(2, activation="softmax", name="dense2")(h)
    keras_family("keras_softmax_flatten", tf.keras.Model(inp, out), family_seqs(SEED * 100 + 2, 200),
                 np.random.default_rng(SEED * 100 + 2))


def keras_avgpool_multitask():
    import tensorflow as tf

    L = tf.keras.layers
    tf.random.set_seed(SEED)
    inp = tf.keras.Input(shape=(220, 4), name="x")
    h = L.Conv1D(8, 9, activation="relu", name="conv1")(inp)
    h = L.Conv1D(8, 5, activation="relu", name="conv2")(h)
    h = L.AveragePooling1D(pool_size=180, strides=1, name="avgpool")(h)
    h = L.Flatten(name="flatten")(h)
    h = L.Dense(8, activation="relu", name="dense1")(h)
    out = L.Dense(3, activation="sigmoid", name="dense2")(h)
    keras_family("keras_avgpool_multitask", tf.keras.Model(inp, out), family_seqs(SEED * 100 + 3, 220),
                 np.random.default_rng(SEED * 100 + 3), dense_gain=3.0)  # spread the outputs across sequences


def keras_neuronmotif5():
    import tensorflow as tf

    L = tf.keras.layers
    tf.random.set_seed(SEED)
    inp = tf.keras.Input(shape=(132, 4), name="x")
    h = inp
    for b, w in enumerate([7, 3, 3, 3, 3], start=1):
        h = L.Conv1D(8, w, padding="valid", name=f"conv{b}")(h)
        h = L.BatchNormalization(name=f"bn{b}")(h)
        h = L.ReLU(name=f"relu{b}")(h)
        h = L.MaxPool1D(2, name=f"pool{b}")(h)
    assert h.shape[1] == 2, h.shape
    h = L.Flatten(name="flatten")(h)
    out = L.Dense(1, activation="sigmoid", name="dense")(h)
    keras_family("keras_neuronmotif5", tf.keras.Model(inp, out), family_seqs(SEED * 100 + 5, 132),
                 np.random.default_rng(SEED * 100 + 5), dense_gain=3.0)


def torch_family(name, model, seqs, output_names, dynamic_axes):
    import torch

    x = torch.from_numpy(np.stack([one_hot(s) for _, s, _ in seqs[:8]]))
    torch.onnx.export(model, (x,), os.path.join(FAMILY_DIR, f"{name}.onnx"), dynamo=False, opset_version=17,
                      input_names=["x"], output_names=output_names, dynamic_axes=dynamic_axes)
    outs = []
    with torch.no_grad():
        for _, s, _ in seqs:
            y = model(torch.from_numpy(one_hot(s)[None]))
            outs.append([t.numpy() for t in (y if isinstance(y, tuple) else (y,))])
    framework = [[o[j] for o in outs] for j in range(len(output_names))]
    check_ort(name, seqs, framework, "NCW")
    return framework


def torch_pad_pool_multitask():
    import torch
    import torch.nn.functional as F
    from torch import nn

    torch.manual_seed(SEED * 100 + 1)

    class PadPoolMultitask(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv1d(4, 8, 19)
            self.bn1 = nn.BatchNorm1d(8)
            self.pool = nn.MaxPool1d(50, stride=2)
            self.conv2 = nn.Conv1d(8, 8, 5)
            self.fc = nn.Linear(8, 12)

        def forward(self, x):
            h = torch.relu(self.bn1(self.conv1(x)))
            # TF-"same" padding for the pool, from the run-time length (as ported Keras models do)
            n = h.shape[-1]
            total = ((n + 1) // 2 - 1) * 2 + 50 - n
            left = total // 2
            h = self.pool(F.pad(h, (left, total - left)))
            h = torch.relu(self.conv2(h))
            return torch.sigmoid(self.fc(torch.amax(h, dim=2)))

    m = PadPoolMultitask()
    with torch.no_grad():
        m.bn1.running_mean.uniform_(-0.5, 0.5)
        m.bn1.running_var.uniform_(0.5, 2.0)
        m.bn1.weight.uniform_(0.5, 1.5)
        m.bn1.bias.uniform_(-0.2, 0.2)
    m.eval()
    seqs = family_seqs(SEED * 100 + 1, 200, 151)
    (y,) = torch_family("torch_pad_pool_multitask", m, seqs, ["y"], {"x": {0: "N", 2: "L"}, "y": {0: "N"}})
    write_family("torch_pad_pool_multitask", seqs, [o.reshape(-1) for o in y])


def torch_bpnet():
    import torch
    from torch import nn

    torch.manual_seed(SEED * 100 + 4)
    out_len = 200

    class BPNetLike(nn.Module):
        def __init__(self):
            super().__init__()
            self.iconv = nn.Conv1d(4, 8, 21, padding=10)
            self.rconvs = nn.ModuleList([nn.Conv1d(8, 8, 3, dilation=2 ** i, padding=2 ** i) for i in range(1, 10)])
            self.fconv = nn.Conv1d(8, 2, 75, padding=37)
            self.linear = nn.Linear(8, 2)

        def forward(self, x):
            h = torch.relu(self.iconv(x))
            for conv in self.rconvs:
                h = h + torch.relu(conv(h))
            p = self.fconv(h)
            trim = (p.shape[-1] - out_len) // 2
            profile = p[:, :, trim:trim + out_len]
            counts = self.linear(torch.mean(h, dim=2))
            return profile, counts

    m = BPNetLike().eval()
    seqs = family_seqs(SEED * 100 + 4, 300, 260)
    profile, counts = torch_family("torch_bpnet", m, seqs, ["profile", "counts"],
                                   {"x": {0: "N", 2: "L"}, "profile": {0: "N"}, "counts": {0: "N"}})
    write_family("torch_bpnet", seqs, [c.reshape(-1) for c in counts],
                 extra={"profile": [p.reshape(-1) for p in profile]})


def torch_twin_strands():
    import torch
    import torch.nn.functional as F
    from torch import nn

    torch.manual_seed(SEED * 100 + 6)

    class Strand(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv1d(4, 16, 11)
            self.fc1 = nn.Linear(16, 8)
            self.fc2 = nn.Linear(8, 1)

        def forward(self, x):
            h = torch.relu(self.conv(F.pad(x, (10, 10), value=0.25)))
            return self.fc2(torch.relu(self.fc1(torch.amax(h, dim=2))))

    class TwinStrands(nn.Module):
        def __init__(self):
            super().__init__()
            self.fwd, self.rev = Strand(), Strand()
            self.rev.load_state_dict(self.fwd.state_dict())

        def forward(self, x):
            rc = torch.flip(x, (1, 2))
            return torch.sigmoid(torch.maximum(self.fwd(x), self.rev(rc)))

    m = TwinStrands().eval()
    seqs = family_seqs(SEED * 100 + 6, 101)
    (y,) = torch_family("torch_twin_strands", m, seqs, ["y"], {"x": {0: "N", 2: "L"}, "y": {0: "N"}})
    write_family("torch_twin_strands", seqs, [o.reshape(-1) for o in y])


FAMILIES = {
    "twin_strands": ("torch_families", torch_twin_strands),
    "pad_pool": ("torch_families", torch_pad_pool_multitask),
    "softmax_flatten": ("keras_families", keras_softmax_flatten),
    "avgpool": ("keras_families", keras_avgpool_multitask),
    "bpnet": ("torch_families", torch_bpnet),
    "neuronmotif": ("keras_families", keras_neuronmotif5),
}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    groups = sorted({g for g, _ in FAMILIES.values()})
    ap.add_argument("--only", choices=["torch", "keras", "hand", *FAMILIES, *groups], action="append")
    args = ap.parse_args()
    os.makedirs(FAMILY_DIR, exist_ok=True)
    only = set(args.only or ["torch", "keras", "hand", *FAMILIES])
    for fam, (group, make) in FAMILIES.items():
        if fam in only or group in only:
            make()
    if not only & {"torch", "keras", "hand"}:
        return
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
