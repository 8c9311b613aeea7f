#!/usr/bin/env bash
# Per-unit times that docs/cost_model.md scales up, measured on this machine in one run (whole
# commands, release build, 2 threads unless THREADS is set):
#  - prune: one seed of the Deepprune protocol on an ENCODE ChIP-seq set from ../shared
#    (ARID3A_K562: 8,526 peaks of 101 bp plus as many dinucleotide-shuffled negatives; test set
#    B with its shuffles): a fresh 256 × 15 DeepBind net trained, then the deepprune (+ inter),
#    lottery and baseline chains 256 → 4, on ort;
#  - attribute: DeepLIFT/DeepSHAP (20 references) per sequence on the Koo-style 200 bp and the
#    BPNet-like 2,114 bp model (MODELS: scripts/bench/export_models.py's folder);
#  - predict: sequences per second on the same two models.
# NeuronMotif's per-neuron times come from scripts/bench/decouple_speed.sh and discovery's from
# scripts/discover_compare.py (both slower to run; their last numbers are in the README).
# Usage: scripts/bench/cost_units.sh MODELS [WORKDIR]
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
source "$root/scripts/bench/common.sh"
bin="$root/target/release/motiftool"
models="$1"
work="${2:-$(mktemp -d)}"
threads="${THREADS:-2}"
mkdir -p "$work"
cd "$work"
enc="$root/../shared/data/encode"
echo "unit	seconds	per	note"
if [ -d "$enc" ]; then
  zcat "$enc/ARID3A_K562_AC.seq.gz" > train.seq
  zcat "$enc/ARID3A_K562_B.seq.gz" > test.seq
  "$bin" shuffle train.seq --label 0 -o train_neg.fa >/dev/null 2>&1
  "$bin" shuffle test.seq --label 0 -o test_neg.fa >/dev/null 2>&1
  rm -rf proto
  t=$(timed "$bin" prune --protocol --seeds 1 --kernels 256 --width 15 --target-kernels 4 \
    --train train.seq --train train_neg.fa --test test.seq --test test_neg.fa \
    --engine ort --threads "$threads" --quiet -o proto)
  steps=$(python3 -c "import json; print(len(json.load(open('proto/seed-1/prune.json'))['done']))")
  echo "prune protocol seed	$t	1 seed, $steps steps	ARID3A_K562, 17,052 training sequences, 256 -> 4, ort"
else
  echo "prune protocol seed	-	-	../shared/data/encode missing: skipped"
fi
for m in koo bpnet; do
  n=$(grep -c '>' "$models/$m.fa")
  t=$(timed "$bin" attribute "$models/$m.onnx" --seqs "$models/$m.fa" --method deeplift-shap \
    --engine ort --threads "$threads" --quiet -o "attr-$m")
  echo "attribute $m	$t	$n sequences	deeplift-shap, 20 references, ort"
  t=$(timed "$bin" predict "$models/$m.onnx" --seqs "$models/$m.fa" --engine ort --threads "$threads" -o "pred-$m.tsv")
  echo "predict $m	$t	$n sequences	ort"
done
