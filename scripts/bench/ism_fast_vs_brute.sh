#!/usr/bin/env bash
# Fast ISM (only the spans each substitution changes) against predicting
# every mutant whole, on a BPNet-like 2,114 bp model: the one
# scripts/bench/attribution_vs_tangermeme.py exports (Conv1d(4,32,21), six
# dilated residual blocks, counts head), or MODEL if given. Both write
# shap.npz; the script prints each median wall time over RUNS runs, the
# ratio, and the largest difference between the two results.
# Usage: scripts/bench/ism_fast_vs_brute.sh MODEL.onnx [SEQS] [RUNS]   (release build first)
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
. "$root/scripts/bench/common.sh"
bin="$root/target/release/motiftool"
model="$1"
runs="${3:-3}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
seqs="${2:-$work/seqs.fa}"
if [ ! -e "$seqs" ]; then
  random_fasta "$seqs" 2 2114
fi
for fast in true false; do
  t=$(for _ in $(seq "$runs"); do timed "$bin" attribute "$model" --seqs "$seqs" --method ism --set center=false --set fast=$fast --threads 2 -o "$work/$fast" --quiet; done | median)
  echo "fast=$fast: ${t} s"
  eval "t_$fast=$t"
done
echo "speed-up: $(echo "scale=2; $t_false / $t_true" | bc)x"
python3 -c "
import zipfile, struct, sys
def load(p):
    z = zipfile.ZipFile(p); b = z.read('arr_0.npy'); h = struct.unpack('<H', b[8:10])[0]
    d = b[10 + h:]; return struct.unpack('<%df' % (len(d) // 4), d)
a, b = load('$work/true/shap.npz'), load('$work/false/shap.npz')
print('max |fast - brute| %.3g (largest effect %.3g)' % (max(abs(x - y) for x, y in zip(a, b)), max(abs(y) for y in b)))
"
