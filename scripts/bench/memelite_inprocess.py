#!/usr/bin/env python3
"""Times memelite's tomtom in process (after its numba JIT warm-up) on the
same queries and database as `cargo bench -p motif-tomtom`, so the two can be
compared in one run on one machine.

Usage: memelite_inprocess.py QUERIES.meme DB.meme [--runs 5]
Prints one line per mode: median wall seconds of --runs calls with all
threads (numba's n_jobs=-1), default (approximate target hashing) and
exact (n_target_bins=None). Needs `pip install memelite` (not a project
dependency; scripts/bench/tomtom_vs_memelite.sh sets up a venv).
"""

import argparse
import statistics
import time

from memelite.io import read_meme
from memelite.tomtom import tomtom


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("queries")
    ap.add_argument("db")
    ap.add_argument("--runs", type=int, default=5)
    a = ap.parse_args()
    qs = list(read_meme(a.queries).values())
    ts = list(read_meme(a.db).values())
    for name, kw in [("default", {}), ("exact", {"n_target_bins": None})]:
        tomtom(qs, ts, **kw)  # JIT compile / cache load
        times = []
        for _ in range(a.runs):
            t = time.perf_counter()
            tomtom(qs, ts, **kw)
            times.append(time.perf_counter() - t)
        print(f"memelite {name:<8} {statistics.median(times):.3f} s  (min {min(times):.3f}, {len(qs)} x {len(ts)})")


if __name__ == "__main__":
    main()
