#!/usr/bin/env bash
# motiftool's matcher against memelite's tomtom, in process, in one run on
# this machine: the 220-query × 879-motif all-pairs reference comparison.
#
#   scripts/bench/tomtom_vs_memelite.sh [ROUNDS]
#
# Alternates ROUNDS (default 3) times between `cargo bench -p motif-tomtom`
# (median of 5 calls, all cores) and memelite 0.5.0's `tomtom` (median of 5
# calls after its numba JIT, all threads; default approximate target hashing,
# and exact), then the whole `motiftool match` process (5 runs).
# memelite is installed into target/memelite-venv on first use (pip; it is
# not a project dependency). Reference files: ../shared/reference (or $REF).
set -euo pipefail
cd "$(dirname "$0")/../.."
rounds=${1:-3}
ref=${REF:-../shared/reference}
q=$ref/tomtom/queries.meme
db=$ref/motifs/JASPAR2024_CORE_vertebrates_nonredundant.meme
venv=target/memelite-venv
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q memelite==0.5.0
fi
cargo bench -q -p motif-tomtom --no-run 2>/dev/null
cargo build -q --release
echo "# $(nproc) cores; $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
for r in $(seq "$rounds"); do
  echo "## round $r"
  cargo bench -q -p motif-tomtom 2>/dev/null | grep all-pairs | cut -c1-40
  "$venv/bin/python" scripts/bench/memelite_inprocess.py "$q" "$db" --runs 5
done
echo "## whole process: motiftool match --dist pearson (all pairs, 193 380 rows)"
for _ in 1 2 3 4 5; do
  /usr/bin/time -f "%e s wall, %M kB max RSS" target/release/motiftool match "$q" --db "$db" \
    --dist pearson --min-overlap 1 --evalue --thresh 1e9 >/dev/null
done
