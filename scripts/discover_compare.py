#!/usr/bin/env python3
"""Discovery end to end: motiftool's patterns (motif_discover::pipeline, the `discover` example)
against modisco-lite's `modisco motifs` on the same attributions.

Attributions are simulated unless --ohe/--shap are given: random sequences with instances of JASPAR
motifs planted ≥ 31 bp apart on either strand (some with negative contributions), hypothetical
contributions = the motif's (PPM − ¼) where planted plus Gaussian noise everywhere.

For each metacluster the script lists both tools' patterns (seqlet counts) and matches them both ways
with motiftool's tomtom (`motiftool match`, Pearson, min overlap 5, trimmed PPMs as modisco's report
trims them): every modisco pattern with ≥ 100 seqlets needs a motiftool pattern at q < 0.05, and
the reverse. Also prints wall time and peak memory of both runs, and runs modisco-lite's own
`modisco meme` and `modisco report` on motiftool's results file.

Needs: pip install modisco-lite numpy; cargo build --release -p motif-discover --examples and
cargo build --release (motiftool).
Usage: scripts/discover_compare.py [--n 2000] [--len 400] [--seed 1] [--runs 2] [--ohe X --shap H]
"""
import argparse
import os
import subprocess
import sys
import tempfile

import numpy as np

JASPAR = os.path.join(os.path.dirname(__file__), "..", "data", "motifs", "JASPAR2024_CORE_vertebrates_nonredundant.meme")


def read_meme(path, ids):
    out, name, rows = {}, None, None
    for line in open(path):
        f = line.split()
        if line.startswith("MOTIF"):
            name, rows = f[1], []
            continue
        if name and rows is not None and f and all(c.replace(".", "").replace("e-", "").isdigit() for c in f) \
                and len(f) == 4:
            rows.append([float(v) for v in f])
            out[name] = np.array(rows)
    return {k: out[k] for k in ids}


def simulate(n, length, seed, motifs):
    rng = np.random.default_rng(seed)
    x = np.zeros((n, 4, length), dtype=np.float32)
    x[np.arange(n)[:, None], rng.integers(0, 4, (n, length)), np.arange(length)[None, :]] = 1
    h = rng.normal(0, 0.01, (n, 4, length)).astype(np.float32)
    names = list(motifs)
    truth = []
    for i in range(n):
        taken = []
        for _ in range(rng.integers(0, 4)):
            m = names[rng.integers(0, len(names))]
            ppm = motifs[m]
            w = len(ppm)
            p = int(rng.integers(20, length - w - 20))
            if any(abs(p - q) < 31 for q in taken):
                continue
            taken.append(p)
            rc = rng.random() < 0.5
            sign = -1.0 if m == names[-1] else 1.0
            cols = ppm[::-1, ::-1] if rc else ppm
            for k in range(w):
                b = rng.choice(4, p=cols[k] / cols[k].sum())
                x[i, :, p + k] = 0
                x[i, b, p + k] = 1
                h[i, :, p + k] += sign * (cols[k] - 0.25).astype(np.float32) * 0.5
            truth.append((i, p, p + w, m, "-" if rc else "+"))
    return x, h, truth


def trimmed_meme(h5, path, group):
    """Trimmed PPMs (0.3 × max |CWM| rule) of a results file's group, as MEME."""
    import h5py
    names = []
    with h5py.File(h5, "r") as f, open(path, "w") as out:
        out.write("MEME version 4\n\nALPHABET= ACGT\n\nstrands: + -\n\nBackground letter frequencies\n"
                  "A 0.25 C 0.25 G 0.25 T 0.25\n\n")
        if group not in f:
            return names
        for k in sorted(f[group], key=lambda s: int(s.split("_")[1])):
            p = f[group][k]
            cwm, ppm = p["contrib_scores"][:], p["sequence"][:]
            score = np.abs(cwm).sum(axis=1)
            keep = np.where(score >= 0.3 * score.max())[0]
            ppm = ppm[keep[0]:keep[-1] + 1]
            ppm = ppm / ppm.sum(axis=1, keepdims=True)
            n = int(p["seqlets"]["n_seqlets"][0])
            names.append((k, n))
            out.write(f"MOTIF {k} n{n}\nletter-probability matrix: alength= 4 w= {len(ppm)} nsites= 1 E= 0\n")
            for row in ppm:
                out.write(" ".join(f"{v:.6f}" for v in row) + "\n")
            out.write("\n")
    return names


def matches(motiftool, query, db):
    r = subprocess.run([motiftool, "match", query, "--db", db, "--dist", "pearson", "--min-overlap", "5",
                        "--thresh", "1"], capture_output=True, text=True)
    best = {}
    for line in r.stdout.splitlines():
        f = line.split("\t")
        if len(f) < 6 or f[0].startswith("#") or f[0] == "Query_ID" or f[0] == "query":
            continue
        try:
            q = float(f[5])
        except ValueError:
            continue
        if f[0] not in best or q < best[f[0]][1]:
            best[f[0]] = (f[1], q)
    return best


def timed(cmd, **kw):
    r = subprocess.run(["/usr/bin/time", "-f", "TIME %e %M", *cmd], capture_output=True, text=True, **kw)
    if r.returncode != 0:
        sys.exit(f"{cmd[0]} failed: {r.stderr[-2000:]}")
    line = [l for l in r.stderr.splitlines() if l.startswith("TIME ")][-1].split()
    return float(line[1]), int(line[2]) / 1024, r


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--len", type=int, default=400)
    ap.add_argument("--window", type=int, default=400)
    ap.add_argument("--max-seqlets", type=int, default=20000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--runs", type=int, default=2)
    ap.add_argument("--ohe")
    ap.add_argument("--shap")
    ap.add_argument("--work")
    ap.add_argument("--bin", default="target/release/examples/discover")
    ap.add_argument("--motiftool", default="target/release/motiftool")
    a = ap.parse_args()
    work = a.work or tempfile.mkdtemp(prefix="discover-compare-")
    os.makedirs(work, exist_ok=True)
    if a.ohe:
        ohe, shap = a.ohe, a.shap
    else:
        motifs = read_meme(JASPAR, ["MA0139.2", "MA0035.5", "MA0083.3", "MA0106.3"])
        x, h, _ = simulate(a.n, a.len, a.seed, motifs)
        ohe, shap = os.path.join(work, "ohe.npz"), os.path.join(work, "shap.npz")
        np.savez(ohe, x)
        np.savez(shap, h)
    modisco = os.path.join(os.path.dirname(sys.executable), "modisco")
    theirs_h5, ours_h5 = os.path.join(work, "modisco.h5"), os.path.join(work, "motiftool.h5")
    t_m, m_m, _ = timed([modisco, "motifs", "-s", ohe, "-a", shap, "-n", str(a.max_seqlets), "-w", str(a.window),
                         "-l", str(a.runs), "-o", theirs_h5])
    t_o, m_o, r = timed([a.bin, ohe, shap, str(a.window), str(a.max_seqlets), str(a.runs), ours_h5])
    print(f"work dir {work}")
    print(f"modisco-lite: {t_m:.1f} s, {m_m:.0f} MB peak; motiftool: {t_o:.1f} s, {m_o:.0f} MB peak "
          f"({t_m / t_o:.1f}x faster, {m_m / m_o:.1f}x less memory)")
    ok = True
    for group in ("pos_patterns", "neg_patterns"):
        tq, oq = os.path.join(work, f"theirs.{group}.meme"), os.path.join(work, f"ours.{group}.meme")
        tn, on = trimmed_meme(theirs_h5, tq, group), trimmed_meme(ours_h5, oq, group)
        print(f"\n{group}: modisco-lite {len(tn)} patterns {[n for _, n in tn]}, motiftool {len(on)} "
              f"{[n for _, n in on]}")
        if not tn or not on:
            ok &= not [n for _, n in tn if n >= 100] and not [n for _, n in on if n >= 100]
            continue
        fwd, back = matches(a.motiftool, tq, oq), matches(a.motiftool, oq, tq)
        print("| modisco-lite pattern | seqlets | best motiftool match | q |")
        print("|---|---|---|---|")
        for k, n in tn:
            m = fwd.get(k)
            print(f"| {k} | {n} | {m[0] if m else '-'} | {m[1]:.2e} |" if m else f"| {k} | {n} | - | - |")
            ok &= n < 100 or (m is not None and m[1] < 0.05)
        print("| motiftool pattern | seqlets | best modisco-lite match | q |")
        print("|---|---|---|---|")
        for k, n in on:
            m = back.get(k)
            print(f"| {k} | {n} | {m[0] if m else '-'} | {m[1]:.2e} |" if m else f"| {k} | {n} | - | - |")
            ok &= n < 100 or (m is not None and m[1] < 0.05)
    print("\ncorrespondence:", "yes" if ok else "NO")
    # modisco-lite's own tools read motiftool's results file.
    for cmd in (["meme", "-i", ours_h5, "-t", "CWM", "-o", os.path.join(work, "ours.cwm.meme")],
                ["report", "-i", ours_h5, "-o", os.path.join(work, "report"), "-s", os.path.join(work, "report")]):
        r = subprocess.run([os.path.join(os.path.dirname(sys.executable), "modisco"), *cmd], capture_output=True,
                           text=True)
        print(f"modisco {cmd[0]} on motiftool's results file: {'read' if r.returncode == 0 else 'FAILED ' + r.stderr[-300:]}")
        ok &= r.returncode == 0
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
