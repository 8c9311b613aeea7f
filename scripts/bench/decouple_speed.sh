#!/usr/bin/env bash
# Per-neuron NeuronMotif time on both engines, in one run, on this machine:
#  - layer 1 of a conv → pool 2 → conv model (8 bp windows, exhaustive
#    sampling), NeuronMotif's "layer 2" of demo1;
#  - layer 4 of a 5-block BatchNorm model (82 bp windows, the genetic
#    algorithm seeded from layer 3), NeuronMotif's "layer 5" of demo2:
#    neurons 0-2 on each engine, each from the same decoupled layers 0-3.
# WORKDIR may hold a finished scripts/check_nm_grammar.py run (grammar/,
# model/, nm/ with layers 0-3); otherwise they are made here (ort).
# Usage: scripts/bench/decouple_speed.sh [WORKDIR]   (release build first)
set -euo pipefail
bin="$(cd "$(dirname "$0")/../.." && pwd)/target/release/motiftool"
work="${1:-$(mktemp -d)}"
mkdir -p "$work"
cd "$work"
[ -d shift ] || "$bin" simulate --preset nm-shift --seed 1 -o shift
[ -f demo1/model.onnx ] || "$bin" train --arch stack --layers 8x5:2,1x2 --no-dense --lr 0.01 \
  --train shift/train.fa --quiet -o demo1
[ -d grammar ] || "$bin" simulate --preset nm-grammar --n 30000 --len 82 --seed 3 -o grammar
[ -f model/model.onnx ] || "$bin" train --arch stack --layers 16x7:2,16x3:2,16x3:2,16x3:2,16x3 \
  --bn --seed 3 --train grammar/train.fa --quiet -o model
for l in 0 1 2 3; do
  [ -f "nm/layer-$l/layer.json" ] || "$bin" decouple model/model.onnx --layer "$l" --quiet -o nm
done
secs() { python3 -c 'import json,sys; print(round(json.load(open(sys.argv[1]))[sys.argv[2]],2))' "$@"; }
for engine in ort tract; do
  rm -rf "nm1-$engine" "nm5-$engine"
  s=$(date +%s.%N)
  "$bin" decouple demo1/model.onnx --layer 1 --engine "$engine" --quiet -o "nm1-$engine"
  echo "layer 1 of demo1 (8 bp, exhaustive), $engine: $(echo "$(date +%s.%N) - $s" | bc) s per neuron (whole command)"
  mkdir -p "nm5-$engine"
  cp -r nm/layer-0 nm/layer-1 nm/layer-2 nm/layer-3 "nm5-$engine/"
  s=$(date +%s.%N)
  "$bin" decouple model/model.onnx --layer 4 --neurons 0-2 --motifs 1 --engine "$engine" --quiet -o "nm5-$engine"
  total=$(echo "$(date +%s.%N) - $s" | bc)
  for k in 0 1 2; do
    d="nm5-$engine/layer-4/neuron-$k"
    echo "layer 4 (82 bp, seeded GA), $engine, neuron $k: sampling $(secs "$d/sampling.json" seconds) s" \
      "($(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["iterations"])' "$d/sampling.json") iterations)," \
      "demixing $(secs "$d/m1/time.json" seconds) s"
  done
  echo "layer 4, $engine: $total s for 3 neurons (whole command)"
done
