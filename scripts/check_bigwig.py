#!/usr/bin/env python3
"""Reads an `attribute --bed ... --projected` run's contributions.bw with pyBigWig (UCSC's
format through libBigWig, independent of motiftool's reader) and checks every base against
projected.npz laid out as ChromBPNet's importance_hdf5_to_bigwig does: window i covers
[centre - W/2, centre + W/2) around its narrowPeak summit (column 10) or its middle,
minus-strand windows reversed, and where neighbours overlap the boundary is the midpoint of
their centres. Prints the bases checked and the largest difference; exit 1 on any mismatch.

Needs: pip install pyBigWig numpy.
Usage: scripts/check_bigwig.py RUN_DIR PEAKS.bed WIDTH
"""
import sys

import numpy as np
import pyBigWig


def main():
    run, bed, width = sys.argv[1], sys.argv[2], int(sys.argv[3])
    proj = np.load(f"{run}/projected.npz")["arr_0"].sum(axis=1)  # (N, L)
    loci = []
    for line in open(bed):
        f = line.rstrip("\n").split("\t")
        start, end = int(f[1]), int(f[2])
        summit = int(f[9]) if len(f) > 9 and int(f[9]) >= 0 else None
        centre = start + summit if summit is not None else (start + end) // 2
        lo = centre - width // 2
        loci.append((f[0], lo, lo + width, len(f) > 5 and f[5] == "-"))
    bw = pyBigWig.open(f"{run}/contributions.bw")
    chroms = list(bw.chroms().keys())
    order = sorted(range(len(loci)), key=lambda i: (chroms.index(loci[i][0]), loci[i][1]))
    checked, worst = 0, 0.0
    for k, i in enumerate(order):
        c, s, e, minus = loci[i]
        vals = proj[i][::-1] if minus else proj[i]
        mid = lambda l: (l[1] + l[2]) // 2
        lo, hi = s, e
        if k > 0 and loci[order[k - 1]][0] == c and loci[order[k - 1]][2] > s:
            lo = max(lo, (mid(loci[order[k - 1]]) + mid(loci[i])) // 2)
        if k + 1 < len(order) and loci[order[k + 1]][0] == c and loci[order[k + 1]][1] < e:
            hi = min(hi, (mid(loci[i]) + mid(loci[order[k + 1]])) // 2)
        got = np.array(bw.values(c, lo, hi), dtype=np.float64)
        want = vals[lo - s:hi - s].astype(np.float64)
        worst = max(worst, float(np.nanmax(np.abs(got - want))) if len(got) else 0.0)
        if np.isnan(got).any():
            sys.exit(f"{c}:{lo}-{hi}: bases missing from the bigWig")
        checked += hi - lo
    print(f"{checked} bases of {len(loci)} windows checked with pyBigWig; max |difference| {worst:.3g}")
    sys.exit(0 if worst == 0.0 else 1)


if __name__ == "__main__":
    main()
