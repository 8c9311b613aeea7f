#!/usr/bin/env bash
# Behaviour check for refactors: runs simulate, train, analyze, match, prune
# and decouple with fixed seeds on the bundled fixtures (and on the DeepBind
# models and ENCODE sets in ../shared when present), on the tract engine,
# then normalises what legitimately differs between runs (timings, rates,
# absolute paths, the version) so two trees can be compared byte for byte.
#
# Usage:
#   scripts/compare_outputs.sh OUT [MOTIFTOOL_BINARY]
#   # e.g. before and after a refactor:
#   git stash; cargo build --release; scripts/compare_outputs.sh /tmp/before
#   git stash pop; cargo build --release; scripts/compare_outputs.sh /tmp/after
#   diff -r /tmp/before /tmp/after && echo identical
#
# Takes about 5 minutes on 2 cores (release build).
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:?usage: scripts/compare_outputs.sh OUT [MOTIFTOOL_BINARY]}"
bin="${2:-target/release/motiftool}"
[ -x "$bin" ] || { echo "no binary at $bin (cargo build --release)" >&2; exit 2; }
bin="$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")"
rm -rf "$out"
mkdir -p "$out"
out="$(cd "$out" && pwd)"
mt() { "$bin" "$@"; }
e=(--engine tract)

step() { echo "== $*" >&2; }

step simulate
mt simulate --preset deepprune1 --n 400 --seed 5 -o "$out/sim" 2>/dev/null
mt simulate --preset nm-shift --n 1000 --seed 5 -o "$out/shift" 2>/dev/null

step train
mt train --arch deepbind --kernels 8 --width 12 --train "$out/sim/train.fa" --test "$out/sim/test.fa" \
  --epochs 3 --batch-size 64 --seed 5 "${e[@]}" --quiet -o "$out/train" 2>/dev/null
mt train --arch stack --layers 3x5:2,1x2 --no-dense --train "$out/shift/train.fa" \
  --test "$out/shift/test.fa" --epochs 3 --batch-size 64 --seed 5 "${e[@]}" --quiet -o "$out/demo1" 2>/dev/null

step analyze
mt analyze --seed 1 "${e[@]}" -o "$out/analyze-bundled" 2>/dev/null
mt analyze "$out/train/model.onnx" --seqs "$out/sim/test.fa" "${e[@]}" -o "$out/analyze-trained" 2>/dev/null

step match
mt match data/tomtom/reference_queries.meme > "$out/match-ed.tsv"
mt match data/tomtom/reference_queries.meme --dist pearson --json > "$out/match-pearson.json"

step prune
mt prune "$out/train/model.onnx" --train "$out/sim/train.fa" --test "$out/sim/test.fa" \
  --target-kernels 2 --epochs 1 --batch-size 64 --seed 5 "${e[@]}" --quiet -o "$out/prune" > "$out/prune.tsv"

step decouple
mt decouple "$out/demo1/model.onnx" --layer 0 --seed 1 "${e[@]}" --quiet -o "$out/decouple-demo1" 2>/dev/null
mt decouple "$out/demo1/model.onnx" --layer 1 --seed 1 "${e[@]}" --quiet -o "$out/decouple-demo1" 2>/dev/null
mt decouple data/models/families/keras_neuronmotif5.onnx --layer 0 --seed 1 "${e[@]}" --quiet \
  -o "$out/decouple-nm5" 2>/dev/null

shared=../shared/data
if [ -d "$shared" ] && [ -z "${MOTIFTOOL_NO_SHARED:-}" ]; then
  step "../shared: DeepBind GABPA"
  mt analyze "$shared/deepbind-models/D00409.004_GABPA.onnx" --seqs "$shared/encode/GABPA_GM12878_B.seq.gz" \
    "${e[@]}" -o "$out/analyze-gabpa" 2>/dev/null
  mt evaluate "$shared/deepbind-models/D00409.004_GABPA.onnx" --seqs "$shared/encode/GABPA_GM12878_B.seq.gz" \
    "${e[@]}" --json > "$out/evaluate-gabpa.json"
else
  echo "== ../shared absent or hidden: its models are not compared" >&2
fi

step normalise
python3 - "$out" "$(pwd)" <<'EOF'
import json, os, re, sys
out, repo = sys.argv[1], sys.argv[2]
# Keys whose values are timings, rates or the build; dropped wherever they are.
drop = re.compile(r"(second|_s$|^s$|time|elapsed|per_s|duration|motiftool_version|^motiftool$|^version$)", re.I)

def clean(v):
    if isinstance(v, dict):
        return {k: clean(x) for k, x in v.items() if not drop.search(k)}
    if isinstance(v, list):
        return [clean(x) for x in v]
    if isinstance(v, str):
        return v.replace(out, "$OUT").replace(repo, "$REPO")
    return v

for root, _, files in os.walk(out):
    for f in files:
        p = os.path.join(root, f)
        if f.endswith((".bin", ".onnx", ".ckpt", ".png")):
            continue
        try:
            text = open(p, encoding="utf-8").read()
        except UnicodeDecodeError:
            continue
        if f.endswith(".json"):
            try:
                text = json.dumps(clean(json.loads(text)), indent=1, sort_keys=True) + "\n"
            except json.JSONDecodeError:
                pass
        if f.endswith(".journal"):
            # Resume journals: one JSON record per line, timings dropped.
            lines = [json.loads(l) for l in text.splitlines() if l.strip()]
            text = "".join(json.dumps(clean(l), sort_keys=True) + "\n" for l in lines)
        text = text.replace(out, "$OUT").replace(repo, "$REPO")
        # Timings and rates printed in reports and logs.
        text = re.sub(r"\b\d+(\.\d+)?\s?(s|ms|sequences/s|seqs/s)\b", "<time>", text)
        text = re.sub(r"(<dt>(seconds|time)</dt><dd>)[^<]*(<time>[^<]*)*</dd>", r"\1<time></dd>", text)
        open(p, "w", encoding="utf-8").write(text)
EOF
echo "outputs under $out" >&2
