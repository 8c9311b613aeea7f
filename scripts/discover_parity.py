#!/usr/bin/env python3
"""Seqlet calling: motiftool's (motif_discover::seqlets) against modisco-lite's extract_seqlets on
the same attributions: thresholds, the Laplace null, and every seqlet with its sign.

Attributions are simulated: random one-hot sequences, Gaussian hypothetical scores, and a planted
motif (positive in some sequences, negative in others) so both metaclusters fill.

With --gkmer, also compares the gapped k-mer vectors of random seqlets (gapped_kmer._seqlet_to_gkmers,
both strands and signs), the cosine kNN over them (affinitymat.cosine_similarity_from_seqlets), the
fine affinities to those neighbours (jaccard_from_seqlets, to 1e-5: float32 position sums) and round one's Spearman filter (the gkmer
example). With --density, also compares density adaptation (tfmodisco._density_adaptation) on a random kNN table: the
same sparsity pattern, values to numpy's exp rounding. With --align, also compares the continuous-Jaccard alignment (affinitymat.jaccard) and l1 on random
tracks (the align example) and the per-position information content (util.compute_per_position_ic;
the ic example). With --h5, also writes a results file with motif_discover::modisco_h5 (the modisco_h5 example) and
runs modisco-lite's own `modisco meme` and `modisco report` on it.

Needs: pip install modisco-lite numpy; cargo build --release -p motif-discover --examples.
Usage: scripts/discover_parity.py [--n 2000] [--len 400] [--seed 1] [--gkmer] [--density] [--align] [--h5]
"""
import argparse
import os
import subprocess
import sys
import tempfile

import numpy as np


def simulate(n, length, seed):
    rng = np.random.default_rng(seed)
    x = np.zeros((n, 4, length), dtype=np.float32)
    x[np.arange(n)[:, None], rng.integers(0, 4, (n, length)), np.arange(length)[None, :]] = 1
    h = rng.normal(0, 0.02, (n, 4, length)).astype(np.float32)
    motif = rng.integers(0, 4, 12)
    for i in range(n):
        for _ in range(rng.integers(0, 3)):
            p = rng.integers(0, length - 12)
            sign = 1.0 if rng.random() < 0.7 else -1.0
            x[i, :, p:p + 12] = 0
            x[i, motif, np.arange(p, p + 12)] = 1
            h[i, motif, np.arange(p, p + 12)] += sign * rng.uniform(0.1, 0.3)
    return x, h


def density(a, work):
    """The density-adapted matrix: same entries, values within 1e-14 (numpy's vectorised exp and libm's
    may differ in the last bit)."""
    from modiscolite import tfmodisco
    rng = np.random.default_rng(a.seed)
    n, k = 300, 40
    nb = np.empty((n, k), dtype=np.int64)
    aff = np.empty((n, k), dtype=np.float32)
    for i in range(n):
        nb[i] = np.concatenate([[i], rng.choice(np.delete(np.arange(n), i), k - 1, replace=False)])
        aff[i] = np.concatenate([[1.0], np.sort(rng.uniform(0.05, 0.95, k - 1))[::-1]])
    np.save(os.path.join(work, "aff.npy"), aff)
    np.save(os.path.join(work, "nb.npy"), nb.astype(np.float32))
    m = tfmodisco._density_adaptation(aff, nb, 10).tocoo()
    out = subprocess.run([a.bin.replace("seqlets", "density"), os.path.join(work, "aff.npy"),
                          os.path.join(work, "nb.npy"), "10"], capture_output=True, text=True,
                         check=True).stdout.splitlines()
    ours = np.array([[float(v) for v in l.split("\t")] for l in out])
    order = np.lexsort((m.col, m.row))
    same = (len(ours) == m.nnz and np.array_equal(ours[:, 0], m.row[order])
            and np.array_equal(ours[:, 1], m.col[order]))
    rel = float(np.max(np.abs(ours[:, 2] - m.data[order]) / m.data[order])) if same else float("inf")
    print(f"density adaptation: {m.nnz} entries, same pattern: {'yes' if same else 'NO'}, "
          f"largest relative difference {rel:.2g} ({int((ours[:, 2] == m.data[order]).sum()) if same else 0} "
          "bit-identical)")
    return same and rel <= 1e-14


def gkmer(a, work):
    """Every seqlet's sparse gapped k-mer vector, both strands and signs: keys and values, bit for bit."""
    from modiscolite import affinitymat, core, gapped_kmer, tfmodisco
    rng = np.random.default_rng(a.seed)
    n, length = 60, 30
    x = np.zeros((n, length, 4), dtype=np.float32)
    x[np.arange(n)[:, None], np.arange(length)[None, :], rng.integers(0, 4, (n, length))] = 1
    h = rng.normal(0, 1, (n, length, 4)).astype(np.float32)
    np.save(os.path.join(work, "gx.npy"), x)
    np.save(os.path.join(work, "gh.npy"), h)
    seqlets = []
    for i in range(n):
        s = core.Seqlet(example_idx=i, start=0, end=length, is_revcomp=False)
        s.sequence, s.hypothetical_contribs, s.contrib_scores = x[i], h[i], x[i] * h[i]
        seqlets.append(s)
    bad = 0
    for sign in (1, -1):
        out = subprocess.run([a.bin.replace("seqlets", "gkmer"), os.path.join(work, "gx.npy"),
                              os.path.join(work, "gh.npy"), str(sign)], capture_output=True, text=True,
                             check=True).stdout.splitlines()
        for take_fwd, strand in ((True, "fwd"), (False, "rev")):
            m = gapped_kmer._seqlet_to_gkmers(seqlets, 20, 4, 6, 15, 15, 500, take_fwd, sign)
            ours = {int(l.split("\t")[1]): l.split("\t")[2] for l in out if l.startswith(strand)}
            for i in range(n):
                row = m.getrow(i)
                theirs = ",".join(f"{int(k)}:{float(v)!r}" for k, v in zip(row.indices, row.data))
                mine = ",".join(f"{e.split(':')[0]}:{float(e.split(':')[1])!r}"
                                for e in ours[i].split(",")) if ours[i] else ""
                bad += mine != theirs
        if sign == 1:
            sims, nbrs = affinitymat.cosine_similarity_from_seqlets(seqlets, n_neighbors=500, sign=1)
            for l in out:
                if l.startswith("knn"):
                    _, i, e = l.split("\t")
                    pairs = [p.split(":") for p in e.split(",")]
                    bad_knn = not (np.array_equal([int(j) for j, _ in pairs], nbrs[int(i)]) and
                                   np.array_equal([float(v) for _, v in pairs], sims[int(i)]))
                    bad += bad_knn
            fine = affinitymat.jaccard_from_seqlets(seqlets, min_overlap=0.7, seqlet_neighbors=nbrs)
            kept = [q.example_idx for q in tfmodisco._filter_by_correlation(seqlets, nbrs, sims, fine, 0.15)[0]]
            worst = 0.0
            for l in out:
                if l.startswith("fine"):
                    _, i, e = l.split("\t")
                    d = np.abs(np.array([float(v) for v in e.split(",")], dtype=np.float64) -
                               fine[int(i)].astype(np.float64)).max()
                    worst = max(worst, float(d))
                    # Within the spec's 1e-5: position sums in float32 before float64.
                    bad += d > 1e-5
                if l.startswith("kept"):
                    bad += [int(v) for v in l.split("\t")[1].split(",") if v] != kept
            print(f"fine affinities: largest difference {worst:.2e} (tolerance 1e-5)")
    print(f"gapped k-mers: {4 * n} vectors (500 entries each), the kNN, fine affinities and filter of {n} seqlets; "
          f"{bad} differ from modisco-lite")
    return bad == 0


def align(a, work):
    """Every child against every parent: ours and modisco's score and offset, bit for bit."""
    from modiscolite import affinitymat, util
    rng = np.random.default_rng(a.seed)
    X = (rng.normal(0, 1, (40, 30, 8)) * (rng.random((40, 30, 8)) < 0.6)).astype(np.float32)
    Y = (rng.normal(0, 1, (20, 50, 8)) * (rng.random((20, 50, 8)) < 0.6)).astype(np.float32)
    X[0] = 0
    np.save(os.path.join(work, "x.npy"), X)
    np.save(os.path.join(work, "y.npy"), Y)
    pad = int(30 * (1 - 0.7))
    r = affinitymat.jaccard(X, Y, min_overlap=0.7, func=int)
    out = subprocess.run([a.bin.replace("seqlets", "align"), os.path.join(work, "x.npy"),
                          os.path.join(work, "y.npy"), str(pad)], capture_output=True, text=True,
                         check=True).stdout.splitlines()
    bad = n = 0
    for line in out:
        f = line.split("\t")
        if f[0] == "l1":
            ours = np.array([float(v) for v in f[2].split(",")], dtype=np.float32)
            bad += not np.array_equal(ours, util.l1(X[int(f[1])]).ravel())
            continue
        l, i, s, o = int(f[0]), int(f[1]), np.float32(float(f[2])), int(f[3])
        n += 1
        bad += not (s == np.float32(r[l, i, 0]) and o == int(r[l, i, 1]))
    ppm = rng.dirichlet([0.5] * 4, size=50).astype(np.float32)
    np.save(os.path.join(work, "ppm.npy"), ppm)
    ic = [float(v) for v in subprocess.run([a.bin.replace("seqlets", "ic"), os.path.join(work, "ppm.npy")],
                                             capture_output=True, text=True, check=True).stdout.split()]
    bad_ic = int((np.array(ic) != util.compute_per_position_ic(ppm.astype(np.float64), np.full(4, 0.25),
                                                                  0.001)).sum())
    print(f"alignment: {n} child-parent pairs and {len(X)} l1 rows; {bad} differ from modisco-lite; "
          f"information content of {len(ppm)} PPM rows: {bad_ic} differ")
    return bad == 0 and bad_ic == 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--len", type=int, default=400)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--bin", default="target/release/examples/seqlets")
    ap.add_argument("--h5", action="store_true")
    ap.add_argument("--align", action="store_true")
    ap.add_argument("--gkmer", action="store_true")
    ap.add_argument("--density", action="store_true")
    a = ap.parse_args()
    from modiscolite import extract_seqlets

    work = tempfile.mkdtemp(prefix="discover-parity-")
    x, h = simulate(a.n, a.len, a.seed)
    np.savez(os.path.join(work, "ohe.npz"), x)
    np.savez(os.path.join(work, "shap.npz"), h)
    # modisco's frame: (N, L, 4) float32, the contributions one-hot × hypothetical.
    onehot = x.transpose(0, 2, 1).copy()
    contrib = onehot * h.transpose(0, 2, 1)
    seqlets, threshold = extract_seqlets.extract_seqlets(
        attribution_scores=contrib.sum(axis=2), window_size=20, flank=5, suppress=15, target_fdr=0.05,
        min_passing_windows_frac=0.03, max_passing_windows_frac=0.2, weak_threshold_for_counting_sign=0.8)
    theirs = []
    for s in seqlets:
        attr = np.sum(contrib[s.example_idx, s.start:s.end][5:-5])
        sign = "+" if attr > threshold else "-" if attr < -threshold else None
        if sign:
            theirs.append((sign, s.example_idx, s.start, s.end))
    out = subprocess.run([a.bin, os.path.join(work, "ohe.npz"), os.path.join(work, "shap.npz"), str(a.len)],
                         capture_output=True, text=True, check=True).stdout.splitlines()
    info = {l.split("\t")[0]: l.split("\t")[1:] for l in out if not l[0] in "+-"}
    ours = [(l.split("\t")[0], *map(int, l.split("\t")[1:])) for l in out if l[0] in "+-"]
    # Ours lists positives then negatives, each in extraction order; theirs interleaves.
    key = lambda t: (t[1], t[2], t[0])
    same = sorted(ours, key=key) == sorted(theirs, key=key)
    print(f"{a.n} sequences x {a.len} bp; work dir {work}")
    print(f"sign threshold: ours {float(info['sign_threshold'][0])!r} modisco {float(threshold)!r}")
    print(f"seqlets: ours {len(ours)} ({sum(t[0] == '+' for t in ours)} +), modisco {len(theirs)} "
          f"({sum(t[0] == '+' for t in theirs)} +); identical: {'yes' if same else 'NO'}")
    if not same:
        a_, b_ = set(ours), set(theirs)
        print("only ours:", sorted(a_ - b_, key=key)[:10])
        print("only modisco:", sorted(b_ - a_, key=key)[:10])
    ok = same and float(info['sign_threshold'][0]) == float(threshold)
    if a.align:
        ok &= align(a, work)
    if a.gkmer:
        ok &= gkmer(a, work)
    if a.density:
        ok &= density(a, work)
    if a.h5:
        h5 = os.path.join(work, "modisco.h5")
        subprocess.run([a.bin.replace("seqlets", "modisco_h5"), h5], check=True)
        bindir = os.path.dirname(sys.executable)
        for cmd in (["meme", "-i", h5, "-t", "PFM", "-o", os.path.join(work, "m.meme")],
                    ["report", "-i", h5, "-o", os.path.join(work, "report"), "-s", os.path.join(work, "report")]):
            r = subprocess.run([os.path.join(bindir, "modisco"), *cmd], capture_output=True, text=True)
            print(f"modisco {cmd[0]} on our results file: {'read' if r.returncode == 0 else 'FAILED ' + r.stderr[-300:]}")
            ok &= r.returncode == 0
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
