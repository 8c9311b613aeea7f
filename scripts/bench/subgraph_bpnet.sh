#!/usr/bin/env bash
# What running only the needed subgraph saves: `analyze --layer 0` of the
# BPNet-style fixture (data/models/families/torch_bpnet.onnx: conv 21, nine
# dilated residual blocks, profile and count heads) on 1,000 random
# sequences of 2,114 bp, against `predict` of the whole network on the same
# sequences (what analyze ran before it asked the engine for layer 0's
# activations alone). Median of RUNS whole-process runs per engine, one run.
# Usage: scripts/bench/subgraph_bpnet.sh [RUNS]   (release build first)
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
. "$root/scripts/bench/common.sh"
bin="$root/target/release/motiftool"
model="$root/data/models/families/torch_bpnet.onnx"
runs="${1:-3}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
random_fasta "$work/seqs.fa" 1000 2114
for engine in ort tract; do
  full=$(for _ in $(seq "$runs"); do timed "$bin" predict "$model" --seqs "$work/seqs.fa" --engine "$engine" -o "$work/full.tsv"; done | median)
  layer0=$(for _ in $(seq "$runs"); do rm -rf "$work/an"; timed "$bin" analyze "$model" --seqs "$work/seqs.fa" --layer 0 --engine "$engine" -o "$work/an"; done | median)
  echo "$engine: whole network (predict) ${full} s; analyze --layer 0 ${layer0} s; ratio $(echo "scale=1; $full / $layer0" | bc)x"
done
