#!/usr/bin/env bash
# Deepprune speed: the full 256 → 4 run (--variant deepprune) on the 10k-sequence simulated
# data set 4, on each engine, starting from the same trained 256-kernel model; prints the
# wall time of the pruning steps and the share spent fine-tuning (from each run's prune.json).
#   scripts/bench/prune_speed.sh [WORKDIR]    (default: a temp folder)
set -euo pipefail
cd "$(dirname "$0")/../.."
cargo build --release -q
mt="$PWD/target/release/motiftool"
work="${1:-$(mktemp -d)}"
mkdir -p "$work"
cd "$work"
[ -d sim4 ] || "$mt" simulate --preset deepprune4 --seed 4 -o sim4
[ -f full/model.onnx ] || "$mt" train --arch deepbind --kernels 256 --width 24 --activation deepprune \
  --lr 0.01 --seed 1 --train sim4/train.fa --quiet -o full
for e in ort tract; do
  rm -rf "speed_$e"
  start=$(date +%s.%N)
  "$mt" prune full/model.onnx --variant deepprune --engine "$e" --train sim4/train.fa \
    --test sim4/test.fa --truth sim4/motifs.meme --quiet -o "speed_$e" > /dev/null
  end=$(date +%s.%N)
  python3 - "$e" "speed_$e/prune.json" "$start" "$end" <<'PY'
import json, sys
e, path, start, end = sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4])
j = json.load(open(path))
steps = sum(s["seconds"] for s in j["done"])
train = sum(s["train_seconds"] for s in j["done"])
final = [r for r in j["done"][-1]["records"] if r["variant"] == "deepprune"][0]
print(f"{e}: command {end - start:.1f} s, steps {steps:.1f} s, fine-tuning {train:.1f} s "
      f"({100 * train / steps:.0f} %), {j['kernels']} -> {final['kernels']} kernels, "
      f"test AUC {final['test_auc']:.4f}")
PY
done
