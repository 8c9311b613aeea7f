#!/usr/bin/env bash
# motiftool's engine-using commands with `--device cuda` against the same command on the CPU, on
# one machine: agreement (largest difference relative to the largest value) and wall time of each.
# Covered so far: `attribute` (deeplift-shap, ism, saliency, integrated-gradients) on the two
# benchmark models of scripts/bench/attribution_vs_tangermeme.py (Koo-style 200 bp, 12 tasks;
# BPNet-like 2,114 bp with six dilated residual blocks).
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
    gpu=$(timed "$bin" "${args[@]}" -o "$out/$name-$method-cuda" --device cuda)
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
exit $status
