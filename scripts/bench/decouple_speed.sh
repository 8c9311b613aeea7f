#!/usr/bin/env bash
# Per-neuron NeuronMotif time on both engines, in one run: layer 1 of a
# conv → pool 2 → conv model (8 bp, exhaustive) and layer 4 of a 5-block
# BatchNorm model (82 bp, genetic algorithm; one neuron, --no-seed).
# Usage: scripts/bench/decouple_speed.sh [WORKDIR]   (release build first)
set -euo pipefail
bin="$(cd "$(dirname "$0")/../.." && pwd)/target/release/motiftool"
work="${1:-$(mktemp -d)}"
cd "$work"
[ -d shift ] || "$bin" simulate --preset nm-shift --seed 1 -o shift
[ -d grammar ] || "$bin" simulate --preset nm-grammar --seed 2 -o grammar
[ -f demo1/model.onnx ] || "$bin" train --arch stack --layers 8x5:2,1x2 --no-dense --lr 0.01 \
  --train shift/train.fa --quiet -o demo1
[ -f demo2/model.onnx ] || "$bin" train --arch stack --layers 32x7:2,32x3:2,32x3:2,32x3:2,32x3 --bn \
  --train grammar/train.fa --quiet -o demo2
for engine in ort tract; do
  rm -rf "nm1-$engine" "nm5-$engine"
  s=$(date +%s.%N)
  "$bin" decouple demo1/model.onnx --layer 1 --engine "$engine" --quiet -o "nm1-$engine"
  echo "layer 1 (8 bp, exhaustive), $engine: $(echo "$(date +%s.%N) - $s" | bc) s per neuron"
  s=$(date +%s.%N)
  "$bin" decouple demo2/model.onnx --layer 4 --neurons 4 --no-seed --engine "$engine" --quiet -o "nm5-$engine"
  echo "layer 4 (82 bp, GA), $engine: $(echo "$(date +%s.%N) - $s" | bc) s per neuron" \
    "(sampling and demixing: $(cat "nm5-$engine/layer-4/neuron-4/sampling.json" | python3 -c 'import json,sys; print(round(json.load(sys.stdin)["seconds"],1))') s +" \
    "$(python3 -c 'import json,sys; print(round(json.load(open(sys.argv[1]))["seconds"],1))' "nm5-$engine/layer-4/neuron-4/m1/time.json") s)"
done
