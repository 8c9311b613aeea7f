#!/usr/bin/env python3
"""Extract the small tomtom reference fixture used by motif-tomtom's tests.

Source: MEME tomtom 5.5.8 runs in ../shared/reference/tomtom (220 queries
against JASPAR 2024 CORE vertebrates non-redundant, the database bundled in
data/motifs). Writes, for a handful of queries (with their index in the
original query file, which fixes where MEME's random stream stands for the
q-value bootstrap):

* reference_queries.meme: those query motifs, verbatim;
* expected_pearson_typical.tsv: every row tomtom printed for them with
  `-dist pearson -min-overlap 5 -evalue -thresh 10`;
* expected_ed_top.tsv: their 8 best rows of the all-pairs `-dist ed` run.

Each TSV row is prefixed with the query's original index.
Run from the repository root: python3 data/tomtom/make_fixture.py
"""
import gzip
import os

REF = "../shared/reference/tomtom"
OUT = "data/tomtom"
PICK = [0, 1, 2, 3, 141, 218, 219]  # 141: a float-rounding tie under ed; 218-219: decoys

text = open(f"{REF}/queries.meme").read()
head, *blocks = text.split("\nMOTIF ")
ids = [b.split()[0] for b in blocks]
keep = {ids[i]: i for i in PICK}
with open(f"{OUT}/reference_queries.meme", "w") as f:
    f.write(head + "\n")
    for i in PICK:
        f.write("MOTIF " + blocks[i].rstrip("\n") + "\n\n")


def rows(path):
    op = gzip.open if path.endswith(".gz") else open
    with op(path, "rt") as f:
        next(f)
        for line in f:
            if not line.strip() or line.startswith("#"):
                continue
            yield line.rstrip("\n").split("\t")


with open(f"{OUT}/expected_pearson_typical.tsv", "w") as f:
    for r in rows(f"{REF}/tomtom_pearson_typical.tsv"):
        if r[0] in keep:
            f.write(f"{keep[r[0]]}\t" + "\t".join(r) + "\n")
count = {}
with open(f"{OUT}/expected_ed_top.tsv", "w") as f:
    for r in rows(f"{REF}/tomtom_ed_allpairs.tsv.gz"):
        if r[0] in keep and count.get(r[0], 0) < 8:
            count[r[0]] = count.get(r[0], 0) + 1
            f.write(f"{keep[r[0]]}\t" + "\t".join(r) + "\n")
print("wrote", os.listdir(OUT))
