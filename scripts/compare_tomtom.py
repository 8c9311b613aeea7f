#!/usr/bin/env python3
"""Compare a `motiftool match` TSV with a MEME tomtom `-text` TSV.

Usage: compare_tomtom.py OURS.tsv[.gz] TOMTOM.tsv[.gz] [--p-max 1e-3] [--json]

Both files are tomtom's format (header, rows, blank line, # footer). Pairs
are matched on (Query_ID, Target_ID). Reported, for pairs with tomtom
p < --p-max (default 1e-3):

* |log10(p_ours / p_tomtom)|: median, maximum, and pairs off by more than
  2-fold (split into "float ties": both p within 1e-6 relative of a value
  that printing in single precision rounds differently, and the rest);
* offset / overlap / orientation agreement, with palindromic ties (the
  other strand's alignment gives the same p-value: target consensus is its
  own reverse complement) counted separately;
* E / p ratio consistency (should be the number of targets);

and for every query: whether the top-1 target agrees when tomtom's two
best p-values differ by more than 1 %. Also: rows present in one file only.

Standard library only, so CI can run it with any Python 3.
"""

import argparse
import gzip
import json
import math
import statistics
import sys
from collections import defaultdict


def read(path):
    opener = gzip.open if path.endswith(".gz") else open
    rows = {}
    order = defaultdict(list)
    with opener(path, "rt") as f:
        header = f.readline().rstrip("\n").split("\t")
        if header[:3] != ["Query_ID", "Target_ID", "Optimal_offset"]:
            sys.exit(f"{path}: not a tomtom TSV (header {header[:3]})")
        for ln, line in enumerate(f, start=2):
            line = line.rstrip("\n")
            if not line or line.startswith("#"):
                continue
            c = line.split("\t")
            if len(c) != 10:
                sys.exit(f"{path}:{ln}: expected 10 columns, got {len(c)}")
            r = {
                "offset": int(c[2]),
                "p": float(c[3]),
                "e": float(c[4]),
                "q": float(c[5]),
                "overlap": int(c[6]),
                "qcons": c[7],
                "tcons": c[8],
                "strand": c[9],
                "line": line,
            }
            rows[(c[0], c[1])] = r
            order[c[0]].append(c[1])
    return rows, order


def revcomp(s):
    return s[::-1].translate(str.maketrans("ACGT", "TGCA"))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("ours")
    ap.add_argument("tomtom")
    ap.add_argument("--p-max", type=float, default=1e-3)
    ap.add_argument("--json", action="store_true", help="print the summary as JSON")
    a = ap.parse_args()

    ours, ours_order = read(a.ours)
    ref, ref_order = read(a.tomtom)
    common = sorted(set(ours) & set(ref))
    only_ours = len(set(ours) - set(ref))
    only_ref = len(set(ref) - set(ours))

    logs, off2 = [], []
    same_aln = diff_aln = pal_ties = 0
    e_ratio = []
    identical_lines = sum(1 for k in common if ours[k]["line"] == ref[k]["line"])
    for k in common:
        o, r = ours[k], ref[k]
        if r["p"] > 0 and o["p"] > 0 and r["e"] > 0:
            e_ratio.append((o["e"] / o["p"]) / (r["e"] / r["p"]))
        if not r["p"] < a.p_max:
            continue
        if r["p"] == 0 or o["p"] == 0:
            d = 0.0 if r["p"] == o["p"] else math.inf
        else:
            d = abs(math.log10(o["p"] / r["p"]))
        logs.append(d)
        if d > math.log10(2):
            # a float tie: the two values print differently only because of
            # single-precision rounding (within 1e-6 relative)
            tie = r["p"] > 0 and o["p"] > 0 and abs(o["p"] - r["p"]) <= 1e-6 * max(o["p"], r["p"])
            off2.append({"pair": k, "ours": o["p"], "tomtom": r["p"], "float_tie": tie})
        if (o["offset"], o["overlap"], o["strand"]) == (r["offset"], r["overlap"], r["strand"]):
            same_aln += 1
        elif r["tcons"] == revcomp(r["tcons"]) or o["p"] == r["p"] and o["overlap"] == r["overlap"]:
            pal_ties += 1
        else:
            diff_aln += 1

    top_checked = top_same = 0
    top_diff = []
    for q, targets in ref_order.items():
        ps = sorted((ref[(q, t)]["p"], t) for t in targets)
        if len(ps) < 2 or q not in ours_order:
            continue
        p1, p2 = ps[0][0], ps[1][0]
        if p2 > 0 and (p2 - p1) / p2 <= 0.01:
            continue
        top_checked += 1
        ours_best = min((ours[(q, t)]["p"], t) for t in ours_order[q])[1]
        if ours_best == ps[0][1]:
            top_same += 1
        else:
            top_diff.append((q, ours_best, ps[0][1]))

    n = len(logs)
    summary = {
        "pairs_common": len(common),
        "rows_only_ours": only_ours,
        "rows_only_tomtom": only_ref,
        "identical_rows": identical_lines,
        "pairs_p_below_max": n,
        "median_abs_log10_p_ratio": statistics.median(logs) if logs else None,
        "max_abs_log10_p_ratio": max(logs) if logs else None,
        "off_by_more_than_2fold": len(off2),
        "off_by_more_than_2fold_float_ties": sum(1 for x in off2 if x["float_tie"]),
        "same_offset_overlap_strand": same_aln,
        "same_alignment_fraction": same_aln / n if n else None,
        "palindromic_or_tied_alignments": pal_ties,
        "different_alignments": diff_aln,
        "e_over_p_ratio_min": min(e_ratio) if e_ratio else None,
        "e_over_p_ratio_max": max(e_ratio) if e_ratio else None,
        "top1_checked": top_checked,
        "top1_same": top_same,
        "top1_different": top_diff[:20],
        "worst_pairs": sorted(off2, key=lambda x: -abs(math.log10(max(x["ours"], 1e-300) / max(x["tomtom"], 1e-300))))[:10],
    }
    if a.json:
        print(json.dumps(summary, indent=1, default=str))
    else:
        for k, v in summary.items():
            print(f"{k}: {v}")
    ok = (
        n > 0
        and summary["median_abs_log10_p_ratio"] <= 0.001
        and len(off2) == summary["off_by_more_than_2fold_float_ties"]
        and summary["same_alignment_fraction"] >= 0.99
        and top_same == top_checked
    )
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
