#!/usr/bin/env bash
# Fuzzes every parser target for MINUTES each (default 15): ONNX import with
# external data, motif formats, sequence files, BED + genome. Panics are
# saved under fuzz/crashes/ and make the script exit 1.
# Usage: fuzz/run.sh [MINUTES] [SEED]
set -euo pipefail
cd "$(dirname "$0")"
minutes="${1:-15}"
seed="${2:-1}"
cargo build --release --quiet
status=0
for t in onnx motifs seqs bed; do
  ./target/release/motiftool-fuzz "$t" $((minutes * 60)) "$seed" || status=1
done
exit $status
