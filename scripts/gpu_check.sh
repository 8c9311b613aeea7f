#!/usr/bin/env bash
# motiftool's engine-using commands with `--device cuda` against the same command on the CPU, on
# one machine: agreement (largest difference relative to the largest value) and wall time of each.
# Covered: `attribute` (deeplift-shap, ism, saliency, integrated-gradients), `predict` and
# `saliency` on the two benchmark models of scripts/bench/attribution_vs_tangermeme.py
# (Koo-style 200 bp, 12 tasks; BPNet-like 2,114 bp with six dilated residual blocks); then, on a
# simulated set made here, `train` (test AUC within 0.01), `prune` (the same kernels kept at every
# step, from the same trained model) and `decouple` (the same dictionary consensus per neuron).
# Training keeps its parameters on the device (ort IoBinding), so train/prune speed is the
# device's. GPU_CHECK_DEVICE=cpu runs every comparison CPU against CPU (a dry run of the script).
#
# Needs: ORT_DYLIB_PATH at onnxruntime-gpu 1.31.1's libonnxruntime.so (its CUDA provider beside
# it; CUDA 13's cuBLAS/cuRAND/cudart and cuDNN 9 on LD_LIBRARY_PATH), python3 with numpy, and
# MODELS: a folder holding koo.onnx, koo.fa, bpnet.onnx, bpnet.fa (scripts/bench/export_models.py
# writes them).
# Usage: scripts/gpu_check.sh MODELS [BIN] [OUT]
set -uo pipefail
models="$1"
bin="${2:-target/release/motiftool}"
out="${3:-$(mktemp -d)}"
mkdir -p "$out"
threads="$(nproc)"
status=0
dev="${GPU_CHECK_DEVICE:-cuda}"
echo "motiftool gpu check: $($bin --version 2>&1); ORT_DYLIB_PATH=${ORT_DYLIB_PATH:-unset}; $threads CPU threads"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null || true
printf '%-6s %-22s %9s %9s %8s %12s  %s\n' model method cpu_s cuda_s speedup max_rel_diff ok

timed() { # prints seconds, or FAIL
  local s e
  s=$(date +%s.%N)
  if ! "$@" >"$out/last.log" 2>&1; then echo FAIL; return; fi
  e=$(date +%s.%N)
  awk -v s="$s" -v e="$e" 'BEGIN { printf "%.2f", e - s }'
}

compare() { # max |a - b| / max |b| of two npz files' arr_0
  python3 -c "
import numpy as np, sys
a = np.load(sys.argv[1])['arr_0']; b = np.load(sys.argv[2])['arr_0']
print('%.3g' % (np.abs(a - b).max() / max(np.abs(b).max(), 1e-30)))" "$1" "$2"
}

for case in "koo y:3" "bpnet y:0"; do
  set -- $case
  name="$1" target="$2"
  for method in deeplift-shap ism saliency integrated-gradients; do
    args=(attribute "$models/$name.onnx" --seqs "$models/$name.fa" --target "$target"
          --method "$method" --quiet --threads "$threads")
    cpu=$(timed "$bin" "${args[@]}" -o "$out/$name-$method-cpu" --device cpu)
    gpu=$(timed "$bin" "${args[@]}" -o "$out/$name-$method-cuda" --device "$dev")
    if [ "$cpu" = FAIL ] || [ "$gpu" = FAIL ]; then
      printf '%-6s %-22s %9s %9s %8s %12s  %s\n' "$name" "$method" "$cpu" "$gpu" - - NO
      tail -3 "$out/last.log"
      status=1
      continue
    fi
    diff=$(compare "$out/$name-$method-cuda/shap.npz" "$out/$name-$method-cpu/shap.npz")
    # fp32 on both (TF32 off), so 1e-4 of the largest value; ISM's deltas are differences of
    # nearly equal outputs, whose fp32 floor is ~1e-4 of the largest delta on its own: 1e-3.
    tol=1e-4; [ "$method" = ism ] && tol=1e-3
    ok=$(python3 -c "print('yes' if float('$diff') <= $tol else 'NO')")
    [ "$ok" = yes ] || status=1
    printf '%-6s %-22s %9.2f %9.2f %7.2fx %12s  %s\n' "$name" "$method" "$cpu" "$gpu" \
      "$(awk -v a="$cpu" -v b="$gpu" 'BEGIN { print a / b }')" "$diff" "$ok"
  done
done

row() { # name what cpu_s gpu_s diff ok
  printf '%-6s %-22s %9s %9s %8s %12s  %s\n' "$1" "$2" "$3" "$4" \
    "$(awk -v a="$3" -v b="$4" 'BEGIN { if (b > 0) printf "%.2fx", a / b; else print "-" }')" "$5" "$6"
  [ "$6" = yes ] || status=1
}

tsv_diff() { # max |a - b| / max |b| over the numeric columns of two TSVs (same rows)
  python3 -c "
import sys
def load(p):
    rows = [l.rstrip('\\n').split('\\t') for l in open(p) if not l.startswith('#')][1:]
    out = []
    for r in rows:
        for v in r[1:]:
            try: out.append(float(v))
            except ValueError: pass
    return out
a, b = load(sys.argv[1]), load(sys.argv[2])
assert len(a) == len(b), (len(a), len(b))
print('%.3g' % (max(abs(x - y) for x, y in zip(a, b)) / max(max(abs(y) for y in b), 1e-30)))" "$1" "$2"
}

pair() { # name what tol cmd... (writes -o OUT-{cpu,gpu}; prints the row; sets $cpu_out $gpu_out)
  local name="$1" what="$2"; shift 2
  cpu_out="$out/$name-$what-cpu"; gpu_out="$out/$name-$what-device-$dev"
  cpu=$(timed "$bin" "$@" -o "$cpu_out" --device cpu)
  gpu=$(timed "$bin" "$@" -o "$gpu_out" --device "$dev")
  if [ "$cpu" = FAIL ] || [ "$gpu" = FAIL ]; then
    row "$name" "$what" "$cpu" "$gpu" - NO; tail -3 "$out/last.log"; return 1
  fi
}

for case in "koo y:3" "bpnet y:0"; do
  set -- $case
  name="$1" target="$2"
  if pair "$name" predict predict "$models/$name.onnx" --seqs "$models/$name.fa" --threads "$threads"; then
    d=$(tsv_diff "$gpu_out" "$cpu_out")
    row "$name" predict "$cpu" "$gpu" "$d" "$(python3 -c "print('yes' if $d <= 1e-4 else 'NO')")"
  fi
  if pair "$name" saliency-cmd saliency "$models/$name.onnx" --seqs "$models/$name.fa" --threads "$threads"; then
    d=$(tsv_diff "$gpu_out" "$cpu_out")
    row "$name" saliency-cmd "$cpu" "$gpu" "$d" "$(python3 -c "print('yes' if $d <= 1e-4 else 'NO')")"
  fi
done

# Training, pruning and NeuronMotif on a simulated set (deepprune4: 4 planted motifs).
sim="$out/sim"
[ -d "$sim" ] || "$bin" simulate --preset deepprune4 --n 4000 --seed 4 -o "$sim" >/dev/null
data=(--train "$sim/train.fa" --test "$sim/test.fa")
if pair sim train train --arch deepbind --kernels 64 --width 24 --epochs 5 --seed 1 "${data[@]}" --quiet; then
  auc() { python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['test_auc']['mean'])" "$1/summary.json"; }
  a=$(auc "$cpu_out"); b=$(auc "$gpu_out")
  d=$(python3 -c "print('%.3g' % abs($a - $b))")
  row sim "train (test AUC)" "$cpu" "$gpu" "$d" "$(python3 -c "print('yes' if $d <= 0.01 else 'NO')")"
  trained="$cpu_out/model.onnx"
  if pair sim prune prune "$trained" --variant deepprune --target-kernels 4 --epochs 2 "${data[@]}" --quiet; then
    kept() { python3 -c "
import json, sys
d = json.load(open(sys.argv[1] + '/prune.json'))
print([[r['kept'] for r in s['records'] if r['variant'] == 'deepprune'] for s in d['done']])" "$1"; }
    same=$([ "$(kept "$cpu_out")" = "$(kept "$gpu_out")" ] && echo yes || echo NO)
    row sim "prune (kernels kept)" "$cpu" "$gpu" "same: $same" "$same"
  fi
fi
stack="$out/stack"
[ -f "$stack/model.onnx" ] || "$bin" train --arch stack --layers 8x5:2,4x3 "${data[@]}" --epochs 3 --seed 1 \
  --quiet -o "$stack" >/dev/null 2>&1
if pair sim decouple decouple "$stack/model.onnx" --layer 1 --population 2000 --max-iter 20 --seed 1 --quiet; then
  dicts() { for f in "$1"/layer-1/neuron-*/dict.meme; do grep '^MOTIF' "$f"; done | md5sum; }
  same=$([ "$(dicts "$cpu_out")" = "$(dicts "$gpu_out")" ] && echo yes || echo NO)
  row sim "decouple (dictionaries)" "$cpu" "$gpu" "same: $same" "$same"
fi
exit $status
